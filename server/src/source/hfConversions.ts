/**
 * transformers' own checkpoint conversion rules, read statically from the installed package a model file
 * belongs to (`transformers/conversion_mapping.py`, never imported): `_build_checkpoint_conversion_mapping()`
 * evaluated by a small evaluator that knows only what that function is written with — literals, the
 * transform and operation constructors, `mapping[k]` reads, `.copy()`, `+`/`+=` of lists, and the loop
 * that gives `_MODEL_TO_CONVERSION_PATTERN`'s aliases their base pattern's rules. An entry whose value it
 * cannot evaluate is kept as `unknown`: a model that uses it gets a note, never a silently wrong key.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Expr, Stmt } from './ir';
import { lowerPythonSync } from './pyLower';
import { readStamped } from './stampedFile';

/** A transform or an operation as written: its class name and its arguments, evaluated. */
export interface PyCall { cls: string; pos: PyVal[]; kw: Map<string, PyVal> }
export type PyVal = string | number | boolean | null | PyVal[] | Map<string, PyVal> | PyCall | { unknown: string };

export const isCall = (v: PyVal): v is PyCall => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && 'cls' in v;
const isUnknown = (v: PyVal): v is { unknown: string } => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Map) && 'unknown' in v;

export interface ConversionTable {
  /** The installed conversion_mapping.py the rules were read from. */
  file: string;
  /** Class name or model_type → its transforms in order; a string when the entry could not be evaluated (why). */
  rules: Map<string, PyVal[] | string>;
}

/** The transformers package folder a modeling file lies in (`…/transformers/models/vit/modeling_vit.py`), if any. */
export function transformersRootOf(file: string): string | undefined {
  let dir = path.dirname(file);
  for (let i = 0; i < 6; i++) {
    if (path.basename(dir) === 'transformers' && fs.existsSync(path.join(dir, 'conversion_mapping.py'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

/** The rules of the transformers installed at `root`; cached by the file's size and mtime. */
export function conversionTable(root: string): ConversionTable | undefined {
  const file = path.join(root, 'conversion_mapping.py');
  return readStamped(file, (text) => evaluate(file, text));
}

function evaluate(file: string, text: string): ConversionTable {
  const src = lowerPythonSync(file, text, { whole: true });
  const globals = new Map<string, PyVal>();
  for (const s of src.top) if (s.k === 'assign' && s.targets.length === 1 && s.targets[0].k === 'name') globals.set(s.targets[0].id, ev(s.value, globals));
  const rules = new Map<string, PyVal[] | string>();
  const build = src.functions.get('_build_checkpoint_conversion_mapping');
  if (!build) return { file, rules };
  const env = new Map(globals);
  run(build.body, env);
  const mapping = env.get('mapping');
  if (mapping instanceof Map) {
    for (const [k, v] of mapping) rules.set(k, Array.isArray(v) ? v : isUnknown(v) ? v.unknown : 'not a list of transforms');
  }
  return { file, rules };
}


function run(body: Stmt[], env: Map<string, PyVal>): 'continue' | undefined {
  for (const s of body) {
    if (s.k === 'assign') {
      const v = ev(s.value, env);
      for (const t of s.targets) assign(t, v, env);
    } else if (s.k === 'augassign' && s.op === '+') {
      const cur = ev(s.target, env);
      assign(s.target, add(cur, ev(s.value, env)), env);
    } else if (s.k === 'for') {
      const it = ev(s.iter, env);
      if (!Array.isArray(it)) continue;
      for (const item of it) {
        bind(s.target, item, env);
        if (run(s.body, env) === 'continue') continue;
      }
    } else if (s.k === 'if') {
      const c = ev(s.test, env);
      if (typeof c !== 'boolean') continue;
      const r = run(c ? s.body : s.orelse, env);
      if (r) return r;
    } else if (s.k === 'continue') {
      return 'continue';
    } else if (s.k === 'return') {
      return undefined;
    }
  }
  return undefined;
}

function bind(target: Expr, v: PyVal, env: Map<string, PyVal>): void {
  if (target.k === 'name') env.set(target.id, v);
  else if (target.k === 'list' && Array.isArray(v)) target.items.forEach((t, i) => bind(t, v[i] ?? { unknown: 'unpacking' }, env));
}

function assign(target: Expr, v: PyVal, env: Map<string, PyVal>): void {
  if (target.k === 'name') { env.set(target.id, v); return; }
  if (target.k === 'index') {
    const obj = ev(target.obj, env);
    const k = ev(target.index, env);
    if (obj instanceof Map && typeof k === 'string') obj.set(k, v);
  }
}

function add(a: PyVal, b: PyVal): PyVal {
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (typeof a === 'string' && typeof b === 'string') return a + b;
  return { unknown: 'an addition of values that are not lists' };
}

/** Python's `str.replace(old, new)`: every occurrence, literally. */
const pyReplace = (s: string, a: string, b: string) => s.split(a).join(b);

function ev(e: Expr, env: Map<string, PyVal>): PyVal {
  switch (e.k) {
    case 'str': return e.v;
    case 'num': return e.v;
    case 'bool': return e.v;
    case 'none': return null;
    case 'name': return env.has(e.id) ? env.get(e.id)! : e.id === 'True' ? true : e.id === 'False' ? false : { unknown: `\`${e.id}\`` };
    case 'fstr': {
      let out = '';
      for (const p of e.parts) {
        if (typeof p === 'string') out += p;
        else { const v = ev(p.e, env); if (typeof v !== 'string' && typeof v !== 'number') return { unknown: 'an f-string' }; out += String(v); }
      }
      return out;
    }
    case 'list': return e.items.map((i) => ev(i, env));
    case 'dict': {
      const m = new Map<string, PyVal>();
      for (const { key, value } of e.entries) { const k = ev(key, env); if (typeof k === 'string') m.set(k, ev(value, env)); }
      return m;
    }
    case 'bin': return e.op === '+' ? add(ev(e.l, env), ev(e.r, env)) : { unknown: `\`${e.op}\`` };
    case 'index': {
      const obj = ev(e.obj, env), k = ev(e.index, env);
      if (obj instanceof Map && typeof k === 'string') return obj.get(k) ?? { unknown: `no entry ${k}` };
      if (Array.isArray(obj) && typeof k === 'number') return obj[k < 0 ? obj.length + k : k] ?? { unknown: 'an index' };
      return { unknown: 'an index' };
    }
    case 'compare': {
      if (e.ops.length !== 1) return { unknown: 'a comparison' };
      const l = ev(e.items[0], env), r = ev(e.items[1], env);
      if ((e.ops[0] === 'in' || e.ops[0] === 'not in') && r instanceof Map && typeof l === 'string') return r.has(l) === (e.ops[0] === 'in');
      return { unknown: 'a comparison' };
    }
    case 'attr': {
      const obj = ev(e.obj, env);
      if (isCall(obj) && e.name === 'source_patterns' || isCall(obj) && e.name === '_original_source_patterns') return asList(obj.kw.get('source_patterns') ?? obj.pos[0]);
      if (isCall(obj) && (e.name === 'target_patterns' || e.name === '_original_target_patterns')) return asList(obj.kw.get('target_patterns') ?? obj.pos[1]);
      return { unknown: `\`.${e.name}\`` };
    }
    case 'call': return call(e, env);
    case 'comp': return comp(e, env);
    default: return { unknown: 'an expression' };
  }
}

const asList = (v: PyVal | undefined): PyVal => (v === undefined ? { unknown: 'patterns' } : Array.isArray(v) ? v : [v]);

function call(e: Extract<Expr, { k: 'call' }>, env: Map<string, PyVal>): PyVal {
  if (e.fn.k === 'attr') {
    const recv = ev(e.fn.obj, env);
    const args = e.args.map((a) => ev(a.value, env));
    if (e.fn.name === 'copy' && (Array.isArray(recv) || recv instanceof Map)) return Array.isArray(recv) ? [...recv] : new Map(recv);
    if (e.fn.name === 'items' && recv instanceof Map) return [...recv].map(([k, v]) => [k, v]);
    if (e.fn.name === 'replace' && typeof recv === 'string' && typeof args[0] === 'string' && typeof args[1] === 'string') return pyReplace(recv, args[0], args[1]);
    if (e.fn.name === 'startswith' && typeof recv === 'string' && typeof args[0] === 'string') return recv.startsWith(args[0]);
    return { unknown: `\`.${e.fn.name}(…)\`` };
  }
  if (e.fn.k !== 'name') return { unknown: 'a call' };
  const pos: PyVal[] = [];
  const kw = new Map<string, PyVal>();
  for (const a of e.args) {
    if (a.splat) return { unknown: `\`${e.fn.id}(*…)\`` };
    if (a.name) kw.set(a.name, ev(a.value, env));
    else pos.push(ev(a.value, env));
  }
  // Class names only (transforms, operations): anything else is a function this evaluator does not run.
  if (/^[A-Z]/.test(e.fn.id)) return { cls: e.fn.id, pos, kw };
  return { unknown: `\`${e.fn.id}(…)\`` };
}

function comp(e: Extract<Expr, { k: 'comp' }>, env: Map<string, PyVal>): PyVal {
  if (e.key || e.fors.length !== 1 || e.ifs.length) return { unknown: 'a comprehension' };
  const it = ev(e.fors[0].iter, env);
  if (!Array.isArray(it)) return { unknown: 'a comprehension' };
  const inner = new Map(env);
  return it.map((item) => { bind(e.fors[0].target, item, inner); return ev(e.elt, inner); });
}
