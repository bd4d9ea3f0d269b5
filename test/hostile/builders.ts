/**
 * Byte builders for the hostile corpus: pickle opcodes, a zip writer (stored and deflated entries,
 * as an attacker would lay them out), protobuf fields and GGUF records. Small and literal on purpose:
 * each case below says byte by byte what it is.
 */
import { deflateRawSync } from 'node:zlib';

// ---- pickle --------------------------------------------------------------------------------------

export const u8 = (n: number) => [n & 0xff];
export const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return [...b]; };
export const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return [...b]; };
export const ascii = (s: string) => [...Buffer.from(s, 'latin1')];

/** Opcodes by name (pickletools' spelling). */
export const P = {
  PROTO: (v: number) => [0x80, v],
  STOP: [0x2e],
  MARK: [0x28],
  EMPTY_DICT: [0x7d],
  EMPTY_LIST: [0x5d],
  EMPTY_TUPLE: [0x29],
  TUPLE: [0x74], TUPLE1: [0x85], TUPLE2: [0x86], TUPLE3: [0x87],
  SETITEM: [0x73], SETITEMS: [0x75], APPEND: [0x61], APPENDS: [0x65],
  MEMOIZE: [0x94],
  POP: [0x30],
  BINPUT: (i: number) => [0x71, i],
  LONG_BINPUT: (i: number) => [0x72, ...u32(i)],
  BINGET: (i: number) => [0x68, i],
  LONG_BINGET: (i: number) => [0x6a, ...u32(i)],
  BININT1: (n: number) => [0x4b, n],
  BININT: (n: number) => [0x4a, ...u32(n)],
  NONE: [0x4e],
  REDUCE: [0x52],
  BUILD: [0x62],
  NEWOBJ: [0x81],
  str: (s: string) => { const b = Buffer.from(s, 'utf8'); return [0x58, ...u32(b.length), ...b]; },
  global: (module: string, name: string) => [0x63, ...ascii(`${module}\n${name}\n`)],
  stackGlobal: (module: string, name: string) => [...P.str(module), ...P.str(name), 0x93],
};

/** A pickle: protocol 2 header, the body, STOP. */
export function pickle(...body: number[][]): Buffer {
  return Buffer.concat([Buffer.from(P.PROTO(2)), ...body.map((b) => Buffer.from(b)), Buffer.from(P.STOP)]);
}

/** A legacy (non-zip) torch.save file around a pickled object: magic, protocol, sys info, the object, an empty key list. */
export function legacyTorch(object: Buffer): Buffer {
  // Magic number 0x1950a86a20f9469cfc6c as a LONG1 of 10 bytes, then protocol 1001, then sys info {}.
  const long = Buffer.alloc(10);
  let v = 0x1950a86a20f9469cfc6cn;
  for (let i = 0; i < 10; i++) { long[i] = Number(v & 0xffn); v >>= 8n; }
  const head = Buffer.concat([
    Buffer.from([...P.PROTO(2), 0x8a, 10, ...long, ...P.STOP]),
    Buffer.from([...P.PROTO(2), 0x4d, ...[1001 & 0xff, 1001 >> 8], ...P.STOP]),
    Buffer.from([...P.PROTO(2), ...P.EMPTY_DICT, ...P.STOP]),
  ]);
  return Buffer.concat([head, object, pickle(P.EMPTY_LIST)]);
}

// ---- zip -----------------------------------------------------------------------------------------

export interface ZipEntry { name: string; data: Buffer; deflate?: boolean; /** Claimed inflated size, when it should lie. */ size?: number }

/** A zip archive, entries in order, no CRC checks relied on (0 is written where a reader must not care). */
export function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.name, 'utf8');
    const body = e.deflate ? deflateRawSync(e.data) : e.data;
    const size = e.size ?? e.data.length;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(e.deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc32(e.data), 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(e.deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc32(e.data), 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, body);
    centrals.push(central, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

let crcTable: Uint32Array | undefined;
function crc32(b: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) { let c = n; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; crcTable[n] = c >>> 0; }
  }
  let c = 0xffffffff;
  for (let i = 0; i < b.length; i++) c = crcTable[(c ^ b[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- protobuf ------------------------------------------------------------------------------------

export function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  while (v > 0x7fn) { out.push(Number(v & 0x7fn) | 0x80); v >>= 7n; }
  out.push(Number(v));
  return out;
}
/** A LEN field: tag, length, payload. */
export const len = (field: number, payload: number[] | Buffer) => [...varint((field << 3) | 2), ...varint(payload.length), ...payload];
/** A VARINT field. */
export const vint = (field: number, v: number | bigint) => [...varint(field << 3), ...varint(v)];
export const pstr = (field: number, s: string) => len(field, [...Buffer.from(s, 'utf8')]);

/** A ModelProto: ir_version 8, opset 17, the graph's fields. */
export function onnxModel(graph: number[]): Buffer {
  return Buffer.from([...vint(1, 8), ...len(8, [...pstr(1, ''), ...vint(2, 17)]), ...len(7, graph)]);
}
/** An initializer (TensorProto): float dims with raw bytes. */
export function onnxInit(name: string, dims: number[], raw: Buffer): number[] {
  return len(5, [...dims.flatMap((d) => vint(1, d)), ...vint(2, 1), ...pstr(8, name), ...len(9, raw)]);
}

// ---- GGUF ----------------------------------------------------------------------------------------

export function ggufString(s: string | Buffer): Buffer {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([Buffer.from(u64(BigInt(b.length))), b]);
}

/** A GGUF v3 header with the given counts; the caller appends key/values and tensor infos. */
export function ggufHeader(nTensors: bigint, nKv: bigint): Buffer {
  return Buffer.concat([Buffer.from('GGUF'), Buffer.from(u32(3)), Buffer.from(u64(nTensors)), Buffer.from(u64(nKv))]);
}

/** A tensor info: name, dims (GGML order), type, offset. */
export function ggufTensorInfo(name: string | Buffer, dims: bigint[], type: number, offset: bigint): Buffer {
  return Buffer.concat([ggufString(name), Buffer.from(u32(dims.length)), ...dims.map((d) => Buffer.from(u64(d))), Buffer.from(u32(type)), Buffer.from(u64(offset))]);
}
