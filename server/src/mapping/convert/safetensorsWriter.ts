/**
 * Writes a safetensors file atomically: the header first (every dtype, shape and offset is known
 * before any data exists), then each tensor's bytes as they are produced, into a uniquely named
 * temporary file beside the output; fsync, then rename over the output. On any failure, an abort
 * included, the temporary file is removed — the output path either keeps what it had or gets the
 * whole new file, never part of one. A full disk can surface at any step — a write, the fsync (delayed
 * allocation, network file systems), the close (NFS) or the rename (a directory that must grow) — so
 * each is caught and reported as one line naming the output and the reason.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describeFsError } from '../../formats/byteSource';
import { ConvertError } from './errors';

export interface OutTensor {
  key: string;
  dtype: string;
  shape: number[];
  byteLength: number;
}

/** Writes are issued in pieces, so one call never exceeds what the OS accepts and aborts are prompt. */
const PIECE = 64 * 1024 * 1024;

/** The header bytes: 8-byte little-endian length, then JSON padded with spaces to a multiple of 8. */
export function safetensorsHeader(tensors: readonly OutTensor[], metadata: Record<string, string>): Buffer {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    header[t.key] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.byteLength] };
    offset += t.byteLength;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Buffer.alloc(Math.ceil(json.length / 8) * 8, 0x20);
  json.copy(padded);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(padded.length));
  return Buffer.concat([len, padded]);
}

export interface WriteOptions {
  signal?: AbortSignal;
  /** Called after tensor i's bytes are written. */
  onWritten?(i: number): void;
}

/** Returns the size of the file written. `produce(i)` must return exactly tensors[i].byteLength bytes. */
export async function writeSafetensorsAtomic(out: string, tensors: readonly OutTensor[], metadata: Record<string, string>,
  produce: (i: number) => Promise<Buffer>, opts: WriteOptions = {}): Promise<number> {
  const header = safetensorsHeader(tensors, metadata);
  const dir = path.dirname(out);
  const tmp = path.join(dir, `.${path.basename(out)}.${randomBytes(6).toString('hex')}.tensorport-tmp`);
  let fh: fs.FileHandle;
  try {
    fh = await fs.open(tmp, 'wx', 0o644);
  } catch (e) {
    throw new ConvertError('io', `${out}: cannot create a file in ${dir}: ${describeFsError(e)}`);
  }
  let closed = false;
  try {
    let pos = await writeAll(fh, header, 0, out, opts.signal);
    for (let i = 0; i < tensors.length; i++) {
      opts.signal?.throwIfAborted();
      const data = await produce(i);
      if (data.length !== tensors[i].byteLength) {
        throw new Error(`\`${tensors[i].key}\` came out as ${data.length} bytes, but its header entry says ${tensors[i].byteLength}`);
      }
      pos = await writeAll(fh, data, pos, out, opts.signal);
      opts.onWritten?.(i);
    }
    opts.signal?.throwIfAborted();
    await fh.sync().catch((e: unknown) => { throw ioError(out, 'cannot flush the new file to disk', e); });
    closed = true;
    await fh.close().catch((e: unknown) => { throw ioError(out, 'cannot finish writing the new file', e); });
    await fs.rename(tmp, out).catch((e: unknown) => { throw ioError(out, 'cannot move the finished file into place', e); });
    await syncDir(dir);
    return pos;
  } catch (e) {
    if (!closed) await fh.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

async function writeAll(fh: fs.FileHandle, data: Buffer, position: number, out: string, signal?: AbortSignal): Promise<number> {
  let done = 0;
  try {
    while (done < data.length) {
      signal?.throwIfAborted();
      const { bytesWritten } = await fh.write(data, done, Math.min(PIECE, data.length - done), position + done);
      done += bytesWritten;
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

/** Makes the rename itself durable where the platform allows opening a folder; elsewhere it is best effort. */
async function syncDir(dir: string): Promise<void> {
  let d: fs.FileHandle | undefined;
  try {
    d = await fs.open(dir, 'r');
    await d.sync();
  } catch {
    // Not supported (Windows) or not permitted: the data itself is already synced.
  } finally {
    await d?.close().catch(() => undefined);
  }
}
