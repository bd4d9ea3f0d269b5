/**
 * The checks an eager request gets before anything runs, whoever sent it (the CLI's flags, the panel's
 * form through the language server, whose JSON is not typed at run time): one line naming the field.
 */
import * as path from 'node:path';
import { ParityError } from '../parityError';
import { DEFAULT_SAVE_DIR, EagerParityRequest } from '../types';

const isText = (v: unknown): v is string => typeof v === 'string';

export function checkEagerRequest(req: EagerParityRequest): void {
  for (const [flag, v] of [['--reference-weights', req.referenceWeights], ['--candidate-weights', req.candidateWeights], ['--save-dir', req.saveDir]] as const) {
    if (v !== undefined && (!isText(v) || !v.trim())) throw new ParityError(`${flag}: expected a path`);
  }
  if (req.launcher !== undefined) {
    if (!isText(req.launcher) || !req.launcher.trim()) throw new ParityError('--launcher is empty');
    if (/[\r\n]/.test(req.launcher)) throw new ParityError('--launcher: one command line (it has a line break)');
  }
  if (req.saveTensors !== undefined) {
    if (!Array.isArray(req.saveTensors) || req.saveTensors.length === 0) throw new ParityError('--save-tensors: expected MODULE[,MODULE…]');
    const bad = req.saveTensors.find((m) => !isText(m) || !m.trim());
    if (bad !== undefined) throw new ParityError('--save-tensors: a module name is empty');
  } else if (req.saveDir !== undefined) {
    throw new ParityError('--save-dir applies with --save-tensors MODULE[,MODULE…] only');
  }
}

/** The folder `saveTensors` writes into, absolute. */
export function saveDirOf(req: EagerParityRequest, cwd: string): string {
  return path.resolve(cwd, req.saveDir ?? DEFAULT_SAVE_DIR);
}

/**
 * The launcher's environment: the interpreter's own folder first on PATH, as activating its environment
 * would, so `torchrun` is the one installed beside the Python the editor or `--python` chose.
 */
export function launcherEnv(env: NodeJS.ProcessEnv, python: string | undefined): NodeJS.ProcessEnv {
  if (!python || !path.isAbsolute(python)) return env;
  const key = Object.keys(env).find((k) => k.toUpperCase() === 'PATH') ?? 'PATH';
  return { ...env, [key]: [path.dirname(python), env[key]].filter(Boolean).join(path.delimiter) };
}
