/**
 * A pickle written opcode by opcode, for the containers torch and Paddle load (`data.pkl`, `.pdparams`):
 * only what a state dict needs — globals, strings, ints, tuples, dicts, REDUCE/BUILD, persistent ids,
 * and raw bytes whose header is written before the data streams in. No memo: nothing is shared.
 */
export class PickleOut {
  private readonly parts: Buffer[] = [];

  constructor(readonly protocol: 2 | 3 | 4) {}

  private op(...bytes: number[]): this { this.parts.push(Buffer.from(bytes)); return this; }

  private raw(b: Buffer): this { this.parts.push(b); return this; }

  proto(): this { return this.op(0x80, this.protocol); }

  stop(): this { return this.op(0x2e); }

  mark(): this { return this.op(0x28); }

  emptyDict(): this { return this.op(0x7d); }

  emptyTuple(): this { return this.op(0x29); }

  setItems(): this { return this.op(0x75); }

  reduce(): this { return this.op(0x52); }

  build(): this { return this.op(0x62); }

  binPersId(): this { return this.op(0x51); }

  /** TUPLE1/2/3 for the last n items pushed, or TUPLE back to the last MARK (`n` undefined). */
  tuple(n?: number): this {
    if (n === 0) return this.emptyTuple();
    if (n === 1) return this.op(0x85);
    if (n === 2) return this.op(0x86);
    if (n === 3) return this.op(0x87);
    return this.op(0x74);
  }

  bool(v: boolean): this { return this.op(v ? 0x88 : 0x89); }

  none(): this { return this.op(0x4e); }

  int(n: number): this {
    if (Number.isInteger(n) && n >= 0 && n < 256) return this.op(0x4b, n);
    if (Number.isInteger(n) && n >= 0 && n < 65536) return this.op(0x4d, n & 0xff, n >> 8);
    if (Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31) { const b = Buffer.alloc(5); b[0] = 0x4a; b.writeInt32LE(n, 1); return this.raw(b); }
    // LONG1: little-endian two's complement, 8 bytes are plenty for any tensor size.
    const b = Buffer.alloc(10); b[0] = 0x8a; b[1] = 8; b.writeBigInt64LE(BigInt(n), 2);
    return this.raw(b);
  }

  str(s: string): this {
    const u = Buffer.from(s, 'utf8');
    if (this.protocol >= 4 && u.length < 256) return this.raw(Buffer.concat([Buffer.from([0x8c, u.length]), u]));
    const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(u.length, 1);
    return this.raw(Buffer.concat([h, u]));
  }

  /** `module.name`: GLOBAL (protocols 2–3) or two strings and STACK_GLOBAL (4). */
  global(module: string, name: string): this {
    if (this.protocol >= 4) return this.str(module).str(name).op(0x93);
    return this.raw(Buffer.from(`c${module}\n${name}\n`, 'latin1'));
  }

  /** Small bytes in full: raw (protocol 3+), or protocol 2's `_codecs.encode(text, 'latin1')`. */
  bytes(b: Buffer): this {
    if (this.protocol >= 3) return this.bytesHeader(b.length).raw(b);
    return this.latin1Header(Buffer.byteLength(b.toString('latin1'), 'utf8')).raw(Buffer.from(b.toString('latin1'), 'utf8')).latin1Close();
  }

  /** Protocol 2's bytes: `_codecs.encode(` and the header of the latin-1 text (`utf8Length` bytes of UTF-8) that follows. */
  latin1Header(utf8Length: number): this {
    const h = Buffer.alloc(5); h[0] = 0x58; h.writeUInt32LE(utf8Length, 1);
    return this.global('_codecs', 'encode').raw(h);
  }

  /** Closes `latin1Header`: `, 'latin1')`. */
  latin1Close(): this { return this.str('latin1').tuple(2).reduce(); }

  /** The opcode and length of `length` raw bytes that follow (SHORT_BINBYTES, BINBYTES, BINBYTES8). */
  bytesHeader(length: number): this {
    if (this.protocol < 3) throw new Error('raw bytes need pickle protocol 3 or later');
    if (length < 256) return this.op(0x43, length);
    if (length < 2 ** 32) { const h = Buffer.alloc(5); h[0] = 0x42; h.writeUInt32LE(length, 1); return this.raw(h); }
    if (this.protocol < 4) throw new Error('bytes over 4 GiB need pickle protocol 4');
    const h = Buffer.alloc(9); h[0] = 0x8e; h.writeBigUInt64LE(BigInt(length), 1);
    return this.raw(h);
  }

  /** What was written since the last take, as one buffer. */
  take(): Buffer {
    const b = Buffer.concat(this.parts);
    this.parts.length = 0;
    return b;
  }
}
