/**
 * `proposeMapping`: a complete mapping between two checkpoints, one rule per target key. Stacks are
 * paired first; each layer common to a stack pair is one group, everything outside the paired stacks is
 * another; every group is solved as an assignment problem (solve.ts). Layers only one side has are
 * reported, not forced onto others. Pure: two loaded sides in, plain data out.
 */
import { SideData } from '../sideData';
import { ProposedRule } from './proposedRule';
import { Feature, features } from './features';
import { keyRoleConflict } from '../roles';
import { castFor, fitShape } from './fit';
import { applyPerHeadQkv } from './perHead';
import { applyRotaryPermutation } from './rotary';
import { TokenWeights } from './names';
import { Chosen, solveGroup } from './solve';
import { StackPair, findStacks, pairStacks } from './stacks';

export interface MappingProposal {
  /** In target file order. */
  rules: ProposedRule[];
  /** Source keys no rule reads, in source file order. */
  unmappedSource: string[];
  /** Target keys no rule writes, in target file order. */
  unmappedTarget: string[];
  /** What writeTpmap needs to fold rules and explain what is left; not part of the JSON document. */
  detail: ProposalDetail;
}

export interface ProposalDetail {
  source: SideData;
  target: SideData;
  stacks: StackPair[];
  /** Why an unmapped key is left, per side. */
  sourceReasons: Map<string, string>;
  targetReasons: Map<string, string>;
}

export function proposeMapping(src: SideData, tgt: SideData): MappingProposal {
  const fs = features(src);
  const ft = features(tgt);
  const localWeights = new TokenWeights();
  const keyWeights = new TokenWeights();
  for (const f of [...fs, ...ft]) {
    localWeights.add(f.tokens);
    keyWeights.add(f.keyTokens);
  }
  const sStacks = findStacks(fs);
  const tStacks = findStacks(ft);
  const stacks = pairStacks(sStacks, tStacks);
  const sourceReasons = new Map<string, string>();
  const targetReasons = new Map<string, string>();
  const inPairedStack = new Set<Feature>();
  const chosen: Chosen[] = [];

  for (const p of stacks) {
    const s = sStacks.get(p.source)!;
    const t = tStacks.get(p.target)!;
    for (const [layer, feats] of s.layers) {
      feats.forEach((f) => inPairedStack.add(f));
      const other = t.layers.get(layer);
      if (other) chosen.push(...solveGroup(feats, other, localWeights, false));
      else for (const f of feats) sourceReasons.set(f.key, `layer ${layer}: \`${p.target}\` in the target has ${t.layers.size} layers`);
    }
    for (const [layer, feats] of t.layers) {
      feats.forEach((f) => inPairedStack.add(f));
      if (!s.layers.has(layer)) for (const f of feats) targetReasons.set(f.key, `layer ${layer}: \`${p.source}\` in the source has ${s.layers.size} layers`);
    }
  }
  chosen.push(...solveGroup(fs.filter((f) => !inPairedStack.has(f)), ft.filter((f) => !inPairedStack.has(f)), keyWeights, true));

  const tIndex = new Map(ft.map((f) => [f.key, f.index]));
  chosen.sort((a, b) => tIndex.get(a.target.key)! - tIndex.get(b.target.key)!);
  const rules: ProposedRule[] = chosen.map((c) => ({
    sources: c.item.feats.map((f) => f.key), target: c.target.key, transforms: c.transforms, confidence: c.confidence,
  }));
  applyRotaryPermutation(rules, src, tgt);
  applyPerHeadQkv(rules, src, tgt);
  const read = new Set(rules.flatMap((r) => r.sources));
  const written = new Set(rules.map((r) => r.target));
  const unmappedSource = src.keys.filter((k) => !read.has(k));
  const unmappedTarget = tgt.keys.filter((k) => !written.has(k));
  const sByKey = new Map(fs.map((f) => [f.key, f]));
  const tByKey = new Map(ft.map((f) => [f.key, f]));
  const sMiss = nearMisses(fs, keyWeights);
  const tMiss = nearMisses(ft, keyWeights);
  const freeSource = unmappedSource.map((k) => sByKey.get(k)!);
  for (const k of unmappedSource) {
    if (sourceReasons.has(k)) continue;
    const f = sByKey.get(k)!;
    sourceReasons.set(k, f.pclass === 'buffer' ? 'a buffer with no counterpart in the target' : `no counterpart in the target${tMiss(f) ?? ''}`);
  }
  for (const k of unmappedTarget) {
    if (targetReasons.has(k)) continue;
    const f = tByKey.get(k)!;
    const mates = freeSource.filter((s) => shapeMate(s, f));
    targetReasons.set(k, tgt.rebuilt.has(k) ? 'a buffer the model rebuilds' : mates.length ? unsaid(mates.map((s) => s.key), 'source') : `no source tensor fits${sMiss(f) ?? ''}`);
  }
  return { rules, unmappedSource, unmappedTarget, detail: { source: src, target: tgt, stacks, sourceReasons, targetReasons } };
}

/**
 * A source and a target both left over that could be one tensor: weight/bias alike, the same layer,
 * no role against it, and a shape of two or more dimensions that fits (by the sides' layouts; a [d]
 * vector fits every norm and bias). Not paired, since only the shape says so (a pooler and a projection
 * are often both [d, d]); the target's comment names it so the user decides.
 */
function shapeMate(s: Feature, t: Feature): boolean {
  if (t.tensor.shape.length < 2 || s.pclass !== t.pclass || s.pclass === 'buffer' || (s.layer !== undefined && t.layer !== undefined && s.layer !== t.layer)) return false;
  if (keyRoleConflict(s.raw, t.raw) || (s.role && t.role && s.role !== t.role)) return false;
  return castFor(s.tensor.dtype, t.tensor.dtype) !== undefined && fitShape(s.tensor.shape, t.tensor.shape, s.layout, t.layout, s.conv, t.conv) !== undefined;
}

/** The reason a tensor with shape mates on the other side is left: nothing but the shape ties them. */
function unsaid(keys: string[], side: 'source' | 'target'): string {
  const named = keys.slice(0, 3).map((k) => `\`${k}\``).join(', ') + (keys.length > 3 ? ` and ${keys.length - 3} more` : '');
  return `not paired on shape alone: ${side} ${named} ${keys.length === 1 ? 'is' : 'are'} left with a fitting shape, but no name or role ties ${keys.length === 1 ? 'it' : 'them'} to this one (map it by hand if ${keys.length === 1 ? 'that is' : 'one is'} the counterpart)`;
}

/**
 * For a tensor left over: the other side's tensor with the same role (and layer) and the closest name
 * whose shape rules it out, so the comment says why (`pos_embed` [1, 5, 8] vs [1, 17, 8]).
 */
function nearMisses(others: readonly Feature[], weights: TokenWeights): (f: Feature) => string | undefined {
  const byRole = new Map<string, Feature[]>();
  for (const o of others) if (o.role) byRole.set(o.role, [...(byRole.get(o.role) ?? []), o]);
  return (f) => {
    if (!f.role) return undefined;
    let best: Feature | undefined;
    let bestSim = -1;
    for (const o of byRole.get(f.role) ?? []) {
      if (o.pclass !== f.pclass || o.layer !== f.layer) continue;
      const sim = weights.similarity(o.keyTokens, f.keyTokens);
      if (sim > bestSim) { best = o; bestSim = sim; }
    }
    if (!best || fitShape(best.tensor.shape, f.tensor.shape) || fitShape(best.tensor.shape, f.tensor.shape, 'out_in', 'in_out')) return undefined;
    return ` (\`${best.key}\` plays that role but is ${best.tensor.dtype} [${best.tensor.shape.join(', ')}])`;
  };
}
