/**
 * The ONNX parity runner's entry point for callers (CLI, language server, extension host): the run
 * happens in a worker process, never on the caller's thread, with progress through a callback and an
 * AbortSignal to cancel (the worker is killed). A process rather than a thread because onnxruntime
 * aborts its host when torn down mid-run: a cancelled or crashed run must cost only the worker. One
 * worker is kept warm for a while after a run, so the next run — the panel re-checking after a mapping
 * edit — skips the start and onnxruntime's initialisation; it never keeps the caller alive.
 * Command mode is commandMode.ts.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import { confinement } from '../formats/roots';
import { ParityCancelled, ParityError } from './parityError';
import type { WorkerMessage, WorkerRequest } from './parityWorker';
import { OnnxParityRequest, ParityReport, ProgressEvent } from './types';

export interface RunOptions {
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
  /** The worker script; by default dist/parityWorker.js beside the bundle, or the .ts source under tsx. */
  workerPath?: string;
}

/** How long an idle worker is kept for the next run. */
const IDLE_MS = 30_000;

/**
 * Bundled (dist/cli.js, dist/server.js, dist/client.js) the worker is dist/parityWorker.js beside this
 * code; from source (tests under tsx) it is the .ts file.
 */
export function workerEntry(): string {
  return __filename.endsWith('.ts') ? path.join(__dirname, 'parityWorker.ts') : path.join(__dirname, 'parityWorker.js');
}

/** The worker process; a .ts worker (tests, from sources) runs under tsx. 'advanced' IPC keeps NaN and Infinity. */
function spawnWorker(file: string): ChildProcess {
  return fork(file, [], {
    execArgv: file.endsWith('.ts') ? ['--import', 'tsx'] : [],
    serialization: 'advanced',
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

/** An idle worker must not keep the caller's event loop alive; a busy one must. */
function hold(child: ChildProcess, on: boolean): void {
  const channel = child.channel as unknown as { ref?(): void; unref?(): void } | undefined;
  if (on) { child.ref(); channel?.ref?.(); } else { child.unref(); channel?.unref?.(); }
}

interface Slot { worker: ChildProcess; file: string; busy: boolean; idle?: NodeJS.Timeout }

let warm: Slot | undefined;
let nextId = 1;

function acquire(file: string): Slot {
  if (warm && !warm.busy && warm.file === file) {
    clearTimeout(warm.idle);
    warm.busy = true;
    hold(warm.worker, true);
    return warm;
  }
  const slot: Slot = { worker: spawnWorker(file), file, busy: true };
  // A crash between runs only drops the warm worker; the next run starts a new one.
  slot.worker.on('error', () => discard(slot));
  slot.worker.on('exit', () => { if (warm === slot) warm = undefined; });
  if (!warm) warm = slot;
  return slot;
}

function release(slot: Slot): void {
  slot.busy = false;
  if (slot !== warm) { discard(slot); return; }
  hold(slot.worker, false);
  slot.idle = setTimeout(() => discard(slot), IDLE_MS);
  slot.idle.unref();
}

function discard(slot: Slot): void {
  clearTimeout(slot.idle);
  if (warm === slot) warm = undefined;
  if (slot.worker.exitCode === null && slot.worker.signalCode === null) slot.worker.kill('SIGKILL');
}

/** Ends the warm worker now (the server's shutdown, the extension's deactivate). */
export function disposeParityWorkers(): void {
  if (warm && !warm.busy) discard(warm);
}

export function runOnnxParity(req: OnnxParityRequest, opts: RunOptions = {}): Promise<ParityReport> {
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) { reject(new ParityCancelled()); return; }
    const file = opts.workerPath ?? workerEntry();
    let slot: Slot;
    try {
      slot = acquire(file);
    } catch (e) {
      reject(new ParityError(`cannot start the parity worker ${file}: ${(e as Error).message}`));
      return;
    }
    const id = nextId++;
    let settled = false;
    const finish = (keep: boolean, f: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      slot.worker.off('message', onMessage);
      slot.worker.off('error', onError);
      slot.worker.off('exit', onExit);
      if (keep) release(slot);
      else discard(slot);
      f();
    };
    const onAbort = () => finish(false, () => reject(new ParityCancelled()));
    const onMessage = (m: WorkerMessage) => {
      if (m.id !== id) return;
      if (m.type === 'progress') opts.onProgress?.(m.event);
      else if (m.type === 'result') finish(true, () => resolve(m.report));
      else finish(m.expected, () => reject(m.expected ? new ParityError(m.message) : new Error(m.message)));
    };
    const onError = (e: Error) => finish(false, () => reject(new ParityError(`the parity worker failed: ${e.message}`)));
    const onExit = (code: number | null, signal: string | null) => finish(false, () => reject(new ParityError(`the parity worker exited (${signal ?? `code ${code}`}) without a result`)));
    opts.signal?.addEventListener('abort', onAbort);
    slot.worker.on('message', onMessage);
    slot.worker.on('error', onError);
    slot.worker.on('exit', onExit);
    const roots = confinement.getStore()?.dirs;
    slot.worker.send({ type: 'run', id, request: req, ...(roots ? { roots: [...roots] } : {}) } satisfies WorkerRequest);
  });
}
