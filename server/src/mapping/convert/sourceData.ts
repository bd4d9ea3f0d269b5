/**
 * Reading source tensors for the converter: read-only file handles, opened once per file; each tensor
 * starts as a view at its location (torch strides included) and is read only when a rule needs its
 * data, and then only the byte span its view touches. Paddle protocol-2 text is decoded here.
 */
import { promises as fs } from 'node:fs';
import { HeaderIdentity, describeFsError } from '../../formats/byteSource';
import { openRegular } from '../../formats/openRegular';
import { ReaderError } from '../../formats/readerError';
import { RemoteFile } from '../../formats/remote/remoteFile';
import { isRemote } from '../../formats/remote/remoteName';
import { DTYPE_SIZE, TensorInfo, isContiguous, numel, spanOf } from '../../formats/tensorInfo';
import { BufferPool } from './bufferPool';
import { allocBytes, canCast } from './cast';
import { ConvertError } from './errors';
import { KernelThread } from './kernelThread';
import { Fingerprint, checkUnchanged, fingerprint } from './sourceIdentity';
import { View, contiguousStrides, memoryView } from './view';
import { dequantize } from './dequantize';

/** Reads are issued in pieces of this size, so an abort is noticed within one piece. */
const PIECE = 64 * 1024 * 1024;

interface Opened { handle: fs.FileHandle; before: Fingerprint }

export class SourceFiles {
  private readonly handles = new Map<string, Promise<Opened>>();
  private readonly remotes = new Map<string, Promise<RemoteFile>>();

  /** Per file, where its header ends (its first tensor's data): digested at open, for verifyUnchanged. */
  private headerEnds = new Map<string, number>();

  /** Files that must resolve under a folder when opened (ONNX external data, under its model's folder). */
  private readonly confined = new Map<string, string>();

  /** Scratch buffers, recycled after each tensor is written. */
  readonly pool = new BufferPool();

  /** Large transposes, permutes and casts, off the main thread (SIMD between the pool's buffers). */
  readonly kernels = new KernelThread(this.pool.arena);

  /** `name` turns an absolute path into the name messages use. */
  constructor(readonly name: (file: string) => string, private readonly signal?: AbortSignal) {}

  /** Where each file's header ends; set before the first read (sourceIdentity.ts). */
  expectHeaders(ends: Map<string, number>): void {
    this.headerEnds = ends;
  }

  private async handle(file: string): Promise<fs.FileHandle> {
    let h = this.handles.get(file);
    if (!h) {
      // Read-only: the converter never writes to anything it reads. Regular files only (a pipe would block).
      h = openRegular(file, undefined, this.confined.get(file)).then(async (o) => {
        try {
          return { handle: o.handle, before: await fingerprint(o.handle, o.stats, this.headerEnds.get(file) ?? 0) };
        } catch (e) {
          await o.handle.close().catch(() => undefined);
          throw e;
        }
      });
      this.handles.set(file, h);
    }
    return (await h).handle;
  }

  /**
   * After the last read: every file read is still the file it was when first opened (and still holds
   * the header bytes `identities` recorded, where given); a ConvertError naming the first that is not.
   */
  async verifyUnchanged(identities: ReadonlyMap<string, HeaderIdentity> = new Map()): Promise<void> {
    for (const [file, opened] of this.handles) {
      const o = await opened.catch(() => undefined);
      if (!o) continue; // never opened: the run failed on it already
      try {
        await checkUnchanged(file, this.name(file), o.handle, o.before, identities.get(file));
      } catch (e) {
        if (e instanceof ConvertError) throw e;
        throw new ConvertError('input', `${this.name(file)}: cannot check that it did not change during the run: ${describeFsError(e)}; nothing was written`);
      }
    }
  }

  /** `file` is read only if it resolves (symlinks followed, when opened) under `dir`. */
  confine(file: string, dir: string): void {
    this.confined.set(file, dir);
  }

  /**
   * A remote source (its pinned name: the commit the header was read at), opened once. Its tensor data
   * streams with range requests straight into the tensor's buffer; each answer's range and the file's
   * size and ETag are checked (remoteFile.ts), which is what "unchanged" means for a remote file.
   */
  private remoteFile(file: string): Promise<RemoteFile> {
    let r = this.remotes.get(file);
    if (!r) {
      r = RemoteFile.open(file, this.name(file));
      this.remotes.set(file, r);
    }
    return r;
  }

  private async readRemote(file: string, buf: Buffer, offset: number, length: number, what: string): Promise<void> {
    try {
      const remote = await this.remoteFile(file);
      if (offset + length > remote.size) throw new ConvertError('input', `${this.name(file)}: the file is ${remote.size} bytes, too short for ${what} (bytes ${offset}–${offset + length}): changed since its header was read?`);
      for (let done = 0; done < length; done += PIECE) {
        this.signal?.throwIfAborted();
        await remote.readDirect(buf, done, offset + done, Math.min(PIECE, length - done));
      }
    } catch (e) {
      if (e instanceof ConvertError || this.signal?.aborted) throw e;
      throw new ConvertError('input', `${this.name(file)}: cannot read ${what}: ${e instanceof ReaderError ? e.reason : describeFsError(e)}`);
    }
  }

  /** Exactly `length` bytes at `offset`, or an error naming the file and what was being read. */
  async read(file: string, offset: number, length: number, what: string): Promise<Buffer> {
    const buf = this.pool.take(length); // filled completely, or the read fails and it is dropped
    if (isRemote(file)) {
      await this.readRemote(file, buf, offset, length, what);
      return buf;
    }
    try {
      const fh = await this.handle(file);
      let done = 0;
      while (done < length) {
        this.signal?.throwIfAborted();
        const { bytesRead } = await fh.read(buf, done, Math.min(PIECE, length - done), offset + done);
        if (bytesRead === 0) {
          const size = (await fh.stat()).size;
          throw new ConvertError('input', `${this.name(file)}: the file is ${size} bytes, too short for ${what} (bytes ${offset}–${offset + length}): truncated, or changed since its header was read?`);
        }
        done += bytesRead;
      }
    } catch (e) {
      if (e instanceof ConvertError || this.signal?.aborted) throw e;
      throw new ConvertError('input', `${this.name(file)}: cannot read ${what}: ${describeFsError(e)}`);
    }
    return buf;
  }

  async close(): Promise<void> {
    const all = [...this.handles.values()];
    this.handles.clear();
    this.remotes.clear();
    this.pool.clear();
    await this.kernels.close();
    await Promise.all(all.map((h) => h.then((o) => o.handle.close(), () => undefined).catch(() => undefined)));
  }
}

/** A source tensor as a view; the plan has checked that it has a location and a sized dtype. */
export async function sourceView(t: TensorInfo, files: SourceFiles): Promise<View> {
  const size = DTYPE_SIZE[t.dtype];
  const loc = t.location;
  if (numel(t.shape) === 0) return memoryView(t.dtype, size, t.shape, allocBytes(0), t.key);
  if (!loc) throw new ConvertError('input', `source \`${t.key}\` has no byte location`);
  if (loc.within !== undefined) files.confine(loc.file, loc.within);
  const strides = loc.stride ?? contiguousStrides(t.shape);
  const bytes = spanOf(t.shape, strides) * size;
  if (loc.pieces || t.quantization) {
    // TF.js: a weight across two shards is read whole; a quantized one is dequantized as tfjs loads it.
    const stored = await readPieces(t, loc.pieces ?? [loc], files);
    const data = t.quantization ? dequantize(stored, t.quantization, t.dtype, files.pool.take(bytes)) : stored;
    return memoryView(t.dtype, size, t.shape, data, t.key);
  }
  if (loc.encoding === 'latin1-from-utf8') {
    const what = `the latin-1 text of \`${t.key}\``;
    const text = await files.read(loc.file, loc.offset, loc.length, what);
    const data = decodeLatin1Utf8(text, bytes, () => `${files.name(loc.file)}: ${what}`, (k) => files.pool.take(k));
    return { dtype: t.dtype, size, shape: t.shape, strides, offset: 0, base: { kind: 'memory', data }, origin: t.key };
  }
  return { dtype: t.dtype, size, shape: t.shape, strides, offset: 0, base: { kind: 'file', file: loc.file, offset: loc.offset }, origin: t.key };
}

async function readPieces(t: TensorInfo, pieces: readonly { file: string; offset: number; length: number }[], files: SourceFiles): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const p of pieces) {
    if (t.location?.within !== undefined) files.confine(p.file, t.location.within);
    parts.push(await files.read(p.file, p.offset, p.length, `the bytes of \`${t.key}\``));
  }
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** The view's elements, contiguous and row-major: read (only its span) and gathered if strided. */
export async function materialize(v: View, files: SourceFiles, what: string): Promise<Buffer> {
  const n = numel(v.shape);
  if (n === 0) return allocBytes(0);
  const contiguous = isContiguous(v.shape, v.strides);
  const strided = async (src: Buffer, offset: number) => {
    const out = files.pool.take(n * v.size); // every byte is written by the gather
    await files.kernels.gather(src, offset, v.size, v.shape, v.strides, out);
    return out;
  };
  if (v.base.kind === 'memory') {
    const start = v.offset * v.size;
    if (contiguous) return v.base.data.subarray(start, start + n * v.size);
    return strided(v.base.data, v.offset);
  }
  const span = spanOf(v.shape, v.strides);
  const bytes = await files.read(v.base.file, v.base.offset + v.offset * v.size, span * v.size, `the bytes of \`${v.origin}\` needed for ${what}`);
  if (contiguous) return bytes;
  const out = await strided(bytes, 0);
  files.pool.release(bytes); // only the gathered copy lives on
  return out;
}

/** `data` cast from `from` to `to` into the pool's scratch, on the kernel thread when it is large (the data itself when they are one type). */
export async function castInto(data: Buffer, from: string, to: string, files: SourceFiles): Promise<Buffer> {
  if (from === to) return data;
  if (!canCast(from, to)) throw new Error(`cast from ${from} to ${to} is not supported`);
  const out = files.pool.take((data.length / DTYPE_SIZE[from]) * DTYPE_SIZE[to]); // every element is written by the cast
  await files.kernels.cast(data, from, to, out);
  return out;
}

/**
 * Protocol 2's `_codecs.encode(text, 'latin1')`: the file holds the text's UTF-8, one code point
 * U+0000–U+00FF per data byte — one byte below 0x80, else 0xC2/0xC3 and a continuation byte.
 */
export function decodeLatin1Utf8(text: Buffer, expected: number, what: () => string, alloc: (n: number) => Buffer = allocBytes): Buffer {
  const out = alloc(expected); // filled completely, or decoding fails
  let o = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const b = text[i];
    if (o >= expected) throw new ConvertError('input', `${what()} holds more than the ${expected} bytes its shape needs`);
    if (b < 0x80) {
      out[o++] = b;
    } else if ((b === 0xc2 || b === 0xc3) && i + 1 < n && (text[i + 1] & 0xc0) === 0x80) {
      out[o++] = ((b & 0x03) << 6) | (text[++i] & 0x3f);
    } else {
      throw new ConvertError('input', `${what()} is not latin-1 text in UTF-8 (byte ${i} is 0x${b.toString(16)}): corrupt, or changed since it was read?`);
    }
  }
  if (o !== expected) throw new ConvertError('input', `${what()} decodes to ${o} bytes, but its shape needs ${expected}`);
  return out;
}
