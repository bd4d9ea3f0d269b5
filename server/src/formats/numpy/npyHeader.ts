/**
 * The header of a NumPy `.npy` array (numpy/lib/format.py): `\x93NUMPY`, a major and minor version, a
 * little-endian header length (u16 in 1.0, u32 in 2.0 and 3.0), then a Python dict literal
 * `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`. The literal is parsed here by a tiny
 * grammar of its own — strings, booleans, integers, tuples, lists — never evaluated.
 */

export const NPY_MAGIC = Buffer.from('\x93NUMPY', 'latin1');
/** numpy's own reader refuses headers longer than this unless told otherwise (`max_header_size`, numpy ≥ 1.24). */
export const NPY_MAX_HEADER = 10_000;

export interface NpyHeader {
  /** Bytes before the data: magic, version, length field and the dict. */
  dataOffset: number;
  /** safetensors' dtype name, or undefined for one it has none for (the descr is kept for the message). */
  dtype?: string;
  descr: string;
  bigEndian: boolean;
  fortran: boolean;
  shape: number[];
}

export type NpyParse = { header: NpyHeader } | { need: number } | { error: string };

/**
 * Parses the header at the start of `bytes`. `need` asks for at least that many bytes when the header
 * runs past what was given; `error` says what is wrong.
 */
export function parseNpyHeader(bytes: Buffer): NpyParse {
  if (bytes.length < 10) return { need: 10 };
  if (!bytes.subarray(0, 6).equals(NPY_MAGIC)) return { error: 'not a .npy array (no \\x93NUMPY magic)' };
  const major = bytes[6];
  if (major < 1 || major > 3) return { error: `.npy format version ${major}.${bytes[7]} is not one numpy writes (1.0, 2.0, 3.0)` };
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) return { need: 8 + lengthBytes };
  const length = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  if (length > NPY_MAX_HEADER) return { error: `.npy header of ${length} bytes is over numpy's ${NPY_MAX_HEADER}-byte limit` };
  const dataOffset = 8 + lengthBytes + length;
  if (bytes.length < dataOffset) return { need: dataOffset };
  // 3.0 allows UTF-8 in the dict (structured field names); 1.0 and 2.0 are latin-1.
  const text = bytes.toString(major === 3 ? 'utf8' : 'latin1', 8 + lengthBytes, dataOffset);
  let dict: unknown;
  try {
    dict = new LiteralParser(text).document();
  } catch (e) {
    return { error: `.npy header is not the dict numpy writes: ${(e as Error).message}` };
  }
  if (!isDict(dict)) return { error: '.npy header is not a dict' };
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof fortran !== 'boolean') return { error: '.npy header has no boolean `fortran_order`' };
  if (!Array.isArray(shape) || !shape.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    return { error: '.npy header has no `shape` tuple of non-negative integers' };
  }
  if (shape.length > 64) return { error: `.npy shape has ${shape.length} dimensions (numpy allows 64)` };
  if (typeof descr !== 'string') return { error: '.npy holds a structured array (its `descr` is a list of fields): not a tensor' };
  const d = dtypeOf(descr);
  return { header: { dataOffset, descr, dtype: d?.dtype, bigEndian: d?.bigEndian ?? false, fortran, shape: shape as number[] } };
}

const KINDS: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  b1: 'BOOL', i1: 'I8', u1: 'U8', i2: 'I16', u2: 'U16', i4: 'I32', u4: 'U32', i8: 'I64', u8: 'U64',
  f2: 'F16', f4: 'F32', f8: 'F64', c8: 'C64', c16: 'C128',
});

/** `<f4` → F32. `=` is the writer's native order: numpy writes `<`/`>`/`|`, so `=` is taken as little-endian. */
function dtypeOf(descr: string): { dtype: string; bigEndian: boolean } | undefined {
  const m = /^([<>|=]?)([a-zA-Z]\d+)$/.exec(descr);
  if (!m) return undefined;
  const dtype = KINDS[m[2]];
  return dtype ? { dtype, bigEndian: m[1] === '>' && m[2] !== 'b1' && !/^[iu]1$/.test(m[2]) } : undefined;
}

function isDict(v: unknown): v is Map<string, unknown> {
  return v instanceof Map;
}

/** Python literals as numpy's header writes them (repr of a dict of str, bool, int and tuples). */
class LiteralParser {
  private i = 0;
  private depth = 0;
  constructor(private readonly s: string) {}

  document(): unknown {
    const v = this.value();
    this.space();
    if (this.i !== this.s.length) throw new Error(`unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 10))}`);
    return v;
  }

  private space(): void {
    while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++;
  }

  private value(): unknown {
    this.space();
    const c = this.s[this.i];
    if (c === '{') return this.nested(() => this.dict());
    if (c === '(' || c === '[') return this.nested(() => this.sequence(c === '(' ? ')' : ']'));
    if (c === "'" || c === '"') return this.string(c);
    const word = /^(True|False|None|-?\d+L?)/.exec(this.s.slice(this.i, this.i + 32));
    if (!word) throw new Error(`unexpected ${JSON.stringify(this.s.slice(this.i, this.i + 10))}`);
    this.i += word[0].length;
    if (word[0] === 'True') return true;
    if (word[0] === 'False') return false;
    if (word[0] === 'None') return null;
    return Number(word[0].replace(/L$/, ''));
  }

  /** Headers are at most 10 kB, but a deep `((((…` would still recurse: capped. */
  private nested<T>(fn: () => T): T {
    if (++this.depth > 32) throw new Error('nested too deeply');
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private dict(): Map<string, unknown> {
    const out = new Map<string, unknown>();
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === '}') { this.i++; return out; }
      const key = this.value();
      if (typeof key !== 'string') throw new Error('a dict key that is not a string');
      this.space();
      if (this.s[this.i++] !== ':') throw new Error('expected `:`');
      if (out.has(key)) throw new Error(`the key \`${key}\` twice`);
      out.set(key, this.value());
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== '}') throw new Error('expected `,` or `}`');
    }
  }

  private sequence(close: string): unknown[] {
    const out: unknown[] = [];
    this.i++;
    for (;;) {
      this.space();
      if (this.s[this.i] === close) { this.i++; return out; }
      out.push(this.value());
      this.space();
      if (this.s[this.i] === ',') this.i++;
      else if (this.s[this.i] !== close) throw new Error(`expected \`,\` or \`${close}\``);
    }
  }

  private string(quote: string): string {
    const end = this.s.indexOf(quote, this.i + 1);
    if (end < 0) throw new Error('unterminated string');
    const text = this.s.slice(this.i + 1, end);
    // numpy's keys and dtype strings carry no escapes; a backslash would need Python's escape rules.
    if (text.includes('\\')) throw new Error('a string with escapes');
    this.i = end + 1;
    return text;
  }
}
