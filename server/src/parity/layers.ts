/**
 * `--layers`: which intermediate values of two graphs are the same layer. Values are the float outputs
 * of nodes computed from the inputs; each has a scope from its node name (torch.onnx names nodes by
 * module path, `/encoder/layer.0/attention/query/MatMul` → `encoder.layer.0.attention.query`).
 *
 * Pairing, most trusted first:
 *  1. anchors: modules that own weights, paired by the mapping (source module → target module of each
 *     written tensor) or, without one, by equal scope names; inside a paired module the k-th value of
 *     each operator type pairs with the k-th, and the module's last value with the other's last;
 *  2. anchors that cross (a q/k swap pairs query with k and key with q) are reduced to the longest
 *     chain that runs forward in both graphs, so the order fallback stays monotonic;
 *  3. between consecutive anchors, the remaining values pair by a longest common subsequence over
 *     (operator, shape): graph order and shape.
 */
import { FLOATING, dynamicValues, elemTypes } from './graphInfo';
import { OnnxModel } from './onnxModel';

export interface LayerValue { name: string; node: string; op: string; scope: string; order: number }

export type PairedBy = 'mapping' | 'name' | 'order';

export interface LayerPair { reference: LayerValue; candidate: LayerValue; pairedBy: PairedBy }

/** Module paths a mapping relates: `source` in the reference's naming, `target` in the candidate's. */
export interface ModulePair { source: string; target: string }

const SKIP_OPS = new Set(['Constant', 'ConstantOfShape', 'Shape', 'Size']);

export function nodeScope(nodeName: string): string {
  if (!nodeName.includes('/')) return '';
  const parts = nodeName.split('/').filter((s) => s !== '');
  return parts.slice(0, -1).join('.');
}

/** Intermediate values worth comparing: float (or untyped) outputs of nodes that depend on an input. */
export function layerValues(m: OnnxModel, exclude?: (name: string) => boolean): LayerValue[] {
  const types = elemTypes(m);
  const dynamic = dynamicValues(m);
  const out: LayerValue[] = [];
  m.nodes.forEach((n, order) => {
    if (SKIP_OPS.has(n.op)) return;
    for (const o of n.outputs) {
      if (o === '' || !dynamic.has(o) || exclude?.(o)) continue;
      const t = types.get(o);
      if (t !== undefined && !FLOATING.has(t)) continue;
      out.push({ name: o, node: n.name, op: n.op, scope: nodeScope(n.name), order });
    }
  });
  return out;
}

/** Leaf module pairs from the tensors a mapping wrote: `a.b.weight → x.y.weight` relates `a.b` to `x.y`. */
export function modulePairs(written: { source: string[]; target: string }[]): ModulePair[] {
  const seen = new Set<string>();
  const out: ModulePair[] = [];
  const parent = (k: string) => k.split('.').slice(0, -1).join('.');
  for (const w of written) {
    for (const s of w.source) {
      const p = { source: parent(s), target: parent(w.target) };
      const key = `${p.source}\0${p.target}`;
      if (p.source && p.target && !seen.has(key)) { seen.add(key); out.push(p); }
    }
  }
  return out;
}

/** A checkpoint's module path as a graph scope: exact, or the graph adds or drops a leading prefix. */
function resolveScope(module: string, scopes: Set<string>): string | undefined {
  if (scopes.has(module)) return module;
  const segs = module.split('.');
  for (let i = 1; i < segs.length; i++) {
    const tail = segs.slice(i).join('.');
    if (scopes.has(tail)) return tail;
  }
  for (const s of scopes) if (s.endsWith(`.${module}`)) return s;
  return undefined;
}

type Sized<T> = T & { dims: number[] };

const sameDims = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

export function pairLayers(ref: Sized<LayerValue>[], cand: Sized<LayerValue>[], modules: ModulePair[]): LayerPair[] {
  const refIndex = new Map(ref.map((v, i) => [v.name, i]));
  const candIndex = new Map(cand.map((v, i) => [v.name, i]));
  const byScope = <T extends LayerValue>(vs: T[]) => {
    const m = new Map<string, T[]>();
    for (const v of vs) { const l = m.get(v.scope); if (l) l.push(v); else m.set(v.scope, [v]); }
    return m;
  };
  const refScopes = byScope(ref);
  const candScopes = byScope(cand);

  // 1. Scope pairs: the mapping's modules, then scopes named alike in both graphs.
  const scopePairs: { r: string; c: string; by: PairedBy }[] = [];
  const usedRef = new Set<string>();
  for (const p of modules) {
    const r = resolveScope(p.source, new Set(refScopes.keys()));
    const c = resolveScope(p.target, new Set(candScopes.keys()));
    if (r === undefined || c === undefined || usedRef.has(r)) continue;
    usedRef.add(r);
    scopePairs.push({ r, c, by: 'mapping' });
  }
  for (const s of refScopes.keys()) {
    if (s !== '' && !usedRef.has(s) && candScopes.has(s)) scopePairs.push({ r: s, c: s, by: 'name' });
  }

  const anchors: [number, number, PairedBy][] = [];
  for (const { r, c, by } of scopePairs) {
    const rv = refScopes.get(r)!;
    const cv = candScopes.get(c)!;
    const taken = new Set<string>();
    const counts = new Map<string, number>();
    const candByOp = new Map<string, Sized<LayerValue>[]>();
    for (const v of cv) { const l = candByOp.get(v.op); if (l) l.push(v); else candByOp.set(v.op, [v]); }
    for (const v of rv) {
      const k = counts.get(v.op) ?? 0;
      counts.set(v.op, k + 1);
      const w = candByOp.get(v.op)?.[k];
      if (w && sameDims(v.dims, w.dims)) { anchors.push([refIndex.get(v.name)!, candIndex.get(w.name)!, by]); taken.add(v.name); }
    }
    const lastR = rv[rv.length - 1];
    const lastC = cv[cv.length - 1];
    if (!taken.has(lastR.name) && sameDims(lastR.dims, lastC.dims)) anchors.push([refIndex.get(lastR.name)!, candIndex.get(lastC.name)!, by]);
  }

  // 2. The longest chain of anchors increasing in both orders.
  anchors.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const chain = longestIncreasing(anchors);

  // 3. Between anchors: longest common subsequence on (operator, shape).
  const pairs: LayerPair[] = [];
  let ri = 0;
  let ci = 0;
  const fill = (rEnd: number, cEnd: number) => {
    for (const [a, b] of lcs(ref.slice(ri, rEnd), cand.slice(ci, cEnd))) pairs.push({ reference: ref[ri + a], candidate: cand[ci + b], pairedBy: 'order' });
  };
  for (const [r, c, by] of chain) {
    fill(r, c);
    pairs.push({ reference: ref[r], candidate: cand[c], pairedBy: by });
    ri = r + 1;
    ci = c + 1;
  }
  fill(ref.length, cand.length);
  return pairs;
}

function longestIncreasing(anchors: [number, number, PairedBy][]): [number, number, PairedBy][] {
  // Patience sorting over the candidate index, with strictly increasing reference index.
  const tails: number[] = [];
  const prev = new Array<number>(anchors.length).fill(-1);
  for (let i = 0; i < anchors.length; i++) {
    const c = anchors[i][1];
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (anchors[tails[mid]][1] < c && anchors[tails[mid]][0] < anchors[i][0]) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) prev[i] = tails[lo - 1];
    tails[lo] = i;
  }
  const out: [number, number, PairedBy][] = [];
  for (let i = tails.length ? tails[tails.length - 1] : -1; i >= 0; i = prev[i]) out.push(anchors[i]);
  return out.reverse();
}

/** Above this many cells a segment is paired greedily instead of by the quadratic LCS. */
const LCS_LIMIT = 4_000_000;

function lcs(a: Sized<LayerValue>[], b: Sized<LayerValue>[]): [number, number][] {
  const eq = (x: Sized<LayerValue>, y: Sized<LayerValue>) => x.op === y.op && sameDims(x.dims, y.dims);
  if (a.length === 0 || b.length === 0) return [];
  if (a.length * b.length > LCS_LIMIT) {
    const out: [number, number][] = [];
    let j = 0;
    for (let i = 0; i < a.length && j < b.length; i++) {
      const k = b.findIndex((y, idx) => idx >= j && eq(a[i], y));
      if (k >= 0) { out.push([i, k]); j = k + 1; }
    }
    return out;
  }
  const m = a.length;
  const n = b.length;
  const t = new Uint32Array((m + 1) * (n + 1));
  for (let i = m - 1; i >= 0; i--) {
    for (let j = n - 1; j >= 0; j--) {
      t[i * (n + 1) + j] = eq(a[i], b[j]) ? t[(i + 1) * (n + 1) + j + 1] + 1 : Math.max(t[(i + 1) * (n + 1) + j], t[i * (n + 1) + j + 1]);
    }
  }
  const out: [number, number][] = [];
  let i = 0;
  let j = 0;
  while (i < m && j < n) {
    if (eq(a[i], b[j]) && t[i * (n + 1) + j] === t[(i + 1) * (n + 1) + j + 1] + 1) { out.push([i, j]); i++; j++; }
    else if (t[(i + 1) * (n + 1) + j] >= t[i * (n + 1) + j + 1]) i++;
    else j++;
  }
  return out;
}

/**
 * The initializers a value is computed from since the last values known to agree: walking back through
 * producers, stopping at `good` values and graph inputs. These are the weights to suspect when the
 * value is the first to diverge. Identity copies of an initializer count as that name.
 */
export function weightsBehind(m: OnnxModel, value: string, good: Set<string>, limit = 500): string[] {
  const inits = new Set(m.initializers.map((t) => t.name));
  const producer = new Map<string, OnnxModel['nodes'][number]>();
  for (const n of m.nodes) for (const o of n.outputs) producer.set(o, n);
  const found: string[] = [];
  const seen = new Set<string>();
  const stack = [value];
  let visited = 0;
  while (stack.length && visited < limit) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    if (v !== value && good.has(v)) continue;
    if (inits.has(v)) { found.push(v); continue; }
    const n = producer.get(v);
    if (!n) continue;
    visited++;
    if (n.op === 'Identity' && n.inputs.length === 1 && inits.has(n.inputs[0])) { found.push(v); continue; }
    for (const i of n.inputs) if (i) stack.push(i);
  }
  return found.filter((w) => m.initializers.find((t) => t.name === w)?.dims.some((d) => d > 1) ?? true);
}
