/**
 * A fast path for the safetensors JSON header: a byte scanner for the shape every writer produces
 * (`{"name":{"dtype":"F32","shape":[…],"data_offsets":[a,b]},…}`, optional `__metadata__` of plain
 * strings). JSON.parse of a 100,000-tensor header (~10 MB) costs ~250 ms here, mostly building one
 * object with 100k properties that we then walk once; scanning the bytes straight into entries is
 * several times faster. Anything outside that shape — escapes, extra fields, fractions, huge numbers,
 * all-digit names, duplicate names, invalid UTF-8 — returns `undefined`, and the caller parses with
 * JSON.parse as before, so every file gets the same result and the same error either way (a property
 * test checks this against JSON.parse on generated and mutated headers).
 */
import { setOwn } from './table';
import { DTYPE_SIZE, SUB_BYTE_BITS, TensorInfo } from './tensorInfo';
import { TensorTable } from './tensorTable';

export interface ScannedHeader {
  /**
   * The tensors in header order, not yet validated: `location.offset` is the header's begin offset
   * plus `base`, and `location.length` is end − begin (negative when the offsets are reversed).
   */
  tensors: TensorInfo[];
  /** With `table`: the same tensors as columns instead (`tensors` is empty), for callers that never need objects. */
  table?: TensorTable;
  /** `__metadata__` when present (an object of strings: anything else leaves for JSON.parse). */
  metadata?: Record<string, string>;
}

const QUOTE = 0x22, COMMA = 0x2c, COLON = 0x3a, LBRACE = 0x7b, RBRACE = 0x7d, LBRACKET = 0x5b, RBRACKET = 0x5d, BACKSLASH = 0x5c;
const DTYPE = 1, SHAPE = 2, OFFSETS = 3;
/** Common dtypes first: each tensor tries them in turn. */
const COMMON = ['F32', 'BF16', 'F16', 'I64', 'I32', 'U8', 'BOOL', 'F64'];
const DTYPE_QUOTED = [...COMMON, ...[...Object.keys(DTYPE_SIZE), ...Object.keys(SUB_BYTE_BITS)].filter((d) => !COMMON.includes(d))].map((name) => [`"${name}"`, name] as const);
// eslint-disable-next-line no-control-regex -- control characters are exactly what this looks for
const NOT_PLAIN = /[\\\x00-\x1f\x80-\xff]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Thrown inside the scanner to leave for the JSON.parse path; never escapes this module. */
class NotCanonical extends Error {}
const bail = new NotCanonical();

/**
 * `file` is the absolute path locations name; `base` is where the data buffer starts in it. `table`:
 * fill columns, not objects (no object per tensor; a shape of more than 255 dimensions leaves for JSON.parse).
 */
export function scanHeader(bytes: Uint8Array, file: string, base: number, table = false): ScannedHeader | undefined {
  try {
    return new Scanner(bytes, file, base, table ? new Columns() : undefined).header();
  } catch (e) {
    if (e === bail) return undefined;
    throw e;
  }
}

class Scanner {
  private i = 0;
  /**
   * The bytes as a one-byte string: charCodeAt and slice are JIT-inlined, where a Buffer.toString
   * call per name costs a native round trip (that alone was slower than JSON.parse).
   */
  private readonly s: string;
  private readonly n: number;
  private readonly scratch: number[] = [];
  /** The whole header is printable ASCII without backslashes (one regex pass, native speed). */
  private readonly plain: boolean;
  private readonly shapes = new Map<number, number[][]>();
  /** Every name so far, in order (the duplicate check compares against them). */
  private readonly names: string[] = [];
  constructor(private readonly bytes: Uint8Array, private readonly file: string, private readonly base: number, private readonly cols?: Columns) {
    this.s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    this.n = this.s.length;
    this.plain = !NOT_PLAIN.test(this.s);
  }

  header(): ScannedHeader {
    const tensors: TensorInfo[] = [];
    const seen = new KeySet(this.n);
    let metadata: Record<string, string> | undefined;
    this.expect(LBRACE);
    if (this.peek() === RBRACE) {
      this.i++;
    } else {
      for (;;) {
        const key = this.string();
        if (isArrayIndex(key)) throw bail;   // JSON.parse would move it first
        this.expect(COLON);
        if (key === '__metadata__') {
          if (metadata) throw bail;
          metadata = this.stringMap();
        } else {
          if (!seen.add(key, this.names)) throw bail;   // JSON.parse would overwrite it
          this.names.push(key);
          const t = this.entry(key);
          if (t) tensors.push(t);
        }
        if (this.sep(RBRACE)) break;
      }
    }
    this.ws();
    if (this.i !== this.n) throw bail;
    return this.cols ? { tensors, metadata, table: this.cols.table(this.names, this.file) } : { tensors, metadata };
  }

  /** The entry as an object, or (filling columns) undefined. */
  private entry(key: string): TensorInfo | undefined {
    let dtype: string | undefined, shape: number[] | undefined, ndim = -1, begin = -1, end = -1;
    this.expect(LBRACE);
    for (;;) {
      const field = this.field();
      this.expect(COLON);
      if (field === DTYPE && dtype === undefined) dtype = this.dtype();
      else if (field === SHAPE && ndim < 0) {
        ndim = this.counts();
        if (this.cols) this.cols.dims(this.scratch, ndim);
        else shape = this.shape(ndim);
      } else if (field === OFFSETS && begin < 0) {
        if (this.counts() !== 2) throw bail;
        [begin, end] = this.scratch;
      }
      else throw bail;
      if (this.sep(RBRACE)) break;
    }
    if (dtype === undefined || ndim < 0 || begin < 0) throw bail;
    if (this.cols) {
      this.cols.tensor(dtype, this.base + begin, end - begin);
      return undefined;
    }
    return { key, dtype, shape: shape!, location: { file: this.file, offset: this.base + begin, length: end - begin } };
  }

  /** Which of the three entry fields comes next, compared in place (no string made per field). */
  private field(): number {
    this.expect(QUOTE);
    const s = this.s, i = this.i;
    if (s.startsWith('dtype"', i)) { this.i += 6; return DTYPE; }
    if (s.startsWith('shape"', i)) { this.i += 6; return SHAPE; }
    if (s.startsWith('data_offsets"', i)) { this.i += 13; return OFFSETS; }
    throw bail;
  }

  /**
   * The shape just read, as one shared frozen array per distinct shape: a model repeats a handful of
   * shapes across all its layers, and two fewer allocations per tensor is a third less garbage.
   */
  private shape(k: number): number[] {
    const d = this.scratch;
    let h = k;
    for (let i = 0; i < k; i++) h = (Math.imul(h, 31) + d[i]) | 0;
    let bucket = this.shapes.get(h);
    if (bucket) {
      for (const s of bucket) {
        if (s.length !== k) continue;
        let same = true;
        for (let i = 0; i < k && same; i++) same = s[i] === d[i];
        if (same) return s;
      }
    } else {
      this.shapes.set(h, bucket = []);
    }
    const s = Object.freeze(d.slice(0, k)) as number[];
    bucket.push(s);
    return s;
  }

  /** The dtype as one shared string per name (a header repeats a handful of them 100k times). */
  private dtype(): string {
    this.ws();
    for (const [quoted, name] of DTYPE_QUOTED) {
      if (this.s.startsWith(quoted, this.i)) { this.i += quoted.length; return name; }
    }
    return this.string();
  }

  private stringMap(): Record<string, string> {
    const out: Record<string, string> = {};
    this.expect(LBRACE);
    if (this.peek() === RBRACE) { this.i++; return out; }
    for (;;) {
      const k = this.string();
      if (Object.prototype.hasOwnProperty.call(out, k) || isArrayIndex(k) || k === '__proto__') throw bail;
      this.expect(COLON);
      setOwn(out, k, this.string());
      if (this.sep(RBRACE)) return out;
    }
  }

  /**
   * `[n, n, …]` of non-negative integers below 2^53 (what the validator accepts; anything else bails),
   * read into a reused scratch array: a fresh `[]` grown by push reserves 17 slots, and at 100k
   * tensors that waste is most of the garbage collector's work.
   */
  private counts(): number {
    const out = this.scratch;
    let k = 0;
    this.expect(LBRACKET);
    if (this.peek() === RBRACKET) { this.i++; return 0; }
    for (;;) {
      this.ws();
      const s = this.s;
      const start = this.i;
      let n = 0;
      while (this.i < this.n) {
        const c = s.charCodeAt(this.i);
        if (c < 0x30 || c > 0x39) break;
        n = n * 10 + (c - 0x30);
        this.i++;
      }
      const len = this.i - start;
      if (len === 0 || len > 15 || (len > 1 && s.charCodeAt(start) === 0x30)) throw bail;
      out[k++] = n;
      if (this.sep(RBRACKET)) return k;
    }
  }

  /** A string without escapes or control characters; non-ASCII must be valid UTF-8. */
  private string(): string {
    this.expect(QUOTE);
    const s = this.s;
    const start = this.i;
    if (this.plain) {
      // No escape, control or non-ASCII byte anywhere: the closing quote is the next quote.
      const end = s.indexOf('"', start);
      if (end < 0) throw bail;
      this.i = end + 1;
      return s.slice(start, end);
    }
    let ascii = true;
    for (;;) {
      if (this.i >= this.n) throw bail;
      const c = s.charCodeAt(this.i);
      if (c === QUOTE) break;
      if (c === BACKSLASH || c < 0x20) throw bail;
      if (c >= 0x80) ascii = false;
      this.i++;
    }
    const end = this.i++;
    if (ascii) return s.slice(start, end);
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch {
      throw bail;
    }
  }

  /** After a value: `,` (more follow, false) or `close` (done, true). */
  private sep(close: number): boolean {
    this.ws();
    const c = this.s.charCodeAt(this.i++);
    if (c === COMMA) return false;
    if (c === close) return true;
    throw bail;
  }

  private expect(c: number): void {
    this.ws();
    if (this.s.charCodeAt(this.i) !== c) throw bail;
    this.i++;
  }

  private peek(): number {
    this.ws();
    return this.s.charCodeAt(this.i);
  }

  private ws(): void {
    const s = this.s;
    while (this.i < this.n) {
      const c = s.charCodeAt(this.i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.i++;
    }
  }
}

/**
 * Which names were seen, for the duplicate check: an open-addressing table of tensor indices keyed by
 * FNV-1a of the name. A Set<string> of 100,000 names was half the scan's time (hashing V8 strings,
 * growing the table, and the garbage); this table is one typed array sized from the header's length.
 */
class KeySet {
  private readonly slots: Int32Array;
  private readonly mask: number;
  private count = 0;

  constructor(headerBytes: number) {
    // A tensor entry takes at least ~40 bytes of JSON: at most headerBytes / 40 names, at most half full.
    let size = 16;
    while (size < headerBytes / 20) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  /** Records `key` as the next of `names`; false when a tensor of that name is already there. */
  add(key: string, names: readonly string[]): boolean {
    const index = names.length;
    // Never more than half full (the probe below must find an empty slot): beyond, leave for JSON.parse.
    if (++this.count * 2 > this.slots.length) throw bail;
    let h = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
    for (let slot = h & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = this.slots[slot];
      if (at === 0) { this.slots[slot] = index + 1; return true; }
      if (names[at - 1] === key) return false;
    }
  }
}

/** The tensors as they are scanned, into growing arrays that become a TensorTable at the end. */
class Columns {
  private readonly dtypeIds = new Map<string, number>();
  private readonly dtype: number[] = [];
  private readonly ndim: number[] = [];
  private readonly dimList: number[] = [];
  private readonly offset: number[] = [];
  private readonly length: number[] = [];

  dims(scratch: readonly number[], k: number): void {
    if (k > 255) throw bail;   // the table's ndim is a byte
    for (let i = 0; i < k; i++) this.dimList.push(scratch[i]);
    this.ndim.push(k);
  }

  tensor(dtype: string, offset: number, length: number): void {
    let d = this.dtypeIds.get(dtype);
    if (d === undefined) this.dtypeIds.set(dtype, d = this.dtypeIds.size);
    this.dtype.push(d);
    this.offset.push(offset);
    this.length.push(length);
  }

  table(names: readonly string[], file: string): TensorTable {
    const n = names.length;
    const keyEnds = new Uint32Array(n);
    let end = 0;
    for (let i = 0; i < n; i++) keyEnds[i] = end += names[i].length;
    return {
      count: n, keys: names.join(''), keyEnds, dtypes: [...this.dtypeIds.keys()], dtype: Uint16Array.from(this.dtype),
      ndim: Uint8Array.from(this.ndim), dims: Float64Array.from(this.dimList), files: [file], file: new Int32Array(n),
      offset: Float64Array.from(this.offset), length: Float64Array.from(this.length), extras: [],
    };
  }
}

/** Names JavaScript objects order numerically before all others (JSON.parse would move them first). */
function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 && /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}
