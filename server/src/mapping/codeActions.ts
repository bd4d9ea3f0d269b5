/**
 * Quick fixes for a mapping: the fixes the analysis attached to each diagnostic (add/remove
 * `| transpose`, a suggested key, a cast), plus whole-file actions: drop every unmapped source key, and
 * add a rule for each unmapped target key whose source is unambiguous.
 */
import { Analysis } from './analyze';
import { MappingDiagnostic, TextEdit } from './diagnostics';
import { linearLayout } from './layout';
import { keyRole } from './roles';
import { SideData, Sides } from './sides';
import { MappingFile, Span } from './syntax';

export interface CodeAction { title: string; kind: 'quickfix'; edits: TextEdit[]; diagnostics: MappingDiagnostic[]; preferred?: boolean }

export function codeActionsAt(file: MappingFile, analysis: Analysis, range: Span, sides: Sides): CodeAction[] {
  const overlaps = (d: Span) => d.start <= range.end && d.end >= range.start;
  const here = analysis.diagnostics.filter(overlaps);
  const actions: CodeAction[] = [];
  for (const d of here) {
    for (const f of d.fixes ?? []) {
      if (d.code === 'unmapped-source-key') continue; // Offered together below.
      actions.push({ title: f.title, kind: 'quickfix', edits: f.edits, diagnostics: [d], preferred: f.preferred });
    }
  }
  const eof = file.text.length;
  const lead = file.text.length === 0 || file.text.endsWith('\n') ? '' : '\n';
  const unmappedSrc = analysis.diagnostics.filter((d) => d.code === 'unmapped-source-key' && d.key);
  if (here.some((d) => d.code === 'unmapped-source-key') && unmappedSrc.length) {
    const text = unmappedSrc.map((d) => `${d.key} -> drop`).join('\n');
    actions.push({ title: `Drop ${unmappedSrc.length === 1 ? `\`${unmappedSrc[0].key}\`` : `all ${unmappedSrc.length} unmapped source keys`}`,
      kind: 'quickfix', edits: [{ start: eof, end: eof, newText: `${lead}${text}\n` }], diagnostics: unmappedSrc });
  }
  const src = sides.source?.ok ? sides.source.side : undefined;
  const tgt = sides.target?.ok ? sides.target.side : undefined;
  const unmappedTgt = analysis.diagnostics.filter((d) => d.code === 'unmapped-target-key' && d.key && d.severity === 'error');
  if (src && tgt && here.some((d) => d.code === 'unmapped-target-key') && unmappedTgt.length) {
    const proposals = proposeRules(unmappedTgt.map((d) => d.key!), unmappedSrc.map((d) => d.key!), src, tgt);
    if (proposals.length) {
      actions.push({ title: `Add ${proposals.length === 1 ? 'the rule' : `${proposals.length} rules`} for unmapped target keys with a clear source`,
        kind: 'quickfix', edits: [{ start: eof, end: eof, newText: `${lead}${proposals.join('\n')}\n` }],
        diagnostics: unmappedTgt.filter((d) => proposals.some((p) => p.includes(`-> ${d.key}`))) });
    }
  }
  return actions;
}

/**
 * A rule for each target key that exactly one free source key fits: same role, parameter, layer and
 * norm order, and a shape equal or transposed. Ambiguous keys get nothing (the auto-mapper decides those).
 */
export function proposeRules(targets: string[], freeSources: string[], src: SideData, tgt: SideData): string[] {
  const roles = new Map(freeSources.map((k) => [k, keyRole(k)]));
  const out: string[] = [];
  const taken = new Set<string>();
  for (const tk of targets) {
    const t = tgt.tensors.get(tk)!;
    const tr = keyRole(tk);
    const fits = freeSources.filter((sk) => {
      if (taken.has(sk)) return false;
      const r = roles.get(sk)!;
      const s = src.tensors.get(sk)!;
      if (r.role !== tr.role || r.param !== tr.param || r.layer !== tr.layer || r.normOrder !== tr.normOrder) return false;
      if (r.role === undefined && sk.split('.').at(-2) !== tk.split('.').at(-2)) return false;
      return sameShape(s.shape, t.shape) || transposed(s.shape, t.shape);
    });
    if (fits.length !== 1) continue;
    const sk = fits[0];
    taken.add(sk);
    const s = src.tensors.get(sk)!;
    const from = linearLayout(s, src.framework);
    const to = linearLayout(t, tgt.framework);
    const needT = (from && to && from !== to) || (!sameShape(s.shape, t.shape) && transposed(s.shape, t.shape));
    out.push(`${sk} -> ${tk}${needT ? ' | transpose' : ''}`);
  }
  return out;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function transposed(a: readonly number[], b: readonly number[]): boolean {
  return a.length === 2 && b.length === 2 && a[0] === b[1] && a[1] === b[0];
}
