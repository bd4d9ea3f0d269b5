/**
 * An ONNX model in memory as the parity runner edits it: the graph's nodes, initializers, inputs and
 * outputs, each remembered with its byte range, and `editModel`, which writes a new model keeping every
 * untouched field's bytes verbatim. Only the fields the runner reads are decoded (onnx/onnx.proto
 * numbers below); everything else — metadata, opsets, functions — passes through unchanged.
 */
import { closeSync } from 'node:fs';
import * as path from 'node:path';
import { externalDataFileSync } from '../formats/onnx/externalData';
import { openRegularSync, readRegularFileSync } from '../formats/openRegular';
import { ParityError } from './parityError';
import { FIXED32, FIXED64, LEN, PbField, ProtobufError, fields, lenField, packedVarints, payload, str, stringField, sub, varintField, varints, whole } from './protobuf';

export const MODEL_GRAPH = 7;
export const GRAPH = { node: 1, name: 2, initializer: 5, docString: 10, input: 11, output: 12, valueInfo: 13 } as const;
export const NODE = { input: 1, output: 2, name: 3, opType: 4, attribute: 5, domain: 7 } as const;
export const ATTR = { name: 1, f: 2, i: 3, s: 4, t: 5, g: 6, tensors: 10, graphs: 11, type: 20 } as const;
export const ATTR_TYPE = { INT: 2, TENSOR: 4 } as const;
export const TENSOR = { dims: 1, dataType: 2, floatData: 4, int32Data: 5, int64Data: 7, name: 8, rawData: 9, doubleData: 10, externalData: 13, dataLocation: 14, uint64Data: 11 } as const;
export const VALUE_INFO = { name: 1, type: 2 } as const;
export const TYPE_TENSOR = 1;
export const TENSOR_TYPE = { elemType: 1, shape: 2 } as const;

/** TensorProto.DataType codes the runner handles. */
export const DT = { FLOAT: 1, UINT8: 2, INT8: 3, UINT16: 4, INT16: 5, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, UINT32: 12, UINT64: 13, BFLOAT16: 16 } as const;
export const DT_BYTES: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };
/** The safetensors dtype name of each ONNX data type the runner reads and writes. */
const DTYPE_NAME: Readonly<Record<number, string>> = {
  [DT.FLOAT]: 'F32', [DT.DOUBLE]: 'F64', [DT.FLOAT16]: 'F16', [DT.BFLOAT16]: 'BF16', [DT.INT64]: 'I64', [DT.INT32]: 'I32',
  [DT.INT16]: 'I16', [DT.INT8]: 'I8', [DT.UINT8]: 'U8', [DT.BOOL]: 'BOOL',
};

export function onnxDtypeName(code: number): string | undefined {
  return DTYPE_NAME[code];
}

export const FLOAT_TYPES: ReadonlySet<number> = new Set([DT.FLOAT, DT.FLOAT16, DT.DOUBLE, DT.BFLOAT16]);

export interface OnnxAttr { field: PbField; name: string; i?: number; t?: PbField; subgraph: boolean }

export interface OnnxNode {
  field: PbField;
  name: string;
  op: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: OnnxAttr[];
}

export interface OnnxTensor {
  field: PbField;
  name: string;
  dataType: number;
  dims: number[];
}

export interface OnnxValue {
  field: PbField;
  name: string;
  elemType?: number;
}

export interface OnnxModel {
  /** Shown in errors. */
  file: string;
  /** Folder external data is relative to. */
  dir: string;
  buf: Uint8Array;
  top: PbField[];
  graph: PbField;
  graphFields: PbField[];
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  valueInfo: OnnxValue[];
}

export function parseModel(buf: Uint8Array, file: string): OnnxModel {
  try {
    const top = fields(buf);
    const graphs = top.filter((f) => f.field === MODEL_GRAPH);
    if (graphs.length !== 1) throw new ParityError(`${file}: not an ONNX model with one graph (found ${graphs.length} graph fields)`);
    const graph = graphs[0];
    const graphFields = sub(buf, graph);
    const m: OnnxModel = { file, dir: path.dirname(path.resolve(file)), buf, top, graph, graphFields, nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
    for (const f of graphFields) {
      switch (f.field) {
        case GRAPH.node: m.nodes.push(parseNode(buf, f)); break;
        case GRAPH.initializer: m.initializers.push(parseTensorHeader(buf, f)); break;
        case GRAPH.input: m.inputs.push(parseValue(buf, f)); break;
        case GRAPH.output: m.outputs.push(parseValue(buf, f)); break;
        case GRAPH.valueInfo: m.valueInfo.push(parseValue(buf, f)); break;
        default: break;
      }
    }
    // IR < 4 lists initializers among the inputs too; they are weights, not inputs to feed.
    const inits = new Set(m.initializers.map((t) => t.name));
    m.inputs = m.inputs.filter((v) => !inits.has(v.name));
    return m;
  } catch (e) {
    if (e instanceof ProtobufError) throw new ParityError(`${file}: malformed ONNX protobuf: ${e.message}`);
    throw e;
  }
}

function parseNode(buf: Uint8Array, f: PbField): OnnxNode {
  const n: OnnxNode = { field: f, name: '', op: '', domain: '', inputs: [], outputs: [], attrs: [] };
  for (const x of sub(buf, f)) {
    switch (x.field) {
      case NODE.input: n.inputs.push(str(buf, x)); break;
      case NODE.output: n.outputs.push(str(buf, x)); break;
      case NODE.name: n.name = str(buf, x); break;
      case NODE.opType: n.op = str(buf, x); break;
      case NODE.domain: n.domain = str(buf, x); break;
      case NODE.attribute: n.attrs.push(parseAttr(buf, x)); break;
      default: break;
    }
  }
  return n;
}

function parseAttr(buf: Uint8Array, f: PbField): OnnxAttr {
  const a: OnnxAttr = { field: f, name: '', subgraph: false };
  for (const x of sub(buf, f)) {
    if (x.field === ATTR.name) a.name = str(buf, x);
    else if (x.field === ATTR.i && x.wire === 0) a.i = x.value;
    else if (x.field === ATTR.t) a.t = x;
    else if (x.field === ATTR.g || x.field === ATTR.graphs) a.subgraph = true;
  }
  return a;
}

export function parseTensorHeader(buf: Uint8Array, f: PbField): OnnxTensor {
  const t: OnnxTensor = { field: f, name: '', dataType: 0, dims: [] };
  for (const x of sub(buf, f)) {
    if (x.field === TENSOR.name) t.name = str(buf, x);
    else if (x.field === TENSOR.dataType) t.dataType = x.value;
    else if (x.field === TENSOR.dims) t.dims.push(...varints(buf, x));
  }
  return t;
}

function parseValue(buf: Uint8Array, f: PbField): OnnxValue {
  const v: OnnxValue = { field: f, name: '' };
  for (const x of sub(buf, f)) {
    if (x.field === VALUE_INFO.name) v.name = str(buf, x);
    else if (x.field === VALUE_INFO.type) {
      for (const t of sub(buf, x)) {
        if (t.field !== TYPE_TENSOR) continue;
        for (const e of sub(buf, t)) if (e.field === TENSOR_TYPE.elemType) v.elemType = e.value;
      }
    }
  }
  return v;
}

/**
 * The little-endian bytes of a tensor's values, wherever the TensorProto keeps them: raw_data, the
 * typed repeated fields, or an external file beside the model (a location that leaves the model's
 * folder is refused, as the checkpoint reader does).
 */
export function tensorBytes(m: OnnxModel, tensorField: PbField): Uint8Array {
  const buf = m.buf;
  const parts = sub(buf, tensorField);
  const h = parseTensorHeader(buf, tensorField);
  const size = DT_BYTES[h.dataType];
  const count = h.dims.reduce((a, b) => a * b, 1);
  const what = `${m.file}: tensor "${h.name}"`;
  if (size === undefined) throw new ParityError(`${what} has data type ${h.dataType}, which the parity runner does not handle`);
  const expect = size * count;
  const check = (b: Uint8Array): Uint8Array => {
    if (b.length !== expect) throw new ParityError(`${what} holds ${b.length} bytes, but its shape [${h.dims.join(', ')}] needs ${expect}`);
    return b;
  };
  const location = parts.find((x) => x.field === TENSOR.dataLocation)?.value ?? 0;
  if (location === 1) return check(externalBytes(m, parts, what));
  const raw = parts.find((x) => x.field === TENSOR.rawData);
  if (raw) return check(payload(buf, raw));
  const out = Buffer.alloc(expect);
  let i = 0;
  const room = (n: number): void => {
    if (i + n > expect) throw new ParityError(`${what} holds more values than its shape [${h.dims.join(', ')}] has elements`);
  };
  const put = (b: Uint8Array): void => { room(b.length); out.set(b, i); i += b.length; };
  for (const x of parts) {
    if (x.field === TENSOR.floatData || x.field === TENSOR.doubleData) {
      if (x.wire === LEN || x.wire === FIXED32 || x.wire === FIXED64) put(payload(buf, x));
    } else if (x.field === TENSOR.int32Data) {
      // int32_data carries every type of 32 bits or less, one value per element (fp16 as its bit pattern).
      for (const v of varints(buf, x)) { room(size); writeInt(out, i, v, size); i += size; }
    } else if (x.field === TENSOR.int64Data || x.field === TENSOR.uint64Data) {
      for (const v of varints(buf, x)) { room(8); out.writeBigInt64LE(BigInt(v), i); i += 8; }
    }
  }
  return check(out.subarray(0, i));
}

function writeInt(out: Buffer, at: number, v: number, size: number): void {
  if (size === 1) out.writeUInt8(v & 0xff, at);
  else if (size === 2) out.writeUInt16LE(v & 0xffff, at);
  else out.writeInt32LE(v | 0, at);
}

function externalEntries(m: OnnxModel, parts: PbField[]): Map<string, string> {
  const entries = new Map<string, string>();
  for (const x of parts) {
    if (x.field !== TENSOR.externalData) continue;
    let k = '';
    let v = '';
    for (const e of sub(m.buf, x)) {
      if (e.field === 1) k = str(m.buf, e);
      else if (e.field === 2) v = str(m.buf, e);
    }
    entries.set(k, v);
  }
  return entries;
}

/** The external file of a tensor, refused (ParityError naming the model and the location) when it resolves outside the model's folder. */
function externalFile(m: OnnxModel, entries: Map<string, string>, what: string): { file: string; loc: string } {
  const loc = entries.get('location');
  if (!loc) throw new ParityError(`${what} has external data without a location`);
  return { file: externalDataFileSync(m.file, loc, (reason) => new ParityError(`${what}: ${reason}`)), loc };
}

/**
 * Before onnxruntime opens a model from its path (and its external files itself): every external
 * location must stay in the model's folder, symlinks followed, and be readable there (and, in an MCP
 * server, under its roots: the open is the one the confinement checks).
 */
export function checkExternalFiles(m: OnnxModel): void {
  const seen = new Set<string>();
  for (const t of externalInitializers(m)) {
    const what = `${m.file}: initializer "${t.name}"`;
    const { file, loc } = externalFile(m, externalEntries(m, sub(m.buf, t.field)), what);
    if (seen.has(file)) continue;
    seen.add(file);
    try {
      closeSync(openRegularSync(file, 'an external data file', m.dir));
    } catch (e) {
      throw new ParityError(`${what}: cannot read external data ${loc}: ${(e as Error).message}`);
    }
  }
}

function externalBytes(m: OnnxModel, parts: PbField[], what: string): Uint8Array {
  const entries = externalEntries(m, parts);
  const { file, loc } = externalFile(m, entries, what);
  const offset = Number(entries.get('offset') ?? 0);
  let data: Buffer;
  try {
    data = readRegularFileSync(file, 'an external data file', m.dir);
  } catch (e) {
    throw new ParityError(`${what}: cannot read external data ${loc}: ${(e as Error).message}`);
  }
  const length = entries.has('length') ? Number(entries.get('length')) : data.length - offset;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset + length > data.length) {
    throw new ParityError(`${what}: external data range ${offset}+${length} runs past the end of ${loc}`);
  }
  return data.subarray(offset, offset + length);
}

export function tensorProto(name: string, dataType: number, dims: readonly number[], raw: Uint8Array): Buffer {
  return Buffer.concat([
    dims.length ? packedVarints(TENSOR.dims, [...dims]) : Buffer.alloc(0),
    varintField(TENSOR.dataType, dataType),
    stringField(TENSOR.name, name),
    lenField(TENSOR.rawData, raw),
  ]);
}

/** A ValueInfoProto with a name and, when known, a tensor element type (no shape: ORT infers it). */
export function valueInfo(name: string, elemType?: number): Buffer {
  const parts = [stringField(VALUE_INFO.name, name)];
  if (elemType !== undefined) parts.push(lenField(VALUE_INFO.type, lenField(TYPE_TENSOR, varintField(TENSOR_TYPE.elemType, elemType))));
  return Buffer.concat(parts);
}

export function nodeProto(n: { name: string; op: string; inputs: string[]; outputs: string[]; attrs?: Uint8Array[] }): Buffer {
  return Buffer.concat([
    ...n.inputs.map((i) => stringField(NODE.input, i)),
    ...n.outputs.map((o) => stringField(NODE.output, o)),
    stringField(NODE.name, n.name),
    stringField(NODE.opType, n.op),
    ...(n.attrs ?? []).map((a) => lenField(NODE.attribute, a)),
  ]);
}

export function intAttr(name: string, value: number): Buffer {
  return Buffer.concat([stringField(ATTR.name, name), varintField(ATTR.i, value), varintField(ATTR.type, ATTR_TYPE.INT)]);
}

/**
 * Edits to the graph: a kept field's bytes are copied; `replace` swaps a field's whole encoding (tag
 * included) or drops it (null); `before` inserts encoded fields ahead of one; `append` adds fields at
 * the end of the GraphProto. Protobuf keeps the order of each repeated field, so nodes inserted before
 * the first node come first in the graph.
 */
export interface GraphEdit {
  replace?: Map<PbField, Uint8Array | null>;
  before?: Map<PbField, Uint8Array[]>;
  append?: Uint8Array[];
}

export function editModel(m: OnnxModel, edit: GraphEdit): Buffer {
  const graphParts: Uint8Array[] = [];
  for (const f of m.graphFields) {
    const pre = edit.before?.get(f);
    if (pre) graphParts.push(...pre);
    const r = edit.replace?.get(f);
    if (r === null) continue;
    graphParts.push(r ?? whole(m.buf, f));
  }
  graphParts.push(...(edit.append ?? []));
  const out: Uint8Array[] = [];
  for (const f of m.top) out.push(f === m.graph ? lenField(MODEL_GRAPH, graphParts) : whole(m.buf, f));
  return Buffer.concat(out);
}

/** Graph fields encoded: `field(GRAPH.node, bytes)`. */
export function graphField(field: number, body: Uint8Array): Buffer {
  return lenField(field, body);
}

/**
 * A node's NodeProto bytes with some inputs/outputs renamed and some attributes replaced (keyed by
 * the attribute field's offset); every other field is copied as it was.
 */
export function rewriteNode(m: OnnxModel, n: OnnxNode, change: { rename?: (name: string, isOutput: boolean) => string; attrs?: Map<number, Uint8Array> }): Buffer {
  const parts: Uint8Array[] = [];
  for (const x of sub(m.buf, n.field)) {
    if ((x.field === NODE.input || x.field === NODE.output) && change.rename) {
      const name = str(m.buf, x);
      const renamed = change.rename(name, x.field === NODE.output);
      parts.push(renamed === name ? whole(m.buf, x) : stringField(x.field, renamed));
    } else if (x.field === NODE.attribute && change.attrs?.has(x.tagStart)) {
      parts.push(lenField(NODE.attribute, change.attrs.get(x.tagStart)!));
    } else {
      parts.push(whole(m.buf, x));
    }
  }
  return Buffer.concat(parts);
}

export function tensorAttr(name: string, tensor: Uint8Array): Buffer {
  return Buffer.concat([stringField(ATTR.name, name), lenField(ATTR.t, tensor), varintField(ATTR.type, ATTR_TYPE.TENSOR)]);
}

/** Initializers whose bytes live in external files. */
export function externalInitializers(m: OnnxModel): OnnxTensor[] {
  return m.initializers.filter((t) => sub(m.buf, t.field).some((x) => x.field === TENSOR.dataLocation && x.value === 1));
}

/** Protobuf cannot hold a message over 2 GiB; an in-memory edit of a bigger model cannot be loaded. */
export const MAX_INLINE_BYTES = 2 ** 31 - 1;

/**
 * The edit that copies external data into the model. An edited model is handed to onnxruntime as bytes,
 * with no folder to resolve external files against, so their data must come inline.
 */
export function inlineExternalEdit(m: OnnxModel): GraphEdit {
  const replace = new Map<PbField, Uint8Array | null>();
  let total = m.buf.length;
  for (const t of externalInitializers(m)) {
    const raw = tensorBytes(m, t.field);
    total += raw.length;
    if (total > MAX_INLINE_BYTES) {
      throw new ParityError(`${m.file}: its external data exceeds the 2 GiB a protobuf can hold, so the runner cannot edit it in memory (needed for --weights, --dtype and --layers); run without those options, or use command mode`);
    }
    replace.set(t.field, lenField(GRAPH.initializer, tensorProto(t.name, t.dataType, t.dims, raw)));
  }
  return { replace };
}
