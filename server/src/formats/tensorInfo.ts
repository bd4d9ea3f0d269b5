/**
 * The one shape every checkpoint reader returns: what a file holds, never the tensor data itself.
 * Plain data only, so the CLI, the language server and the tests all consume the same objects.
 */
import { table } from './table';
import type { HeaderIdentity } from './byteSource';

/** Checkpoint kinds, named as `tensorport keys --json` reports them (../shared/spec/cli.md). */
export type CheckpointFormat =
  | 'safetensors'
  | 'safetensors-index'
  | 'torch-zip'
  | 'torch-pickle'
  | 'paddle-pickle'
  /** `paddle.jit.save` / `save_inference_model`: `.pdiparams` named by the `.json` or `.pdmodel` program beside it. */
  | 'paddle-inference'
  | 'onnx'
  | 'gguf'
  /** NumPy `np.save` (one array) and `np.savez`/`savez_compressed` archives. */
  | 'npy'
  | 'npz'
  /** `flax.serialization.to_bytes`: nested maps of arrays, keys joined with `.`. */
  | 'flax-msgpack'
  /** A TensorFlow checkpoint (`.index` + `.data-*` shards): TF1 variable names or TF2 object-graph paths. */
  | 'tf-checkpoint'
  /** Keras 3 `.weights.h5` (also inside a `.keras` zip): HDF5 dataset paths. */
  | 'keras-h5'
  /** TF.js `model.json` (or a weights-only manifest): weights stored back to back across `.bin` shards. */
  | 'tfjs-model'
  /** An Orbax checkpoint folder (`_METADATA` + OCDBT or zarr arrays): pytree paths joined with `.`. */
  | 'orbax'
  /** Model source (`FILE.py::Class`, `FILE.ts::Class`): keys and shapes inferred from the code (server/src/source/). */
  | 'python-source'
  | 'ts-source';

/** The layout convention a file's writer uses for Linear weights and convolutions. */
export type Framework = 'torch' | 'paddle' | 'jax' | 'tf' | 'keras' | 'tfjs' | 'mlx' | 'onnx' | 'gguf';

/** Where a tensor's bytes live, so the converter can stream them later without re-reading headers. */
export interface TensorLocation {
  /** Absolute path of the file that holds the bytes. */
  file: string;
  /** Byte offset of the first element in that file. */
  offset: number;
  /** The file must resolve (symlinks followed) under this folder when opened: ONNX external data stays with its model. */
  within?: string;
  /** ONNX external data: the location as the model spells it. */
  external?: string;
  /** Number of bytes (numel × element size for dense types). */
  length: number;
  /** Element strides when the tensor is a non-contiguous view of its storage (torch). */
  stride?: number[];
  /**
   * How the stored bytes relate to the tensor's. Absent: they are the data. `latin1-from-utf8`
   * (Paddle protocol-2 pickles): they are UTF-8 text with one code point (U+0000–U+00FF) per data
   * byte, and `offset`/`length` give that text's range; decoding it yields numel × element size bytes.
   */
  encoding?: 'latin1-from-utf8';
  /**
   * TF.js: a weight whose bytes run on from one shard file into the next. The bytes are these pieces in
   * order (the first is `file` at `offset`); `length` is their total.
   */
  pieces?: { file: string; offset: number; length: number }[];
}

export interface TensorInfo {
  key: string;
  /** safetensors' dtype names (`F32`, `BF16`, `I64`, …); GGUF's quantised types keep GGML's names (`Q4_K`). */
  dtype: string;
  /** Row-major (PyTorch) order, except GGUF, whose readers state `shapeOrder: 'ggml'` on the checkpoint. */
  shape: number[];
  location?: TensorLocation;
  /** ONNX: how the graph consumes this initializer (`MatMul.B`, `Gemm.B.transB`), for layout inference. */
  consumers?: string[];
  /**
   * TF.js: stored quantized. `dtype` is what loading yields (tfjs dequantizes: `stored × scale + min` for
   * U8/U16, half to single precision for F16); the location holds the stored elements.
   */
  quantization?: { dtype: 'U8' | 'U16' | 'F16'; scale?: number; min?: number };
  /** ONNX: the subgraph holding this tensor (`/If_0.then_branch`) when it is not the main graph's. */
  graph?: string;
  /** ONNX: the value of a Constant node (weights folded by paddle2onnx and other exporters), not an initializer. */
  constant?: true;
  /**
   * Model source only: the shape with every dimension no binding resolved written as the expression
   * that names it (`"hidden_size"`, `"embed_dim*3"`); `shape` holds NaN at those places.
   */
  dims?: (number | string)[];
  /** Model source only: each dimension as the code writes it, before any binding (`["embed_dim*3", "embed_dim"]`). */
  declared?: (number | string)[];
  /** Model source only: where the code defines the tensor (the layer or factory call), for go-to-definition. */
  definition?: SourceRange;
  /** Model source only: the owning layer's storage order: `out_in` (torch Linear), `in_out` (paddle Linear, GPT-2 Conv1D), `OIHW`, … */
  layout?: string;
  /** Model source only: the use in the code the layout was read from (`` `x @ self.weight` at port.py:12 ``), when no framework layer gave it. */
  layoutWhy?: string;
  /** Model source only: a registered buffer rather than a parameter. */
  buffer?: boolean;
  /**
   * Model source only: the key this one is tied to (transformers' `_tied_weights_keys` with
   * `tie_word_embeddings`): one tensor under two names; `save_pretrained` writes only this one.
   */
  tiedTo?: string;
  /** Model source only: the tensor exists only if this holds (a condition nothing decided: `\`config.use_bias\``). */
  conditional?: string;
  /** Model source only (transformers): the key `save_pretrained` writes this tensor under, where it differs. */
  checkpointKey?: string;
  /**
   * Model source only (transformers): a tensor transformers fuses or splits at load — the checkpoint keys it
   * is written as and the load-time operations (`MergeModulelist(dim=0), Concatenate(dim=1)`).
   */
  checkpointConversion?: { keys: string[]; ops: string };
}

/** A range in a text file: absolute path, 0-based lines and UTF-16 columns (LSP's convention), end exclusive. */
export interface SourceRange {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
}

export interface RemoteRead { url: string; commit?: string; requests: number; bytes: number }

export interface CheckpointInfo {
  /** The path as the caller gave it. */
  file: string;
  /** A remote checkpoint (hf://, https://): the URL read (the Hub's at the commit it reported), and what the read cost. */
  remote?: RemoteRead;
  format: CheckpointFormat;
  tensors: TensorInfo[];
  /** The writer's convention where the file says so (safetensors `format`, the pickle's origin, `.pdparams`). */
  framework?: Framework;
  /** GGUF lists dimensions fastest-varying first, the reverse of PyTorch's order. */
  shapeOrder?: 'row-major' | 'ggml';
  /** safetensors `__metadata__`, GGUF key/values rendered as strings, ONNX producer fields. */
  metadata?: Record<string, string>;
  /** Things a porting engineer should know that are not errors (a flattened `state_dict` prefix, a shard mismatch). */
  notes: string[];
  /** A training run's other state, recognised by its structure: listed as it is, never offered as a model. */
  content?: 'optimizer-state' | 'scheduler-state' | 'rng-state';
  /** Paddle's `StructuredToParameterName@@` table: structured key → internal parameter name. */
  parameterNames?: Record<string, string>;
  /** ONNX graph inputs and outputs, kept for the parity runner. */
  graph?: { inputs: GraphValue[]; outputs: GraphValue[] };
  /**
   * Model source: what inference could not follow that may add, remove or reshape parameters. `module` is
   * the key prefix it affects ('' for the whole model); `at` the code. Absent or empty: the listing is complete.
   */
  incomplete?: IncompleteSource[];
  /**
   * Model source only (transformers): the tensors as `save_pretrained` writes them and `from_pretrained`
   * reads them, when transformers' conversion rules make them differ from the module's `state_dict()`.
   */
  checkpointSpace?: { tensors: TensorInfo[]; notes: string[] };
  /** Model source only (transformers): which key space `tensors` is, where the two differ. */
  keySpace?: 'module' | 'checkpoint';
  /** Model source: inference stopped (a step budget, endless recursion) or a file does not parse — why, naming file:line. */
  stopped?: string;
  /** Model source: the value of each config symbol inference used, and what decided it (a `set` line, config.json, a rule, a default). */
  bindings?: Record<string, { value: number; from: string }>;
  /** Model source: the root constructor's parameters and their defaults as Python writes them (`False`, `1e-5`; `…` for a default that is code), for `set` hover and completion. */
  constructorParams?: { name: string; default?: string }[];
  /**
   * Model source in a mapping: constructor values the class takes (its default or a `set` line) that the
   * other checkpoint's config.json gives otherwise under another name (`epsilon` vs `layer_norm_eps`).
   */
  configDiffers?: ConfigDiffer[];
  /**
   * The byte ranges the reader looked at and their digest (byteSource.ts), for the index's cache:
   * absent where a read cannot be replayed from them (a sharded index, model source).
   */
  identity?: HeaderIdentity;
  /** GGUF: where the metadata key/values lie in the file, so a writer can carry them over verbatim. */
  ggufMetadata?: { offset: number; length: number; count: number; alignment: number };
}

export interface ConfigDiffer {
  param: string;
  /** The class's value as text (`1e-5`) and where it comes from (its default, a `set` line). */
  classValue: string;
  classFrom: string;
  key: string;
  configValue: string;
  /** The config.json read. */
  file: string;
  effect: string;
}

export interface IncompleteSource { module: string; message: string; at: SourceRange }

export interface GraphValue {
  name: string;
  dtype: string;
  /** Symbolic dimensions stay strings (`batch`); unknown ones are `?`. */
  shape: (number | string)[];
}

/** Element sizes in bytes of the dtypes that have one (quantised GGML types are block-sized instead). */
export const DTYPE_SIZE: Readonly<Record<string, number>> = table({
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E5M2FNUZ: 1, F8_E4M3FNUZ: 1, F8_E8M0: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
  C64: 8, C128: 16,
});

/**
 * safetensors' sub-byte dtypes (FP4 e2m1, the two FP6 layouts): bits per element, packed. They have no
 * whole element size, so they stay out of DTYPE_SIZE (which the converter computes with) and are
 * listed and moved as bytes only.
 */
export const SUB_BYTE_BITS: Readonly<Record<string, number>> = table({ F4: 4, F6_E2M3: 6, F6_E3M2: 6 });

/** Bits per element of any dtype a reader lists with a size; undefined for block-quantised and unknown types. */
export function dtypeBits(dtype: string): number | undefined {
  const bytes = DTYPE_SIZE[dtype];
  return bytes !== undefined ? bytes * 8 : SUB_BYTE_BITS[dtype];
}

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major contiguity (element strides), ignoring the stride of size-1 dimensions as torch does. */
export function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] === 1) continue;
    if (strides[i] !== expected) return false;
    expected *= shape[i];
  }
  return true;
}

/** Elements from the first to the last one a strided view touches (0 for an empty tensor). */
export function spanOf(shape: readonly number[], strides: readonly number[]): number {
  if (shape.some((d) => d === 0)) return 0;
  let last = 0;
  for (let i = 0; i < shape.length; i++) last += (shape[i] - 1) * strides[i];
  return last + 1;
}

/**
 * The bytes a tensor's data takes: the stored range where it is the raw data, else numel × element bits
 * (Paddle's latin-1 text is stored longer; quantised GGUF types have a location). 0 when unknown.
 */
export function tensorBytes(t: TensorInfo): number {
  if (t.location && !t.location.encoding) return t.location.length;
  const bits = dtypeBits(t.quantization?.dtype ?? t.dtype);
  return bits === undefined ? 0 : Math.ceil((numel(t.shape) * bits) / 8);
}

