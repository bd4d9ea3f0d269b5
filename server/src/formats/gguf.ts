/**
 * GGUF reader (llama.cpp / ggml, layout per ggml's docs/gguf.md): the header, the metadata key/values
 * rendered as strings, and the tensor infos with each tensor's byte range in the data section. Tensor
 * data is never read. Dimensions keep GGUF's fastest-varying-first order, stated as `shapeOrder: 'ggml'`.
 */
import { setOwn } from './table';
import * as nodePath from 'node:path';
import type { ByteSource } from './byteSource';
import { internalError, ReaderError, unreadable } from './readerError';
import type { CheckpointInfo, TensorInfo } from './tensorInfo';
import { absoluteName } from './remote/remoteName';

/**
 * ggml type id → [name, elements per block, bytes per block], from gguf-py's GGML_QUANT_SIZES.
 * Ids 4, 5 and 31–33 were removed from GGUF files; newer ids appear as `GGML_TYPE_<id>` without a location.
 */
export const GGML_TYPES: Readonly<Record<number, readonly [string, number, number]>> = {
  0: ['F32', 1, 4], 1: ['F16', 1, 2], 2: ['Q4_0', 32, 18], 3: ['Q4_1', 32, 20], 6: ['Q5_0', 32, 22],
  7: ['Q5_1', 32, 24], 8: ['Q8_0', 32, 34], 9: ['Q8_1', 32, 40], 10: ['Q2_K', 256, 84], 11: ['Q3_K', 256, 110],
  12: ['Q4_K', 256, 144], 13: ['Q5_K', 256, 176], 14: ['Q6_K', 256, 210], 15: ['Q8_K', 256, 292],
  16: ['IQ2_XXS', 256, 66], 17: ['IQ2_XS', 256, 74], 18: ['IQ3_XXS', 256, 98], 19: ['IQ1_S', 256, 50],
  20: ['IQ4_NL', 32, 18], 21: ['IQ3_S', 256, 110], 22: ['IQ2_S', 256, 82], 23: ['IQ4_XS', 256, 136],
  24: ['I8', 1, 1], 25: ['I16', 1, 2], 26: ['I32', 1, 4], 27: ['I64', 1, 8], 28: ['F64', 1, 8],
  29: ['IQ1_M', 256, 56], 30: ['BF16', 1, 2], 34: ['TQ1_0', 256, 54], 35: ['TQ2_0', 256, 66], 39: ['MXFP4', 32, 17],
};

/** Metadata value types 0–12, in id order. */
const VALUE_TYPES = ['UINT8', 'INT8', 'UINT16', 'INT16', 'UINT32', 'INT32', 'FLOAT32', 'BOOL', 'STRING', 'ARRAY', 'UINT64', 'INT64', 'FLOAT64'];
const STRING = 8;
const ARRAY = 9;
/** Bytes of each fixed-size value type (STRING and ARRAY have their own minimum sizes here). */
const VALUE_SIZE = [1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8];

const DEFAULT_ALIGNMENT = 32;
/** ggml's GGML_MAX_DIMS. */
const MAX_DIMS = 4;
/** Arrays of arrays are legal; deeper than this is garbage, not a model. */
const MAX_ARRAY_DEPTH = 4;
const MAX_NAME = 1024 * 1024;
/** Strings longer than this (chat templates can be tens of KB) are summarised, not copied into metadata. */
const MAX_SHOWN_STRING = 64 * 1024;
const SHORT_ARRAY = 16;
const MIN_CHUNK = 64 * 1024;
const MAX_CHUNK = 1024 * 1024;

export async function readGguf(src: ByteSource): Promise<CheckpointInfo> {
  try {
    return await read(src);
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    // Anything else is a bug in this reader; the caller still gets a reason about this file.
    throw internalError(src.displayName, 'the GGUF file', e);
  }
}

async function read(src: ByteSource): Promise<CheckpointInfo> {
  const file = src.displayName;
  if (src.size < 24) throw unreadable(file, `file is ${src.size} bytes, too short for a GGUF header (24 bytes)`);
  const cur = new Cursor(src);
  await cur.need(24, 'header');
  const magic = cur.bytes(4);
  if (magic.toString('latin1') !== 'GGUF') throw unreadable(file, `not a GGUF file: it starts with ${magic.toString('hex')}, not "GGUF"`, 0);
  const version = cur.u32();
  if (version === 1) throw unreadable(file, 'GGUF version 1 (32-bit counts, from August 2023) is not supported: convert the model again with a current llama.cpp', 4);
  if (version !== 2 && version !== 3) {
    const swapped = version.toString(16).padStart(8, '0').match(/../g)!.reverse().join('');
    const hint = parseInt(swapped, 16) <= 3 ? ' (a big-endian GGUF file, which is not supported)' : '';
    throw unreadable(file, `unsupported GGUF version ${version}${hint}`, 4);
  }
  const nTensors = cur.u64();
  const nKv = cur.u64();
  // Smallest possible entries: a key/value is an empty key (8) + type (4) + one byte; a tensor info is
  // an empty name (8) + n_dims (4) + type (4) + offset (8). Counts that cannot fit are refused before any loop.
  if (nKv * 13n + nTensors * 24n > BigInt(src.size - 24)) {
    throw unreadable(file, `header claims ${nTensors} tensors and ${nKv} metadata entries, which cannot fit in a file of ${src.size} bytes: corrupt or truncated`, 8);
  }

  const metadata: Record<string, string> = {};
  const notes: string[] = [];
  let alignment = DEFAULT_ALIGNMENT;
  const kvStart = cur.pos;
  for (let i = 0; i < Number(nKv); i++) {
    const at = cur.pos;
    const key = await cur.string(MAX_NAME, `metadata key ${i}`);
    if (key === undefined) throw unreadable(file, `metadata key ${i} is longer than ${MAX_NAME} bytes`, at);
    await cur.need(4, `type of metadata "${key}"`);
    const type = cur.u32();
    const valueAt = cur.pos;
    const { text, integer } = await readValue(cur, type, key, 0);
    if (Object.hasOwn(metadata, key)) notes.push(`metadata key "${key}" appears more than once; the first value is shown`);
    else setOwn(metadata, key, text);
    if (key === 'general.alignment') {
      if (integer === undefined || integer <= 0n || integer > 0x40000000n || (integer & (integer - 1n)) !== 0n) {
        throw unreadable(file, `general.alignment must be a power of two, but is ${text} (${VALUE_TYPES[type] ?? type})`, valueAt);
      }
      alignment = Number(integer);
    }
  }

  const kvEnd = cur.pos;
  const infos: { name: string; at: number; dims: number[]; type: number; offset: number }[] = [];
  const names = new Set<string>();
  for (let i = 0; i < Number(nTensors); i++) {
    const at = cur.pos;
    const name = await cur.string(MAX_NAME, `name of tensor ${i}`);
    if (name === undefined) throw unreadable(file, `name of tensor ${i} is longer than ${MAX_NAME} bytes`, at);
    if (names.has(name)) throw unreadable(file, `tensor "${name}" is listed twice`, at);
    names.add(name);
    await cur.need(4, `dimension count of tensor "${name}"`);
    const nDims = cur.u32();
    if (nDims > MAX_DIMS) throw unreadable(file, `tensor "${name}" has ${nDims} dimensions; GGML allows at most ${MAX_DIMS}`, at);
    await cur.need(8 * nDims + 12, `shape, type and offset of tensor "${name}"`);
    const dims: number[] = [];
    let count = 1;
    for (let d = 0; d < nDims; d++) {
      const v = cur.u64();
      count *= Number(v);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || !Number.isSafeInteger(count)) {
        throw unreadable(file, `tensor "${name}" has dimension ${v}, too many elements`, at);
      }
      dims.push(Number(v));
    }
    const type = cur.u32();
    const offset = cur.u64();
    if (offset > BigInt(src.size)) throw unreadable(file, `tensor "${name}" has data offset ${offset}, past the end of the file (${src.size} bytes)`, at);
    infos.push({ name, at, dims, type, offset: Number(offset) });
  }

  const dataStart = Math.ceil(cur.pos / alignment) * alignment;
  const tensorFile = absoluteName(src.path, nodePath.resolve);
  const tensors: TensorInfo[] = [];
  const unknown = new Set<number>();
  for (const t of infos) {
    const ggml = GGML_TYPES[t.type];
    if (!ggml) {
      unknown.add(t.type);
      tensors.push({ key: t.name, dtype: `GGML_TYPE_${t.type}`, shape: t.dims });
      continue;
    }
    const [dtype, block, blockBytes] = ggml;
    if ((t.dims[0] ?? 1) % block !== 0) {
      throw unreadable(file, `tensor "${t.name}" of type ${dtype} has a first dimension of ${t.dims[0]}, not a multiple of its block size ${block}`, t.at);
    }
    if (t.offset % alignment !== 0) {
      throw unreadable(file, `tensor "${t.name}" has data offset ${t.offset}, not a multiple of the alignment ${alignment}`, t.at);
    }
    const length = (t.dims.reduce((a, b) => a * b, 1) / block) * blockBytes;
    const offset = dataStart + t.offset;
    if (offset + length > src.size) {
      throw unreadable(file, `data of tensor "${t.name}" (${length} bytes at byte ${offset}) runs past the end of the file (${src.size} bytes): truncated?`, t.at);
    }
    tensors.push({ key: t.name, dtype, shape: t.dims, location: { file: tensorFile, offset, length } });
  }
  if (unknown.size > 0) {
    notes.push(`GGML tensor type${unknown.size === 1 ? '' : 's'} ${[...unknown].join(', ')} ${unknown.size === 1 ? 'is' : 'are'} not known to this reader; those tensors have no byte range`);
  }
  return {
    file, format: 'gguf', framework: 'gguf', shapeOrder: 'ggml', tensors, metadata, notes,
    ggufMetadata: { offset: kvStart, length: kvEnd - kvStart, count: Number(nKv), alignment },
  };
}

interface Value {
  text: string;
  /** Integer values, for the keys the reader itself uses (general.alignment). */
  integer?: bigint;
}

async function readValue(cur: Cursor, type: number, key: string, depth: number): Promise<Value> {
  if (type === STRING) {
    const s = await cur.string(MAX_SHOWN_STRING, `value of "${key}"`);
    return { text: s ?? `[string of ${cur.lastStringLength} bytes]` };
  }
  if (type === ARRAY) return { text: await readArray(cur, key, depth) };
  if (type > 12) throw unreadable(cur.file, `metadata "${key}" has unknown value type ${type}`, cur.pos - 4);
  await cur.need(VALUE_SIZE[type], `value of "${key}"`);
  return cur.scalar(type);
}

async function readArray(cur: Cursor, key: string, depth: number): Promise<string> {
  if (depth >= MAX_ARRAY_DEPTH) throw unreadable(cur.file, `metadata "${key}" nests arrays more than ${MAX_ARRAY_DEPTH} deep`, cur.pos);
  const at = cur.pos;
  await cur.need(12, `array header of "${key}"`);
  const itemType = cur.u32();
  const count = cur.u64();
  if (itemType > 12) throw unreadable(cur.file, `metadata "${key}" is an array of unknown value type ${itemType}`, at);
  if (count * BigInt(VALUE_SIZE[itemType]) > BigInt(cur.size - cur.pos)) {
    throw unreadable(cur.file, `metadata "${key}" claims ${count} items of ${VALUE_TYPES[itemType]}, more than the rest of the file can hold`, at);
  }
  const n = Number(count);
  const summary = `[array of ${n} ${VALUE_TYPES[itemType]}]`;
  if (itemType !== STRING && itemType !== ARRAY) {
    const bytes = n * VALUE_SIZE[itemType];
    if (n > SHORT_ARRAY) {
      cur.pos += bytes;
      return summary;
    }
    await cur.need(bytes, `items of "${key}"`);
    const items: string[] = [];
    for (let i = 0; i < n; i++) items.push(cur.scalar(itemType).text);
    return `[${items.join(', ')}]`;
  }
  // Strings and nested arrays have no fixed size: every item is walked, only a short array kept.
  if (itemType === STRING && n > SHORT_ARRAY) {
    await cur.skipStrings(n, `an item of "${key}"`);
    return summary;
  }
  const shown: string[] = [];
  let shownLength = 0;
  for (let i = 0; i < n; i++) {
    if (itemType === ARRAY) {
      const inner = await readArray(cur, key, depth + 1);
      if (i < SHORT_ARRAY) shown.push(inner);
      continue;
    }
    const s = await cur.string(MAX_SHOWN_STRING, `item ${i} of "${key}"`);
    const quoted = s === undefined ? '' : JSON.stringify(s);
    shown.push(quoted);
    shownLength += s === undefined ? Infinity : quoted.length;
  }
  return n <= SHORT_ARRAY && shownLength <= 256 ? `[${shown.join(', ')}]` : summary;
}

/** Sequential little-endian reads through a window of the file, checked against its size. */
class Cursor {
  pos = 0;
  /** Byte length of the last string `string()` declined to load. */
  lastStringLength = 0;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private chunk = MIN_CHUNK;

  constructor(private readonly src: ByteSource) {}

  get file(): string {
    return this.src.displayName;
  }

  get size(): number {
    return this.src.size;
  }

  has(n: number): boolean {
    return this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.length;
  }

  /** Brings [pos, pos + n) into memory, or fails naming what was expected there. */
  async need(n: number, what: string): Promise<void> {
    if (this.has(n)) return;
    if (this.pos + n > this.src.size) {
      throw unreadable(this.src.displayName, `${what} (${n} bytes at byte ${this.pos}) runs past the end of the file (${this.src.size} bytes): truncated?`, this.pos);
    }
    const sequential = this.pos >= this.bufStart && this.pos <= this.bufStart + this.buf.length;
    this.chunk = sequential ? Math.min(this.chunk * 2, MAX_CHUNK) : MIN_CHUNK;
    this.buf = await this.src.read(this.pos, Math.min(Math.max(n, this.chunk), this.src.size - this.pos), what);
    this.bufStart = this.pos;
  }

  bytes(n: number): Buffer {
    const off = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(off, off + n);
  }

  u32(): number {
    const v = this.buf.readUInt32LE(this.pos - this.bufStart);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    const v = this.buf.readBigUInt64LE(this.pos - this.bufStart);
    this.pos += 8;
    return v;
  }

  /** A u64-length string; longer than `max` bytes is skipped and returns undefined (length in lastStringLength). */
  async string(max: number, what: string): Promise<string | undefined> {
    await this.need(8, `length of ${what}`);
    const len = this.u64();
    if (len > BigInt(this.src.size - this.pos)) {
      throw unreadable(this.src.displayName, `${what} claims ${len} bytes, past the end of the file (${this.src.size} bytes): corrupt or truncated`, this.pos - 8);
    }
    const n = Number(len);
    if (n > max) {
      this.lastStringLength = n;
      this.pos += n;
      return undefined;
    }
    await this.need(n, what);
    return this.bytes(n).toString('utf8');
  }

  /** Steps over `count` u64-length strings (a vocabulary: 100k+), awaiting only when the window runs out. */
  async skipStrings(count: number, what: string): Promise<void> {
    for (let i = 0; i < count; i++) {
      if (!this.has(8)) await this.need(8, `length of ${what}`);
      const len = this.u64();
      if (len > BigInt(this.src.size - this.pos)) {
        throw unreadable(this.src.displayName, `${what} claims ${len} bytes, past the end of the file (${this.src.size} bytes): corrupt or truncated`, this.pos - 8);
      }
      this.pos += Number(len);
    }
  }

  /** One fixed-size metadata value, already in memory. */
  scalar(type: number): Value {
    const b = this.buf;
    const o = this.pos - this.bufStart;
    this.pos += VALUE_SIZE[type];
    switch (type) {
      case 0: return int(BigInt(b.readUInt8(o)));
      case 1: return int(BigInt(b.readInt8(o)));
      case 2: return int(BigInt(b.readUInt16LE(o)));
      case 3: return int(BigInt(b.readInt16LE(o)));
      case 4: return int(BigInt(b.readUInt32LE(o)));
      case 5: return int(BigInt(b.readInt32LE(o)));
      case 6: return { text: float32Text(b.readFloatLE(o)) };
      case 7: return { text: b.readUInt8(o) !== 0 ? 'true' : 'false' };
      case 10: return int(b.readBigUInt64LE(o));
      case 11: return int(b.readBigInt64LE(o));
      case 12: return { text: String(b.readDoubleLE(o)) };
      default: throw new Error(`scalar() called for value type ${type}`);
    }
  }
}

function int(v: bigint): Value {
  return { text: v.toString(), integer: v };
}

/** The shortest decimal that reads back as the same float32 (1e-5, not 0.000009999999747378752). */
function float32Text(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}
