/**
 * A full garbage collection once the server has gone quiet after a burst that grew the heap (a mapping's
 * 100,000-tensor sides read and analysed). V8 leaves that burst's garbage in the old generation until its
 * own memory reducer runs, seconds to minutes later, and the process holds those pages meanwhile:
 * measured, a mapping over one 100,000-tensor side held ~35 MiB of garbage 3 s after its diagnostics
 * (docs/benchmarks.md). Collected when nothing has happened for `quietMs` and the heap grew by
 * `growthBytes` since the last collection, so typing (small garbage, quick turns) never pays for it.
 * `gc` is V8's, exposed by --expose-gc (SERVER_PROCESS) or, where the server was started without it (another
 * editor running `node dist/server.js`), by setting that flag now and taking the function from a fresh
 * context: measured, a server started bare otherwise held ~100 MiB more with two 100,000-tensor sides.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export class IdleCollector {
  private timer?: NodeJS.Timeout;
  private baseline = getHeapStatistics().used_heap_size;

  constructor(private readonly quietMs = 1500, private readonly growthBytes = 24 * 2 ** 20, private readonly gc = exposedGc()) {}

  /** Something happened: the quiet period starts again. */
  touch(): void {
    if (!this.gc) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.collect(), this.quietMs);
    this.timer.unref();
  }

  private collect(): void {
    if (getHeapStatistics().used_heap_size - this.baseline < this.growthBytes) return;
    // Twice: the first frees the garbage, the second finds the pages it left sparse and compacts them,
    // so they go back to the system (measured: one collection left ~35 MiB of old-space pages held).
    this.gc!();
    this.gc!();
    this.baseline = getHeapStatistics().used_heap_size;
  }
}

export function exposedGc(): (() => void) | undefined {
  const own = (globalThis as { gc?: () => void }).gc;
  if (own) return own;
  try {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}
