/**
 * A conversion's large scratch buffers, carved from one shared WebAssembly memory: the SIMD transposes
 * (simd.wat) address them directly, and the kernel thread sees the same bytes — no copy in or
 * out of the module's memory, which cost as much as the transpose itself. Best fit over a coalescing
 * free list; the memory grows as needed and never shrinks, so its size is the conversion's peak working
 * set. A 32-bit memory holds 4 GiB: past that, `alloc` says no and the caller takes ordinary memory.
 */

import { WasmMemory, sharedMemory } from './wasm';

const PAGE = 65536;
/** 4 GiB: all a 32-bit memory can address. */
const MAX_PAGES = 65536;
/** Buffers start on cache lines. */
const ALIGN = 64;

interface Extent { at: number; len: number }

/** The bytes a buffer of n bytes occupies: whole cache lines. */
const extent = (n: number) => Math.ceil(Math.max(n, 1) / ALIGN) * ALIGN;

export class WasmArena {
  private mem?: WasmMemory | null;
  private top = 0;
  /** Free extents below `top`, sorted by address, never adjacent (merged on release). */
  private free: Extent[] = [];
  /** The shared buffers handed out, one per size the memory had: how `owns` recognises arena memory. */
  private readonly views = new Set<SharedArrayBuffer>();

  constructor(private readonly maxPages = MAX_PAGES) {}

  /**
   * Shared, so the kernel thread gets it too (memory.buffer is re-read after each growth); made on
   * the first allocation. Undefined where it cannot be made (an address-space limit: a shared memory
   * reserves its maximum up front) — buffers then come from ordinary memory.
   */
  get memory(): WasmMemory | undefined {
    if (this.mem === undefined) {
      try {
        this.mem = sharedMemory(this.maxPages);
      } catch {
        this.mem = null;
      }
    }
    return this.mem ?? undefined;
  }

  /** n bytes (stale contents) or undefined when the memory cannot hold them. */
  alloc(n: number): Buffer | undefined {
    const memory = this.memory;
    if (!memory) return undefined;
    const len = extent(n);
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      if (this.free[i].len >= len && (best < 0 || this.free[i].len < this.free[best].len)) best = i;
    }
    let at: number;
    if (best >= 0) {
      const e = this.free[best];
      at = e.at;
      if (e.len === len) this.free.splice(best, 1);
      else { e.at += len; e.len -= len; }
    } else {
      at = this.top;
      const end = at + len;
      if (end > this.maxPages * PAGE) return undefined;
      const have = memory.buffer.byteLength;
      if (end > have) {
        try {
          memory.grow(Math.ceil((end - have) / PAGE));
        } catch {
          return undefined; // the system would not give the memory: ordinary buffers may still fit
        }
      }
      this.top = end;
    }
    const sab = memory.buffer;
    this.views.add(sab);
    return Buffer.from(sab, at, n);
  }

  /** Gives back a buffer exactly as `alloc` returned it (its length says how much to free). */
  release(buf: Buffer): void {
    if (!this.owns(buf)) return;
    const e: Extent = { at: buf.byteOffset, len: extent(buf.length) };
    let i = 0;
    while (i < this.free.length && this.free[i].at < e.at) i++;
    this.free.splice(i, 0, e);
    // Merge with the next, then the previous neighbour.
    if (i + 1 < this.free.length && e.at + e.len === this.free[i + 1].at) { e.len += this.free[i + 1].len; this.free.splice(i + 1, 1); }
    if (i > 0 && this.free[i - 1].at + this.free[i - 1].len === e.at) { this.free[i - 1].len += e.len; this.free.splice(i, 1); }
    const last = this.free[this.free.length - 1];
    if (last && last.at + last.len === this.top) { this.top = last.at; this.free.pop(); }
  }

  owns(buf: Buffer): boolean {
    return buf.buffer instanceof SharedArrayBuffer && this.views.has(buf.buffer);
  }

  /** Bytes the memory has grown to (its peak). */
  get size(): number {
    return this.mem ? this.mem.buffer.byteLength : 0;
  }
}
