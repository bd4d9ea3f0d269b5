/**
 * Keys by their shape with whole-number segments left out (`layers.17.mlp.weight` → `layers.#.mlp.weight`),
 * looked up without making a string: the hash and the comparison walk the key itself, so asking for the
 * shape of 200,000 keys makes no garbage (a string per lookup made enough to grow the old generation by
 * ~35 MiB that V8 then kept, docs/benchmarks.md). A number segment has 1–6 digits and is not the last
 * segment (the last one is a parameter's name, `history.0`).
 */

const MARK = 0; // stands for a number segment in a stored shape; no key holds NUL

export class NumberShapes<T> {
  private slots = new Int32Array(256);
  private readonly shapes: string[] = [];
  private readonly values: T[] = [];

  get size(): number {
    return this.shapes.length;
  }

  /** The value stored for the key's shape; `make(shape)` makes it on first sight. Undefined for a key without number segments. */
  get(key: string, make: (shape: string, numbers: number) => T): T | undefined {
    const h = key.includes('\0') ? -1 : shapeHash(key);
    if (h < 0) return undefined;
    const mask = this.slots.length - 1;
    let at = h & mask;
    for (; ; at = (at + 1) & mask) {
      const id = this.slots[at] - 1;
      if (id < 0) break;
      if (sameShape(key, this.shapes[id])) return this.values[id];
    }
    const shape = shapeOf(key);
    const value = make(shape, countMarks(shape));
    this.shapes.push(shape);
    this.values.push(value);
    this.slots[at] = this.shapes.length;
    if (this.shapes.length * 2 > this.slots.length) this.rehash();
    return value;
  }

  clear(): void {
    this.slots = new Int32Array(256);
    this.shapes.length = 0;
    this.values.length = 0;
  }

  private rehash(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let id = 0; id < this.shapes.length; id++) {
      let at = shapeHash(this.shapes[id]) & mask;
      while (this.slots[at] !== 0) at = (at + 1) & mask;
      this.slots[at] = id + 1;
    }
  }
}

/** The value of the key's j-th number segment (counted from 0). */
export function nthNumber(key: string, j: number): number {
  let n = 0;
  for (let start = 0; start < key.length;) {
    const end = segmentEnd(key, start);
    if (isNumber(key, start, end) && n++ === j) {
      let v = 0;
      for (let i = start; i < end; i++) v = v * 10 + key.charCodeAt(i) - 48;
      return v;
    }
    start = end + 1;
  }
  return NaN;
}

/** A shape's text as the probe key: each mark replaced by `value(j)`. */
export function fillShape(shape: string, value: (j: number) => string): string {
  let j = 0, out = '';
  for (let i = 0; i < shape.length; i++) out += shape.charCodeAt(i) === MARK ? value(j++) : shape[i];
  return out;
}

function segmentEnd(s: string, start: number): number {
  let end = start;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 46 || c === 47) break;
    end++;
  }
  return end;
}

function isNumber(s: string, start: number, end: number): boolean {
  if (end === start || end - start > 6 || end === s.length) return false;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/** FNV-1a over the key with each number segment hashed as the mark; -1 when it has none. A stored shape hashes the same. */
function shapeHash(s: string): number {
  let h = 0x811c9dc5, marks = 0;
  for (let start = 0; start <= s.length;) {
    const end = segmentEnd(s, start);
    if (isNumber(s, start, end) || (end - start === 1 && s.charCodeAt(start) === MARK)) {
      h = Math.imul(h ^ MARK, 0x01000193);
      marks++;
    } else {
      for (let i = start; i < end; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    }
    if (end < s.length) h = Math.imul(h ^ s.charCodeAt(end), 0x01000193);
    start = end + 1;
  }
  // Kept to 30 bits: a small integer, where a 32-bit value would be a heap number made per lookup.
  return marks ? h & 0x3fffffff : -1;
}

function sameShape(key: string, shape: string): boolean {
  let j = 0;
  for (let start = 0; start <= key.length;) {
    const end = segmentEnd(key, start);
    if (isNumber(key, start, end)) {
      if (shape.charCodeAt(j) !== MARK) return false;
      j++;
    } else {
      for (let i = start; i < end; i++, j++) if (shape.charCodeAt(j) !== key.charCodeAt(i)) return false;
    }
    if (end < key.length) {
      if (shape.charCodeAt(j) !== key.charCodeAt(end)) return false;
      j++;
    }
    start = end + 1;
  }
  return j === shape.length;
}

function shapeOf(key: string): string {
  let out = '';
  for (let start = 0; start <= key.length;) {
    const end = segmentEnd(key, start);
    out += isNumber(key, start, end) ? String.fromCharCode(MARK) : key.slice(start, end);
    if (end < key.length) out += key[end];
    start = end + 1;
  }
  return out;
}

function countMarks(shape: string): number {
  let n = 0;
  for (let i = 0; i < shape.length; i++) if (shape.charCodeAt(i) === MARK) n++;
  return n;
}
