/**
 * The `keys --json` document (../shared/spec/cli.md) of a checkpoint read: spec fields first, then what
 * a porting script may also want. One function for every face that shows it — the CLI prints it, the
 * language server answers `tensorport/keys` with it (the checkpoint viewer), and its type is the
 * protocol's.
 */
import { CheckpointInfo, TensorInfo, tensorBytes } from './tensorInfo';

export interface KeysDocumentTensor {
  key: string;
  dtype: string;
  /** Model source: an open dimension is the string naming it. */
  shape: (number | string)[];
  /** The data's size in bytes (0 where unknown: model source's open shapes). An extra field beyond cli.md. */
  bytes: number;
  /** Model source: the owning layer's storage order. */
  layout?: string;
  /** Model source: the use in the code the layout was read from, when no framework layer gave it. */
  layoutWhy?: string;
  /** TF.js: stored quantized as this dtype (`dtype` is what loading dequantizes to; `bytes` is what is stored). */
  quantization?: { dtype: string; scale?: number; min?: number };
  /** ONNX: a Constant node's value, not an initializer. */
  constant?: true;
  /** ONNX: the subgraph (If/Loop/Scan body) the tensor lives in. */
  graph?: string;
  /** Model source: where the code defines the tensor, 1-based. */
  definition?: { line: number; column: number };
  /** Model source: the key this one shares its tensor with (weight tying); a saved checkpoint has only that one. */
  tiedTo?: string;
  /** Model source: present only if this condition (which nothing decided) holds. */
  conditional?: string;
  /** Model source (transformers): the key `save_pretrained` writes this module tensor under, where it differs. */
  checkpointKey?: string;
  /** Model source (transformers): a tensor fused or split at load — the checkpoint keys it is written as, and how. */
  checkpointConversion?: { keys: string[]; ops: string };
}

export interface KeysDocument {
  file: string;
  format: string;
  framework?: string;
  shapeOrder?: 'ggml';
  /** A training run's other state (optimizer, scheduler, RNG), not a model. */
  content?: string;
  tensors: KeysDocumentTensor[];
  /** Model source: the config values inference used. */
  config?: Record<string, number>;
  metadata?: Record<string, string>;
  notes?: string[];
  /**
   * Model source: whether inference followed everything that makes the state dict; where it did not, each
   * place — the key prefix it affects (`""` for the whole model), why, and the code (1-based).
   */
  complete?: boolean;
  /** Model source (transformers): which key space `tensors` lists, when transformers' rules make the two differ. */
  keySpace?: 'module' | 'checkpoint';
  incomplete?: { module: string; message: string; file: string; line: number; column: number }[];
  /** A remote checkpoint: the URL read, the commit the Hub reported, and the requests and bytes it took. */
  remote?: { url: string; commit?: string; requests: number; bytes: number };
}

const isSource = (info: CheckpointInfo) => info.format === 'python-source' || info.format === 'ts-source';

export function keysDocument(info: CheckpointInfo): KeysDocument {
  return {
    file: info.file,
    format: info.format,
    ...(info.framework ? { framework: info.framework } : {}),
    ...(info.shapeOrder === 'ggml' ? { shapeOrder: 'ggml' as const } : {}),
    ...(info.content ? { content: info.content } : {}),
    tensors: info.tensors.map(documentTensor),
    ...(info.bindings ? { config: Object.fromEntries(Object.entries(info.bindings).map(([k, b]) => [k, b.value])) } : {}),
    ...(info.metadata ? { metadata: info.metadata } : {}),
    ...(info.notes.length ? { notes: info.notes } : {}),
    ...(isSource(info) ? { complete: !info.incomplete?.length } : {}),
    ...(info.keySpace ? { keySpace: info.keySpace } : {}),
    ...(info.remote ? { remote: info.remote } : {}),
    ...(info.incomplete?.length ? { incomplete: info.incomplete.map((g) => ({ module: g.module, message: g.message, file: g.at.file, line: g.at.line + 1, column: g.at.column + 1 })) } : {}),
  };
}

/** One tensor of the document. */
export function documentTensor(t: TensorInfo): KeysDocumentTensor {
  return {
    key: t.key, dtype: t.dtype, shape: t.dims ?? t.shape, bytes: t.dims?.some((d) => typeof d === 'string') ? 0 : tensorBytes(t),
    ...(t.layout ? { layout: t.layout } : {}),
    ...(t.layoutWhy ? { layoutWhy: t.layoutWhy } : {}),
    ...(t.quantization ? { quantization: t.quantization } : {}),
    ...(t.constant ? { constant: true as const } : {}),
    ...(t.graph ? { graph: t.graph } : {}),
    ...(t.definition ? { definition: { line: t.definition.line + 1, column: t.definition.column + 1 } } : {}),
    ...(t.tiedTo ? { tiedTo: t.tiedTo } : {}),
    ...(t.conditional ? { conditional: t.conditional } : {}),
    ...(t.checkpointKey ? { checkpointKey: t.checkpointKey } : {}),
    ...(t.checkpointConversion ? { checkpointConversion: t.checkpointConversion } : {}),
  };
}

/** Whether documentTensor writes more than key, dtype, shape and bytes for `t`: every optional field above, kept beside it. */
export function hasOptionalFields(t: TensorInfo): boolean {
  return !!(t.dims || t.layout || t.layoutWhy || t.quantization || t.constant || t.graph || t.definition || t.tiedTo || t.conditional || t.checkpointKey || t.checkpointConversion);
}
