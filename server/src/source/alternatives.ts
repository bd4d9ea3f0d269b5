/**
 * Alternatives under conditions nothing decides. A condition is a list of parts (`` `config.gated` ``,
 * `` not `config.gated` ``) that all hold; an entry a module registers inside an undecided branch
 * carries the parts relative to that module. When a name already registered is registered again
 * under a different condition (`if c: self.ffn = Gated() else: self.ffn = Plain()`, or an `elif`, or a
 * later `if c: self.norm = RMSNorm()` over an unconditional `LayerNorm`), the later one replaces the
 * earlier only where its condition holds: both alternatives are kept, merged key by key — a key both
 * have with one shape exists whenever either does, a key only one has is conditional on it, and a key
 * whose shape differs between them has no single shape (a gap, never one of the two as if certain).
 */
import { renderDim } from './dims';
import { ModNode, TensorVal, Value } from './values';

export type Cond = readonly string[];

/** `not X` ↔ `X`; a conjunction is negated as a whole. */
export function negate(c: Cond): string {
  if (c.length === 1) return c[0].startsWith('not ') ? c[0].slice(4) : `not ${c[0]}`;
  return `not (${c.join(' and ')})`;
}

/** The condition as shown: each part once, in order. */
export function condText(c: Cond | undefined): string | undefined {
  return c?.length ? [...new Set(c)].join(' and ') : undefined;
}

const commonPrefix = (x: Cond, y: Cond) => { let i = 0; while (i < x.length && i < y.length && x[i] === y[i]) i++; return i; };

/** Whether `x` and `y` cannot both hold: one has a part the other negates (sibling branches of an `if`). */
function disjoint(x: Cond, y: Cond): boolean {
  return y.some((p) => x.includes(negate([p])));
}

/** Where an earlier registration (under `old`) still holds once a later one (under `now`) replaced it. */
function stillHolds(old: Cond, now: Cond): Cond {
  if (disjoint(old, now)) return old;
  const rest = now.slice(commonPrefix(old, now));
  return rest.length ? [...old, negate(rest)] : old;
}

/** The condition under which at least one of `x`, `y` holds, as simply as it can be said. */
function either(x: Cond, y: Cond): Cond {
  if (!x.length || !y.length) return [];
  const p = commonPrefix(x, y);
  const rx = x.slice(p), ry = y.slice(p);
  if (!rx.length || !ry.length) return x.slice(0, p);
  if (rx.length === 1 && ry.length === 1 && rx[0] === negate(ry)) return x.slice(0, p);
  return [`(${condText(x)}) or (${condText(y)})`];
}

const relative = (c: Cond, to: Cond): Cond => (to.every((p, i) => c[i] === p) ? c.slice(to.length) : c);

const sameShape = (a: TensorVal, b: TensorVal) => a.dtype === b.dtype && !!a.shape && !!b.shape
  && a.shape.length === b.shape.length && a.shape.every((d, i) => renderDim(d) === renderDim(b.shape![i]));

/** What a name holds in a module, for merging. */
type Entry =
  | { k: 'param'; v: TensorVal }
  | { k: 'buffer'; v: TensorVal; persistent: boolean }
  | { k: 'child'; v: ModNode }
  | { k: 'none' };

export function entryOf(node: ModNode, name: string): Entry | undefined {
  const p = node.params.get(name);
  if (p !== undefined) return p ? { k: 'param', v: p } : { k: 'none' };
  const b = node.buffers.get(name);
  if (b !== undefined) return b ? { k: 'buffer', v: b.tensor, persistent: b.persistent } : { k: 'none' };
  const c = node.children.get(name);
  if (c !== undefined) return c ? { k: 'child', v: c } : { k: 'none' };
  return undefined;
}

function put(node: ModNode, name: string, e: Entry, cond: Cond): void {
  // Only the other kinds' maps lose the name: one of the same kind keeps its place (the order of state_dict()).
  if (e.k !== 'param') node.params.delete(name);
  if (e.k !== 'buffer') node.buffers.delete(name);
  if (e.k !== 'child') node.children.delete(name);
  if (e.k === 'param') node.params.set(name, e.v);
  else if (e.k === 'buffer') node.buffers.set(name, { tensor: e.v, persistent: e.persistent });
  else if (e.k === 'child') node.children.set(name, e.v);
  if (cond.length) node.cond.set(name, cond); else node.cond.delete(name);
}

/** What cannot be one entry whatever the condition: recorded where the name is (a gap on that module). */
export type Conflict = (node: ModNode, name: string, message: string) => void;

/**
 * `name` on `node` held `old` under `oldCond` and now holds what was just registered under `nowCond`
 * (both relative to `node`): keep both alternatives.
 */
export function mergeRegistration(node: ModNode, name: string, old: Entry, oldCond: Cond, nowCond: Cond, conflict: Conflict): void {
  const now = entryOf(node, name);
  if (!now) return;
  if (oldCond.length === nowCond.length && oldCond.every((p, i) => nowCond[i] === p)) return; // the same branch: a plain re-assignment
  const before = stillHolds(oldCond, nowCond);
  merge(node, name, old, before, now, nowCond, conflict);
}

function merge(node: ModNode, name: string, a: Entry, ca: Cond, b: Entry, cb: Cond, conflict: Conflict): void {
  const both = either(ca, cb);
  if (a.k === 'none') { put(node, name, b, cb); return; }
  if (b.k === 'none') { put(node, name, a, ca); return; }
  if (a.k === 'child' && b.k === 'child') {
    put(node, name, { k: 'child', v: mergeNodes(a.v, relative(ca, both), b.v, relative(cb, both), conflict) }, both);
    return;
  }
  if (a.k !== 'child' && b.k !== 'child') {
    const same = a.k === b.k && sameShape(a.v, b.v) && (a.k !== 'buffer' || b.k !== 'buffer' || a.persistent === b.persistent);
    if (same) { put(node, name, b, both); return; }
    // One key, two shapes (or a parameter in one branch and a buffer in the other): no shape is certain.
    const t = { ...b.v, shape: a.k === b.k ? undefined : b.v.shape };
    put(node, name, b.k === 'buffer' ? { ...b, v: t } : { k: 'param', v: t }, both);
    conflict(node, name, `\`${name}\` is ${describe(a)} if ${condText(ca)}, ${describe(b)} if ${condText(cb)}`);
    return;
  }
  put(node, name, b, cb);
  conflict(node, name, `\`${name}\` is ${describe(a)} if ${condText(ca)}, ${describe(b)} if ${condText(cb)}: only the second is listed`);
}

function describe(e: Entry): string {
  switch (e.k) {
    case 'child': return `a \`${e.v.className}\``;
    case 'none': return 'None';
    default: return `a ${e.k === 'param' ? 'parameter' : 'buffer'} of shape [${e.v.shape?.map(renderDim).join(', ') ?? '?'}]`;
  }
}

/** Two modules one name holds under `ca` / `cb`: one module with each entry under the condition it exists. */
function mergeNodes(a: ModNode, ca: Cond, b: ModNode, cb: Cond, conflict: Conflict): ModNode {
  const out = b.clone();
  out.params.clear(); out.buffers.clear(); out.children.clear(); out.cond.clear();
  out.gaps = [...a.gaps.filter((g) => !b.gaps.includes(g)), ...b.gaps];
  const names = new Set<string>();
  for (const n of [a, b]) for (const m of [n.params, n.buffers, n.children]) for (const k of m.keys()) names.add(k);
  for (const name of names) {
    const ea = entryOf(a, name), eb = entryOf(b, name);
    const fa = [...ca, ...(a.cond.get(name) ?? [])], fb = [...cb, ...(b.cond.get(name) ?? [])];
    if (ea && eb) merge(out, name, ea, fa, eb, fb, conflict);
    else if (ea) put(out, name, ea, fa);
    else if (eb) put(out, name, eb, fb);
  }
  return out;
}

/** `a` where `cond` holds, `b` where not — one value when both are the same. */
export function alt(cond: string, a: Value, b: Value): Value {
  if (a === b) return a;
  if (a.t === b.t && (a.t === 'str' || a.t === 'bool') && a.v === (b as typeof a).v) return a;
  if (a.t === 'num' && b.t === 'num' && renderDim(a.d) === renderDim(b.d)) return a;
  if (a.t === 'none' && b.t === 'none') return a;
  if (a.t === 'class' && b.t === 'class' && a.def === b.def) return a;
  if (a.t === 'ref' && b.t === 'ref' && a.q === b.q) return a;
  return { t: 'alt', cond, a, b };
}
