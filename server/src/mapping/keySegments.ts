/**
 * Where a key splits into segments: at `.` (PyTorch, Paddle, a Flax msgpack as read here) and at `/`
 * (big_vision `.npz`, TensorFlow, Keras and HDF5 paths), so a pattern can capture a layer number or end in
 * `*` in either spelling. The separator stays part of the key — `a/b` and `a.b` are different keys — and a
 * `.` opening a segment after `/` is text, not a separator, because TF2's object-graph names end in
 * `kernel/.ATTRIBUTES/VARIABLE_VALUE`.
 */

export type Sep = '' | '.' | '/';

export interface KeySegment {
  /** The separator before the segment: '' for the first. */
  sep: Sep;
  text: string;
  /** Offset of `text` in the key. */
  start: number;
}

export function splitKey(key: string): KeySegment[] {
  const out: KeySegment[] = [];
  let sep: Sep = '';
  let start = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    const slash = c === 47;
    if (!slash && !(c === 46 && !(sep === '/' && i === start))) continue;
    out.push({ sep, text: key.slice(start, i), start });
    sep = slash ? '/' : '.';
    start = i + 1;
  }
  out.push({ sep, text: key.slice(start), start });
  return out;
}

/** The last separator's end in a partly typed key (`a/b_0/ker` → 5), 0 when there is none. */
export function stemEnd(typed: string): number {
  const segs = splitKey(typed);
  return segs.length > 1 ? segs[segs.length - 1].start : 0;
}
