/**
 * `FILE.py::Class` / `FILE.ts::Class` read on its own (no mapping): the tensors `Class()` would have
 * with its constructor defaults, and every dimension that still depends on a config value named by
 * it (`"hidden_size"`). What `tensorport keys` prints; failures are ReaderErrors like a checkpoint's.
 */
import * as path from 'node:path';
import { ReaderError } from '../formats/readerError';
import { CheckpointInfo } from '../formats/tensorInfo';
import { inferTensors } from './infer';
import { Binding } from './interpret';
import { SourceError, languageOf, loadModelSource } from './loadModel';
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

export async function readModelSource(arg: string, bindings: ReadonlyMap<string, Binding> = new Map()): Promise<CheckpointInfo> {
  const spec = parseModelSpec(arg);
  if (!spec) throw new ReaderError('unreadable-checkpoint', arg, 'expected FILE.py::ClassName or FILE.ts::ClassName');
  try {
    return await inferModelInfo(path.resolve(spec.file), spec.className, { bindings, written: arg });
  } catch (e) {
    const reason = e instanceof SourceError ? e.message.replace(`${path.resolve(spec.file)}: `, '') : (e as Error).message;
    throw new ReaderError('unreadable-checkpoint', arg, reason);
  }
}

/** The same from an absolute path and a class; throws SourceError. */
export async function inferModelInfo(file: string, className: string, opts: { bindings?: ReadonlyMap<string, Binding>; overlay?: ReadonlyMap<string, string>; written?: string } = {}): Promise<CheckpointInfo> {
  const bindings = opts.bindings ?? new Map<string, Binding>();
  const model = await loadModelSource(file, className, { overlay: opts.overlay });
  const declared = inferTensors(model, { provisional: true });
  const final = inferTensors(model, { bindings });
  const used: Record<string, { value: number; from: string }> = {};
  for (const [sym, s] of declared.symbols) {
    const b = bindings.get(sym);
    if (typeof b === 'number') used[sym] = { value: b, from: 'given' };
    else if (s.default !== undefined) used[sym] = { value: s.default, from: `the constructor's default` };
  }
  return sourceCheckpointInfo(model, opts.written ?? `${file}::${className}`, final, declared, used);
}
