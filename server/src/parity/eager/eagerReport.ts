/**
 * An eager run's events as the parity report: the module pairs in forward order, the outputs, the first
 * diverging module with the rules that wrote its weights and the classes behind it, and the tolerance
 * that would have passed. Pure: events and the mapping in, the report out.
 */
import { ParityDtype, Tolerance } from '../compare';
import { InputReport } from '../inputs';
import { PairedBy } from '../layers';
import { MappingLine } from '../weights';
import { BackwardReport, Divergence, LayerResult, ModuleSource, OutputResult, ParityReport, SavedTensors, TensorSummary } from '../types';
import { RuleInstance } from './eagerWeights';

/** JSON from the probe carries NaN and the infinities as strings. */
export function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return NaN;
}

const nums = (v: unknown): number[] => (Array.isArray(v) ? v.map(num) : []);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

export interface ProbeEvents {
  started?: Record<string, unknown>;
  inputs: InputReport[];
  layers: Record<string, unknown>[];
  outputs: Record<string, unknown>[];
  error?: Record<string, unknown>;
  unpaired?: { reference: string[]; candidate: string[] };
  /** Module pairs the mapping makes that run in another order in the candidate. */
  crossing?: [string, string][];
  /** Parts of a fused module whose output sizes do not add up to the fused module's: not compared. */
  notComparable?: [string, string][];
  /** {checkpoint key: model key} where a framework's loader renamed (transformers >= 5), per side. */
  renamed?: { reference: Record<string, string>; candidate: Record<string, string> };
  notes: string[];
  done?: Record<string, unknown>;
}

function tolOf(v: unknown): Tolerance {
  const o = (v ?? {}) as Record<string, unknown>;
  return { atol: num(o.atol), rtol: num(o.rtol) };
}

function callName(name: string, call: unknown): string {
  const shown = name === '' ? '(model)' : name;
  return typeof call === 'number' && call > 0 ? `${shown}#${call}` : shown;
}

function layerOf(ev: Record<string, unknown>): LayerResult {
  const sources = ev.sources as { reference?: ModuleSource; candidate?: ModuleSource } | undefined;
  const l: LayerResult = {
    reference: callName(str(ev.reference), ev.referenceCall), candidate: callName(str(ev.candidate), ev.candidateCall),
    shape: nums(ev.shape), maxAbsDiff: num(ev.maxAbsDiff), maxRelDiff: num(ev.maxRelDiff), cosine: num(ev.cosine), pass: ev.pass === true,
    pairedBy: (['mapping', 'name', 'order'].includes(str(ev.pairedBy)) ? ev.pairedBy : 'order') as PairedBy,
    worstIndex: nums(ev.worstIndex), requiredTolerance: tolOf(ev.requiredTolerance),
    dtype: ev.dtype as LayerResult['dtype'], sources, summary: ev.summary as { reference: TensorSummary; candidate: TensorSummary } | undefined,
  };
  if (typeof ev.reason === 'string') l.reason = ev.reason;
  if (typeof ev.through === 'string') l.through = ev.through;
  if (typeof ev.broadcast === 'string') l.broadcast = ev.broadcast;
  return l;
}

function outputOf(ev: Record<string, unknown>): OutputResult {
  const o: OutputResult = {
    name: str(ev.name), shape: nums(ev.shape), pass: ev.pass === true, maxAbsDiff: num(ev.maxAbsDiff), maxRelDiff: num(ev.maxRelDiff),
    cosine: num(ev.cosine), worstIndex: nums(ev.worstIndex), mismatches: num(ev.mismatches), elements: num(ev.elements), requiredTolerance: tolOf(ev.requiredTolerance),
  };
  if (typeof ev.candidateName === 'string') o.candidateName = ev.candidateName;
  if (typeof ev.reason === 'string') o.reason = ev.reason;
  return o;
}

const bare = (n: string) => n.replace(/#\d+$/, '').replace(/^\(model\)$/, '');
const under = (key: string, module: string) => module === '' || key === module || key.startsWith(`${module}.`);

/** The rules that wrote a candidate module's weights (or read the reference module's), one per line. */
export function mappingLinesFor(rules: RuleInstance[] | undefined, reference: string, candidate: string): MappingLine[] {
  if (!rules) return [];
  const seen = new Map<number, MappingLine>();
  for (const r of rules) {
    if ((candidate !== '' && under(r.target, candidate)) || (reference !== '' && r.sources.some((s) => under(s, reference)))) seen.set(r.mapping.line, r.mapping);
  }
  return [...seen.values()].sort((a, b) => a.line - b.line);
}

function divergenceOf(l: LayerResult, layers: LayerResult[], rules: RuleInstance[] | undefined): Divergence {
  const at = layers.indexOf(l);
  const before = layers.slice(0, at).reverse().find((x) => x.pass);
  const r = bare(l.reference);
  const c = bare(l.candidate);
  // The smallest paired module containing this one on both sides: where to look when the departure is
  // in code between modules (functional attention, an activation called as a function).
  const within = layers.filter((x) => x.pairedBy === 'mapping' || x.pairedBy === 'name')
    .map((x) => ({ reference: bare(x.reference), candidate: bare(x.candidate) }))
    .filter((x) => x.reference !== r && under(r, x.reference) && under(c, x.candidate))
    .sort((a, b) => b.reference.length - a.reference.length)[0];
  const d: Divergence = {
    reference: l.reference, candidate: l.candidate, module: c, maxAbsDiff: l.maxAbsDiff, maxRelDiff: l.maxRelDiff, cosine: l.cosine,
    shape: l.shape, worstIndex: l.worstIndex ?? [], pairedBy: l.pairedBy, requiredTolerance: l.requiredTolerance,
    mappingLines: mappingLinesFor(rules, r, c), sources: l.sources,
  };
  if (l.reason) d.reason = l.reason;
  if (l.through ?? l.broadcast) d.through = [l.through, l.broadcast].filter(Boolean).join('; ');
  if (before) d.lastAgreeing = { reference: before.reference, candidate: before.candidate };
  if (within) {
    const row = layers.find((x) => bare(x.reference) === within.reference && bare(x.candidate) === within.candidate);
    d.within = { ...within, ...(row?.sources ? { sources: row.sources } : {}) };
  }
  return d;
}

export interface EagerReportInput {
  reference: string;
  candidate: string;
  dtype: ParityDtype;
  tolerance: Tolerance;
  events: ProbeEvents;
  rules?: RuleInstance[];
  mapping?: string;
  backward?: BackwardReport;
  notes: string[];
  prepareMs: number;
  totalMs: number;
  /** The probe's `savedTensors` (with saveTensors), as it sent it. */
  savedTensors?: unknown;
}

/** The probe's list of saved files, kept only in the shape the report promises. */
function savedOf(v: unknown): SavedTensors | undefined {
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  const side = (x: unknown) => (x ?? {}) as Record<string, unknown>;
  const files = Array.isArray(o.files) ? o.files.map((f) => {
    const e = (f ?? {}) as Record<string, unknown>;
    const dtype = side(e.dtype);
    const shape = side(e.shape);
    return {
      reference: str(e.reference), candidate: str(e.candidate), referenceFile: str(e.referenceFile), candidateFile: str(e.candidateFile),
      dtype: { reference: str(dtype.reference), candidate: str(dtype.candidate) }, shape: { reference: nums(shape.reference), candidate: nums(shape.candidate) },
    };
  }) : [];
  return { dir: str(o.dir), files, missing: Array.isArray(o.missing) ? o.missing.map(str) : [] };
}

export function buildEagerReport(x: EagerReportInput): ParityReport {
  const ev = x.events;
  const layers = ev.layers.map(layerOf);
  const outputs = ev.outputs.map(outputOf);
  const notes = [...x.notes, ...ev.notes];
  let firstDivergence: Divergence | null = null;
  const bad = layers.find((l) => !l.pass);
  if (bad) firstDivergence = divergenceOf(bad, layers, x.rules);
  if (ev.error) {
    const module = str(ev.error.module);
    const message = str(ev.error.message);
    const dtypes = Array.isArray(ev.error.inputDtypes) && ev.error.inputDtypes.length ? ` (its inputs: ${ev.error.inputDtypes.join(', ')})` : '';
    const reason = `the candidate raised in ${module || 'its forward'}${dtypes}: ${message}`;
    outputs.push({ name: 'output', shape: [], pass: false, maxAbsDiff: NaN, maxRelDiff: NaN, cosine: NaN, worstIndex: [], mismatches: NaN, elements: NaN, requiredTolerance: { atol: Infinity, rtol: Infinity }, reason });
    if (!firstDivergence) {
      const pair = layers.find((l) => bare(l.candidate) === module);
      firstDivergence = {
        reference: pair?.reference ?? '', candidate: module || '(model)', module, maxAbsDiff: NaN, maxRelDiff: NaN, cosine: NaN, shape: [], worstIndex: [],
        pairedBy: pair?.pairedBy ?? 'order', reason, mappingLines: mappingLinesFor(x.rules, pair ? bare(pair.reference) : '', module),
        sources: { candidate: ev.error.source as ModuleSource | undefined },
      };
      const before = [...layers].reverse().find((l) => l.pass);
      if (before) firstDivergence.lastAgreeing = { reference: before.reference, candidate: before.candidate };
    }
  }
  if (outputs.length === 0) notes.push('the models returned no floating outputs to compare');
  if (ev.notComparable?.length) {
    const shown = ev.notComparable.slice(0, 4).map(([r, c]) => `${r} ↔ ${c}`);
    notes.push(`not comparable: parts of a fused module whose output sizes do not add up to its output's (${shown.join('; ')}${ev.notComparable.length > 4 ? '; …' : ''})`);
  }
  // Modules run in another order matter only where something diverges: independent ones (BERT's token-type
  // and position embeddings, looked up in either order) agree pair by pair and downstream alike.
  if (ev.crossing?.length && (firstDivergence || outputs.some((o) => !o.pass))) {
    const shown = ev.crossing.slice(0, 4).map(([r, c]) => {
      const lines = mappingLinesFor(x.rules, r, c).map((m) => m.line);
      return `${r} ↔ ${c}${lines.length ? ` (mapping line${lines.length > 1 ? 's' : ''} ${lines.join(', ')})` : ''}`;
    });
    notes.push(`the mapping pairs modules the candidate runs in another order — swapped rules? ${shown.join('; ')}${ev.crossing.length > 4 ? '; …' : ''}`);
  }
  const done = ev.done ?? {};
  const t = (done.timings ?? {}) as Record<string, unknown>;
  const bareT = t.bare as { reference?: unknown; candidate?: unknown; cpu?: { reference?: unknown; candidate?: unknown } } | null | undefined;
  const cpuT = t.cpu as { referenceMs?: unknown; candidateMs?: unknown; compareMs?: unknown; earlyCompareMs?: unknown } | undefined;
  const round = (v: number) => Math.round(v * 100) / 100;
  const ranks = Array.isArray(done.ranks) ? done.ranks as ParityReport['ranks'] : undefined;
  if (ranks) for (const r of ranks!) if (r.rank !== 0) notes.push(`rank ${r.rank}: ${r.failing} of ${r.layers} module pairs outside tolerance, outputs ${r.outputsPass ? 'pass' : 'FAIL'}`);
  const memory = done.memory as { afterLoadMB?: unknown; peakMB?: unknown } | undefined;
  const report: ParityReport = {
    pass: outputs.length > 0 && outputs.every((o) => o.pass) && (x.backward ? x.backward.pass : true),
    mode: 'eager', device: str(done.device) || 'unknown', dtype: x.dtype, tolerance: x.tolerance,
    reference: x.reference, candidate: x.candidate, inputs: ev.inputs, outputs, firstDivergence, layers,
    timings: {
      loadMs: round(x.prepareMs + num(t.loadMs)), runMs: round(num(t.referenceMs) + num(t.candidateMs)), compareMs: round(num(t.compareMs)), totalMs: round(x.totalMs),
      referenceMs: round(num(t.referenceMs)), candidateMs: round(num(t.candidateMs)),
      ...(typeof t.earlyCompareMs === 'number' ? { earlyCompareMs: round(t.earlyCompareMs) } : {}),
      ...(bareT ? { bareMs: { reference: round(num(bareT.reference)), candidate: round(num(bareT.candidate)) } } : {}),
      ...(cpuT ? {
        cpuMs: {
          reference: round(num(cpuT.referenceMs)), candidate: round(num(cpuT.candidateMs)), compare: round(num(cpuT.compareMs)), earlyCompare: round(num(cpuT.earlyCompareMs)),
          ...(bareT?.cpu ? { bare: { reference: round(num(bareT.cpu.reference)), candidate: round(num(bareT.cpu.candidate)) } } : {}),
        },
      } : {}),
    },
    unpaired: ev.unpaired,
    memory: memory ? { afterLoadMB: typeof memory.afterLoadMB === 'number' ? round(memory.afterLoadMB) : null, peakMB: typeof memory.peakMB === 'number' ? round(memory.peakMB) : null } : undefined,
    notes,
  };
  if (ranks) report.ranks = ranks;
  const saved = savedOf(x.savedTensors);
  if (saved) report.savedTensors = saved;
  if (x.backward) report.backward = x.backward;
  return report;
}
