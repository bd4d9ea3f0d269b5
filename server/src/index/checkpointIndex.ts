/**
 * The workspace's checkpoints by path: read lazily, cached until the file changes (size or mtime),
 * one read at a time per file, each bounded in time. A file that cannot be read is an entry with the
 * reason, never an exception: the server turns it into a diagnostic on that file.
 */
import { promises as fs } from 'node:fs';
import { mapLimit } from '../formats/mapLimit';
import { readCheckpoint, ReadOptions } from '../formats/readCheckpoint';
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
}

interface Cached { stamp: string; entry: Promise<IndexEntry> }

export class CheckpointIndex {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly opts: IndexOptions = {}) {}

  /** The entry for `path`, read now if it is new or changed on disk since the last read. */
  async get(path: string): Promise<IndexEntry> {
    const stamp = await statStamp(path);
    const hit = this.cache.get(path);
    if (hit && hit.stamp === stamp) return hit.entry;
    const entry = this.read(path);
    this.cache.set(path, { stamp, entry });
    return entry;
  }

  /** Forgets a path (changed or deleted); the next `get` re-reads it. */
  invalidate(path: string): void {
    this.cache.delete(path);
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

  private async read(path: string): Promise<IndexEntry> {
    const displayName = this.opts.displayName?.(path) ?? path;
    try {
      const read = this.opts.reader ?? readCheckpoint;
      const info = await read(path, { displayName, timeoutMs: this.opts.timeoutMs, maxHeaderBytes: this.opts.maxHeaderBytes });
      return { path, ok: true, info };
    } catch (e) {
      const err = e instanceof ReaderError ? e : new ReaderError('unreadable-checkpoint', displayName, String(e));
      return { path, ok: false, error: { code: err.code, reason: err.reason, offset: err.offset, message: err.message } };
    }
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
