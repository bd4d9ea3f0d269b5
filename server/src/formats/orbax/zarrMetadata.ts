/**
 * An array's dtype and shape from its zarr metadata as tensorstore writes it for Orbax: zarr v2
 * `.zarray` (`dtype` a numpy type string such as `<f4`, or `bfloat16`) or zarr v3 `zarr.json`
 * (`data_type`, `float32`). The chunks themselves are never read.
 */
import { table } from '../table';

/** zarr v2 type strings without their byte order, and zarr v3 names → safetensors' names. */
const V2: Readonly<Record<string, string>> = table({
  b1: 'BOOL', i1: 'I8', u1: 'U8', i2: 'I16', u2: 'U16', i4: 'I32', u4: 'U32', i8: 'I64', u8: 'U64',
  f2: 'F16', f4: 'F32', f8: 'F64', c8: 'C64', c16: 'C128',
});
const NAMED: Readonly<Record<string, string>> = table({
  bool: 'BOOL', int8: 'I8', uint8: 'U8', int16: 'I16', uint16: 'U16', int32: 'I32', uint32: 'U32', int64: 'I64', uint64: 'U64',
  float16: 'F16', bfloat16: 'BF16', float32: 'F32', float64: 'F64', complex64: 'C64', complex128: 'C128',
  float8_e4m3fn: 'F8_E4M3', float8_e5m2: 'F8_E5M2', float8_e4m3fnuz: 'F8_E4M3FNUZ', float8_e5m2fnuz: 'F8_E5M2FNUZ', float8_e8m0fnu: 'F8_E8M0',
});

export interface ZarrArray { dtype: string; shape: number[]; bigEndian: boolean }

/** The array, or the reason the metadata does not describe one. */
export function parseZarrMetadata(bytes: Buffer): ZarrArray | string {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    return `not JSON (${e instanceof Error ? e.message : String(e)})`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'not a JSON object';
  const meta = doc as Record<string, unknown>;
  const shape = meta.shape;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) return '`shape` is not a list of non-negative integers';
  if (meta.zarr_format === 2) {
    const type = meta.dtype;
    if (typeof type !== 'string') return '`dtype` is not a string (a structured dtype?)';
    const plain = /^[<>|]([a-z]\d+)$/.exec(type);
    const dtype = plain ? V2[plain[1]] : NAMED[type];
    if (!dtype) return `unknown zarr dtype \`${type}\``;
    return { dtype, shape: shape as number[], bigEndian: type.startsWith('>') && !/^>[biu]1$/.test(type) };
  }
  if (meta.zarr_format === 3) {
    const type = meta.data_type;
    if (typeof type !== 'string') return '`data_type` is not a string';
    const dtype = NAMED[type];
    if (!dtype) return `unknown zarr data_type \`${type}\``;
    return { dtype, shape: shape as number[], bigEndian: false };
  }
  return `zarr_format ${JSON.stringify(meta.zarr_format)} (2 or 3 expected)`;
}
