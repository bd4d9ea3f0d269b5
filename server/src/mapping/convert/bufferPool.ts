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
  private used: Buffer[] = [];
  private inUse = 0;
  private peak = 0;

  /** An aligned buffer of exactly n bytes whose contents are stale: the caller overwrites every byte. */
  take(n: number): Buffer {
    if (n < MIN_POOLED) return allocFilled(n);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const len = this.free[i].length;
      if (len >= n && (best < 0 || len < this.free[best].length)) best = i;
    }
    const whole = best >= 0 ? this.free.splice(best, 1)[0] : allocFilled(n);
    this.used.push(whole);
    this.inUse += whole.length;
    this.peak = Math.max(this.peak, this.inUse);
    return whole.subarray(0, n);
  }

  /** Everything taken since the last call is free again; keeps at most the largest working set seen. */
  recycle(): void {
    const all = [...this.free, ...this.used].sort((a, b) => b.length - a.length);
    this.used = [];
    this.inUse = 0;
    this.free = [];
    let kept = 0;
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
