/**
 * The mapping's transforms applied to tensor data (transforms.ts computes only their shapes): transpose,
 * permute, reshape, squeeze, unsqueeze, chunk, cat and cast on dense row-major arrays, plus decoding a
 * checkpoint's bytes and encoding the result in an ONNX initializer's data type. Kept small on purpose:
 * the parity runner needs values for weights of a model that fits in memory, not a streaming converter.
 */
import { Transform } from '../mapping/syntax';
import { bf16ToFloat, floatToBf16, floatToFp16, fp16ToFloat } from './hostTensor';
import { DT } from './onnxModel';

type Values = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array;

/** Values with the safetensors dtype they stand for; F16/BF16 hold their (exactly representable) values as float32. */
export interface DenseArray { dtype: string; shape: number[]; data: Values }

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function decodeBytes(dtype: string, shape: number[], bytes: Uint8Array): DenseArray {
  const copy = new Uint8Array(bytes).buffer;
  const n = count(shape);
  switch (dtype) {
    case 'F32': return { dtype, shape, data: new Float32Array(copy, 0, n) };
    case 'F64': return { dtype, shape, data: new Float64Array(copy, 0, n) };
    case 'I64': return { dtype, shape, data: new BigInt64Array(copy, 0, n) };
    case 'I32': return { dtype, shape, data: new Int32Array(copy, 0, n) };
    case 'I16': return { dtype, shape, data: new Int16Array(copy, 0, n) };
    case 'I8': return { dtype, shape, data: new Int8Array(copy, 0, n) };
    case 'U8': case 'BOOL': return { dtype, shape, data: new Uint8Array(copy, 0, n) };
    case 'F16': case 'BF16': {
      const bits = new Uint16Array(copy, 0, n);
      const out = new Float32Array(n);
      const dec = dtype === 'F16' ? fp16ToFloat : bf16ToFloat;
      for (let i = 0; i < n; i++) out[i] = dec(bits[i]);
      return { dtype, shape, data: out };
    }
    default: throw new Error(`dtype ${dtype} has no dense values the parity runner can use`);
  }
}

export const DECODABLE: ReadonlySet<string> = new Set(['F32', 'F64', 'F16', 'BF16', 'I64', 'I32', 'I16', 'I8', 'U8', 'BOOL']);

function like(data: Values, n: number): Values {
  return new (data.constructor as new (n: number) => Values)(n);
}

export function permute(a: DenseArray, perm: number[]): DenseArray {
  const rank = a.shape.length;
  const outShape = perm.map((p) => a.shape[p]);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let k = rank - 1; k >= 0; k--) { inStrides[k] = s; s *= a.shape[k]; }
  const stepIn = perm.map((p) => inStrides[p]);
  const n = count(a.shape);
  const out = like(a.data, n);
  const idx = new Array<number>(rank).fill(0);
  let src = 0;
  for (let i = 0; i < n; i++) {
    (out as Float64Array)[i] = (a.data as Float64Array)[src];
    // Odometer over the output index, moving the source offset by the permuted strides.
    for (let k = rank - 1; k >= 0; k--) {
      idx[k]++;
      src += stepIn[k];
      if (idx[k] < outShape[k]) break;
      src -= stepIn[k] * outShape[k];
      idx[k] = 0;
    }
  }
  return { dtype: a.dtype, shape: outShape, data: out };
}

/** Elements [from, to) along `dim`, as a new dense array. */
function slice(a: DenseArray, dim: number, from: number, to: number): DenseArray {
  const outer = count(a.shape.slice(0, dim));
  const inner = count(a.shape.slice(dim + 1));
  const len = to - from;
  const out = like(a.data, outer * len * inner);
  for (let o = 0; o < outer; o++) {
    const srcStart = (o * a.shape[dim] + from) * inner;
    (out as Float64Array).set((a.data as Float64Array).subarray(srcStart, srcStart + len * inner), o * len * inner);
  }
  const shape = [...a.shape];
  shape[dim] = len;
  return { dtype: a.dtype, shape, data: out };
}

function concat(parts: DenseArray[], dim: number): DenseArray {
  const shape = [...parts[0].shape];
  shape[dim] = parts.reduce((a, p) => a + p.shape[dim], 0);
  const outer = count(shape.slice(0, dim));
  const inner = count(shape.slice(dim + 1));
  const out = like(parts[0].data, count(shape));
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const p of parts) {
      const len = p.shape[dim] * inner;
      (out as Float64Array).set((p.data as Float64Array).subarray(o * len, (o + 1) * len), at);
      at += len;
    }
  }
  return { dtype: parts[0].dtype, shape, data: out };
}

export function castArray(a: DenseArray, to: string): DenseArray {
  const n = a.data.length;
  const num = (i: number) => Number(a.data[i]);
  let data: Values;
  switch (to) {
    case 'F32': data = Float32Array.from({ length: n }, (_, i) => num(i)); break;
    case 'F64': data = Float64Array.from({ length: n }, (_, i) => num(i)); break;
    case 'F16': data = Float32Array.from({ length: n }, (_, i) => fp16ToFloat(floatToFp16(num(i)))); break;
    case 'BF16': data = Float32Array.from({ length: n }, (_, i) => bf16ToFloat(floatToBf16(num(i)))); break;
    case 'I64': data = BigInt64Array.from({ length: n }, (_, i) => BigInt(Math.trunc(num(i)) || 0)); break;
    case 'I32': data = Int32Array.from({ length: n }, (_, i) => Math.trunc(num(i))); break;
    case 'I16': data = Int16Array.from({ length: n }, (_, i) => Math.trunc(num(i))); break;
    case 'I8': data = Int8Array.from({ length: n }, (_, i) => Math.trunc(num(i))); break;
    case 'U8': data = Uint8Array.from({ length: n }, (_, i) => Math.trunc(num(i))); break;
    case 'BOOL': data = Uint8Array.from({ length: n }, (_, i) => (num(i) !== 0 ? 1 : 0)); break;
    default: throw new Error(`cast(${to}) is not a dtype the parity runner converts to`);
  }
  return { dtype: to, shape: [...a.shape], data };
}

/**
 * One transform over the current list of arrays (before `cat` a rule's sources are a list and each
 * transform applies to every element). Arguments were checked by the mapping analysis; a transform
 * that still does not fit throws, and the caller reports it against the rule.
 */
export function applyDataTransform(t: Transform, input: DenseArray[]): DenseArray[] {
  const ints = t.args.map((a) => a.value ?? NaN);
  const norm = (d: number, rank: number) => (d < 0 ? d + rank : d);
  switch (t.name.text) {
    case 'transpose': return input.map((a) => permute(a, [1, 0]));
    case 'permute': return input.map((a) => permute(a, ints.map((d) => norm(d, a.shape.length))));
    case 'reshape': return input.map((a) => {
      const total = count(a.shape);
      const known = ints.reduce((x, d) => (d === -1 ? x : x * d), 1);
      return { ...a, shape: ints.map((d) => (d === -1 ? total / known : d)) };
    });
    case 'squeeze': return input.map((a) => ({ ...a, shape: a.shape.filter((_, i) => i !== norm(ints[0], a.shape.length)) }));
    case 'unsqueeze': return input.map((a) => {
      const shape = [...a.shape];
      shape.splice(norm(ints[0], a.shape.length + 1), 0, 1);
      return { ...a, shape };
    });
    case 'chunk': return input.map((a) => {
      const [n, k, d0 = 0] = ints;
      const dim = norm(d0, a.shape.length);
      const size = a.shape[dim] / n;
      return slice(a, dim, k * size, (k + 1) * size);
    });
    case 'cat': return [concat(input, norm(ints[0], input[0].shape.length))];
    case 'cast': return input.map((a) => castArray(a, t.args[0].text.toUpperCase()));
    default: throw new Error(`unknown transform \`${t.name.text}\``);
  }
}

const ONNX_NAME: Readonly<Record<number, string>> = {
  [DT.FLOAT]: 'F32', [DT.DOUBLE]: 'F64', [DT.FLOAT16]: 'F16', [DT.BFLOAT16]: 'BF16', [DT.INT64]: 'I64', [DT.INT32]: 'I32',
  [DT.INT16]: 'I16', [DT.INT8]: 'I8', [DT.UINT8]: 'U8', [DT.BOOL]: 'BOOL',
};

export function onnxDtypeName(code: number): string | undefined {
  return ONNX_NAME[code];
}

/** Little-endian bytes of the array in ONNX data type `code` (converting when the dtypes differ). */
export function encodeAs(a: DenseArray, code: number): Uint8Array {
  const name = ONNX_NAME[code];
  if (!name) throw new Error(`ONNX data type ${code} is not one the parity runner writes`);
  const v = a.dtype === name ? a : castArray(a, name);
  if (name === 'F16' || name === 'BF16') {
    const enc = name === 'F16' ? floatToFp16 : floatToBf16;
    const bits = Uint16Array.from(v.data as Float32Array, (x) => enc(x));
    return new Uint8Array(bits.buffer);
  }
  return new Uint8Array(v.data.buffer, v.data.byteOffset, v.data.byteLength);
}
