/**
 * A fused tensor split by a conversion script — timm's `qkv.weight` sliced `[:h]`, `[h:2*h]`, `[-h:]`,
 * OLMo's `att_proj` through `torch.split(w, [d, kv, kv])`, CLIP's `in_proj_weight.chunk(3)` — checked
 * part by part against the checkpoints: each part's size against its target's, the parts together
 * against the fused tensor (all of it, no row twice), and their order against the roles their targets
 * name (q before k before v). The names in the bounds (`config.hidden_size`, `dim`) are solved from
 * the shapes; a part the script or the checkpoints leave unclear is not judged.
 */
import { DiagnosticCode, Severity } from '../mapping/diagnostics';
import { Role, keyRole } from '../mapping/roles';
import { SideData } from '../mapping/sideData';
import { Pos } from '../source/ir';
import { FusedSlice, KeyLiteral, KeyPair } from './keyLiterals';
import { Linear, evaluate, minus } from './linearExpr';
import { segmentsOf } from './pairVariants';

export interface SlicePair { pair: KeyPair; src: KeyLiteral; tgt: KeyLiteral }
export interface SliceDiagnostic extends Pos { severity: Severity; code: DiagnosticCode; message: string; key?: string }

interface Part { p: SlicePair; s: FusedSlice; target: string; want?: number; start?: number; end?: number }

const ORDER: Role[] = ['q', 'k', 'v'];

export function checkFusedSlices(pairs: readonly SlicePair[], src?: SideData, tgt?: SideData): SliceDiagnostic[] {
  if (!src || !tgt) return [];
  const byRead = new Map<number, SlicePair[]>();
  for (const g of pairs) {
    const part = g.pair.flow?.part;
    if (!part || g.pair.flow?.shards) continue;
    byRead.set(part.read, [...(byRead.get(part.read) ?? []), g]);
  }
  const out: SliceDiagnostic[] = [];
  // One slice alone is a crop (`w[:, :8]`), not a split: nothing says what the rest was for.
  for (const group of byRead.values()) if (group.length > 1) out.push(...checkOne(group, src, tgt));
  return out;
}

function checkOne(group: SlicePair[], src: SideData, tgt: SideData): SliceDiagnostic[] {
  const match = src.trie.match(segmentsOf(group[0].src.pattern))[0];
  const fused = match && src.tensors.get(match.key);
  const dim = group[0].pair.flow!.part!.dim;
  if (!fused || group.some((g) => g.pair.flow!.part!.dim !== dim) || dim >= fused.shape.length) return [];
  const total = fused.shape[dim];
  const parts: Part[] = group.map((p) => {
    const target = p.tgt.pattern.replace(/\{(\w+)\}/g, (m, name: string) => (match.bindings[name] === undefined ? m : String(match.bindings[name])));
    const t = tgt.tensors.get(target);
    return { p, s: p.pair.flow!.part!, target, want: t && dim < t.shape.length ? t.shape[dim] : undefined };
  });
  const known = solve(parts, total);
  for (const part of parts) Object.assign(part, bounds(part.s, total, known));
  const unit = dim === 0 ? 'rows' : dim === 1 ? 'columns' : `entries along dim ${dim}`;
  const span = (a: number, b: number) => `${unit} ${a}–${b}`;
  const out: SliceDiagnostic[] = [];
  const diag = (part: Part, severity: Severity, code: DiagnosticCode, message: string) => out.push({ ...part.s.pos, severity, code, message, key: part.target });

  // Sizes: each part against the target it is written to.
  for (const part of parts) {
    if (part.start === undefined || part.end === undefined || part.want === undefined) continue;
    const n = part.end - part.start;
    if (n !== part.want) diag(part, 'error', 'shape-mismatch', `\`${part.s.text}\` takes ${span(part.start, part.end)} (${n}) of \`${match.key}\` [${fused.shape.join(', ')}], but \`${part.target}\` has ${part.want} ${unit}`);
  }
  if (out.length || parts.some((p) => p.start === undefined || p.end === undefined)) return out;

  // Coverage: the parts, in order, take every row of the fused tensor once.
  const sorted = [...parts].sort((a, b) => a.start! - b.start! || a.end! - b.end!);
  let at = 0;
  for (const part of sorted) {
    if (part.start! < at) diag(part, 'error', 'shape-mismatch', `\`${part.s.text}\` takes ${span(part.start!, part.end!)} of \`${match.key}\`, which overlap ${span(part.start!, Math.min(at, part.end!))} already written to another key`);
    else if (part.start! > at) diag(part, 'error', 'shape-mismatch', `${span(at, part.start!)} of \`${match.key}\` [${fused.shape.join(', ')}] go to no key: the part before \`${part.s.text}\` ends short of it`);
    at = Math.max(at, part.end!);
  }
  if (!out.length && at !== total && sorted.length > 1) diag(sorted.at(-1)!, 'error', 'shape-mismatch', `${span(at, total)} of \`${match.key}\` [${fused.shape.join(', ')}] go to no key: the parts end at ${at}`);
  if (out.length) return out;

  // Order: q, k, v along the fused tensor, as the targets name them.
  const roles = sorted.map((p) => keyRole(p.target).role);
  if (roles.every((r) => r && ORDER.includes(r)) && new Set(roles).size === roles.length) {
    const expected = [...roles].sort((a, b) => ORDER.indexOf(a!) - ORDER.indexOf(b!));
    sorted.forEach((part, i) => {
      if (roles[i] !== expected[i]) diag(part, 'warning', 'suspicious-pairing', `\`${part.s.text}\` takes ${span(part.start!, part.end!)} of \`${match.key}\`, where a fused ${expected.join('/')} tensor holds ${expected[i]}, but writes \`${part.target}\` (${roles[i]}): the parts are out of ${expected.join(', ')} order`);
    });
  }
  return out;
}

/** A bound as a value: negative ones count from the end, as Python's do. */
function at(v: Linear | undefined, total: number, known: ReadonlyMap<string, number>, fallback: number): number | undefined {
  if (!v) return fallback;
  const x = evaluate(v, known);
  return x === undefined ? undefined : x < 0 ? total + x : x;
}

function bounds(s: FusedSlice, total: number, known: ReadonlyMap<string, number>): { start?: number; end?: number } {
  if (s.kind === 'range') return { start: at(s.start, total, known, 0), end: at(s.end, total, known, total) };
  if (s.kind === 'chunk') {
    // torch.chunk: parts of ceil(total / n), the last one shorter.
    const size = Math.ceil(total / s.parts!);
    return { start: Math.min(total, s.index! * size), end: Math.min(total, (s.index! + 1) * size) };
  }
  const sizes = s.sizes!.map((x) => evaluate(x, known));
  if (sizes.some((x) => x === undefined) || s.index! >= sizes.length) return {};
  const start = sizes.slice(0, s.index!).reduce((a, b) => a! + b!, 0)!;
  return { start, end: start + sizes[s.index!]! };
}

/**
 * The names in the bounds, from the targets' sizes: each part whose size has one unknown name gives
 * it a value; the value most parts agree on wins, so one wrong slice does not hide behind it.
 */
function solve(parts: Part[], total: number): Map<string, number> {
  const known = new Map<string, number>();
  for (let round = 0; round < 4; round++) {
    const votes = new Map<string, Map<number, number>>();
    for (const part of parts) {
      if (part.want === undefined) continue;
      const size = sizeOf(part.s, total);
      for (const eq of size) {
        const unknown = Object.entries(eq.terms).filter(([n]) => !known.has(n));
        if (unknown.length !== 1) continue;
        const [name, coef] = unknown[0];
        const rest = evaluate({ c: eq.c, terms: Object.fromEntries(Object.entries(eq.terms).filter(([n]) => n !== name)) }, known);
        if (rest === undefined) continue;
        const value = (part.want - rest) / coef;
        if (!Number.isInteger(value) || value <= 0) continue;
        const v = votes.get(name) ?? new Map<number, number>();
        votes.set(name, v);
        v.set(value, (v.get(value) ?? 0) + 1);
      }
    }
    if (!votes.size) break;
    for (const [name, v] of votes) known.set(name, [...v].sort((a, b) => b[1] - a[1])[0][0]);
  }
  return known;
}

/** The part's size as linear expressions, one per reading of its bounds' signs (negative bounds count from the end). */
function sizeOf(s: FusedSlice, total: number): Linear[] {
  if (s.kind === 'split') return s.index! < s.sizes!.length ? [s.sizes![s.index!]] : [];
  if (s.kind === 'chunk') return [];
  const fromEnd = (v: Linear | undefined, dflt: number): Linear => {
    if (!v) return { c: dflt, terms: {} };
    const negative = v.c <= 0 && Object.values(v.terms).every((x) => x < 0) && (v.c < 0 || Object.keys(v.terms).length > 0);
    return negative ? { c: v.c + total, terms: v.terms } : v;
  };
  return [minus(fromEnd(s.end, total), fromEnd(s.start, 0))];
}
