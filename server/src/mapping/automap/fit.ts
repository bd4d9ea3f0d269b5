/**
 * Which transforms turn a source tensor (or a fused/split form of it) into a target tensor, judged from
 * shapes, dtypes and both sides' Linear layouts — the same facts the analysis checks, so a proposed rule
 * never draws `missing-transpose`, `extra-transpose`, `shape-mismatch` or `dtype-mismatch`.
 */
import { ConvLayout, LinearLayout, convPermutation } from '../layout';

export interface Fit {
  transforms: string[];
  /** How much the fit had to guess or reshape: subtracted from the pair's score. */
  cost: number;
}

const FLOATS = new Set(['F64', 'F32', 'F16', 'BF16']);
const INTS = new Set(['I64', 'I32', 'I16', 'I8', 'U8']);

/** `cast(T)` when the dtypes differ within floats or within integers; undefined when they cannot meet. */
export function castFor(from: string, to: string): string[] | undefined {
  if (from === to) return [];
  if ((FLOATS.has(from) && FLOATS.has(to)) || (INTS.has(from) && INTS.has(to))) return [`cast(${to})`];
  return undefined;
}

/** torch OIHW ↔ JAX HWIO, torch OIHW ↔ MLX OHWI; and for 1-D convolutions OIW ↔ OWI, OIW ↔ WIO. */
const CONV4_PERMS = [[2, 3, 1, 0], [3, 2, 0, 1], [0, 2, 3, 1], [0, 3, 1, 2]];
const CONV3_PERMS = [[0, 2, 1], [2, 1, 0]];

/**
 * Dimensions are equal, or one is open (NaN): a model source's size its constructor's default does not
 * decide for this checkpoint — the proposal binds it afterwards from the pairs it made (bindSizes.ts).
 */
const eq = (a: number, b: number) => a === b || Number.isNaN(a) || Number.isNaN(b);
const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => eq(d, b[i]));
const open = (...shapes: (readonly number[])[]) => shapes.some((s) => s.some(Number.isNaN));

/**
 * Shape transforms from `s` to `t`. `ls`/`lt` are the sides' Linear layouts for a 2-D weight (undefined
 * when unknown or not a Linear): when both are known they decide the transpose, square or not.
 * `cs`/`ct` are the same for a convolution weight: known on both sides, they decide the permute.
 */
export function fitShape(s: readonly number[], t: readonly number[], ls?: LinearLayout, lt?: LinearLayout, cs?: ConvLayout, ct?: ConvLayout): Fit | undefined {
  if (cs && ct) {
    const perm = convPermutation(cs, ct);
    if (!perm || !same(perm.map((d) => s[d]), t)) return undefined;
    return { transforms: perm.every((d, i) => d === i) ? [] : [`permute(${perm.join(', ')})`], cost: open(s, t) ? 0.3 : 0 };
  }
  const known = ls !== undefined && lt !== undefined;
  // A fit through open dimensions is a guess the sizes may still refute: it costs a little.
  const guess = open(s, t) ? 0.3 : 0;
  if (same(s, t) && !(s.length === 2 && known && ls !== lt)) return { transforms: [], cost: guess };
  if (s.length === 2 && t.length === 2 && eq(s[0], t[1]) && eq(s[1], t[0])) {
    if (known && ls === lt) return undefined;
    return { transforms: ['transpose'], cost: (known ? 0 : 0.3) + guess };
  }
  if (same(s, t)) return undefined;
  const squeeze = squeezeOps(s, t);
  if (squeeze) return { transforms: squeeze.length <= 2 ? squeeze : [`reshape(${t.join(', ')})`], cost: 0.3 };
  // Convolutions whose sides do not say their layout: the known reorderings, by shape alone.
  const perms = s.length === 4 && t.length === 4 ? CONV4_PERMS : s.length === 3 && t.length === 3 ? CONV3_PERMS : [];
  for (const perm of perms) {
    if (!open(s, t) && same(perm.map((d) => s[d]), t)) return { transforms: [`permute(${perm.join(', ')})`], cost: 0.3 };
  }
  return undefined;
}

/**
 * A Flax attention projection keeps its heads apart where the target has them merged: q/k/v kernels
 * [D, H, hd], the output's [H, hd, D], q/k/v biases [H, hd] (flax.linen's MultiHeadDotProductAttention,
 * big_vision). Reshaped to 2-D (a bias to 1-D) as transformers' big_vision converters do, then the 2-D
 * rules apply; a kernel is [in, out].
 */
export function mergeHeads(s: readonly number[], t: readonly number[], kernel: boolean, lt?: LinearLayout): Fit | undefined {
  if (open(s, t)) return undefined;
  const merged = s.length === 3 && t.length === 2 ? [[s[0], s[1] * s[2]], [s[0] * s[1], s[2]]] : s.length === 2 && t.length === 1 ? [[s[0] * s[1]]] : [];
  for (const r of merged) {
    const f = fitShape(r, t, r.length === 2 && kernel ? 'in_out' : undefined, lt);
    if (f && (r.length === 1 || kernel)) return { transforms: [`reshape(${r.join(', ')})`, ...f.transforms], cost: f.cost + 0.2 };
  }
  return undefined;
}

/**
 * squeeze/unsqueeze steps when the shapes differ only by size-1 dimensions (`[1, 1, 768]` → `[768]`),
 * or undefined. Walks both shapes once, keeping equal dimensions and removing/inserting 1s.
 */
export function squeezeOps(s: readonly number[], t: readonly number[]): string[] | undefined {
  if (open(s, t)) return undefined; // which dimension is the 1 cannot be told through an open one
  const nonOne = (x: readonly number[]) => x.filter((d) => d !== 1);
  if (!same(nonOne(s), nonOne(t))) return undefined;
  const ops: string[] = [];
  let i = 0;
  let j = 0; // j: position in the output built so far (= target prefix length)
  while (i < s.length || j < t.length) {
    if (i < s.length && j < t.length && eq(s[i], t[j])) { i++; j++; continue; }
    if (i < s.length && s[i] === 1) { ops.push(`squeeze(${j})`); i++; continue; }
    if (j < t.length && t[j] === 1) { ops.push(`unsqueeze(${j})`); j++; continue; }
    return undefined;
  }
  return ops;
}

/** The output dimension of a 2-D Linear weight in a layout; 0 when the layout is unknown and nothing says otherwise. */
export function outDim(layout: LinearLayout | undefined, fallback?: LinearLayout): 0 | 1 {
  return (layout ?? fallback) === 'in_out' ? 1 : 0;
}
