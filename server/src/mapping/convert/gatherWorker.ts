/**
 * The converter's gathering thread (bundled as dist/gatherWorker.js): rearranges strided views — a
 * transpose, a permute — between buffers the main thread shares with it, so the main thread stays free
 * to keep the next read and the last tensor's write moving (and a language server free to answer).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { gatherInto } from './gather';
import { arenaTranspose } from './transposeKernel';
import type { WasmMemory } from './wasm';

/** A gather between two shared buffers: the view's element offset, size, shape and strides over `src`. */
export interface GatherJob {
  id: number;
  src: SharedArrayBuffer; srcOffset: number; srcLength: number;
  out: SharedArrayBuffer; outOffset: number; outLength: number;
  offset: number; size: number; shape: number[]; strides: number[];
  /** Both buffers are in the arena memory given at start, where the SIMD kernels can address them. */
  arena: boolean;
}
export type GatherReply = { id: number; ok: true } | { id: number; ok: false; message: string };

const memory = (workerData as { memory?: WasmMemory } | undefined)?.memory;
const transpose = memory ? arenaTranspose(memory) : undefined;

parentPort?.on('message', (job: GatherJob) => {
  let reply: GatherReply;
  try {
    gatherInto(Buffer.from(job.src, job.srcOffset, job.srcLength), job.offset, job.size, job.shape, job.strides, Buffer.from(job.out, job.outOffset, job.outLength), job.arena ? transpose : undefined);
    reply = { id: job.id, ok: true };
  } catch (e) {
    reply = { id: job.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply);
});
