/**
 * `tensorport check --fix`: the preferred quick fix of the diagnostics whose fix follows from the two
 * sides' conventions, not from a guess — a transpose or permute the layouts require, a transpose they
 * forbid, LLaMA's rotary permutation, a per-head q/k/v split. Key replacements (the closest real key)
 * and shape-only hints stay for a person: a wrong pairing would "fix" into another wrong one. Edits that
 * overlap an edit already taken wait for the next pass, after the text has been analysed again.
 */
import { DiagnosticCode, MappingDiagnostic, TextEdit } from './diagnostics';

const BY_CONVENTION: ReadonlySet<DiagnosticCode> = new Set(['missing-transpose', 'extra-transpose', 'suspicious-pairing']);

/**
 * One pass of those fixes: non-overlapping edits, last first. An edit reaching the start of one already
 * taken (overlapping, or a second insertion at the same place) waits for the next pass. The editor's
 * *Fix All* (`source.fixAll.tensorport`) applies these.
 */
export function conventionFixEdits(diagnostics: readonly MappingDiagnostic[]): TextEdit[] {
  const edits = diagnostics.flatMap((d) => {
    const fix = BY_CONVENTION.has(d.code) ? d.fixes?.find((f) => f.preferred) : undefined;
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
