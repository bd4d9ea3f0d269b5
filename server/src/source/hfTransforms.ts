/**
 * transformers' `WeightTransform` key matching (core_model_loading.py), ported rule for rule so a module
 * key is renamed exactly as `revert_weight_conversion` renames it when `save_pretrained` writes the
 * checkpoint: pattern preprocessing for reversal, the longest-first alternation with `(?!\w)` name ends,
 * `scope_prefix`/`base_model_prefix` scoping, `\1` capture groups, `GroupWeightRename`'s guard and
 * `PrefixChange`'s generated patterns. Python's `re` syntax used there (`(?P<name>…)`, lookbehind) is
 * JavaScript's too once `(?P<` is written `(?<`.
 */
import { PyCall, PyVal, isCall } from './hfConversions';

export interface Transform {
  kind: 'rename' | 'group' | 'prefix' | 'converter';
  /** The class as written (`WeightRenaming`, `PrefixChange`, `LayerPairCollapse`…). */
  cls: string;
  originalSources: string[];
  originalTargets: string[];
  sources: string[];
  targets: string[];
  re: RegExp;
  /** Capture group number of each branch (`g0`, `g1`…), in `sources` order. */
  branchGroup: number[];
  scopePrefix?: string;
  baseModelPrefix?: string;
  /** Converter operations, as written (already reversed for a reversed converter). */
  ops: PyCall[];
  /** A reversed converter: the operations transformers applies at load, as written. */
  loadOps?: PyCall[];
  /** GroupWeightRename: the guard pattern was seen. */
  active?: boolean;
  prefix?: { add?: string; remove?: string; model: string };
}

/** `process_target_pattern`: a target pattern made usable as a source when the transform is reversed. */
function processTarget(pattern: string): { pattern: string; group?: string } {
  let p = pattern.startsWith('^') ? pattern.slice(1) : pattern;
  p = p.replace(/\(\?.+?\)?\)/g, '');
  const m = /\(.+?\)/.exec(p);
  let group: string | undefined;
  if (m) { group = m[0]; p = p.replace(group, () => '\\1'); }
  p = p.split('\\.').join('.');
  return { pattern: p, group };
}

/** How many capture groups a pattern has (named ones included). */
const groupCount = (p: string) => { try { return new RegExp(`${p}|`).exec('')!.length - 1; } catch { return 0; } };

const pyRegex = (p: string) => p.split('(?P<').join('(?<');

export function makeTransform(cls: string, kind: Transform['kind'], sourcesIn: string[], targetsIn: string[], ops: PyCall[] = []): Transform {
  const targets: string[] = [];
  const groups = new Set<string>();
  for (const t of targetsIn) { const r = processTarget(t); targets.push(r.pattern); if (r.group) groups.add(r.group); }
  if (groups.size > 1) throw new Error(`several capture groups in the targets of ${cls}`);
  const group = [...groups][0];
  const sources = sourcesIn.map((s, i) => {
    let p = s;
    if (p.includes('\\1')) {
      if (!group) throw new Error(`${cls}: \\1 in a source without a capture group in the targets`);
      p = p.replace('\\1', () => group);
    }
    if (sourcesIn.length === targetsIn.length && targetsIn[i].startsWith('^') && !p.startsWith('^')) p = `^${p}`;
    return p;
  });
  const order = sources.map((s, i) => ({ s, i })).sort((a, b) => b.s.length - a.s.length);
  const branchGroup: number[] = new Array(sources.length);
  let next = 1;
  const branches = order.map(({ s, i }) => {
    let p = pyRegex(s.split('*.').join('.*\\.'));
    if (/[a-zA-Z0-9]$/.test(p)) p += '(?!\\w)';
    branchGroup[i] = next;
    next += 1 + groupCount(p);
    return `(?<g${i}>${p})`;
  });
  return { kind, cls, originalSources: sourcesIn, originalTargets: targetsIn, sources, targets, re: new RegExp(branches.join('|')), branchGroup, ops };
}

const strs = (v: PyVal | undefined): string[] | undefined => (typeof v === 'string' ? [v] : Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

/** A transform as `conversion_mapping.py` writes it; a string says why it is not one this port knows. */
export function transformOf(v: PyVal): Transform | string {
  if (!isCall(v)) return 'an entry that is not a transform';
  const arg = (name: string, i: number) => v.kw.get(name) ?? v.pos[i];
  if (v.cls === 'PrefixChange') {
    const add = arg('prefix_to_add', 0), remove = arg('prefix_to_remove', 1), model = arg('model_prefix', 2);
    const mp = typeof model === 'string' ? model : '';
    const pre = mp ? `${mp}\\.` : '';
    const t = typeof add === 'string'
      ? makeTransform(v.cls, 'prefix', [`^${pre}(?:(?!${add}\\.))(.+)`], [`${pre}${add}\\.\\1`])
      : makeTransform(v.cls, 'prefix', [`^${pre}${String(remove)}\\.(.+)`], [`${pre}\\1`]);
    t.prefix = { add: typeof add === 'string' ? add : undefined, remove: typeof remove === 'string' ? remove : undefined, model: mp };
    return t;
  }
  const sources = strs(arg('source_patterns', 0)), targets = strs(arg('target_patterns', 1));
  if (!sources || !targets) return `${v.cls} with patterns this port cannot read`;
  if (v.cls === 'WeightRenaming') return makeTransform(v.cls, 'rename', sources, targets);
  if (v.cls === 'GroupWeightRename') return makeTransform(v.cls, 'group', sources, targets);
  if (v.cls === 'WeightConverter') {
    const ops = arg('operations', 2);
    if (!Array.isArray(ops) || !ops.every(isCall)) return 'a WeightConverter whose operations this port cannot read';
    return makeTransform(v.cls, 'converter', sources, targets, ops as PyCall[]);
  }
  return `\`${v.cls}\`, a transform with its own code`;
}

const REVERSE_OP: Record<string, (op: PyCall) => PyCall | undefined> = {
  Chunk: (op) => ({ cls: 'Concatenate', pos: [], kw: new Map([['dim', dimOf(op)]]) }),
  Split: (op) => ({ cls: 'Concatenate', pos: [], kw: new Map([['dim', dimOf(op)]]) }),
  Concatenate: (op) => ({ cls: 'Chunk', pos: [], kw: new Map([['dim', dimOf(op)]]) }),
  MergeModulelist: (op) => ({ cls: 'SplitModulelist', pos: [], kw: new Map([['dim', dimOf(op)]]) }),
  SplitModulelist: (op) => ({ cls: 'MergeModulelist', pos: [], kw: new Map([['dim', dimOf(op)]]) }),
  Interleave: (op) => ({ cls: 'Interleave', pos: [], kw: new Map<string, PyVal>([['dim', dimOf(op)], ['inverse', !(op.kw.get('inverse') ?? op.pos[1] ?? false)]]) }),
  Transpose: (op) => ({ cls: 'Transpose', pos: [], kw: new Map([['dim0', num(op, 'dim1', 1, 1)], ['dim1', num(op, 'dim0', 0, 0)]]) }),
};

const num = (op: PyCall, name: string, i: number, dflt: number): number => { const v = op.kw.get(name) ?? op.pos[i]; return typeof v === 'number' ? v : dflt; };
export const dimOf = (op: PyCall): number => num(op, 'dim', 0, 0);

/** `reverse_transform()`: what `save_pretrained` applies; a string when an operation has no reverse this port knows. */
export function reverseTransform(t: Transform): Transform | string {
  let r: Transform;
  if (t.kind === 'prefix') {
    const p = t.prefix!;
    const v: PyCall = { cls: 'PrefixChange', pos: [], kw: new Map<string, PyVal>([['model_prefix', p.model], [p.add ? 'prefix_to_remove' : 'prefix_to_add', (p.add ?? p.remove)!]]) };
    const made = transformOf(v);
    if (typeof made === 'string') return made;
    r = made;
  } else if (t.kind === 'group') {
    const pairs = t.originalTargets.map((x, i) => [x, t.originalSources[i]] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    r = makeTransform(t.cls, 'group', pairs.map((p) => p[0]), pairs.map((p) => p[1]));
  } else {
    const ops: PyCall[] = [];
    for (const op of [...t.ops].reverse()) {
      const rev = REVERSE_OP[op.cls]?.(op);
      if (!rev) return `\`${op.cls}\``;
      ops.push(rev);
    }
    r = makeTransform(t.cls, t.kind, t.originalTargets, t.originalSources, ops);
    r.loadOps = t.ops;
  }
  r.scopePrefix = t.scopePrefix;
  r.baseModelPrefix = t.baseModelPrefix;
  return r;
}

/** `_scoped_match`. */
function scopedMatch(t: Transform, key: string): { prefix?: string; rest: string; m: RegExpExecArray } | undefined {
  let rest = key;
  let prefix: string | undefined;
  if (t.scopePrefix !== undefined) {
    const scope = t.scopePrefix !== '' ? `${t.scopePrefix}.` : '';
    const base = t.baseModelPrefix ? `${t.baseModelPrefix}.` : '';
    if (key.startsWith(base + scope)) prefix = base + scope;
    else if (key.startsWith(scope)) prefix = scope;
    else return undefined;
    rest = key.slice(prefix.length);
  }
  const m = t.re.exec(rest);
  return m ? { prefix, rest, m } : undefined;
}

const matchedBranch = (t: Transform, m: RegExpExecArray) => t.sources.findIndex((_s, i) => m.groups?.[`g${i}`] !== undefined);

/** `rename_source_key`: the renamed key and the index of the source pattern that matched (-1: none). */
export function renameKey(t: Transform, key: string): { key: string; branch: number } {
  const hit = scopedMatch(t, key);
  if (!hit) return { key, branch: -1 };
  const { prefix, rest, m } = hit;
  const branch = matchedBranch(t, m);
  if (t.kind === 'group') {
    if (branch === 0) t.active = true;
    else if (!t.active) return { key, branch: -1 };
  }
  let replacement = t.kind === 'group' ? t.targets[branch] : t.targets[0];
  const g = t.branchGroup[branch];
  if (t.kind === 'group') replacement = replacement.replace(/\\(\d+)/g, (_a, n: string) => m[g + Number(n)] ?? '');
  else if (replacement.includes('\\1')) replacement = replacement.split('\\1').join(m[g + 1] ?? '');
  const renamed = rest.replace(m[0], () => replacement);
  return { key: (prefix ?? '') + renamed, branch };
}
