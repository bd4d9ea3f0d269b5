/**
 * The messages between the webviews (media/*.js) and their hosts, both ways: one union per direction,
 * imported by the hosts and, through JSDoc, by the webview scripts, which media/tsconfig.json checks.
 * Types only.
 */
import type { KeysResult, ParityProgressParams, ParityReport } from '../../server/src/lsp/protocol';

/** Host → checkpoint viewer. */
export type ViewerMessage =
  | { type: 'keys'; file: string; result: KeysResult }
  | { type: 'loading'; file: string };

/** Checkpoint viewer → host. */
export type FromViewer = { type: 'ready' };

/** The parity panel's form, as the webview sends it (text fields stay text; the host parses them). */
export interface ParityForm {
  mode: 'onnx' | 'eager' | 'command';
  reference: string; candidate: string; mapping: string; inputs: string;
  device: string; dtype: string; atol: string; rtol: string; layers: boolean; seed: string;
  command: string; cwd: string;
  /** Eager mode: `FILE.py::NAME` models, and gradients compared too. */
  eagerReference: string; eagerCandidate: string; backward: boolean;
  /** Eager mode: a launcher the probe runs under (`torchrun --nproc-per-node 2`), and checkpoints instead of the mapping's sides. */
  launcher: string; referenceWeights: string; candidateWeights: string;
}

/** A field the host fills from a quick pick. */
export type PickedField = 'eagerReference' | 'eagerCandidate' | 'mapping' | 'referenceWeights' | 'candidateWeights';

/** Host → parity panel. */
export type ParityMessage =
  | { type: 'init'; trusted: boolean; mapping: string; defaults: Partial<ParityForm>; last?: { form?: ParityForm; report?: ParityReport } }
  | { type: 'started' }
  | ({ type: 'progress' } & ParityProgressParams)
  | { type: 'error'; message: string }
  | { type: 'result'; report: ParityReport }
  | { type: 'picked'; field: PickedField; value: string }
  /** A "Save tensors" re-run ended (its outcome is a notification): the row's button works again. */
  | { type: 'saved'; module: string };

/** Parity panel → host. */
export type FromParity =
  | { type: 'ready' }
  | { type: 'run'; form: ParityForm }
  | { type: 'cancel' }
  /** `file`: the mapping the run used (eager mode), else the panel's mapping. */
  | { type: 'openMapping'; line: number; file?: string }
  /** A module's class in the model source, where Python said it is defined. */
  | { type: 'openSource'; file: string; line?: number }
  | { type: 'pick'; field: PickedField }
  /** Eager mode: the check behind the shown report, run again writing this reference module's pair in full (.npy). */
  | { type: 'saveTensors'; module: string; form: ParityForm }
  | { type: 'copy'; text: string };
