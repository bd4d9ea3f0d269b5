/**
 * How torch storage classes, torch dtypes and numpy type strings translate to safetensors' dtype
 * names, which is what every reader reports.
 */
import { table } from '../table';

/** `torch.<Name>Storage` → safetensors dtype; torch's legacy typed-storage classes. */
export const TORCH_STORAGE_DTYPES: Readonly<Record<string, string>> = table({
  FloatStorage: 'F32',
  DoubleStorage: 'F64',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
  ComplexFloatStorage: 'C64',
  ComplexDoubleStorage: 'C128',
  // Quantized storages have no safetensors name: report torch's, so nobody mistakes them for I8.
  QInt8Storage: 'torch.qint8',
  QUInt8Storage: 'torch.quint8',
  QInt32Storage: 'torch.qint32',
  QUInt4x2Storage: 'torch.quint4x2',
  QUInt2x4Storage: 'torch.quint2x4',
});

/** Untyped storages hold bytes; the tensor's dtype comes from `_rebuild_tensor_v3`. */
export const UNTYPED_STORAGES = new Set(['torch.UntypedStorage', 'torch.storage.UntypedStorage']);

/** `torch.<dtype>` globals (as `str(torch.float32)` spells them) → safetensors dtype. */
export const TORCH_DTYPES: Readonly<Record<string, string>> = table({
  'torch.float32': 'F32',
  'torch.float64': 'F64',
  'torch.float16': 'F16',
  'torch.bfloat16': 'BF16',
  'torch.int64': 'I64',
  'torch.int32': 'I32',
  'torch.int16': 'I16',
  'torch.int8': 'I8',
  'torch.uint8': 'U8',
  'torch.uint16': 'U16',
  'torch.uint32': 'U32',
  'torch.uint64': 'U64',
  'torch.bool': 'BOOL',
  'torch.complex64': 'C64',
  'torch.complex128': 'C128',
  'torch.float8_e5m2': 'F8_E5M2',
  'torch.float8_e4m3fn': 'F8_E4M3',
});

/** torch dtypes that exist but have no safetensors name; listed so they are allowed as plain constants. */
export const OTHER_TORCH_DTYPES = [
  'torch.complex32', 'torch.qint8', 'torch.quint8', 'torch.qint32', 'torch.quint4x2', 'torch.quint2x4',
  'torch.float8_e5m2fnuz', 'torch.float8_e4m3fnuz', 'torch.float8_e8m0fnu',
  'torch.bits8', 'torch.bits16', 'torch.bits1x8', 'torch.bits2x4', 'torch.bits4x2',
];

const NUMPY_CODES: Readonly<Record<string, string>> = table({
  f2: 'F16', f4: 'F32', f8: 'F64',
  i1: 'I8', i2: 'I16', i4: 'I32', i8: 'I64',
  u1: 'U8', u2: 'U16', u4: 'U32', u8: 'U64',
  b1: 'BOOL', c8: 'C64', c16: 'C128',
  // numpy also accepts names; a hand-written pickle may use them.
  float16: 'F16', float32: 'F32', float64: 'F64',
  int8: 'I8', int16: 'I16', int32: 'I32', int64: 'I64',
  uint8: 'U8', uint16: 'U16', uint32: 'U32', uint64: 'U64',
  bool: 'BOOL', complex64: 'C64', complex128: 'C128',
});

/** numpy type string (without byte order) → safetensors dtype, or undefined for strings, objects, records. */
export function numpyDtype(code: string): string | undefined {
  const c = code.replace(/^[<>=|]/, '');
  return Object.prototype.hasOwnProperty.call(NUMPY_CODES, c) ? NUMPY_CODES[c] : undefined;
}
