/**
 * Solves one group (one layer of a stack pair, or everything outside the stacks): scores every
 * candidate against every target, splits the feasible pairs into connected components, finds the best
 * total pairing of each with the Hungarian algorithm, settles the rare clash between a fused candidate
 * and its members, and gives each pairing a confidence from its score margin over the best alternative.
 * Tied embeddings (T5's `shared.weight` → encoder and decoder `embed_tokens`) are allowed afterwards: an
 * embedding or head target left over may reuse an embedding source already paired.
 */
import { Feature } from './features';
import { maxWeightMatching } from './hungarian';
import { GroupContext, SrcItem, candidates, inferNormOrder, scorePair } from './pairs';
import { TokenWeights } from './names';

export interface Chosen {
  item: SrcItem;
  target: Feature;
  score: number;
  transforms: string[];
  confidence: number;
}

/** Confidence from a score margin: 0.5 for a coin toss, about 0.95 for a role-and-name margin of 3.5. */
export function confidence(margin: number): number {
  return Math.round(100 * Math.min(1, Math.max(0, 1 - 0.5 * Math.exp(-margin / 1.5)))) / 100;
}

export function solveGroup(src: readonly Feature[], tgt: readonly Feature[], weights: TokenWeights, global: boolean): Chosen[] {
  if (src.length === 0 || tgt.length === 0) return [];
  const rank = new Map<Feature, number>();
  const ranks = (xs: readonly Feature[]) => [...xs].sort((a, b) => a.index - b.index).forEach((f, i) => rank.set(f, xs.length > 1 ? i / (xs.length - 1) : 0));
  ranks(src);
  ranks(tgt);
  const ctx: GroupContext = { weights, global, rank, normOrder: new Map() };
  if (!global) {
    inferNormOrder(src, ctx.normOrder);
    inferNormOrder(tgt, ctx.normOrder);
  } else {
    for (const f of [...src, ...tgt]) if (f.normOrder) ctx.normOrder.set(f, { order: f.normOrder, hard: true });
  }
  const items = candidates(src, tgt);
  const scored = items.map((it) => tgt.map((t) => scorePair(it, t, ctx)));

  const chosen: Chosen[] = [];
  for (const comp of components(scored, tgt.length)) {
    const sub = comp.rows.map((i) => comp.cols.map((j) => scored[i][j]?.score));
    for (const [a, b] of maxWeightMatching(sub)) {
      const i = comp.rows[a];
      const j = comp.cols[b];
      chosen.push({ item: items[i], target: tgt[j], score: scored[i][j]!.score, transforms: scored[i][j]!.transforms, confidence: 0 });
    }
  }
  const kept = settleClashes(chosen);

  // Margins: the best other candidate for this target, and (unless the source may be tied) the best other target for this candidate.
  const col = new Map(tgt.map((t, j) => [t, j]));
  const row = new Map(items.map((it, i) => [it, i]));
  for (const c of kept) {
    const i = row.get(c.item)!;
    const j = col.get(c.target)!;
    let alt = 0;
    for (let k = 0; k < items.length; k++) if (k !== i && scored[k][j]) alt = Math.max(alt, scored[k][j]!.score);
    if (c.item.role !== 'embed') for (let k = 0; k < tgt.length; k++) if (k !== j && scored[i][k]) alt = Math.max(alt, scored[i][k]!.score);
    c.confidence = confidence(c.score - alt);
  }

  // Tied weights: a leftover embedding/head target may take an embedding source that is already used.
  const written = new Set(kept.map((c) => c.target));
  for (const [j, t] of tgt.entries()) {
    if (written.has(t) || (t.role !== 'embed' && t.role !== 'head')) continue;
    const options = items.map((it, i) => ({ it, s: scored[i][j] })).filter((o) => o.it.kind === 'plain' && o.it.role === t.role && o.s);
    if (options.length === 0) continue;
    options.sort((a, b) => b.s!.score - a.s!.score);
    const best = options[0];
    const margin = best.s!.score - (options[1]?.s!.score ?? 0);
    kept.push({ item: best.it, target: t, score: best.s!.score, transforms: best.s!.transforms, confidence: confidence(margin) });
  }
  return kept;
}

/** Connected components of the feasible-pair graph: each is solved on its own, keeping the matrices small. */
function components(scored: (unknown | undefined)[][], nCols: number): { rows: number[]; cols: number[] }[] {
  const n = scored.length;
  const parent = Array.from({ length: n + nCols }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x] = parent[parent[x]];
    return x;
  };
  for (let i = 0; i < n; i++) for (let j = 0; j < nCols; j++) if (scored[i][j]) parent[find(i)] = find(n + j);
  const byRoot = new Map<number, { rows: number[]; cols: number[] }>();
  const at = (r: number) => byRoot.get(r) ?? (byRoot.set(r, { rows: [], cols: [] }), byRoot.get(r)!);
  for (let i = 0; i < n; i++) at(find(i)).rows.push(i);
  for (let j = 0; j < nCols; j++) at(find(n + j)).cols.push(j);
  return [...byRoot.values()].filter((c) => c.rows.length > 0 && c.cols.length > 0);
}

/**
 * A fused candidate and its members are different candidates, so the matching may pick both
 * (`[q, k, v] → qkv` and `q → …`). Keep the higher-scoring use of each tensor; parts of one tensor
 * (`c_attn#0`, `c_attn#1`) go together, but not with the whole tensor.
 */
function settleClashes(chosen: Chosen[]): Chosen[] {
  const whole = new Set<string>();
  const parts = new Map<string, Set<number>>();
  const kept: Chosen[] = [];
  for (const c of [...chosen].sort((a, b) => b.score - a.score)) {
    const res = c.item.resources;
    const clash = res.some((r) => whole.has(r.key) || (r.part === undefined ? parts.has(r.key) : parts.get(r.key)?.has(r.part)));
    if (clash) continue;
    for (const r of res) {
      if (r.part === undefined) whole.add(r.key);
      else parts.set(r.key, (parts.get(r.key) ?? new Set()).add(r.part));
    }
    kept.push(c);
  }
  return kept;
}
