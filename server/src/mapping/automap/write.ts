/**
 * `writeTpmap`: a proposal as a `.tpmap` a person can read and edit. Rules that repeat in every layer of
 * a stack pair fold into one `{i}` rule; a module mapped whole with the same transforms becomes a
 * trailing-`*` rule; rules are grouped by block with blank lines; a rule below 0.8 confidence says so;
 * source tensors left out get `-> drop` lines with the reason, and the target tensors nothing writes
 * are listed in a comment. The text checks clean with the analysis when the proposal is right.
 */
import { splitKey } from '../keySegments';
import { layerOfKey } from './features';
import { formatSetValue } from '../parse';
import type { SetValue } from '../syntax';
import { MappingProposal } from './propose';
import { ProposedRule } from './proposedRule';
import { StackPair } from './stacks';

export interface WriteOptions {
  /** The paths written on the `source`/`target` lines (relative to the mapping file's folder). */
  sourcePath: string;
  targetPath: string;
  /** Model source sizes the proposal bound from the checkpoint: written as `set` lines, each with its evidence. */
  sets?: readonly { name: string; value: SetValue; why: string }[];
  /** Model source sizes only the code's defaults decide (no shape showed them): listed so the user checks them. */
  defaults?: readonly { name: string; value: SetValue }[];
  /**
   * Fold a rule over the layers both sides have even when their counts differ (12 vs 2): a mapping
   * made only to bind a model source's layer count from the other side (bindSizes.ts), never shown.
   */
  foldCommonLayers?: boolean;
}

export const LOW_CONFIDENCE = 0.8;
const MAX_LISTED = 100;
const MAX_ALIGN = 72;

/** One line to write: concrete at first, then folded (`*`, `{i}`). */
interface Unit {
  sources: string[];
  /** undefined: `drop`. */
  target?: string;
  transforms: string[];
  confidence: number;
  /** Sort position (target file order for rules, source file order for drops). */
  order: number;
  block: string;
  reason?: string;
  note?: string;
}

export function writeTpmap(p: MappingProposal, opts: WriteOptions): string {
  const { source, target, stacks } = p.detail;
  const layers = new LayerInfo(stacks, opts.foldCommonLayers ?? false);
  const tOrder = new Map(target.keys.map((k, i) => [k, i]));
  const sOrder = new Map(source.keys.map((k, i) => [k, i]));
  const unwritable = p.rules.filter((r) => ![...r.sources, r.target].every(writableKey));
  const rules = p.rules.filter((r) => !unwritable.includes(r));

  let units = starRules(rules, source.keys, target.keys, tOrder);
  units = foldLayers(units, (u) => layers.pairOf(u.sources, u.target));
  for (const u of units) u.block = blockOf(u.target!, layers);
  units.sort((a, b) => a.order - b.order);

  const dropped = p.unmappedSource.filter(writableKey);
  let drops = starDrops(dropped, source.keys, sOrder, p.detail.sourceReasons);
  drops = foldLayers(drops, (u) => layers.sourceStackOf(u.sources[0]));
  drops.sort((a, b) => a.order - b.order);

  const low = p.rules.filter((r) => r.confidence < LOW_CONFIDENCE).length;
  const out: string[] = [];
  out.push(`# Proposed by \`tensorport map\`: ${p.rules.length} target tensor${p.rules.length === 1 ? '' : 's'} mapped${low ? ` (${low} with low confidence: check them)` : ''}, ` +
    `${p.unmappedSource.length} source tensor${p.unmappedSource.length === 1 ? '' : 's'} dropped, ${p.unmappedTarget.length} target tensor${p.unmappedTarget.length === 1 ? '' : 's'} unmapped.`);
  out.push(`source ${quotePath(opts.sourcePath)}`);
  out.push(`target ${quotePath(opts.targetPath)}`);
  for (const [kind, side] of [['source', source], ['target', target]] as const) {
    if (side.frameworkWhy) out.push(`# The ${kind} file does not say its framework: read as ${side.framework} (${side.framework === 'paddle' ? '[in, out]' : '[out, in]'} Linear weights) because ${side.frameworkWhy}.`);
  }
  if (opts.sets?.length) {
    out.push('', `# Values the model source's defaults do not give this checkpoint: bound from the tensors it pairs and its config.json. Build the class with them:`);
    const line = (b: { name: string; value: SetValue }) => `set ${b.name} = ${formatSetValue(b.value)}`;
    const width = Math.max(...opts.sets.map((b) => line(b).length));
    for (const b of opts.sets) out.push(`${line(b).padEnd(width)}  # ${b.why}`);
  }
  if (opts.sets?.length && opts.defaults?.length) {
    out.push(`# Left at the code's defaults (no tensor's shape shows them; check them): ${opts.defaults.map((d) => `${d.name} = ${formatSetValue(d.value)}`).join(', ')}`);
  }
  for (const s of stacks) {
    if (!sameLayers(s)) {
      out.push(`# Layer counts differ: \`${s.source}\` has ${s.sourceLayers.length} layers in the source, \`${s.target}\` ${s.targetLayers.length} in the target;` +
        ' the layers both have are mapped one by one, the rest are listed below.');
    }
  }
  if (p.unmappedTarget.length) {
    out.push('');
    out.push('# Target tensors no source tensor maps to (they keep their initialisation):');
    for (const k of p.unmappedTarget.slice(0, MAX_LISTED)) {
      const t = target.tensors.get(k)!;
      out.push(`#   ${k}  ${t.dtype} [${t.shape.join(', ')}]: ${p.detail.targetReasons.get(k) ?? 'no source tensor fits'}`);
    }
    if (p.unmappedTarget.length > MAX_LISTED) out.push(`#   … and ${p.unmappedTarget.length - MAX_LISTED} more`);
  }
  let block: string | undefined;
  let chunk: Unit[] = [];
  const flush = () => {
    if (chunk.length) out.push('', ...renderBlock(chunk));
    chunk = [];
  };
  for (const u of units) {
    if (u.block !== block) flush();
    block = u.block;
    chunk.push(u);
  }
  flush();
  if (drops.length) {
    out.push('', '# Source tensors left out on purpose:');
    out.push(...renderBlock(drops));
  }
  if (unwritable.length) {
    out.push('', '# Pairings whose keys the mapping language cannot spell (blanks or punctuation in a key):');
    for (const r of unwritable) out.push(`#   ${r.sources.join(', ')} -> ${r.target}${r.transforms.map((t) => ` | ${t}`).join('')}`);
  }
  return out.join('\n') + '\n';
}

function renderBlock(units: Unit[]): string[] {
  const left = units.map((u) => (u.sources.length > 1 ? `[${u.sources.join(', ')}]` : u.sources[0]));
  // A reduce, not Math.max(...left): a block of 200,000 rules would overflow the stack as arguments.
  const width = Math.min(MAX_ALIGN, left.reduce((m, l) => (l.length <= MAX_ALIGN && l.length > m ? l.length : m), 0));
  return units.map((u, i) => {
    const rhs = `${u.target ?? 'drop'}${u.transforms.map((t) => ` | ${t}`).join('')}`;
    const low = u.confidence < LOW_CONFIDENCE ? `low confidence (${u.confidence.toFixed(2)})` : '';
    const note = u.target === undefined ? `  # ${u.reason}` : low || u.note ? `  # ${[low, u.note].filter(Boolean).join('; ')}` : '';
    return `${left[i].padEnd(width)} -> ${rhs}${note}`;
  });
}

/** Which stack (and layer segment) each key is in, and whether a stack pair's layers line up for `{i}`. */
class LayerInfo {
  private bySource = new Map<string, StackPair>();
  private byTarget = new Map<string, StackPair>();

  constructor(readonly stacks: StackPair[], private readonly foldCommon = false) {
    for (const s of stacks) {
      this.bySource.set(s.source, s);
      this.byTarget.set(s.target, s);
    }
  }

  /** The layer segment of a key or pattern, as the features read it (features.ts layerOfKey). */
  static layerOf(key: string): { stack: string; seg: number; layer: number } | undefined {
    return layerOfKey(key);
  }

  /** For a rule: the stack pair all its keys sit in, at one layer, when that pair folds. */
  pairOf(sources: string[], target: string | undefined): { count: number } | undefined {
    if (target === undefined) return undefined;
    const t = LayerInfo.layerOf(target);
    const pair = t && this.byTarget.get(t.stack);
    if (!t || !pair || !(sameLayers(pair) || this.foldCommon)) return undefined;
    for (const s of sources) {
      const l = LayerInfo.layerOf(s);
      if (!l || l.stack !== pair.source || l.layer !== t.layer) return undefined;
    }
    return { count: sameLayers(pair) ? pair.targetLayers.length : pair.targetLayers.filter((l) => pair.sourceLayers.includes(l)).length };
  }

  /** For a drop: the source stack it is in (paired or not); every layer of it must drop the same way. */
  sourceStackOf(key: string): { count: number } | undefined {
    const l = LayerInfo.layerOf(key);
    if (!l) return undefined;
    const pair = this.bySource.get(l.stack);
    return pair ? { count: pair.sourceLayers.length } : undefined;
  }

  targetPair(stack: string): StackPair | undefined {
    return this.byTarget.get(stack);
  }
}

function sameLayers(s: StackPair): boolean {
  return s.sourceLayers.length === s.targetLayers.length && s.sourceLayers.every((l, i) => l === s.targetLayers[i]);
}

/** Counts of keys under every proper prefix (`a`, `a.b` for `a.b.c`). */
function prefixCounts(keys: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of keys) {
    let at = k.indexOf('.');
    while (at >= 0) {
      const p = k.slice(0, at);
      out.set(p, (out.get(p) ?? 0) + 1);
      at = k.indexOf('.', at + 1);
    }
  }
  return out;
}

/**
 * `a.* -> b.*` where every key under `a` maps to the same tail under `b` with the same transforms and
 * nothing else lives under either. The prefix keeps the layer segment so layers can still fold.
 */
function starRules(rules: ProposedRule[], sKeys: readonly string[], tKeys: readonly string[], tOrder: Map<string, number>): Unit[] {
  const sCount = prefixCounts(sKeys);
  const tCount = prefixCounts(tKeys);
  const cand = (r: ProposedRule): string[] => {
    if (r.sources.length !== 1 || r.confidence < LOW_CONFIDENCE) return [];
    const ss = r.sources[0].split('.');
    const ts = r.target.split('.');
    const minS = Math.max(1, (LayerInfo.layerOf(r.sources[0])?.seg ?? -1) + 1);
    const minT = Math.max(1, (LayerInfo.layerOf(r.target)?.seg ?? -1) + 1);
    const out: string[] = [];
    for (let k = 1; k <= Math.min(ss.length - minS, ts.length - minT); k++) {
      if (ss[ss.length - k] !== ts[ts.length - k]) break;
      out.push(`${ss.slice(0, ss.length - k).join('.')}\u0000${ts.slice(0, ts.length - k).join('.')}\u0000${r.transforms.join('|')}`);
    }
    return out;
  };
  const cands = rules.map(cand);
  const size = new Map<string, number>();
  for (const cs of cands) for (const c of cs) size.set(c, (size.get(c) ?? 0) + 1);
  const groups = new Map<string, ProposedRule[]>();
  const units: Unit[] = [];
  rules.forEach((r, i) => {
    // The longest tail whose group covers both prefixes completely.
    const best = [...cands[i]].reverse().find((c) => {
      const [ps, pt] = c.split('\u0000');
      const n = size.get(c)!;
      return n >= 2 && n === sCount.get(ps) && n === tCount.get(pt);
    });
    if (best) groups.set(best, [...(groups.get(best) ?? []), r]);
    else units.push({ sources: r.sources, target: r.target, transforms: r.transforms, confidence: r.confidence, order: tOrder.get(r.target)!, block: '', note: r.note });
  });
  for (const [c, rs] of groups) {
    const [ps, pt] = c.split('\u0000');
    units.push({ sources: [`${ps}.*`], target: `${pt}.*`, transforms: rs[0].transforms, confidence: Math.min(...rs.map((r) => r.confidence)), note: rs[0].note,
      order: Math.min(...rs.map((r) => tOrder.get(r.target)!)), block: '' });
  }
  return units;
}

/** `a.* -> drop` for the widest module whose keys are all dropped for the same reason. */
function starDrops(keys: string[], sKeys: readonly string[], sOrder: Map<string, number>, reasons: Map<string, string>): Unit[] {
  const all = prefixCounts(sKeys);
  const reasonOf = (k: string) => reasons.get(k) ?? 'no counterpart in the target';
  const byPrefix = new Map<string, number>();
  for (const k of keys) {
    let at = k.indexOf('.');
    while (at >= 0) {
      const c = `${k.slice(0, at)}\u0000${reasonOf(k)}`;
      byPrefix.set(c, (byPrefix.get(c) ?? 0) + 1);
      at = k.indexOf('.', at + 1);
    }
  }
  const units = new Map<string, Unit>();
  for (const k of keys) {
    let chosen: string | undefined;
    let at = k.indexOf('.');
    while (at >= 0 && !chosen) {
      const p = k.slice(0, at);
      const n = byPrefix.get(`${p}\u0000${reasonOf(k)}`) ?? 0;
      if (n >= 2 && n === all.get(p)) chosen = p;
      at = k.indexOf('.', at + 1);
    }
    const pattern = chosen ? `${chosen}.*` : k;
    const u = units.get(pattern);
    if (u) u.order = Math.min(u.order, sOrder.get(k)!);
    else units.set(pattern, { sources: [pattern], transforms: [], confidence: 1, order: sOrder.get(k)!, block: '', reason: reasonOf(k) });
  }
  return [...units.values()];
}

/**
 * `{i}` folding: units identical up to the layer index, present in every layer of their stack, become
 * one. Only where both sides have the same layers — otherwise `{i}` would claim layers one side lacks.
 */
function foldLayers(units: Unit[], stackOf: (u: Unit) => { count: number } | undefined): Unit[] {
  const groups = new Map<string, { units: Unit[]; layers: Set<number>; count: number }>();
  const out: Unit[] = [];
  for (const u of units) {
    const st = stackOf(u);
    if (!st) { out.push(u); continue; }
    const layer = LayerInfo.layerOf(u.sources[0])!.layer;
    const sig = JSON.stringify([u.sources.map(withCapture), u.target && withCapture(u.target), u.transforms, u.reason]);
    const g = groups.get(sig) ?? { units: [], layers: new Set<number>(), count: st.count };
    g.units.push(u);
    g.layers.add(layer);
    groups.set(sig, g);
  }
  for (const g of groups.values()) {
    if (g.layers.size !== g.count || g.units.length !== g.count) { out.push(...g.units); continue; }
    const u = g.units[0];
    out.push({ ...u, sources: u.sources.map(withCapture), target: u.target && withCapture(u.target),
      confidence: Math.min(...g.units.map((x) => x.confidence)), order: Math.min(...g.units.map((x) => x.order)) });
  }
  return out;
}

/** The key with its layer segment written `{i}` (a `*` prefix that ends before the layer keeps its form). */
function withCapture(key: string): string {
  const l = LayerInfo.layerOf(key);
  if (!l) return key;
  // `3` → `{i}`, `encoderblock_3` → `encoderblock_{i}`.
  return splitKey(key).map((p, i) => p.sep + (i === l.seg ? p.text.replace(/\d+$/, '{i}') : p.text)).join('');
}

/** Rules are grouped by the module that holds their target: a stack (all layers, or one), or a top-level module. */
function blockOf(target: string, layers: LayerInfo): string {
  const segs = target.split('.');
  const cap = segs.indexOf('{i}');
  if (cap >= 0) return `stack ${segs.slice(0, cap).join('.')}`;
  const l = LayerInfo.layerOf(target);
  if (l && layers.targetPair(l.stack)) return `stack ${l.stack}.${l.layer}`;
  const body = segs[segs.length - 1] === '*' || /^(weight|bias|kernel|gamma|beta|scale)$/.test(segs[segs.length - 1]) ? segs.slice(0, -1) : segs;
  return `module ${body.slice(0, -1).join('.')}`;
}

/** Keys the mapping language can spell: no blanks, none of its punctuation, no empty segment. */
function writableKey(key: string): boolean {
  return key.length > 0 && !/[\s,[\]|()=#"{}*]|->/.test(key) && !splitKey(key).some((p) => p.text === '') && key !== 'drop';
}

function quotePath(p: string): string {
  if (/[\s#"]/.test(p)) {
    if (p.includes('"')) throw new Error(`${p}: a path with a double quote cannot be written on a \`source\`/\`target\` line`);
    return `"${p}"`;
  }
  return p;
}
