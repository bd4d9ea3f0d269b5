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

/**
 * `"name":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}` and the `,` or `}` after it, as
 * safetensors (serde_json) and JSON.stringify write it: a name of printable ASCII without escapes, counts
 * of at most 15 digits without leading zeros (what counts() accepts), no whitespace. Sticky: it matches
 * at lastIndex only.
 */
// eslint-disable-next-line no-control-regex -- control characters are what a plain name must not hold
export const COMPACT_ENTRY = /"[^"\\\x00-\x1f\x80-\xff]*":\{"dtype":"[0-9A-Z_]{1,16}","shape":\[(?:(?:0|[1-9]\d{0,14})(?:,(?:0|[1-9]\d{0,14}))*)?\],"data_offsets":\[(?:0|[1-9]\d{0,14}),(?:0|[1-9]\d{0,14})\]\}[,}]/y;

/** Thrown inside the scanner to leave for the JSON.parse path; never escapes this module. */
class NotCanonical extends Error {}
const bail = new NotCanonical();

/**
 * `file` is the absolute path locations name; `base` is where the data buffer starts in it. `table`:
 * fill columns, not objects (no object per tensor; a shape of more than 255 dimensions leaves for JSON.parse).
 */
export function scanHeader(bytes: Uint8Array, file: string, base: number, table = false): ScannedHeader | undefined {
  try {
    return new Scanner(bytes, file, base, table ? new Columns(bytes.length) : undefined).header();
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
  /**
   * Whether the whole header is printable ASCII without backslashes (one regex pass, native speed),
   * once string() has been called often enough to pay for it: a header of compact entries never does.
   */
  private plain: boolean | undefined;
  private strings = 0;
  private readonly shapes = new Map<number, number[][]>();
  /** Where the last string() read lies in the bytes, and its length in UTF-16 units. */
  private lastStart = 0;
  private lastEnd = 0;
  private lastLength = 0;
  constructor(private readonly bytes: Uint8Array, private readonly file: string, private readonly base: number, private readonly cols?: Columns) {
    this.s = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    this.n = this.s.length;
  }

  header(): ScannedHeader {
    const tensors: TensorInfo[] = [];
    // Filling columns, the names are checked as they are copied into the arena (Columns.table): one pass.
    const seen = this.cols ? undefined : new KeySet(this.bytes, capacity(this.n));
    let metadata: Record<string, string> | undefined;
    this.expect(LBRACE);
    if (this.peek() === RBRACE) {
      this.i++;
    } else {
      for (;;) {
        this.ws();
        if (this.compact(seen, tensors)) {
          if (this.sep(RBRACE)) break;
          continue;
        }
        const key = this.string();
        if (isArrayIndex(key)) throw bail;   // JSON.parse would move it first
        this.expect(COLON);
        if (key === '__metadata__') {
          if (metadata) throw bail;
          metadata = this.stringMap();
        } else {
          if (seen && !seen.add(this.lastStart, this.lastEnd)) throw bail;   // JSON.parse would overwrite it
          this.cols?.key(this.lastStart, this.lastEnd, this.lastLength);
          const t = this.entry(key);
          if (t) tensors.push(t);
        }
        if (this.sep(RBRACE)) break;
      }
    }
    this.ws();
    if (this.i !== this.n) throw bail;
    return this.cols ? { tensors, metadata, table: this.cols.table(this.bytes, this.file) } : { tensors, metadata };
  }

  /**
   * One entry in the writers' compact form, checked by a native regular expression and then read at
   * known places: the byte-by-byte path below costs several times more, most of it before the JIT has
   * warmed up, which a one-shot `keys` never gets past. False (nothing read) for anything else, and for
   * names the general path treats specially.
   */
  private compact(seen: KeySet | undefined, tensors: TensorInfo[]): boolean {
    const s = this.s, start = this.i + 1;
    COMPACT_ENTRY.lastIndex = this.i;
    if (!COMPACT_ENTRY.test(s)) return false;
    const end = s.indexOf('"', start);
    const c = s.charCodeAt(start);
    if (c >= 0x30 && c <= 0x39 && isArrayIndex(s.slice(start, end))) return false;
    if (end - start === 12 && s.startsWith('__metadata__', start)) return false;
    if (seen && !seen.add(start, end)) throw bail;   // JSON.parse would overwrite it
    // `":{"dtype":` after the name, `,"shape":` after the dtype, `,"data_offsets":` after the shape.
    this.i = end + 11;
    const dtype = this.dtype();
    this.i += 9;
    const ndim = this.matchedCounts();
    const shape = this.cols ? undefined : this.shape(ndim);
    if (this.cols) {
      this.cols.key(start, end, end - start);
      this.cols.dims(this.scratch, ndim);
    }
    this.i += 16;
    this.matchedCounts();
    this.i++;
    const [begin, stop] = this.scratch;
    if (this.cols) this.cols.tensor(dtype, this.base + begin, stop - begin);
    else tensors.push({ key: s.slice(start, end), dtype, shape: shape!, location: { file: this.file, offset: this.base + begin, length: stop - begin } });
    return true;
  }

  /** `[n,…]` that COMPACT_ENTRY matched, into the scratch array: digits and commas only, nothing to check. */
  private matchedCounts(): number {
    const s = this.s, out = this.scratch;
    let i = this.i + 1, k = 0;
    if (s.charCodeAt(i) === RBRACKET) {
      this.i = i + 1;
      return 0;
    }
    for (;;) {
      let n = 0, c = s.charCodeAt(i);
      while (c >= 0x30 && c <= 0x39) {
        n = n * 10 + (c - 0x30);
        c = s.charCodeAt(++i);
      }
      out[k++] = n;
      i++;
      if (c === RBRACKET) {
        this.i = i;
        return k;
      }
    }
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
    if (this.plain === undefined && ++this.strings > 64) this.plain = !NOT_PLAIN.test(s);
    if (this.plain) {
      // No escape, control or non-ASCII byte anywhere: the closing quote is the next quote.
      const end = s.indexOf('"', start);
      if (end < 0) throw bail;
      this.i = end + 1;
      this.lastStart = start;
      this.lastEnd = this.lastLength = end;
      this.lastLength -= start;
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
    this.lastStart = start;
    this.lastEnd = end;
    let text: string;
    if (ascii) {
      text = s.slice(start, end);
    } else {
      try {
        text = utf8.decode(this.bytes.subarray(start, end));
      } catch {
        throw bail;
      }
    }
    this.lastLength = text.length;
    return text;
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
 * FNV-1a of the name's bytes, compared in place in the header (equal names are equal UTF-8 bytes). A
 * Set<string> of 100,000 names was half the scan's time (hashing V8 strings, growing the table, and the
 * garbage); this is typed arrays, and no string per name.
 */
class KeySet {
  private slots: Int32Array;
  private hashes: Int32Array;
  private starts: Uint32Array;
  private ends: Uint32Array;
  private count = 0;

  /** Names are byte ranges of `s`; room for `names` of them before growing. */
  constructor(private readonly s: Uint8Array, names: number) {
    names = Math.max(16, names);
    let size = 16;
    while (size < names * 2) size *= 2;
    this.slots = new Int32Array(size);
    this.hashes = new Int32Array(size);
    this.starts = new Uint32Array(names);
    this.ends = new Uint32Array(names);
  }

  /** Records the name in bytes [start, end); false when a tensor of that name is already there. */
  add(start: number, end: number): boolean {
    const s = this.s;
    let h = 0x811c9dc5;
    for (let i = start; i < end; i++) h = Math.imul(h ^ s[i], 0x01000193);
    return this.hashed(h, start, end);
  }

  /** add() for a name whose FNV-1a hash the caller computed. */
  hashed(h: number, start: number, end: number): boolean {
    if (this.count === this.starts.length) this.grow();
    const mask = this.slots.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const at = this.slots[slot];
      if (at === 0) {
        this.slots[slot] = this.count + 1;
        this.hashes[slot] = h;
        this.starts[this.count] = start;
        this.ends[this.count++] = end;
        return true;
      }
      if (this.hashes[slot] === h && this.same(at - 1, start, end)) return false;
    }
  }

  private same(k: number, start: number, end: number): boolean {
    const a = this.starts[k];
    if (this.ends[k] - a !== end - start) return false;
    const s = this.s;
    for (let i = 0; i < end - start; i++) if (s[a + i] !== s[start + i]) return false;
    return true;
  }

  /** Twice the names, and slots kept at most half full (the probe must find an empty one). */
  private grow(): void {
    const n = this.count;
    this.starts = grown(this.starts, n * 2);
    this.ends = grown(this.ends, n * 2);
    const size = this.slots.length * 2, mask = size - 1;
    const slots = new Int32Array(size), hashes = new Int32Array(size);
    for (let i = 0; i < this.slots.length; i++) {
      const at = this.slots[i];
      if (at === 0) continue;
      let slot = this.hashes[i] & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = at;
      hashes[slot] = this.hashes[i];
    }
    this.slots = slots;
    this.hashes = hashes;
  }
}

/**
 * Room for the tensors a header of n bytes is likely to list (an entry in compact form takes ~60 bytes
 * or more), so the arrays are not grown while scanning; a header of shorter entries grows them.
 */
function capacity(n: number): number {
  return Math.max(16, Math.ceil(n / 64));
}

/** A copy of `a` with room for `size` elements. */
function grown<T extends Uint32Array | Float64Array | Uint16Array | Uint8Array>(a: T, size: number): T {
  const b = new (a.constructor as new (n: number) => T)(size);
  b.set(a);
  return b;
}

/**
 * The tensors as they are scanned, into typed arrays grown by doubling, made a TensorTable at the end:
 * the keys copied byte for byte into one arena and decoded once, no string per key.
 */
class Columns {
  private readonly dtypeIds = new Map<string, number>();
  private n = 0;
  private nd = 0;
  private keyStart: Uint32Array;
  private keyEnd: Uint32Array;
  private keyEnds: Uint32Array;
  private dtype: Uint16Array;
  private ndim: Uint8Array;
  private offset: Float64Array;
  private length: Float64Array;
  private dimList: Float64Array;
  private utf16 = 0;
  /** Every name so far is ASCII (as many UTF-16 units as bytes): the arena decodes as Latin-1, faster. */
  private ascii = true;

  /** For a header of `bytes` bytes. */
  constructor(bytes: number) {
    const n = capacity(bytes);
    this.keyStart = new Uint32Array(n);
    this.keyEnd = new Uint32Array(n);
    this.keyEnds = new Uint32Array(n);
    this.dtype = new Uint16Array(n);
    this.ndim = new Uint8Array(n);
    this.offset = new Float64Array(n);
    this.length = new Float64Array(n);
    this.dimList = new Float64Array(n * 2);
  }

  /** The next tensor's name: bytes [start, end) of the header, `length` UTF-16 units once decoded. */
  key(start: number, end: number, length: number): void {
    if (this.n === this.keyStart.length) {
      const size = this.n * 2;
      this.keyStart = grown(this.keyStart, size);
      this.keyEnd = grown(this.keyEnd, size);
      this.keyEnds = grown(this.keyEnds, size);
      this.dtype = grown(this.dtype, size);
      this.ndim = grown(this.ndim, size);
      this.offset = grown(this.offset, size);
      this.length = grown(this.length, size);
    }
    this.keyStart[this.n] = start;
    this.keyEnd[this.n] = end;
    this.keyEnds[this.n] = this.utf16 += length;
    if (length !== end - start) this.ascii = false;
  }

  dims(scratch: readonly number[], k: number): void {
    if (k > 255) throw bail;   // the table's ndim is a byte
    while (this.nd + k > this.dimList.length) this.dimList = grown(this.dimList, this.dimList.length * 2);
    for (let i = 0; i < k; i++) this.dimList[this.nd++] = scratch[i];
    this.ndim[this.n] = k;
  }

  tensor(dtype: string, offset: number, length: number): void {
    let d = this.dtypeIds.get(dtype);
    if (d === undefined) this.dtypeIds.set(dtype, d = this.dtypeIds.size);
    this.dtype[this.n] = d;
    this.offset[this.n] = offset;
    this.length[this.n++] = length;
  }

  table(bytes: Uint8Array, file: string): TensorTable {
    const n = this.n;
    let total = 0;
    for (let i = 0; i < n; i++) total += this.keyEnd[i] - this.keyStart[i];
    const arena = Buffer.allocUnsafe(total);
    const seen = new KeySet(arena, n);
    let at = 0;
    for (let i = 0; i < n; i++) {
      const from = at;
      let h = 0x811c9dc5;
      for (let j = this.keyStart[i], end = this.keyEnd[i]; j < end; j++) {
        const c = bytes[j];
        arena[at++] = c;
        h = Math.imul(h ^ c, 0x01000193);
      }
      if (!seen.hashed(h, from, at)) throw bail;   // JSON.parse would overwrite it
    }
    return {
      count: n, keys: arena.toString(this.ascii ? 'latin1' : 'utf8'), keyEnds: this.keyEnds.slice(0, n), dtypes: [...this.dtypeIds.keys()],
      dtype: this.dtype.slice(0, n), ndim: this.ndim.slice(0, n), dims: this.dimList.slice(0, this.nd), files: [file],
      file: new Int32Array(n), offset: this.offset.slice(0, n), length: this.length.slice(0, n), extras: [],
    };
  }
}

/** Names JavaScript objects order numerically before all others (JSON.parse would move them first). */
function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  return c >= 0x30 && c <= 0x39 && /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;
}
