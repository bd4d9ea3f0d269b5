/**
 * Python's string formatting over interpreter values — f-strings, `%` and `str.format` — so names
 * built from numbers and strings (`setattr(self, f"stage{i + 1}", …)`, `"layer%d" % i`,
 * `"{}_{}".format(a, b)`) are the strings Python makes. A part that is not a known number, string,
 * bool or None (a symbolic size, an unknown) makes the whole string unknown: a name inference cannot
 * compute is reported where it registers something, never guessed.
 */
import { CallArgs, UNKNOWN, Value } from './values';

/** `format(v, spec)` for the specs names are built with (`d`, `03d`, `>3`, `.2f`, `s`); undefined for anything else. */
export function formatValue(v: Value, spec = ''): string | undefined {
  const plain = plainText(v);
  if (plain === undefined) return undefined;
  if (!spec) return plain;
  const m = /^([<>^]?)(0?)(\d*)(?:\.(\d+))?([dsf]?)$/.exec(spec);
  if (!m) return undefined;
  const [, align, zero, width, precision, type] = m;
  let text = plain;
  if (type === 'f' || precision !== undefined) {
    if (v.t !== 'num' || typeof v.d !== 'number') return undefined;
    text = v.d.toFixed(precision === undefined ? 6 : Number(precision));
  } else if (type === 'd' && (v.t !== 'num' || typeof v.d !== 'number' || !Number.isInteger(v.d))) return undefined;
  const w = width ? Number(width) : 0;
  if (text.length >= w) return text;
  if (zero && !align) return text.startsWith('-') ? `-${text.slice(1).padStart(w - 1, '0')}` : text.padStart(w, '0');
  const numeric = v.t === 'num';
  const a = align || (numeric ? '>' : '<');
  if (a === '<') return text.padEnd(w);
  if (a === '>') return text.padStart(w);
  const left = Math.floor((w - text.length) / 2);
  return ' '.repeat(left) + text + ' '.repeat(w - text.length - left);
}

/** `str(v)` for a value whose text is known. */
function plainText(v: Value): string | undefined {
  switch (v.t) {
    case 'str': return v.v;
    case 'num':
      if (typeof v.d !== 'number') return undefined;
      if (!Number.isFinite(v.d)) return Number.isNaN(v.d) ? 'nan' : v.d > 0 ? 'inf' : '-inf';
      return v.float && Number.isInteger(v.d) ? `${v.d}.0` : String(v.d);
    case 'bool': return v.v ? 'True' : 'False';
    case 'none': return 'None';
    default: return undefined;
  }
}

/** An f-string's parts evaluated in order. */
export function joinFString(parts: (string | { v: Value; spec?: string })[]): Value {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') { out += p; continue; }
    const s = formatValue(p.v, p.spec);
    if (s === undefined) return UNKNOWN;
    out += s;
  }
  return { t: 'str', v: out };
}

/** `fmt % args`: `%d`, `%s`, `%i`, `%03d`, `%%`; a tuple for several fields, a dict for `%(name)s`. */
export function percentFormat(fmt: string, args: Value): Value {
  const items = args.t === 'list' && args.tuple ? args.items : [args];
  let i = 0;
  let failed = false;
  const out = fmt.replace(/%(\((\w+)\))?([-0]?)(\d*)(?:\.(\d+))?([sdirf%])/g, (_m, _k, key: string | undefined, flag: string, width: string, prec: string | undefined, type: string) => {
    if (type === '%') return '%';
    const v = key !== undefined ? (args.t === 'dict' ? args.entries.get(key) : undefined) : items[i++];
    const spec = `${flag === '-' ? '<' : ''}${flag === '0' ? '0' : ''}${width}${prec !== undefined ? `.${prec}` : ''}${type === 'i' ? 'd' : type === 'r' ? '' : type}`;
    const s = v && (type !== 'r' || v.t !== 'str') ? formatValue(v, spec) : undefined;
    if (s === undefined) failed = true;
    return s ?? '';
  });
  if (failed || (key(fmt) === undefined && i !== items.length)) return UNKNOWN;
  return { t: 'str', v: out };
}

/** Whether a `%` format names its fields (`%(name)s`): then the argument is a dict. */
function key(fmt: string): string | undefined {
  return /%\((\w+)\)/.exec(fmt)?.[1];
}

/** `fmt.format(*args, **kw)`: `{}`, `{0}`, `{name}`, each with an optional `:spec`. */
export function strFormat(fmt: string, args: CallArgs): Value {
  let next = 0;
  let failed = false;
  const out = fmt.replace(/\{\{|\}\}|\{([^{}:!]*)(?:![rsa])?(?::([^{}]*))?\}/g, (m, field: string | undefined, spec: string | undefined) => {
    if (m === '{{') return '{';
    if (m === '}}') return '}';
    const f = field ?? '';
    const v = f === '' ? args.pos[next++] : /^\d+$/.test(f) ? args.pos[Number(f)] : args.kw.get(f);
    const s = v ? formatValue(v, spec) : undefined;
    if (s === undefined) failed = true;
    return s ?? '';
  });
  return failed ? UNKNOWN : { t: 'str', v: out };
}
