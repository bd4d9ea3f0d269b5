/**
 * The auto-mapper's pairing of LLaMA q/k rows across HF's and Meta's (or GGUF's) row orders gets the
 * rotary permutation as transforms (rotaryLayout.ts); without the head count the rule says what is
 * missing and is marked low-confidence.
 */
import { isKeyRows, rotaryDirection, rotaryHeads, rotaryTransforms } from '../rotaryLayout';
import { SideData } from '../sideData';
import { ProposedRule } from './proposedRule';

export function applyRotaryPermutation(rules: ProposedRule[], src: SideData, tgt: SideData): void {
  for (const r of rules) {
    if (r.sources.length !== 1) continue;
    const s = r.sources[0];
    const dir = rotaryDirection(s, r.target);
    if (!dir) continue;
    const heads = rotaryHeads(src, tgt);
    const shape = src.tensors.get(s)?.shape;
    if (!heads || !shape) {
      r.confidence = Math.min(r.confidence, 0.5);
      r.note = 'LLaMA q/k rows need the rotary permutation: put config.json (HF) or params.json (Meta) with the head count beside a checkpoint';
      continue;
    }
    const isK = isKeyRows(s);
    const perm = rotaryTransforms(shape, heads, dir, isK);
    if ('why' in perm) {
      r.confidence = Math.min(r.confidence, 0.5);
      r.note = perm.why;
      continue;
    }
    const n = isK ? heads.kvHeads : heads.heads;
    r.transforms = [...perm.transforms, ...r.transforms];
    r.note = `rotary permutation of LLaMA's ${isK ? 'k' : 'q'} rows (${n} head${n === 1 ? '' : 's'}, from ${heads.from})`;
  }
}
