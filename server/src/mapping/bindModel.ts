/**
 * Binds a model source's open dimensions against the other side of a mapping. The constructor runs
 * once symbolically; then every rule that pairs a concrete checkpoint tensor with an inferred one is
 * an equation per dimension (`embed_dim*3 = 2304` gives `embed_dim = 768`), and every `{i}` over a
 * module list whose length is open counts the other side's layers. Rules vote: a symbol takes the
 * value most pairings give (the first in file order on a tie), and a pairing that contradicts what
 * is already bound votes for nothing, so one wrong rule cannot skew the others. A rule that needs
 * another value is then a plain shape mismatch, which the rule check reports naming the symbol and
 * both values. `set` lines and a config.json come first and are never overridden; constructor
 * defaults come last, for symbols nothing else decided.
 */
import { CheckpointInfo } from '../formats/tensorInfo';
import { instantiate, KeyTrie } from './keyTrie';
import { lineOf } from './locate';
import type { SideData } from './sideData';
import { KeyPattern, MappingFile, Rule, Segment, isDrop } from './syntax';
import { Dim, solveDim, symbolsOf } from '../source/dims';
import { Inferred, inferTensors } from '../source/infer';
import { Binding } from '../source/interpret';
import { LoadedModel } from '../source/loadModel';
import { sourceCheckpointInfo } from '../source/sourceInfo';
import { traceSymbolic } from '../source/symbolicTransforms';

export interface HardBinding { value: Binding; from: string }

export interface BindInput {
  model: LoadedModel;
  /** The path as the mapping wrote it (`paddle_vit.py::VisionTransformer`). */
  written: string;
  role: 'source' | 'target';
  file: MappingFile;
  /** The other side when it loaded: a checkpoint, whose shapes are concrete. */
  other?: SideData;
  /** `set` lines, then config.json: fixed values. */
  hard: ReadonlyMap<string, HardBinding>;
}

const MAX_ROUNDS = 3;

/** How a binding the constructor's default gave is described: the one kind a checkpoint may overrule. */
export const DEFAULT_FROM = `the constructor's default`;
const infoCache = new Map<string, CheckpointInfo>();
const passCache = new Map<string, Inferred>();

function infer(model: LoadedModel, bindings: ReadonlyMap<string, Binding>, provisional: boolean): Inferred {
  const key = `${model.stamp}\0${provisional}\0${JSON.stringify([...bindings].sort())}`;
  let r = passCache.get(key);
  if (!r) {
    r = inferTensors(model, { bindings, provisional });
    if (passCache.size > 64) passCache.clear();
    passCache.set(key, r);
  }
  return r;
}

export function bindModelSide(input: BindInput): CheckpointInfo {
  const { model, role, file, other, hard } = input;
  const hardValues = new Map<string, Binding>([...hard].map(([k, v]) => [k, v.value]));
  const first = infer(model, hardValues, true);
  const known = new Map<string, number>();
  const from = new Map<string, string>();
  for (const [k, v] of hard) if (typeof v.value === 'number') { known.set(k, v.value); from.set(k, v.from); }

  const rules = file.items.filter((i): i is Rule & { target: KeyPattern } => i.kind === 'rule' && !!i.target && !isDrop(i.target) && i.sources.length > 0);
  const line = (r: Rule) => lineOf(file, r.start) + 1;
  if (other) {
    bindCounts(first, rules, role, other, known, from, line);
    bindDims(first, rules, role, other, known, from, line);
  }
  for (const [sym, s] of first.symbols) {
    if (!known.has(sym) && s.default !== undefined && !hard.has(sym)) from.set(sym, DEFAULT_FROM);
  }

  const finalBindings = new Map<string, Binding>([...hardValues, ...known]);
  const key = `${model.stamp}\0${input.written}\0${JSON.stringify([...finalBindings].sort())}\0${JSON.stringify([...from].sort())}`;
  const hit = infoCache.get(key);
  if (hit) return hit;
  const final = infer(model, finalBindings, false);
  // Shapes as written, with no value substituted: what messages about a symbol quote.
  const declared = infer(model, new Map(), true);
  const bindings: Record<string, { value: number; from: string }> = {};
  for (const [sym, f] of from) {
    const v = known.get(sym) ?? first.symbols.get(sym)?.default;
    if (v !== undefined) bindings[sym] = { value: v, from: f };
  }
  const info = sourceCheckpointInfo(model, input.written, final, declared, bindings);
  if (infoCache.size > 64) infoCache.clear();
  infoCache.set(key, info);
  return info;
}

/** The capture that follows `path` in `pat` (`encoder.layers.{i}.…` after `encoder.layers`), if any. */
function captureAfter(segments: readonly Segment[], path: string[]): string | undefined {
  if (segments.length <= path.length) return undefined;
  for (let i = 0; i < path.length; i++) {
    const s = segments[i];
    if (s.kind === 'literal' ? s.text !== path[i] : !wholeCapture(s) || !/^\d+$/.test(path[i])) return undefined;
  }
  const next = segments[path.length];
  return wholeCapture(next) ? next.name : undefined;
}

/** A model's ModuleList index is a whole segment: `{i}`, not `block_{i}`. */
function wholeCapture(s: Segment): s is Segment & { kind: 'capture' } {
  return s.kind === 'capture' && !s.prefix && !s.suffix;
}

function bindCounts(first: Inferred, rules: (Rule & { target: KeyPattern })[], role: 'source' | 'target', other: SideData,
  known: Map<string, number>, from: Map<string, string>, line: (r: Rule) => number): void {
  for (const list of first.lists) {
    if ([...symbolsOf(list.count)].every((s) => known.has(s))) continue;
    const path = list.path.split('.');
    for (const rule of rules) {
      const mine = role === 'target' ? rule.target : rule.sources[0];
      const theirs = role === 'target' ? rule.sources[0] : rule.target;
      const capture = captureAfter(mine.segments, path);
      if (!capture) continue;
      const values = new Set(other.trie.match(theirs.segments).map((m) => m.bindings[capture]).filter((v) => v !== undefined));
      if (values.size === 0) continue;
      const n = Math.max(...values) + 1;
      const r = solveDim(list.count, n, known, first.symbols);
      if (r.kind === 'bound') {
        known.set(r.sym, r.value);
        from.set(r.sym, `line ${line(rule)}: \`{${capture}}\` takes ${n} value${n === 1 ? '' : 's'} in ${other.written}`);
      }
      break;
    }
  }
}

function bindDims(first: Inferred, rules: (Rule & { target: KeyPattern })[], role: 'source' | 'target', other: SideData,
  known: Map<string, number>, from: Map<string, string>, line: (r: Rule) => number): void {
  const mine = new Map(first.tensors.map((t) => [t.key, t]));
  const myTrie = role === 'source' ? new KeyTrie(first.tensors.map((t) => t.key)) : undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const votes = new Map<string, Map<number, { count: number; from: string }>>();
    for (const rule of rules) {
      const trie = role === 'target' ? other.trie : myTrie!;
      for (const m of trie.match(rule.sources[0].segments)) {
        const srcKeys = rule.sources.map((p) => instantiate(p.segments, m.bindings, m.tail));
        const tgtKey = instantiate(rule.target.segments, m.bindings, m.tail);
        if (tgtKey === undefined || srcKeys.some((k) => k === undefined)) continue;
        let out: Dim[] | undefined;
        let want: Dim[] | undefined;
        if (role === 'target') {
          const srcs = srcKeys.map((k) => other.tensors.get(k!));
          const t = mine.get(tgtKey);
          if (!t?.shape || srcs.some((s) => !s)) continue;
          out = t.shape;
          want = traceSymbolic(rule.transforms, srcs.map((s) => s!.shape));
        } else {
          const srcs = srcKeys.map((k) => mine.get(k!));
          const t = other.tensors.get(tgtKey);
          if (!t || srcs.some((s) => !s?.shape)) continue;
          out = traceSymbolic(rule.transforms, srcs.map((s) => s!.shape!));
          want = t.shape;
        }
        if (!out || !want || out.length !== want.length) continue;
        const solved = out.map((d, i) => (typeof want![i] === 'number' ? solveDim(d, want![i] as number, known, first.symbols) : undefined));
        if (solved.some((r) => r?.kind === 'conflict')) continue;
        const concrete = role === 'target' ? srcKeys[0] : tgtKey;
        for (const r of solved) {
          if (r?.kind !== 'bound') continue;
          const perValue = votes.get(r.sym) ?? new Map<number, { count: number; from: string }>();
          votes.set(r.sym, perValue);
          const v = perValue.get(r.value);
          if (v) v.count++;
          else perValue.set(r.value, { count: 1, from: `line ${line(rule)}: \`${concrete}\` [${want.join(', ')}]${r.ambiguous ? ' (one of several values that fit)' : ''}` });
        }
      }
    }
    if (votes.size === 0) break;
    for (const [sym, perValue] of votes) {
      let best: [number, { count: number; from: string }] | undefined;
      for (const e of perValue) if (!best || e[1].count > best[1].count) best = e;
      known.set(sym, best![0]);
      from.set(sym, best![1].from);
    }
  }
}
