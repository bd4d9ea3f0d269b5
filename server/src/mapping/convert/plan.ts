/**
 * What a conversion will write, decided before a byte is written: for each target key, in the target
 * checkpoint's order, the rule and source tensors that produce it, and its dtype, shape and size in the
 * output. Everything that would make the run fail later is found here, all at once — a result that
 * differs from the target's dtype or shape, a source without a byte location, a quantised GGUF type,
 * a cast the converter cannot do — so a refused conversion costs no I/O.
 */
import { classDtypeMessage, loaderCasts } from '../loaderDtype';
import { DTYPE_SIZE, TensorInfo, numel, spanOf } from '../../formats/tensorInfo';
import { fmtShape } from '../diagnostics';
import { positionAt } from '../lineIndex';
import { expandRule, traceTransforms } from '../ruleCheck';
import { SideData, isModelSourceSide } from '../sideData';
import { MappingFile, Rule, isDrop } from '../syntax';
import { canCast, sameKind } from './cast';
import { contiguousStrides } from './view';

export interface PlannedTensor {
  key: string;
  dtype: string;
  shape: number[];
  byteLength: number;
  rule: Rule;
  sources: TensorInfo[];
  /** `mapping.tpmap:12`, for messages about this tensor. */
  where: string;
  /** The rule gives another float (integer) type than the target stores and no `cast` says so: written as the target's. */
  castTo?: string;
}

export interface Plan {
  tensors: PlannedTensor[];
  /** Target keys no rule writes (buffers the model rebuilds, once the analysis has passed). */
  unwritten: string[];
  /** Every file the conversion reads tensor bytes from. */
  reads: Set<string>;
  /** Problems that make the conversion impossible; `input` ones are about the checkpoints themselves. */
  problems: { kind: 'mapping' | 'input'; message: string }[];
}

/** dtypes a safetensors header can name. */
const SAFETENSORS_DTYPES = new Set(['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'I32', 'U32', 'F32', 'F64', 'I64', 'U64', 'C64']);

export function planConversion(mappingName: string, file: MappingFile, rules: readonly Rule[], src: SideData, tgt: SideData): Plan {
  const writers = new Map<string, { rule: Rule; sources: string[] }>();
  for (const rule of rules) {
    if (!rule.target || isDrop(rule.target) || rule.sources.length === 0) continue;
    for (const inst of expandRule(rule, src)) {
      if (inst.target !== undefined && tgt.tensors.has(inst.target) && !writers.has(inst.target)) writers.set(inst.target, { rule, sources: inst.sources });
    }
  }
  const plan: Plan = { tensors: [], unwritten: [], reads: new Set(), problems: [] };
  const mapping = (message: string) => plan.problems.push({ kind: 'mapping', message });
  const input = (message: string) => plan.problems.push({ kind: 'input', message });
  const checkedSources = new Set<string>();
  // Into model source: the inferred state_dict() gives keys, order and shapes — every one bound — and
  // each tensor keeps the dtype the rule gives it (load_state_dict casts to the parameter's own anyway).
  const fromCode = isModelSourceSide(tgt);
  if (fromCode) {
    for (const key of tgt.keys) {
      const t = tgt.tensors.get(key)!;
      if (!writers.has(key) || !t.shape.some(Number.isNaN)) continue;
      const syms = [...new Set((t.dims ?? []).flatMap((d) => (typeof d === 'string' ? d.match(/[A-Za-z_][\w.]*/g) ?? [] : [])))];
      const how = syms.length ? syms.map((x) => `\`set ${x} = …\``).join(' and ') : 'a `set` line for each size it is built from';
      mapping(`${mappingName}: \`${key}\` [${(t.dims ?? t.shape).join(', ')}] has sizes no rule and no config value bound (the code's shape for it does not follow from the source's alone): add ${how}`);
    }
    if (plan.problems.length) return plan;
  }

  for (const key of tgt.keys) {
    // Into model source, a tied key (`lm_head.weight` sharing `wte.weight`'s tensor) is written with the
    // same data: `load_state_dict` expects every key its state_dict() has, the tied ones too.
    const tiedTo = fromCode ? tgt.tied.get(key) : undefined;
    const w = writers.get(key) ?? (tiedTo !== undefined ? writers.get(tiedTo) : undefined);
    if (!w) { plan.unwritten.push(key); continue; }
    const target = tgt.tensors.get(key)!;
    const where = `${mappingName}:${positionAt(file.lineStarts, w.rule.start).line + 1}`;
    const sources = w.sources.map((k) => src.tensors.get(k));
    const missing = w.sources.filter((_, i) => !sources[i]);
    if (missing.length > 0) { mapping(`${where}: unknown-source-key: \`${missing[0]}\` is not a key of the source (${src.written})`); continue; }
    const srcTensors = sources as TensorInfo[];
    for (const s of srcTensors) {
      if (checkedSources.has(s.key)) continue;
      checkedSources.add(s.key);
      const why = sourceProblem(s, src);
      if (why) input(`${where}: ${why}`);
      else if (s.location) for (const p of s.location.pieces ?? [s.location]) plan.reads.add(p.file);
    }
    const trace = traceTransforms(w.rule, srcTensors);
    if (trace.failure !== undefined) { mapping(`${where}: shape-mismatch: ${trace.failure} (writing \`${key}\`)`); continue; }
    w.rule.transforms.forEach((t, i) => {
      if (t.name.text !== 'cast') return;
      const to = t.args[0]?.text.toUpperCase() ?? '';
      // A dtype without an element size is reported once, as the source's problem.
      for (const x of trace.steps[i]) if (DTYPE_SIZE[x.dtype] !== undefined && !canCast(x.dtype, to)) input(`${where}: cannot cast ${x.dtype} to ${to} (writing \`${key}\`)`);
    });
    const types = trace.types!;
    if (types.length !== 1) { mapping(`${where}: parse-error: the rule yields ${types.length} tensors for \`${key}\`; a list of sources needs \`cat(DIM)\``); continue; }
    const out = types[0];
    const shapeOk = out.shape.length === target.shape.length && out.shape.every((d, i) => d === target.shape[i]);
    if (!shapeOk) {
      mapping(`${where}: shape-mismatch: \`${key}\` would be ${fmtShape(out.shape)} but the target's is ${fmtShape(target.shape)}`);
      continue;
    }
    const dtype = fromCode ? out.dtype : target.dtype;
    if (fromCode && out.dtype !== target.dtype && !isModelSourceSide(src) && !loaderCasts(tgt)) {
      mapping(`${where}: dtype-mismatch: ${classDtypeMessage(tgt, key, out.dtype, target.dtype)}`);
      continue;
    }
    const implicit = out.dtype !== dtype && !fromCode && sameKind(out.dtype, dtype) ? dtype : undefined;
    if (out.dtype !== dtype && !implicit) {
      mapping(`${where}: dtype-mismatch: \`${key}\` would be ${out.dtype} but the target's is ${target.dtype}; the output must match the target and only a \`cast\` converts between floats and integers: add \`| cast(${target.dtype})\``);
      continue;
    }
    if (!SAFETENSORS_DTYPES.has(dtype) || DTYPE_SIZE[dtype] === undefined) {
      input(`${where}: target \`${key}\` is ${dtype}, which a safetensors file cannot hold`);
      continue;
    }
    if (key === '__metadata__') { input(`${where}: a tensor named \`__metadata__\` cannot be written to safetensors (the name is reserved)`); continue; }
    plan.tensors.push({ key, dtype, shape: target.shape, byteLength: numel(target.shape) * DTYPE_SIZE[dtype], rule: w.rule, sources: srcTensors, where, ...(implicit ? { castTo: implicit } : {}) });
  }
  return plan;
}

/** Why a source tensor's bytes cannot be streamed, or undefined when they can. */
function sourceProblem(t: TensorInfo, side: SideData): string | undefined {
  const size = DTYPE_SIZE[t.dtype];
  if (size === undefined) {
    if (side.info.format === 'gguf') {
      return `source \`${t.key}\` is ${t.dtype}, a quantised GGUF type: convert copies and casts plain types (F32, F16, BF16, integers) and does not dequantise; map a source with unquantised weights`;
    }
    return `source \`${t.key}\` is ${t.dtype}, which has no fixed element size: convert cannot read it`;
  }
  if (numel(t.shape) === 0) return undefined;
  const loc = t.location;
  if (!loc) {
    const why = side.info.notes.filter((n) => /location/i.test(n));
    return `source \`${t.key}\` (${side.written}) has no byte location to stream from: ${why.length ? why.join('; ') : 'the reader could not place its bytes in the file'}`;
  }
  if (loc.stride && loc.stride.some((s) => s < 0 || !Number.isSafeInteger(s))) return `source \`${t.key}\` has strides [${loc.stride.join(', ')}], which convert cannot follow`;
  if (!loc.encoding) {
    // A quantized TF.js weight stores fewer bytes than it loads as.
    const stored = t.quantization ? DTYPE_SIZE[t.quantization.dtype] : size;
    const span = spanOf(t.shape, loc.stride ?? contiguousStrides(t.shape)) * stored;
    if (loc.length !== span) return `source \`${t.key}\`: its location holds ${loc.length} bytes, but ${t.dtype} ${fmtShape(t.shape)} spans ${span}`;
  }
  return undefined;
}
