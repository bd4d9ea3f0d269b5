/**
 * The whole-file analysis: parse errors, the `source`/`target` directives, every rule (cached by its
 * text, so an edit re-checks one line), then the checks that need all rules at once — duplicate
 * targets and unmapped keys. Pure: a parsed file and the loaded sides in, plain diagnostics out.
 * The language server and `tensorport check` both call this.
 */
import { besideProblem } from '../formats/remote/besideFiles';
import * as path from 'node:path';
import { IncompleteSource } from '../formats/tensorInfo';
import { MappingDiagnostic, Related, shift } from './diagnostics';
import { Coverage, KeyCounts } from './coverage';
import { RuleResult, checkRule } from './ruleCheck';
import { linearLayout } from './layout';
import { configStamp } from './sideConfig';
import { SideResult, Sides, declaredFramework } from './sides';
import { frameworkFromOtherSide } from './otherSideEvidence';
import { SideData, isModelSourceSide } from './sideData';
import { MappingFile, Rule, SetDirective, SideDirective, Span } from './syntax';

/** Past this many, unmapped keys are summarised in one diagnostic instead of one each. */
export const UNMAPPED_LIST_LIMIT = 200;

/**
 * Per-rule results keyed by the rule's text, valid for one pair of sides. The server keeps one per
 * document and drops it when a side changes.
 */
export class RuleCache {
  private map = new Map<string, RuleResult>();
  private sidesKey?: unknown[];
  /** Read/write counts over the rules of the last analysis, updated by difference. */
  coverage = new Coverage();

  /** `stamp`: what else the results depend on (the sides' config files: configStamp). */
  get(rule: Rule, text: string, src?: SideData, tgt?: SideData, stamp = ''): RuleResult {
    const sidesKey = [src, tgt, stamp];
    if (!this.sidesKey || this.sidesKey[0] !== src || this.sidesKey[1] !== tgt || this.sidesKey[2] !== stamp) {
      this.map.clear();
      this.coverage = new Coverage();
      this.sidesKey = sidesKey;
    }
    const ruleText = text.slice(rule.start, rule.end);
    let r = this.map.get(ruleText);
    if (!r) {
      // Offsets are stored relative to the rule, so the same line elsewhere in the file reuses them.
      const local = checkRule(rule, src, tgt);
      r = { ...local, diagnostics: local.diagnostics.map((d) => shift(d, -rule.start)) };
      this.map.set(ruleText, r);
    }
    return r;
  }
}

export interface Analysis {
  diagnostics: MappingDiagnostic[];
  rules: { rule: Rule; result: RuleResult }[];
  /** Model-source sides: whether inference understood each entirely (`check --json`'s `sides`). */
  models: ModelSideSummary[];
}

export interface ModelSideSummary { role: 'source' | 'target'; side: string; complete: boolean; incomplete: IncompleteSource[] }

export function analyzeMapping(file: MappingFile, sides: Sides, cache = new RuleCache()): Analysis {
  const diagnostics: MappingDiagnostic[] = file.errors.map((e) => ({ start: e.start, end: e.end, severity: 'error', code: 'parse-error', message: e.message }));
  const directives = checkDirectives(file, diagnostics);
  let src = sideData(sides.source, directives.source, 'source', diagnostics);
  let tgt = sideData(sides.target, directives.target, 'target', diagnostics);
  if (src && tgt) {
    src = decidedByOtherSide('source', src, tgt, file);
    tgt = decidedByOtherSide('target', src, tgt, file);
  }
  if (src && directives.source) checkIncomplete(src, directives.source, diagnostics);
  if (tgt && directives.target) checkIncomplete(tgt, directives.target, diagnostics);
  for (const [side, d] of [[src, directives.source], [tgt, directives.target]] as const) {
    const problem = side && d?.path ? besideProblem(side.path) : undefined;
    if (problem) diagnostics.push({ ...d!.path!, severity: 'warning', code: 'remote-config-unavailable',
      message: `${d!.kind} \`${side!.written}\`: ${problem} — the checks that read the files beside a checkpoint (its framework, head counts, a model class's sizes, config-value-differs) ran without it` });
  }
  if (src && directives.source) checkFrameworkEvidence(src, directives.source, file, diagnostics);
  if (tgt && directives.target) checkFrameworkEvidence(tgt, directives.target, file, diagnostics);
  if (src && directives.source) checkConfigDiffers(src, directives.source, file, diagnostics);
  if (tgt && directives.target) checkConfigDiffers(tgt, directives.target, file, diagnostics);

  const rules: { rule: Rule; result: RuleResult }[] = [];
  const stamp = `${configStamp(src)}|${configStamp(tgt)}`;
  for (const item of file.items) {
    if (item.kind !== 'rule') continue;
    const result = cache.get(item, file.text, src, tgt, stamp);
    rules.push({ rule: item, result });
    for (const d of result.diagnostics) diagnostics.push(shift(d, item.start));
  }
  cache.coverage.update(rules.map((r) => r.result));
  checkDuplicates(rules, cache.coverage.writes, diagnostics);
  if (src && directives.source?.path) checkUnmappedSource(src, directives.source.path, cache.coverage.reads, diagnostics, file.text);
  if (tgt && directives.target?.path && src) checkUnmappedTarget(tgt, directives.target.path, cache.coverage.writes, diagnostics);
  diagnostics.sort((a, b) => a.start - b.start || a.end - b.end);
  const models: ModelSideSummary[] = [];
  for (const [role, side] of [['source', src], ['target', tgt]] as const) {
    if (side && (side.info.format === 'python-source' || side.info.format === 'ts-source')) {
      models.push({ role, side: side.written, complete: !side.info.incomplete?.length, incomplete: side.info.incomplete ?? [] });
    }
  }
  return { diagnostics, rules, models };
}

function checkDirectives(file: MappingFile, out: MappingDiagnostic[]): { source?: SideDirective; target?: SideDirective } {
  const found: { source?: SideDirective; target?: SideDirective } = {};
  let firstRule: Rule | undefined;
  for (const item of file.items) {
    if (item.kind === 'rule') { firstRule ??= item; continue; }
    if (item.kind !== 'source' && item.kind !== 'target') continue;
    if (found[item.kind]) {
      out.push({ start: item.start, end: item.end, severity: 'error', code: 'parse-error', message: `a second \`${item.kind}\` line: a mapping has one source and one target`,
        related: [{ span: found[item.kind]!, message: `the first \`${item.kind}\`` }] });
      continue;
    }
    if (firstRule) out.push({ start: item.start, end: item.end, severity: 'error', code: 'parse-error', message: `\`${item.kind}\` must come before the first rule` });
    found[item.kind] = item;
  }
  if (firstRule) {
    for (const kind of ['source', 'target'] as const) {
      if (!found[kind]) out.push({ start: firstRule.start, end: firstRule.start, severity: 'error', code: 'parse-error', message: `expected a \`${kind} PATH\` line before the first rule` });
    }
  }
  return found;
}

function sideData(r: SideResult | undefined, d: SideDirective | undefined, kind: 'source' | 'target', out: MappingDiagnostic[]): SideData | undefined {
  if (!r || !d?.path) return undefined;
  if (r.ok) return r.side;
  const span: Span = d.className ? { start: d.path.start, end: d.className.end } : d.path;
  out.push({ ...span, severity: 'error', code: r.failure.code, message: `${kind} ${r.failure.message}` });
  return undefined;
}

/**
 * A model-source side whose code inference could not follow entirely: one warning per place on the side's
 * line, so a clean check means both sides were understood — never "0 errors" over a missing encoder.
 */
function checkIncomplete(side: SideData, d: SideDirective, out: MappingDiagnostic[]): void {
  const span: Span = d.className ? { start: d.path!.start, end: d.className.end } : d.path!;
  const name = d.className?.text ?? side.written;
  for (const g of side.info.incomplete ?? []) {
    const where = `${path.basename(g.at.file)}:${g.at.line + 1}`;
    const under = g.module ? `\`${g.module}\`` : 'the whole model';
    out.push({ ...span, severity: 'warning', code: 'incomplete-model-source', key: g.module || undefined,
      message: `${d.kind} \`${name}\`: ${g.message} (${where}); what it registers under ${under} is not listed, so rules into it cannot be checked`,
      related: [{ file: g.at.file, range: g.at, message: 'not followed here' }] });
  }
}

/**
 * A checkpoint that does not say its framework: the layout read from evidence is a note (information,
 * with a fix that states it); none found, while the choice decides a Linear weight's transpose, is a
 * warning asking for the `framework` line, since no transpose on that side can be checked without it.
 */
function checkFrameworkEvidence(side: SideData, d: SideDirective, file: MappingFile, out: MappingDiagnostic[]): void {
  if (!d.path || d.className || side.info.framework || declaredFramework(file, d.kind)) return;
  const lineEnd = file.text.indexOf('\n', d.end);
  const at = lineEnd < 0 ? file.text.length : lineEnd + 1;
  const write = (fw: string) => ({ title: `Write \`framework ${d.kind} ${fw}\``, edits: [{ start: at, end: at, newText: `${lineEnd < 0 ? '\n' : ''}framework ${d.kind} ${fw}\n` }] });
  if (side.framework) {
    out.push({ ...d.path, severity: 'information', code: 'framework-inferred',
      message: `${d.kind} \`${side.written}\` does not say its framework; read as ${side.framework} (${side.framework === 'paddle' ? '[in, out]' : '[out, in]'} Linear weights) because ${side.frameworkWhy}`,
      fixes: [{ ...write(side.framework), preferred: true }] });
    return;
  }
  if (!layoutDecides(side)) return;
  out.push({ ...d.path, severity: 'warning', code: 'framework-unknown',
    message: `${d.kind} \`${side.written}\` does not say its framework and nothing else does (no config.json with \`transformers_version\` beside it, no buffer only one framework writes, no non-square Linear weight whose bias or width shows its layout, no rule pairing one with a Linear weight of known layout on the other side): ` +
      `its Linear weights' transposes cannot be checked; add \`framework ${d.kind} torch\` for [out, in] weights (torch, MLX) or \`framework ${d.kind} paddle\` for [in, out] (Paddle, JAX)`,
    fixes: [write('torch'), write('paddle')] });
}

/** Sides whose framework the other side decided, per side read and decision: the rule cache keys on the side object. */
const decided = new WeakMap<SideData, Map<string, SideData>>();

/**
 * A checkpoint nothing in or beside it decides, while its Linear weights' layout matters: the rules'
 * pairs with the other side's known layouts may (otherSideEvidence.ts); the side then reads as decided,
 * with that as the note's reason.
 */
function decidedByOtherSide(which: 'source' | 'target', src: SideData, tgt: SideData, file: MappingFile): SideData {
  const side = which === 'source' ? src : tgt;
  if (side.framework || side.info.framework || isModelSourceSide(side) || declaredFramework(file, which) || !layoutDecides(side)) return side;
  const rules = file.items.filter((i): i is Rule => i.kind === 'rule');
  const evidence = frameworkFromOtherSide(which, src, tgt, rules);
  if (!evidence) return side;
  const key = `${evidence.framework}\0${evidence.why}`;
  let perSide = decided.get(side);
  if (!perSide) decided.set(side, (perSide = new Map()));
  if (perSide.size >= 16) perSide.clear();   // reasons an editing session left behind
  let out = perSide.get(key);
  if (!out) perSide.set(key, (out = { ...side, framework: evidence.framework, frameworkWhy: evidence.why }));
  return out;
}

/** Whether the side has a tensor whose layout torch and Paddle read differently (a 2-D Linear weight), per side read. */
const decidesMemo = new WeakMap<SideData, boolean>();
function layoutDecides(side: SideData): boolean {
  let r = decidesMemo.get(side);
  if (r === undefined) decidesMemo.set(side, r = side.keys.some((k) => { const t = side.tensors.get(k)!; return linearLayout(t, 'torch') !== linearLayout(t, 'paddle'); }));
  return r;
}

/**
 * A model-source side built with a value its checkpoint's config.json gives otherwise (ctorValues.ts):
 * every tensor may be in place and the outputs still differ. A warning on the side's line, with a fix
 * that adds (or corrects) the `set` line.
 */
function checkConfigDiffers(side: SideData, d: SideDirective, file: MappingFile, out: MappingDiagnostic[]): void {
  const span: Span = d.className ? { start: d.path!.start, end: d.className.end } : d.path!;
  const lineEnd = file.text.indexOf('\n', d.end);
  const at = lineEnd < 0 ? file.text.length : lineEnd + 1;
  for (const c of side.info.configDiffers ?? []) {
    const set = file.items.find((i): i is SetDirective => i.kind === 'set' && i.name?.text === c.param && !!i.value);
    const newLine = `set ${c.param} = ${c.configValue}`;
    const edits = set ? [{ start: set.start, end: set.value!.end, newText: newLine }] : [{ start: at, end: at, newText: `${lineEnd < 0 ? '\n' : ''}${newLine}\n` }];
    out.push({ ...span, severity: 'warning', code: 'config-value-differs', key: c.param,
      message: `${d.kind} \`${d.className?.text ?? side.written}\`: \`${c.param}\` is ${c.classValue} (${c.classFrom}), \`${c.key}\` is ${c.configValue} in ${path.basename(c.file)}: ${c.effect}; add \`${newLine}\``,
      related: [{ file: c.file, message: `\`${c.key}\`: ${c.configValue}` }],
      fixes: [{ title: `Write \`${newLine}\``, edits, preferred: true }] });
  }
}

function checkDuplicates(rules: { rule: Rule; result: RuleResult }[], writes: KeyCounts, out: MappingDiagnostic[]): void {
  if (writes.multiple.size === 0) return;
  // Only keys written more than once need their writers found.
  const writers = new Map<string, number[]>();
  rules.forEach(({ result }, i) => {
    for (const k of result.writes) {
      if (!writes.multiple.has(k)) continue;
      const w = writers.get(k);
      if (!w) writers.set(k, [i]);
      else if (w[w.length - 1] !== i) w.push(i); // A rule writing a key twice is not a duplicate of itself.
    }
  });
  // One diagnostic per rule, naming the first key it shares and the other rules.
  const perRule = new Map<number, { keys: string[]; others: Set<number> }>();
  for (const [key, idx] of writers) {
    if (idx.length < 2) continue;
    for (const i of idx) {
      const e = perRule.get(i) ?? { keys: [], others: new Set<number>() };
      e.keys.push(key);
      idx.filter((j) => j !== i).forEach((j) => e.others.add(j));
      perRule.set(i, e);
    }
  }
  for (const [i, { keys, others }] of perRule) {
    const { rule, result } = rules[i];
    // When the others are wrong and this rule fits, the error belongs on them: this line stays usable.
    const blameOthers = result.fits && [...others].some((j) => !rules[j].result.fits);
    const target = rule.target!;
    const related: Related[] = [...others].map((j) => ({ span: { start: rules[j].rule.start, end: rules[j].rule.end }, message: 'also writes it' }));
    out.push({
      start: target.start, end: target.end, severity: blameOthers ? 'information' : 'error', code: 'duplicate-target', key: keys[0], related,
      message: `\`${keys[0]}\`${keys.length > 1 ? ` (and ${keys.length - 1} more)` : ''} is also written by ${others.size === 1 ? 'another rule' : `${others.size} other rules`}${blameOthers ? '; this rule fits, the other does not' : ''}`,
    });
  }
}

/**
 * Unmapped keys cost O(listed + mapped), not O(all keys): a 100,000-key side with a mapping in progress
 * is checked on every keystroke. Only the first UNMAPPED_LIST_LIMIT are listed; the rest are counted.
 */
function checkUnmappedSource(src: SideData, at: Span, read: KeyCounts, out: MappingDiagnostic[], text: string): void {
  const eof = text.length;
  const lead = text.length === 0 || text.endsWith('\n') ? '' : '\n';
  // A tied key of a model-source side is read through the key it shares its tensor with.
  const viaTie = new Set([...src.tied].filter(([key, to]) => !read.has(key) && read.has(to)).map(([key]) => key));
  // Keys of a branch nothing decided are alternatives, not tensors the model surely has.
  for (const key of src.conditional.keys()) if (!read.has(key)) viaTie.add(key);
  const total = src.keys.length - read.distinct - viaTie.size; // reads are real keys of this side, so this is exact
  let listed = 0;
  for (const key of src.keys) {
    if (listed >= UNMAPPED_LIST_LIMIT || listed >= total) break;
    if (read.has(key) || viaTie.has(key)) continue;
    listed++;
    const t = src.tensors.get(key)!;
    out.push({ ...at, severity: 'warning', code: 'unmapped-source-key', key,
      message: `source \`${key}\` (${t.dtype} [${t.shape.join(', ')}]) is neither mapped nor dropped`,
      fixes: [{ title: `Drop \`${key}\``, edits: [{ start: eof, end: eof, newText: `${lead}${key} -> drop\n` }] }] });
  }
  if (total > listed) {
    out.push({ ...at, severity: 'warning', code: 'unmapped-source-key', message: `… and ${total - listed} more unmapped source keys` });
  }
}

function checkUnmappedTarget(tgt: SideData, at: Span, written: KeyCounts, out: MappingDiagnostic[]): void {
  for (const key of tgt.rebuilt) {
    if (!written.has(key)) out.push({ ...at, severity: 'information', code: 'unmapped-target-key', key, message: `target buffer \`${key}\` is not written; the model rebuilds it` });
  }
  // A tied key (GPT-2's lm_head.weight → transformer.wte.weight) is written through the key it shares its tensor with.
  const viaTie = new Set<string>();
  for (const [key, to] of tgt.tied) {
    if (written.has(key) || !written.has(to)) continue;
    viaTie.add(key);
    out.push({ ...at, severity: 'information', code: 'unmapped-target-key', key, message: `target \`${key}\` is tied to \`${to}\`, which is written: one tensor under two names` });
  }
  // A model-source key that exists only if a condition nothing decided holds: the checkpoint, writing none
  // of it, shows that branch was not taken.
  for (const [key, cond] of tgt.conditional) {
    if (written.has(key) || viaTie.has(key) || tgt.rebuilt.has(key)) continue;
    viaTie.add(key);
    out.push({ ...at, severity: 'information', code: 'unmapped-target-key', key, message: `target \`${key}\` exists only if ${cond}; no rule writes it, so that branch is taken as not chosen` });
  }
  let writtenBuffers = 0;
  for (const key of tgt.rebuilt) if (written.has(key)) writtenBuffers++;
  // Writes are real keys of the target when it loaded (checkRule only records those).
  const total = tgt.keys.length - tgt.rebuilt.size - viaTie.size - (written.distinct - writtenBuffers);
  let listed = 0;
  for (const key of tgt.keys) {
    if (listed >= UNMAPPED_LIST_LIMIT || listed >= total) break;
    if (written.has(key) || tgt.rebuilt.has(key) || viaTie.has(key)) continue;
    listed++;
    const t = tgt.tensors.get(key)!;
    out.push({ ...at, severity: 'error', code: 'unmapped-target-key', key,
      message: `target \`${key}\` (${t.dtype} [${t.shape.join(', ')}]) is written by no rule: the ported model would keep its random initialisation` });
  }
  if (total > listed) {
    out.push({ ...at, severity: 'error', code: 'unmapped-target-key', message: `… and ${total - listed} more unmapped target keys` });
  }
}
