/**
 * Repeated blocks: keys whose first integer segment is a layer index (`encoder.layer.3.…`,
 * `model.layers.3.…`) form a stack. Stacks are paired across the sides as an assignment problem —
 * by their names, by what a layer holds (roles) and by layer count — so T5's encoder goes to the
 * encoder and its decoder to the decoder. Tensors are then compared only within the same layer of
 * paired stacks, which keeps the problem small and the layers aligned.
 */
import { Feature } from './features';
import { maxWeightMatching } from './hungarian';
import { TokenWeights, tokens } from './names';

export interface Stack {
  name: string;
  layers: Map<number, Feature[]>;
}

export interface StackPair {
  source: string;
  target: string;
  sourceLayers: number[];
  targetLayers: number[];
}

export function findStacks(feats: readonly Feature[]): Map<string, Stack> {
  const out = new Map<string, Stack>();
  for (const f of feats) {
    if (f.stack === undefined || f.layer === undefined) continue;
    let s = out.get(f.stack);
    if (!s) out.set(f.stack, (s = { name: f.stack, layers: new Map() }));
    const l = s.layers.get(f.layer);
    if (l) l.push(f);
    else s.layers.set(f.layer, [f]);
  }
  return out;
}

/** What one layer of a stack holds, as role/parameter signatures (fused qkv counts as q, k and v). */
function content(s: Stack): Set<string> {
  const out = new Set<string>();
  for (const feats of s.layers.values()) {
    for (const f of feats) {
      const roles = f.role === 'qkv' ? ['q', 'k', 'v'] : f.role === 'kv' ? ['k', 'v'] : [f.role ?? f.tokens.join('_')];
      for (const r of roles) out.add(`${r}:${f.normOrder ?? ''}:${f.pclass}`);
    }
  }
  return out;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let common = 0;
  for (const x of a) if (b.has(x)) common++;
  const union = a.size + b.size - common;
  return union === 0 ? 0 : common / union;
}

export function pairStacks(src: Map<string, Stack>, tgt: Map<string, Stack>): StackPair[] {
  const S = [...src.values()];
  const T = [...tgt.values()];
  if (S.length === 0 || T.length === 0) return [];
  const w = new TokenWeights();
  const names = (xs: Stack[]) => xs.map((s) => tokens(s.name));
  const sn = names(S);
  const tn = names(T);
  for (const t of [...sn, ...tn]) w.add(t);
  const sc = S.map(content);
  const tc = T.map(content);
  const only = S.length === 1 && T.length === 1;
  const score = S.map((s, i) => T.map((t, j) => {
    const name = w.similarity(sn[i], tn[j]);
    const body = jaccard(sc[i], tc[j]);
    if (!only && name === 0 && body < 0.3) return undefined;
    return 1 + 2 * name + 2 * body + (s.layers.size === t.layers.size ? 1 : 0);
  }));
  const sorted = (m: Map<number, unknown>) => [...m.keys()].sort((a, b) => a - b);
  return maxWeightMatching(score).map(([i, j]) => ({
    source: S[i].name, target: T[j].name, sourceLayers: sorted(S[i].layers), targetLayers: sorted(T[j].layers),
  }));
}
