/**
 * The workspace's checkpoints by path: read lazily, one read at a time per file, each bounded in
 * time. An entry is kept while the file's size and mtime stay the same; when they change (or the
 * watcher reports a change), the bytes the reader looked at are hashed again and, if they match, the
 * same entry is kept without parsing — a `touch`, or tensor data rewritten in place by a training
 * run, costs a header's worth of I/O, and every cache keyed on the entry stays warm. A file that
 * cannot be read is an entry with the reason, never an exception: the server turns it into a
 * diagnostic on that file.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import { sameHeader } from '../formats/byteSource';
import { mapLimit } from '../formats/mapLimit';
import { checkpointKindByName } from '../formats/fileKinds';
import { readCheckpoint, ReadOptions } from '../formats/readCheckpoint';
import { DEFAULT_READ_LIMITS } from '../formats/readLimits';
import { ReaderError, ReaderErrorCode } from '../formats/readerError';
import { CheckpointInfo } from '../formats/tensorInfo';

export type IndexEntry =
  | { path: string; ok: true; info: CheckpointInfo }
  | { path: string; ok: false; error: { code: ReaderErrorCode; reason: string; offset?: number; message: string } };

export interface IndexOptions {
  /** Per-file read limit; a slower header read becomes an error entry. */
  timeoutMs?: number;
  /** Per-file cap on the bytes a header read may pull in. */
  maxHeaderBytes?: number;
  /** Turns an absolute path into the name users see in messages (e.g. relative to the workspace). */
  displayName?: (path: string) => string;
  /** Reads one checkpoint; by default in this thread (the language server passes its worker pool's). */
  reader?: (path: string, opts: ReadOptions) => Promise<CheckpointInfo>;
  /** Told of every entry a read produced (not of one kept because its header bytes were unchanged). */
  onRead?: (entry: IndexEntry) => void;
  /** Moves a queued read of this file ahead of the others (the pool's); for `get(path, { urgent: true })`. */
  prioritize?: (path: string) => void;
}

interface Cached { stamp: string; entry: Promise<IndexEntry>; suspect?: boolean; settled?: IndexEntry }

export class CheckpointIndex {
  private readonly cache = new Map<string, Cached>();

  private readonly opts: IndexOptions;

  /** Reads are bounded in time and bytes by default (DEFAULT_READ_LIMITS), in the CLI as in the editor. */
  constructor(opts: IndexOptions = {}) {
    this.opts = { timeoutMs: DEFAULT_READ_LIMITS.timeoutMs, maxHeaderBytes: DEFAULT_READ_LIMITS.maxHeaderBytes, ...opts };
  }

  /**
   * The entry for `path`, read now if it is new or changed on disk since the last read. `urgent`: someone
   * waits on it (an open mapping's side), so a read still queued behind the workspace scan's goes first.
   */
  async get(path: string, opts: { urgent?: boolean } = {}): Promise<IndexEntry> {
    const stamp = await statStamp(path);
    const hit = this.cache.get(path);
    if (hit && hit.stamp === stamp && !hit.suspect) {
      if (opts.urgent && !hit.settled) this.opts.prioritize?.(path);
      return hit.entry;
    }
    const entry = hit && stamp !== 'missing' ? this.revalidate(path, hit.entry) : this.read(path);
    const cached: Cached = { stamp, entry, settled: hit?.settled };
    this.cache.set(path, cached);
    void entry.then((e) => { cached.settled = e; });
    if (opts.urgent) this.opts.prioritize?.(path);
    return entry;
  }

  /** The last entry read for `path`, without reading or checking the file (undefined if never read). */
  peek(path: string): IndexEntry | undefined {
    return this.cache.get(path)?.settled;
  }

  /**
   * Marks a path as changed (the watcher said so): the next `get` checks its header bytes again. A
   * sharded index beside it may list it as a shard, so those are re-read too.
   */
  invalidate(path: string): void {
    const hit = this.cache.get(path);
    if (hit) hit.suspect = true;
    this.suspectIndexesBeside(path);
  }

  /** Forgets a path entirely (deleted, or no longer a checkpoint). */
  forget(path: string): void {
    this.cache.delete(path);
    this.suspectIndexesBeside(path);
  }

  private suspectIndexesBeside(path: string): void {
    for (const [p, c] of this.cache) {
      if (p !== path && dirname(p) === dirname(path) && checkpointKindByName(p) === 'safetensors-index') c.suspect = true;
    }
  }

  /** Reads many files with bounded concurrency, reporting progress as each finishes. */
  async scan(paths: string[], onProgress?: (done: number, total: number, path: string) => void, concurrency = 4): Promise<IndexEntry[]> {
    let done = 0;
    return mapLimit(paths, concurrency, async (p) => {
      const entry = await this.get(p);
      onProgress?.(++done, paths.length, p);
      return entry;
    });
  }

  /** Paths read so far (for snapshots and tests). */
  paths(): string[] {
    return [...this.cache.keys()];
  }

  /** The old entry when the file still holds the bytes it was read from; a fresh read otherwise. */
  private async revalidate(path: string, previous: Promise<IndexEntry>): Promise<IndexEntry> {
    const old = await previous;
    if (old.ok && old.info.identity && await sameHeader(path, old.info.identity)) return old;
    return this.read(path);
  }

  private async read(path: string): Promise<IndexEntry> {
    const displayName = this.opts.displayName?.(path) ?? path;
    try {
      const read = this.opts.reader ?? readCheckpoint;
      const info = await read(path, { displayName, timeoutMs: this.opts.timeoutMs, maxHeaderBytes: this.opts.maxHeaderBytes, identity: true });
      return this.told({ path, ok: true, info });
    } catch (e) {
      const err = e instanceof ReaderError ? e : new ReaderError('unreadable-checkpoint', displayName, String(e));
      return this.told({ path, ok: false, error: { code: err.code, reason: err.reason, offset: err.offset, message: err.message } });
    }
  }

  private told(entry: IndexEntry): IndexEntry {
    this.opts.onRead?.(entry);
    return entry;
  }
}

async function statStamp(path: string): Promise<string> {
  try {
    const st = await fs.stat(path);
    return `${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
