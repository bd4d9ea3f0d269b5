/**
 * `--backward`: the probe writes every parameter's gradient of the same scalar loss to a scratch file;
 * here each candidate gradient is paired with the reference gradient(s) of the weight it was made from,
 * and the reference's is pushed through the same rule by the converter's own `produceTensor` — a
 * transposed weight's gradient is compared transposed, a `cat` of q/k/v's gradients as one — then
 * compared with compare.ts's rule, the absolute tolerance scaled by the gradient's largest magnitude.
 * Without a mapping, gradients pair by equal parameter names.
 */
import { readFileSync } from 'node:fs';
import { TensorInfo } from '../../formats/tensorInfo';
import { ProducedTensor, produceTensor } from '../../mapping/convert/produceTensor';
import { SourceFiles } from '../../mapping/convert/sourceData';
import { Tolerance, compareArrays, shapeMismatch } from '../compare';
import { BackwardReport, GradientResult } from '../types';
import { ManifestEntry, RuleInstance } from './eagerWeights';

export interface GradientFiles { file: string; reference: ManifestEntry[]; candidate: ManifestEntry[] }

const DTYPE: Readonly<Record<string, string>> = { '<f4': 'F32', '<f8': 'F64' };

function floats(buf: Buffer, dtype: string): Float32Array | Float64Array {
  const copy = Buffer.from(buf); // aligned
  return dtype === 'F64' ? new Float64Array(copy.buffer, copy.byteOffset, copy.length / 8) : new Float32Array(copy.buffer, copy.byteOffset, copy.length / 4);
}

/**
 * `order`: candidate parameter keys in forward order of their modules; gradients are listed, and the
 * first divergence found, in backward order (its reverse), where the backward pass computes them.
 */
export async function compareGradients(g: GradientFiles, rules: RuleInstance[] | undefined, tol: Tolerance, order: string[]): Promise<BackwardReport> {
  const ref = new Map(g.reference.map((e) => [e.key, e]));
  const cand = new Map(g.candidate.map((e) => [e.key, e]));
  const blob = readFileSync(g.file);
  const read = (e: ManifestEntry) => floats(blob.subarray(e.offset, e.offset + e.nbytes), DTYPE[e.dtype] ?? 'F32');
  const info = (e: ManifestEntry): TensorInfo => ({ key: e.key, dtype: DTYPE[e.dtype] ?? 'F32', shape: e.shape, location: { file: g.file, offset: e.offset, length: e.nbytes } });
  const results: GradientResult[] = [];
  const usedRef = new Set<string>();
  const usedCand = new Set<string>();
  const files = new SourceFiles((f) => f);
  try {
    const pairs: { sources: string[]; target: string; inst?: RuleInstance }[] = rules
      ? rules.map((r) => ({ sources: r.sources, target: r.target, inst: r }))
      : [...cand.keys()].filter((k) => ref.has(k)).map((k) => ({ sources: [k], target: k }));
    for (const p of pairs) {
      const c = cand.get(p.target);
      const srcs = p.sources.map((k) => ref.get(k));
      if (usedCand.has(p.target) || (!c && srcs.every((s) => !s))) continue; // a buffer, or frozen on both sides
      usedCand.add(p.target);
      p.sources.forEach((k) => usedRef.add(k));
      const base = { reference: p.sources, candidate: p.target, mapping: p.inst?.mapping };
      if (!c) {
        const shape = srcs.find((s) => s)!.shape;
        results.push({ ...base, ...shapeMismatch(shape, []), shape, reason: `the candidate's \`${p.target}\` gets no gradient (a detach or stop_gradient on its path, or frozen); the reference's does` });
        continue;
      }
      if (srcs.some((s) => !s)) {
        const none = p.sources.filter((_, i) => !srcs[i]);
        results.push({ ...base, ...shapeMismatch([], c.shape), shape: c.shape, reason: `the reference's ${none.map((k) => `\`${k}\``).join(', ')} has no gradient (not a parameter, or frozen), the candidate's has one` });
        continue;
      }
      let expected: ProducedTensor;
      if (p.inst) {
        try {
          expected = await produceTensor(p.inst.rule, srcs.map((s) => info(s!)), files, `the gradient of \`${p.target}\``);
        } catch (e) {
          results.push({ ...base, ...shapeMismatch([], c.shape), shape: c.shape, reason: (e as Error).message });
          continue;
        }
      } else {
        const s = srcs[0]!;
        expected = { dtype: DTYPE[s.dtype] ?? 'F32', shape: s.shape, data: blob.subarray(s.offset, s.offset + s.nbytes) };
      }
      const sameShape = expected.shape.length === c.shape.length && expected.shape.every((d, i) => d === c.shape[i]);
      const want = floats(expected.data, expected.dtype);
      let scale = 0;
      for (const v of want) if (Math.abs(v) > scale) scale = Math.abs(v);
      // A gradient is a sum over the batch and every position: its rounding grows with its size, so the
      // absolute tolerance is scaled by its largest magnitude (a correct fp32 port of ViT-Tiny: ≤ 1.4e-6 of it).
      const atol = tol.atol * Math.max(1, scale);
      const cmp = sameShape ? compareArrays(want, read(c), c.shape, { atol, rtol: tol.rtol }) : shapeMismatch(expected.shape, c.shape);
      results.push({ ...base, atol, shape: cmp.shape, maxAbsDiff: cmp.maxAbsDiff, maxRelDiff: cmp.maxRelDiff, cosine: cmp.cosine, worstIndex: cmp.worstIndex, pass: cmp.pass, requiredTolerance: cmp.requiredTolerance, ...(cmp.reason ? { reason: cmp.reason } : {}) });
    }
  } finally {
    await files.close();
  }
  const rank = new Map(order.map((k, i) => [k, i]));
  results.sort((a, b) => (rank.get(b.candidate) ?? -1) - (rank.get(a.candidate) ?? -1));
  return {
    pass: results.length > 0 && results.every((r) => r.pass),
    loss: 'sum(first output × a fixed N(0, 1) tensor from the seed), the same on both sides',
    gradients: results,
    firstDivergence: results.find((r) => !r.pass) ?? null,
    unpaired: { reference: [...ref.keys()].filter((k) => !usedRef.has(k)), candidate: [...cand.keys()].filter((k) => !usedCand.has(k)) },
  };
}
