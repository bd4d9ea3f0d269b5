/**
 * The auto-mapper's chunk and cat of a fused q/k/v, made per head where the checkpoint stores it so
 * (GPT-NeoX, BLOOM: see perHeadQkv.ts). Without the head count the rule keeps its plain form, marked
 * low-confidence with what is missing — as the rotary permutation does.
 */
import { FUSED_QKV_KEY, perHeadJoin, perHeadLayout, perHeadSplit } from '../perHeadQkv';
import { SideData } from '../sideData';
import { ProposedRule } from './proposedRule';

export function applyPerHeadQkv(rules: ProposedRule[], src: SideData, tgt: SideData): void {
  const from = perHeadLayout(src);
  const into = perHeadLayout(tgt);
  if (!from && !into) return;
  for (const r of rules) {
    const chunk = from && r.sources.length === 1 && FUSED_QKV_KEY.test(r.sources[0]) ? /^chunk\(3, ([012])\)$/.exec(r.transforms[0] ?? '') : null;
    if (chunk && from) {
      const shape = src.tensors.get(r.sources[0])?.shape;
      const split = from.heads && shape ? perHeadSplit(shape, from.heads, Number(chunk[1])) : undefined;
      if (!split) { lowConfidence(r, from.model, from.heads); continue; }
      r.transforms = [...split, ...r.transforms.slice(1)];
      r.note = `${from.model} interleaves q, k and v per head (${from.heads} heads, from ${from.from})`;
      continue;
    }
    if (into && r.sources.length === 3 && FUSED_QKV_KEY.test(r.target) && r.transforms[0] === 'cat(0)') {
      const shape = src.tensors.get(r.sources[0])?.shape;
      const join = into.heads && shape ? perHeadJoin(shape, into.heads, 3) : undefined;
      if (!join) { lowConfidence(r, into.model, into.heads); continue; }
      r.transforms = [...join, ...r.transforms.slice(1)];
      r.note = `${into.model} interleaves q, k and v per head (${into.heads} heads, from ${into.from})`;
    }
  }
}

function lowConfidence(r: ProposedRule, model: string, heads: number | undefined): void {
  r.confidence = Math.min(r.confidence, 0.5);
  r.note = heads
    ? `${model} interleaves q, k and v per head, but ${heads} heads do not divide this tensor's rows`
    : `${model} interleaves q, k and v per head: put config.json (num_attention_heads) beside the checkpoint`;
}
