/**
 * The comparison of one candidate tensor against its reference, pure: the pass rule of
 * `torch.testing.assert_close` (`|c − r| ≤ atol + rtol·|r|` everywhere), max abs/rel difference,
 * cosine similarity, the worst element's multi-index, and — as Polygraphy reports — the tolerance
 * that would have passed: the smallest atol at the given rtol and the smallest rtol at the given atol.
 *
 * Non-finite values: NaN at the same position on both sides counts as equal (a port that reproduces
 * the reference's NaN is faithful); NaN on one side only fails, is the worst element, and makes the
 * required tolerances infinite. Infinities must match exactly (same sign). Non-finite pairs are left
 * out of the cosine. The relative difference where the reference is 0 and the candidate is not is
 * Infinity, as torch reports it.
 */
import { HostTensor, toFloat64 } from './hostTensor';

export interface Tolerance { atol: number; rtol: number }

export type ParityDtype = 'fp32' | 'fp16' | 'bf16';

/** torch.testing.assert_close's defaults per dtype (parity.md). */
export const DEFAULT_TOLERANCE: Readonly<Record<ParityDtype, Tolerance>> = {
  fp32: { atol: 1e-5, rtol: 1.3e-6 },
  fp16: { atol: 1e-5, rtol: 1e-3 },
  bf16: { atol: 1e-5, rtol: 1.6e-2 },
};

export interface Comparison {
  shape: number[];
  pass: boolean;
  maxAbsDiff: number;
  maxRelDiff: number;
  cosine: number;
  /** Multi-index of the element with the largest absolute difference (a one-sided NaN first). */
  worstIndex: number[];
  /** Elements outside the tolerance, of `elements`. */
  mismatches: number;
  elements: number;
  requiredTolerance: Tolerance;
  /** Why the tensors could not be compared element by element (shapes differ). */
  reason?: string;
}

export function compareTensors(reference: HostTensor, candidate: HostTensor, tol: Tolerance): Comparison {
  if (reference.dims.length !== candidate.dims.length || reference.dims.some((d, i) => d !== candidate.dims[i])) {
    return shapeMismatch(reference.dims, candidate.dims);
  }
  return compareArrays(values(reference), values(candidate), reference.dims, tol);
}

/** float32/float64 data is compared as it is: a copy of a large activation costs more than the comparison. */
function values(t: HostTensor): ArrayLike<number> {
  return t.dtype === 'float32' || t.dtype === 'float64' ? (t.data as Float32Array | Float64Array) : toFloat64(t);
}

export function shapeMismatch(ref: number[], cand: number[]): Comparison {
  return {
    shape: ref, pass: false, maxAbsDiff: NaN, maxRelDiff: NaN, cosine: NaN, worstIndex: [], mismatches: NaN, elements: NaN,
    requiredTolerance: { atol: Infinity, rtol: Infinity },
    reason: `shapes differ: reference [${ref.join(', ')}], candidate [${cand.join(', ')}]`,
  };
}

export function compareArrays(ref: ArrayLike<number>, cand: ArrayLike<number>, shape: number[], tol: Tolerance): Comparison {
  const n = ref.length;
  if (cand.length !== n) return shapeMismatch(shape, [cand.length]);
  const { atol, rtol } = tol;
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  let worstDiff = -1;
  let oneSidedNaN = false;
  let mismatches = 0;
  let reqAtol = 0;
  let reqRtol = 0;
  let dot = 0;
  let nr = 0;
  let nc = 0;
  for (let i = 0; i < n; i++) {
    const r = ref[i];
    const c = cand[i];
    if (r !== r || c !== c) {
      if (r !== r && c !== c) continue;
      mismatches++;
      if (!oneSidedNaN) { oneSidedNaN = true; worst = i; }
      continue;
    }
    if (r === c) {
      if (Number.isFinite(r)) { dot += r * c; nr += r * r; nc += c * c; }
      if (worst < 0) { worst = i; worstDiff = 0; }
      continue;
    }
    const d = Math.abs(c - r);
    const ar = Math.abs(r);
    if (!Number.isFinite(r) || !Number.isFinite(c)) {
      // An infinity on one side, or opposite infinities: no finite tolerance covers it.
      mismatches++;
      maxAbs = Infinity;
      maxRel = Infinity;
      reqAtol = Infinity;
      reqRtol = Infinity;
      if (!oneSidedNaN && worstDiff < Infinity) { worst = i; worstDiff = Infinity; }
      continue;
    }
    dot += r * c; nr += r * r; nc += c * c;
    if (d > maxAbs) maxAbs = d;
    const rel = ar > 0 ? d / ar : Infinity;
    if (rel > maxRel) maxRel = rel;
    if (d > atol + rtol * ar) mismatches++;
    const needA = d - rtol * ar;
    if (needA > reqAtol) reqAtol = needA;
    if (d > atol) {
      const needR = ar > 0 ? (d - atol) / ar : Infinity;
      if (needR > reqRtol) reqRtol = needR;
    }
    if (!oneSidedNaN && d > worstDiff) { worst = i; worstDiff = d; }
  }
  if (oneSidedNaN) {
    maxAbs = NaN;
    maxRel = NaN;
    reqAtol = Infinity;
    reqRtol = Infinity;
  }
  let cosine: number;
  if (oneSidedNaN) cosine = NaN;
  else if (nr === 0 && nc === 0) cosine = 1;
  else if (nr === 0 || nc === 0) cosine = 0;
  else cosine = Math.max(-1, Math.min(1, dot / Math.sqrt(nr * nc)));
  return {
    shape: [...shape], pass: mismatches === 0, maxAbsDiff: maxAbs, maxRelDiff: maxRel, cosine,
    worstIndex: worst < 0 ? [] : unravel(worst, shape), mismatches, elements: n,
    requiredTolerance: { atol: reqAtol, rtol: reqRtol },
  };
}

export function unravel(flat: number, shape: readonly number[]): number[] {
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = shape.length - 1; k >= 0; k--) {
    const d = shape[k] || 1;
    idx[k] = flat % d;
    flat = Math.floor(flat / d);
  }
  return idx;
}
