/**
 * TF.js quantized weights (formats/tfjs): the stored elements turned into what `tf.loadLayersModel`
 * hands back, exactly as tfjs-core's `decodeWeights` computes them — float32 `q × scale + min` for
 * uint8/uint16 (int32 weights round that), float16 widened to float32.
 */
import { TensorInfo } from '../../formats/tensorInfo';
import { halfTable32 } from './floatBits';

type Quantization = NonNullable<TensorInfo['quantization']>;

/** `stored` (little-endian elements of `q.dtype`) as `dtype` (F32 or I32) bytes, into `out`. */
export function dequantize(stored: Buffer, q: Quantization, dtype: string, out: Buffer): Buffer {
  const n = q.dtype === 'U8' ? stored.length : stored.length / 2;
  // Written element by element: a pool buffer need not be 4-byte aligned for a typed-array view.
  if (q.dtype === 'F16') {
    const table = halfTable32();
    for (let i = 0; i < n; i++) out.writeFloatLE(table[stored.readUInt16LE(i * 2)], i * 4);
    return out;
  }
  const scale = q.scale ?? 1;
  const min = q.min ?? 0;
  for (let i = 0; i < n; i++) {
    const v = q.dtype === 'U8' ? stored[i] : stored.readUInt16LE(i * 2);
    // tfjs computes in doubles and stores into a Float32Array / Int32Array: the same here.
    if (dtype === 'I32') out.writeInt32LE(Math.round(v * scale + min), i * 4);
    else out.writeFloatLE(v * scale + min, i * 4);
  }
  return out;
}
