/**
 * One entry of the table cache (tableCache.ts) as bytes: what a read worker made of a large checkpoint
 * header — its info fields, its columns, their key index and key trie — with the identity of the header
 * it came from (byteSource.ts: the ranges read, their size and digest). Loading it is a read and a few
 * copies, where parsing a 100,000-tensor header again takes a read thread ~350 ms of a cold start.
 *
 * Layout: `TPTC`, a version, the metadata's length, a CRC-32 of that length and all that follows;
 * then the metadata (JSON: the entry's name, identity, fields, the tables' strings and array lengths),
 * the key arena and every typed array, each on an 8-byte boundary. Decoding checks the CRC and every
 * index that a later lookup or walk trusts (a trie's links only point forward, so no walk can loop):
 * a damaged entry reads as no entry, and the header is parsed as if none was there.
 */
import { crc32 } from 'node:zlib';
import type { HeaderIdentity } from '../formats/byteSource';
import type { TableIndex } from '../formats/tableIndex';
import type { CheckpointInfo } from '../formats/tensorInfo';
import type { TensorTable } from '../formats/tensorTable';
import type { TrieData } from './trieData';

export interface CacheEntry {
  /** What the entry is for (the file and the read's options, tableCache.ts): a stored name must match it. */
  name: string;
  identity: HeaderIdentity;
  info: Omit<CheckpointInfo, 'tensors'>;
  table: TensorTable;
  index: TableIndex;
  trie: TrieData;
}

const MAGIC = 0x43545054; // "TPTC", read little-endian
const VERSION = 1;
const PREFIX = 16;

type Typed = Uint8Array | Uint16Array | Int16Array | Int32Array | Uint32Array | Float64Array;
const TYPES: Record<string, { new (b: ArrayBuffer, offset: number, length: number): Typed; BYTES_PER_ELEMENT: number }> = {
  u8: Uint8Array, u16: Uint16Array, i16: Int16Array, i32: Int32Array, u32: Uint32Array, f64: Float64Array,
};
const typeName = (a: Typed): string => Object.keys(TYPES).find((k) => a instanceof TYPES[k])!;

/** The arrays in the order they are stored. */
const TABLE_ARRAYS = ['keyEnds', 'dtype', 'ndim', 'dims', 'file', 'offset', 'length'] as const;
const INDEX_ARRAYS = ['dimStart', 'slots', 'shadowed'] as const;
const TRIE_ARRAYS = ['segSlots', 'seg', 'parent', 'first', 'next', 'keyAt', 'childSlots'] as const;

interface Meta {
  name: string;
  identity: HeaderIdentity;
  info: Omit<CheckpointInfo, 'tensors'>;
  count: number;
  dtypes: string[];
  files: string[];
  /** The key arena's byte length, and whether it is Latin-1 (one byte a character) rather than UTF-8. */
  keyBytes: number;
  latin1: boolean;
  trie: { size: number; nodes: number; segs: string[] };
  arrays: [string, number][];
}

const pad8 = (n: number) => (n + 7) & ~7;

/** CRC-32 of the metadata's length and everything after the prefix: all but the magic, version and the CRC itself. */
const checksum = (b: Buffer): number => crc32(b.subarray(PREFIX), crc32(b.subarray(8, 12)));

/** The entry as bytes, or undefined when its fields would not survive JSON (then it is not cached). */
export function encodeEntry(e: CacheEntry): Buffer | undefined {
  const t = e.table, arrays: Typed[] = [...TABLE_ARRAYS.map((k) => t[k]), ...INDEX_ARRAYS.map((k) => e.index[k]), ...TRIE_ARRAYS.map((k) => e.trie[k])];
  let latin1 = true;
  for (let i = 0; i < t.keys.length && latin1; i++) if (t.keys.charCodeAt(i) > 0xff) latin1 = false;
  const keyBytes = latin1 ? t.keys.length : Buffer.byteLength(t.keys, 'utf8');
  const meta: Meta = {
    name: e.name, identity: e.identity, info: e.info, count: t.count, dtypes: t.dtypes, files: t.files, keyBytes, latin1,
    trie: { size: e.trie.size, nodes: e.trie.nodes, segs: e.trie.segs }, arrays: arrays.map((a) => [typeName(a), a.length]),
  };
  let json: string;
  try {
    json = JSON.stringify(meta, faithful);
  } catch {
    return undefined;
  }
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  let size = pad8(PREFIX + jsonBytes) + pad8(keyBytes);
  for (const a of arrays) size += pad8(a.byteLength);
  const out = Buffer.alloc(size);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(VERSION, 4);
  out.writeUInt32LE(jsonBytes, 8);
  out.write(json, PREFIX, 'utf8');
  let at = pad8(PREFIX + jsonBytes);
  out.write(t.keys, at, latin1 ? 'latin1' : 'utf8');
  at += pad8(keyBytes);
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += pad8(a.byteLength);
  }
  out.writeUInt32LE(checksum(out), 12);
  return out;
}

/**
 * JSON.stringify's replacer for the metadata: a value JSON would turn into something else (a typed array
 * into an object, a Date into a string, NaN into null, undefined in an array into null; a BigInt throws by
 * itself) makes the entry one not kept, so a cached read never differs from a fresh one. An object's
 * undefined field is left out, as reading it back gives undefined too.
 */
function faithful(this: unknown, key: string, value: unknown): unknown {
  const raw = (this as Record<string, unknown>)[key];
  if (raw instanceof Date || raw instanceof Map || raw instanceof Set || ArrayBuffer.isView(raw) || (typeof raw === 'number' && !Number.isFinite(raw))) {
    throw new Error(`${key}: not JSON`);
  }
  if (Array.isArray(value) && value.some((v) => v === undefined || typeof v === 'function' || typeof v === 'symbol')) throw new Error(`${key}: not JSON`);
  return value;
}

/** The entry in `bytes` (its arrays copies); undefined for anything damaged, foreign or inconsistent. */
export function decodeEntry(bytes: Buffer): CacheEntry | undefined {
  try {
    return decode(bytes);
  } catch {
    return undefined;
  }
}

function decode(bytes: Buffer): CacheEntry | undefined {
  if (bytes.length < PREFIX || bytes.readUInt32LE(0) !== MAGIC || bytes.readUInt32LE(4) !== VERSION) return undefined;
  if (checksum(bytes) !== bytes.readUInt32LE(12)) return undefined;
  // Views need their type's alignment: a buffer that does not start on 8 bytes is copied once.
  if (bytes.byteOffset % 8 !== 0) bytes = Buffer.from(bytes);
  const jsonBytes = bytes.readUInt32LE(8);
  if (PREFIX + jsonBytes > bytes.length) return undefined;
  const m = JSON.parse(bytes.toString('utf8', PREFIX, PREFIX + jsonBytes)) as Meta;
  if (!isMeta(m)) return undefined;
  let at = pad8(PREFIX + jsonBytes);
  if (at + m.keyBytes > bytes.length) return undefined;
  const keys = bytes.toString(m.latin1 ? 'latin1' : 'utf8', at, at + m.keyBytes);
  at += pad8(m.keyBytes);
  const arrays: Typed[] = [];
  for (const [type, length] of m.arrays) {
    const make = TYPES[type];
    if (!make) return undefined;
    const width = make.BYTES_PER_ELEMENT;
    if (at + length * width > bytes.length) return undefined;
    // Copied out, so the file's buffer can go: views kept it (and its key bytes) alive, 20 MiB more for two
    // 100,000-tensor sides than reading them afresh (test/bench/memory.bench.ts); the copies cost no time measured.
    arrays.push(new make(bytes.buffer as ArrayBuffer, bytes.byteOffset + at, length).slice());
    at += pad8(length * width);
  }
  const want = TABLE_ARRAYS.length + INDEX_ARRAYS.length + TRIE_ARRAYS.length;
  if (arrays.length !== want) return undefined;
  const [keyEnds, dtype, ndim, dims, file, offset, length, dimStart, slots, shadowed, segSlots, seg, parent, first, next, keyAt, childSlots] = arrays;
  const n = m.count;
  const kinds: [Typed, (abstract new (...args: never[]) => Typed)[]][] = [
    [keyEnds, [Uint32Array]], [dtype, [Uint16Array]], [ndim, [Uint8Array]], [dims, [Float64Array, Uint32Array]], [file, [Int32Array, Int16Array]],
    [offset, [Float64Array, Uint32Array]], [length, [Float64Array, Uint32Array]], [dimStart, [Uint32Array]], [slots, [Int32Array]], [shadowed, [Int32Array]],
    [segSlots, [Int32Array]], [seg, [Int32Array]], [parent, [Int32Array]], [first, [Int32Array]], [next, [Int32Array]], [keyAt, [Int32Array]], [childSlots, [Int32Array]],
  ];
  if (!kinds.every(([a, ok]) => ok.some((k) => a instanceof k))) return undefined;
  const table: TensorTable = {
    count: n, keys, keyEnds: keyEnds as Uint32Array, dtypes: m.dtypes, dtype: dtype as Uint16Array, ndim: ndim as Uint8Array,
    dims: dims as Float64Array | Uint32Array, files: m.files, file: file as Int32Array | Int16Array, offset: offset as Float64Array | Uint32Array,
    length: length as Float64Array | Uint32Array, extras: [],
  };
  const index: TableIndex = { dimStart: dimStart as Uint32Array, slots: slots as Int32Array, shadowed: shadowed as Int32Array };
  const trie: TrieData = {
    size: m.trie.size, nodes: m.trie.nodes, segs: m.trie.segs, segSlots: segSlots as Int32Array, seg: seg as Int32Array, parent: parent as Int32Array,
    first: first as Int32Array, next: next as Int32Array, keyAt: keyAt as Int32Array, childSlots: childSlots as Int32Array,
  };
  if (!tableSound(table, index) || !trieSound(trie, n)) return undefined;
  return { name: m.name, identity: m.identity, info: m.info, table, index, trie };
}

function isMeta(m: Meta): boolean {
  const id = m?.identity;
  return typeof m.name === 'string' && typeof m.info === 'object' && m.info !== null && typeof m.info.file === 'string' && Array.isArray(m.info.notes)
    && Number.isSafeInteger(m.count) && m.count >= 0 && strings(m.dtypes) && strings(m.files)
    && Number.isSafeInteger(m.keyBytes) && m.keyBytes >= 0 && typeof m.latin1 === 'boolean'
    && typeof m.trie === 'object' && Number.isSafeInteger(m.trie.size) && Number.isSafeInteger(m.trie.nodes) && m.trie.nodes >= 1 && strings(m.trie.segs)
    && Array.isArray(m.arrays) && m.arrays.every((a) => Array.isArray(a) && typeof a[0] === 'string' && Number.isSafeInteger(a[1]) && a[1] >= 0)
    && typeof id === 'object' && id !== null && Number.isSafeInteger(id.size) && typeof id.digest === 'string'
    && Array.isArray(id.ranges) && id.ranges.every((r) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]));
}

const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((s) => typeof s === 'string');

/** Every column as long as the count, every position and id in range: what TensorColumns reads unchecked. */
function tableSound(t: TensorTable, x: TableIndex): boolean {
  const n = t.count;
  for (const a of [t.keyEnds, t.dtype, t.ndim, t.file, t.offset, t.length, x.dimStart]) if (a.length !== n) return false;
  let end = 0, dims = 0;
  for (let i = 0; i < n; i++) {
    if (t.keyEnds[i] < end || t.dtype[i] >= t.dtypes.length || t.file[i] < -1 || t.file[i] >= t.files.length || x.dimStart[i] !== dims) return false;
    end = t.keyEnds[i];
    dims += t.ndim[i];
  }
  if (end !== t.keys.length || dims !== t.dims.length) return false;
  if (!probeEnds(x.slots)) return false;
  for (let i = 0; i < x.shadowed.length; i++) if (x.shadowed[i] < 0 || x.shadowed[i] >= n) return false;
  return true;
}

/** Node arrays as long as the node count; parents before children and siblings in order, so every link leads forward. */
function trieSound(t: TrieData, keys: number): boolean {
  const n = t.nodes, segs = t.segs.length;
  for (const a of [t.seg, t.parent, t.first, t.next, t.keyAt]) if (a.length !== n) return false;
  if (t.parent[0] !== -1) return false;
  for (let c = 0; c < n; c++) {
    if ((c > 0 && (t.parent[c] < 0 || t.parent[c] >= c)) || t.seg[c] < -1 || t.seg[c] >= segs) return false;
    if ((t.first[c] !== -1 && (t.first[c] <= c || t.first[c] >= n)) || (t.next[c] !== -1 && (t.next[c] <= c || t.next[c] >= n))) return false;
    if (t.keyAt[c] < -1 || t.keyAt[c] >= keys) return false;
  }
  return probeEnds(t.segSlots) && probeEnds(t.childSlots);
}

/**
 * An open-addressing table a probe can use: a power of two long, with an empty slot somewhere, so every
 * probe stops. What a slot names is not checked here: a lookup compares the key or segment it finds, and
 * an id out of range compares unequal (a typed array read past its end is undefined), so it probes on.
 */
function probeEnds(slots: Int32Array): boolean {
  const size = slots.length;
  return size > 0 && (size & (size - 1)) === 0 && slots.includes(0);
}
