/**
 * What a parity run takes and gives back, as plain data: the CLI, the panel and the worker exchange
 * exactly these objects. `ParityReport` is the `--json` document of ../shared/spec/parity.md, with a
 * few additions (tolerance, requiredTolerance, inputs, layers, weights, notes) a reader may ignore.
 */
import { Comparison, ParityDtype, Tolerance } from './compare';
import { InputReport, InputSpec } from './inputs';
import { PairedBy } from './layers';
import { MappingLine, WeightReport } from './weights';


export type Device = 'auto' | 'cpu' | 'cuda';

/** What every run of two models with generated or given inputs takes (ONNX and eager alike). */
interface TwoModelRun {
  reference: string;
  candidate: string;
  inputs?: InputSpec[];
  seed?: number;
  atol?: number;
  rtol?: number;
  dtype?: ParityDtype;
  device?: Device;
}

export interface OnnxParityRequest extends TwoModelRun {
  /** A .tpmap whose source tensors replace the candidate's initializers. */
  weights?: string;
  layers?: boolean;
}

export interface CommandParityRequest {
  /** A shell command line, run in `cwd` with `env` added to the environment. */
  command: string;
  cwd?: string;
  env?: Record<string, string>;
  /** The whole run, from start to `done`; default 10 minutes. */
  timeoutMs?: number;
  atol?: number;
  rtol?: number;
  dtype?: ParityDtype;
  /**
   * Command mode runs the user's code: the caller says whether the workspace is trusted. The CLI runs
   * what its user typed and passes true; the editor passes `vscode.workspace.isTrusted`.
   */
  trusted: boolean;
}

/**
 * Eager mode: the user's own PyTorch / Paddle models, built in their Python by the probe shipped in
 * server/python (see eager/eagerMode.ts). `FILE.py::NAME`: a class constructible with no arguments or a
 * function returning a module.
 */
export interface EagerParityRequest extends TwoModelRun {
  /** A .tpmap: the reference loads its source checkpoint, the candidate the rules' targets. */
  weights?: string;
  /** A checkpoint for the reference instead of the mapping's source (the mapping's rules then read it). */
  referenceWeights?: string;
  /** A checkpoint the candidate loads as it is (a converted file) instead of the mapping's targets. */
  candidateWeights?: string;
  backward?: boolean;
  /** The interpreter (default python3); with a launcher, the launcher's own Python runs the probe. */
  python?: string;
  /** e.g. `torchrun --nproc-per-node 2`: the probe runs under it, rank 0 reports. */
  launcher?: string;
  /** Where relative paths resolve and the probe runs. */
  cwd?: string;
  timeoutMs?: number;
  /** Runs the user's code: only when the caller says the workspace is trusted (the CLI passes true). */
  trusted: boolean;
  /** Benchmarks only: time this many bare forward passes of each model before the probed one. */
  benchRuns?: number;
  /**
   * Full tensors on request: the paired outputs of these reference modules (`NAME`: every call, `NAME#K`:
   * the K-th, `(model)`: the whole model) and their candidate partners, written as `.npy` into `saveDir`.
   */
  saveTensors?: string[];
  /** Where `saveTensors` writes (relative to `cwd`); default `tensorport-parity-tensors`. */
  saveDir?: string;
}

/** The folder `saveTensors` writes into when no `saveDir` is given (relative to the run's folder). */
export const DEFAULT_SAVE_DIR = 'tensorport-parity-tensors';

/** One saved pair: both sides' outputs of one module call, in full, as NumPy files. */
export interface SavedTensorPair {
  reference: string;
  candidate: string;
  referenceFile: string;
  candidateFile: string;
  /** The NumPy dtypes written (bfloat16 is written as float32). */
  dtype: { reference: string; candidate: string };
  shape: { reference: number[]; candidate: number[] };
}

export interface SavedTensors {
  /** The folder, absolute. */
  dir: string;
  files: SavedTensorPair[];
  /** Requested names nothing was saved for (the notes say why). */
  missing: string[];
}

/** Where a module's class is defined, as Python says. */
export interface ModuleSource { class: string; file?: string; line?: number }

export interface GradientResult {
  /** The reference's parameter(s) the candidate's was made from. */
  reference: string[];
  candidate: string;
  shape: number[];
  maxAbsDiff: number;
  maxRelDiff: number;
  cosine: number;
  worstIndex: number[];
  pass: boolean;
  requiredTolerance: Tolerance;
  /** The absolute tolerance applied: the run's atol × max(1, the reference gradient's largest magnitude). */
  atol?: number;
  /** The rule that made the candidate's weight: its gradient is compared after the same transforms. */
  mapping?: MappingLine;
  reason?: string;
}

export interface BackwardReport {
  pass: boolean;
  /** The scalar both sides differentiate. */
  loss: string;
  gradients: GradientResult[];
  /** The first failing gradient in backward order (the last module's parameters first), or null. */
  firstDivergence: GradientResult | null;
  /** Parameters with a gradient on one side that no rule pairs with the other. */
  unpaired: { reference: string[]; candidate: string[] };
}

export type ProgressPhase = 'loading' | 'weights' | 'converting' | 'running' | 'comparing' | 'layers' | 'command';

export interface ProgressEvent {
  phase: ProgressPhase;
  message: string;
  /** Progress within the phase, where it is countable (layer i of n). */
  done?: number;
  total?: number;
}

export interface OutputResult extends Comparison {
  name: string;
  /** The candidate's output name where it differs from the reference's. */
  candidateName?: string;
}

export interface LayerResult {
  reference: string;
  candidate: string;
  shape: number[];
  maxAbsDiff: number;
  maxRelDiff: number;
  cosine: number;
  pass: boolean;
  pairedBy: PairedBy | 'command';
  /** Eager mode: the k-th call of a module called more than once (0 otherwise, omitted). */
  referenceCall?: number;
  candidateCall?: number;
  worstIndex?: number[];
  requiredTolerance?: Tolerance;
  reason?: string;
  dtype?: { reference: string; candidate: string };
  sources?: { reference?: ModuleSource; candidate?: ModuleSource };
  /** Statistics and a fixed sample of each side's tensor (eager mode sends no whole tensors). */
  summary?: { reference: TensorSummary; candidate: TensorSummary };
  /** Eager mode: a part of a fused module, compared with its slice of the fused output (q_proj ↔ qkv). */
  through?: string;
  /** Eager mode: shapes that differ only in a size-1 dimension, compared broadcast as the framework would. */
  broadcast?: string;
}

export interface TensorSummary {
  elements: number;
  nonFinite?: number;
  min?: number;
  max?: number;
  mean?: number;
  std?: number;
  sampleAt?: number[];
  sample?: number[];
}

export interface Divergence {
  /** Eager mode: how a pair of different shapes was compared (a fused module's slice, a broadcast). */
  through?: string;
  reference: string;
  candidate: string;
  maxAbsDiff: number;
  maxRelDiff: number;
  cosine: number;
  shape: number[];
  worstIndex: number[];
  pairedBy: PairedBy | 'command';
  /** Initializers the candidate value is computed from since the last agreeing values. */
  weights?: string[];
  /** The mapping lines that wrote those weights (with --weights). */
  mapping?: MappingLine[];
  /** Eager mode: the candidate's module where the port first departs (the reference's is `reference`). */
  module?: string;
  /** Eager mode: the rules that wrote the module's weights. */
  mappingLines?: MappingLine[];
  sources?: { reference?: ModuleSource; candidate?: ModuleSource };
  requiredTolerance?: Tolerance;
  reason?: string;
  /** Eager mode: the pair before it in forward order that still agreed, and the smallest paired module holding both. */
  lastAgreeing?: { reference: string; candidate: string };
  within?: { reference: string; candidate: string; sources?: { reference?: ModuleSource; candidate?: ModuleSource } };
}

export interface ParityReport {
  pass: boolean;
  mode: 'onnx' | 'command' | 'eager';
  device: string;
  dtype: ParityDtype;
  tolerance: Tolerance;
  reference?: string;
  candidate?: string;
  command?: string;
  inputs?: InputReport[];
  outputs: OutputResult[];
  /** Present with --layers (null when every pair agrees) and in command mode. */
  firstDivergence?: Divergence | null;
  layers?: LayerResult[];
  weights?: WeightReport;
  timings: {
    loadMs: number; runMs: number; compareMs?: number; totalMs?: number; referenceMs?: number; candidateMs?: number;
    /** Eager mode: comparing done by a worker thread during the candidate's pass (inside candidateMs/compareMs). */
    earlyCompareMs?: number;
    bareMs?: { reference: number; candidate: number };
    /** Eager mode: the probe process's CPU time (user + system, all threads) for the same phases. */
    cpuMs?: { reference: number; candidate: number; compare: number; earlyCompare: number; bare?: { reference: number; candidate: number } };
  };
  /** Eager mode with --backward: every parameter's gradient of the same loss, paired through the mapping. */
  backward?: BackwardReport;
  /** Eager mode: module calls neither pairing could place. */
  unpaired?: { reference: string[]; candidate: string[] };
  /** Eager mode: the probe's peak memory (MiB), after loading and overall. */
  memory?: { afterLoadMB: number | null; peakMB: number | null };
  /** Eager mode under a launcher: each rank's verdict. */
  ranks?: { rank: number; failing: number; layers: number; outputsPass: boolean }[];
  /** Eager mode with saveTensors: the `.npy` files written. */
  savedTensors?: SavedTensors;
  /** Things worth knowing that are not failures: conversions, fallbacks, mapping check errors. */
  notes: string[];
}
