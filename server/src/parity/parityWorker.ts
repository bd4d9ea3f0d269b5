/**
 * The parity worker's entry point (bundled as dist/parityWorker.js; run from source under tsx in
 * tests): a child process forked by engine.ts. It serves run requests one at a time — a warm worker
 * spares the next run the process start and onnxruntime's initialisation — sending progress while
 * each runs and then one result or one error. onnxruntime-node lives only here: a native crash, or a
 * cancel that kills the process mid-inference, can never take the language server down with it.
 */
import { ParityError } from './parityError';
import { confinement } from '../formats/roots';
import { executeOnnxParity } from './runOnnx';
import { OnnxParityRequest, ParityReport, ProgressEvent } from './types';

/** `roots`: the MCP server's confinement, carried over: this process opens the models, inputs and mapping's files itself. */
export type WorkerRequest = { type: 'run'; id: number; request: OnnxParityRequest; roots?: string[] };

export type WorkerMessage =
  | { id: number; type: 'progress'; event: ProgressEvent }
  | { id: number; type: 'result'; report: ParityReport }
  | { id: number; type: 'error'; message: string; expected: boolean };

const send = process.send?.bind(process);
if (send) {
  let queue = Promise.resolve();
  // The parent went away (it exited, or dropped this worker): nothing is left to serve.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: WorkerRequest) => {
    if (m?.type !== 'run') return;
    const post = (msg: WorkerMessage) => { send(msg); };
    const run = () => executeOnnxParity(m.request, (event) => post({ id: m.id, type: 'progress', event }));
    queue = queue.then(() => (m.roots ? confinement.run({ dirs: m.roots }, run) : run()).then(
      (report) => post({ id: m.id, type: 'result', report }),
      (e: unknown) => post({ id: m.id, type: 'error', message: e instanceof Error ? e.message : String(e), expected: e instanceof ParityError }),
    ));
  });
}
