/**
 * One `.npy` array as a TensorInfo: its header's dtype and shape, and where its bytes lie when they are
 * the raw little-endian data a converter can stream (a Fortran-order array keeps its column-major strides).
 */
import { DTYPE_SIZE, type TensorInfo, numel } from '../tensorInfo';
import type { NpyHeader } from './npyHeader';

/**
 * `dataAt` is the file offset of the array's first byte, `available` the bytes there are for it
 * (undefined: the member is compressed and has no byte location).
 */
export function npyTensor(key: string, h: NpyHeader, file: string, dataAt: number, available: number | undefined): { info: TensorInfo; problem?: string } {
  const info: TensorInfo = { key, dtype: h.dtype ?? h.descr, shape: h.shape };
  const size = h.dtype ? DTYPE_SIZE[h.dtype] : undefined;
  if (size === undefined) return { info, problem: `numpy dtype \`${h.descr}\` has no safetensors name (ml_dtypes' bfloat16 and float8 are saved as raw \`V\` bytes)` };
  const length = numel(h.shape) * size;
  if (available !== undefined && length > available) return { info, problem: `\`${key}\` declares ${length} bytes of data, the file holds ${available}: truncated?` };
  if (h.bigEndian || available === undefined) return { info };
  const stride = h.fortran && h.shape.length > 1 ? fortranStrides(h.shape) : undefined;
  info.location = { file, offset: dataAt, length, ...(stride ? { stride } : {}) };
  return { info };
}

/** Column-major element strides: the first dimension varies fastest. */
function fortranStrides(shape: readonly number[]): number[] {
  const out: number[] = [];
  let s = 1;
  for (const d of shape) { out.push(s); s *= d; }
  return out;
}
