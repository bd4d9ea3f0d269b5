/**
 * Quick fixes for a mapping: the fixes the analysis attached to each diagnostic (add/remove
 * `| transpose`, a suggested key, a cast), plus whole-file actions: drop every unmapped source key, and
 * add the auto-mapper's rules for unmapped target keys where it is confident.
 */
import { Analysis } from './analyze';
import { MappingDiagnostic, TextEdit } from './diagnostics';
import { MappingProposal, proposeMapping } from './automap/propose';
import { LOW_CONFIDENCE } from './automap/write';
import { Sides } from './sides';
import { SideData } from './sideData';
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
    const lines = proposeRules(unmappedTgt.map((d) => d.key!), src, tgt);
    if (lines.length) {
      actions.push({ title: `Add ${lines.length === 1 ? 'the rule' : `${lines.length} rules`} for unmapped target keys with a clear source`,
        kind: 'quickfix', edits: [{ start: eof, end: eof, newText: `${lead}${lines.join('\n')}\n` }],
        diagnostics: unmappedTgt.filter((d) => lines.some((l) => l.includes(`-> ${d.key}`))) });
    }
  }
  return actions;
}

/** The auto-mapper's proposal per pair of sides (sides are reused until a checkpoint changes). */
const proposals = new WeakMap<SideData, WeakMap<SideData, MappingProposal>>();

function proposalFor(src: SideData, tgt: SideData): MappingProposal {
  let byTarget = proposals.get(src);
  if (!byTarget) proposals.set(src, (byTarget = new WeakMap()));
  let p = byTarget.get(tgt);
  if (!p) byTarget.set(tgt, (p = proposeMapping(src, tgt)));
  return p;
}

/**
 * The auto-mapper's rules for the given unmapped target keys, as concrete lines, only where it is
 * confident: an uncertain pairing is left for the user (or `tensorport map`) to decide.
 */
export function proposeRules(targets: string[], src: SideData, tgt: SideData): string[] {
  const wanted = new Set(targets);
  return proposalFor(src, tgt).rules
    .filter((r) => wanted.has(r.target) && r.confidence >= LOW_CONFIDENCE)
    .map((r) => `${r.sources.length > 1 ? `[${r.sources.join(', ')}]` : r.sources[0]} -> ${r.target}${r.transforms.map((t) => ` | ${t}`).join('')}`);
}
