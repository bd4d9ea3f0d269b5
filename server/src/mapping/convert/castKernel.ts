/**
 * float32 → float16 / bfloat16 in SIMD (simd.wat) for buffers of the conversion's arena: the casts a
 * port does by the gigabyte (an fp32 checkpoint written as fp16 for transformers.js or a GGUF F16).
 * Bit for bit floatBits.ts's rounding (2^25 bit patterns and the special cases in the tests; 3 × 10^8 when
 * it was written); 16 MiB of F32 once V8 has optimised the module (after a few calls): 4 ms to F16
 * against 13–58 ms in the JavaScript loop (it branches on the exponent), 2 ms to BF16 against 14 ms. A
 * 1 GiB F32 → F16 convert: 1.78–2.08 s → 1.48–1.58 s, and 0.91–0.99 s with the cast on the kernel thread.
 */
import { f32BitsToBf16, f32BitsToHalf } from './floatBits';
import { simdExports } from './simdKernels';
import type { WasmMemory } from './wasm';
import type { WasmArena } from './wasmArena';

/** Fills `out` with `src` cast from `from` to `to` (n elements) and says true, or false when it cannot. */
export type CastKernel = (src: Buffer, from: string, out: Buffer, to: string, n: number) => boolean;

/** The kernel for the arena's buffers (main thread): its memory is made by the pool's first allocation. */
export function arenaCast(arena: WasmArena): CastKernel {
  let k: CastKernel | undefined;
  return (src, from, out, to, n) => {
    if (!arena.owns(src) || !arena.owns(out)) return false;
    k ??= arenaCastOver(arena.memory!);
    return k(src, from, out, to, n);
  };
}

/** The kernel over `memory` (each thread its own instance), for buffers the caller knows live there. */
export function arenaCastOver(memory: WasmMemory): CastKernel {
  return (src, from, out, to, n) => {
    if (from !== 'F32' || (to !== 'F16' && to !== 'BF16') || src.byteOffset % 4 !== 0 || out.byteOffset % 2 !== 0) return false;
    const k = simdExports(memory);
    if (!k) return false;
    const bulk = n - (n % 8);
    (to === 'F16' ? k.f32_f16 : k.f32_bf16)(src.byteOffset, out.byteOffset, bulk);
    if (bulk < n) {
      const s = new Uint32Array(src.buffer, src.byteOffset, n);
      const d = new Uint16Array(out.buffer, out.byteOffset, n);
      const f = to === 'F16' ? f32BitsToHalf : f32BitsToBf16;
      for (let i = bulk; i < n; i++) d[i] = f(s[i]);
    }
    return true;
  };
}
