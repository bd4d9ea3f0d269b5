/**
 * Python's `re` on known strings, for block specs decoded from text (timm's `ir_r2_k3_s2_e6_c24`:
 * `re.split(r'(\d.*)', op)`, `re.match(...).groups()`). A pattern is translated to a JavaScript RegExp
 * only where the two agree (named groups `(?P<n>…)`/`(?P=n)` renamed; inline flags, possessive
 * quantifiers, `\Z`, conditionals refused): anything else, or a string that is not known, is not
 * decoded — the caller's value stays unknown, never a guess. A match object is a tuple of its groups
 * (group 0 first; None where a group did not take part), read by `.group(i)` / `.groups()`.
 */
import { asDim } from './coerce';
import { CallArgs, NONE, UNKNOWN, Value, num } from './values';

/** The JavaScript equivalent of a Python pattern, or undefined where they may differ. */
export function pyRegex(pattern: string, flags = ''): RegExp | undefined {
  if (/\(\?[aiLmsux-]+[:)]|\(\?\(|\\Z|[*+?}]\+|\\[AG]/.test(pattern)) return undefined;
  const js = pattern.replace(/\(\?P<(\w+)>/g, '(?<$1>').replace(/\(\?P=(\w+)\)/g, '\\k<$1>');
  try { return new RegExp(js, `${flags}u`); } catch { return undefined; }
}

const str = (v: string | undefined): Value => (v === undefined ? NONE : { t: 'str', v });

/** A match as Python sees it: the groups, in a tuple. */
function matchValue(m: RegExpExecArray | null): Value {
  return m ? { t: 'list', items: [...m].map(str), tuple: true } : NONE;
}

/** `re.NAME(pattern, string, …)`; undefined when it is not one followed here or its arguments are not known. */
export function reCall(name: string, args: CallArgs): Value | undefined {
  const [p, s] = [args.pos[0] ?? args.kw.get('pattern'), args.pos[1] ?? args.kw.get('string')];
  if (p?.t !== 'str' || s?.t !== 'str') return UNKNOWN;
  const flagArg = args.kw.get('flags') ?? (name === 'split' || name === 'sub' ? undefined : args.pos[2]);
  if (flagArg && asDim(flagArg) !== 0) return UNKNOWN; // re.I and friends: not translated
  switch (name) {
    case 'match': { const re = pyRegex(`^(?:${p.v})`); return re ? matchValue(re.exec(s.v)) : UNKNOWN; }
    case 'fullmatch': { const re = pyRegex(`^(?:${p.v})$`); return re ? matchValue(re.exec(s.v)) : UNKNOWN; }
    case 'search': { const re = pyRegex(p.v); return re ? matchValue(re.exec(s.v)) : UNKNOWN; }
    case 'findall': {
      const re = pyRegex(p.v, 'g');
      if (!re) return UNKNOWN;
      // One group: its text; several: a tuple of them; none: the whole match.
      const items = [...s.v.matchAll(re)].map((m): Value => (m.length === 1 ? str(m[0]) : m.length === 2 ? str(m[1] ?? '') : { t: 'list', items: m.slice(1).map((g) => str(g ?? '')), tuple: true }));
      return { t: 'list', items };
    }
    case 'split': {
      const re = pyRegex(p.v);
      const max = asDim(args.pos[2] ?? args.kw.get('maxsplit')) ?? 0;
      if (!re || typeof max !== 'number' || max !== 0) return UNKNOWN;
      // Python keeps empty pieces and the groups' texts, as JavaScript's split with a RegExp does.
      return { t: 'list', items: s.v.split(re).map(str) };
    }
    case 'sub': {
      const [repl, text] = [args.pos[1], args.pos[2]];
      const re = pyRegex(p.v, 'g');
      if (!re || repl?.t !== 'str' || text?.t !== 'str' || args.pos[3] || args.kw.has('count') || /\\(?:\d|g<)/.test(repl.v)) return UNKNOWN;
      return { t: 'str', v: text.v.replace(re, () => repl.v) };
    }
    default: return undefined;
  }
}

/** `m.group(i…)` / `m.groups()` / `m.span()` on a match (a tuple of groups). */
export function matchMethod(groups: Value[], name: string, args: CallArgs): Value | undefined {
  switch (name) {
    case 'groups': return { t: 'list', items: groups.slice(1).map((g) => (g.t === 'none' ? (args.pos[0] ?? NONE) : g)), tuple: true };
    case 'group': {
      const ix = (args.pos.length ? args.pos : [num(0)]).map((a) => asDim(a));
      if (ix.some((i) => typeof i !== 'number' || i < 0 || i >= groups.length)) return UNKNOWN;
      const picked = ix.map((i) => groups[i as number]);
      return picked.length === 1 ? picked[0] : { t: 'list', items: picked, tuple: true };
    }
    default: return undefined;
  }
}
