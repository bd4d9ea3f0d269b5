/**
 * The converter's kernel thread (bundled as dist/kernelWorker.js): rearranges strided views — a
 * transpose, a permute — and casts, between buffers the main thread shares with it, so the main thread
 * stays free to keep the next read and the last tensor's write moving (and a language server free to
 * answer). Between buffers of the arena it uses the SIMD kernels.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { castData } from './cast';
import { arenaCastOver } from './castKernel';
import { gatherInto } from './gather';
import { arenaTranspose } from './transposeKernel';
import type { WasmMemory } from './wasm';

interface Shared { buf: SharedArrayBuffer; offset: number; length: number }

/** What to do: a gather (a view's element offset, size, shape, strides over the source) or a cast. */
export type KernelWork =
  | { kind: 'gather'; offset: number; size: number; shape: number[]; strides: number[] }
  | { kind: 'cast'; from: string; to: string };
/** Work between two shared buffers. `arena`: both are in the memory given at start. */
export type KernelJob = { id: number; src: Shared; out: Shared; arena: boolean } & KernelWork;
export type KernelReply = { id: number; ok: true } | { id: number; ok: false; message: string };

const memory = (workerData as { memory?: WasmMemory } | undefined)?.memory;
const transpose = memory ? arenaTranspose(memory) : undefined;
const cast = memory ? arenaCastOver(memory) : undefined;
const view = (s: Shared) => Buffer.from(s.buf, s.offset, s.length);

parentPort?.on('message', (job: KernelJob) => {
  let reply: KernelReply;
  try {
    const src = view(job.src);
    const out = view(job.out);
    if (job.kind === 'gather') gatherInto(src, job.offset, job.size, job.shape, job.strides, out, job.arena ? transpose : undefined);
    else castData(src, job.from, job.to, () => out, job.arena ? cast : undefined);
    reply = { id: job.id, ok: true };
  } catch (e) {
    reply = { id: job.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply);
});
