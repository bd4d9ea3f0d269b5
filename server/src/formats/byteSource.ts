/**
 * Random-access reads from a file without loading it: readers ask for the few byte ranges a header
 * needs, and every length field is checked against the file size before it is trusted.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash, Hash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { openRegular } from './openRegular';
import { unreadable } from './readerError';
import { RemoteFile } from './remote/remoteFile';
import { absoluteName, isRemote } from './remote/remoteName';

/**
 * The most bytes one checkpoint read may pull in (the `tensorport.index.maxHeaderMB` setting): set
 * around a whole read by readCheckpoint, so every reader — and a sharded index's shards — counts
 * against it without passing it down.
 */
export const readBudget = new AsyncLocalStorage<{ limit: number; used: number }>();

/**
 * What one checkpoint read looked at, for the index's cache: every range read from the file, in
 * order, and a digest of those bytes. Readers are deterministic, so a file of the same size with the
 * same bytes in those ranges reads the same — a touched file, or one whose tensor data was rewritten
 * in place, keeps its cached entry without being parsed again. Reads of any other file (a shard, a
 * sibling) make the trace unusable.
 */
export interface HeaderIdentity { size: number; ranges: [number, number][]; digest: string }

interface Trace { path: string; size: number; ranges: [number, number][]; hash: Hash; spoilt: boolean }
export const readTrace = new AsyncLocalStorage<Trace>();
const MAX_TRACED_RANGES = 10_000;

/** Runs a whole read with a trace; the identity is undefined when the read was not all through one ByteSource. */
export async function traced<T>(path: string, fn: () => Promise<T>): Promise<{ result: T; identity?: HeaderIdentity }> {
  const trace: Trace = { path: absoluteName(path, resolve), size: -1, ranges: [], hash: createHash('sha1'), spoilt: false };
  const result = await readTrace.run(trace, fn);
  const ok = !trace.spoilt && trace.size >= 0 && trace.ranges.length > 0;
  return { result, identity: ok ? { size: trace.size, ranges: trace.ranges, digest: trace.hash.digest('hex') } : undefined };
}

/** Whether `path` still holds what `identity` saw: same size, same bytes in the same ranges. */
export async function sameHeader(path: string, identity: HeaderIdentity): Promise<boolean> {
  try {
    return await withSource(path, path, async (src) => {
      if (src.size !== identity.size) return false;
      const hash = createHash('sha1');
      // One buffer for every range (a header's are 1 MiB pieces): not ten fresh ones per 10 MB header.
      const scratch = Buffer.allocUnsafe(Math.min(src.size, identity.ranges.reduce((most, [, length]) => Math.max(most, length), 0)));
      for (const [offset, length] of identity.ranges) {
        if (length > scratch.length) return false;
        await src.readInto(scratch, 0, offset, length);
        hashRange(hash, offset, length, scratch.subarray(0, length));
      }
      return hash.digest('hex') === identity.digest;
    });
  } catch {
    return false;
  }
}

function hashRange(hash: Hash, offset: number, length: number, bytes: Buffer): void {
  hash.update(`${offset}:${length};`);
  hash.update(bytes);
}

/** Marks the current read as not replayable from its trace (bytes came from elsewhere). */
export function spoilTrace(): void {
  const trace = readTrace.getStore();
  if (trace) trace.spoilt = true;
}

/** Where the bytes come from: a local file's handle, or a remote file read in blocks over HTTP. */
type Backend = { local: fs.FileHandle } | { remote: RemoteFile };

export class ByteSource {
  private constructor(
    readonly path: string,
    readonly displayName: string,
    private readonly backend: Backend,
    readonly size: number,
  ) {}

  static async open(path: string, displayName = path): Promise<ByteSource> {
    if (isRemote(path)) {
      const remote = await RemoteFile.open(path, displayName);
      // Named by its pinned name: tensor locations then point at the commit the header came from.
      return ByteSource.traced(new ByteSource(remote.pinned, displayName, { remote }, remote.size));
    }
    // Never a plain open: a named pipe called model.safetensors would block a pool thread forever.
    let opened;
    try {
      opened = await openRegular(path);
    } catch (e) {
      throw unreadable(displayName, describeFsError(e));
    }
    return ByteSource.traced(new ByteSource(resolve(path), displayName, { local: opened.handle }, opened.stats.size));
  }

  private static traced(src: ByteSource): ByteSource {
    const trace = readTrace.getStore();
    if (trace) {
      if (trace.path !== src.path || (trace.size >= 0 && trace.size !== src.size)) trace.spoilt = true;
      trace.size = src.size;
    }
    return src;
  }

  /** The remote file behind this source, if it is one (its URL and commit, for `keys --json`). */
  get remote(): RemoteFile | undefined {
    return 'remote' in this.backend ? this.backend.remote : undefined;
  }

  /** Reads exactly `length` bytes at `offset`, or fails naming what was expected there. */
  async read(offset: number, length: number, what = 'data'): Promise<Buffer> {
    this.check(offset, length, what);
    const buf = Buffer.allocUnsafe(length);
    await this.fill(buf, 0, offset, length, what);
    return buf;
  }

  /**
   * Reads `length` bytes at `offset` into `target` at `at` — a large range in pieces into one buffer, so
   * a caller can look at each piece before asking for the next (and stop early) without a second copy.
   */
  async readInto(target: Buffer, at: number, offset: number, length: number, what = 'data'): Promise<void> {
    if (at < 0 || at + length > target.length) throw new RangeError(`readInto: ${length} bytes at ${at} do not fit a ${target.length}-byte buffer`);
    this.check(offset, length, what);
    await this.fill(target, at, offset, length, what);
  }

  /**
   * Says which ranges are about to be read (each on its own, in order): a remote file fetches them
   * together, a local one needs nothing. Ranges outside the file are left to the reads to refuse.
   */
  async prefetch(ranges: readonly [number, number][]): Promise<void> {
    if ('remote' in this.backend) await this.backend.remote.prefetch(ranges.filter(([o, l]) => o >= 0 && l >= 0 && o + l <= this.size));
  }

  /** The range lies in the file, and the read budget allows it. */
  private check(offset: number, length: number, what: string): void {
    if (offset < 0 || length < 0 || offset + length > this.size) {
      throw unreadable(this.displayName, `${what} (${length} bytes at byte ${offset}) runs past the end of the file (${this.size} bytes): truncated?`);
    }
    const budget = readBudget.getStore();
    if (budget) {
      budget.used += length;
      if (budget.used > budget.limit) {
        throw unreadable(this.displayName, `reading its header needs more than ${Math.round(budget.limit / 2 ** 20)} MiB (the tensorport.index.maxHeaderMB limit)`);
      }
    }
  }

  private async fill(buf: Buffer, at: number, offset: number, length: number, what: string): Promise<void> {
    if ('remote' in this.backend) await this.backend.remote.read(buf, at, offset, length);
    else {
      let done = 0;
      while (done < length) {
        const { bytesRead } = await this.backend.local.read(buf, at + done, length - done, offset + done);
        if (bytesRead === 0) throw unreadable(this.displayName, `file shrank while reading ${what}`);
        done += bytesRead;
      }
    }
    const trace = readTrace.getStore();
    if (trace && !trace.spoilt) {
      if (trace.ranges.length >= MAX_TRACED_RANGES) trace.spoilt = true;
      else {
        trace.ranges.push([offset, length]);
        hashRange(trace.hash, offset, length, buf.subarray(at, at + length));
      }
    }
  }

  async close(): Promise<void> {
    if ('remote' in this.backend) await this.backend.remote.close();
    else await this.backend.local.close();
  }
}

/** Runs `fn` with an open source and always closes it. */
export async function withSource<T>(path: string, displayName: string, fn: (src: ByteSource) => Promise<T>): Promise<T> {
  const src = await ByteSource.open(path, displayName);
  try {
    return await fn(src);
  } finally {
    await src.close();
  }
}

export function describeFsError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'is a directory, not a checkpoint file';
    case 'ENXIO': return 'is a socket or a device with nothing behind it, not a regular file';
    case 'ENOSPC': return 'no space left on device';
    case 'EDQUOT': return 'disk quota exceeded';
    case 'EFBIG': return 'file too large for the file system';
    case 'EROFS': return 'read-only file system';
    case 'EIO': return 'input/output error (a failing disk or a lost network mount?)';
    // NotRegularFile's message is already the reason ("is a named pipe (FIFO), not a checkpoint file").
    default: return err?.message ?? String(e);
  }
}
