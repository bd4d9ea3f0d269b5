/**
 * Hands large gathers and casts to a worker thread (kernelWorker.ts). A 16 MiB transpose took the main
 * thread ~10–16 ms; done there, it stalls the reads and writes queued around it (each 1 MiB write piece
 * is issued from the main thread), so a transposing convert ran read → transpose → write in series.
 * Both buffers must be shared memory (the buffer pool's are), so nothing is copied; anything else, or
 * small, is done in place. Between two buffers of the pool's WebAssembly arena the worker uses the SIMD
 * kernels (transposeKernel.ts, castKernel.ts). The worker starts on the first large job and stops with
 * `close()`.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { castData } from './cast';
import { arenaCast } from './castKernel';
import { gatherInto } from './gather';
import type { CastKernel } from './castKernel';
import type { KernelJob, KernelReply, KernelWork } from './kernelWorker';
import type { WasmArena } from './wasmArena';

/** Below this many output bytes a round trip to the worker costs more than the work. */
const MIN_THREADED = 1 << 20;

export class KernelThread {
  private worker?: Worker;
  private failed?: string;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(): void; reject(e: Error): void }>();

  /** The SIMD cast for arena buffers cast here, on this thread. */
  private readonly castHere?: CastKernel;

  /** `arena`: the pool's memory, whose buffers the worker works on with SIMD. */
  constructor(private readonly arena?: WasmArena, private readonly workerFile = defaultWorkerFile()) {
    this.castHere = arena && arenaCast(arena);
  }

  /** Fills `out` (exactly the view's bytes) with the view of `src`; resolves when it is filled. */
  gather(src: Buffer, offset: number, size: number, shape: readonly number[], strides: readonly number[], out: Buffer): Promise<void> {
    return this.run(src, out, { kind: 'gather', offset, size, shape: [...shape], strides: [...strides] },
      () => gatherInto(src, offset, size, shape, strides, out));
  }

  /** Fills `out` (exactly the cast's bytes) with `src` cast from `from` to `to`. */
  cast(src: Buffer, from: string, to: string, out: Buffer): Promise<void> {
    return this.run(src, out, { kind: 'cast', from, to }, () => castData(src, from, to, () => out, this.castHere));
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.stop('the conversion ended');
    await w?.terminate();
  }

  private async run(src: Buffer, out: Buffer, work: KernelWork, inPlace: () => void): Promise<void> {
    if (out.length < MIN_THREADED || !(src.buffer instanceof SharedArrayBuffer) || !(out.buffer instanceof SharedArrayBuffer)) {
      inPlace();
      return;
    }
    if (this.failed) throw new Error(this.failed);
    const worker = this.start();
    const id = this.nextId++;
    const job = {
      ...work, id, arena: !!this.arena && this.arena.owns(src) && this.arena.owns(out),
      src: { buf: src.buffer, offset: src.byteOffset, length: src.length }, out: { buf: out.buffer, offset: out.byteOffset, length: out.length },
    } as KernelJob;
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    worker.ref(); // a job in flight keeps the process alive; an idle worker does not
    worker.postMessage(job);
    return done;
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const file = this.workerFile;
    const workerData = { memory: this.arena?.memory }; // made by the pool's first allocation, before any job
    // Worker threads take no --import loaders, so the TypeScript source (tests) registers tsx itself.
    const worker = file.endsWith('.ts') ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, workerData }) : new Worker(file, { workerData });
    worker.on('message', (r: KernelReply) => {
      const p = this.pending.get(r.id);
      this.pending.delete(r.id);
      if (this.pending.size === 0) worker.unref();
      if (r.ok) p?.resolve(); else p?.reject(new Error(r.message));
    });
    worker.on('error', (e) => this.stop(`the converter's kernel thread stopped: ${e.message}`));
    worker.on('exit', () => this.stop("the converter's kernel thread stopped unexpectedly"));
    this.worker = worker;
    return worker;
  }

  private stop(why: string): void {
    this.failed ??= why;
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
  }
}

/** Bundled, the worker is dist/kernelWorker.js beside dist/cli.js or dist/server.js; from source (tests) it runs under tsx. */
function defaultWorkerFile(): string {
  return __filename.endsWith('.ts') ? path.join(__dirname, 'kernelWorker.ts') : path.join(__dirname, 'kernelWorker.js');
}
