/**
 * Flax's `DenseGeneral` kernels, as big_vision's attention stores them: q/k/v `[D, heads, head_dim]` and
 * the output `[heads, head_dim, D]`. A rule that first reshapes one into a matrix by merging the heads
 * with the head size (`reshape(D, H·hd)`, `reshape(H·hd, D)`) has an `[in, out]` matrix from there on, the
 * layout of every Flax `kernel`: so a missing transpose into torch's `[out, in]` is judged as for any
 * Linear weight (the per-head q of a ViT is square once merged, and would hide it).
 */
import { TensorInfo } from '../formats/tensorInfo';
import { LinearLayout } from './layout';
import { Rule } from './syntax';

export function mergedKernelLayout(rule: Rule, sources: readonly TensorInfo[]): LinearLayout | undefined {
  const first = rule.transforms[0];
  if (sources.length !== 1 || first?.name.text !== 'reshape' || rule.transforms.slice(1).some((t) => t.name.text === 'reshape')) return undefined;
  const s = sources[0].shape;
  if (s.length !== 3 || !/(^|[./])kernel$/.test(sources[0].key)) return undefined;
  const to = first.args.map((a) => a.value);
  if (to.length !== 2 || to.some((d) => d === undefined)) return undefined;
  const headsLast = to[0] === s[0] && to[1] === s[1] * s[2];
  const headsFirst = to[0] === s[0] * s[1] && to[1] === s[2];
  return headsLast || headsFirst ? 'in_out' : undefined;
}
