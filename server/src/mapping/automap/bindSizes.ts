/**
 * Model source's sizes bound while mapping. A modeling file's constructor defaults are one size (ViT-Base:
 * `embed_dim=768`, `depth=12`) and the checkpoint at hand is usually another, so shapes from the defaults
 * fit nothing. The proposal runs twice: first with every dimension only a default decides left open (a
 * wildcard that fits any size, at a small cost), pairing by roles, names and the dimensions that are
 * fixed; that first mapping is then handed to the same unification `check` uses (bindModel.ts), which
 * binds each open symbol from the pairs (`embed_dim*3 = 96`) and each `{i}` list from the layers the
 * other side has; the second proposal runs on the shapes so bound. What was bound becomes `set` lines.
 */
import { TensorInfo } from '../../formats/tensorInfo';
import { DEFAULT_FROM } from '../bindModel';
import { loadModelSide } from '../modelSide';
import { readConfigBeside } from '../../source/configJson';
import { parseMapping } from '../parse';
import { SideData, sideFromInfo } from '../sideData';
import { MappingProposal, proposeMapping } from './propose';
import { writeTpmap } from './write';
import { configMatches, constructorParams, sameValue } from '../ctorValues';
import { formatSetValue } from '../parse';
import type { Binding } from '../../source/interpret';
import type { SetValue } from '../syntax';
import { loadModelSource } from '../../source/loadModel';

export interface BoundSize { name: string; value: SetValue; why: string }

/**
 * A head count shows in no tensor's shape, so no pairing can bind it; a config.json beside the checkpoint
 * says it under its own name, and ports name the constructor argument after it in a handful of ways.
 */
const HEAD_CONFIG_KEYS = ['num_attention_heads', 'n_head', 'n_heads', 'num_heads', 'encoder_attention_heads'];
const HEAD_PARAM = /^(num_|n_)?(attention_)?heads?$|^num_heads$/;

export interface ModelSideSpec { file: string; className: string; written: string }

/**
 * `model` re-bound against `other` through a first, open-sized proposal, with every constructor value the
 * checkpoint implies (ctorValues.ts, a classifier head the checkpoint lacks sized 0); undefined when
 * there was nothing to bind and nothing to say.
 */
export async function bindSizesFromPairs(model: SideData, spec: ModelSideSpec, role: 'source' | 'target', other: SideData): Promise<{ side: SideData; sets: BoundSize[]; defaults: BoundSize[] } | undefined> {
  const open = openSizes(model);
  const first: MappingProposal | undefined = open && (role === 'target' ? proposeMapping(other, open) : proposeMapping(open, other));
  const text = first && first.rules.length > 0 ? writeTpmap(first, { sourcePath: 'source', targetPath: 'target', foldCommonLayers: true }) : '';
  const config = await readConfigBeside(other.path);
  const headKey = HEAD_CONFIG_KEYS.find((k) => typeof config?.values.get(k) === 'number');
  const headCount = headKey === undefined ? undefined : config!.values.get(headKey) as number;
  const heads = Object.entries(model.info.bindings ?? {}).filter(([name, b]) => b.from === DEFAULT_FROM && HEAD_PARAM.test(name) && headCount !== undefined && b.value !== headCount);
  const headLines = heads.map(([name]) => `set ${name} = ${headCount}`);
  const bind = (extra: string[]) => loadModelSide({ path: spec.file, className: spec.className, written: spec.written, role, file: parseMapping(`${[...headLines, ...extra].join('\n')}\n${text}`), other });
  const shaped = text ? await bind([]) : undefined;
  if (shaped && !shaped.ok) return undefined;
  // What the tensors' shapes bound is evidence; config.json speaks for the rest (a flag, an epsilon, a size no pairing shows).
  const fromShapes = new Set(Object.entries(shaped?.info.bindings ?? {}).filter(([, b]) => /^line \d+: /.test(b.from)).map(([n]) => n));
  const implied = (await impliedValues(spec, config?.values, other)).filter((v) => !fromShapes.has(v.name) && !heads.some(([n]) => n === v.name));
  if (!text && implied.length === 0) return undefined;
  const impliedLines: string[] = implied.map((v) => `set ${v.name} = ${formatSetValue(v.value)}`);
  let r = implied.length || !shaped ? await bind(impliedLines) : shaped;
  if (!r.ok) return undefined;
  const sets: BoundSize[] = [];
  const defaults: BoundSize[] = [];
  for (const [name, b] of Object.entries(r.info.bindings ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name) || implied.some((v) => v.name === name)) continue;
    // "line 12: `embeddings.cls_token` [1, 1, 32]": the line is the first proposal's, which nobody sees.
    const m = /^line \d+: (.*)$/.exec(b.from);
    if (m) sets.push({ name, value: b.value, why: m[1] });
    else if (b.from.startsWith(`\`set ${name} = ${headCount}\``)) sets.push({ name, value: b.value, why: `\`${headKey}\` in config.json beside ${other.written}: no tensor's shape shows it` });
    // Dropout rates change nothing a port is checked by (eval mode); head counts and epsilons do.
    else if (b.from === DEFAULT_FROM && !/drop/i.test(name)) defaults.push({ name, value: b.value, why: b.from });
  }
  sets.push(...implied);
  if (!r.ok) return undefined;
  const flags = await flagsFromKeys(spec, sideFromInfo(r.info, model.path, model.written, model.framework), other, role, config?.values, [...sets, ...defaults].map((b) => b.name),
    (extra) => bind([...impliedLines, ...extra]));
  if (flags) {
    r = flags.r;
    sets.push(...flags.sets);
    impliedLines.push(...flags.sets.map((f) => `set ${f.name} = ${formatSetValue(f.value)}`));
  }
  if (role === 'target') {
    const head = await headLeftOut(sideFromInfo(r.info, model.path, model.written, model.framework), other, (extra) => bind([...impliedLines, ...extra]));
    if (head) {
      r = head.r;
      sets.push(head.set);
      const at = defaults.findIndex((d) => d.name === head.set.name);
      if (at >= 0) defaults.splice(at, 1);
    }
  }
  if (!r.ok) return undefined;
  return { side: sideFromInfo(r.info, model.path, model.written, model.framework), sets, defaults };
}

/**
 * Constructor values config.json implies that differ from the class's defaults: exact names (bound by
 * name when checking, but the class a user builds takes only what its `set` lines say) and the alias
 * table's (`layer_norm_eps` → `epsilon`).
 */
async function impliedValues(spec: ModelSideSpec, config: ReadonlyMap<string, Binding> | undefined, other: SideData): Promise<BoundSize[]> {
  if (!config) return [];
  let model;
  try {
    model = await loadModelSource(spec.file, spec.className);
  } catch {
    return [];
  }
  return configMatches(constructorParams(model), config)
    .filter((m) => !sameValue(m.value, m.dflt))
    .map((m) => ({ name: m.param, value: m.value, why: `\`${m.key}\` in config.json beside ${other.written}${m.dflt === undefined ? '' : ` (the class's default: ${m.dflt === null ? 'None' : formatSetValue(m.dflt)})`}` }));
}

/** A model side loaded with its `set` lines. */
type BoundModel = Extract<Awaited<ReturnType<typeof loadModelSide>>, { ok: true }>;

/**
 * Boolean constructor flags no config.json says (`qkv_bias=False` in PaddleClas's ViT, where the
 * checkpoint has q/k/v biases): each flipped in turn, kept when the class so built pairs more of the
 * checkpoint — fewer tensors left unmapped on either side, none more on the model's — so the biases the
 * checkpoint has get parameters to load into (and the ones it lacks are not left at random). The `set`
 * line names the tensors that decided it.
 */
async function flagsFromKeys(spec: ModelSideSpec, side: SideData, other: SideData, role: 'source' | 'target', config: ReadonlyMap<string, Binding> | undefined, said: readonly string[],
  bind: (extra: string[]) => ReturnType<typeof loadModelSide>): Promise<{ r: BoundModel; sets: BoundSize[] } | undefined> {
  let model;
  try {
    model = await loadModelSource(spec.file, spec.className);
  } catch {
    return undefined;
  }
  const configured = new Set(configMatches(constructorParams(model), config ?? new Map()).map((m) => m.param));
  const flags = constructorParams(model).filter((p) => typeof p.dflt === 'boolean' && !configured.has(p.name) && !said.includes(p.name));
  if (flags.length === 0) return undefined;
  const left = (s: SideData) => {
    const p = role === 'target' ? proposeMapping(other, s) : proposeMapping(s, other);
    const mine = role === 'target' ? p.unmappedTarget : p.unmappedSource;
    const theirs = role === 'target' ? p.unmappedSource : p.unmappedTarget;
    return { mine: mine.filter((k) => !s.rebuilt.has(k)), theirs, total: mine.filter((k) => !s.rebuilt.has(k)).length + theirs.length };
  };
  let before = left(side);
  let r: BoundModel | undefined;
  const sets: BoundSize[] = [];
  for (const f of flags) {
    if (before.total === 0) break;
    const value = !(f.dflt as boolean);
    const tried = await bind([...sets.map((x) => `set ${x.name} = ${formatSetValue(x.value)}`), `set ${f.name} = ${value ? 'True' : 'False'}`]);
    if (!tried.ok) continue;
    const next = sideFromInfo(tried.info, side.path, side.written, side.framework);
    const after = left(next);
    if (after.total >= before.total || after.mine.length > before.mine.length) continue;
    const paired = before.theirs.filter((k) => !after.theirs.includes(k));
    const gone = before.mine.filter((k) => !next.tensors.has(k));
    const shown = (keys: string[]) => keys.slice(0, 2).map((k) => `\`${k}\``).join(', ') + (keys.length > 2 ? ` and ${keys.length - 2} more` : '');
    const why = paired.length ? `the checkpoint has ${shown(paired)}, which only ${value ? 'True' : 'False'} gives a parameter to` : `the checkpoint has no ${shown(gone)}: ${value ? 'True' : 'False'} leaves them out`;
    sets.push({ name: f.name, value, why: `${why} (no config.json says; the class's default: ${f.dflt ? 'True' : 'False'})` });
    before = after;
    r = tried;
  }
  return r ? { r, sets } : undefined;
}

/**
 * A classifier head the checkpoint has no tensor for (a backbone saved without its head: HF's `ViTModel`)
 * is sized by one constructor parameter that sizes nothing else (`class_num`, `num_classes`); the class
 * leaves the head out at 0 (`Linear(…) if class_num > 0 else Identity()`). Kept only when setting it to 0
 * removes exactly such unmapped tensors and nothing else.
 */
async function headLeftOut(side: SideData, other: SideData, bind: (extra: string[]) => ReturnType<typeof loadModelSide>): Promise<{ r: Awaited<ReturnType<typeof loadModelSide>>; set: BoundSize } | undefined> {
  const proposal = proposeMapping(other, side);
  const unmapped = new Set(proposal.unmappedTarget);
  if (unmapped.size === 0) return undefined;
  const symsOf = (t: TensorInfo) => new Set((t.declared ?? []).flatMap((d) => (typeof d === 'string' ? d.match(/[A-Za-z_][\w.]*/g) ?? [] : [])));
  const inMapped = new Set<string>();
  for (const t of side.info.tensors) if (!unmapped.has(t.key)) for (const s of symsOf(t)) inMapped.add(s);
  const candidates = new Set<string>();
  for (const t of side.info.tensors) if (unmapped.has(t.key)) for (const s of symsOf(t)) if (!inMapped.has(s)) candidates.add(s);
  for (const sym of candidates) {
    const b = side.info.bindings?.[sym];
    if (!b || b.from !== DEFAULT_FROM || !(b.value > 0)) continue;
    const r = await bind([`set ${sym} = 0`]);
    if (!r.ok) continue;
    const before = new Set(side.info.tensors.map((t) => t.key));
    const after = new Set(r.info.tensors.map((t) => t.key));
    const gone = [...before].filter((k) => !after.has(k));
    if (gone.length === 0 || [...after].some((k) => !before.has(k)) || gone.some((k) => !unmapped.has(k))) continue;
    return { r, set: { name: sym, value: 0, why: `the checkpoint has no ${gone.map((k) => `\`${k}\``).join(', ')}: 0 leaves that head out` } };
  }
  return undefined;
}

/** The side with every dimension that only constructor defaults decide made open (NaN); undefined when none is. */
export function openSizes(side: SideData): SideData | undefined {
  const bindings = side.info.bindings ?? {};
  const soft = (sym: string) => !bindings[sym] || bindings[sym].from === DEFAULT_FROM;
  let changed = false;
  const tensors: TensorInfo[] = side.info.tensors.map((t) => {
    if (!t.declared) return t;
    const shape = t.shape.map((d, i) => {
      const expr = t.declared![i];
      if (typeof expr !== 'string') return d;
      const syms = expr.match(/[A-Za-z_][\w.]*/g) ?? [];
      if (syms.length === 0 || !syms.some(soft)) return d;
      changed = true;
      return NaN;
    });
    return { ...t, shape };
  });
  return changed ? sideFromInfo({ ...side.info, tensors }, side.path, side.written, side.framework) : undefined;
}
