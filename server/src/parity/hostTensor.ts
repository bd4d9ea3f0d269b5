/**
 * Tensors as the parity runner moves them between .npy files, generated inputs, the worker and
 * onnxruntime: a dtype named as onnxruntime names it, row-major dims and a typed array. Plain data, so
 * a worker can post it. Also the half-precision bit conversions the runner needs (fp16, bf16).
 */
import { bf16ToNumber, f32BitsToBf16, f32BitsToHalf, halfToNumber } from '../mapping/convert/floatBits';

export type HostDtype = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

export type HostData = Float32Array | Float64Array | Uint16Array | BigInt64Array | BigUint64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint32Array;

export interface HostTensor {
  dtype: HostDtype;
  dims: number[];
  data: HostData;
}

export const FLOAT_DTYPES: ReadonlySet<string> = new Set(['float32', 'float64', 'float16']);

export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function allocate(dtype: HostDtype, n: number): HostData {
  switch (dtype) {
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
    case 'float16': case 'uint16': return new Uint16Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int16': return new Int16Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': case 'bool': return new Uint8Array(n);
  }
}

/** A typed array over a copy of `bytes` (little-endian, as .npy, safetensors and ONNX store them). */
export function fromBytes(dtype: HostDtype, bytes: Uint8Array): HostData {
  const copy = new Uint8Array(bytes);
  const b = copy.buffer;
  switch (dtype) {
    case 'float32': return new Float32Array(b);
    case 'float64': return new Float64Array(b);
    case 'float16': case 'uint16': return new Uint16Array(b);
    case 'int64': return new BigInt64Array(b);
    case 'uint64': return new BigUint64Array(b);
    case 'int32': return new Int32Array(b);
    case 'uint32': return new Uint32Array(b);
    case 'int16': return new Int16Array(b);
    case 'int8': return new Int8Array(b);
    case 'uint8': case 'bool': return copy;
  }
}

export function toBytes(data: HostData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

// ---- half precision -------------------------------------------------------------------------

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

// One implementation of half and bfloat16 rounding serves the converter and the runner (floatBits.ts):
// from float32 bits, round to nearest even, overflow to infinity — what a cast does on every runtime.
export const fp16ToFloat = halfToNumber;
export const bf16ToFloat = bf16ToNumber;

export function floatToFp16(v: number): number {
  f32[0] = v;
  return f32BitsToHalf(u32[0]);
}

export function floatToBf16(v: number): number {
  f32[0] = v;
  return f32BitsToBf16(u32[0]);
}

/** Every element as a double, whatever the dtype (fp16 decoded), for the comparison. */
export function toFloat64(t: HostTensor): Float64Array {
  const n = t.data.length;
  const out = new Float64Array(n);
  const d = t.data;
  if (t.dtype === 'float16') {
    for (let i = 0; i < n; i++) out[i] = fp16ToFloat((d as Uint16Array)[i]);
  } else if (d instanceof BigInt64Array || d instanceof BigUint64Array) {
    for (let i = 0; i < n; i++) out[i] = Number(d[i]);
  } else {
    for (let i = 0; i < n; i++) out[i] = (d as Float32Array)[i];
  }
  return out;
}

/** The same values in another dtype (numeric conversion; floats to ints truncate toward zero). */
export function castTensor(t: HostTensor, to: HostDtype): HostTensor {
  if (t.dtype === to) return t;
  const src = toFloat64(t);
  const out = allocate(to, src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (to === 'float16') (out as Uint16Array)[i] = floatToFp16(v);
    else if (to === 'int64') (out as BigInt64Array)[i] = BigInt(Math.trunc(Number.isFinite(v) ? v : 0));
    else if (to === 'uint64') (out as BigUint64Array)[i] = BigInt(Math.max(0, Math.trunc(Number.isFinite(v) ? v : 0)));
    else if (to === 'bool') (out as Uint8Array)[i] = v !== 0 ? 1 : 0;
    else (out as Float64Array)[i] = v;
  }
  return { dtype: to, dims: [...t.dims], data: out };
}
