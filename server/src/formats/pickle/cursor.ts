/**
 * A forward-reading cursor over one byte range of a file, read through windows of up to 1 MiB (a range
 * that fits in one is read whole at once). Pickles of Paddle checkpoints carry every tensor inline, so
 * big payloads are skipped by moving the position (never read) and small fields are served from the
 * current window without a file read each.
 */
import { unreadable } from '../readerError';

/** What the cursor needs from a file: `ByteSource` fits, and so does `BufferSource` for bytes in memory. */
export interface RandomAccess {
  readonly displayName: string;
  readonly size: number;
  read(offset: number, length: number, what?: string): Promise<Buffer>;
}

/** Bytes already in memory (a deflated zip entry, a test), served like a file. */
export class BufferSource implements RandomAccess {
  constructor(readonly displayName: string, private readonly data: Buffer) {}
  get size(): number {
    return this.data.length;
  }
  async read(offset: number, length: number, what = 'data'): Promise<Buffer> {
    if (offset < 0 || length < 0 || offset + length > this.data.length) {
      throw unreadable(this.displayName, `${what} (${length} bytes at byte ${offset}) runs past the end of the data (${this.data.length} bytes): truncated?`);
    }
    return this.data.subarray(offset, offset + length);
  }
}

const WINDOW = 1 << 20;
const MIN_WINDOW = 1 << 14;
const EMPTY = Buffer.alloc(0);

export class Cursor {
  pos: number;
  private buf: Buffer = EMPTY;
  private bufStart = 0;
  private next = MIN_WINDOW / 2;

  constructor(readonly src: RandomAccess, start: number, readonly end: number, private readonly window = WINDOW) {
    this.pos = start;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** True when the next `n` bytes (or all that is left, if fewer) are in the window. */
  has(n: number): boolean {
    const want = Math.min(this.pos + n, this.end);
    return this.pos >= this.bufStart && want <= this.bufStart + this.buf.length;
  }

  /**
   * Loads a window starting at the position, holding at least `n` bytes unless the range ends first.
   * Windows start small after a skip (the next tensor's opcodes are a few hundred bytes before its
   * payload) and double while reading stays sequential, so skipping never drags in what it skipped.
   */
  async fill(n: number): Promise<void> {
    const sequential = this.pos === this.bufStart + this.buf.length;
    this.next = sequential ? Math.min(this.next * 2, this.window) : MIN_WINDOW;
    // A pickle no longer than one window (a torch data.pkl, a small .pdparams) comes in one read, not a few growing ones.
    const whole = this.buf === EMPTY && this.end - this.pos <= this.window;
    const len = whole ? this.end - this.pos : Math.min(Math.max(n, this.next), this.end - this.pos);
    if (len <= 0) return;
    this.buf = await this.src.read(this.pos, len, 'pickle data');
    this.bufStart = this.pos;
  }

  /** Fails unless `n` more bytes exist before the end of the pickle's range. */
  check(n: number, what: string): void {
    if (n > this.end - this.pos) {
      throw unreadable(this.src.displayName, `pickle data ends early: ${what} needs ${n} bytes but only ${this.end - this.pos} remain (truncated?)`, this.pos);
    }
  }

  // Fixed-width reads: callers have made the bytes resident with has()/fill() first.
  private at(n: number, what: string): number {
    this.check(n, what);
    if (!this.has(n)) throw new Error('cursor: fixed read outside the window');
    const i = this.pos - this.bufStart;
    this.pos += n;
    return i;
  }
  u8(what = 'opcode argument'): number {
    return this.buf[this.at(1, what)];
  }
  u16(what = 'opcode argument'): number {
    return this.buf.readUInt16LE(this.at(2, what));
  }
  i32(what = 'opcode argument'): number {
    return this.buf.readInt32LE(this.at(4, what));
  }
  u32(what = 'opcode argument'): number {
    return this.buf.readUInt32LE(this.at(4, what));
  }
  /** A u64 length; anything beyond 2^53 cannot fit in any file, so it is reported as larger than the rest. */
  u64(what = 'opcode argument'): number {
    const v = this.buf.readBigUInt64LE(this.at(8, what));
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }
  f64be(what = 'opcode argument'): number {
    return this.buf.readDoubleBE(this.at(8, what));
  }

  /** Copies `n` bytes out (small payloads only: callers decide what is small). */
  async bytes(n: number, what: string): Promise<Buffer> {
    this.check(n, what);
    if (n <= this.window) {
      if (!this.has(n)) await this.fill(n);
      const i = this.pos - this.bufStart;
      this.pos += n;
      return Buffer.from(this.buf.subarray(i, i + n));
    }
    const out = await this.src.read(this.pos, n, what);
    this.pos += n;
    return out;
  }

  /** Moves past `n` bytes without reading them. */
  skip(n: number, what: string): void {
    this.check(n, what);
    this.pos += n;
  }

  /** Reads up to and excluding the next newline (protocol-0 text arguments), at most `max` bytes. */
  async line(max: number, what: string): Promise<Buffer> {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      if (this.pos >= this.end) {
        throw unreadable(this.src.displayName, `pickle data ends early: ${what} has no terminating newline (truncated?)`, this.pos);
      }
      if (!this.has(1)) await this.fill(1);
      const i = this.pos - this.bufStart;
      const nl = this.buf.indexOf(0x0a, i);
      const stop = nl >= 0 ? nl : this.buf.length;
      total += stop - i;
      if (total > max) throw unreadable(this.src.displayName, `${what} is longer than ${max} bytes: not a pickle this reader accepts`, this.pos);
      parts.push(Buffer.from(this.buf.subarray(i, stop)));
      this.pos += stop - i;
      if (nl >= 0) {
        this.pos += 1;
        return parts.length === 1 ? parts[0] : Buffer.concat(parts);
      }
    }
  }
}
