/**
 * Copies a strided view of a buffer into a new contiguous, row-major buffer. Elements move as whole
 * 1-, 2- or 4-byte words (8- and 16-byte elements as 2 or 4 words), never as floats, so every bit
 * pattern — NaN payloads included — survives. Dimensions are merged where the strides allow, runs
 * with stride 1 are block copies, and a 2-D transpose goes in cache-sized bands.
 */
import { numel } from '../../formats/tensorInfo';

type Words = Uint8Array | Uint16Array | Uint32Array;

/**
 * A faster 2-D transpose where one applies (transposeKernel.ts): out[i, j] = s[base + i + j·s1] for
 * i < rows, j < cols, into d row-major; false when it cannot, and the JavaScript loop below does it.
 */
export type Transpose2d = (s: Words, base: number, d: Words, rows: number, cols: number, s1: number) => boolean;

const ROWS = 64;

/** The view of `src` (element offset, size, shape, strides) into `out`, which holds exactly its bytes: every element written once. */
export function gatherInto(src: Buffer, offset: number, size: number, shape: readonly number[], strides: readonly number[], out: Buffer, transpose?: Transpose2d): void {
  if (numel(shape) === 0) return;
  // Words of 4, 2 or 1 bytes, as the element size and the source alignment allow.
  let w = size % 4 === 0 ? 4 : size % 2 === 0 ? 2 : 1;
  while (w > 1 && src.byteOffset % w !== 0) w >>= 1;
  const lanes = size / w;
  let dims = [...shape];
  let st = [...strides];
  if (lanes > 1) {
    dims.push(lanes);
    st = st.map((s) => s * lanes);
    st.push(1);
  }
  ({ dims, st } = simplify(dims, st));
  const words = (b: Buffer): Words => {
    const len = b.length / w;
    return w === 4 ? new Uint32Array(b.buffer, b.byteOffset, len) : w === 2 ? new Uint16Array(b.buffer, b.byteOffset, len) : new Uint8Array(b.buffer, b.byteOffset, len);
  };
  const s = words(src.length % w === 0 ? src : src.subarray(0, src.length - (src.length % w)));
  const d = words(out);
  copyStrided(s, offset * lanes, d, dims, st, transpose);
}

/** Drops size-1 dimensions and merges neighbours that are contiguous with each other. */
function simplify(shape: number[], strides: number[]): { dims: number[]; st: number[] } {
  const dims: number[] = [];
  const st: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const last = dims.length - 1;
    if (last >= 0 && st[last] === strides[i] * shape[i]) {
      dims[last] *= shape[i];
      st[last] = strides[i];
    } else {
      dims.push(shape[i]);
      st.push(strides[i]);
    }
  }
  return { dims, st };
}

function copyStrided(s: Words, base: number, d: Words, dims: number[], st: number[], transpose?: Transpose2d): void {
  const rank = dims.length;
  if (rank === 0) { d[0] = s[base]; return; }
  const inner = dims[rank - 1];
  const innerStride = st[rank - 1];
  if (rank === 1) {
    if (innerStride === 1) d.set(s.subarray(base, base + inner));
    else for (let i = 0, j = base; i < inner; i++, j += innerStride) d[i] = s[j];
    return;
  }
  if (rank === 2 && innerStride !== 1 && st[0] === 1 && transpose?.(s, base, d, dims[0], inner, innerStride)) return;
  if (rank === 2 && innerStride !== 1) { tiled2d(s, base, d, dims[0], inner, st[0], innerStride); return; }
  // An odometer over the outer dimensions; the innermost run is a block copy or a strided loop.
  const outer = dims.slice(0, -1);
  const idx = new Array<number>(outer.length).fill(0);
  let at = base;
  let o = 0;
  const rows = outer.reduce((a, b) => a * b, 1);
  for (let r = 0; r < rows; r++) {
    if (innerStride === 1) d.set(s.subarray(at, at + inner), o);
    else for (let i = 0, j = at; i < inner; i++, j += innerStride) d[o + i] = s[j];
    o += inner;
    for (let k = outer.length - 1; k >= 0; k--) {
      idx[k]++;
      at += st[k];
      if (idx[k] < outer[k]) break;
      at -= st[k] * outer[k];
      idx[k] = 0;
    }
  }
}

/**
 * out[i, j] = src[base + i·s0 + j·s1], eight output columns at a time over bands of ROWS rows: each
 * step reads eight source lines that stay cached across the band and writes eight adjacent words —
 * about twice as fast in V8 as square tiles with a one-word inner loop (test/bench/convert.bench.ts).
 */
function tiled2d(s: Words, base: number, d: Words, rows: number, cols: number, s0: number, s1: number): void {
  const full = cols - (cols % 8);
  for (let i0 = 0; i0 < rows; i0 += ROWS) {
    const i1 = Math.min(rows, i0 + ROWS);
    for (let j = 0; j < full; j += 8) {
      for (let i = i0; i < i1; i++) {
        const f = base + i * s0 + j * s1;
        const to = i * cols + j;
        d[to] = s[f]; d[to + 1] = s[f + s1]; d[to + 2] = s[f + 2 * s1]; d[to + 3] = s[f + 3 * s1];
        d[to + 4] = s[f + 4 * s1]; d[to + 5] = s[f + 5 * s1]; d[to + 6] = s[f + 6 * s1]; d[to + 7] = s[f + 7 * s1];
      }
    }
    if (full === cols) continue;
    for (let i = i0; i < i1; i++) {
      let from = base + i * s0 + full * s1;
      let to = i * cols + full;
      for (let j = full; j < cols; j++, from += s1) d[to++] = s[from];
    }
  }
}
