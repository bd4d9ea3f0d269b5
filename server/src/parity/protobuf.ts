/**
 * Protobuf wire format over a model held in memory, both ways: split a message into its fields (byte
 * ranges of the original buffer) and encode new fields. The parity runner edits ONNX models by keeping
 * most fields' bytes verbatim and re-encoding only what changes, so no full ONNX schema is needed.
 */
import { FIXED32, FIXED64, LEN, VARINT } from '../formats/protobufWire';

// The wire types are the reader's (formats/protobufWire.ts); the editor modules import them from here.
export { FIXED32, FIXED64, LEN, VARINT };

export interface PbField {
  field: number;
  wire: number;
  /** Offset of the tag: [tagStart, end) is the whole field, copied verbatim when kept. */
  tagStart: number;
  /** Payload: the bytes after the length (LEN) or the value bytes. */
  start: number;
  end: number;
  /** VARINT: the value read as int64 (exact to 2^53). */
  value: number;
}

export class ProtobufError extends Error {}

function readVarint(buf: Uint8Array, pos: number, end: number): [number, number] {
  let value = 0;
  let scale = 1;
  const start = pos;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new ProtobufError(`varint runs past the end of its message at byte ${start}`);
    const b = buf[pos++];
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (i < 7) return [value, pos];
      // Ten-byte encodings are negative int64s (axis = -1): decode exactly.
      let v = 0n;
      for (let p = pos - 1; p >= start; p--) v = (v << 7n) | BigInt(buf[p] & 0x7f);
      return [Number(BigInt.asIntN(64, v)), pos];
    }
    scale *= 128;
  }
  throw new ProtobufError(`varint longer than 10 bytes at byte ${start}`);
}

/** The fields of the message in [start, end), in file order. */
export function fields(buf: Uint8Array, start = 0, end = buf.length): PbField[] {
  const out: PbField[] = [];
  let pos = start;
  while (pos < end) {
    const tagStart = pos;
    const [tag, p1] = readVarint(buf, pos, end);
    pos = p1;
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw new ProtobufError(`field number 0 at byte ${tagStart}`);
    switch (wire) {
      case VARINT: {
        const [value, p2] = readVarint(buf, pos, end);
        out.push({ field, wire, tagStart, start: pos, end: p2, value });
        pos = p2;
        break;
      }
      case FIXED64: case FIXED32: {
        const n = wire === FIXED64 ? 8 : 4;
        if (pos + n > end) throw new ProtobufError(`field ${field} runs past the end of its message at byte ${tagStart}`);
        out.push({ field, wire, tagStart, start: pos, end: pos + n, value: 0 });
        pos += n;
        break;
      }
      case LEN: {
        const [len, p2] = readVarint(buf, pos, end);
        if (len < 0 || p2 + len > end) throw new ProtobufError(`field ${field} claims ${len} bytes but only ${end - p2} remain at byte ${tagStart}`);
        out.push({ field, wire, tagStart, start: p2, end: p2 + len, value: len });
        pos = p2 + len;
        break;
      }
      default:
        throw new ProtobufError(`wire type ${wire} of field ${field} at byte ${tagStart} is not used by ONNX`);
    }
  }
  return out;
}

export function sub(buf: Uint8Array, f: PbField): PbField[] {
  if (f.wire !== LEN) throw new ProtobufError(`field ${f.field} at byte ${f.tagStart} is not a message`);
  return fields(buf, f.start, f.end);
}

export function str(buf: Uint8Array, f: PbField): string {
  return Buffer.from(buf.buffer, buf.byteOffset + f.start, f.end - f.start).toString('utf8');
}

export function whole(buf: Uint8Array, f: PbField): Uint8Array {
  return buf.subarray(f.tagStart, f.end);
}

export function payload(buf: Uint8Array, f: PbField): Uint8Array {
  return buf.subarray(f.start, f.end);
}

/** Repeated varints, packed or one per field. */
export function varints(buf: Uint8Array, f: PbField): number[] {
  if (f.wire === VARINT) return [f.value];
  const out: number[] = [];
  let pos = f.start;
  while (pos < f.end) {
    const [v, p] = readVarint(buf, pos, f.end);
    out.push(v);
    pos = p;
  }
  return out;
}

export function varintBytes(n: number): number[] {
  const out: number[] = [];
  if (n < 0) {
    let v = BigInt.asUintN(64, BigInt(n));
    for (let i = 0; i < 10; i++) {
      const b = Number(v & 0x7fn);
      v >>= 7n;
      out.push(v === 0n ? b : b | 0x80);
      if (v === 0n) break;
    }
    return out;
  }
  while (n >= 128) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

export function varintField(field: number, value: number): Buffer {
  return Buffer.from([...varintBytes(field * 8 + VARINT), ...varintBytes(value)]);
}

export function lenField(field: number, body: Uint8Array | Uint8Array[]): Buffer {
  const parts = Array.isArray(body) ? body : [body];
  const len = parts.reduce((a, p) => a + p.length, 0);
  return Buffer.concat([Buffer.from([...varintBytes(field * 8 + LEN), ...varintBytes(len)]), ...parts]);
}

export function stringField(field: number, s: string): Buffer {
  return lenField(field, Buffer.from(s, 'utf8'));
}

export function packedVarints(field: number, values: number[]): Buffer {
  return lenField(field, Buffer.from(values.flatMap((v) => varintBytes(v))));
}
