/**
 * `tensorport check --fix`: the preferred quick fix of the diagnostics whose fix follows from the two
 * sides' conventions, not from a guess — a transpose or permute the layouts require, a transpose they
 * forbid, LLaMA's rotary permutation, a per-head q/k/v split. Key replacements (the closest real key)
 * and shape-only hints stay for a person: a wrong pairing would "fix" into another wrong one. Edits that
 * overlap an edit already taken wait for the next pass, after the text has been analysed again. A fix
 * marked `byConvention` under another code (the axis of a `cat` across Linear inputs) counts too.
 */
import type { CheckedFile } from './checkFile';
import { DiagnosticCode, MappingDiagnostic, TextEdit } from './diagnostics';

const BY_CONVENTION: ReadonlySet<DiagnosticCode> = new Set(['missing-transpose', 'extra-transpose', 'suspicious-pairing']);

/**
 * One pass of those fixes: non-overlapping edits, last first. An edit reaching the start of one already
 * taken (overlapping, or a second insertion at the same place) waits for the next pass. The editor's
 * *Fix All* (`source.fixAll.tensorport`) applies these.
 */
function conventionFixEdits(diagnostics: readonly MappingDiagnostic[]): TextEdit[] {
  const edits = diagnostics.flatMap((d) => {
    const fix = d.fixes?.find((f) => f.preferred && (f.byConvention || BY_CONVENTION.has(d.code)));
    return fix && fix.edits.length === 1 ? [fix.edits[0]] : [];
  }).sort((a, b) => b.start - a.start || b.end - a.end);
  const taken: TextEdit[] = [];
  let limit = Infinity;
  for (const e of edits) {
    if (e.end >= limit) continue;
    taken.push(e);
    limit = e.start;
  }
  return taken;
}

export function applyPreferredFixes(text: string, diagnostics: readonly MappingDiagnostic[]): { text: string; applied: number } {
  const edits = conventionFixEdits(diagnostics);
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.newText + out.slice(e.end);   // last first: offsets stay valid
  return { text: out, applied: edits.length };
}

/** Passes before giving up: each pass can only reveal fixes that depend on the previous one's. */
export const MAX_FIX_PASSES = 8;

/**
 * Check-with-fixes, the one loop both faces run (`tensorport check --fix` and the editor's *Fix All*):
 * the convention fixes, pass after pass, the text analysed again between passes, until none is left or
 * fixes undo each other. Returns the last analysis (of the fixed text) and how many fixes went in.
 */
export async function fixByConvention(checked: CheckedFile, analyze: (text: string) => Promise<CheckedFile>): Promise<{ checked: CheckedFile; applied: number; refused: number }> {
  let current = checked;
  let applied = 0;
  let refused = 0;
  const seen = new Set([current.file.text]);
  for (let pass = 0; pass < MAX_FIX_PASSES; pass++) {
    const edits = conventionFixEdits(current.analysis.diagnostics);
    if (edits.length === 0) break;
    const next = applyEdits(current.file.text, edits);
    if (seen.has(next)) break;
    seen.add(next);
    const after = await analyze(next);
    if (noWorse(after, current)) {
      applied += edits.length;
      current = after;
      continue;
    }
    // A pass that raises the errors, or trades one for another, is never kept: each of its edits alone is
    // tried, and kept only if it does neither (one fix may be wrong where the others are right).
    let kept = 0;
    for (const e of edits) {
      const alone = applyEdits(current.file.text, [e]);
      const r = await analyze(alone);
      if (noWorse(r, current) && alone !== current.file.text) { current = r; kept++; applied++; break; }
      refused++;
    }
    if (kept === 0) break;
  }
  return { checked: current, applied, refused };
}

const errors = (c: CheckedFile) => c.analysis.diagnostics.filter((d) => d.severity === 'error');

/**
 * An error by what it is about: its code, and the key or else the rule's `SRC -> DST` (the text before its
 * first `|`, which a fix's transforms do not touch) — so `missing-transpose` turned into `shape-mismatch`
 * on the same rule is a new error, though the count stays.
 */
function errorKeys(c: CheckedFile): Set<string> {
  const text = c.file.text;
  return new Set(errors(c).map((d) => {
    const lineStart = text.lastIndexOf('\n', d.start - 1) + 1;
    const lineEnd = text.indexOf('\n', d.start);
    const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
    return `${d.code}\0${d.key ?? line.split('|')[0].trim()}`;
  }));
}

/** A pass is kept when the errors do not rise and none appears that was not there before. */
function noWorse(after: CheckedFile, before: CheckedFile): boolean {
  if (errors(after).length > errors(before).length) return false;
  const had = errorKeys(before);
  return [...errorKeys(after)].every((k) => had.has(k));
}

function applyEdits(text: string, edits: readonly TextEdit[]): string {
  let out = text;
  for (const e of edits) out = out.slice(0, e.start) + e.newText + out.slice(e.end); // last first: offsets stay valid
  return out;
}

/** The one edit that turns `before` into `after`: what differs between their common prefix and suffix. */
export function minimalEdit(before: string, after: string): TextEdit {
  let start = 0;
  while (start < before.length && start < after.length && before[start] === after[start]) start++;
  let end = 0;
  while (end < before.length - start && end < after.length - start && before[before.length - 1 - end] === after[after.length - 1 - end]) end++;
  return { start, end: before.length - end, newText: after.slice(start, after.length - end) };
}

