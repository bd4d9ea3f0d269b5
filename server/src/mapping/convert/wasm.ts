/**
 * The few WebAssembly calls the converter makes, typed here: the project compiles against ES2022 and
 * Node's types, which declare no WebAssembly global (it lives in the DOM library).
 */

export interface WasmMemory {
  /** Re-read after growth: a shared memory hands out a new, longer SharedArrayBuffer over the same bytes. */
  readonly buffer: SharedArrayBuffer;
  grow(pages: number): number;
}

interface WebAssemblyApi {
  Memory: new (d: { initial: number; maximum: number; shared: true }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (m: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> };
}

const api = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

export function sharedMemory(maximumPages: number): WasmMemory {
  return new api.Memory({ initial: 0, maximum: maximumPages, shared: true });
}

/** The module's exports, instantiated over `memory` (imported as env.memory). */
export function instantiate(module: object, memory: WasmMemory): Record<string, unknown> {
  return new api.Instance(module, { env: { memory } }).exports;
}

export function compile(bytes: Uint8Array): object {
  return new api.Module(bytes);
}
