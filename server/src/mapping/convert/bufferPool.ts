/**
 * Scratch buffers recycled from one tensor to the next. A conversion allocates the same few large
 * buffers per tensor (the bytes read, a gathered copy, a cast); fresh memory is mapped in page by page
 * on first write, which made a 16 MiB transpose 5–10× slower than into memory already used. Large
 * buffers come from the conversion's WebAssembly arena (wasmArena.ts: shared memory the SIMD transposes
 * and the kernel thread work on in place); after each tensor is written its buffers go back to the
 * arena, whose memory stays mapped, so peak memory stays about one tensor's working set.
 */
import { allocFilled } from './cast';
import { WasmArena } from './wasmArena';

/** Below this, allocation is cheap and pooling is not worth the bookkeeping. */
const MIN_POOLED = 1 << 20;

export class BufferPool {
  readonly arena = new WasmArena();
  private used: { buf: Buffer; gen: number }[] = [];
  private gen = 0;

  /** Starts the next tensor's buffers: they are released together by `recycle(that generation)`. */
  nextGeneration(): number {
    return ++this.gen;
  }

  /** An aligned buffer of exactly n bytes whose contents are stale: the caller overwrites every byte. */
  take(n: number): Buffer {
    if (n < MIN_POOLED) return allocFilled(n);
    // Past the arena's 4 GiB, ordinary shared memory (the kernel thread still works on it in place).
    const buf = this.arena.alloc(n) ?? Buffer.from(new SharedArrayBuffer(n));
    this.used.push({ buf, gen: this.gen });
    return buf;
  }

  /** Buffers taken in generations up to `upTo` (all, by default) are free again — a tensor written while the next is produced keeps the next one's. */
  recycle(upTo = Infinity): void {
    for (const u of this.used) if (u.gen <= upTo) this.arena.release(u.buf);
    this.used = this.used.filter((u) => u.gen > upTo);
  }

  /** One buffer `take` returned is free again now (its tensor no longer needs it). */
  release(buf: Buffer): void {
    const k = this.used.findIndex((u) => u.buf === buf);
    if (k < 0) return;
    this.arena.release(buf);
    this.used.splice(k, 1);
  }

  clear(): void {
    this.recycle();
  }
}
