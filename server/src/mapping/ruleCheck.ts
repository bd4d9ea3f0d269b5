/**
 * Checks one rule against the two sides: expands its patterns over the real keys, pushes each source
 * tensor through the transforms, and compares with the target — shape, transpose by layout convention,
 * dtype, roles, layer sets. A rule's result depends only on its own text and the sides, which is what
 * lets the analyzer cache it across edits of other lines.
 */
import { classDtypeMessage, loaderCasts } from './loaderDtype';
import * as path from 'node:path';
import { TensorInfo } from '../formats/tensorInfo';
import { DiagnosticCode, Fix, MappingDiagnostic, Problem, Related, fmtShape, sameShape, tensorShape } from './diagnostics';
import { Match, captureNames, instantiate } from './keyTrie';
import { describeLinear, linearLayout } from './layout';
import { mergedKernelLayout } from './denseGeneral';
import { catAcrossInputs, convProblem, conventions, perHeadProblem, renderTransform, rotaryProblem } from './layoutProblems';
import { partOrderProblem } from './partOrder';
import { KeyRole, keyRole, roleConflict } from './roles';
import { SideData, isModelSourceSide } from './sideData';
import { closestKeys } from './suggest';
import { KeyPattern, Rule, isDrop } from './syntax';
import { CAST_DTYPES, TensorType, applyTransform } from './transforms';
import { sameKind } from './convert/cast';

const kindOf = (dtype: string) => (/^(F|BF)\d/.test(dtype) ? 'floats' : dtype === 'BOOL' ? 'booleans' : 'integers');

export interface RuleResult {
  diagnostics: MappingDiagnostic[];
  /** Source keys this rule consumes (mapped or dropped). */
  reads: string[];
  /** Target keys this rule writes. */
  writes: string[];
  /** True when every instance checked out: right shape, convention, roles. Duplicates use it to blame the wrong rule. */
  fits: boolean;
}

/** One concrete pairing of a rule: the keys after expanding captures and `*`. */
export interface Instance { match: Match; sources: string[]; target?: string }

export function expandRule(rule: Rule, src: SideData): Instance[] {
  if (rule.sources.length === 0) return [];
  const target = rule.target && !isDrop(rule.target) ? rule.target : undefined;
  return src.trie.match(rule.sources[0].segments).map((m) => ({
    match: m,
    // The first source is the key matched: the side's own string, not a copy spelled again per instance.
    sources: rule.sources.map((p, i) => (i === 0 ? m.key : instantiate(p.segments, m.bindings, m.tail) ?? p.text)),
    target: target ? instantiate(target.segments, m.bindings, m.tail) : undefined,
  }));
}

export interface PairOutcome { types?: TensorType[]; failedAt?: number; failure?: string }

/** The tensor types after each transform (index 0 = the sources), or where the chain fails. */
export function traceTransforms(rule: Rule, sources: TensorInfo[]): PairOutcome & { steps: TensorType[][] } {
  let types: TensorType[] = sources.map((t) => ({ shape: t.shape, dtype: t.dtype }));
  const steps = [types];
  for (let i = 0; i < rule.transforms.length; i++) {
    const r = applyTransform(rule.transforms[i], types);
    if (!r.ok) return { steps, failedAt: i, failure: r.message };
    types = r.types;
    steps.push(types);
  }
  return { steps, types };
}


export function checkRule(rule: Rule, src: SideData | undefined, tgt: SideData | undefined): RuleResult {
  const result: RuleResult = { diagnostics: [], reads: [], writes: [], fits: true };
  const emit = (p: Problem, extra = 0) => {
    result.diagnostics.push({
      start: p.span.start, end: p.span.end, severity: p.severity, code: p.code,
      message: extra > 0 ? `${p.message} (and ${extra} more instance${extra === 1 ? '' : 's'} of this rule)` : p.message,
      fixes: p.fixes, related: p.related,
    });
    if (p.severity !== 'information') result.fits = false;
  };
  if (!rule.arrow || !rule.target || rule.sources.length === 0) { result.fits = false; return result; }
  const drop = isDrop(rule.target);
  const tpat = drop ? undefined : (rule.target as KeyPattern);
  if (!structureOk(rule, tpat, emit)) return result;
  if (!src) { result.fits = false; return result; }

  const instances = expandRule(rule, src);
  if (instances.length === 0) {
    emit(unknownKey('source', rule.sources[0], src));
    return result;
  }

  // Layer sets: a capture that takes other values on the target explains missing target keys.
  const explained = new Map<string, Set<number>>();
  if (tpat && tgt) {
    const tgtMatches = tgt.trie.match(tpat.segments);
    for (const c of captureNames(tpat.segments)) {
      const s = new Set(instances.map((i) => i.match.bindings[c]));
      const t = new Set(tgtMatches.map((m) => m.bindings[c]));
      if (t.size > 0 && !sameSet(s, t)) {
        explained.set(c, t);
        emit({ code: 'layer-count-mismatch', severity: 'error', span: tpat,
          message: `\`{${c}}\` takes ${describeSet(s)} in the source but ${describeSet(t)} in the target` });
      }
    }
  }

  const firsts = new Map<DiagnosticCode, { p: Problem; count: number }>();
  const note = (p: Problem) => {
    const f = firsts.get(p.code);
    if (f) f.count++;
    else firsts.set(p.code, { p, count: 0 });
  };
  const missingSource = new Map<number, string[]>();
  const missingTarget: string[] = [];

  for (const inst of instances) {
    const srcTensors: TensorInfo[] = [];
    inst.sources.forEach((k, j) => {
      const t = src.tensors.get(k);
      if (t) { srcTensors.push(t); result.reads.push(k); } else missingSource.set(j, [...(missingSource.get(j) ?? []), k]);
    });
    if (drop || !tpat || inst.target === undefined) continue;
    if (!tgt) { result.writes.push(inst.target); continue; }
    const tt = tgt.tensors.get(inst.target);
    if (!tt) {
      const isExplained = [...explained].some(([c, vals]) => !vals.has(inst.match.bindings[c]));
      if (!isExplained) missingTarget.push(inst.target);
      continue;
    }
    result.writes.push(tt.key); // the side's own string (tensorColumns.ts), not this instance's spelling
    if (srcTensors.length !== rule.sources.length) continue;
    for (const p of checkPair(rule, tpat, srcTensors, tt, src, tgt)) note(p);
  }

  for (const [j, keys] of missingSource) {
    emit({ ...unknownKey('source', rule.sources[j], src), message: `\`${keys[0]}\` is not a key of the source (${src.written})${keys.length > 1 ? ` — nor are ${keys.length - 1} more of this pattern's instances` : ''}` });
  }
  if (tpat && tgt && missingTarget.length > 0) {
    const p = unknownKey('target', tpat, tgt);
    if (missingTarget.length < instances.length) p.message = `\`${missingTarget[0]}\` is not a key of the target (${tgt.written})${missingTarget.length > 1 ? `, nor are ${missingTarget.length - 1} more` : ''}`;
    emit(p);
  }
  for (const { p, count } of firsts.values()) emit(p, count);
  return result;
}

/** Captures on the right must be bound on the left; `*` must appear on both sides or neither. */
function structureOk(rule: Rule, tpat: KeyPattern | undefined, emit: (p: Problem) => void): boolean {
  const bound = new Set(captureNames(rule.sources[0].segments));
  let ok = true;
  for (const p of [...rule.sources.slice(1), ...(tpat ? [tpat] : [])]) {
    for (const c of captureNames(p.segments)) {
      if (!bound.has(c)) { emit({ code: 'parse-error', severity: 'error', span: p, message: `\`{${c}}\` is not bound by the first source key` }); ok = false; }
    }
  }
  const star = (p: KeyPattern) => p.segments.at(-1)?.kind === 'star';
  if (tpat && star(rule.sources[0]) !== star(tpat)) {
    emit({ code: 'parse-error', severity: 'error', span: tpat, message: 'a trailing `*` must appear on both sides of `->`' });
    ok = false;
  }
  return ok;
}

function unknownKey(side: 'source' | 'target', pat: KeyPattern, data: SideData): Problem {
  const near = closestKeys(pat, data.trie);
  const what = pat.segments.some((s) => s.kind !== 'literal') ? 'matches no key' : 'is not a key';
  return {
    code: side === 'source' ? 'unknown-source-key' : 'unknown-target-key', severity: 'error', span: pat,
    message: `\`${pat.text}\` ${what} of the ${side} (${data.written})${near.length ? `; closest: ${near.map((k) => `\`${k}\``).join(', ')}` : ''}${unfollowed(pat.text, data)}`,
    fixes: near.map((k, i) => ({ title: `Replace with \`${k}\``, edits: [{ start: pat.start, end: pat.end, newText: k }], preferred: i === 0 })),
  };
}

/** A key under a model-source module inference could not follow may well exist: say so, with the line. */
function unfollowed(pattern: string, data: SideData): string {
  const under = (module: string) => {
    if (module === '') return true;
    // `blocks.0.mlp` covers `blocks.{i}.mlp.fc1.weight`: a layer number matches a capture.
    const seg = module.split('.').map((m) => (/^\d+$/.test(m) ? `(${m}|\\{\\w*\\})` : m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('\\.');
    return new RegExp(`^${seg}(\\.|$)`).test(pattern);
  };
  const g = data.info.incomplete?.find((x) => under(x.module));
  if (!g) return '';
  return ` — but ${g.module ? `\`${g.module}\`` : 'the model'} was not followed (${path.basename(g.at.file)}:${g.at.line + 1}: ${g.message}), so its keys are not listed`;
}

function checkPair(rule: Rule, tpat: KeyPattern, sources: TensorInfo[], target: TensorInfo, src: SideData, tgt: SideData): Problem[] {
  const problems: Problem[] = [];
  // A model-source tensor whose shape inference could not follow has nothing to compare.
  if ([target, ...sources].some((t) => t.dims?.[0] === '?')) return problems;
  const related: Related[] = [{ file: tgt.path, message: `target \`${target.key}\`: ${target.dtype} ${tensorShape(target)}` }];
  const trace = traceTransforms(rule, sources);
  if (trace.failure !== undefined) {
    const t = rule.transforms[trace.failedAt!];
    problems.push({ code: 'shape-mismatch', severity: 'error', span: t, message: `${trace.failure} (source \`${sources[0].key}\`)`, related });
    return problems;
  }
  const types = trace.types!;
  if (types.length !== 1) return problems; // A list without `cat` is a parse error already.
  const out = types[0];
  const transposes = rule.transforms.filter((t) => t.name.text === 'transpose');
  const wholeRule = { start: rule.start, end: rule.end };
  // On `x.* -> y.*` a transpose would reach the bias too: the fix splits the rule so it reaches only this tensor.
  const addTranspose: Fix = splitStarTranspose(rule, src, sources[0].key) ?? { title: 'Add `| transpose`', edits: [{ start: rule.end, end: rule.end, newText: ' | transpose' }], preferred: true };
  const removeTranspose = (): Fix => {
    const t = transposes[transposes.length - 1];
    return { title: 'Remove `| transpose`', edits: [{ start: barBefore(rule, t), end: t.end, newText: '' }], preferred: true };
  };

  const conv = convProblem(rule, sources, target, src, tgt, out.shape, related);
  if (conv) {
    problems.push(conv);
    return problems;
  }
  // A Flax DenseGeneral kernel the rule's reshape merges into a matrix is an [in, out] Linear weight from there on.
  const merged = mergedKernelLayout(rule, sources);
  if (!sameShape(out.shape, target.shape)) {
    const transposed = out.shape.length === 2 && out.shape[0] === target.shape[1] && out.shape[1] === target.shape[0];
    if (transposed && transposes.length === 0) {
      problems.push({ code: 'missing-transpose', severity: 'error', span: wholeRule, related, fixes: [addTranspose],
        message: `source ${fmtShape(out.shape)} is target ${fmtShape(target.shape)} transposed: add \`| transpose\`` });
    } else {
      // `cat(1) | transpose` of [out, in] parts: the transpose is right, the cat's axis is not.
      const wrongCat = transposed ? catAcrossInputs(rule, sources, src) : undefined;
      const hint = wrongCat ? `: \`${renderTransform(wrongCat.cat)}\` joins the source weights' input dimension; fuse them along their output dimension, \`cat(${wrongCat.axis})\``
        : transposed ? ': the transpose is one too many' : '';
      const fixes: Fix[] | undefined = wrongCat ? [{ title: `Write \`cat(${wrongCat.axis})\``, edits: [{ start: wrongCat.cat.start, end: wrongCat.cat.end, newText: `cat(${wrongCat.axis})` }], preferred: true, byConvention: true }]
        : transposed ? [removeTranspose()] : undefined;
      problems.push({ code: 'shape-mismatch', severity: 'error', span: tpat, related, fixes,
        message: `source \`${sources[0].key}\` ${sources.length === 1 ? fmtShape(sources[0].shape) : `(${sources.length} tensors)`}${rule.transforms.length ? ` becomes ${fmtShape(out.shape)}` : ''} but target \`${target.key}\` is ${fmtShape(target.shape)}${hint}${wrongCat ? '' : symbolConflict(out.shape, target, tgt, sources[0], src, rule.transforms.every((t) => t.name.text === 'cast'))}` });
    }
  } else if (out.shape.length === 2 && (rule.transforms.every((t) => ['transpose', 'cast', 'chunk', 'cat'].includes(t.name.text)) || merged)) {
    const from = merged ?? linearLayout(sources[0], src.framework, isModelSource(src));
    const to = linearLayout(target, tgt.framework, isModelSource(tgt));
    if (from && to) {
      const need = from !== to;
      const have = transposes.length % 2 === 1;
      // Said only in a message: most rules have none.
      const conv = () => conventions('Linear weight', sources[0], src, describeLinear(from), target, tgt, describeLinear(to));
      const wrongCat = catAcrossInputs(rule, sources, src);
      // The shapes already agree: on a non-square matrix a transpose more or less would break them, so the
      // conventions misjudge this tensor (an embedding table named `emb`), and only a square one is judged by them.
      const square = out.shape[0] === out.shape[1];
      if (need && !have && wrongCat) {
        // `cat(1)` of torch's [out, in] q, k, v has Paddle's [in, 3·out] shape: adding a transpose alone would break the shape.
        const chain = rule.transforms.slice(rule.transforms.indexOf(wrongCat.cat)).map((t) => (t === wrongCat.cat ? `cat(${wrongCat.axis})` : renderTransform(t)));
        const fixed = [...chain, 'transpose'].join(' | ');
        problems.push({ code: 'missing-transpose', severity: 'error', span: wholeRule, related,
          fixes: [{ title: `Write \`${fixed}\``, edits: [{ start: wrongCat.cat.start, end: rule.end, newText: fixed }], preferred: true }],
          message: `${conv()}, and \`${renderTransform(wrongCat.cat)}\` joins the source weights' input dimension: fuse them along their output dimension and transpose, \`${fixed}\`` });
      } else if (need && !have && square) {
        problems.push({ code: 'missing-transpose', severity: 'error', span: wholeRule, related, fixes: [addTranspose],
          message: `${conv()}: add \`| transpose\` (the square shape ${fmtShape(out.shape)} hides it)` });
      } else if (!need && have && square) {
        problems.push({ code: 'extra-transpose', severity: 'warning', span: transposes[0], related, fixes: [removeTranspose()],
          message: `${conv()}: this transpose scrambles the weight` });
      }
    }
  }
  // Into a model class, its loader decides (loaderDtype.ts): torch casts, so only an explicit cast that is undone
  // on load is worth a word; Paddle refuses, so any other dtype is an error convert would refuse too.
  const explicitCast = rule.transforms.some((t) => t.name.text === 'cast');
  if (out.dtype !== target.dtype && target.dtype && isModelSource(tgt) && !isModelSource(src) && (explicitCast || !loaderCasts(tgt))) {
    const refuses = !loaderCasts(tgt);
    const castAt = rule.transforms.find((t) => t.name.text === 'cast');
    const fix = refuses && CAST_DTYPES.includes(target.dtype)
      ? [{ title: castAt ? `Cast to ${target.dtype}` : `Add \`| cast(${target.dtype})\``, edits: [castAt ? { start: castAt.start, end: castAt.end, newText: `cast(${target.dtype})` } : { start: rule.end, end: rule.end, newText: ` | cast(${target.dtype})` }] }]
      : undefined;
    problems.push({ code: 'dtype-mismatch', severity: refuses ? 'error' : 'warning', span: castAt ?? tpat, related, fixes: fix,
      message: classDtypeMessage(tgt, target.key, out.dtype, target.dtype) });
  }
  // A model source's dtype is whatever it is loaded as, so as a source only checkpoints are compared.
  if (out.dtype !== target.dtype && target.dtype && !isModelSource(src) && !isModelSource(tgt)) {
    const canCast = CAST_DTYPES.includes(target.dtype);
    // What convert does decides the severity: a float (integer) into another float (integer) is written as
    // the target stores it; across kinds only a `cast` says the conversion is meant, so convert refuses it.
    const implicit = sameKind(out.dtype, target.dtype);
    problems.push({ code: 'dtype-mismatch', severity: implicit ? 'warning' : 'error', span: tpat, related,
      message: implicit
        ? `source is ${out.dtype}, target is ${target.dtype}: convert writes it as ${target.dtype}, the target's dtype${canCast ? `; add \`| cast(${target.dtype})\` to say so` : ''}`
        : `source is ${out.dtype}, target is ${target.dtype}: convert does not turn ${kindOf(out.dtype)} into ${kindOf(target.dtype)} unasked${canCast ? `; add \`| cast(${target.dtype})\` if the conversion is intended` : ''}`,
      fixes: canCast ? [{ title: `Add \`| cast(${target.dtype})\``, edits: [{ start: rule.end, end: rule.end, newText: ` | cast(${target.dtype})` }] }] : undefined });
  }
  const layoutProblem = perHeadProblem(rule, sources, target, src, tgt, related) ?? rotaryProblem(rule, sources, target, src, tgt, related);
  if (layoutProblem) problems.push(layoutProblem);
  const fused = rule.transforms.some((t) => t.name.text === 'cat' || t.name.text === 'chunk');
  const partOrder = fused ? partOrderProblem(rule, sources.map((s) => s.key), target.key, related) : undefined;
  if (partOrder) problems.push(partOrder);
  const conflict = fused ? undefined : roleConflict(sources[0].key, target.key);
  const a = keyRole(sources[0].key).layer;
  const b = keyRole(target.key).layer;
  const layerConflict = a !== undefined && b !== undefined && a !== b ? `layer ${a} is mapped to layer ${b}` : undefined;
  if (conflict || layerConflict) {
    // Evidence strength: a norm's order or an attention projection both keys name outright
    // (`layernorm_before` → `norm2`, `query` → `k`) with shapes that fit is a swap no other check can
    // catch, so an error. A role read from a module's position, the MLP's names (LLaMA's `w1` is the gate
    // where other code's `W1` is fc1), or only another layer index (pruning is deliberate): a warning.
    const sr = keyRole(sources[0].key);
    const tr = keyRole(target.key);
    const named = (r: Readonly<KeyRole>) => !r.guessed && (r.role === 'q' || r.role === 'k' || r.role === 'v' || r.role === 'o' || (r.role === 'norm' && r.normOrder !== undefined));
    const strong = !!conflict && named(sr) && named(tr);
    problems.push({ code: 'suspicious-pairing', severity: strong ? 'error' : 'warning', span: tpat, related,
      message: `\`${sources[0].key}\` → \`${target.key}\`: ${conflict ?? layerConflict}${conflict && layerConflict ? `, and ${layerConflict}` : ''}` });
  }
  return problems;
}

/**
 * `x.* -> y.*` with one tensor under it that needs a transpose: one rule per tensor the `*` covers, the
 * transpose only on that one (`x.weight -> y.weight | transpose`, `x.bias -> y.bias`). Undefined for a
 * rule that is not a single-source trailing-`*` rule or covers one tensor only.
 */
function splitStarTranspose(rule: Rule, src: SideData, key: string): Fix | undefined {
  const s = rule.sources[0];
  const t = rule.target as KeyPattern;
  if (rule.sources.length !== 1 || s.segments.at(-1)?.kind !== 'star' || t.segments.at(-1)?.kind !== 'star') return undefined;
  const tails = [...new Set(src.trie.match(s.segments).map((m) => m.tail).filter((x): x is string => !!x))];
  const mine = tails.filter((x) => key.endsWith(`.${x}`)).sort((a, b) => b.length - a.length)[0];
  if (tails.length < 2 || mine === undefined) return undefined;
  const transforms = rule.transforms.map((x) => ` | ${x.name.text}${x.parens ? `(${x.args.map((a) => a.text).join(', ')})` : ''}`).join('');
  const lines = tails.map((x) => `${s.text.slice(0, -1)}${x} -> ${t.text.slice(0, -1)}${x}${transforms}${x === mine ? ' | transpose' : ''}`);
  return { title: `Split the rule: \`| transpose\` on \`${mine}\` only`, edits: [{ start: rule.start, end: rule.end, newText: lines.join('\n') }], preferred: true };
}

/** Start of the `|` that introduces a transform, so removing it leaves no stray bar. */
function barBefore(rule: Rule, t: { start: number }): number {
  const i = rule.transforms.findIndex((x) => x.start === t.start);
  const prevEnd = i > 0 ? rule.transforms[i - 1].end : rule.target!.end;
  return prevEnd;
}

function isModelSource(side: SideData): boolean {
  return isModelSourceSide(side);
}

/**
 * When a model source's dimension is a config symbol another rule already bound, the mismatch is a
 * contradiction: say which symbol, the value it has and where from, and the value this rule needs.
 */
function symbolConflict(out: readonly number[], target: TensorInfo, tgt: SideData, source: TensorInfo, src: SideData, shapeKept: boolean): string {
  const explain = (t: TensorInfo, side: SideData, have: readonly number[], want: readonly number[]): string | undefined => {
    if (!t.declared || have.length !== want.length) return undefined;
    for (let i = 0; i < have.length; i++) {
      const expr = t.declared[i];
      if (typeof expr !== 'string' || have[i] === want[i]) continue;
      const bound = side.info.bindings ?? {};
      const syms = (expr.match(/[A-Za-z_][\w.]*/g) ?? []).filter((s, j, all) => all.indexOf(s) === j && bound[s]);
      if (syms.length === 0) continue;
      if (syms.length === 1 && syms[0] === expr) {
        return `: \`${expr}\` is ${have[i]} (bound by ${bound[expr].from}) but this rule needs ${want[i]}`;
      }
      return `: \`${expr}\` is ${have[i]} with ${syms.map((s) => `\`${s}\` = ${bound[s].value} (${bound[s].from})`).join(', ')} but this rule needs ${want[i]}`;
    }
    return undefined;
  };
  if (isModelSource(tgt)) return explain(target, tgt, target.shape, out) ?? '';
  if (isModelSource(src) && shapeKept && out.length === source.shape.length) return explain(source, src, source.shape, out.map((_, i) => target.shape[i])) ?? '';
  return '';
}

function sameSet(a: Set<number>, b: Set<number>): boolean {
  return a.size === b.size && [...a].every((x) => b.has(x));
}

function describeSet(s: Set<number>): string {
  const v = [...s].sort((x, y) => x - y);
  const contiguous = v.every((x, i) => i === 0 || x === v[i - 1] + 1);
  return contiguous && v.length > 2 ? `${v[0]}–${v[v.length - 1]} (${v.length} values)` : `${v.join(', ')} (${v.length} value${v.length === 1 ? '' : 's'})`;
}
