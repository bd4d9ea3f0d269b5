/**
 * Scratch buffers recycled from one tensor to the next. A conversion allocates the same few large
 * buffers per tensor (the bytes read, a gathered copy, a cast); fresh memory is mapped in page by page
 * on first write, which made a 16 MiB transpose 5–10× slower than into memory already used. After
 * each tensor is written its buffers return here; what is kept never exceeds the most one tensor
 * needed, so peak memory stays about one tensor's working set.
 */
import { allocFilled } from './cast';

/** Below this, allocation is cheap and pooling is not worth the bookkeeping. */
const MIN_POOLED = 1 << 20;

export class BufferPool {
  private free: Buffer[] = [];
  private used: { buf: Buffer; gen: number }[] = [];
  private inUse = 0;
  private peak = 0;
  private gen = 0;

  /** Starts the next tensor's buffers: they are released together by `recycle(that generation)`. */
  nextGeneration(): number {
    return ++this.gen;
  }

  /** An aligned buffer of exactly n bytes whose contents are stale: the caller overwrites every byte. */
  take(n: number): Buffer {
    if (n < MIN_POOLED) return allocFilled(n);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i].length;
      if (len >= n && (best < 0 || len < this.free[best].length)) best = i;
    }
    const whole = best >= 0 ? this.free.splice(best, 1)[0] : allocFilled(n);
    this.used.push({ buf: whole, gen: this.gen });
    this.inUse += whole.length;
    this.peak = Math.max(this.peak, this.inUse);
    return whole.subarray(0, n);
  }

  /**
   * Buffers taken in generations up to `upTo` (all, by default) are free again — a tensor written
   * while the next is produced keeps the next one's; keeps at most the largest working set seen.
   */
  recycle(upTo = Infinity): void {
    const released = this.used.filter((u) => u.gen <= upTo).map((u) => u.buf);
    this.used = this.used.filter((u) => u.gen > upTo);
    this.inUse = this.used.reduce((a, u) => a + u.buf.length, 0);
    const all = [...this.free, ...released].sort((a, b) => b.length - a.length);
    this.free = [];
    let kept = this.inUse;
    for (const b of all) {
      if (kept + b.length > this.peak) continue;
      this.free.push(b);
      kept += b.length;
    }
  }

  clear(): void {
    this.free = [];
    this.used = [];
    this.inUse = 0;
  }
}
