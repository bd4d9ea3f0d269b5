/**
 * Hands large gathers to a worker thread (gatherWorker.ts). A 16 MiB transpose takes the main thread
 * ~10–16 ms; done there, it stalls the reads and writes queued around it (each 1 MiB write piece is
 * issued from the main thread), so a transposing convert ran read → transpose → write in series. Both
 * buffers must be shared memory (the buffer pool's are), so nothing is copied; anything else, or small,
 * is gathered in place. Between two buffers of the pool's WebAssembly arena the worker transposes with
 * SIMD (transposeKernel.ts). The worker starts on the first large gather and stops with `close()`.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { gatherInto } from './gather';
import type { GatherJob, GatherReply } from './gatherWorker';
import type { WasmArena } from './wasmArena';

/** Below this many output bytes a round trip to the worker costs more than the gather. */
const MIN_THREADED = 1 << 20;

export class GatherThread {
  private worker?: Worker;
  private failed?: string;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(): void; reject(e: Error): void }>();

  /** `arena`: the pool's memory, whose buffers the worker transposes with SIMD (transposeKernel.ts). */
  constructor(private readonly arena?: WasmArena, private readonly workerFile = defaultWorkerFile()) {}

  /** Fills `out` (exactly the view's bytes) with the view of `src`; resolves when it is filled. */
  async gather(src: Buffer, offset: number, size: number, shape: readonly number[], strides: readonly number[], out: Buffer): Promise<void> {
    if (out.length < MIN_THREADED || !(src.buffer instanceof SharedArrayBuffer) || !(out.buffer instanceof SharedArrayBuffer)) {
      gatherInto(src, offset, size, shape, strides, out);
      return;
    }
    if (this.failed) throw new Error(this.failed);
    const worker = this.start();
    const id = this.nextId++;
    const job: GatherJob = {
      id, src: src.buffer, srcOffset: src.byteOffset, srcLength: src.length, out: out.buffer, outOffset: out.byteOffset, outLength: out.length,
      offset, size, shape: [...shape], strides: [...strides], arena: !!this.arena && this.arena.owns(src) && this.arena.owns(out),
    };
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.ref(); // a gather in flight keeps the process alive; an idle worker does not
    worker.postMessage(job);
    return done;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.stop('the conversion ended');
    await w?.terminate();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const file = this.workerFile;
    // Worker threads take no --import loaders, so the TypeScript source (tests) registers tsx itself.
    const workerData = { memory: this.arena?.memory }; // made by the pool's first allocation, before any gather
    const worker = file.endsWith('.ts') ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData }) : new Worker(file, { workerData });
    worker.on('message', (r: GatherReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      if (r.ok) p?.resolve(); else p?.reject(new Error(r.message));
    });
    worker.on('error', (e) => this.stop(`the converter's gathering thread stopped: ${e.message}`));
    worker.on('exit', () => this.stop("the converter's gathering thread stopped unexpectedly"));
    this.worker = worker;
    return worker;
  }

  private stop(why: string): void {
    this.failed ??= why;
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
  }
}

/** Bundled, the worker is dist/gatherWorker.js beside dist/cli.js or dist/server.js; from source (tests) it runs under tsx. */
function defaultWorkerFile(): string {
  return __filename.endsWith('.ts') ? path.join(__dirname, 'gatherWorker.ts') : path.join(__dirname, 'gatherWorker.js');
}
