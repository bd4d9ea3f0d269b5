/**
 * The LevelDB table format TensorFlow's checkpoint `.index` is written in (xla/tsl/lib/io/format.h,
 * table_builder.cc): a 48-byte footer at the end — the metaindex and index block handles (varint64
 * offset and size each, padded to 40 bytes) and the magic 0xdb4775248b80fb57 — and blocks of
 * prefix-compressed entries (shared, non-shared and value lengths as varint32, the key's new bytes, the
 * value), ending in u32 restart offsets and their u32 count, each block followed by a 5-byte trailer
 * (compression type, masked CRC32C). The index block maps each data block's last key to its handle.
 * TensorFlow writes bundle indexes uncompressed (type 0); snappy blocks (type 1) are refused by name.
 */
import type { ByteSource } from '../byteSource';
import { unreadable } from '../readerError';

const FOOTER = 48;
const MAGIC = 0xdb4775248b80fb57n;
const TRAILER = 5;
/**
 * Keys are prefix-compressed: a long shared prefix repeated by many 3-byte entries would expand to far
 * more than the file. Variable names are short; the expanded keys of one table stay under this.
 */
const MAX_KEY = 64 * 1024;
const MAX_KEY_BYTES = 64 * 1024 * 1024;

export interface TableEntry { key: Buffer; value: Buffer }

interface Handle { offset: number; size: number }

/** Every entry of the table, in order. Blocks are metadata (the tensor bytes live in the data shards). */
export async function readTable(src: ByteSource): Promise<TableEntry[]> {
  const name = src.displayName;
  if (src.size < FOOTER) throw unreadable(name, `${src.size} bytes: too short for a TensorFlow checkpoint index (a table ends in a ${FOOTER}-byte footer)`);
  const footer = await src.read(src.size - FOOTER, FOOTER, 'the table footer');
  if (footer.readBigUInt64LE(40) !== MAGIC) throw unreadable(name, 'no table magic number at the end: not a TensorFlow checkpoint index (or truncated)', src.size - 8);
  const r = { buf: footer, pos: 0 };
  readHandle(name, r, src.size - FOOTER); // the metaindex: empty in what TensorFlow writes
  const index = readHandle(name, r, src.size - FOOTER);
  const out: TableEntry[] = [];
  const budget = { keyBytes: 0 };
  let last = -1;
  for (const entry of await readBlock(src, index, 'the index block', budget)) {
    const h = readHandle(name, { buf: entry.value, pos: 0 }, index.offset);
    // Data blocks come one after another before the index: one out of order or overlapping is a lying handle.
    if (h.offset <= last) throw unreadable(name, `the index names data blocks out of order (a block at byte ${h.offset} after one at ${last})`, index.offset);
    last = h.offset;
    for (const e of await readBlock(src, h, 'a data block', budget)) out.push(e);
  }
  return out;
}

function readHandle(name: string, r: { buf: Buffer; pos: number }, limit: number): Handle {
  const offset = varint(name, r);
  const size = varint(name, r);
  if (offset + size + TRAILER > limit) throw unreadable(name, `a block handle (${size} bytes at byte ${offset}) points past the blocks' end (byte ${limit})`);
  return { offset, size };
}

async function readBlock(src: ByteSource, h: Handle, what: string, budget: { keyBytes: number }): Promise<TableEntry[]> {
  const name = src.displayName;
  const bytes = await src.read(h.offset, h.size + TRAILER, what);
  const type = bytes[h.size];
  if (type === 1) throw unreadable(name, `${what} is snappy-compressed; TensorFlow writes checkpoint indexes uncompressed`, h.offset);
  if (type !== 0) throw unreadable(name, `${what} has compression type ${type}, not one the table format defines`, h.offset);
  const block = bytes.subarray(0, h.size);
  if (block.length < 4) throw unreadable(name, `${what} of ${block.length} bytes has no restart count`, h.offset);
  const restarts = block.readUInt32LE(block.length - 4);
  const end = block.length - 4 - restarts * 4;
  if (end < 0) throw unreadable(name, `${what} claims ${restarts} restart points, more than its ${block.length} bytes hold`, h.offset);
  const out: TableEntry[] = [];
  const r = { buf: block, pos: 0 };
  let prev = Buffer.alloc(0);
  while (r.pos < end) {
    const shared = varint(name, r);
    const fresh = varint(name, r);
    const valueLength = varint(name, r);
    if (shared > prev.length || r.pos + fresh + valueLength > end) throw unreadable(name, `an entry in ${what} runs past the block (or shares more key bytes than the previous key has)`, h.offset + r.pos);
    if (shared + fresh > MAX_KEY) throw unreadable(name, `a key of ${shared + fresh} bytes in ${what} (variable names are short; at most ${MAX_KEY} taken)`, h.offset + r.pos);
    budget.keyBytes += shared + fresh;
    if (budget.keyBytes > MAX_KEY_BYTES) throw unreadable(name, `the table's keys expand to more than ${MAX_KEY_BYTES} bytes: not a checkpoint index`, h.offset + r.pos);
    const key = Buffer.concat([prev.subarray(0, shared), block.subarray(r.pos, r.pos + fresh)]);
    r.pos += fresh;
    out.push({ key, value: block.subarray(r.pos, r.pos + valueLength) });
    r.pos += valueLength;
    prev = key;
  }
  return out;
}

/** A varint of at most 64 bits (exact below 2^53, which every offset in a real file is). */
export function varint(name: string, r: { buf: Buffer; pos: number }): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (r.pos >= r.buf.length) throw unreadable(name, 'a varint runs past its block');
    const b = r.buf[r.pos++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return value;
    scale *= 128;
  }
  throw unreadable(name, 'a varint longer than 10 bytes');
}
