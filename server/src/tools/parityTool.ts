/**
 * `parity`: a forward parity check (../shared/spec/parity.md) — two ONNX models, optionally with the
 * candidate's weights pushed through a mapping, or the user's own script (command mode, which runs
 * user code: each face says whether it may). Writes no files, but eager mode's `saveTensors` (the CLI's
 * --save-tensors; the agent tools' schema does not offer it).
 */
import type { z } from 'zod';
import { ParityDtype } from '../parity/compare';
import { runCommandParity } from '../parity/commandMode';
import { isModelSpec, runEagerParity } from '../parity/eager/eagerMode';
import { runOnnxParity } from '../parity/engine';
import type { CheckpointIndex } from '../index/checkpointIndex';
import { reportJson } from '../parity/formatReport';
import { InputSpec, parseInputSpec } from '../parity/inputs';
import { Device, ParityReport, ProgressEvent } from '../parity/types';
import { InputError, OptionName, cliOption } from './inputError';
import type { parityOutput } from './schemas';

export interface ParityInput {
  reference?: string; candidate?: string; weights?: string;
  /** `NAME=FILE.npy` or `NAME=random:SHAPE`, as the CLI's --input. */
  inputs?: string[];
  seed?: number; atol?: number; rtol?: number; dtype?: ParityDtype; device?: Device; layers?: boolean;
  command?: string; cwd?: string;
  /** Seconds, command and eager mode. */
  timeout?: number;
  /** Eager mode (`FILE.py::NAME` models): checkpoints instead of the mapping's sides, gradients, interpreter, launcher. */
  referenceWeights?: string; candidateWeights?: string; backward?: boolean; python?: string; launcher?: string;
  /** Eager mode, the CLI only: reference modules whose paired outputs are written in full as .npy, and where. */
  saveTensors?: string[]; saveDir?: string;
}

export interface ParityRunOptions {
  signal?: AbortSignal;
  onProgress?(e: ProgressEvent): void;
  onStderr?(text: string): void;
  /** Run onnxruntime in this process (the CLI, which has nothing else to keep responsive) instead of a worker process. */
  inProcess?: boolean;
  /** Whether command and eager mode (user code) may run here; `refusal` says why not and how to allow it. */
  commands: { allowed: true } | { allowed: false; refusal: string };
  /** The index eager mode reads the mapping's sides through (the server's own). */
  index?: CheckpointIndex;
  /** Benchmarks: bare forward passes timed before the probed one (eager mode). */
  benchRuns?: number;
}

const ONNX_ONLY = ['reference', 'candidate', 'weights', 'inputs', 'seed', 'device', 'layers'] as const;

export async function runParityTool(input: ParityInput, run: ParityRunOptions, option: OptionName = cliOption): Promise<ParityReport> {
  const { atol, rtol, dtype } = input;
  for (const [name, v] of [['atol', atol], ['rtol', rtol]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) throw new InputError(`${option(name)} ${v}: expected a tolerance ≥ 0`);
  }
  if (isModelSpec(input.reference) || isModelSpec(input.candidate)) return runEager(input, run, option);
  const eagerOnly = (['referenceWeights', 'candidateWeights', 'backward', 'python', 'launcher', 'saveTensors', 'saveDir'] as const).find((k) => input[k] !== undefined && input[k] !== false);
  if (eagerOnly) throw new InputError(`${option(eagerOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), eagerOnly)} applies to eager mode only (--reference FILE.py::NAME --candidate FILE.py::NAME)`);
  if (input.command !== undefined) {
    const onnxOnly = ONNX_ONLY.filter((k) => input[k] !== undefined && input[k] !== false);
    if (onnxOnly.length) throw new InputError(`${option('command')} runs your script instead of ONNX models: ${onnxOnly[0] === 'inputs' ? option('input', 'inputs') : option(onnxOnly[0])} does not apply`);
    if (input.timeout !== undefined && !(Number.isFinite(input.timeout) && input.timeout > 0)) throw new InputError(`${option('timeout')} ${input.timeout}: expected seconds > 0`);
    if (!run.commands.allowed) throw new InputError(run.commands.refusal);
    return runCommandParity(
      { command: input.command, cwd: input.cwd, timeoutMs: input.timeout !== undefined ? input.timeout * 1000 : undefined, atol, rtol, dtype, trusted: true },
      { signal: run.signal, onProgress: run.onProgress, onStderr: run.onStderr },
    );
  }
  if (!input.reference || !input.candidate) throw new InputError(`parity needs ${option('reference')} and ${option('candidate')} (or ${option('command')})`);
  if (input.cwd !== undefined || input.timeout !== undefined) throw new InputError(`${option(input.cwd !== undefined ? 'cwd' : 'timeout')} applies to ${option('command')} only`);
  if (input.seed !== undefined && !(Number.isSafeInteger(input.seed) && input.seed >= 0)) throw new InputError(`${option('seed')} ${input.seed}: expected a non-negative integer`);
  let inputs: InputSpec[];
  try {
    inputs = (input.inputs ?? []).map(parseInputSpec);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  const req = { reference: input.reference, candidate: input.candidate, weights: input.weights, inputs, seed: input.seed, atol, rtol, dtype, device: input.device, layers: input.layers };
  if (!run.inProcess) return runOnnxParity(req, { signal: run.signal, onProgress: run.onProgress });
  // Loaded only here: onnxruntime's native library is for the runs themselves, not every start.
  const { executeOnnxParity } = await import('../parity/runOnnx');
  return executeOnnxParity(req, run.onProgress);
}

async function runEager(input: ParityInput, run: ParityRunOptions, option: OptionName): Promise<ParityReport> {
  if (!isModelSpec(input.reference) || !isModelSpec(input.candidate)) throw new InputError(`eager mode needs both ${option('reference')} and ${option('candidate')} as FILE.py::NAME`);
  if (input.command !== undefined || input.layers) throw new InputError(`${option(input.command !== undefined ? 'command' : 'layers')} does not apply to eager mode (every module is compared)`);
  if (input.seed !== undefined && !(Number.isSafeInteger(input.seed) && input.seed >= 0)) throw new InputError(`${option('seed')} ${input.seed}: expected a non-negative integer`);
  if (input.timeout !== undefined && !(Number.isFinite(input.timeout) && input.timeout > 0)) throw new InputError(`${option('timeout')} ${input.timeout}: expected seconds > 0`);
  if (input.launcher !== undefined && !input.launcher.trim()) throw new InputError(`${option('launcher')} is empty`);
  if (input.saveDir !== undefined && input.saveTensors === undefined) throw new InputError(`${option('save-dir', 'saveDir')} applies with ${option('save-tensors', 'saveTensors')} only`);
  if (input.saveTensors?.some((m) => !m.trim())) throw new InputError(`${option('save-tensors', 'saveTensors')}: a module name is empty`);
  if (!run.commands.allowed) throw new InputError(run.commands.refusal);
  let inputs: InputSpec[];
  try {
    inputs = (input.inputs ?? []).map(parseInputSpec);
  } catch (e) {
    throw new InputError((e as Error).message);
  }
  return runEagerParity({
    reference: input.reference!, candidate: input.candidate!, weights: input.weights, referenceWeights: input.referenceWeights, candidateWeights: input.candidateWeights,
    inputs, seed: input.seed, atol: input.atol, rtol: input.rtol, dtype: input.dtype, device: input.device, backward: input.backward, python: input.python,
    launcher: input.launcher, saveTensors: input.saveTensors?.map((m) => m.trim()), saveDir: input.saveDir, cwd: input.cwd, timeoutMs: input.timeout !== undefined ? input.timeout * 1000 : undefined, trusted: true, benchRuns: run.benchRuns,
  }, { signal: run.signal, onProgress: run.onProgress, onLog: run.onStderr, index: run.index });
}

/** The `parity --json` document as a JSON value: NaN and the infinities as the strings the CLI prints. */
export function parityJson(report: ParityReport): z.infer<typeof parityOutput> {
  return JSON.parse(reportJson(report)) as z.infer<typeof parityOutput>;
}
