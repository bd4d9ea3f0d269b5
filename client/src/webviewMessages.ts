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
  mode: 'onnx' | 'command';
  reference: string; candidate: string; mapping: string; inputs: string;
  device: string; dtype: string; atol: string; rtol: string; layers: boolean; seed: string;
  command: string; cwd: string;
}

/** Host → parity panel. */
export type ParityMessage =
  | { type: 'init'; trusted: boolean; mapping: string; defaults: Partial<ParityForm>; last?: { form?: ParityForm; report?: ParityReport } }
  | { type: 'started' }
  | ({ type: 'progress' } & ParityProgressParams)
  | { type: 'error'; message: string }
  | { type: 'result'; report: ParityReport };

/** Parity panel → host. */
export type FromParity =
  | { type: 'ready' }
  | { type: 'run'; form: ParityForm }
  | { type: 'cancel' }
  | { type: 'openMapping'; line: number }
  | { type: 'copy'; text: string };
