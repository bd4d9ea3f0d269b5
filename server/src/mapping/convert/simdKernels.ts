/**
 * The compiled simd.wat, instantiated once per thread and memory: the transposes (transposeKernel.ts)
 * and casts (castKernel.ts) over a conversion's arena. Undefined where this runtime has no WebAssembly
 * SIMD or shared memory — the JavaScript loops then do all the work.
 */
import { SIMD_WASM } from './simdWasm';
import { WasmMemory, compile, instantiate } from './wasm';

export interface SimdExports {
  t32(src: number, dst: number, rows: number, cols: number, s1: number, ld: number, ti: number, tj: number): void;
  t16(src: number, dst: number, rows: number, cols: number, s1: number, ld: number, ti: number, tj: number): void;
  f32_f16(src: number, dst: number, n: number): void;
  f32_bf16(src: number, dst: number, n: number): void;
}

let compiled: object | null | undefined;
const instances = new WeakMap<WasmMemory, SimdExports>();

export function simdExports(memory: WasmMemory): SimdExports | undefined {
  let e = instances.get(memory);
  if (e) return e;
  try {
    compiled ??= compile(Buffer.from(SIMD_WASM, 'base64'));
    e = instantiate(compiled, memory) as unknown as SimdExports;
  } catch {
    compiled = null;
    return undefined;
  }
  instances.set(memory, e);
  return e;
}
