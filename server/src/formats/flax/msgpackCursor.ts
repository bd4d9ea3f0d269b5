/**
 * A forward-only msgpack reader over a ByteSource through a small window: values are read one header at
 * a time and binary payloads are stepped over by offset, never loaded. Every length is checked against
 * the bytes left before it is trusted.
 */
import type { ByteSource } from '../byteSource';
import { unreadable } from '../readerError';

const WINDOW = 64 * 1024;

/** One msgpack value's header: containers give their count, bin/str/ext their payload's range. */
export type Head =
  | { kind: 'map' | 'array'; count: number }
  | { kind: 'str' | 'bin'; start: number; length: number }
  | { kind: 'ext'; type: number; start: number; length: number }
  | { kind: 'int'; value: number }
  | { kind: 'float' | 'nil' | 'bool' };

export class MsgpackCursor {
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly src: ByteSource, public pos: number, public end: number) {}

  displayName(): string {
    return this.src.displayName;
  }

  get left(): number {
    return this.end - this.pos;
  }

  private async need(n: number, what: string): Promise<Buffer> {
    if (n > this.left) throw unreadable(this.src.displayName, `${what} (${n} bytes at byte ${this.pos}) runs past the end of its value: truncated or corrupt`, this.pos);
    const at = this.pos - this.windowStart;
    if (at < 0 || at + n > this.window.length) {
      this.windowStart = this.pos;
      this.window = await this.src.read(this.pos, Math.min(Math.max(n, WINDOW), this.src.size - this.pos), what);
    }
    const off = this.pos - this.windowStart;
    this.pos += n;
    return this.window.subarray(off, off + n);
  }

  /** Reads a string payload (keys, dtype names) whose head was just read; long ones are refused. */
  async text(head: { start: number; length: number }, max: number, what: string): Promise<string> {
    if (head.length > max) throw unreadable(this.src.displayName, `${what} is ${head.length} bytes long (at most ${max} expected)`, head.start);
    return (await this.need(head.length, what)).toString('utf8');
  }

  skip(n: number): void {
    if (n > this.left) throw unreadable(this.src.displayName, `a payload of ${n} bytes at byte ${this.pos} runs past the end of its value: truncated or corrupt`, this.pos);
    this.pos += n;
  }

  async head(): Promise<Head> {
    const at = this.pos;
    const b = (await this.need(1, 'a msgpack value'))[0];
    if (b <= 0x7f) return { kind: 'int', value: b };
    if (b >= 0xe0) return { kind: 'int', value: b - 0x100 };
    if (b <= 0x8f) return this.container('map', b & 0x0f);
    if (b <= 0x9f) return this.container('array', b & 0x0f);
    if (b <= 0xbf) return this.payload('str', b & 0x1f);
    switch (b) {
      case 0xc0: return { kind: 'nil' };
      case 0xc2: case 0xc3: return { kind: 'bool' };
      case 0xc4: return this.payload('bin', await this.uint(1));
      case 0xc5: return this.payload('bin', await this.uint(2));
      case 0xc6: return this.payload('bin', await this.uint(4));
      case 0xc7: return this.ext(await this.uint(1));
      case 0xc8: return this.ext(await this.uint(2));
      case 0xc9: return this.ext(await this.uint(4));
      case 0xca: this.skip(4); return { kind: 'float' };
      case 0xcb: this.skip(8); return { kind: 'float' };
      case 0xcc: return { kind: 'int', value: await this.uint(1) };
      case 0xcd: return { kind: 'int', value: await this.uint(2) };
      case 0xce: return { kind: 'int', value: await this.uint(4) };
      case 0xcf: return { kind: 'int', value: Number((await this.need(8, 'a uint64')).readBigUInt64BE(0)) };
      case 0xd0: return { kind: 'int', value: (await this.need(1, 'an int8')).readInt8(0) };
      case 0xd1: return { kind: 'int', value: (await this.need(2, 'an int16')).readInt16BE(0) };
      case 0xd2: return { kind: 'int', value: (await this.need(4, 'an int32')).readInt32BE(0) };
      case 0xd3: return { kind: 'int', value: Number((await this.need(8, 'an int64')).readBigInt64BE(0)) };
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return this.payload('str', await this.uint(1));
      case 0xda: return this.payload('str', await this.uint(2));
      case 0xdb: return this.payload('str', await this.uint(4));
      case 0xdc: return this.container('array', await this.uint(2));
      case 0xdd: return this.container('array', await this.uint(4));
      case 0xde: return this.container('map', await this.uint(2));
      case 0xdf: return this.container('map', await this.uint(4));
      default: throw unreadable(this.src.displayName, `byte 0x${b.toString(16)} starts no msgpack value`, at);
    }
  }

  private async uint(n: 1 | 2 | 4): Promise<number> {
    const b = await this.need(n, 'a msgpack length');
    return n === 1 ? b[0] : n === 2 ? b.readUInt16BE(0) : b.readUInt32BE(0);
  }

  /** Each entry takes at least one byte (a map's two): a count the bytes left cannot hold is a lie, refused before any loop. */
  private container(kind: 'map' | 'array', count: number): Head {
    if (count * (kind === 'map' ? 2 : 1) > this.left) {
      throw unreadable(this.src.displayName, `a msgpack ${kind} of ${count} entries at byte ${this.pos} cannot fit the ${this.left} bytes left`, this.pos);
    }
    return { kind, count };
  }

  private payload(kind: 'str' | 'bin', length: number): Head {
    if (length > this.left) throw unreadable(this.src.displayName, `a msgpack ${kind} of ${length} bytes at byte ${this.pos} runs past the end: truncated or corrupt`, this.pos);
    return { kind, start: this.pos, length };
  }

  private async ext(length: number): Promise<Head> {
    const type = (await this.need(1, 'a msgpack ext type')).readInt8(0);
    if (length > this.left) throw unreadable(this.src.displayName, `a msgpack ext of ${length} bytes at byte ${this.pos} runs past the end: truncated or corrupt`, this.pos);
    return { kind: 'ext', type, start: this.pos, length };
  }
}
