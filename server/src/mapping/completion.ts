/**
 * Completion in a mapping: paths after `source`/`target`, source keys on the left of `->` (folded into
 * `{i}` patterns over layers), target keys on the right ranked by how well they fit the left side
 * (role, layer, shape), transforms after `|`, dtypes inside `cast(`, after `set` the model source's
 * constructor parameters (with defaults) not set yet. Every key item carries its dtype and shape.
 */
import * as path from 'node:path';
import { TensorInfo } from '../formats/tensorInfo';
import { fmtShape } from './diagnostics';
import { itemAtLine, lineOf } from './locate';
import { keyRole } from './roles';
import { expandRule } from './ruleCheck';
import { Sides } from './sides';
import { SideData } from './sideData';
import { MappingFile, Rule, Span } from './syntax';
import { stemEnd } from './keySegments';
import { CAST_DTYPES, TRANSFORM_DOCS } from './transforms';
import { describeSettable, settableValues } from './setValues';

export type CompletionKind = 'key' | 'pattern' | 'file' | 'keyword' | 'transform' | 'dtype' | 'parameter';

export interface CompletionItem {
  label: string;
  kind: CompletionKind;
  detail?: string;
  documentation?: string;
  insertText?: string;
  /** Lower sorts first. */
  sortText?: string;
  /** The text the item replaces. */
  range: Span;
}

export interface CompletionResult { items: CompletionItem[]; isIncomplete: boolean }

export interface CompletionContext {
  sides: Sides;
  /** Absolute path of the mapping file, to make file suggestions relative to it. */
  mappingPath: string;
  /** Candidate files for `source`/`target` (checkpoints and model source in the workspace). */
  files: string[];
  /** The classes a model-source file defines, for `FILE.py::` completion (the server reads the file). */
  classesOf?: (file: string) => string[];
}

const MAX_ITEMS = 2000;
const KEY_CHARS = /[A-Za-z0-9_.{}*@:/-]/;

export function completeAt(file: MappingFile, offset: number, ctx: CompletionContext): CompletionResult {
  const line = lineOf(file, offset);
  const lineStart = file.lineStarts[line];
  const before = file.text.slice(lineStart, offset);
  const code = before.split('#')[0];
  if (code.length < before.length) return { items: [], isIncomplete: false };
  const src = ctx.sides.source?.ok ? ctx.sides.source.side : undefined;
  const tgt = ctx.sides.target?.ok ? ctx.sides.target.side : undefined;

  const directive = /^\s*(source|target)\s+("?)([^"]*)$/.exec(code);
  if (directive) {
    const cls = /^(.*\.(?:py|ts))::(\w*)$/.exec(directive[3]);
    if (cls) return completeClasses(ctx, cls[1], { start: offset - cls[2].length, end: offset });
    return completePaths(ctx, { start: offset - directive[3].length, end: offset });
  }

  const setName = /^\s*set\s+(\w*)$/.exec(code);
  if (setName) {
    const range = { start: offset - setName[1].length, end: scanWordEnd(file.text, offset) };
    const taken = new Set(file.items.flatMap((i) => (i.kind === 'set' && i.name && i.start !== lineStart + code.search(/\S/) ? [i.name.text] : [])));
    return { items: settableValues(ctx.sides).filter((v) => !taken.has(v.name)).map((v, i) => ({
      label: v.name, kind: 'parameter', detail: v.default !== undefined ? `default ${v.default}` : v.bound ? `${v.bound.value}` : undefined,
      documentation: describeSettable(v), insertText: `${v.name} = `, range, sortText: String(i).padStart(4, '0'),
    })), isIncomplete: false };
  }
  const castArg = /\|\s*cast\(\s*([A-Za-z0-9]*)$/.exec(code);
  if (castArg) {
    const range = { start: offset - castArg[1].length, end: offset };
    return { items: CAST_DTYPES.map((d, i) => ({ label: d, kind: 'dtype', range, sortText: String(i).padStart(2, '0') })), isIncomplete: false };
  }
  const afterBar = /\|\s*([A-Za-z_]*)$/.exec(code);
  if (afterBar) {
    const range = { start: offset - afterBar[1].length, end: offset };
    return { items: Object.entries(TRANSFORM_DOCS).map(([name, d]) => ({
      label: name, kind: 'transform', detail: d.signature, documentation: d.doc, range,
      insertText: d.signature.includes('(') ? `${name}(` : name,
    })), isIncomplete: false };
  }

  const wordStart = scanWordStart(file.text, offset, lineStart);
  const range = { start: wordStart, end: scanWordEnd(file.text, offset) };
  const typed = file.text.slice(wordStart, offset);
  if (code.includes('->')) {
    if (!tgt) return { items: [], isIncomplete: false };
    const item = itemAtLine(file, offset);
    return completeTargetKeys(tgt, src, item?.kind === 'rule' ? item : undefined, typed, range);
  }
  const items: CompletionItem[] = [];
  if (/^\s*[a-z]*$/.test(code)) {
    for (const kw of ['source', 'target', 'set', 'framework']) items.push({ label: kw, kind: 'keyword', insertText: `${kw} `, range, sortText: `~${kw}` });
  }
  if (!src) return { items, isIncomplete: false };
  const keys = completeKeys(src, typed, range, () => 0);
  return { items: items.concat(keys.items), isIncomplete: keys.isIncomplete };
}

function scanWordStart(text: string, offset: number, lineStart: number): number {
  let i = offset;
  while (i > lineStart && KEY_CHARS.test(text[i - 1]) && !(text[i - 1] === '-' && text[i] === '>')) i--;
  // Do not swallow the `-` of `->`.
  if (text.startsWith('->', i - 1)) i++;
  return i;
}

function scanWordEnd(text: string, offset: number): number {
  let i = offset;
  while (i < text.length && KEY_CHARS.test(text[i]) && !text.startsWith('->', i)) i++;
  return i;
}

function completePaths(ctx: CompletionContext, range: Span): CompletionResult {
  const dir = path.dirname(ctx.mappingPath);
  const items = ctx.files.map((f) => {
    const rel = path.relative(dir, f).split(path.sep).join('/');
    // Model source needs `::Class`: the item stops at `::` so the class list follows.
    const source = /\.(py|ts)$/.test(f);
    return { label: source ? `${rel}::` : rel, kind: 'file' as const, detail: source ? 'model source' : path.extname(f), range,
      sortText: `${source ? 1 : 0}${rel.split('/').length}:${rel}` };
  });
  return { items: items.slice(0, MAX_ITEMS), isIncomplete: items.length > MAX_ITEMS };
}

function completeClasses(ctx: CompletionContext, written: string, range: Span): CompletionResult {
  const file = path.resolve(path.dirname(ctx.mappingPath), written);
  const classes = ctx.classesOf?.(file) ?? [];
  return { items: classes.map((c) => ({ label: c, kind: 'keyword' as const, detail: `class in ${path.basename(file)}`, range })), isIncomplete: false };
}

interface KeyGroup { pattern: string; t: TensorInfo; count: number }

/** Each side's keys folded over layers, computed once per side: completion then scans patterns, not keys. */
const groupsBySide = new WeakMap<SideData, KeyGroup[]>();

function keyGroups(side: SideData): KeyGroup[] {
  let groups = groupsBySide.get(side);
  if (groups) return groups;
  const byPattern = new Map<string, KeyGroup>();
  for (const key of side.keys) {
    const pattern = foldKey(key);
    const g = byPattern.get(pattern);
    if (g) g.count++;
    else byPattern.set(pattern, { pattern, t: side.tensors.get(key)!, count: 1 });
  }
  groups = [...byPattern.values()];
  groupsBySide.set(side, groups);
  return groups;
}

/** Keys and `{i}`-folded patterns starting with what is typed, scored by `score` (higher first). */
function completeKeys(side: SideData, typed: string, range: Span, score: (t: TensorInfo, pattern: boolean) => number): CompletionResult {
  const stem = typed.slice(0, stemEnd(typed));
  const items: CompletionItem[] = [];
  if (/(^|[./])\d+[./]|[A-Za-z]_\d+\//.test(stem) && !stem.includes('{')) {
    // A layer number is typed: the concrete keys under that prefix, found through the trie.
    for (const key of side.trie.keysWithPrefix(stem, MAX_ITEMS + 1)) {
      const t = side.tensors.get(key)!;
      items.push({ label: key, kind: 'key', detail: `${t.dtype} ${fmtShape(t.shape)}`, range, sortText: sortKey(score(t, false), 1, key) });
    }
  } else {
    const foldedStem = foldKey(stem);
    for (const g of keyGroups(side)) {
      if (!g.pattern.startsWith(stem) && !g.pattern.startsWith(foldedStem)) continue;
      const layered = g.pattern.includes('{i}');
      items.push({ label: g.pattern, kind: layered ? 'pattern' : 'key', detail: `${g.t.dtype} ${fmtShape(g.t.shape)}${layered ? ` × ${g.count}` : ''}`,
        range, sortText: sortKey(score(g.t, layered), layered ? 0 : 1, g.pattern) });
    }
  }
  items.sort((a, b) => (a.sortText! < b.sortText! ? -1 : 1));
  return { items: items.slice(0, MAX_ITEMS), isIncomplete: items.length > MAX_ITEMS };
}

function sortKey(score: number, tier: number, label: string): string {
  return `${String(999 - Math.min(999, Math.max(0, Math.round(score)))).padStart(3, '0')}${tier}${label}`;
}

/**
 * Layer indices → `{i}`, the first number only: `encoder.layer.3.attention` → `encoder.layer.{i}.attention`,
 * and in a `/` path a numbered segment too (`Transformer/encoderblock_3/…` → `…/encoderblock_{i}/…`).
 */
export function foldKey(key: string): string {
  return key.replace(/(^|[./])(\d+)(?=[./]|$)|(?<=(?:^|\/)[A-Za-z]\w*?_)(\d+)(?=\/)/, (_m: string, sep: string | undefined) => (sep !== undefined ? `${sep}{i}` : '{i}'));
}

function completeTargetKeys(tgt: SideData, src: SideData | undefined, rule: Rule | undefined, typed: string, range: Span): CompletionResult {
  const inst = rule && src ? expandRule(rule, src)[0] : undefined;
  const srcTensor = inst ? src!.tensors.get(inst.sources[0]) : undefined;
  const usesCapture = rule?.sources[0]?.segments.some((s) => s.kind === 'capture') ?? false;
  const role = srcTensor ? keyRole(srcTensor.key) : undefined;
  const score = (t: TensorInfo, pattern: boolean): number => {
    if (!srcTensor || !role) return 0;
    let s = 0;
    const r = keyRole(t.key);
    if (r.role && r.role === role.role) s += 40;
    if (r.normOrder && r.normOrder === role.normOrder) s += 15;
    if (r.param && r.param === role.param) s += 20;
    if (r.layer !== undefined && r.layer === role.layer) s += 10;
    const a = srcTensor.shape;
    const b = t.shape;
    if (a.length === b.length && a.every((d, i) => d === b[i])) s += 30;
    else if (a.length === 2 && b.length === 2 && a[0] === b[1] && a[1] === b[0]) s += 25;
    else if (a.filter((d) => d !== 1).join() === b.filter((d) => d !== 1).join()) s += 15;
    if (pattern === usesCapture) s += 10;
    return s;
  };
  return completeKeys(tgt, typed, range, score);
}
