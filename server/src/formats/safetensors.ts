/**
 * safetensors reader: the 8-byte header length, the JSON header and nothing else. Validation follows
 * the reference implementation (huggingface/safetensors `tensor.rs`), so a file we accept is one the
 * `safetensors` library would load, and a file it rejects gets the same reason from us, in words.
 */
import { setOwn } from './table';
import { table } from './table';
import { ByteSource } from './byteSource';
import { unreadable } from './readerError';
import { JsonSyntax } from './jsonSyntax';
import { COMPACT_ENTRY, scanHeader } from './safetensorsScan';
import { CheckpointInfo, Framework, TensorInfo, dtypeBits, numel } from './tensorInfo';
import { TensorTable, decodeTensors, tabledInfo } from './tensorTable';

/** The reference implementation's cap on the JSON header. */
export const MAX_HEADER_BYTES = 100_000_000;

const FRAMEWORK_BY_FORMAT: Record<string, Framework> = table({
  pt: 'torch', torch: 'torch', pytorch: 'torch', paddle: 'paddle', np: 'torch', numpy: 'torch',
  flax: 'jax', jax: 'jax', tf: 'jax', mlx: 'mlx',
});

interface RawEntry { dtype?: unknown; shape?: unknown; data_offsets?: unknown }

/**
 * `general` forces the JSON.parse path (tests check that both paths agree). `table`: the tensors as
 * columns where the header allows (tableOf(info)), made into objects only if `info.tensors` is read.
 */
export async function readSafetensors(src: ByteSource, opts: { general?: boolean; table?: boolean } = {}): Promise<CheckpointInfo> {
  const file = src.displayName;
  if (src.size < 8) throw unreadable(file, `file is ${src.size} bytes, too short for a safetensors header length (8 bytes)`);
  const n = (await src.read(0, 8, 'header length')).readBigUInt64LE(0);
  if (n > BigInt(MAX_HEADER_BYTES)) throw unreadable(file, `header length ${n} exceeds the 100,000,000-byte limit: not a safetensors file, or corrupt`, 0);
  const headerLen = Number(n);
  if (headerLen > src.size - 8) throw unreadable(file, `header length ${headerLen} runs past the end of the file (${src.size} bytes): truncated?`, 0);
  if (headerLen < 2) throw unreadable(file, `header length ${headerLen} is too short for a JSON object`, 0);

  const headerBytes = await readHeaderChecked(src, headerLen);
  const bufferLen = src.size - 8 - headerLen;
  const base = 8 + headerLen;
  const scanned = opts.general ? undefined : scanHeader(headerBytes, src.path, base, opts.table);
  let metadata: Record<string, string> | undefined;
  let tensors: TensorInfo[];
  if (scanned?.table) {
    metadata = scanned.metadata;
    const info = { file, format: 'safetensors' as const, metadata, framework: frameworkOf(metadata), notes: [] };
    if (tilesInOrder(scanned.table, base, bufferLen)) return tabledInfo(info, scanned.table);
    // Out of offset order, or wrong: the objects' path sorts, or names the first fault as it always has.
    tensors = decodeTensors(scanned.table);
    for (const t of tensors) checkTensor(file, t, base);
  } else if (scanned) {
    metadata = scanned.metadata;
    tensors = scanned.tensors;
    for (const t of tensors) checkTensor(file, t, base);
  } else {
    const header = parseHeaderJson(file, headerBytes);
    metadata = readMetadata(file, header.__metadata__);
    tensors = [];
    for (const key in header) {
      if (key === '__metadata__') continue;
      const t = typedEntry(file, key, header[key] as RawEntry, src.path, base);
      checkTensor(file, t, base);
      tensors.push(t);
    }
  }
  let ordered = true;
  for (let i = 1; i < tensors.length && ordered; i++) if (tensors[i].location!.offset < tensors[i - 1].location!.offset) ordered = false;
  // The JSON object's order is the writer's order; the reference lists tensors by offset, which is file order.
  if (!ordered) tensors.sort((a, b) => a.location!.offset - b.location!.offset || a.location!.length - b.location!.length);
  checkCoverage(file, tensors, base, bufferLen);
  return { file, format: 'safetensors', tensors, metadata, framework: frameworkOf(metadata), notes: [] };
}

function frameworkOf(metadata: Record<string, string> | undefined): Framework | undefined {
  return metadata?.format ? FRAMEWORK_BY_FORMAT[metadata.format.toLowerCase()] : undefined;
}

/**
 * checkTensor and checkCoverage on columns, for a header in offset order: every dtype known, every
 * span the size its shape says, the spans tiling the buffer exactly. False for anything else.
 */
function tilesInOrder(t: TensorTable, base: number, bufferLen: number): boolean {
  const bits = t.dtypes.map(dtypeBits);
  let expected = 0, q = 0;
  for (let i = 0; i < t.count; i++) {
    const b = bits[t.dtype[i]];
    let n = 1;
    for (let k = t.ndim[i]; k > 0; k--) n *= t.dims[q++];
    if (b === undefined || t.offset[i] - base !== expected) return false;
    const totalBits = n * b;
    if (totalBits % 8 !== 0 || totalBits / 8 !== t.length[i] || !Number.isSafeInteger(totalBits / 8)) return false;
    expected += t.length[i];
  }
  return expected === bufferLen;
}

/** Header bytes are read and checked in pieces of this size. */
const HEADER_PIECE = 1024 * 1024;

/**
 * The JSON header, read piece by piece into one buffer with its syntax checked as each piece arrives:
 * a header that stops being JSON is refused there, having cost one piece, whatever its declared length.
 * The buffer is allocated uninitialised, so its pages take memory only as they are read into.
 */
async function readHeaderChecked(src: ByteSource, headerLen: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(headerLen);
  const syntax = new JsonSyntax(COMPACT_ENTRY);
  for (let at = 0; at < headerLen; at += HEADER_PIECE) {
    const n = Math.min(HEADER_PIECE, headerLen - at);
    await src.readInto(bytes, at, 8 + at, n, 'JSON header');
    const why = syntax.feed(bytes.subarray(at, at + n));
    if (why) throw unreadable(src.displayName, `header is not valid JSON (${why})`, 8);
  }
  const why = syntax.end();
  if (why) throw unreadable(src.displayName, `header is not valid JSON (${why})`, 8);
  return bytes;
}

function parseHeaderJson(file: string, bytes: Buffer): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw unreadable(file, 'header is not valid UTF-8', 8);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw unreadable(file, `header is not valid JSON (${(e as Error).message})`, 8);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw unreadable(file, 'header is JSON but not an object of tensors', 8);
  }
  return parsed as Record<string, unknown>;
}

function readMetadata(file: string, raw: unknown): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw unreadable(file, '__metadata__ must be an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw unreadable(file, `__metadata__ value for "${k}" is not a string`);
    setOwn(out, k, v);
  }
  return out;
}

/** The general path's shape checks: what the fast scanner guarantees by construction. */
function typedEntry(file: string, key: string, e: RawEntry, absPath: string, base: number): TensorInfo {
  if (e === null || typeof e !== 'object') throw unreadable(file, `tensor "${key}" is not an object with dtype, shape and data_offsets`);
  if (typeof e.dtype !== 'string') throw unreadable(file, `tensor "${key}" has no dtype`);
  if (dtypeBits(e.dtype) === undefined) throw unreadable(file, `tensor "${key}" has unknown dtype "${e.dtype}"`);
  if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw unreadable(file, `tensor "${key}" has an invalid shape ${JSON.stringify(e.shape)}`);
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every(isCount)) {
    throw unreadable(file, `tensor "${key}" has invalid data_offsets ${JSON.stringify(offs)}`);
  }
  const [begin, end] = offs as number[];
  return { key, dtype: e.dtype, shape: e.shape as number[], location: { file: absPath, offset: base + begin, length: end - begin } };
}

/** The checks both paths share: a known dtype, ordered offsets, and a byte span that fits the shape. */
function checkTensor(file: string, t: TensorInfo, base: number): void {
  const bits = dtypeBits(t.dtype);
  if (bits === undefined) throw unreadable(file, `tensor "${t.key}" has unknown dtype "${t.dtype}"`);
  const { offset, length } = t.location!;
  if (length < 0) throw unreadable(file, `tensor "${t.key}" has data_offsets [${offset - base}, ${offset - base + length}] that end before they begin`);
  const totalBits = numel(t.shape) * bits;
  // As the reference does: packed sub-byte elements must end on a byte boundary.
  if (totalBits % 8 !== 0) throw unreadable(file, `tensor "${t.key}" is ${t.dtype} ${JSON.stringify(t.shape)}: ${totalBits} bits, not a whole number of bytes`);
  const expected = totalBits / 8;
  if (!Number.isSafeInteger(expected) || expected !== length) {
    throw unreadable(file, `tensor "${t.key}" is ${t.dtype} ${JSON.stringify(t.shape)} (${expected} bytes) but data_offsets span ${length} bytes`);
  }
}

/** Offsets must tile the buffer exactly: start at 0, no gap, no overlap, and end at the file's end. */
function checkCoverage(file: string, sorted: TensorInfo[], base: number, bufferLen: number): void {
  let expected = 0;
  for (const t of sorted) {
    const begin = t.location!.offset - base;
    if (begin < expected) throw unreadable(file, `tensor "${t.key}" overlaps the previous tensor (its data starts at ${begin}, before ${expected})`);
    if (begin > expected) throw unreadable(file, `gap in the data buffer before tensor "${t.key}" (bytes ${expected}–${begin} belong to no tensor)`);
    expected = begin + t.location!.length;
  }
  if (expected !== bufferLen) {
    throw unreadable(file, expected > bufferLen
      ? `tensor data ends at buffer byte ${expected} but the file holds ${bufferLen}: truncated?`
      : `the file has ${bufferLen - expected} bytes after the last tensor's data`);
  }
}

function isCount(x: unknown): boolean {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
