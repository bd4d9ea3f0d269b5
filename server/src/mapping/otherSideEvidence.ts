/**
 * The framework of a checkpoint that does not say it, read from the other side of the mapping when the
 * file itself shows nothing (frameworkEvidence.ts found no config.json, no framework-only buffer, no bias
 * or width that shows a Linear weight's layout). A rule pairs a tensor here with one whose layout the
 * other side knows — a model class's Linear, a checkpoint that says its framework — and where the two
 * are non-square, equal shapes mean the same layout and reversed ones the other: e.g. Paddle's
 * `fc1.weight` [32, 64] ([in, out]) paired with this side's [64, 32] says [out, in], torch. Every such
 * pair must agree on one framework, else nothing is decided. Rules that reshape, split or join are not
 * read: their shapes say nothing this simple about layout.
 */
import { fmtShape } from './diagnostics';
import { FrameworkEvidence } from './frameworkEvidence';
import { LinearLayout, linearLayout } from './layout';
import { expandRule } from './ruleCheck';
import { SideData, isModelSourceSide } from './sideData';
import { Rule, isDrop } from './syntax';

/** Past this many agreeing pairs the answer is plain; reading every layer's adds nothing. */
const ENOUGH = 64;
const PLAIN = new Set(['transpose', 'cast']);

interface Vote { layout: LinearLayout; because: string; key: string }

/** `which` is the side to decide; `src` and `tgt` are the mapping's two sides (the rules expand over the source). */
export function frameworkFromOtherSide(which: 'source' | 'target', src: SideData, tgt: SideData, rules: Rule[]): FrameworkEvidence | undefined {
  const [mine, other] = which === 'source' ? [src, tgt] : [tgt, src];
  const otherSource = isModelSourceSide(other);
  if (!other.framework && !otherSource) return undefined;
  const votes: Vote[] = [];
  for (const rule of rules) {
    if (rule.sources.length !== 1 || !rule.target || isDrop(rule.target) || rule.transforms.some((t) => !PLAIN.has(t.name.text))) continue;
    for (const inst of expandRule(rule, src)) {
      if (!inst.target) continue;
      const s = src.tensors.get(inst.sources[0]);
      const t = tgt.tensors.get(inst.target);
      if (!s || !t) continue;
      const [here, there] = which === 'source' ? [s, t] : [t, s];
      if (here.shape.length !== 2 || there.shape.length !== 2 || here.shape[0] === here.shape[1]) continue;
      const known = linearLayout(there, other.framework, otherSource);
      if (!known) continue;
      const same = here.shape[0] === there.shape[0] && here.shape[1] === there.shape[1];
      const reversed = here.shape[0] === there.shape[1] && here.shape[1] === there.shape[0];
      if (!same && !reversed) continue;
      const layout: LinearLayout = same ? known : known === 'out_in' ? 'in_out' : 'out_in';
      votes.push({ key: here.key, layout, because: `the ${which === 'source' ? 'target' : 'source'}'s \`${there.key}\` ${fmtShape(there.shape)} is stored ${known === 'out_in' ? '[out, in]' : '[in, out]'} and \`${here.key}\` here is ${fmtShape(here.shape)}` });
      if (votes.length >= ENOUGH) break;
    }
    if (votes.length >= ENOUGH) break;
  }
  if (votes.length === 0) return undefined;
  const agree = (['torch', 'paddle'] as const).filter((fw) => votes.every((v) => linearLayout(mine.tensors.get(v.key)!, fw) === v.layout));
  if (agree.length !== 1) return undefined;
  const v = votes[0];
  return { framework: agree[0], why: `the other side of the mapping shows its Linear weights' layout: ${v.because}${votes.length > 1 ? ` (and ${votes.length - 1} more agree)` : ''}` };
}
