/**
 * Decoding tensorstore's OCDBT records (tensorstore/kvstore/ocdbt/index.rst, "Storage format"): the
 * manifest, the data file table and B+tree nodes. Pure functions over bytes already read; every count
 * and length is checked against the bytes that are there before it is trusted. Errors are thrown as
 * `OcdbtError` with a reason only: the caller knows which file, and names it.
 */
import { crc32c } from './crc32c';
import { zstdBounded } from './zstdBounded';

export class OcdbtError extends Error {}

export const MANIFEST_MAGIC = 0x0cdb3a2a;
export const BTREE_MAGIC = 0x0cdb20de;
/** tensorstore's own limit on a key (`kMaxKeyLength`) and on a data file path. */
const MAX_KEY_LENGTH = 65535;
const MAX_PATH_LENGTH = 65535;

export class Cursor {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw new OcdbtError(`${what} runs past the end of the record`);
      const b = this.buf[this.pos++];
      value += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (!Number.isSafeInteger(value)) throw new OcdbtError(`${what} is over 2^53`);
        return value;
      }
      scale *= 128;
    }
    throw new OcdbtError(`${what} is a varint longer than 10 bytes`);
  }

  /** A count of items each taking at least `minBytes`: more than the bytes left could hold is a lie. */
  count(what: string, minBytes = 1): number {
    const n = this.varint(what);
    if (n * minBytes > this.buf.length - this.pos) throw new OcdbtError(`${what} says ${n}, more than the ${this.buf.length - this.pos} bytes left could hold`);
    return n;
  }

  byte(what: string): number {
    if (this.pos >= this.buf.length) throw new OcdbtError(`${what} runs past the end of the record`);
    return this.buf[this.pos++];
  }

  bytes(n: number, what: string): Buffer {
    if (n > this.buf.length - this.pos) throw new OcdbtError(`${what} (${n} bytes) runs past the end of the record`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  column(n: number, what: string): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.varint(what));
    return out;
  }
}

/**
 * The outer header (magic, length, version, compression), the CRC-32C footer, and the body,
 * decompressed to at most `maxBody` bytes.
 */
export function openRecord(bytes: Buffer, magic: number, what: string, maxBody: number): Cursor {
  if (bytes.length < 4 + 8 + 2 + 4) throw new OcdbtError(`${what} is ${bytes.length} bytes, too short for its header`);
  const found = bytes.readUInt32BE(0);
  if (found !== magic) throw new OcdbtError(`${what} has magic 0x${found.toString(16).padStart(8, '0')}, not 0x${magic.toString(16).padStart(8, '0')}`);
  const length = Number(bytes.readBigUInt64LE(4));
  if (length !== bytes.length) throw new OcdbtError(`${what} says it is ${length} bytes, but ${bytes.length} are there`);
  const stored = bytes.readUInt32LE(bytes.length - 4);
  if (crc32c(bytes.subarray(0, bytes.length - 4)) !== stored) throw new OcdbtError(`${what} fails its CRC-32C checksum (corrupt or truncated)`);
  const head = new Cursor(bytes.subarray(0, bytes.length - 4));
  head.pos = 12;
  const version = head.varint('the format version');
  if (version !== 0) throw new OcdbtError(`${what} has format version ${version} (only 0 is defined)`);
  const compression = head.varint('the compression format');
  const body = bytes.subarray(head.pos, bytes.length - 4);
  if (compression === 0) return new Cursor(body);
  if (compression !== 1) throw new OcdbtError(`${what} has compression format ${compression} (0: none, 1: zstd)`);
  const out = zstdBounded(body, maxBody);
  if ('reason' in out) throw new OcdbtError(`${what}: ${out.reason}`);
  return new Cursor(out.bytes);
}

export interface DataFile { base: string; relative: string }

/** A data file table; each path is relative to `transitive` (the path the node was reached under). */
export function readDataFileTable(c: Cursor, transitive: string): DataFile[] {
  const n = c.count('the data file count', 3);
  const prefix = [0, ...c.column(n - 1 < 0 ? 0 : n - 1, 'a data file path prefix length')];
  const suffix = c.column(n, 'a data file path suffix length');
  const baseLength = c.column(n, 'a data file base path length');
  const files: DataFile[] = [];
  let prev = '';
  for (let i = 0; i < n; i++) {
    if (prefix[i] > prev.length) throw new OcdbtError(`data file ${i}: path prefix length ${prefix[i]} exceeds the previous path's ${prev.length}`);
    const path = prev.slice(0, prefix[i]) + c.bytes(suffix[i], `data file ${i}'s path`).toString('latin1');
    if (path.length + transitive.length > MAX_PATH_LENGTH) throw new OcdbtError(`data file ${i}: path longer than ${MAX_PATH_LENGTH} bytes`);
    if (baseLength[i] > path.length) throw new OcdbtError(`data file ${i}: base path length ${baseLength[i]} exceeds its path's ${path.length}`);
    files.push({ base: transitive + path.slice(0, baseLength[i]), relative: path.slice(baseLength[i]) });
    prev = path;
  }
  return files;
}

/** Where a record lies: a data file (its full path inside the database), an offset and a length. */
export interface Ref { file: DataFile; offset: number; length: number }

function fileAt(table: DataFile[], id: number): DataFile {
  if (id >= table.length) throw new OcdbtError(`data file id ${id} is outside the table of ${table.length}`);
  return table[id];
}

/** The manifest's latest B+tree root (undefined: an empty database), and the node size limit it configures. */
export function readManifest(c: Cursor): { root?: Ref & { height: number }; maxNodeBytes: number; numbered: boolean } {
  c.bytes(16, 'the database uuid');
  const kind = c.varint('the manifest kind');
  if (kind > 1) throw new OcdbtError(`unknown manifest kind ${kind}`);
  c.varint('max_inline_value_bytes');
  const maxNodeBytes = c.varint('max_decoded_node_bytes');
  c.byte('version_tree_arity_log2');
  const method = c.varint('the compression method');
  if (method === 1) c.bytes(4, 'the zstd level');
  else if (method !== 0) throw new OcdbtError(`unknown compression method ${method}`);
  if (kind === 1) return { maxNodeBytes, numbered: true };
  const table = readDataFileTable(c, '');
  const n = c.count('the number of versions', 10);
  if (n === 0) return { maxNodeBytes, numbered: false };
  const generations = c.column(n, 'a generation number');
  for (let i = 1; i < n; i++) if (generations[i] <= generations[i - 1]) throw new OcdbtError('generation numbers are not increasing');
  const heights = [...c.bytes(n, 'the root heights')];
  const ids = c.column(n, 'a data file id');
  const offsets = c.column(n, 'a data file offset');
  const lengths = c.column(n, 'a data file length');
  // The rest (statistics, commit times, older version nodes) says nothing about the latest keys.
  const last = n - 1;
  if (lengths[last] === 0) return { maxNodeBytes, numbered: false };
  return { root: { file: fileAt(table, ids[last]), offset: offsets[last], length: lengths[last], height: heights[last] }, maxNodeBytes, numbered: false };
}

export type LeafValue = { inline: Buffer } | { ref: Ref };
export interface LeafEntry { key: Buffer; value: LeafValue; length: number }
export interface Child { key: Buffer; subtreePrefix: Buffer; ref: Ref }
export type Node = { leaf: true; height: 0; entries: LeafEntry[] } | { leaf: false; height: number; children: Child[] };

/** A B+tree node's body; `transitive` is the base path of the data file it was read from. */
export function readNode(c: Cursor, transitive: string): Node {
  const height = c.byte('the node height');
  const table = readDataFileTable(c, transitive);
  const n = c.count('the entry count', 3);
  if (n === 0) throw new OcdbtError('a B+tree node with no entries');
  const prefix = [0, ...c.column(n - 1, 'a key prefix length')];
  const suffix = c.column(n, 'a key suffix length');
  const common = height > 0 ? c.column(n, 'a subtree common prefix length') : [];
  const keys: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const prev = keys[i - 1] ?? Buffer.alloc(0);
    if (prefix[i] > prev.length) throw new OcdbtError(`entry ${i}: key prefix length ${prefix[i]} exceeds the previous key's ${prev.length}`);
    if (prefix[i] + suffix[i] > MAX_KEY_LENGTH) throw new OcdbtError(`entry ${i}: key longer than ${MAX_KEY_LENGTH} bytes`);
    const key = Buffer.concat([prev.subarray(0, prefix[i]), c.bytes(suffix[i], `entry ${i}'s key`)]);
    if (i > 0 && Buffer.compare(prev, key) >= 0) throw new OcdbtError(`entry ${i}: keys out of order`);
    keys.push(key);
  }
  if (height > 0) {
    const ids = c.column(n, 'a child data file id');
    const offsets = c.column(n, 'a child offset');
    const lengths = c.column(n, 'a child length');
    return {
      leaf: false,
      height,
      children: keys.map((key, i) => {
        if (common[i] > key.length) throw new OcdbtError(`child ${i}: subtree common prefix length ${common[i]} exceeds its key's ${key.length}`);
        return { key, subtreePrefix: key.subarray(0, common[i]), ref: { file: fileAt(table, ids[i]), offset: offsets[i], length: lengths[i] } };
      }),
    };
  }
  const lengths = c.column(n, 'a value length');
  const kinds = [...c.bytes(n, 'the value kinds')];
  const indirect = kinds.flatMap((k, i) => {
    if (k > 1) throw new OcdbtError(`entry ${i}: value kind ${k} (0: inline, 1: out of line)`);
    return k === 1 ? [i] : [];
  });
  const ids = c.column(indirect.length, 'a value data file id');
  const offsets = c.column(indirect.length, 'a value offset');
  const refs = new Map(indirect.map((i, k) => [i, { file: fileAt(table, ids[k]), offset: offsets[k], length: lengths[i] }]));
  return {
    leaf: true,
    height: 0,
    entries: keys.map((key, i) => {
      const ref = refs.get(i);
      return { key, length: lengths[i], value: ref ? { ref } : { inline: c.bytes(lengths[i], `entry ${i}'s value`) } };
    }),
  };
}
