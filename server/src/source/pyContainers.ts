/**
 * The standard library's containers beside list and dict, as registries and builders fill them:
 * `set()` (a list whose items are kept once), `collections.deque` (a list; `appendleft`),
 * `collections.defaultdict(factory)` (a dict whose missing key is made by calling the factory on first
 * read), and `dataclasses.field(default_factory=…)` / `asdict`. Keys are strings or integers, as
 * elsewhere (iterables.ts); anything else leaves the container as it was and the result unknown.
 */
import { renderDim } from './dims';
import { CallArgs, NONE, Site, UNKNOWN, Value } from './values';

type ListVal = Extract<Value, { t: 'list' }>;
type DictVal = Extract<Value, { t: 'dict' }>;

/** The key a value is as a dict key or set member; undefined when inference cannot say. */
export function keyOf(v: Value | undefined): string | undefined {
  if (v?.t === 'str') return v.v;
  if (v?.t === 'num' && typeof v.d === 'number') return renderDim(v.d);
  return undefined;
}

const sameKey = (a: Value, b: Value) => keyOf(a) !== undefined && keyOf(a) === keyOf(b) && a.t === b.t;

/** `set(xs)`, `deque(xs)`: a list of `xs`' items (a set's once each); unknown when they cannot be listed. */
export function fromIterable(kind: 'set' | 'deque', src: Value | undefined): Value {
  if (!src) return { t: 'list', items: [], ...(kind === 'set' ? { set: true } : {}) };
  const items = src.t === 'list' && !src.partial ? src.items : src.t === 'dict' && !src.partial ? [...src.entries.keys()].map((v): Value => ({ t: 'str', v })) : undefined;
  if (!items) return UNKNOWN;
  if (kind === 'deque') return { t: 'list', items: [...items] };
  const out: Value[] = [];
  for (const x of items) {
    if (keyOf(x) === undefined) return UNKNOWN;
    if (!out.some((y) => sameKey(x, y))) out.push(x);
  }
  return { t: 'list', items: out, set: true };
}

/** Methods of a set or deque that lists lack (`add`, `discard`, `appendleft`); undefined for the others. */
export function setOrDequeMethod(l: ListVal, name: string, args: CallArgs, site: Site): Value | undefined {
  const x = args.pos[0];
  switch (name) {
    case 'add': {
      if (!l.set || !x) return undefined;
      if (keyOf(x) === undefined) { l.partial ??= { site, message: '`set.add` of a value inference cannot compare' }; return NONE; }
      if (!l.items.some((y) => sameKey(x, y))) l.items.push(x);
      return NONE;
    }
    case 'discard': case 'remove': {
      if (!l.set || !x) return undefined;
      const i = l.items.findIndex((y) => sameKey(x, y));
      if (i >= 0) l.items.splice(i, 1);
      return NONE;
    }
    case 'appendleft': if (x) l.items.unshift(x); return x ? NONE : undefined;
    default: return undefined;
  }
}

/** `defaultdict(factory)` read at a key it lacks: the factory's value, stored under the key. */
export function missingKey(d: DictVal, key: string, make: (factory: Value) => Value): Value | undefined {
  if (!d.missing || d.partial) return undefined;
  const v = make(d.missing);
  d.entries.set(key, v);
  return v;
}
