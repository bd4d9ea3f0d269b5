/**
 * Writes an output checkpoint atomically, whatever its container: the container's bytes before each
 * tensor (a header, a zip entry's local header, a pickle's opcodes), the tensor's data as it is
 * produced, the bytes after it (a zip data descriptor with the data's CRC-32), and a tail (a zip's
 * central directory) — into a uniquely named temporary file beside the output; fsync, then publish it
 * (formats/publish.ts: never over a file that appeared meanwhile, unless replacing was asked for). On
 * any failure, an abort included, the temporary file is removed: the output path either keeps what it
 * had or gets the whole new file, never part of one. A full disk can surface at any
 * step — a write, the fsync (delayed allocation, network file systems), the close (NFS) or the rename
 * (a directory that must grow) — so each is caught and reported as one line naming the output.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { describeFsError } from '../../formats/byteSource';
import { OutputAppeared, publishFile, tempNameFor, testPublishGate } from '../../formats/publish';
import { ConvertError } from './errors';

export interface OutTensor {
  key: string;
  dtype: string;
  shape: number[];
  byteLength: number;
}

/** How a container lays its bytes around the tensors' data. */
export interface Layout {
  /** Bytes before tensor i's data (i in order), given the data as it will be written. */
  before(i: number, data: Buffer): Buffer;
  /** The bytes that stand for tensor i's data in this container (default: the data itself). */
  encode?(i: number, data: Buffer): Buffer;
  /** Bytes right after tensor i's data, given its CRC-32 when `crc` is set. */
  after?(i: number, crc: number): Buffer;
  /** Bytes after the last tensor, given every tensor's CRC-32 when `crc` is set. */
  tail(crcs: readonly number[]): Buffer;
  /** The container records each tensor's CRC-32 (zip). */
  crc: boolean;
}

export interface WriteOptions {
  signal?: AbortSignal;
  /** Called after tensor i's bytes are written. */
  onWritten?(i: number): void;
}

export interface PublishOptions {
  /** Replace whatever is at the output by then (`--force`); otherwise a file that appeared fails the run. */
  replace?: boolean;
  /** How the user names that option, for the refusal. */
  forceOption?: string;
  /** Runs after the file is complete and before it is published; throwing publishes nothing (the sources' check). */
  beforePublish?(): Promise<void>;
}

/** Writes the file completely, then publishes it. Returns the size of the file written. */
export async function writeAtomic(out: string, tensors: readonly OutTensor[], layout: Layout,
  produce: (i: number) => Promise<Buffer>, opts: WriteOptions & PublishOptions = {}): Promise<number> {
  const { tmp, bytes } = await writeTemp(out, tensors, layout, produce, opts);
  try {
    await testPublishGate();
    await opts.beforePublish?.();
    opts.signal?.throwIfAborted();
    await publishFile(tmp, out, { replace: opts.replace, forceOption: opts.forceOption }).catch((e: unknown) => { throw publishError(out, e); });
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  return bytes;
}

/** A failed publish as one line: the output appeared meanwhile, or the move itself failed. */
export function publishError(out: string, e: unknown): ConvertError {
  if (e instanceof OutputAppeared) return new ConvertError('io', e.message);
  return ioError(out, 'cannot move the finished file into place', e);
}

/**
 * Writes are issued in 1 MiB pieces. Larger single writes are far slower here: 1 GiB written as 16 MiB
 * `pwrite`s took 3.0 s of kernel time, as 1 MiB ones 0.4 s (cat's speed) — the kernel's buffered-write
 * path degrades past ~1 MiB per call (measured: 0.5–1 MiB 0.4 s, 2–16 MiB 2.1–3.3 s). Aborts stay prompt.
 */
const PIECE = 1024 * 1024;
/** Written data is flushed to disk in the background every this many bytes (A/B on 1 GiB: 32 MiB 0.97–1.06 s, 128 MiB 0.98–1.27 s, never 1.27–1.35 s). */
const FLUSH_EVERY = 32 * 1024 * 1024;
/** A tensor's data up to this size may be written while the next tensor is produced. */
const OVERLAP_MAX = 48 * 1024 * 1024;
/** Tensors up to this size are read ahead: the next one's read runs while this one is transposed. */
const AHEAD_MAX = 24 * 1024 * 1024;

const crc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/**
 * Writes the whole file, synced and closed, under a temporary name beside `out`, and returns that name
 * and the size: the caller publishes it or removes it. On failure nothing is left.
 * `produce(i)` must return exactly tensors[i].byteLength bytes.
 */
export async function writeTemp(out: string, tensors: readonly OutTensor[], layout: Layout,
  produce: (i: number) => Promise<Buffer>, opts: WriteOptions = {}): Promise<{ tmp: string; bytes: number }> {
  if (layout.crc && !crc32) throw new ConvertError('io', `${out}: this Node.js has no zlib.crc32 (20.15 or later is needed to write this format)`);
  const dir = path.dirname(out);
  const tmp = tempNameFor(out);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(tmp, 'wx', 0o644);
  } catch (e) {
    throw new ConvertError('io', `${out}: cannot create a file in ${dir}: ${describeFsError(e)}`);
  }
  let closed = false;
  try {
    let pos = 0;
    const crcs: number[] = [];
    // One tensor's data may still be on its way to the disk while the next is read and transformed
    // (writes are positional, so order does not matter); only small ones, so memory stays about one
    // tensor above the working set.
    let inflight: { i: number; done: Promise<number> } | undefined;
    let flushing: Promise<void> = Promise.resolve();
    let flushBusy = false;
    let flushedTo = 0;
    // Waits for the tensor in flight: its data and the bytes after it (which may need the data's
    // CRC-32) are written, and the file position is past them.
    const settle = async () => {
      if (!inflight) return;
      const { i, done } = inflight;
      inflight = undefined;
      pos = await done;
      opts.onWritten?.(i);
    };
    // Tensor i+1 starts (its read) while tensor i is still being made — only small ones, so at most
    // three tensors' buffers are live: one being written, two being made.
    const started = new Map<number, Promise<Buffer>>();
    const start = (i: number) => {
      let p = started.get(i);
      if (!p) {
        p = produce(i);
        p.catch(() => undefined); // observed when its turn comes, or dropped after a failure
        started.set(i, p);
      }
      return p;
    };
    try {
      for (let i = 0; i < tensors.length; i++) {
        opts.signal?.throwIfAborted();
        const made = start(i);
        if (i + 1 < tensors.length && tensors[i].byteLength <= AHEAD_MAX && tensors[i + 1].byteLength <= AHEAD_MAX) start(i + 1);
        const raw = await made;
        started.delete(i);
        if (raw.length !== tensors[i].byteLength) {
          throw new Error(`\`${tensors[i].key}\` came out as ${raw.length} bytes, but its header entry says ${tensors[i].byteLength}`);
        }
        const data = layout.encode ? layout.encode(i, raw) : raw;
        await settle();
        pos = await writeAll(fh, layout.before(i, data), pos, out, opts.signal);
        const at = pos;
        // The CRC-32 (zip) is taken piece by piece as the pieces are written: computed in one go, 16 MiB
        // held the main thread for 8 ms at a time, and no read or write could be issued meanwhile.
        let crc = 0;
        const done = writeAll(fh, data, at, out, opts.signal, layout.crc ? (piece) => { crc = crc32!(piece, crc); } : undefined).then(async (end) => {
          crcs[i] = crc;
          return layout.after ? writeAll(fh, layout.after(i, crc), end, out, opts.signal) : end;
        });
        done.catch(() => undefined); // observed by settle() or the finally below; never an unhandled rejection
        // Flush as we go: the disk writes what is done while later tensors are made, and the final
        // fsync has only the tail left. One flush in flight at a time.
        if (!flushBusy && at + data.length - flushedTo >= FLUSH_EVERY) {
          const upTo = at + data.length;
          flushBusy = true;
          flushing = done.then(() => fh.datasync()).then(() => { flushedTo = upTo; }, () => undefined).finally(() => { flushBusy = false; });
        }
        inflight = { i, done };
        if (data.length > OVERLAP_MAX) await settle();
      }
      await settle();
    } finally {
      // A failure with a write in flight or a tensor being made: let it finish (or fail) before the file
      // is closed and removed, and before the caller closes what it reads from.
      if (inflight) await inflight.done.catch(() => undefined);
      await Promise.all([...started.values()].map((p) => p.catch(() => undefined)));
      await flushing;
    }
    pos = await writeAll(fh, layout.tail(crcs), pos, out, opts.signal);
    opts.signal?.throwIfAborted();
    await fh.sync().catch((e: unknown) => { throw ioError(out, 'cannot flush the new file to disk', e); });
    closed = true;
    await fh.close().catch((e: unknown) => { throw ioError(out, 'cannot finish writing the new file', e); });
    return { tmp, bytes: pos };
  } catch (e) {
    if (!closed) await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** `onPiece` sees each piece of the data, in order, as it is written. */
async function writeAll(fh: fs.FileHandle, data: Buffer, position: number, out: string, signal?: AbortSignal, onPiece?: (piece: Buffer) => void): Promise<number> {
  let done = 0;
  try {
    while (done < data.length) {
      signal?.throwIfAborted();
      const end = Math.min(data.length, done + PIECE);
      // The piece is handed to the thread pool first, then seen: the two run side by side.
      const first = fh.write(data, done, end - done, position + done);
      try {
        onPiece?.(data.subarray(done, end));
      } finally {
        let at = done + (await first).bytesWritten;
        while (at < end) at += (await fh.write(data, at, end - at, position + at)).bytesWritten;
      }
      done = end;
    }
  } catch (e) {
    if (signal?.aborted) throw e;
    throw ioError(out, 'write failed', e);
  }
  return position + done;
}

/** The output path keeps whatever it had when any step before the rename fails: the message says so. */
function ioError(out: string, step: string, e: unknown): ConvertError {
  return new ConvertError('io', `${out}: ${step}: ${describeFsError(e)}; nothing was written`);
}
