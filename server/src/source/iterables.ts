/**
 * Lists and dicts as model code builds and walks them: `enumerate`/`zip` over dicts and ranges with a
 * symbolic count, `itertools.product`, `dict.update`/`setdefault`, and what a loop inference skipped
 * would have filled. A container a skipped loop appends to is `partial`: its `len()` is unknown and
 * iterating it is not followed (a gap where that registers layers) — never a definite, wrong count.
 */
import { Dim } from './dims';
import { Expr, Stmt } from './ir';
import { CallArgs, Gap, NONE, Site, UNKNOWN, Value, num } from './values';

type ListVal = Extract<Value, { t: 'list' }>;
type DictVal = Extract<Value, { t: 'dict' }>;

const str = (v: string): Value => ({ t: 'str', v });
const tuple = (items: Value[]): Value => ({ t: 'list', items, tuple: true });
/** A key as iterating the dict gives it: a tuple key is the tuple (dictKeys.ts), any other its string. */
const keyValue = (d: DictVal, k: string): Value => d.keys?.get(k) ?? str(k);

/** What iterating a list or dict yields (a dict: its keys), with the list's symbolic count; undefined when not listed. */
export function itemsOf(v: Value): { items: Value[]; count?: Dim } | undefined {
  if (v.t === 'list') return v.partial ? undefined : { items: v.items, count: v.count };
  if (v.t === 'dict') return v.partial ? undefined : { items: [...v.entries.keys()].map((k) => keyValue(v, k)), count: v.count };
  return undefined;
}

/** `len(x)` of a list or dict: its symbolic count where a loop over one filled it; unknown where a skipped loop would have. */
export function lengthOf(v: ListVal | DictVal): Value {
  if (v.partial) return UNKNOWN;
  return num(v.count ?? (v.t === 'list' ? v.items.length : v.entries.size));
}

/** `enumerate(xs, start=0)`. */
export function enumerateOf(args: CallArgs): Value {
  const it = args.pos[0] ? itemsOf(args.pos[0]) : undefined;
  const s = args.pos[1] ?? args.kw.get('start');
  const start = s?.t === 'num' && typeof s.d === 'number' ? s.d : s ? undefined : 0;
  if (!it || start === undefined) return UNKNOWN;
  return { t: 'list', items: it.items.map((v, i) => tuple([num(start + i), v])), count: it.count };
}

/**
 * `zip(a, b, …)`: as long as the shortest. A list counted by a symbol (a range over `depth`) keeps its
 * count when every other is at least as long as its listed items (`zip(range(depth), dpr)`).
 */
export function zipOf(args: CallArgs): Value {
  const its = args.pos.map(itemsOf);
  if (!its.length || its.some((x) => !x)) return UNKNOWN;
  const all = its as { items: Value[]; count?: Dim }[];
  const n = Math.min(...all.map((x) => x.items.length));
  const symbolic = [...new Set(all.map((x) => x.count).filter((c) => c !== undefined && typeof c !== 'number'))];
  const items = Array.from({ length: n }, (_, i) => tuple(all.map((x) => x.items[i])));
  if (symbolic.length === 1 && all.every((x) => x.count !== undefined || x.items.length >= n)) return { t: 'list', items, count: symbolic[0] };
  // Two different open counts: the shorter is not known.
  return symbolic.length > 1 ? UNKNOWN : { t: 'list', items };
}

/** `itertools.product(a, b, repeat=1)`, `itertools.chain(a, b)`, `itertools.repeat(x, n)`: over lists whose items are all listed. */
export function itertoolsCall(name: string, args: CallArgs): Value {
  // `repeat(x, n)` (timm's `to_2tuple`): n copies, the only use with a count; an endless repeat is not listed.
  if (name === 'repeat') {
    const n = args.pos[1] ?? args.kw.get('times');
    return n?.t === 'num' && typeof n.d === 'number' && n.d >= 0 && n.d <= 100_000 && args.pos[0] ? { t: 'list', items: Array.from({ length: n.d }, () => args.pos[0]) } : UNKNOWN;
  }
  const its = args.pos.map(itemsOf);
  if (its.some((x) => !x || (x.count !== undefined && typeof x.count !== 'number'))) return UNKNOWN;
  const lists = (its as { items: Value[] }[]).map((x) => x.items);
  if (name === 'chain') return { t: 'list', items: lists.flat() };
  if (name !== 'product') return UNKNOWN;
  const r = args.kw.get('repeat');
  const repeat = r?.t === 'num' && typeof r.d === 'number' ? r.d : r ? undefined : 1;
  if (repeat === undefined) return UNKNOWN;
  const pools = Array.from({ length: repeat }, () => lists).flat();
  let out: Value[][] = [[]];
  for (const pool of pools) out = out.flatMap((prefix) => pool.map((v) => [...prefix, v]));
  return { t: 'list', items: out.map(tuple) };
}

/** Methods of a dict that model code fills and reads; undefined for the others. */
export function dictMethod(d: DictVal, name: string, args: CallArgs, loop: Dim | undefined, site: Site): Value | undefined {
  const k = args.pos[0];
  switch (name) {
    case 'items': return { t: 'list', items: [...d.entries].map(([key, v]) => tuple([keyValue(d, key), v])), count: d.count, partial: d.partial };
    case 'keys': return { t: 'list', items: [...d.entries.keys()].map((k) => keyValue(d, k)), count: d.count, partial: d.partial };
    case 'values': return { t: 'list', items: [...d.entries.values()], count: d.count, partial: d.partial };
    case 'get':
      // A key inference cannot compute may be any entry: unknown, never the default as if it were missing.
      if (k?.t !== 'str' && !(k?.t === 'num' && typeof k.d === 'number')) return UNKNOWN;
      return d.entries.get(k.t === 'str' ? k.v : String(k.d)) ?? (d.partial ? UNKNOWN : args.pos[1] ?? NONE);
    case 'pop': {
      if (k?.t !== 'str') return UNKNOWN;
      const v = d.entries.get(k.v);
      d.entries.delete(k.v);
      return v ?? (d.partial ? UNKNOWN : args.pos[1] ?? NONE);
    }
    case 'setdefault': {
      if (k?.t !== 'str') return UNKNOWN;
      if (!d.entries.has(k.v)) { d.entries.set(k.v, args.pos[1] ?? NONE); fill(d, loop); }
      return d.entries.get(k.v)!;
    }
    case 'update': {
      const other = args.pos[0];
      if (other?.t === 'dict') for (const [key, v] of other.entries) d.entries.set(key, v);
      else if (other?.t === 'list') for (const p of other.items) { if (p.t === 'list' && p.items[0]?.t === 'str') d.entries.set(p.items[0].v, p.items[1] ?? UNKNOWN); }
      else if (other && other.t !== 'none') d.partial ??= unlisted(site, '`dict.update(…)` with entries inference cannot list');
      if ((other?.t === 'dict' || other?.t === 'list') && other.partial) d.partial ??= other.partial;
      for (const [key, v] of args.kw) d.entries.set(key, v);
      fill(d, loop);
      return NONE;
    }
    case 'copy': return { t: 'dict', entries: new Map(d.entries), count: d.count, partial: d.partial };
    default: return undefined;
  }
}

/** A dict assigned into inside a loop over a symbolic count has that count as its length. */
export function fill(d: DictVal, loop: Dim | undefined): void {
  if (loop !== undefined && typeof loop !== 'number') d.count = loop;
}

/** Methods of a list beyond `append`/`extend`; undefined for the others. */
export function listMethod(l: ListVal, name: string, args: CallArgs, site: Site): Value | undefined {
  switch (name) {
    case 'insert': {
      const at = args.pos[0];
      if (at?.t !== 'num' || typeof at.d !== 'number' || !args.pos[1]) { l.partial ??= unlisted(site, '`list.insert(…)` at a place inference cannot compute'); return NONE; }
      l.items.splice(at.d < 0 ? Math.max(0, l.items.length + at.d) : at.d, 0, args.pos[1]);
      return NONE;
    }
    case 'pop': {
      const at = args.pos[0];
      const i = at === undefined ? l.items.length - 1 : at.t === 'num' && typeof at.d === 'number' ? (at.d < 0 ? l.items.length + at.d : at.d) : undefined;
      if (i === undefined || l.partial) return UNKNOWN;
      return l.items.splice(i, 1)[0] ?? UNKNOWN;
    }
    case 'copy': return { ...l, items: [...l.items] };
    case 'index': {
      const x = args.pos[0];
      const i = x?.t === 'str' ? l.items.findIndex((v) => v.t === 'str' && v.v === x.v) : -1;
      return i >= 0 && !l.partial ? num(i) : UNKNOWN;
    }
    default: return undefined;
  }
}

function unlisted(site: Site, message: string): Gap {
  return { site, message };
}

/**
 * The containers a loop body fills: receivers of `append`/`extend`/`insert`/`update`/`setdefault`
 * and targets of `x[k] = …` / `x += …`, written without the loop's own variables (`layers`,
 * `self.blocks`, `out[name]`'s `out`).
 */
export function filledIn(stmts: Stmt[]): Expr[] {
  const out: Expr[] = [];
  const call = (e: Expr) => {
    if (e.k === 'call' && e.fn.k === 'attr' && /^(append|extend|insert|update|setdefault)$/.test(e.fn.name)) out.push(e.fn.obj);
  };
  const walk = (ss: Stmt[]) => {
    for (const s of ss) {
      if (s.k === 'expr') call(s.e);
      else if (s.k === 'assign') { call(s.value); for (const t of s.targets) if (t.k === 'index') out.push(t.obj); }
      else if (s.k === 'augassign') out.push(s.target.k === 'index' ? s.target.obj : s.target);
      else if (s.k === 'if') { walk(s.body); walk(s.orelse); }
      else if (s.k === 'for') walk(s.body);
    }
  };
  walk(stmts);
  return out;
}
