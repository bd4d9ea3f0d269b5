/**
 * A forward-only walker of the protobuf wire format over a ByteSource. It holds a small window of the
 * file, so a ModelProto of gigabytes is read field by field and bulk fields (`raw_data`) are stepped
 * over by offset without ever being loaded. Every length is checked against the enclosing message
 * before it is trusted, and each failure names the byte offset.
 */
import type { ByteSource } from './byteSource';
import { ReaderError, unreadable } from './readerError';

export const VARINT = 0;
export const FIXED64 = 1;
export const LEN = 2;
export const FIXED32 = 5;

/** One field of a message. For LEN fields the cursor stands at `start` (the payload); otherwise past the value. */
export interface Field {
  field: number;
  wire: number;
  /** Offset of the tag, for error messages. */
  at: number;
  /** VARINT only: the value as int64 (exact to 2^53; ten-byte encodings are negative numbers). */
  value: number;
  /** Payload range (LEN), or the value bytes (VARINT, FIXED32, FIXED64). */
  start: number;
  end: number;
}

/** Enough for a tag (≤ 5 bytes) and a length or varint value (≤ 10 bytes). */
const HEADER_MAX = 15;
/** Small first reads keep a skip-heavy walk (big inline tensors) from reading much it then discards. */
const MIN_CHUNK = 16 * 1024;
/** Sequential walks (node lists) double their reads up to this. */
const MAX_CHUNK = 1024 * 1024;

export class WireCursor {
  pos = 0;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0;
  private chunk = MIN_CHUNK;

  constructor(private readonly src: ByteSource) {}

  malformed(reason: string, offset = this.pos): ReaderError {
    return unreadable(this.src.displayName, `malformed protobuf: ${reason}`, offset);
  }

  /** True when [pos, pos + n) is already in memory. */
  has(n: number): boolean {
    return this.pos >= this.bufStart && this.pos + n <= this.bufStart + this.buf.length;
  }

  /** Brings [pos, pos + n) into memory; callers have already checked n against the message end. */
  async need(n: number): Promise<void> {
    if (this.has(n)) return;
    const bufEnd = this.bufStart + this.buf.length;
    const sequential = this.pos >= this.bufStart && this.pos <= bufEnd;
    this.chunk = sequential ? Math.min(this.chunk * 2, MAX_CHUNK) : MIN_CHUNK;
    const len = Math.min(Math.max(n, this.chunk), this.src.size - this.pos);
    if (len < n) throw this.malformed(`${n} bytes needed but the file ends after ${this.src.size - this.pos}: truncated?`);
    this.buf = await this.src.read(this.pos, len, 'ONNX protobuf');
    this.bufStart = this.pos;
  }

  /**
   * Reads a varint that must end before `end`; the bytes must already be in memory. The result is the
   * int64 reading: exact up to 2^53, and negative for the ten-byte encodings of negative numbers.
   */
  varint(end: number): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= end) throw this.malformed('varint runs past the end of its message', start);
      const b = this.buf[this.pos - this.bufStart];
      this.pos++;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return i < 7 ? value : this.bigVarint(start);
      scale *= 128;
    }
    throw this.malformed('varint longer than 10 bytes', start);
  }

  /** Beyond 49 bits floating point loses the sign bit's exactness: decode again with BigInt. */
  private bigVarint(start: number): number {
    let v = 0n;
    for (let p = this.pos - 1; p >= start; p--) v = (v << 7n) | BigInt(this.buf[p - this.bufStart] & 0x7f);
    return Number(BigInt.asIntN(64, v));
  }

  /**
   * Next field of the message ending at `end`, or undefined at its end. Returns a value, not a promise,
   * when the header is already in memory: most fields are, and a promise per field is most of the cost.
   */
  next(end: number): Field | undefined | Promise<Field | undefined> {
    if (this.pos === end) return undefined;
    if (this.pos > end) throw this.malformed('field overruns its message');
    const want = Math.min(HEADER_MAX, end - this.pos);
    if (this.has(want)) return this.header(end);
    return this.need(want).then(() => this.header(end));
  }

  private header(end: number): Field {
    const at = this.pos;
    const tag = this.varint(end);
    if (tag < 0 || tag > 0xffffffff) throw this.malformed('field tag out of range', at);
    const field = Math.floor(tag / 8);
    const wire = tag % 8;
    if (field === 0) throw this.malformed('field number 0', at);
    switch (wire) {
      case VARINT: {
        const start = this.pos;
        const value = this.varint(end);
        return { field, wire, at, value, start, end: this.pos };
      }
      case FIXED64: case FIXED32: {
        const n = wire === FIXED64 ? 8 : 4;
        const start = this.pos;
        if (start + n > end) throw this.malformed(`fixed-width field ${field} runs past the end of its message`, at);
        this.pos += n;
        return { field, wire, at, value: 0, start, end: this.pos };
      }
      case LEN: {
        const len = this.varint(end);
        const start = this.pos;
        if (len < 0) throw this.malformed(`field ${field} has a negative length`, at);
        if (len > end - start) {
          throw this.malformed(`field ${field} claims ${len} bytes but only ${end - start} remain in its message${end === this.src.size ? ' (truncated file?)' : ''}`, at);
        }
        return { field, wire, at, value: 0, start, end: start + len };
      }
      default:
        throw this.malformed(`wire type ${wire} of field ${field} (groups and undefined wire types are not used by ONNX)`, at);
    }
  }

  /** The payload of a LEN field, loaded; `max` bounds what a name or small message may cost in memory. */
  bytes(f: Field, max: number, what: string): Buffer | Promise<Buffer> {
    const len = f.end - f.start;
    if (len > max) throw this.malformed(`${what} is ${len} bytes, more than the ${max} this reader accepts`, f.at);
    this.pos = f.start;
    if (this.has(len)) return this.take(len);
    return this.need(len).then(() => this.take(len));
  }

  string(f: Field, max: number, what: string): string | Promise<string> {
    const b = this.bytes(f, max, what);
    return Buffer.isBuffer(b) ? b.toString('utf8') : b.then((x: Buffer) => x.toString('utf8'));
  }

  private take(len: number): Buffer {
    const off = this.pos - this.bufStart;
    this.pos += len;
    return this.buf.subarray(off, off + len);
  }

  /** Calls `onValue` for each element of a repeated varint field, packed (LEN) or not (VARINT). */
  async varints(f: Field, onValue: (v: number) => void): Promise<void> {
    if (f.wire === VARINT) {
      onValue(f.value);
      return;
    }
    this.pos = f.start;
    while (this.pos < f.end) {
      if (!this.has(Math.min(10, f.end - this.pos))) await this.need(Math.min(10, f.end - this.pos));
      onValue(this.varint(f.end));
    }
  }
}
