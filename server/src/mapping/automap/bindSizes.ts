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

export interface BoundSize { name: string; value: number; why: string }

/**
 * A head count shows in no tensor's shape, so no pairing can bind it; a config.json beside the checkpoint
 * says it under its own name, and ports name the constructor argument after it in a handful of ways.
 */
const HEAD_CONFIG_KEYS = ['num_attention_heads', 'n_head', 'n_heads', 'num_heads', 'encoder_attention_heads'];
const HEAD_PARAM = /^(num_|n_)?(attention_)?heads?$|^num_heads$/;

export interface ModelSideSpec { file: string; className: string; written: string }

/**
 * `model` re-bound against `other` through a first, open-sized proposal; undefined when no size of it
 * was left to a default (nothing to bind) or the first proposal pairs nothing.
 */
export async function bindSizesFromPairs(model: SideData, spec: ModelSideSpec, role: 'source' | 'target', other: SideData): Promise<{ side: SideData; sets: BoundSize[]; defaults: BoundSize[] } | undefined> {
  const open = openSizes(model);
  if (!open) return undefined;
  const first: MappingProposal = role === 'target' ? proposeMapping(other, open) : proposeMapping(open, other);
  if (first.rules.length === 0) return undefined;
  const text = writeTpmap(first, { sourcePath: 'source', targetPath: 'target', foldCommonLayers: true });
  const config = await readConfigBeside(other.path);
  const headKey = HEAD_CONFIG_KEYS.find((k) => typeof config?.values.get(k) === 'number');
  const headCount = headKey === undefined ? undefined : config!.values.get(headKey) as number;
  const heads = Object.entries(model.info.bindings ?? {}).filter(([name, b]) => b.from === DEFAULT_FROM && HEAD_PARAM.test(name) && headCount !== undefined && b.value !== headCount);
  const headLines = heads.map(([name]) => `set ${name} = ${headCount}`).join('\n');
  const r = await loadModelSide({ path: spec.file, className: spec.className, written: spec.written, role, file: parseMapping(`${headLines}\n${text}`), other });
  if (!r.ok) return undefined;
  const sets: BoundSize[] = [];
  const defaults: BoundSize[] = [];
  for (const [name, b] of Object.entries(r.info.bindings ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name)) continue;
    // "line 12: `embeddings.cls_token` [1, 1, 32]": the line is the first proposal's, which nobody sees.
    const m = /^line \d+: (.*)$/.exec(b.from);
    if (m) sets.push({ name, value: b.value, why: m[1] });
    else if (b.from.startsWith('`set ')) sets.push({ name, value: b.value, why: `\`${headKey}\` in config.json beside ${other.written}: no tensor's shape shows it` });
    // Dropout rates change nothing a port is checked by (eval mode); head counts and epsilons do.
    else if (b.from === DEFAULT_FROM && !/drop/i.test(name)) defaults.push({ name, value: b.value, why: b.from });
  }
  return { side: sideFromInfo(r.info, model.path, model.written, model.framework), sets, defaults };
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
