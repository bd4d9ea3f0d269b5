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

export interface OnnxParityRequest {
  reference: string;
  candidate: string;
  /** A .tpmap whose source tensors replace the candidate's initializers. */
  weights?: string;
  inputs?: InputSpec[];
  seed?: number;
  atol?: number;
  rtol?: number;
  dtype?: ParityDtype;
  device?: Device;
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
}

export interface Divergence {
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
}

export interface ParityReport {
  pass: boolean;
  mode: 'onnx' | 'command';
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
  timings: { loadMs: number; runMs: number; compareMs?: number; totalMs?: number };
  /** Things worth knowing that are not failures: conversions, fallbacks, mapping check errors. */
  notes: string[];
}
