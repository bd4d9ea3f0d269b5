/**
 * `FILE.py::Class` / `FILE.ts::Class` read on its own (no mapping): the tensors `Class()` would have
 * with its constructor defaults, and every dimension that still depends on a config value named by
 * it (`"hidden_size"`). What `tensorport keys` prints; failures are ReaderErrors like a checkpoint's.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ReaderError } from '../formats/readerError';
import { CheckpointInfo } from '../formats/tensorInfo';
import { readConfigFile } from './configJson';
import { inferTensors } from './infer';
import { Binding } from './interpret';
import { LoadedModel, SourceError, languageOf, loadModelSource } from './loadModel';
import { sourceCheckpointInfo } from './sourceInfo';

/** Splits `path/model.py::ClassName`; undefined when the argument does not name model source. */
export function parseModelSpec(arg: string): { file: string; className: string } | undefined {
  const at = arg.lastIndexOf('::');
  if (at < 0) return undefined;
  const file = arg.slice(0, at);
  const className = arg.slice(at + 2);
  if (!languageOf(file) || !/^[A-Za-z_$][\w$]*$/.test(className)) return undefined;
  return { file, className };
}

export interface ModelSourceOptions {
  /** A config.json whose values the model is built with (`keys --config`); else `config.json` beside the file, if any. */
  config?: string;
}

export async function readModelSource(arg: string, bindings: ReadonlyMap<string, Binding> = new Map(), opts: ModelSourceOptions = {}): Promise<CheckpointInfo> {
  const spec = parseModelSpec(arg);
  if (!spec) throw new ReaderError('unreadable-checkpoint', arg, 'expected FILE.py::ClassName, or FILE.ts::buildModel / FILE.js::buildModel for a TF.js model');
  // A model that ships its code beside its config (a hub repo with remote code) is built with that config.
  const cfgPath = opts.config ?? path.join(path.dirname(spec.file), 'config.json');
  const cfg = await readConfigFile(path.resolve(cfgPath));
  if (opts.config && !cfg) throw new ReaderError('unreadable-checkpoint', opts.config, 'cannot be read as a config file');
  if (cfg?.problem) {
    if (opts.config) throw new ReaderError('unreadable-checkpoint', opts.config, cfg.problem);
  }
  const given = new Map<string, Binding>([...(cfg?.problem ? [] : cfg?.values ?? []), ...bindings]);
  try {
    // Imports resolve from where the file really is: a link to an installed modeling file still reaches its package.
    const real = await fs.realpath(path.resolve(spec.file)).catch(() => path.resolve(spec.file));
    const from = cfg && !cfg.problem ? (opts.config ? cfg.file : `config.json beside ${spec.file}`) : undefined;
    const info = await inferModelInfo(real, spec.className, { bindings: given, written: arg, givenFrom: from });
    // transformers' modular files are templates: the converter renames the classes they inherit when it
    // writes modeling_*.py, so run as Python they build the parent model's layers, not this one's.
    const base = path.basename(spec.file);
    if (/^modular_.+\.py$/.test(base) && await fs.stat(path.join(path.dirname(real), base.replace(/^modular_/, 'modeling_'))).then(() => true, () => false)) {
      info.notes.unshift(`${base} is a transformers modular template: the model is what its generated ${base.replace(/^modular_/, 'modeling_')} defines — name that file`);
    }
    if (from) info.notes.unshift(`built with the values of ${from}`);
    else if (cfg?.problem) info.notes.unshift(`config.json beside the file was not used: ${cfg.problem}`);
    return info;
  } catch (e) {
    const reason = e instanceof SourceError ? e.message.replace(/^[^:]*\.(py|pyi|ts|mts|cts|tsx|js|mjs|cjs|jsx): /, '') : (e as Error).message;
    throw new ReaderError('unreadable-checkpoint', arg, reason);
  }
}

/** The same from an absolute path and a class; throws SourceError. */
export async function inferModelInfo(file: string, className: string, opts: { bindings?: ReadonlyMap<string, Binding>; overlay?: ReadonlyMap<string, string>; written?: string; givenFrom?: string } = {}): Promise<CheckpointInfo> {
  const bindings = opts.bindings ?? new Map<string, Binding>();
  const model = await loadModelSource(file, className, { overlay: opts.overlay });
  // Hover asks for every class of a file on each move: the same model with the same bindings infers once.
  const key = JSON.stringify([opts.written, opts.givenFrom, [...bindings]]);
  let perModel = inferred.get(model);
  if (!perModel) inferred.set(model, perModel = new Map());
  const hit = perModel.get(key);
  if (hit) return { ...hit, notes: [...hit.notes] };
  const info = inferFresh(model, file, className, bindings, opts);
  perModel.set(key, info);
  return { ...info, notes: [...info.notes] };
}

const inferred = new WeakMap<LoadedModel, Map<string, CheckpointInfo>>();

function inferFresh(model: LoadedModel, file: string, className: string, bindings: ReadonlyMap<string, Binding>, opts: { written?: string; givenFrom?: string }): CheckpointInfo {
  const declared = inferTensors(model, { provisional: true });
  const final = inferTensors(model, { bindings });
  const used: Record<string, { value: number; from: string }> = {};
  for (const [sym, s] of declared.symbols) {
    const b = bindings.get(sym);
    if (typeof b === 'number') used[sym] = { value: b, from: opts.givenFrom ?? 'given' };
    else if (s.default !== undefined) used[sym] = { value: s.default, from: `the constructor's default` };
  }
  return sourceCheckpointInfo(model, opts.written ?? `${file}::${className}`, final, declared, used);
}
