/**
 * Weight injection (`--weights MAP.tpmap`): the candidate's initializers replaced by the mapping's
 * source tensors pushed through each rule's transforms, so a parity run tests the mapping itself before
 * any converter is written. Every target key is accounted for: replaced, restored (an exporter folded
 * equal weights into one initializer plus `Identity` nodes; the copy gets its own initializer again),
 * or reported with the reason it could not be written — never silently skipped.
 */
import * as path from 'node:path';
import { DTYPE_SIZE, TensorInfo, numel } from '../formats/tensorInfo';
import { CheckpointIndex } from '../index/checkpointIndex';
import { positionAt } from '../mapping/lineIndex';
import { expandRule, traceTransforms } from '../mapping/ruleCheck';
import { SideData } from '../mapping/sideData';
import { MappingFile, Rule, isDrop } from '../mapping/syntax';
import { canCast, castData } from '../mapping/convert/cast';
import { ProducedTensor, produceTensor } from '../mapping/convert/produceTensor';
import { SourceFiles } from '../mapping/convert/sourceData';
import { GRAPH, GraphEdit, OnnxModel, OnnxNode, OnnxTensor, onnxDtypeName, tensorProto } from './onnxModel';
import { ParityError } from './parityError';
import { readParityMapping } from './parityMapping';
import { lenField } from './protobuf';

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
  const { file, sides, errors: mappingErrors } = await readParityMapping(mappingPath, new CheckpointIndex());
  if (!sides.source) throw new ParityError(`${mappingPath}: no \`source PATH\` line: --weights needs the checkpoint the mapping reads`);
  if (!sides.source.ok) throw new ParityError(`${mappingPath}: source ${sides.source.failure.message}`);
  const src = sides.source.side;

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
  // The converter's own reading and transforms (strides, Paddle protocol-2 text, casts as torch rounds).
  const files = new SourceFiles((f) => (f === src.path ? src.written : f));
  try {
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
        const dtype = onnxDtypeName(target.dataType);
        if (!dtype) { skip(`the candidate's initializer has ONNX data type ${target.dataType}, which the runner does not write`); continue; }
        const sources = inst.sources.map((k) => src.tensors.get(k)!);
        const unusable = sources.map((t) => whyNotDense(t, src)).find((why) => why);
        if (unusable) { skip(unusable); continue; }
        let value: ProducedTensor;
        try {
          value = await produceTensor(rule, sources, files, `\`${key}\``);
        } catch (e) {
          skip((e as Error).message);
          continue;
        }
        if (value.shape.length !== target.dims.length || value.shape.some((d, i) => d !== target.dims[i])) {
          skip(`after the transforms the tensor is [${value.shape.join(', ')}], the candidate's initializer is [${target.dims.join(', ')}]`);
          continue;
        }
        if (!canCast(value.dtype, dtype)) { skip(`the rule makes ${value.dtype}; the candidate's initializer is ${dtype}, and ${value.dtype} cannot be cast to it`); continue; }
        const raw = new Uint8Array(value.dtype === dtype ? value.data : castData(value.data, value.dtype, dtype));
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
  } finally {
    await files.close();
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

/** Why a source tensor's bytes cannot feed a parity run, or undefined when they can. */
function whyNotDense(t: TensorInfo, src: SideData): string | undefined {
  if (DTYPE_SIZE[t.dtype] === undefined) return `source \`${t.key}\` is ${t.dtype}, which has no dense values to inject (dequantise it first)`;
  if (!t.location && numel(t.shape) > 0) return `source \`${t.key}\` has no stored bytes in ${src.written} (a model source, or a compressed torch entry); save the checkpoint as safetensors`;
  return undefined;
}
