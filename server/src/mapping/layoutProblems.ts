/**
 * The rule checks where every shape fits and only the two sides' storage conventions tell the port is
 * wrong: a convolution between layouts without its permute, a per-head fused q/k/v chunked as if it were
 * contiguous, LLaMA q/k rows across HF's and Meta's/GGUF's rotary order. Each returns the problem with
 * the transforms that fix it, where one fix can serve the whole rule.
 */
import { TensorInfo } from '../formats/tensorInfo';
import { Problem, Related, fmtShape, sameShape } from './diagnostics';
import { convLayout, convPermutation, describeConv, layoutReason, linearLayout } from './layout';
import { FUSED_QKV_KEY, perHeadJoin, perHeadLayout, perHeadSplit } from './perHeadQkv';
import { isKeyRows, rotaryDirection, rotaryHeads, rotaryTransforms } from './rotaryLayout';
import { SideData, isModelSourceSide } from './sideData';
import { Rule, Transform, isDrop } from './syntax';

/**
 * A convolution weight between two layout conventions (torch OIHW, MLX OHWI, JAX HWIO) with no `permute`:
 * `missing-transpose`, the spec's code for "the layout conventions require one" — a 3×3 convolution over
 * 3 channels has the same shape in every layout, so this is the convolutions' square matrix.
 */
export function convProblem(rule: Rule, sources: TensorInfo[], target: TensorInfo, src: SideData, tgt: SideData, out: readonly number[], related: Related[]): Problem | undefined {
  if (sources.length !== 1 || rule.transforms.some((t) => t.name.text === 'permute')) return undefined;
  const from = convLayout(sources[0], src.framework, isModelSourceSide(src));
  const to = convLayout(target, tgt.framework, isModelSourceSide(tgt));
  if (!from || !to || from === to) return undefined;
  const perm = convPermutation(from, to);
  if (!perm || !sameShape(perm.map((d) => out[d]), target.shape)) return undefined;
  const text = `permute(${perm.join(', ')})`;
  const hidden = sameShape(out, target.shape) ? ` (the shape ${fmtShape(out)} is the same in both layouts and hides it)` : '';
  // A `*` rule also moves biases (and maybe convolutions of another rank): one permute cannot serve it.
  const star = hasStar(rule);
  return {
    code: 'missing-transpose', severity: 'error', span: { start: rule.start, end: rule.end }, related,
    message: `${conventions('convolution', sources[0], src, describeConv(from), target, tgt, describeConv(to))}: ${star ? `write its weight as a rule of its own with \`| ${text}\`` : `add \`| ${text}\``}${hidden}`,
    fixes: star ? undefined : [{ title: `Add \`| ${text}\``, edits: [{ start: rule.end, end: rule.end, newText: ` | ${text}` }], preferred: true }],
  };
}

/**
 * How the two sides store `what` (`[out, in]`, `[kh, kw, in, out]`): two frameworks' conventions by name;
 * otherwise each side with why (a Flax `kernel`, GPT-2's Conv1D, a use in the code), so a message never
 * sets a framework against itself.
 */
export function conventions(what: string, s: TensorInfo, src: SideData, from: string, t: TensorInfo, tgt: SideData, to: string): string {
  const rs = layoutReason(s, src.framework, isModelSourceSide(src));
  const rt = layoutReason(t, tgt.framework, isModelSourceSide(tgt));
  return rs !== rt && rs === src.framework && rt === tgt.framework
    ? `${rs} stores this ${what} as ${from}, ${rt} as ${to}`
    : `the source stores this ${what} as ${from} (${rs}), the target as ${to} (${rt})`;
}

/**
 * A plain `chunk(3, k)` of a fused q/k/v stored per head (GPT-NeoX, BLOOM), or a plain `cat(0)` into
 * one: every shape fits and the values are a third of the heads with q, k and v mixed (perHeadQkv.ts).
 */
export function perHeadProblem(rule: Rule, sources: TensorInfo[], target: TensorInfo, src: SideData, tgt: SideData, related: Related[]): Problem | undefined {
  const first = rule.transforms[0];
  if (!first) return undefined;
  const ints = first.args.map((a) => a.value);
  const written = `${first.name.text}(${first.args.map((a) => a.text).join(', ')})`;
  let layout, fix: string[] | undefined, what: string;
  if (first.name.text === 'chunk' && sources.length === 1 && FUSED_QKV_KEY.test(sources[0].key) && ints[0] === 3 && ints[1] !== undefined && (ints.length === 2 || ints[2] === 0)) {
    layout = perHeadLayout(src);
    if (!layout) return undefined;
    fix = layout.heads ? perHeadSplit(sources[0].shape, layout.heads, ints[1]) : undefined;
    what = `\`${sources[0].key}\` holds each head's q, k and v in turn, so \`${written}\` takes the rows of a third of the heads, q, k and v mixed`;
  } else if (first.name.text === 'cat' && sources.length > 1 && FUSED_QKV_KEY.test(target.key) && ints[0] === 0) {
    layout = perHeadLayout(tgt);
    if (!layout) return undefined;
    fix = layout.heads ? perHeadJoin(sources[0].shape, layout.heads, sources.length) : undefined;
    what = `\`${target.key}\` holds each head's q, k and v in turn, so \`${written}\` puts all of q before all of k`;
  } else {
    return undefined;
  }
  // One fix cannot serve a `*` rule: its weight and bias need different reshapes.
  const star = hasStar(rule);
  const how = !layout.heads ? ': put config.json (num_attention_heads) beside the checkpoint for the per-head form'
    : star ? `: write the weight and the bias as rules of their own, each split per head (for this weight: \`${fix?.join(' | ')}\`)`
      : `: interleave per head with \`${fix?.join(' | ')}\``;
  if (star) fix = undefined;
  return {
    code: 'suspicious-pairing', severity: 'warning', span: first, related, message: `${layout.model} (${layout.from}): ${what}${how}`,
    fixes: fix ? [{ title: 'Split per head', edits: [{ start: first.start, end: first.end, newText: fix.join(' | ') }], preferred: true }] : undefined,
  };
}

/**
 * LLaMA q/k rows paired across HF's and Meta's (or GGUF's) row orders without the rotary permutation
 * (rotaryLayout.ts): every shape fits and the port's attention is scrambled.
 */
export function rotaryProblem(rule: Rule, sources: TensorInfo[], target: TensorInfo, src: SideData, tgt: SideData, related: Related[]): Problem | undefined {
  if (sources.length !== 1 || !rule.target || isDrop(rule.target)) return undefined;
  const dir = rotaryDirection(sources[0].key, target.key);
  if (!dir || rule.transforms.some((t) => t.name.text === 'permute')) return undefined;
  const heads = rotaryHeads(src, tgt);
  const perm = heads ? rotaryTransforms(sources[0].shape, heads, dir, isKeyRows(sources[0].key)) : undefined;
  const orders = dir === 'hf-to-meta' ? 'HF orders them for rotate_half, the target interleaves them' : 'the source interleaves them, HF orders them for rotate_half';
  const how = !perm ? ': put config.json (HF) or params.json (Meta) with the head count beside a checkpoint to get the permutation'
    : 'why' in perm ? `: ${perm.why}` : `: add \`${perm.transforms.join(' | ')}\` (${heads!.from})`;
  // One fix serves the rule only when its target names q or k itself (a capture over both would need two).
  const single = /(q_proj|k_proj|\bwq|\bwk|attn_q|attn_k)\b/.test(rule.target.text);
  const fix = perm && !('why' in perm) && single
    ? [{ title: 'Add the rotary permutation', edits: [{ start: rule.target.end, end: rule.target.end, newText: ` | ${perm.transforms.join(' | ')}` }], preferred: true }]
    : undefined;
  return {
    code: 'suspicious-pairing', severity: 'warning', span: rule.target, related, fixes: fix,
    message: `\`${sources[0].key}\` → \`${target.key}\`: LLaMA's ${isKeyRows(sources[0].key) ? 'k' : 'q'} rows need the rotary permutation (${orders}); without it every shape fits and the attention is scrambled${how}`,
  };
}

/** A rule ending in `*` covers several kinds of tensor (weight and bias): no single shape fix fits it. */
function hasStar(rule: Rule): boolean {
  return rule.sources.some((p) => p.segments.at(-1)?.kind === 'star') || (!!rule.target && !isDrop(rule.target) && rule.target.segments.at(-1)?.kind === 'star');
}

/**
 * A `cat` of Linear weights along their input dimension (`cat(1)` of torch's `[out, in]` q, k, v): the
 * fused shape may fit the target (transposed or not) while every row mixes q's inputs with k's. The
 * fused weight is the parts stacked along their output dimension; returns the `cat` and that axis.
 */
export function catAcrossInputs(rule: Rule, sources: TensorInfo[], src: SideData): { cat: Transform; axis: 0 | 1 } | undefined {
  const cat = rule.transforms.find((t) => t.name.text === 'cat');
  if (!cat || sources.length < 2 || sources.some((s) => s.shape.length !== 2)) return undefined;
  const from = linearLayout(sources[0], src.framework, isModelSourceSide(src));
  if (!from) return undefined;
  const d = cat.args[0]?.value;
  const input = from === 'out_in' ? 1 : 0;
  return d === input || d === input - 2 ? { cat, axis: input === 1 ? 0 : 1 } : undefined;
}

/** A transform as the mapping language writes it. */
export function renderTransform(t: Transform): string {
  return `${t.name.text}${t.parens ? `(${t.args.map((a) => a.text).join(', ')})` : ''}`;
}
