/**
 * The candidates of one group and the score of each (candidate, target) pair. Candidates are the
 * source tensors themselves, plus fused forms made before the assignment: the parts of a fused source
 * (`c_attn`, `qkv` → `chunk(3, k, dim)`) when the target has separate q/k/v, and the concatenation of
 * separate q/k/v (`[q, k, v] → cat(0)`) when the target has a fused qkv. A pair is infeasible when a
 * fact forbids it (no transform fits, roles or weight/bias disagree, norm order or stage differ, no
 * evidence beyond a fitting shape); otherwise its score adds up roles, name similarity, exact names,
 * order in the block and dtype, less what the fit had to guess.
 */
import { Role, keyRoleConflict } from '../roles';
import { Feature } from './features';
import { Fit, castFor, fitShape, mergeHeads, outDim } from './fit';
import { TokenWeights } from './names';

export interface SrcItem {
  kind: 'plain' | 'chunk' | 'cat';
  feats: Feature[];
  /** The role this candidate plays: a chunk's part (q/k/v), a cat's fused role (qkv/kv). */
  role?: Role;
  /** chunk: part k of n. */
  n?: number;
  k?: number;
  /** What the candidate consumes: whole tensors, or one part of a tensor. */
  resources: { key: string; part?: number }[];
}

export interface GroupContext {
  weights: TokenWeights;
  /** Outside the stacks: compare whole keys, and norms by stage. */
  global: boolean;
  /** Rank of each tensor in its group's file order, 0…1. */
  rank: Map<Feature, number>;
  /** Norm order within the block: said by the name (hard) or inferred (see inferNormOrder). */
  normOrder: Map<Feature, { order: 1 | 2; hard: boolean }>;
}

/**
 * A block's two norms when the names leave one or both unsaid: OPT's `self_attn_layer_norm` (first) and
 * `final_layer_norm` (so: second), T5's `layer.0.layer_norm` and `layer.1.layer_norm` (file order, a
 * softer guess).
 */
export function inferNormOrder(feats: readonly Feature[], out: GroupContext['normOrder']): void {
  const modules = new Map<string, Feature[]>();
  for (const f of feats) {
    if (f.role !== 'norm') continue;
    const m = f.name.slice(0, f.name.lastIndexOf('.'));
    modules.set(m, [...(modules.get(m) ?? []), f]);
  }
  const mods = [...modules.values()];
  for (const fs of mods) for (const f of fs) if (f.normOrder) out.set(f, { order: f.normOrder, hard: true });
  if (mods.length !== 2) return;
  const known = mods.filter((fs) => fs[0].normOrder);
  if (known.length === 1) {
    const other = (3 - known[0][0].normOrder!) as 1 | 2;
    for (const f of mods.find((fs) => !fs[0].normOrder)!) out.set(f, { order: other, hard: true });
  } else if (known.length === 0) {
    const first = (fs: Feature[]) => Math.min(...fs.map((f) => f.index));
    mods.sort((a, b) => first(a) - first(b)).forEach((fs, i) => fs.forEach((f) => out.set(f, { order: (i + 1) as 1 | 2, hard: false })));
  }
}

export interface Scored { score: number; transforms: string[] }

const FUSED_PARTS: Partial<Record<Role, Role[]>> = { qkv: ['q', 'k', 'v'], kv: ['k', 'v'] };

export function candidates(src: readonly Feature[], tgt: readonly Feature[]): SrcItem[] {
  const items: SrcItem[] = src.map((f) => ({ kind: 'plain', feats: [f], role: f.role, resources: [{ key: f.key }] }));
  const tgtRoles = new Set(tgt.map((t) => t.role));
  for (const f of src) {
    const parts = f.role ? FUSED_PARTS[f.role] : undefined;
    if (!parts || !parts.some((p) => tgtRoles.has(p))) continue;
    parts.forEach((role, k) => items.push({ kind: 'chunk', feats: [f], role, n: parts.length, k, resources: [{ key: f.key, part: k }] }));
  }
  for (const fused of ['qkv', 'kv'] as const) {
    if (!tgtRoles.has(fused)) continue;
    const parts = FUSED_PARTS[fused]!;
    for (const first of src.filter((f) => f.role === parts[0])) {
      const members = [first, ...parts.slice(1).map((role) => src.find((g) => g.role === role && siblings(first, g)))];
      if (members.every((m): m is Feature => m !== undefined)) {
        items.push({ kind: 'cat', feats: members, role: fused, resources: members.map((m) => ({ key: m.key })) });
      }
    }
  }
  return items;
}

/** Two keys that differ in exactly one segment (the q/k/v module), with the same shape, dtype and parameter. */
function siblings(a: Feature, b: Feature): boolean {
  const x = a.name.split('.');
  const y = b.name.split('.');
  if (x.length !== y.length || a.pclass !== b.pclass || a.tensor.dtype !== b.tensor.dtype) return false;
  if (a.tensor.shape.join() !== b.tensor.shape.join()) return false;
  return x.filter((s, i) => s !== y[i]).length === 1;
}

export function scorePair(item: SrcItem, t: Feature, ctx: GroupContext): Scored | undefined {
  const s = item.feats[0];
  if (s.pclass !== t.pclass) return undefined;
  // Layer 3 → layer 5 is never proposed (the analysis calls it suspicious), inside the stacks or outside.
  if (s.layer !== undefined && t.layer !== undefined && s.layer !== t.layer) return undefined;
  const roleEq = item.role !== undefined && item.role === t.role;
  if (item.kind === 'plain') {
    if (keyRoleConflict(s.raw, t.raw)) return undefined;
    if (item.role && t.role && !roleEq) return undefined;
  } else if (!roleEq) {
    return undefined;
  }
  const so = ctx.normOrder.get(s);
  const to = ctx.normOrder.get(t);
  if (so && to && so.hard && to.hard && so.order !== to.order) return undefined;
  const orderEq = so !== undefined && to !== undefined && so.order === to.order;
  if (ctx.global && s.stage && t.stage && s.stage !== t.stage) return undefined;

  // A Keras 3 layer's class is its weights' only name: a Dense kernel pairs with a Linear weight, never a convolution's.
  const kindSaid = (s.kindSaid || t.kindSaid) && s.kind !== undefined && t.kind !== undefined;
  if (kindSaid && s.kind !== t.kind) return undefined;
  const kindEq = kindSaid && s.kind === t.kind;
  const fit = fitItem(item, t);
  if (!fit) return undefined;
  const toks = (f: Feature) => (ctx.global ? f.keyTokens : f.tokens);
  const sim = Math.max(...item.feats.map((f) => ctx.weights.similarity(toks(f), toks(t))));
  const exact = item.kind === 'plain' && sameName(s, t, ctx.global);
  // The leaf's own name with an exact shape (or its transpose) is evidence under any container's name.
  const leaf = item.kind === 'plain' && !exact && fit.cost === 0 && sameLeaf(s, t);
  if (!roleEq && sim < 0.3 && !exact && !leaf && !kindEq) return undefined;
  const order = 1 - Math.abs((ctx.rank.get(s) ?? 0) - (ctx.rank.get(t) ?? 0));
  const score = 1 + (roleEq ? 4 : 0) + (orderEq ? 1 : 0) + 3 * sim + (exact ? 2 : 0) + (leaf ? 1.5 : 0) + (kindEq ? 1 : 0)
    + 0.5 * order + (s.tensor.dtype === t.tensor.dtype ? 0.2 : 0) - fit.cost;
  return { score, transforms: fit.transforms };
}

/**
 * The same leaf: a parameter that is its own module by its name (`cls_token`, `pos_embed`), any other by
 * its module and name (`query.weight`) — `weight` alone says nothing.
 */
function sameLeaf(s: Feature, t: Feature): boolean {
  const leaf = (f: Feature) => {
    const segs = f.name.toLowerCase().split('.');
    const last = segs[segs.length - 1];
    return f.pclass === 'w' && !/^(weight|kernel|gamma|scale)$/.test(last) ? last : segs.slice(-2).join('.');
  };
  return leaf(s) === leaf(t) && leaf(s).length > 0;
}

/** Equal names inside a layer; outside, one key ends with the other (a prefix added or stripped). */
function sameName(s: Feature, t: Feature, global: boolean): boolean {
  const a = (global ? s.name : s.local).toLowerCase();
  const b = (global ? t.name : t.local).toLowerCase();
  if (a === b) return true;
  if (!global) return false;
  const [short, long] = a.length < b.length ? [a, b] : [b, a];
  return short.includes('.') && long.endsWith(`.${short}`);
}

function fitItem(item: SrcItem, t: Feature): Fit | undefined {
  const s = item.feats[0];
  const dtype = castFor(s.tensor.dtype, t.tensor.dtype);
  if (!dtype) return undefined;
  const withCast = (f: Fit | undefined, pre: string[]): Fit | undefined => (f ? { transforms: [...pre, ...f.transforms, ...dtype], cost: f.cost + (dtype.length ? 0.1 : 0) } : undefined);
  const shape = s.tensor.shape;
  if (item.kind === 'plain') {
    const heads = s.role === 'q' || s.role === 'k' || s.role === 'v' || s.role === 'o';
    return withCast(fitShape(shape, t.tensor.shape, s.layout, t.layout, s.conv, t.conv)
      ?? (heads ? mergeHeads(shape, t.tensor.shape, s.raw.param === 'kernel', t.layout) : undefined), []);
  }
  if (item.kind === 'chunk') {
    const n = item.n!;
    const dims = shape.length === 1 ? [0] : s.layout ? [outDim(s.layout)] : [0, 1];
    for (const d of dims) {
      if (d >= shape.length || shape[d] % n !== 0) continue;
      const part = shape.map((x, i) => (i === d ? x / n : x));
      const f = fitShape(part, t.tensor.shape, s.layout, t.layout);
      if (f) return withCast({ transforms: f.transforms, cost: f.cost + 0.2 }, [d === 0 ? `chunk(${n}, ${item.k})` : `chunk(${n}, ${item.k}, ${d})`]);
    }
    return undefined;
  }
  // cat: along the members' output dimension (their layout, else the target's), then fit the fused shape.
  const d = shape.length === 1 ? 0 : outDim(s.layout, t.layout);
  const fused = shape.map((x, i) => (i === d ? x * item.feats.length : x));
  const f = fitShape(fused, t.tensor.shape, s.layout, t.layout);
  return withCast(f ? { transforms: f.transforms, cost: f.cost + 0.2 } : undefined, [`cat(${d})`]);
}
