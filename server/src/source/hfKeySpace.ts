/**
 * The checkpoint key space of a transformers model class: the keys `save_pretrained` writes (and
 * `from_pretrained` reads) when the model's in-memory module keys differ from them. transformers ≥ 5
 * renames and fuses weights at load by rules of its own (conversion_mapping.py); saving applies them in
 * reverse (`revert_weight_conversion`). This follows `get_model_conversion_mapping` and
 * `revert_weight_conversion` over the inferred tensors, with the rules read from the installed package
 * the model file belongs to (hfConversions.ts, hfTransforms.ts). What it cannot follow is a note.
 */
import { CheckpointInfo, TensorInfo } from '../formats/tensorInfo';
import { PyCall, PyVal, conversionTable, transformersRootOf } from './hfConversions';
import { Transform, dimOf, renameKey, reverseTransform, transformOf } from './hfTransforms';

/** A `PreTrainedModel` in the module tree (the root is path ''), in `named_modules()` order. */
export interface PretrainedModule { path: string; className: string; modelType?: string; basePrefix?: string }

export interface CheckpointSpace {
  /** The tensors `save_pretrained` writes, in the order it sorts them. */
  tensors: TensorInfo[];
  notes: string[];
  /** Module key → checkpoint key, for every renamed (not converted) tensor whose name changes. */
  renamed: Map<string, string>;
  /** Module key → the checkpoint keys it is written as and the operations, for converted tensors. */
  converted: Map<string, { keys: string[]; ops: string }>;
  /** The conversion_mapping.py read. */
  rulesFile: string;
}

/** `dot_natural_key`: numbers numerically, names alphabetically, numbers first. */
export function dotNaturalCompare(a: string, b: string): number {
  const parts = (s: string) => s.split('.').map((p) => {
    if (/^\d+$/.test(p)) return [0, Number(p)] as const;
    const text = p.replace(/\d+$/, '');
    return text.length < p.length ? [1, text, Number(p.slice(text.length))] as const : [1, text] as const;
  });
  const pa = parts(a), pb = parts(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i], y = pb[i];
    for (let j = 0; j < Math.min(x.length, y.length); j++) {
      if (x[j] !== y[j]) return x[j] < y[j] ? -1 : 1;
    }
    if (x.length !== y.length) return x.length - y.length;
  }
  return pa.length - pb.length;
}

/**
 * The checkpoint key space of the model at `modelFile` whose PreTrainedModels are `modules`; undefined
 * when the file is not an installed transformers model or no rule applies (the key spaces are one).
 */
export function checkpointSpace(modelFile: string, modules: PretrainedModule[], tensors: TensorInfo[]): CheckpointSpace | undefined {
  const root = transformersRootOf(modelFile);
  const table = root ? conversionTable(root) : undefined;
  if (!table || !modules.length || modules[0].path !== '') return undefined;
  const notes: string[] = [];
  const conversions = modelConversions(table.rules, modules, notes);
  // A model built from its config (not loaded) is saved without PrefixChange: transformers drops them.
  const kept = conversions.filter((t) => t.kind !== 'prefix');
  if (!kept.length && !notes.length) return undefined;
  const reversed: Transform[] = [];
  for (const t of [...kept].reverse()) {
    const r = reverseTransform(t);
    if (typeof r === 'string') notes.push(`transformers converts some weights of this model with ${r}, which has no reverse Tensor Port knows: those tensors are listed under their module keys`);
    else reversed.push(r);
  }
  const renamings = reversed.filter((t) => t.kind !== 'converter');
  const converters = reversed.filter((t) => t.kind === 'converter');
  const applyRenamings = (k: string) => renamings.reduce((key, t) => renameKey(t, key).key, k);

  // Tied keys are not written (remove_tied_weights_from_state_dict runs before the reversal).
  const written = tensors.filter((t) => !t.tiedTo).sort((a, b) => dotNaturalCompare(a.key, b.key));
  type Group = { conv?: Transform; collected: Map<string, TensorInfo[]>; first: string; single?: TensorInfo };
  const groups = new Map<string, Group>();
  for (const t of written) {
    let renamed = t.key, pattern: string | undefined, conv: Transform | undefined;
    for (const c of converters) {
      const r = renameKey(c, renamed);
      if (r.branch >= 0) { renamed = r.key; pattern = c.sources[r.branch]; conv = c; break; }
    }
    if (conv && pattern !== undefined) {
      let g = groups.get(renamed);
      if (!g) groups.set(renamed, g = { conv, collected: new Map(), first: renamed });
      const list = g.collected.get(pattern) ?? [];
      list.push(t);
      g.collected.set(pattern, list);
    } else {
      const k = applyRenamings(t.key);
      if (!groups.has(k)) groups.set(k, { collected: new Map(), first: k, single: t });
    }
  }

  const out: TensorInfo[] = [];
  const renamed = new Map<string, string>();
  const converted = new Map<string, { keys: string[]; ops: string }>();
  for (const [name, g] of groups) {
    if (g.single) {
      out.push({ ...g.single, key: name });
      if (name !== g.single.key) renamed.set(g.single.key, name);
      continue;
    }
    const conv = g.conv!;
    const sourcesOf = [...g.collected.values()].flat();
    const result = runOps(conv, g.collected);
    const ops = (conv.loadOps ?? conv.ops).map(opText).join(', ');
    if (typeof result === 'string') {
      // Not expressible: listed as the module has it, with a note — never a guessed name.
      for (const t of sourcesOf) out.push(t);
      notes.push(`\`${sourcesOf.map((t) => t.key).join('`, `')}\`: transformers transforms ${sourcesOf.length === 1 ? 'it' : 'them'} at load (${ops}) and ${result}; listed under the module's ${sourcesOf.length === 1 ? 'key' : 'keys'}`);
      continue;
    }
    // WeightConverter.convert: the operations' result keys get the layer name's prefix and suffix.
    const full = g.first.split('*.').join('0.');
    const keys = [...result.keys()];
    const at = keys.find((k) => full.includes(k));
    const [prefix, suffix] = at === undefined ? ['', ''] : [full.slice(0, full.indexOf(at)), full.slice(full.indexOf(at) + at.length)];
    const made: string[] = [];
    for (const [k, shape] of result) {
      const key = applyRenamings(prefix + k + suffix);
      made.push(key);
      out.push(shapedLike(sourcesOf[0], key, shape));
    }
    for (const t of sourcesOf) converted.set(t.key, { keys: made, ops });
  }
  if (!renamed.size && !converted.size && !notes.length) return undefined;
  const order = out.sort((a, b) => dotNaturalCompare(a.key, b.key));
  return { tensors: order, notes, renamed, converted, rulesFile: table.file };
}

/** `get_model_conversion_mapping(model, add_legacy=False)`: each PreTrainedModel's rules, scoped to its prefix. */
function modelConversions(rules: Map<string, PyVal[] | string>, modules: PretrainedModule[], notes: string[]): Transform[] {
  const out: Transform[] = [];
  const seen = new Map<string, string[]>();
  const claimed = (id: string, p: string) => (seen.get(id) ?? []).some((s) => s === '' || p.startsWith(`${s}.`));
  const basePrefix = modules[0].basePrefix ?? '';
  for (const m of modules) {
    if (claimed(m.className, m.path)) continue;
    let entry = rules.get(m.className);
    const viaClass = entry !== undefined;
    if (!viaClass) {
      if (m.modelType && claimed(m.modelType, m.path)) continue;
      if (m.modelType) entry = rules.get(m.modelType);
    }
    if (entry === undefined) continue;
    if (typeof entry === 'string') {
      notes.push(`transformers' conversion rules for \`${viaClass ? m.className : m.modelType}\` could not be read (${entry}): the checkpoint keys of ${m.path ? `\`${m.path}\`` : 'the model'} may differ from those listed`);
    } else {
      for (const v of entry) {
        const t = transformOf(v);
        if (typeof t === 'string') {
          notes.push(`transformers converts some keys of ${m.path ? `\`${m.path}\`` : 'the model'} with ${t}, which Tensor Port does not follow: their checkpoint names may differ from those listed`);
          continue;
        }
        if (m.path !== '') {
          let scope = m.path.startsWith(basePrefix) ? m.path.slice(basePrefix.length) : m.path;
          if (scope.startsWith('.')) scope = scope.slice(1);
          t.scopePrefix = scope;
          t.baseModelPrefix = basePrefix;
        }
        out.push(t);
      }
    }
    const ids = seen.get(m.className) ?? [];
    ids.push(m.path);
    seen.set(m.className, ids);
    if (!viaClass && m.modelType) {
      const ts = seen.get(m.modelType) ?? [];
      ts.push(m.path);
      seen.set(m.modelType, ts);
    }
  }
  return out;
}

type Shape = (number | string)[];

const shapeOf = (t: TensorInfo): Shape => t.shape.map((d, i) => (Number.isNaN(d) ? t.dims?.[i] ?? '?' : d));

function shapedLike(t: TensorInfo, key: string, shape: Shape): TensorInfo {
  const out: TensorInfo = { key, dtype: t.dtype, shape: shape.map((d) => (typeof d === 'number' ? d : NaN)) };
  if (shape.some((d) => typeof d !== 'number')) out.dims = shape;
  if (t.definition) out.definition = t.definition;
  if (t.buffer) out.buffer = true;
  if (t.conditional) out.conditional = t.conditional;
  return out;
}

const opText = (op: PyCall) => `${op.cls}(${[...op.kw].map(([k, v]) => `${k}=${String(v)}`).join(', ')})`;
const div = (d: number | string, n: number) => (typeof d === 'number' ? d / n : `(${d})//${n}`);
const sum = (ds: (number | string)[]) => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((a, b) => a + b, 0) : ds.join('+'));

/**
 * The reversed converter's operations over shapes, as the operations of core_model_loading.py compute
 * their result keys; a string says why the result cannot be listed.
 */
function runOps(conv: Transform, collected: Map<string, TensorInfo[]>): Map<string, Shape> | string {
  let state = new Map<string, Shape[]>([...collected].map(([k, ts]) => [k, ts.map(shapeOf)]));
  for (const op of conv.ops) {
    const dim = dimOf(op);
    const next = new Map<string, Shape[]>();
    const first = () => [...state.values()][0][0];
    switch (op.cls) {
      case 'Chunk': {
        if (state.size !== 1) return 'Chunk of several tensors is undefined';
        const t = first();
        for (const target of conv.targets) next.set(target, [t.map((d, i) => (i === dim ? div(d, conv.targets.length) : d))]);
        break;
      }
      case 'Concatenate': {
        const all = conv.sources.flatMap((s) => state.get(s) ?? []);
        if (!all.length) return 'nothing to concatenate';
        next.set(conv.targets[0], [all[0].map((d, i) => (i === dim ? sum(all.map((t) => t[i])) : d))]);
        break;
      }
      case 'SplitModulelist': {
        for (const [pattern, ts] of state) {
          const t = ts[0];
          const n = t[dim];
          if (typeof n !== 'number') return `its count \`${n}\` is not known (bind it to list the checkpoint's keys)`;
          const name = state.size === 1 && conv.targets.length === 1 ? conv.targets[0] : pattern;
          for (let i = 0; i < n; i++) next.set(name.split('*').join(String(i)), [t.filter((_d, j) => j !== dim)]);
        }
        break;
      }
      case 'MergeModulelist': {
        for (const [pattern, ts] of state) {
          const name = state.size === 1 ? conv.targets[0] : pattern;
          next.set(name, [[...ts[0].slice(0, dim), ts.length, ...ts[0].slice(dim)]]);
        }
        break;
      }
      case 'Transpose': {
        if (state.size !== 1) return 'Transpose of several tensors is undefined';
        const d0 = Number(op.kw.get('dim0') ?? 0), d1 = Number(op.kw.get('dim1') ?? 1);
        const t = [...first()];
        [t[d0], t[d1]] = [t[d1], t[d0]];
        next.set(conv.targets.length === 1 ? conv.targets[0] : conv.sources[0], [t]);
        break;
      }
      case 'Interleave':
        next.set(conv.targets[0], [first()]);
        break;
      default:
        return `\`${op.cls}\` is an operation Tensor Port does not follow`;
    }
    state = next;
  }
  const out = new Map<string, Shape>();
  for (const [k, ts] of state) out.set(k, ts[0]);
  return out;
}

/**
 * Adds the checkpoint key space to a transformers model's info: `checkpointKey`/`checkpointConversion`
 * on each module tensor that `save_pretrained` writes differently, `checkpointSpace` with the written
 * tensors, and a note. Other models are returned unchanged.
 */
export function withCheckpointSpace(info: CheckpointInfo, modelFile: string, modules: PretrainedModule[]): CheckpointInfo {
  if (!modules.length || info.stopped) return info;
  const space = checkpointSpace(modelFile, modules, info.tensors);
  if (!space) return info;
  const tensors = info.tensors.map((t) => {
    const to = space.renamed.get(t.key);
    if (to) return { ...t, checkpointKey: to };
    const conv = space.converted.get(t.key);
    return conv ? { ...t, checkpointConversion: conv } : t;
  });
  const parts = [space.renamed.size ? `${space.renamed.size} renamed` : '', space.converted.size ? `${space.converted.size} fused at load (written as ${new Set([...space.converted.values()].flatMap((c) => c.keys)).size} tensors)` : ''].filter(Boolean);
  const notes = [...info.notes];
  if (parts.length) notes.push(`transformers saves this model under other keys than its modules have (${parts.join(', ')}; rules of ${space.rulesFile}): \`keys --key-space checkpoint\` lists them, and a mapping against a saved transformers checkpoint uses them`);
  notes.push(...space.notes);
  return { ...info, tensors, notes, keySpace: 'module', checkpointSpace: { tensors: space.tensors, notes: space.notes } };
}

/** The info as `save_pretrained` writes it: the checkpoint key space in place of the module's keys. */
export function inCheckpointSpace(info: CheckpointInfo): CheckpointInfo {
  if (!info.checkpointSpace) return info;
  const { checkpointSpace: space, ...rest } = info;
  // What was not followed is named where the keys now are, so a rule under it still hears of it.
  const incomplete = info.incomplete?.map((g) => ({ ...g, module: checkpointPrefix(g.module, info.tensors) }));
  return { ...rest, tensors: space.tensors, keySpace: 'checkpoint', ...(incomplete ? { incomplete } : {}) };
}

/**
 * A module prefix in the checkpoint key space: renamed as the keys under its nearest ancestor with a key
 * were (`model.encoder` → `encoder` when `model.embeddings.x` was saved as `embeddings.x`).
 */
export function checkpointPrefix(module: string, tensors: readonly TensorInfo[]): string {
  if (!module) return module;
  const parts = module.split('.');
  for (let n = parts.length; n >= 0; n--) {
    const prefix = parts.slice(0, n).join('.');
    for (const t of tensors) {
      if (n && t.key !== prefix && !t.key.startsWith(`${prefix}.`)) continue;
      const to = t.checkpointKey ?? t.key;
      const rest = n ? t.key.slice(prefix.length + 1) : t.key;
      const head = !rest ? to : to === rest ? '' : to.endsWith(`.${rest}`) ? to.slice(0, to.length - rest.length - 1) : undefined;
      if (head !== undefined) return [head, ...parts.slice(n)].filter(Boolean).join('.');
    }
  }
  return module;
}

/**
 * The key space a mapping side matches a concrete checkpoint in: the checkpoint's when its keys are
 * more of the checkpoint key space's than of the module's (a checkpoint `save_pretrained` wrote, or one
 * from the hub), else the module's — recognised by the keys themselves, so a state dict saved with
 * `torch.save(model.state_dict())` still matches the module's keys.
 */
export function matchingKeySpace(info: CheckpointInfo, otherKeys: readonly string[]): CheckpointInfo {
  if (!info.checkpointSpace) return info;
  const other = new Set(otherKeys);
  const hits = (ts: TensorInfo[]) => ts.reduce((n, t) => n + (other.has(t.key) ? 1 : 0), 0);
  const inCkpt = hits(info.checkpointSpace.tensors), inModule = hits(info.tensors);
  if (inCkpt <= inModule) return info;
  const out = inCheckpointSpace(info);
  return { ...out, notes: [...out.notes, `matched in the checkpoint key space (the keys transformers' \`save_pretrained\` writes): the other side has ${inCkpt} of its keys and ${inModule} of the module's`] };
}
