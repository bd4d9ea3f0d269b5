/**
 * Weight injection (`--weights MAP.tpmap`): the candidate's initializers replaced by the mapping's
 * source tensors pushed through each rule's transforms, so a parity run tests the mapping itself before
 * any converter is written. Every target key is accounted for: replaced, restored (an exporter folded
 * equal weights into one initializer plus `Identity` nodes; the copy gets its own initializer again),
 * or reported with the reason it could not be written — never silently skipped.
 */
import { closeSync, readSync } from 'node:fs';
import * as path from 'node:path';
import { describeFsError } from '../formats/byteSource';
import { openRegularSync, readRegularFileSync } from '../formats/openRegular';
import { DTYPE_SIZE, TensorInfo } from '../formats/tensorInfo';
import { CheckpointIndex } from '../index/checkpointIndex';
import { analyzeMapping } from '../mapping/analyze';
import { positionAt } from '../mapping/lineIndex';
import { parseMapping } from '../mapping/parse';
import { expandRule, traceTransforms } from '../mapping/ruleCheck';
import { SideData, loadSides } from '../mapping/sides';
import { MappingFile, Rule, isDrop } from '../mapping/syntax';
import { GRAPH, GraphEdit, OnnxModel, OnnxNode, OnnxTensor, tensorProto } from './onnxModel';
import { ParityError } from './parityError';
import { lenField } from './protobuf';
import { DECODABLE, DenseArray, applyDataTransform, decodeBytes, encodeAs, onnxDtypeName } from './tensorOps';

/** A mapping line, as reports cite it. */
export interface MappingLine { line: number; text: string }

export interface SkippedTarget { key: string; reason: string; mapping: MappingLine }

/** One written tensor: where it came from, for pairing layers by module and citing the line. */
export interface WrittenTensor { source: string[]; target: string; mapping: MappingLine }

export interface WeightReport {
  mapping: string;
  source: string;
  replaced: number;
  /** Targets that were `Identity` copies of a shared initializer and got their own again. */
  restored: string[];
  skipped: SkippedTarget[];
  /** Candidate initializers no rule wrote: they keep the exported values. */
  unwritten: string[];
  /** Error diagnostics of the mapping check, as `line N: code: message`. */
  mappingErrors: string[];
  written: WrittenTensor[];
}

export interface Injection { edit: GraphEdit; report: WeightReport; /** New bytes per initializer name, for later passes (half precision). */ data: Map<string, { dataType: number; dims: number[]; raw: Uint8Array }> }

export async function injectWeights(mappingPath: string, candidate: OnnxModel): Promise<Injection> {
  let text: string;
  try {
    text = readRegularFileSync(mappingPath, 'a mapping file').toString('utf8');
  } catch (e) {
    throw new ParityError(`${mappingPath}: ${describeFsError(e)}`);
  }
  const file = parseMapping(text);
  if (file.errors.length > 0) {
    const e = file.errors[0];
    throw new ParityError(`${mappingPath}:${positionAt(file.lineStarts, e.start).line + 1}: ${e.message}${file.errors.length > 1 ? ` (and ${file.errors.length - 1} more syntax errors)` : ''}`);
  }
  const abs = path.resolve(mappingPath);
  const sides = await loadSides(abs, file, new CheckpointIndex());
  if (!sides.source) throw new ParityError(`${mappingPath}: no \`source PATH\` line: --weights needs the checkpoint the mapping reads`);
  if (!sides.source.ok) throw new ParityError(`${mappingPath}: source ${sides.source.failure.message}`);
  const src = sides.source.side;
  const analysis = analyzeMapping(file, sides);
  const mappingErrors = analysis.diagnostics.filter((d) => d.severity === 'error')
    .map((d) => `line ${positionAt(file.lineStarts, d.start).line + 1}: ${d.code}: ${d.message}`);

  const inits = new Map(candidate.initializers.map((t) => [t.name, t]));
  const identityOf = identityCopies(candidate, inits);
  const producers = new Map<string, OnnxNode>();
  for (const n of candidate.nodes) for (const o of n.outputs) producers.set(o, n);
  const graphInputs = new Set(candidate.inputs.map((v) => v.name));

  const report: WeightReport = { mapping: mappingPath, source: src.written, replaced: 0, restored: [], skipped: [], unwritten: [], mappingErrors, written: [] };
  const data: Injection['data'] = new Map();
  const replace = new Map<OnnxTensor['field'], Uint8Array | null>();
  const append: Uint8Array[] = [];
  const written = new Set<string>();

  for (const item of file.items) {
    if (item.kind !== 'rule' || !item.arrow || !item.target || isDrop(item.target)) continue;
    const rule: Rule = item;
    const mapping = lineOf(file, rule);
    for (const inst of expandRule(rule, src)) {
      const key = inst.target;
      if (key === undefined) continue;
      const skip = (reason: string) => report.skipped.push({ key, reason, mapping });
      const missing = inst.sources.find((k) => !src.tensors.has(k));
      if (missing) { skip(`source \`${missing}\` is not in ${src.written}`); continue; }
      const target = inits.get(key) ?? identityOf.get(key)?.init;
      if (!target) {
        skip(whyNotInitializer(key, candidate, producers, graphInputs, inits, rule, src, inst.sources));
        continue;
      }
      let value: DenseArray;
      try {
        value = transformed(rule, inst.sources.map((k) => src.tensors.get(k)!), src);
      } catch (e) {
        skip((e as Error).message);
        continue;
      }
      if (value.shape.length !== target.dims.length || value.shape.some((d, i) => d !== target.dims[i])) {
        skip(`after the transforms the tensor is [${value.shape.join(', ')}], the candidate's initializer is [${target.dims.join(', ')}]`);
        continue;
      }
      if (!onnxDtypeName(target.dataType)) { skip(`the candidate's initializer has ONNX data type ${target.dataType}, which the runner does not write`); continue; }
      const raw = encodeAs(value, target.dataType);
      if (written.has(key)) report.skipped.push({ key, reason: 'written by an earlier rule too; this line wins', mapping });
      written.add(key);
      data.set(key, { dataType: target.dataType, dims: target.dims, raw });
      report.written.push({ source: inst.sources, target: key, mapping });
      const copy = identityOf.get(key);
      const proto = lenField(GRAPH.initializer, tensorProto(key, target.dataType, target.dims, raw));
      if (copy) {
        // Undo the exporter's deduplication: the Identity goes, the key becomes an initializer again.
        replace.set(copy.node.field, null);
        append.push(proto);
        if (!report.restored.includes(key)) report.restored.push(key);
      } else {
        replace.set(target.field, proto);
      }
    }
  }
  report.replaced = written.size;
  report.unwritten = candidate.initializers.filter((t) => !written.has(t.name) && isWeightLike(t)).map((t) => t.name);
  return { edit: { replace, append }, report, data };
}

function lineOf(file: MappingFile, rule: Rule): MappingLine {
  const line = positionAt(file.lineStarts, rule.start).line;
  const end = line + 1 < file.lineStarts.length ? file.lineStarts[line + 1] - 1 : file.text.length;
  return { line: line + 1, text: file.text.slice(file.lineStarts[line], end).trim() };
}

/** `Identity` nodes that copy an initializer: how torch.onnx keeps one copy of equal weights. */
function identityCopies(m: OnnxModel, inits: Map<string, OnnxTensor>): Map<string, { node: OnnxNode; init: OnnxTensor }> {
  const out = new Map<string, { node: OnnxNode; init: OnnxTensor }>();
  for (const n of m.nodes) {
    if (n.op !== 'Identity' || n.domain !== '' || n.inputs.length !== 1 || n.outputs.length !== 1) continue;
    const init = inits.get(n.inputs[0]);
    if (init) out.set(n.outputs[0], { node: n, init });
  }
  return out;
}

function whyNotInitializer(key: string, m: OnnxModel, producers: Map<string, OnnxNode>, inputs: Set<string>, inits: Map<string, OnnxTensor>,
  rule: Rule, src: SideData, sources: string[]): string {
  const where = path.basename(m.file);
  if (inputs.has(key)) return `\`${key}\` is a graph input of ${where}, not an initializer: feed it with --input`;
  const p = producers.get(key);
  if (p) return `\`${key}\` is computed by node ${p.name || '(unnamed)'} (${p.op}) in ${where}, not stored as an initializer (constant folding?)`;
  // Suggest initializers of the shape the rule produces: usually the folded, renamed copy.
  const traced = traceTransforms(rule, sources.map((k) => src.tensors.get(k)!)).types;
  const shape = traced?.length === 1 ? traced[0].shape : undefined;
  const same = shape ? [...inits.values()].filter((t) => t.dims.length === shape!.length && t.dims.every((d, i) => d === shape![i])).map((t) => t.name) : [];
  const t = shape ? ` [${shape.join(', ')}]` : '';
  const renamed = same.filter((n) => !src.tensors.has(n)).slice(0, 3);
  return `\`${key}\` is not an initializer of ${where}: exporters rename weights they fold or transpose (\`onnx::MatMul_N\`) and keep one copy of equal constants; export with do_constant_folding=False to keep module names` +
    (renamed.length ? `. Initializers of the same shape${t}: ${renamed.map((n) => `\`${n}\``).join(', ')}${same.length > renamed.length ? ', …' : ''}` : '');
}

function isWeightLike(t: OnnxTensor): boolean {
  return t.dims.length > 0 && t.dims.reduce((a, b) => a * b, 1) > 1;
}

function transformed(rule: Rule, sources: TensorInfo[], src: SideData): DenseArray {
  let arrays = sources.map((t) => readTensor(t, src));
  for (const t of rule.transforms) {
    try {
      arrays = applyDataTransform(t, arrays);
    } catch (e) {
      throw new Error(`\`${t.name.text}\` could not be applied: ${(e as Error).message}`, { cause: e });
    }
  }
  if (arrays.length !== 1) throw new Error(`the rule yields ${arrays.length} tensors for one target (a list needs \`cat\`)`);
  return arrays[0];
}

/** A source tensor's values, read from its byte range (torch views through their strides). */
export function readTensor(t: TensorInfo, src: SideData): DenseArray {
  if (!DECODABLE.has(t.dtype)) throw new Error(`source \`${t.key}\` is ${t.dtype}, which the parity runner cannot decode`);
  const loc = t.location;
  if (!loc) throw new Error(`source \`${t.key}\` has no stored bytes in ${src.written} (a model source, or a Paddle protocol-2 array kept as text); save the checkpoint as safetensors`);
  const bytes = readRange(loc.file, loc.offset, loc.length);
  if (!loc.stride) return decodeBytes(t.dtype, t.shape, bytes);
  // A non-contiguous view: gather its elements through the strides.
  const flat = decodeBytes(t.dtype, [bytes.length / DTYPE_SIZE[t.dtype]], bytes);
  const n = t.shape.reduce((a, b) => a * b, 1);
  const out = new (flat.data.constructor as new (n: number) => DenseArray['data'])(n);
  const idx = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let k = 0; k < idx.length; k++) off += idx[k] * loc.stride[k];
    (out as Float64Array)[i] = (flat.data as Float64Array)[off];
    for (let k = idx.length - 1; k >= 0; k--) {
      if (++idx[k] < t.shape[k]) break;
      idx[k] = 0;
    }
  }
  return { dtype: t.dtype, shape: t.shape, data: out };
}

function readRange(file: string, offset: number, length: number): Uint8Array {
  let fd: number;
  try {
    fd = openRegularSync(file); // a sync open of a named pipe would block the whole process
  } catch (e) {
    throw new Error(`${file}: ${describeFsError(e)}`, { cause: e });
  }
  try {
    const buf = Buffer.alloc(length);
    let done = 0;
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, offset + done);
      if (n === 0) throw new Error(`${file} ends before byte ${offset + length}`);
      done += n;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}
