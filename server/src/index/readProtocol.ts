/**
 * The messages between the read pool and its workers. Besides reading one file, a worker can list a
 * sharded index's shards and merge shard results it is handed, so a sharded model is parsed shard by
 * shard across the pool and merged off the server's thread too.
 */
import type { CheckpointKind } from '../formats/fileKinds';
import type { ReaderErrorCode } from '../formats/readerError';
import type { CheckpointInfo } from '../formats/tensorInfo';
import type { TensorTable } from '../formats/tensorTable';
import type { TableIndex } from '../formats/tableIndex';
import type { TableCacheOptions } from './tableCache';
import type { TrieData } from './trieData';

export interface ErrorFields { code: ReaderErrorCode; file: string; reason: string; offset?: number }

/**
 * One file read: its info (tensors packed in `table`; with its lookup `index` and, where every tensor fit
 * the columns, its key `trie` when asked) or why it failed.
 */
export type ReadOutcome = { ok: true; info: CheckpointInfo; table: TensorTable; index?: TableIndex; trie?: TrieData } | { ok: false; error: ErrorFields };

export type ReadJob =
  | {
    op: 'read'; file: string; displayName: string; maxHeaderBytes?: number; kind?: CheckpointKind; identity?: boolean; index?: boolean;
    /** Keep what was read in the table cache (tableCache.ts) under this entry name, once the reply is sent. */
    cache?: { name: string } & TableCacheOptions;
  }
  /** A sharded index's shard names, as written in it. */
  | { op: 'plan'; file: string; displayName: string }
  /** The index read with the shards already read, by absolute path. */
  | { op: 'merge'; file: string; displayName: string; shards: Record<string, ReadOutcome> };

export type ReadRequest = ReadJob & { id: number };

export type ReadReply = { id: number } & (ReadOutcome | { ok: true; plan: string[] });

/** A line for the server's log, apart from any reply (a cache write that failed after its read was answered). */
export interface WorkerLog { log: string }
