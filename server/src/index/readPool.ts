/**
 * Checkpoint header reads in worker threads, so the language server's thread keeps answering while
 * a 100k-tensor header is parsed or a pickle is interpreted, and shards are parsed on several cores.
 * A read that overruns its time is not just abandoned: its worker is terminated (a reader stuck in a
 * loop would otherwise hold a thread forever) and a fresh one takes the next job. Each worker's heap
 * is capped, so a header that would exhaust memory fails that one read instead of the server.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { checkpointKindByName } from '../formats/fileKinds';
import { ReadOptions } from '../formats/readCheckpoint';
import { isRemote } from '../formats/remote/remoteName';
import { ReaderError, unreadable } from '../formats/readerError';
import { shardPaths } from '../formats/safetensorsIndex';
import { CheckpointInfo } from '../formats/tensorInfo';
import type { ReadJob, ReadOutcome, ReadReply, ReadRequest, WorkerLog } from './readProtocol';
import { entryName, TableCacheOptions, loadEntry } from './tableCache';
import { columnarInfo, TensorColumns } from './tensorColumns';
import { tableBuffers } from '../formats/tensorTable';

export interface PoolOptions {
  /**
   * Threads at most; by default one per core but one, between 2 and 4. Two on two cores: a mapping's two
   * sides are read at once while the server's thread waits on them anyway. Measured (docs/benchmarks.md,
   * 2026-12-06): a 5,000-rule mapping over two 100,000-tensor sides opened as the server starts in a median
   * 659 ms with two threads against 825 with one; since readers fill columns, two at once no longer cost
   * the ~70 MiB of two object heaps (the settled RSS stays within the memory goal).
   */
  size?: number;
  /** Heap cap per worker in MiB (a read that needs more fails with that reason). */
  maxHeapMB?: number;
  /**
   * An idle worker is stopped after this long (default 1 s), giving its memory back: a worker that parsed a
   * 100,000-tensor header holds ~100 MiB of heap it would otherwise keep. A scan's reads follow each other
   * without a gap, so they still share workers; a read after a pause pays a thread start (~30 ms).
   */
  idleMs?: number;
  /** The worker script; by default dist/readWorker.js beside the bundle, or the .ts source under tsx. */
  workerFile?: string;
  /** Where lines for the server's log go (the table cache's hits and failures). */
  log?: (line: string) => void;
}

type Done = Exclude<ReadReply, { ok: false }>;

interface Job {
  req: ReadRequest;
  timeoutMs?: number;
  transfer: ArrayBuffer[];
  resolve: (reply: Done) => void;
  reject: (e: ReaderError) => void;
}

interface Slot { worker: Worker; job?: Job; timer?: NodeJS.Timeout; idleTimer?: NodeJS.Timeout }

export class ReadPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private cache?: TableCacheOptions;

  constructor(private readonly opts: PoolOptions = {}) {
    this.size = Math.max(1, opts.size ?? Math.min(4, Math.max(2, availableParallelism() - 1)));
  }

  /**
   * Keeps large headers in this folder between sessions (tableCache.ts), or (undefined) no longer. Reads
   * that ask for the header's identity use it: only with one can an entry be checked against the file.
   */
  useCache(cache: TableCacheOptions | undefined): void {
    this.cache = cache;
  }

  /** One checkpoint: from the table cache when it holds this very header, else read in a worker. */
  async read(file: string, opts: ReadOptions = {}): Promise<CheckpointInfo> {
    const job = { op: 'read' as const, file, displayName: opts.displayName ?? file, maxHeaderBytes: opts.maxHeaderBytes, kind: opts.kind, identity: opts.identity, index: true };
    const cache = this.cache && opts.identity && !isRemote(file) ? { ...this.cache, name: entryName(file, job) } : undefined;
    if (cache) {
      const hit = await loadEntry(cache.dir, cache.name, file);
      if (hit) {
        this.opts.log?.(`table cache: ${job.displayName} (${hit.table.count} tensors) unchanged since it was last read`);
        return columnarInfo(hit.info, new TensorColumns(hit.table, hit.index, hit.trie));
      }
    }
    const reply = await this.run({ ...job, ...(cache ? { cache } : {}) }, opts.timeoutMs);
    if (!('table' in reply)) throw new Error('unexpected reply');
    return columnarInfo(reply.info, new TensorColumns(reply.table, reply.index, reply.trie));
  }

  /**
   * A sharded index: its shard list from one worker, the shards from all of them, then the merge in
   * one more — this thread only unpacks the merged table.
   */
  async readIndex(file: string, opts: ReadOptions = {}): Promise<CheckpointInfo> {
    const displayName = opts.displayName ?? file;
    const planned = await this.run({ op: 'plan', file, displayName }, opts.timeoutMs);
    if (!('plan' in planned)) throw new Error('unexpected reply');
    const shards: Record<string, ReadOutcome> = {};
    await Promise.all(planned.plan.map(async (shard) => {
      const where = shardPaths(file, displayName, shard);
      shards[where.file] = await this.run({ op: 'read', file: where.file, displayName: where.displayName, maxHeaderBytes: opts.maxHeaderBytes, kind: 'safetensors' }, opts.timeoutMs)
        .then((r) => r as ReadOutcome, (e: ReaderError) => ({ ok: false, error: { code: e.code, file: e.file, reason: e.reason, offset: e.offset } }));
    }));
    const transfer = Object.values(shards).flatMap((o) => (o.ok ? tableBuffers(o.table) : []));
    const merged = await this.run({ op: 'merge', file, displayName, shards }, opts.timeoutMs, transfer);
    if (!('table' in merged)) throw new Error('unexpected reply');
    return columnarInfo(merged.info, new TensorColumns(merged.table, merged.index, merged.trie));
  }

  private run(job: ReadJob, timeoutMs?: number, transfer: ArrayBuffer[] = []): Promise<Done> {
    if (this.closed) return Promise.reject(unreadable(job.displayName, 'the reader pool has been shut down'));
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { ...job, id: this.nextId++ }, timeoutMs, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** Queued reads of `file` (a shard of it too) go to the front of the queue: someone is waiting on them. */
  prioritize(file: string): void {
    const index = checkpointKindByName(file) === 'safetensors-index';
    const urgent = this.queue.filter((j) => j.req.file === file || (index && j.req.op === 'read' && path.dirname(j.req.file) === path.dirname(file)));
    if (urgent.length === 0) return;
    const rest = this.queue.filter((j) => !urgent.includes(j));
    this.queue.splice(0, this.queue.length, ...urgent, ...rest);
  }

  /**
   * Starts the threads now, ahead of reads the caller knows are coming (the server's first scan): a
   * thread takes ~100 ms to load its reader, which then overlaps the caller's own start-up. Unused, they
   * stop when idle like any other.
   */
  warm(): void {
    while (!this.closed && this.slots.size < this.size) this.park(this.spawn());
  }

  /** Threads alive now (busy or idle), for tests and the log. */
  get threads(): number {
    return this.slots.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) job.reject(unreadable(job.req.displayName, 'the reader pool has been shut down'));
    await Promise.all([...this.slots].map((s) => this.retire(s, 'the reader pool has been shut down')));
  }

  private dispatch(): void {
    while (this.queue.length) {
      let slot = [...this.slots].find((s) => !s.job);
      if (!slot) {
        if (this.slots.size >= this.size) return;
        slot = this.spawn();
      }
      this.start(slot, this.queue.shift()!);
    }
  }

  private start(slot: Slot, job: Job): void {
    clearTimeout(slot.idleTimer);
    slot.job = job;
    if (job.timeoutMs) {
      slot.timer = setTimeout(() => {
        void this.retire(slot, `reading the header took longer than ${job.timeoutMs} ms`);
        this.dispatch();
      }, job.timeoutMs);
    }
    slot.worker.ref();   // a pending read keeps the process alive; an idle worker does not
    slot.worker.postMessage(job.req, job.transfer);
  }

  private spawn(): Slot {
    const file = this.opts.workerFile ?? defaultWorkerFile();
    const resourceLimits = { maxOldGenerationSizeMb: this.opts.maxHeapMB ?? 2048 };
    // Worker threads take no --import loaders, so the TypeScript source (tests) registers tsx itself.
    const worker = file.endsWith('.ts')
      ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true, resourceLimits })
      : new Worker(file, { resourceLimits });
    const slot: Slot = { worker };
    this.slots.add(slot);
    worker.on('message', (reply: ReadReply | WorkerLog) => ('log' in reply ? this.opts.log?.(reply.log) : this.finish(slot, reply)));
    // A worker that dies (out of memory, a crash) fails its read with the reason and is replaced.
    worker.on('error', (e) => { void this.retire(slot, `the reader stopped: ${describeWorkerError(e)}`); this.dispatch(); });
    worker.on('exit', () => { if (this.slots.delete(slot) && slot.job) this.fail(slot, 'the reader stopped unexpectedly'); this.dispatch(); });
    worker.unref();
    return slot;
  }

  private finish(slot: Slot, reply: ReadReply): void {
    const job = slot.job;
    if (!job || job.req.id !== reply.id) return;
    clearTimeout(slot.timer);
    slot.job = undefined;
    slot.worker.unref();
    if (reply.ok) job.resolve(reply);
    else job.reject(new ReaderError(reply.error.code, reply.error.file, reply.error.reason, reply.error.offset));
    this.park(slot);
    this.dispatch();
  }

  /** An idle thread stops after idleMs unless a job comes first. */
  private park(slot: Slot): void {
    slot.idleTimer = setTimeout(() => { if (!slot.job) void this.retire(slot); }, this.opts.idleMs ?? 1_000);
    slot.idleTimer.unref();
  }

  private fail(slot: Slot, reason: string): void {
    const job = slot.job;
    if (!job) return;
    slot.job = undefined;
    clearTimeout(slot.timer);
    job.reject(unreadable(job.req.displayName, reason));
  }

  private async retire(slot: Slot, reason?: string): Promise<void> {
    clearTimeout(slot.idleTimer);
    if (reason) this.fail(slot, reason);
    if (!this.slots.delete(slot)) return;
    await slot.worker.terminate();
  }
}

/** The index's reader through a pool: each checkpoint read in workers, each job bounded in time. */
export function pooledReader(pool: ReadPool): (file: string, opts: ReadOptions) => Promise<CheckpointInfo> {
  // A remote index is read whole in one worker: its shards wait on the network, not on a core, and one
  // session pins them all to the commit the index came from.
  return (file, opts) => (checkpointKindByName(file) === 'safetensors-index' && !isRemote(file) ? pool.readIndex(file, opts) : pool.read(file, opts));
}

function describeWorkerError(e: Error): string {
  return (e as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'its header needs more memory than a reader may use' : e.message;
}

/** Bundled, the worker is dist/readWorker.js beside dist/server.js; from source (tests) it runs under tsx. */
function defaultWorkerFile(): string {
  return __filename.endsWith('.ts') ? path.join(__dirname, 'readWorker.ts') : path.join(__dirname, 'readWorker.js');
}
