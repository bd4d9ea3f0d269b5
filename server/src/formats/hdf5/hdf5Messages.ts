/**
 * The HDF5 object header messages a listing needs (HDF5 File Format Specification, version 3, §IV.A.2):
 * dataspace (0x0001: the shape), datatype (0x0003: the dtype), data layout (0x0008: where a contiguous
 * dataset's bytes are), symbol table (0x0011: an old-style group), link (0x0006) and link info (0x0002:
 * a new-style group's links), continuation (0x0010: more messages elsewhere). Each parse checks its
 * lengths against the message it is in.
 */

export interface Sizes { offset: number; length: number }

export class MessageReader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly sizes: Sizes, private readonly fail: (why: string) => Error) {}

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw this.fail(`a message field runs past its message (${n} bytes at ${this.pos} of ${this.buf.length})`);
  }

  u8(): number { this.need(1); return this.buf[this.pos++]; }
  u16(): number { this.need(2); const v = this.buf.readUInt16LE(this.pos); this.pos += 2; return v; }
  u32(): number { this.need(4); const v = this.buf.readUInt32LE(this.pos); this.pos += 4; return v; }

  /** An unsigned little-endian integer of `n` bytes; all-ones ("undefined address") is -1, beyond 2^53 refused. */
  uint(n: number): number {
    this.need(n);
    let v = 0, scale = 1, ones = true;
    for (let i = 0; i < n; i++) {
      const b = this.buf[this.pos + i];
      if (b !== 0xff) ones = false;
      v += b * scale;
      scale *= 256;
    }
    this.pos += n;
    if (ones) return -1;
    if (!Number.isSafeInteger(v)) throw this.fail(`a ${n}-byte value beyond 2^53`);
    return v;
  }

  addr(): number { return this.uint(this.sizes.offset); }
  len(): number { return this.uint(this.sizes.length); }
  skip(n: number): void { this.need(n); this.pos += n; }
}

/** Dataspace: the dataset's dimensions (a scalar has none; a null dataspace has no data). */
export function parseDataspace(m: MessageReader): number[] | undefined {
  const version = m.u8();
  const rank = m.u8();
  m.u8(); // flags: whether maximum dimensions follow (they come after the current ones)
  if (rank > 32) throw new RangeError(`a dataspace of ${rank} dimensions (HDF5 allows 32)`);
  let type: number;
  if (version === 1) { m.skip(5); type = rank === 0 ? 0 : 1; }
  else if (version === 2) type = m.u8();
  else throw new RangeError(`dataspace message version ${version}`);
  if (type === 2) return undefined;
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) {
    const d = m.len();
    if (d < 0) throw new RangeError('an unlimited current dimension');
    dims.push(d);
  }
  return dims;
}

/** Datatype: safetensors' name for the numeric types h5py writes, a description otherwise. */
export function parseDatatype(m: MessageReader): { dtype: string; size: number; bigEndian: boolean } {
  const classVersion = m.u8();
  const cls = classVersion & 0x0f;
  const bits0 = m.u8();
  m.skip(2);
  const size = m.u32();
  const bigEndian = (bits0 & 1) === 1;
  if (cls === 0) {
    const signed = (bits0 & 0x08) !== 0;
    const name = { 1: 'I8', 2: 'I16', 4: 'I32', 8: 'I64' }[size];
    return { dtype: name ? (signed ? name : name.replace('I', 'U')) : `int${size * 8}`, size, bigEndian };
  }
  if (cls === 1) {
    m.skip(4); // bit offset, precision
    m.skip(2); // exponent location, size
    m.u8(); // mantissa location
    const mantissa = m.u8();
    const name = size === 2 ? (mantissa === 7 ? 'BF16' : 'F16') : size === 4 ? 'F32' : size === 8 ? 'F64' : undefined;
    return { dtype: name ?? `float${size * 8}`, size, bigEndian };
  }
  // h5py stores numpy bools as an enum of int8 {FALSE: 0, TRUE: 1}.
  if (cls === 8 && size === 1) return { dtype: 'BOOL', size, bigEndian: false };
  const names = ['integer', 'float', 'time', 'string', 'bitfield', 'opaque', 'compound', 'reference', 'enum', 'vlen', 'array'];
  return { dtype: `hdf5-${names[cls] ?? `class${cls}`}`, size, bigEndian };
}

/** Data layout: a contiguous dataset's address and size (version 3+; h5py's default). */
export function parseLayout(m: MessageReader): { contiguous?: { address: number; size: number }; kind: string } {
  const version = m.u8();
  if (version < 3) return { kind: `layout version ${version}` };
  const cls = m.u8();
  if (cls === 1) {
    const address = m.addr();
    const size = m.len();
    return address < 0 ? { kind: 'never written' } : { kind: 'contiguous', contiguous: { address, size } };
  }
  return { kind: cls === 0 ? 'compact' : cls === 2 ? 'chunked' : cls === 3 ? 'virtual' : `layout class ${cls}` };
}

/** Link message: a hard link's name and the object header it points to (soft and external links: no address). */
export function parseLink(m: MessageReader): { name: string; address?: number } {
  const version = m.u8();
  if (version !== 1) throw new RangeError(`link message version ${version}`);
  const flags = m.u8();
  const type = flags & 0x08 ? m.u8() : 0;
  if (flags & 0x04) m.skip(8);
  if (flags & 0x10) m.u8();
  const nameLength = m.uint(1 << (flags & 0x03));
  m.need(nameLength);
  const name = m.buf.toString('utf8', m.pos, m.pos + nameLength);
  m.pos += nameLength;
  return type === 0 ? { name, address: m.addr() } : { name };
}
