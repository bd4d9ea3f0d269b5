/**
 * A `source`/`target` line naming model source (`paddle_vit.py::VisionTransformer`): loads the code,
 * gathers the fixed config values (`set` lines, then a config.json beside the other side's
 * checkpoint) and binds the rest against the other side. sides.ts turns the result into side data.
 */
import { CheckpointInfo, ConfigDiffer } from '../formats/tensorInfo';
import { configMatches, constructorParams, effectOf, sameValue } from './ctorValues';
import { formatSetValue } from './parse';
import type { SideData } from './sideData';
import { lineOf } from './locate';
import { MappingFile, SetValue } from './syntax';
import { DEFAULT_FROM, HardBinding, bindModelSide } from './bindModel';
import { ConfigValues, readConfigBeside } from '../source/configJson';
import { LoadedModel, SourceError, loadModelSource } from '../source/loadModel';
import { matchingKeySpace } from '../source/hfKeySpace';

export type ModelSideResult = { ok: true; info: CheckpointInfo } | { ok: false; message: string };

export interface ModelSideRequest {
  /** Absolute path of the model file. */
  path: string;
  className: string;
  /** `FILE::Class` as the mapping wrote it. */
  written: string;
  role: 'source' | 'target';
  file: MappingFile;
  /** The other side, when it is a checkpoint that loaded. */
  other?: SideData;
  overlay?: ReadonlyMap<string, string>;
}

const withParamsMemo = new WeakMap<CheckpointInfo, CheckpointInfo>();

export async function loadModelSide(req: ModelSideRequest): Promise<ModelSideResult> {
  let model;
  try {
    model = await loadModelSource(req.path, req.className, { overlay: req.overlay });
  } catch (e) {
    if (e instanceof SourceError) return { ok: false, message: `${req.written}: ${e.message.replace(`${req.path}: `, '')}` };
    return { ok: false, message: `${req.written}: ${(e as Error).message}` };
  }
  const concrete = req.other && req.other.info.format !== 'python-source' && req.other.info.format !== 'ts-source' ? req.other : undefined;
  const hard = new Map<string, HardBinding>();
  const cfg = concrete ? await readConfigBeside(concrete.path) : undefined;
  if (concrete) {
    for (const [k, v] of cfg?.values ?? []) hard.set(k, { value: v, from: `config.json beside ${concrete.written}` });
  }
  for (const item of req.file.items) {
    if (item.kind === 'set' && item.name && item.value) {
      hard.set(item.name.text, { value: item.value.value, from: `\`set ${item.name.text} = ${item.value.value}\` (line ${lineOf(req.file, item.start) + 1})` });
    }
  }
  const bound = bindModelSide({ model, written: req.written, role: req.role, file: req.file, other: concrete, hard });
  // A saved transformers checkpoint has the keys save_pretrained writes, which may not be the module's.
  const info = concrete ? matchingKeySpace(bound, concrete.info.tensors.map((t) => t.key)) : bound;
  // Keys missing for a reason inference knows (it stopped, a file does not parse) would read as a port's
  // unmapped or unknown keys: the side is unusable, with the reason, as a checkpoint that cannot be read is.
  if (info.stopped) return { ok: false, message: `${req.written}: ${info.stopped}` };
  const differs = cfg ? configDiffers(model, cfg, req.file, info) : [];
  // The same inferred info gets the same object back: side data and the rule cache are keyed by it.
  let withParams = withParamsMemo.get(info);
  if (!withParams) {
    const params = constructorParams(model).map((p) => ({ name: p.name, ...(p.hasDefault ? { default: p.dflt === undefined ? '…' : p.dflt === null ? 'None' : formatSetValue(p.dflt) } : {}) }));
    withParamsMemo.set(info, withParams = { ...info, constructorParams: params });
  }
  return { ok: true, info: differs.length ? { ...withParams, configDiffers: differs } : withParams };
}

/**
 * A value config.json gives under another name than the constructor's (`layer_norm_eps` → `epsilon`)
 * binds nothing by itself: where the class's value (a `set` line, else its default) differs, the port
 * is built differently from the checkpoint. Values named alike are bound by name, so never differ here.
 */
function configDiffers(model: LoadedModel, cfg: ConfigValues, file: MappingFile, info: CheckpointInfo): ConfigDiffer[] {
  const sets = new Map<string, { value: SetValue; line: number }>();
  for (const item of file.items) if (item.kind === 'set' && item.name && item.value) sets.set(item.name.text, { value: item.value.value, line: lineOf(file, item.start) + 1 });
  const out: ConfigDiffer[] = [];
  for (const m of configMatches(constructorParams(model), cfg.values)) {
    if (m.exact) continue;
    const set = sets.get(m.param);
    // A size the tensors bound is what the class will be built with (a shape-mismatch says otherwise).
    const bound = info.bindings?.[m.param];
    const byShapes = !set && bound && bound.from !== DEFAULT_FROM ? bound : undefined;
    const classValue = set ? set.value : byShapes ? byShapes.value : m.dflt;
    if (classValue === undefined || sameValue(classValue, m.value)) continue;
    out.push({ param: m.param, classValue: classValue === null ? 'None' : formatSetValue(classValue),
      classFrom: set ? `\`set ${m.param}\` on line ${set.line}` : byShapes ? byShapes.from : "the class's default", key: m.key, configValue: formatSetValue(m.value),
      file: cfg.file, effect: effectOf(m.param, m.key, classValue, m.value) });
  }
  return out;
}
