/**
 * ONNX reader: lists a model's initializers (name, dtype, shape, where their bytes are) and how the
 * graph consumes them, plus the graph's inputs and outputs, by walking the protobuf wire format over
 * the file. Tensor bytes are never read: inline `raw_data` becomes a byte range of the model file and
 * external data a byte range of the named file, which is not even opened.
 */
import { setOwn } from '../table';
import * as nodePath from 'node:path';
import { ByteSource, withSource } from '../byteSource';
import { absoluteName, isRemote } from '../remote/remoteName';
import { externalDataFile } from './externalData';
import { internalError, ReaderError, unreadable } from '../readerError';
import { CheckpointInfo, GraphValue, TensorInfo, TensorLocation } from '../tensorInfo';
import {
  ATTRIBUTE, DATA_LOCATION_EXTERNAL, DIMENSION, GRAPH, MODEL, NODE, OPSET_ID, OP_INPUTS, SHAPE, STRING_ENTRY,
  ONNX_DTYPES, TENSOR, TYPE, TYPE_TENSOR, VALUE_INFO, onnxDtype, rawByteLength,
} from './onnxSchema';
import { FIXED32, FIXED64, Field, LEN, VARINT, WireCursor } from '../protobufWire';

/** Names, op types and metadata strings; anything longer is not a real model's. */
const MAX_STRING = 1024 * 1024;
const WIRE_NAMES = ['VARINT', 'I64', 'LEN', 'SGROUP', 'EGROUP', 'I32'];
/** IR versions so far reach 11; the bound only serves to tell a model's first bytes from noise. */
const MAX_IR_VERSION = 64;
/** ModelProto fields and their wire types, to tell a model's second field from noise. */
const KNOWN_MODEL_FIELDS: Readonly<Record<number, number>> = {
  [MODEL.producerName]: LEN, [MODEL.producerVersion]: LEN, [MODEL.domain]: LEN, [MODEL.modelVersion]: VARINT,
  [MODEL.docString]: LEN, [MODEL.graph]: LEN, [MODEL.opsetImport]: LEN, [MODEL.metadataProps]: LEN,
};

interface RawTensor {
  name: string;
  at: number;
  dims: number[];
  dataType: number;
  raw?: Field;
  /** Packed float_data / double_data: the same bytes raw_data would hold. */
  packed?: Field;
  /** Values in varint-coded or unpacked typed fields: no single byte range holds them. */
  typed: boolean;
  segment: boolean;
  external: Map<string, string>;
  dataLocation: number;
  /** The subgraph it lives in (`/If_0.then_branch`); '' for the main graph. */
  graph: string;
  constant?: true;
}

/** An attribute's fields as found; read once the node's name and op type are known. */
interface AttributeFields {
  name: string;
  i?: number;
  /** `value_float`, `value_floats`, `value_int`, `value_ints`, `value` as written. */
  f?: Field;
  floats: Field[];
  ints: Field[];
  t?: Field;
  graphs: Field[];
}

/** If/Loop/Scan bodies nest; real models go a few levels deep, a crafted one must not recurse forever. */
const MAX_GRAPH_DEPTH = 32;

interface GraphParts {
  tensors: RawTensor[];
  /** Every node input name → how nodes consume it (`MatMul.B`), in first-seen order (a Set: a node may name one input 200,000 times). */
  uses: Map<string, Set<string>>;
  inputs: GraphValue[];
  outputs: GraphValue[];
  sparseInitializers: number;
}

export async function readOnnx(path: string, displayName: string): Promise<CheckpointInfo> {
  try {
    return await withSource(path, displayName, (src) => readModel(src));
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    // Anything else is a bug in this reader; the caller still gets a reason about this file.
    throw internalError(displayName, 'the ONNX model', e);
  }
}

async function readModel(src: ByteSource): Promise<CheckpointInfo> {
  const name = src.displayName;
  if (src.size === 0) throw unreadable(name, 'not an ONNX model: the file is empty');
  const cur = new WireCursor(src);
  const metadata: Record<string, string> = {};
  const props: [string, string][] = [];
  const notes: string[] = [];
  const parts: GraphParts = { tensors: [], uses: new Map(), inputs: [], outputs: [], sparseInitializers: 0 };
  let graphs = 0;
  let irVersion: number | undefined;
  // ONNX writers serialise ir_version first, then producer fields or the graph. Without that start, a
  // failure means "this is something else", not "a corrupt model": the useful reason for a stray .onnx.
  let looksLikeModel = false;
  let fieldsSeen = 0;
  let plausibleStart = false;

  try {
    for (let f = await cur.next(src.size); f; f = await cur.next(src.size)) {
      const field = f;
      const expect = (wire: number, what: string): void => {
        if (field.wire !== wire) {
          throw unreadable(name, `not an ONNX model: ModelProto field ${field.field} (${what}) has wire type ${WIRE_NAMES[field.wire]}, expected ${WIRE_NAMES[wire]}`, field.at);
        }
      };
      fieldsSeen++;
      if (fieldsSeen === 2 && plausibleStart && KNOWN_MODEL_FIELDS[f.field] === f.wire) looksLikeModel = true;
      switch (f.field) {
        case MODEL.irVersion:
          expect(VARINT, 'ir_version');
          irVersion = f.value;
          plausibleStart = f.at === 0 && irVersion >= 1 && irVersion <= MAX_IR_VERSION;
          break;
        case MODEL.producerName: expect(LEN, 'producer_name'); metadata.producer_name = await cur.string(f, MAX_STRING, 'producer_name'); break;
        case MODEL.producerVersion: expect(LEN, 'producer_version'); metadata.producer_version = await cur.string(f, MAX_STRING, 'producer_version'); break;
        case MODEL.domain: expect(LEN, 'domain'); metadata.domain = await cur.string(f, MAX_STRING, 'domain'); break;
        case MODEL.modelVersion: expect(VARINT, 'model_version'); metadata.model_version = String(f.value); break;
        case MODEL.docString: expect(LEN, 'doc_string'); break;
        case MODEL.graph: expect(LEN, 'graph'); await walkGraph(cur, f, parts, '', 0); graphs++; break;
        case MODEL.opsetImport: {
          expect(LEN, 'opset_import');
          const [domain, version] = await walkOpset(cur, f);
          metadata[domain === '' || domain === 'ai.onnx' ? 'opset' : `opset.${domain}`] = String(version);
          break;
        }
        case MODEL.metadataProps: expect(LEN, 'metadata_props'); props.push(await walkStringEntry(cur, f)); break;
        default: break; // fields this reader does not need (training_info, functions, …)
      }
      cur.pos = f.end;
    }
  } catch (e) {
    if (e instanceof ReaderError && !looksLikeModel && !e.reason.startsWith('not an ONNX model')) {
      throw unreadable(name, `not an ONNX model: ${e.reason}`, e.offset);
    }
    throw e;
  }

  if (graphs === 0) throw unreadable(name, 'not an ONNX model: it has no graph (ModelProto field 7)');
  if (irVersion === undefined) throw unreadable(name, 'not an ONNX model: it has no ir_version (ModelProto field 1)');
  if (graphs > 1) notes.push(`the model has ${graphs} graph fields; protobuf merges them, and so does this listing`);
  metadata.ir_version = String(irVersion);
  for (const [k, v] of props) {
    // Keys come from the file: `__proto__` must become a key like any other, not a prototype.
    if (!Object.hasOwn(metadata, k)) setOwn(metadata, k, v);
  }

  const ctx: LocateContext = { modelFile: absoluteName(src.path, nodePath.resolve), display: name, notes, typed: 0 };
  // Initializers first, in file order, then Constant nodes' values in graph order.
  const ordered = [...parts.tensors.filter((t) => !t.constant), ...parts.tensors.filter((t) => t.constant)];
  const tensors = ordered.map((t) => toTensorInfo(t, parts.uses, ctx));
  await checkExternalData(tensors, ctx);
  if (ctx.typed > 0) {
    const one = ctx.typed === 1;
    notes.push(`${ctx.typed} tensor${one ? ' stores its' : 's store their'} values in typed protobuf fields (int32_data, int64_data, a Constant's value_ints, …) rather than raw bytes, so no byte range is given for ${one ? 'it' : 'them'}`);
  }
  const constants = tensors.filter((t) => t.constant).length;
  const nested = tensors.filter((t) => t.graph).length;
  if (constants > 0) notes.push(`${constants} tensor${constants === 1 ? ' is a Constant node\'s value' : 's are Constant nodes\' values'} (weights or shapes an exporter folded into the graph), listed beside the initializers`);
  if (nested > 0) notes.push(`${nested} tensor${nested === 1 ? ' lives' : 's live'} in subgraphs (If/Loop/Scan bodies); --json names each one's graph`);
  if (parts.sparseInitializers > 0) notes.push(`${parts.sparseInitializers} sparse initializer${parts.sparseInitializers === 1 ? ' is' : 's are'} not listed`);
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const t of tensors) {
    if (seen.has(t.key)) repeated.push(t.key);
    seen.add(t.key);
  }
  // One note, however many: a file's repetitions must not multiply what is printed.
  if (repeated.length === 1) notes.push(`tensor "${repeated[0]}" appears more than once`);
  else if (repeated.length > 1) notes.push(`${repeated.length} tensors repeat a name listed before them (first: "${repeated[0]}")`);
  const initNames = new Set(parts.tensors.filter((t) => t.graph === '').map((t) => t.name));
  // Before IR version 4, initializers were also listed as graph inputs; they are weights, not inputs.
  const inputs = parts.inputs.filter((v) => !initNames.has(v.name));
  return {
    file: name, format: 'onnx', framework: 'onnx', tensors, metadata, notes,
    graph: { inputs, outputs: parts.outputs },
  };
}

function wireError(cur: WireCursor, msg: string, f: Field, field: string, wire: number): ReaderError {
  return cur.malformed(`${msg} field ${f.field} (${field}) has wire type ${WIRE_NAMES[f.wire]}, expected ${WIRE_NAMES[wire]}`, f.at);
}

const GRAPH_FIELD_NAMES: Readonly<Record<number, string>> = {
  [GRAPH.node]: 'node', [GRAPH.initializer]: 'initializer', [GRAPH.input]: 'input', [GRAPH.output]: 'output',
  [GRAPH.sparseInitializer]: 'sparse_initializer',
};

/**
 * One graph: the main one (`scope` '') or a node's subgraph. Weights live in initializers and in
 * Constant nodes (paddle2onnx, exporters that fold weights), in the main graph or in If/Loop/Scan
 * bodies; all are listed, a subgraph's with its scope.
 */
async function walkGraph(cur: WireCursor, g: Field, parts: GraphParts, scope: string, depth: number): Promise<void> {
  if (depth > MAX_GRAPH_DEPTH) throw cur.malformed(`subgraphs nest deeper than ${MAX_GRAPH_DEPTH} levels`, g.at);
  const main = scope === '';
  // As in walkTensor: await only a real read (a graph may hold 100,000 initializers).
  for (let n = cur.next(g.end), f = n instanceof Promise ? await n : n; f; n = cur.next(g.end), f = n instanceof Promise ? await n : n) {
    const known = GRAPH_FIELD_NAMES[f.field];
    if (known && f.wire !== LEN) throw wireError(cur, 'GraphProto', f, known, LEN);
    switch (f.field) {
      case GRAPH.node: await walkNode(cur, f, parts, scope, depth); break;
      case GRAPH.initializer: parts.tensors.push({ ...(await walkTensor(cur, f)), graph: scope }); break;
      case GRAPH.input: if (main) parts.inputs.push(await walkValueInfo(cur, f)); break;
      case GRAPH.output: if (main) parts.outputs.push(await walkValueInfo(cur, f)); break;
      case GRAPH.sparseInitializer: parts.sparseInitializers++; break;
      default: break;
    }
    cur.pos = f.end;
  }
}

async function walkNode(cur: WireCursor, n: Field, parts: GraphParts, scope: string, depth: number): Promise<void> {
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attrs: AttributeFields[] = [];
  const ints = new Map<string, number>();
  let op = '';
  let domain = '';
  let nodeName = '';
  for (let f = await cur.next(n.end); f; f = await cur.next(n.end)) {
    switch (f.field) {
      case NODE.input: inputs.push(await lenString(cur, f, 'NodeProto', 'input')); break;
      case NODE.output: outputs.push(await lenString(cur, f, 'NodeProto', 'output')); break;
      case NODE.name: nodeName = await lenString(cur, f, 'NodeProto', 'name'); break;
      case NODE.opType: op = await lenString(cur, f, 'NodeProto', 'op_type'); break;
      case NODE.domain: domain = await lenString(cur, f, 'NodeProto', 'domain'); break;
      case NODE.attribute: {
        if (f.wire !== LEN) throw wireError(cur, 'NodeProto', f, 'attribute', LEN);
        const a = await walkAttribute(cur, f);
        if (a.i !== undefined) ints.set(a.name, a.i);
        attrs.push(a);
        break;
      }
      default: break;
    }
    cur.pos = f.end;
  }
  const standard = domain === '' || domain === 'ai.onnx';
  if (op === 'Constant' && standard && outputs.length > 0) {
    const value = await constantValue(cur, attrs, outputs[0]);
    if (value) parts.tensors.push({ ...value, graph: scope, constant: true });
  }
  for (const a of attrs) {
    for (const [i, g] of a.graphs.entries()) {
      cur.pos = g.start;
      const where = `${scope}/${nodeName || op}.${a.name}${a.graphs.length > 1 ? `[${i}]` : ''}`;
      await walkGraph(cur, g, parts, where, depth + 1);
    }
  }
  const opName = standard ? op : `${domain}.${op}`;
  const slots = OP_INPUTS[op];
  inputs.forEach((input, i) => {
    if (input === '') return; // an omitted optional input
    const slot = slots?.[i] ?? String(i);
    let use = `${opName}.${slot}`;
    // Gemm's transA/transB say whether the stored matrix is [out, in]: the layout inference needs it.
    if (op === 'Gemm' && (slot === 'A' || slot === 'B') && ints.get(`trans${slot}`) === 1) use += `.trans${slot}`;
    const set = parts.uses.get(input);
    if (!set) parts.uses.set(input, new Set([use]));
    else set.add(use);
  });
}

async function walkAttribute(cur: WireCursor, a: Field): Promise<AttributeFields> {
  const out: AttributeFields = { name: '', floats: [], ints: [], graphs: [] };
  for (let f = await cur.next(a.end); f; f = await cur.next(a.end)) {
    switch (f.field) {
      case ATTRIBUTE.name: out.name = await lenString(cur, f, 'AttributeProto', 'name'); break;
      case ATTRIBUTE.i:
        if (f.wire !== VARINT) throw wireError(cur, 'AttributeProto', f, 'i', VARINT);
        out.i = f.value;
        break;
      case ATTRIBUTE.f:
        if (f.wire !== FIXED32) throw wireError(cur, 'AttributeProto', f, 'f', FIXED32);
        out.f = f;
        break;
      case ATTRIBUTE.t:
        if (f.wire !== LEN) throw wireError(cur, 'AttributeProto', f, 't', LEN);
        out.t = f;
        break;
      case ATTRIBUTE.floats: out.floats.push(f); break;
      case ATTRIBUTE.ints: out.ints.push(f); break;
      case ATTRIBUTE.g: case ATTRIBUTE.graphs:
        if (f.wire !== LEN) throw wireError(cur, 'AttributeProto', f, f.field === ATTRIBUTE.g ? 'g' : 'graphs', LEN);
        out.graphs.push(f);
        break;
      default: break;
    }
    cur.pos = f.end;
  }
  return out;
}

const FLOAT = 1, INT64 = 7;

/** A Constant node's value as a tensor named by its output: `value`, or the scalar and list forms. */
async function constantValue(cur: WireCursor, attrs: AttributeFields[], output: string): Promise<Omit<RawTensor, 'graph'> | undefined> {
  const blank = (dims: number[], dataType: number): Omit<RawTensor, 'graph'> =>
    ({ name: output, at: 0, dims, dataType, typed: false, segment: false, external: new Map(), dataLocation: 0 });
  for (const a of attrs) {
    switch (a.name) {
      case 'value': {
        if (!a.t) break;
        cur.pos = a.t.start;
        const t = await walkTensor(cur, a.t);
        return { ...t, name: output };
      }
      case 'value_float': {
        if (!a.f) break;
        // A fixed32 field's value bytes are the float itself, little-endian: a byte range like raw_data.
        return { ...blank([], FLOAT), at: a.f.at, packed: { ...a.f, field: TENSOR.floatData } };
      }
      case 'value_floats': {
        const t = { ...blank([0], FLOAT), at: a.floats[0]?.at ?? 0 };
        if (a.floats.length === 1 && a.floats[0].wire === LEN) {
          t.dims = [(a.floats[0].end - a.floats[0].start) / 4];
          t.packed = { ...a.floats[0], field: TENSOR.floatData };
        } else {
          t.dims = [a.floats.length];
          t.typed = a.floats.length > 0;
        }
        return t;
      }
      case 'value_int': return { ...blank([], INT64), typed: true };
      case 'value_ints': {
        let count = 0;
        for (const f of a.ints) {
          if (f.wire === LEN || f.wire === VARINT) await cur.varints(f, () => { count++; });
          else count++;
        }
        return { ...blank([count], INT64), at: a.ints[0]?.at ?? 0, typed: count > 0 };
      }
      default: break;
    }
  }
  return undefined;
}

async function walkTensor(cur: WireCursor, t: Field): Promise<Omit<RawTensor, 'graph'>> {
  const out: Omit<RawTensor, 'graph'> = { name: '', at: t.at, dims: [], dataType: 0, typed: false, segment: false, external: new Map(), dataLocation: 0 };
  // Fields come from the window synchronously almost always: awaiting only a real read keeps a tensor of
  // a million dims fields (or a graph of 100,000 tensors) from paying a microtask per field.
  for (let n = cur.next(t.end), f = n instanceof Promise ? await n : n; f; n = cur.next(t.end), f = n instanceof Promise ? await n : n) {
    switch (f.field) {
      case TENSOR.dims:
        if (f.wire === VARINT) out.dims.push(f.value);
        else if (f.wire === LEN) await cur.varints(f, (v) => out.dims.push(v));
        else throw wireError(cur, 'TensorProto', f, 'dims', VARINT);
        break;
      case TENSOR.dataType:
        if (f.wire !== VARINT) throw wireError(cur, 'TensorProto', f, 'data_type', VARINT);
        out.dataType = f.value;
        break;
      case TENSOR.dataLocation:
        if (f.wire !== VARINT) throw wireError(cur, 'TensorProto', f, 'data_location', VARINT);
        out.dataLocation = f.value;
        break;
      case TENSOR.name: out.name = await lenString(cur, f, 'TensorProto', 'name'); break;
      case TENSOR.rawData:
        if (f.wire !== LEN) throw wireError(cur, 'TensorProto', f, 'raw_data', LEN);
        out.raw = f;
        break;
      case TENSOR.floatData: case TENSOR.doubleData:
        if (f.wire !== LEN && f.wire !== FIXED32 && f.wire !== FIXED64) throw wireError(cur, 'TensorProto', f, 'float_data/double_data', LEN);
        // One packed run of floats or doubles is plain little-endian values, usable as a byte range;
        // unpacked or split runs are not contiguous.
        if (f.wire === LEN && !out.packed && !out.typed) out.packed = f;
        else {
          out.typed = true;
          out.packed = undefined;
        }
        break;
      case TENSOR.int32Data: case TENSOR.int64Data: case TENSOR.uint64Data: case TENSOR.stringData:
        out.typed = true;
        break;
      case TENSOR.segment: out.segment = true; break;
      case TENSOR.externalData: {
        if (f.wire !== LEN) throw wireError(cur, 'TensorProto', f, 'external_data', LEN);
        const [k, v] = await walkStringEntry(cur, f);
        out.external.set(k, v);
        break;
      }
      default: break;
    }
    cur.pos = f.end;
  }
  return out;
}

async function walkValueInfo(cur: WireCursor, v: Field): Promise<GraphValue> {
  const out: GraphValue = { name: '', dtype: '?', shape: [] };
  for (let f = await cur.next(v.end); f; f = await cur.next(v.end)) {
    if (f.field === VALUE_INFO.name) out.name = await lenString(cur, f, 'ValueInfoProto', 'name');
    else if (f.field === VALUE_INFO.type) {
      if (f.wire !== LEN) throw wireError(cur, 'ValueInfoProto', f, 'type', LEN);
      await walkType(cur, f, out);
    }
    cur.pos = f.end;
  }
  return out;
}

const NON_TENSOR_TYPES: Readonly<Record<number, string>> = {
  [TYPE.sequence]: 'sequence', [TYPE.map]: 'map', [TYPE.opaque]: 'opaque', [TYPE.optional]: 'optional',
};

async function walkType(cur: WireCursor, t: Field, out: GraphValue): Promise<void> {
  for (let f = await cur.next(t.end); f; f = await cur.next(t.end)) {
    if (f.field === TYPE.tensor || f.field === TYPE.sparseTensor) {
      if (f.wire !== LEN) throw wireError(cur, 'TypeProto', f, 'tensor_type', LEN);
      await walkTensorType(cur, f, out);
    } else if (NON_TENSOR_TYPES[f.field]) {
      // Sequences, maps and optionals nest further TypeProtos; the parity runner only feeds tensors.
      out.dtype = NON_TENSOR_TYPES[f.field];
      out.shape = [];
    }
    cur.pos = f.end;
  }
}

async function walkTensorType(cur: WireCursor, t: Field, out: GraphValue): Promise<void> {
  for (let f = await cur.next(t.end); f; f = await cur.next(t.end)) {
    if (f.field === TYPE_TENSOR.elemType) {
      if (f.wire !== VARINT) throw wireError(cur, 'TypeProto.Tensor', f, 'elem_type', VARINT);
      out.dtype = onnxDtype(f.value);
    } else if (f.field === TYPE_TENSOR.shape) {
      if (f.wire !== LEN) throw wireError(cur, 'TypeProto.Tensor', f, 'shape', LEN);
      const shape = f;
      for (let d = await cur.next(shape.end); d; d = await cur.next(shape.end)) {
        if (d.field === SHAPE.dim) {
          if (d.wire !== LEN) throw wireError(cur, 'TensorShapeProto', d, 'dim', LEN);
          out.shape.push(await walkDimension(cur, d));
        }
        cur.pos = d.end;
      }
    }
    cur.pos = f.end;
  }
}

async function walkDimension(cur: WireCursor, d: Field): Promise<number | string> {
  let dim: number | string = '?';
  for (let f = await cur.next(d.end); f; f = await cur.next(d.end)) {
    if (f.field === DIMENSION.value && f.wire === VARINT) {
      const v = f.value;
      dim = v >= 0 && Number.isSafeInteger(v) ? v : '?';
    } else if (f.field === DIMENSION.param) {
      dim = await lenString(cur, f, 'Dimension', 'dim_param');
    }
    cur.pos = f.end;
  }
  return dim;
}

async function walkOpset(cur: WireCursor, o: Field): Promise<[string, number]> {
  let domain = '';
  let version = 0;
  for (let f = await cur.next(o.end); f; f = await cur.next(o.end)) {
    if (f.field === OPSET_ID.domain) domain = await lenString(cur, f, 'OperatorSetIdProto', 'domain');
    else if (f.field === OPSET_ID.version && f.wire === VARINT) version = f.value;
    cur.pos = f.end;
  }
  return [domain, version];
}

async function walkStringEntry(cur: WireCursor, e: Field): Promise<[string, string]> {
  let key = '';
  let value = '';
  for (let f = await cur.next(e.end); f; f = await cur.next(e.end)) {
    if (f.field === STRING_ENTRY.key) key = await lenString(cur, f, 'StringStringEntryProto', 'key');
    else if (f.field === STRING_ENTRY.value) {
      // Some exporters keep large JSON in metadata: list that it is there rather than load it.
      value = f.wire === LEN && f.end - f.start > MAX_STRING
        ? `[${f.end - f.start} bytes, not shown]`
        : await lenString(cur, f, 'StringStringEntryProto', 'value');
    }
    cur.pos = f.end;
  }
  return [key, value];
}

async function lenString(cur: WireCursor, f: Field, message: string, field: string): Promise<string> {
  if (f.wire !== LEN) throw wireError(cur, message, f, field, LEN);
  return cur.string(f, MAX_STRING, `${message}.${field}`);
}

interface LocateContext {
  /** Absolute path of the model, for inline byte ranges and resolving external locations. */
  modelFile: string;
  display: string;
  notes: string[];
  /** Initializers whose values sit in varint-coded typed fields: one summary note, not one each. */
  typed: number;
}

function toTensorInfo(t: RawTensor, uses: Map<string, Set<string>>, ctx: LocateContext): TensorInfo {
  const dtype = onnxDtype(t.dataType);
  for (const d of t.dims) {
    if (d < 0 || !Number.isSafeInteger(d)) throw unreadable(ctx.display, `initializer "${t.name}" has an invalid dimension ${d}`, t.at);
  }
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count)) throw unreadable(ctx.display, `initializer "${t.name}" has shape [${t.dims.join(', ')}], too many elements`, t.at);
  if (ONNX_DTYPES[t.dataType] === undefined) ctx.notes.push(`initializer "${t.name}" has unknown data_type ${t.dataType}`);
  const info: TensorInfo = { key: t.name, dtype, shape: t.dims };
  if (t.graph !== '') info.graph = t.graph;
  if (t.constant) info.constant = true;
  const location = locate(t, dtype, rawByteLength(dtype, count), ctx);
  if (location) info.location = location;
  const consumers = uses.get(t.name);
  if (consumers) info.consumers = [...consumers];
  return info;
}

function locate(t: RawTensor, dtype: string, expected: number | undefined, ctx: LocateContext): TensorLocation | undefined {
  const checkLength = (length: number, where: string): void => {
    if (expected !== undefined && length !== expected) {
      throw unreadable(ctx.display, `initializer "${t.name}": ${where} holds ${length} bytes, but shape [${t.dims.join(', ')}] of ${dtype} needs ${expected}`, t.at);
    }
  };
  if (t.segment) {
    ctx.notes.push(`initializer "${t.name}" is stored in segments, which this reader does not locate`);
    return undefined;
  }
  if (t.dataLocation === DATA_LOCATION_EXTERNAL) return externalLocation(t, dtype, expected, ctx);
  if (t.raw) {
    checkLength(t.raw.end - t.raw.start, 'raw_data');
    return { file: ctx.modelFile, offset: t.raw.start, length: t.raw.end - t.raw.start };
  }
  if (t.packed) {
    const isFloat = t.packed.field === TENSOR.floatData;
    if (isFloat ? dtype === 'F32' || dtype === 'C64' : dtype === 'F64' || dtype === 'C128') {
      checkLength(t.packed.end - t.packed.start, isFloat ? 'float_data' : 'double_data');
      return { file: ctx.modelFile, offset: t.packed.start, length: t.packed.end - t.packed.start };
    }
  }
  if (t.typed || t.packed) ctx.typed++;
  return undefined;
}

function externalLocation(t: RawTensor, dtype: string, expected: number | undefined, ctx: LocateContext): TensorLocation | undefined {
  const loc = t.external.get('location');
  if (!loc) {
    ctx.notes.push(`initializer "${t.name}" has external data without a location`);
    return undefined;
  }
  if (isRemote(ctx.modelFile)) {
    // A remote model's external data would be another remote file: listed, not located (convert reads local models' only).
    ctx.notes.push(`initializer "${t.name}": external data of a remote model is listed without a location`);
    return undefined;
  }
  // Where it resolves (symlinks followed) is checked after the whole model is read (checkExternalData).
  const offsetText = t.external.get('offset');
  const lengthText = t.external.get('length');
  const offset = offsetText === undefined ? 0 : decimal(offsetText);
  const length = lengthText === undefined ? expected : decimal(lengthText);
  if (offset === undefined || length === undefined) {
    ctx.notes.push(`initializer "${t.name}": external data offset "${offsetText ?? ''}" / length "${lengthText ?? ''}" are not byte counts`);
    return undefined;
  }
  if (expected !== undefined && length !== expected) {
    throw unreadable(ctx.display, `initializer "${t.name}": external data length ${length} does not match shape [${t.dims.join(', ')}] of ${dtype} (${expected} bytes)`, t.at);
  }
  const dir = nodePath.dirname(ctx.modelFile);
  return { file: nodePath.resolve(dir, loc), offset, length, within: dir, external: loc };
}

/**
 * Every external location must stay in the model's folder, symlinks followed: one that leaves it is a
 * hostile file, refused naming the model and the location (externalData.ts).
 */
async function checkExternalData(tensors: TensorInfo[], ctx: LocateContext): Promise<void> {
  const checked = new Set<string>();
  for (const t of tensors) {
    const loc = t.location?.external;
    if (loc === undefined || checked.has(loc)) continue;
    checked.add(loc);
    await externalDataFile(ctx.modelFile, loc, (reason) => unreadable(ctx.display, `initializer "${t.key}": ${reason}`));
  }
}

function decimal(s: string): number | undefined {
  if (!/^\d{1,16}$/.test(s.trim())) return undefined;
  const n = Number(s.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}
