/**
 * The subset of onnx/onnx.proto the reader walks: field numbers of the messages it visits and the
 * TensorProto.DataType table. Kept as plain numbers (not a protobufjs descriptor) because the reader
 * walks the wire format itself to avoid materialising tensor bytes.
 */
import { table } from '../table';

export const MODEL = {
  irVersion: 1, producerName: 2, producerVersion: 3, domain: 4, modelVersion: 5, docString: 6,
  graph: 7, opsetImport: 8, metadataProps: 14,
} as const;

export const OPSET_ID = { domain: 1, version: 2 } as const;
export const STRING_ENTRY = { key: 1, value: 2 } as const;

export const GRAPH = {
  node: 1, name: 2, initializer: 5, input: 11, output: 12, sparseInitializer: 15,
} as const;

export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;

export const ATTRIBUTE = { name: 1, f: 2, i: 3, t: 5, g: 6, floats: 7, ints: 8, graphs: 11 } as const;

export const TENSOR = {
  dims: 1, dataType: 2, segment: 3, floatData: 4, int32Data: 5, stringData: 6, int64Data: 7, name: 8,
  rawData: 9, doubleData: 10, uint64Data: 11, externalData: 13, dataLocation: 14,
} as const;
export const DATA_LOCATION_EXTERNAL = 1;

export const VALUE_INFO = { name: 1, type: 2 } as const;
/** TypeProto's oneof: tensor and sparse tensor share the Tensor layout (elem_type 1, shape 2). */
export const TYPE = { tensor: 1, sequence: 4, map: 5, opaque: 7, sparseTensor: 8, optional: 9 } as const;
export const TYPE_TENSOR = { elemType: 1, shape: 2 } as const;
export const SHAPE = { dim: 1 } as const;
export const DIMENSION = { value: 1, param: 2 } as const;

/** TensorProto.DataType → safetensors' dtype names (ONNX-only types keep a descriptive name). */
export const ONNX_DTYPES: Readonly<Record<number, string>> = {
  1: 'F32', 2: 'U8', 3: 'I8', 4: 'U16', 5: 'I16', 6: 'I32', 7: 'I64', 8: 'STRING', 9: 'BOOL', 10: 'F16',
  11: 'F64', 12: 'U32', 13: 'U64', 14: 'C64', 15: 'C128', 16: 'BF16', 17: 'F8_E4M3', 18: 'F8_E4M3FNUZ',
  19: 'F8_E5M2', 20: 'F8_E5M2FNUZ', 21: 'U4', 22: 'I4', 23: 'F4', 24: 'F8_E8M0',
};

/** Bits per element of every type stored as fixed-width little-endian raw bytes. */
export const ONNX_DTYPE_BITS: Readonly<Record<string, number>> = table({
  F32: 32, U8: 8, I8: 8, U16: 16, I16: 16, I32: 32, I64: 64, BOOL: 8, F16: 16, F64: 64, U32: 32, U64: 64,
  C64: 64, C128: 128, BF16: 16, F8_E4M3: 8, F8_E4M3FNUZ: 8, F8_E5M2: 8, F8_E5M2FNUZ: 8, U4: 4, I4: 4, F4: 4,
  F8_E8M0: 8,
});

export function onnxDtype(code: number): string {
  return ONNX_DTYPES[code] ?? `ONNX_TYPE_${code}`;
}

/** Bytes of raw data for `count` elements (4-bit types pack two per byte), or undefined for STRING/unknown. */
export function rawByteLength(dtype: string, count: number): number | undefined {
  const bits = ONNX_DTYPE_BITS[dtype];
  return bits === undefined ? undefined : Math.ceil((count * bits) / 8);
}

/**
 * Input names from the ONNX operator schemas, so a consumer reads `MatMul.B` rather than `MatMul.1`.
 * Only operators whose weight inputs matter for layout inference are listed; others use the index.
 */
export const OP_INPUTS: Readonly<Record<string, readonly string[]>> = table({
  MatMul: ['A', 'B'], Gemm: ['A', 'B', 'C'], MatMulInteger: ['A', 'B', 'a_zero_point', 'b_zero_point'],
  Conv: ['X', 'W', 'B'], ConvTranspose: ['X', 'W', 'B'], ConvInteger: ['x', 'w', 'x_zero_point', 'w_zero_point'],
  Add: ['A', 'B'], Sub: ['A', 'B'], Mul: ['A', 'B'], Div: ['A', 'B'], Pow: ['X', 'Y'],
  Gather: ['data', 'indices'], Reshape: ['data', 'shape'], Expand: ['input', 'shape'],
  LayerNormalization: ['X', 'Scale', 'B'], InstanceNormalization: ['input', 'scale', 'B'],
  BatchNormalization: ['X', 'scale', 'B', 'input_mean', 'input_var'], GroupNormalization: ['X', 'scale', 'bias'],
  PRelu: ['X', 'slope'], Where: ['condition', 'X', 'Y'],
  LSTM: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h', 'initial_c', 'P'],
  GRU: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h'], RNN: ['X', 'W', 'R', 'B', 'sequence_lens', 'initial_h'],
  QLinearMatMul: ['a', 'a_scale', 'a_zero_point', 'b', 'b_scale', 'b_zero_point', 'y_scale', 'y_zero_point'],
  DequantizeLinear: ['x', 'x_scale', 'x_zero_point'],
});
