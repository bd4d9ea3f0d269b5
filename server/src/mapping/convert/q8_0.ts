/**
 * GGML's Q8_0: blocks of 32 values along a row, each an fp16 scale `d = max|x| / 127` and 32 int8
 * `round(x / d)` — 34 bytes for 128. Computed as ggml's reference (`quantize_row_q8_0_ref`) and
 * gguf-py's `quants.Q8_0` do, in float32 with C's `roundf` (half away from zero) and the scale rounded
 * to fp16 to nearest even, so a file written here is byte for byte what `convert_hf_to_gguf.py
 * --outtype q8_0` writes for the same values (tested against gguf-py).
 */
import { castData } from './cast';
import { f32BitsToHalf } from './floatBits';

export const Q8_0_BLOCK = 32;
export const Q8_0_BYTES = 34;

/** Whether a tensor can be Q8_0: a matrix (or more) whose rows hold whole blocks. Vectors stay float, as llama.cpp keeps them. */
export function quantizableQ8_0(shape: readonly number[]): boolean {
  return shape.length >= 2 && shape[shape.length - 1] % Q8_0_BLOCK === 0;
}

export function q8_0Bytes(shape: readonly number[]): number {
  return (shape.reduce((a, b) => a * b, 1) / Q8_0_BLOCK) * Q8_0_BYTES;
}

const f32 = Math.fround;
const roundf = (x: number) => (x < 0 ? -Math.floor(-x + 0.5) : Math.floor(x + 0.5));

/** The float values of `data` (F32, F16 or BF16, little-endian) as Q8_0 blocks. */
export function quantizeQ8_0(data: Buffer, dtype: string): Buffer {
  const values = asFloat32(data, dtype);
  const blocks = values.length / Q8_0_BLOCK;
  const out = Buffer.allocUnsafe(blocks * Q8_0_BYTES);
  const scratch = new Float32Array(1);
  const bits = new Uint32Array(scratch.buffer);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) { const a = Math.abs(values[base + j]); if (a > amax) amax = a; }
    const d = f32(amax / 127);
    const id = d === 0 ? 0 : f32(1 / d);
    scratch[0] = d;
    const o = b * Q8_0_BYTES;
    out.writeUInt16LE(f32BitsToHalf(bits[0]), o);
    for (let j = 0; j < Q8_0_BLOCK; j++) out.writeInt8(roundf(f32(values[base + j] * id)), o + 2 + j);
  }
  return out;
}

/** The values as float32: F16/BF16 widened by the converter's own cast; a view when already F32 and aligned. */
function asFloat32(data: Buffer, dtype: string): Float32Array {
  if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') throw new Error(`Q8_0 quantises floats, not ${dtype}`);
  const f = castData(data, dtype, 'F32');
  // Float32Array needs 4-byte alignment; a buffer that is not gets copied once.
  return f.byteOffset % 4 === 0 ? new Float32Array(f.buffer, f.byteOffset, f.length / 4) : new Float32Array(new Uint8Array(f).buffer);
}
