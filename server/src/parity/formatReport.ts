/**
 * A parity report for people (an aligned table, the first divergence with its mapping lines) and as
 * the `--json` document. JSON has no NaN or Infinity: those numbers are written as the strings "NaN",
 * "Infinity" and "-Infinity" (a maximum relative difference over a zero reference is Infinity).
 */
import { basename } from 'node:path';
import { OutputResult, ParityReport } from './types';

export function reportJson(report: ParityReport): string {
  return JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 1);
}

const num = (x: number) => (Number.isNaN(x) ? 'NaN' : !Number.isFinite(x) ? (x > 0 ? 'inf' : '-inf') : x === 0 ? '0' : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e4 ? String(Number(x.toPrecision(4))) : x.toExponential(2));
const tol = (x: number) => (x !== 0 && x < 1e-2 ? x.toExponential() : String(x));
const cos = (x: number) => (Number.isNaN(x) ? 'NaN' : x.toFixed(6));
const shape = (s: number[]) => `[${s.join(', ')}]`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => rows.reduce((m, r) => Math.max(m, r[i].length), 0));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

function verdict(o: OutputResult): string {
  if (o.pass) return 'pass';
  if (o.reason) return `FAIL (${o.reason})`;
  const req = o.requiredTolerance;
  const needs = Number.isFinite(req.atol) || Number.isFinite(req.rtol)
    ? ` — would pass with atol ${num(req.atol)} or rtol ${num(req.rtol)}`
    : '';
  const count = Number.isFinite(o.mismatches) ? `${o.mismatches} of ${o.elements} elements` : 'outside tolerance';
  return `FAIL (${count}${needs})`;
}

export function formatReport(r: ParityReport): string {
  const out: string[] = [];
  if (r.mode === 'onnx' || r.mode === 'eager') {
    out.push(`reference  ${r.reference}`);
    out.push(`candidate  ${r.candidate}${r.weights ? `  (weights from ${r.weights.mapping}: ${r.weights.replaced} written)` : ''}`);
  } else {
    out.push(`command    ${r.command}`);
  }
  out.push(`device ${r.device} · dtype ${r.dtype} · atol ${tol(r.tolerance.atol)} rtol ${tol(r.tolerance.rtol)} · load ${num(r.timings.loadMs)} ms · run ${num(r.timings.runMs)} ms`);
  if (r.inputs?.length) out.push(`inputs     ${r.inputs.map((i) => `${i.name} ${i.dtype} ${shape(i.shape)} (${i.file ?? i.source})`).join(', ')}`);
  out.push('');
  const rows = [['output', 'shape', 'max abs', 'max rel', 'cosine', 'worst at', 'result']];
  for (const o of r.outputs) {
    rows.push([o.candidateName ? `${o.name} ↔ ${o.candidateName}` : o.name, shape(o.shape), num(o.maxAbsDiff), num(o.maxRelDiff), cos(o.cosine), o.worstIndex.length ? shape(o.worstIndex) : '-', verdict(o)]);
  }
  out.push(table(rows));
  if (r.mode === 'eager' && r.layers?.length) {
    out.push('');
    const mrows = [['reference module', 'candidate module', 'shape', 'max abs', 'max rel', 'cosine', 'paired by', 'result']];
    for (const l of r.layers) mrows.push([l.reference, l.candidate, shape(l.shape), num(l.maxAbsDiff), num(l.maxRelDiff), cos(l.cosine), l.through ? `${l.pairedBy} (slice)` : l.broadcast ? `${l.pairedBy} (broadcast)` : l.pairedBy, l.pass ? 'pass' : l.reason ? `FAIL (${l.reason})` : 'FAIL']);
    out.push(table(mrows));
  }
  if (r.firstDivergence !== undefined) {
    out.push('');
    const d = r.firstDivergence;
    if (!d) {
      out.push(`layers: ${r.layers?.length ?? 0} pairs compared, all within tolerance`);
    } else {
      const failing = r.layers?.filter((l) => !l.pass).length ?? 0;
      out.push(`first divergence${r.layers ? ` (of ${r.layers.length} layer pairs, ${failing} outside tolerance)` : ''}:`);
      out.push(`  reference  ${d.reference}`);
      if (d.candidate !== d.reference) out.push(`  candidate  ${d.candidate}`);
      out.push(`  ${shape(d.shape)}: max abs ${num(d.maxAbsDiff)}, max rel ${num(d.maxRelDiff)}, cosine ${cos(d.cosine)}${d.worstIndex.length ? `, worst at ${shape(d.worstIndex)}` : ''}${d.pairedBy !== 'command' ? `; paired by ${d.pairedBy}` : ''}`);
      if (d.weights?.length) out.push(`  weights    ${d.weights.join(', ')}`);
      for (const m of d.mapping ?? []) out.push(`  ${r.weights?.mapping ?? 'mapping'}:${m.line}: ${m.text}`);
      if (d.reason) out.push(`  ${d.reason}`);
      if (d.through) out.push(`  compared   ${d.through}`);
      const req = d.requiredTolerance;
      if (req && (Number.isFinite(req.atol) || Number.isFinite(req.rtol))) out.push(`  would pass with atol ${num(req.atol)} or rtol ${num(req.rtol)}`);
      if (d.lastAgreeing) out.push(`  after      ${d.lastAgreeing.reference} ↔ ${d.lastAgreeing.candidate} (still agreeing)`);
      const at = (s?: { class: string; file?: string; line?: number }) => (s?.file ? ` (${s.class} at ${s.file}:${s.line})` : '');
      if (d.within) out.push(`  within     ${d.within.reference}${at(d.within.sources?.reference)} ↔ ${d.within.candidate}${at(d.within.sources?.candidate)}`);
      for (const side of ['reference', 'candidate'] as const) {
        const s = d.sources?.[side];
        if (s?.file) out.push(`  ${side === 'reference' ? 'ref class ' : 'cand class'} ${s.class} at ${s.file}:${s.line}`);
      }
      for (const m of d.mappingLines ?? []) out.push(`  mapping:${m.line}: ${m.text}`);
    }
  }
  if (r.backward) {
    const b = r.backward;
    out.push('');
    const failing = b.gradients.filter((g) => !g.pass).length;
    out.push(`gradients: ${b.gradients.length} compared, ${failing} outside tolerance (loss: ${b.loss})`);
    const g = b.firstDivergence;
    if (g) {
      out.push(`  first diverging gradient (backward order): ${g.candidate} ← ${g.reference.join(' + ')}`);
      out.push(`  ${shape(g.shape)}: max abs ${num(g.maxAbsDiff)}, max rel ${num(g.maxRelDiff)}, cosine ${cos(g.cosine)}${g.reason ? ` (${g.reason})` : ''}`);
      if (g.mapping) out.push(`  mapping:${g.mapping.line}: ${g.mapping.text}`);
    }
    if (b.unpaired.candidate.length) out.push(`  candidate parameters with a gradient no rule pairs: ${b.unpaired.candidate.slice(0, 6).join(', ')}${b.unpaired.candidate.length > 6 ? ', …' : ''}`);
  }
  if (r.savedTensors) {
    const st = r.savedTensors;
    out.push('');
    out.push(`saved tensors (.npy, ${st.files.length} pair${st.files.length === 1 ? '' : 's'}) in ${st.dir}`);
    for (const f of st.files) out.push(`  ${f.reference} ↔ ${f.candidate}: ${basename(f.referenceFile)}, ${basename(f.candidateFile)}`);
  }
  if (r.weights?.skipped.length) {
    out.push('');
    out.push(`mapping targets not written (${r.weights.skipped.length}):`);
    for (const s of r.weights.skipped.slice(0, 10)) out.push(`  line ${s.mapping.line}: ${s.key}: ${s.reason}`);
    if (r.weights.skipped.length > 10) out.push(`  … and ${r.weights.skipped.length - 10} more (--json lists them all)`);
  }
  if (r.notes.length) {
    out.push('');
    for (const n of r.notes) out.push(`note: ${n}`);
  }
  out.push('');
  const failed = r.outputs.filter((o) => !o.pass).length;
  const grads = r.backward ? (r.backward.pass ? ', gradients within tolerance' : `, ${r.backward.gradients.filter((g) => !g.pass).length} gradients outside tolerance`) : '';
  out.push(r.pass ? `PASS: ${r.outputs.length} output${r.outputs.length === 1 ? '' : 's'} within tolerance${grads}` : `FAIL: ${failed} of ${r.outputs.length} output${r.outputs.length === 1 ? '' : 's'} outside tolerance${grads}`);
  return out.join('\n') + '\n';
}
