/**
 * Conversion scripts as mappings: a .py/.ts file with `# tensorport: source=… target=…` has its key
 * pairs (HF `rename_keys`, PaddleNLP name mappings, dicts) checked like tpmap rules. The pairs become
 * a tpmap text in memory — one rule per pair, `| transpose` where the script surely transposes — which
 * the mapping core analyses against the real sides; its diagnostics come back on the string literals.
 *
 * A script lists renames, not a whole port, and does things to tensors that no rule spells, so only
 * what stays sure is reported: unknown keys (in a list where some key exists), layer counts, roles,
 * and shape or transpose problems where the code leaves no doubt. Unmapped keys, duplicates and dtypes
 * are not reported.
 */
import { CheckpointIndex } from '../index/checkpointIndex';
import { analyzeMapping } from '../mapping/analyze';
import { DiagnosticCode, MappingDiagnostic, Severity } from '../mapping/diagnostics';
import { computeLineStarts, positionAt } from '../mapping/lineIndex';
import { parseMapping } from '../mapping/parse';
import { expandRule } from '../mapping/ruleCheck';
import { loadSides } from '../mapping/sides';
import { SideData } from '../mapping/sideData';
import { closestKeys } from '../mapping/suggest';
import { KeyPattern, Rule, Span, isDrop } from '../mapping/syntax';
import { numel } from '../formats/tensorInfo';
import { Pos } from '../source/ir';
import { decideBranches } from './branchDecision';
import { checkFusedSlices } from './fusedSlices';
import { KeyLiteral, KeyPair, ScriptScan } from './keyLiterals';
import { settleRewrites, variants } from './pairVariants';
import { scanPythonScript } from './pyScriptScan';
import { ScriptFix, typoFix } from './keyTypoFix';
import { findDirective } from './scriptDirective';
import { directiveSides } from './scriptSides';
import { scanTypeScriptScript } from './tsScriptScan';

export interface ScriptDiagnostic extends Pos {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  /** The key or pattern the message is about. */
  key?: string;
  /** `file` absent: a place in the script; present: a checkpoint (no lines: the start of the file). */
  related?: (Pos & { file?: string; message: string })[];
  /** A mistyped key's "replace with the suggestion", where the suggestion is unambiguous (keyTypoFix.ts). */
  fixes?: ScriptFix[];
}

/** The key literals and pairs of a .py/.ts file (empty for other files). */
export async function scanScript(path: string, text: string): Promise<ScriptScan> {
  if (/\.pyi?$/.test(path)) return scanPythonScript(text);
  if (/\.(ts|mts|cts)$/.test(path)) return scanTypeScriptScript(path, text);
  return { literals: [], pairs: [], looseTranspose: false, reshapes: false };
}

/** What a pair's tensor surely goes through once the whole file is read. */
type Sureness = 'yes' | 'no' | 'unknown' | 'opaque';

export interface Generated {
  pair: KeyPair;
  src: KeyLiteral;
  tgt: KeyLiteral;
  rule: Rule;
  sure: Sureness;
}

/** Diagnostics of a conversion script; [] for a file without the `tensorport:` comment. */
export async function checkScript(path: string, text: string, index: CheckpointIndex, stats?: { checked: number }): Promise<ScriptDiagnostic[]> {
  const directive = findDirective(text);
  if (!directive) return [];
  const out: ScriptDiagnostic[] = directive.errors.map((e) => ({ ...e.pos, severity: 'error', code: 'parse-error', message: e.message }));
  if (!directive.source || !directive.target) return out.sort((a, b) => a.column - b.column);
  const scan = await scanScript(path, text);

  const named = await directiveSides(path, directive, index);
  if (!named) return out;
  const { header, sides: loaded } = named;
  const srcSide = loaded.source?.ok ? loaded.source.side : undefined;
  const tgtSide = loaded.target?.ok ? loaded.target.side : undefined;

  // One rule per pair whose captures are surely layer numbers and bound on the source side, in the
  // branches the checkpoints say this port takes (branchDecision.ts), with the list rewrites applied.
  const candidates = scan.pairs.map((pair) => variants(pair, scan, directive.sourceFirst, srcSide, tgtSide));
  const state = decideBranches(candidates.map((c) => ({ conditions: c.pair.conditions ?? [], fits: c.variants.some((v) => v.status === 'fits') })));
  settleRewrites(candidates, state);
  let tpmap = header;
  const kept: Omit<Generated, 'rule'>[] = [];
  for (const { pair, variants: vs, rewrite } of candidates) {
    if (state(pair.conditions) === 'not-taken') continue;
    const rewritten = vs.length > 1 && (rewrite === 'taken' || (rewrite === 'undecided' && vs[1].status === 'fits' && vs[0].status !== 'fits'));
    const v = vs[rewritten ? 1 : 0];
    if (pair.conditions?.length && v.status === 'absent') continue; // a variant of the model this port is not
    const { src, tgt } = v;
    if (!src.numeric || !tgt.numeric) continue;
    // A bare `source`/`set`… would read as a directive, a bare `drop` as dropping: such pairs are not rules.
    if (/^(source|target|set|framework)$/.test(src.pattern) || tgt.pattern === 'drop') continue;
    const bound = new Set(captures(src.pattern));
    if (!captures(tgt.pattern).every((c) => bound.has(c))) continue;
    const sure: Sureness = pair.transposition === 'opaque' ? 'opaque' : scan.looseTranspose ? 'unknown' : pair.transposition === 'yes' ? 'yes' : 'no';
    tpmap += `${src.pattern} -> ${tgt.pattern}${pair.transposition === 'yes' ? ' | transpose' : ''}\n`;
    kept.push({ pair, src, tgt, sure });
  }
  const file = parseMapping(tpmap);
  const rules = file.items.filter((i): i is Rule => i.kind === 'rule');
  if (file.errors.length || rules.length !== kept.length) return out; // a pattern the tpmap grammar reads otherwise: nothing sure to say
  const generated: Generated[] = kept.map((k, i) => ({ ...k, rule: rules[i] }));
  if (stats) stats.checked = generated.length;
  const sides = await loadSides(path, file, index);

  // A list none of whose keys exists on either side is not a key list (a dtype table, file names…).
  const keyGroups = new Set<string>();
  for (const g of generated) {
    const target = g.rule.target as KeyPattern;
    if ((srcSide && srcSide.trie.match(g.rule.sources[0].segments).length) || (tgtSide && tgtSide.trie.match(target.segments).length)) keyGroups.add(g.pair.group);
  }

  const analysis = analyzeMapping(file, sides);
  const lines = computeLineStarts(tpmap);
  const unknownSource = new Set<Generated>();
  for (const d of analysis.diagnostics) {
    const line = positionAt(lines, d.start).line;
    if (line < 2) {
      if (d.code === 'unreadable-checkpoint' || d.code === 'unsafe-pickle') out.push({ ...(line === 0 ? directive.source : directive.target).pos, severity: d.severity, code: d.code, message: d.message });
      continue;
    }
    const g = generated[line - 2];
    if (!g || !keyGroups.has(g.pair.group) || !keep(d, g, scan, srcSide, tgtSide)) continue;
    if (d.code === 'unknown-source-key') unknownSource.add(g);
    const sd = toScript(d, g);
    const suggested = (d.fixes ?? []).flatMap((f) => (f.edits.length === 1 ? [f.edits[0].newText] : []));
    if (d.code === 'unknown-source-key') out.push(typoFixed(sd, text, g.src, g.rule.sources[0].text, suggested));
    else if (d.code === 'unknown-target-key') out.push(typoFixed(sd, text, g.tgt, (g.rule.target as KeyPattern).text, suggested));
    else out.push(sd);
  }
  out.push(...checkFusedSlices(generated.filter((g) => keyGroups.has(g.pair.group)), srcSide, tgtSide));
  // The core stops at an unknown source key; a script's target string deserves its own check.
  for (const g of unknownSource) {
    const target = g.rule.target as KeyPattern;
    if (!tgtSide || tgtSide.trie.match(target.segments).length) continue;
    const near = closestKeys(target, tgtSide.trie);
    out.push(typoFixed({ ...g.tgt.pos, severity: 'error', code: 'unknown-target-key', key: target.text,
      message: `\`${target.text}\` ${target.segments.some((s) => s.kind !== 'literal') ? 'matches no key' : 'is not a key'} of the target (${tgtSide.written})${near.length ? `; closest: ${near.map((k) => `\`${k}\``).join(', ')}` : ''}` }, text, g.tgt, target.text, near));
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

/** Which of the core's findings a script can be held to. */
function keep(d: MappingDiagnostic, g: Generated, scan: ScriptScan, src?: SideData, tgt?: SideData): boolean {
  switch (d.code) {
    case 'unknown-source-key': case 'unknown-target-key': case 'layer-count-mismatch':
      return true;
    case 'suspicious-pairing':
      // LLaMA's rotary permutation: the script applies it (a helper or an inline view/transpose/reshape), or does what we cannot follow.
      if (/rotary permutation/.test(d.message)) return g.pair.transposition !== 'opaque' && !g.pair.flow?.rotary;
      return !g.pair.flow?.part; // a part of a fused qkv is not the whole it is read from: fusedSlices.ts checks its roles

    case 'missing-transpose': return g.sure === 'no';
    case 'extra-transpose': return g.sure === 'yes';
    case 'shape-mismatch': {
      if (g.sure === 'opaque' || within(d, g.rule.transforms[0])) return false; // `.T` of a 1-D bias is a no-op in numpy and torch
      const shapes = firstDifference(g.rule, g.pair.transposition === 'yes', src, tgt);
      if (!shapes) return false;
      const [a, b] = shapes;
      if (numel(a) !== numel(b)) return true;
      const transposed = a.length === 2 && b.length === 2 && a[0] === b[1] && a[1] === b[0];
      return transposed ? g.sure === 'yes' : !scan.reshapes;
    }
    default:
      return false; // dtype (scripts cast), duplicates (if/else branches), unmapped keys (scripts list renames)
  }
}

/** The first instance of a rule whose source shape (after the script's transpose) and target shape differ. */
function firstDifference(rule: Rule, transpose: boolean, src?: SideData, tgt?: SideData): [number[], number[]] | undefined {
  if (!src || !tgt || !rule.target || isDrop(rule.target)) return undefined;
  for (const inst of expandRule(rule, src)) {
    const a = src.tensors.get(inst.sources[0]);
    const b = inst.target ? tgt.tensors.get(inst.target) : undefined;
    const out = transpose && a?.shape.length === 2 ? [a.shape[1], a.shape[0]] : a?.shape;
    if (out && b && out.join() !== b.shape.join()) return [out, b.shape];
  }
  return undefined;
}

function toScript(d: MappingDiagnostic, g: Generated): ScriptDiagnostic {
  const target = g.rule.target as KeyPattern;
  const at = within(d, g.rule.sources[0]) ? g.src.pos : within(d, target) ? g.tgt.pos : g.pair.pos;
  let message = d.message.replace(/ of this rule\)/, ' of this pair)');
  if (d.code === 'missing-transpose') message = `${message.replace(/: add `\| transpose`/, ': the script must transpose it')}; nothing in the script transposes this pair`;
  if ((d.code === 'extra-transpose' || d.code === 'shape-mismatch') && g.pair.why) message += ` (the script transposes it: ${g.pair.why})`;
  const related = d.related?.filter((r) => r.file !== undefined).map((r) => ({ file: r.file, line: 0, column: 0, endLine: 0, endColumn: 0, message: r.message }));
  const key = d.code === 'unknown-source-key' ? g.src.pattern : d.code === 'unknown-target-key' ? g.tgt.pattern : d.key;
  return { ...at, severity: d.severity, code: d.code, message, ...(key ? { key } : {}), ...(related?.length ? { related } : {}) };
}

/** A mistyped key's quick fix, where the diagnostic sits on the key's own string. */
function typoFixed(sd: ScriptDiagnostic, text: string, lit: KeyLiteral, written: string, suggestions: string[]): ScriptDiagnostic {
  const p = lit.pos;
  if (sd.line !== p.line || sd.column !== p.column || sd.endLine !== p.endLine || sd.endColumn !== p.endColumn) return sd;
  const fix = typoFix(text, p, written, suggestions);
  return fix ? { ...sd, fixes: [fix] } : sd;
}

const within = (d: Span, s: Span | undefined) => !!s && d.start >= s.start && d.end <= s.end;

const captures = (pattern: string) => [...pattern.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
