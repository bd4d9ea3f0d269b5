/**
 * A tensor as a strided view over bytes that are either still in a file or already in memory. The
 * layout transforms (transpose, permute, squeeze, unsqueeze, chunk, and reshape of a contiguous
 * view) only change shape, strides and offset, so a rule reads exactly the bytes its target needs —
 * a `chunk` of a fused qkv reads one third of it — and gathers them once at the end.
 */

export type Base =
  | { kind: 'file'; file: string; /** Byte offset of element 0 (the view's `offset` counts from here). */ offset: number }
  | { kind: 'memory'; data: Buffer };

export interface View {
  dtype: string;
  /** Element size in bytes. */
  size: number;
  shape: number[];
  /** Element strides, non-negative. */
  strides: number[];
  /** Element offset of the view's first element from the base. */
  offset: number;
  base: Base;
  /** The source key the data comes from (`cat`'s result: the first one), for messages. */
  origin: string;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
  return s;
}

export function permute(v: View, perm: readonly number[]): View {
  return { ...v, shape: perm.map((d) => v.shape[d]), strides: perm.map((d) => v.strides[d]) };
}

export function squeeze(v: View, d: number): View {
  return { ...v, shape: v.shape.filter((_, i) => i !== d), strides: v.strides.filter((_, i) => i !== d) };
}

export function unsqueeze(v: View, d: number): View {
  const shape = [...v.shape];
  const strides = [...v.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < v.shape.length ? v.strides[d] * v.shape[d] : 1);
  return { ...v, shape, strides };
}

/** The k-th of n equal parts along d: a narrower extent and a later start. */
export function chunk(v: View, n: number, k: number, d: number): View {
  const part = v.shape[d] / n;
  const shape = [...v.shape];
  shape[d] = part;
  return { ...v, shape, offset: v.offset + k * part * v.strides[d] };
}

/** A new shape over the same elements; only a contiguous view can be reshaped without moving data. */
export function reshapeContiguous(v: View, shape: number[]): View {
  return { ...v, shape, strides: contiguousStrides(shape) };
}

export function memoryView(dtype: string, size: number, shape: number[], data: Buffer, origin: string): View {
  return { dtype, size, shape, strides: contiguousStrides(shape), offset: 0, base: { kind: 'memory', data }, origin };
}
