/**
 * Outline, folding and formatting of a mapping: directives first, then rules grouped into blocks by
 * their source pattern's stem (`encoder.layer.{i}`), the way a porting engineer reads a mapping.
 */
import { Item, MappingFile, Rule, Span } from './syntax';
import { TextEdit } from './diagnostics';
import { computeLineStarts } from './lineIndex';
import { lineOf as lineIndex } from './locate';
import { segmentText } from './keyTrie';

export interface OutlineSymbol { name: string; detail?: string; kind: 'directive' | 'block' | 'rule'; span: Span; selection: Span; children: OutlineSymbol[] }

/** The block a rule belongs to: its source up to the first capture, or its first two segments. */
export function blockOf(rule: Rule): string {
  const p = rule.sources[0];
  if (!p) return '';
  const i = p.segments.findIndex((s) => s.kind === 'capture');
  const upto = i >= 0 ? i + 1 : Math.min(2, Math.max(1, p.segments.length - 1));
  return p.segments.slice(0, upto).map(segmentText).join('');
}

export function outline(file: MappingFile): OutlineSymbol[] {
  const out: OutlineSymbol[] = [];
  let block: OutlineSymbol | undefined;
  for (const item of file.items) {
    if (item.kind !== 'rule') {
      block = undefined;
      const name = directiveLabel(item);
      out.push({ name: name.trim(), kind: 'directive', span: item, selection: item.keyword, children: [] });
      continue;
    }
    if (item.sources.length === 0) continue;
    const name = blockOf(item);
    if (!block || block.name !== name) {
      block = { name, kind: 'block', span: { start: item.start, end: item.end }, selection: item.sources[0], children: [] };
      out.push(block);
    }
    block.span = { start: block.span.start, end: item.end };
    const target = item.target ? item.target.text : '…';
    block.children.push({ name: item.sources.map((s) => s.text).join(', '), detail: `→ ${target}`, kind: 'rule', span: item, selection: item.sources[0], children: [] });
  }
  return out;
}

/** Line ranges (0-based, inclusive) to fold: each block of two or more rules, and runs of comment lines. */
export function foldingRanges(file: MappingFile): { startLine: number; endLine: number; kind?: 'comment' }[] {
  const lineOf = (o: number) => lineIndex(file, o);
  const ranges: { startLine: number; endLine: number; kind?: 'comment' }[] = [];
  for (const sym of outline(file)) {
    if (sym.kind !== 'block' || sym.children.length < 2) continue;
    const s = lineOf(sym.span.start);
    const e = lineOf(sym.span.end);
    if (e > s) ranges.push({ startLine: s, endLine: e });
  }
  const lines = file.text.split('\n');
  let start = -1;
  lines.forEach((l, i) => {
    const isComment = /^\s*#/.test(l);
    if (isComment && start < 0) start = i;
    if (!isComment && start >= 0) {
      if (i - 1 > start) ranges.push({ startLine: start, endLine: i - 1, kind: 'comment' });
      start = -1;
    }
  });
  return ranges;
}

/**
 * Aligns the arrows of each paragraph of rules (rules separated by blank or comment-only lines) and
 * normalises ` -> ` and ` | ` spacing. Lines with parse errors are left as written.
 */
export function formatMapping(file: MappingFile): TextEdit[] {
  const broken = new Set(file.errors.map((e) => lineIndex(file, e.start)));
  const rulesByLine = new Map<number, Rule>();
  for (const item of file.items) if (item.kind === 'rule') rulesByLine.set(lineIndex(file, item.start), item);
  const lines = file.text.split('\n');
  const out = [...lines];
  let para: number[] = [];
  const flush = () => {
    const rules = para.filter((l) => !broken.has(l) && rulesByLine.get(l)?.target);
    const lefts = rules.map((l) => leftText(rulesByLine.get(l)!));
    const width = Math.max(0, ...lefts.map((s) => s.length));
    rules.forEach((l, i) => {
      const r = rulesByLine.get(l)!;
      const comment = commentOf(lines[l]);
      const transforms = r.transforms.map((t) => ` | ${file.text.slice(t.start, t.end).replace(/\s*,\s*/g, ', ').replace(/\(\s+/g, '(').replace(/\s+\)/g, ')')}`).join('');
      const body = `${lefts[i].padEnd(width)} -> ${r.target!.text}${transforms}`;
      const cr = lines[l].endsWith('\r') ? '\r' : '';
      out[l] = (comment ? `${body}  ${comment}` : body) + cr;
    });
    para = [];
  };
  lines.forEach((_, i) => {
    if (rulesByLine.has(i)) para.push(i);
    else if (para.length) flush();
  });
  if (para.length) flush();
  const newText = out.join('\n');
  if (newText === file.text) return [];
  // One edit per changed line keeps cursors and undo steady in the editor.
  const edits: TextEdit[] = [];
  const starts = computeLineStarts(file.text);
  lines.forEach((l, i) => {
    if (out[i] !== l) edits.push({ start: starts[i], end: starts[i] + l.length, newText: out[i] });
  });
  return edits;
}

function directiveLabel(item: Exclude<Item, Rule>): string {
  switch (item.kind) {
    case 'source': case 'target': return `${item.kind} ${item.path?.text ?? ''}${item.className ? `::${item.className.text}` : ''}`;
    case 'set': return `set ${item.name?.text ?? ''} = ${item.value?.text ?? ''}`;
    case 'framework': return `framework ${item.side?.text ?? ''} ${item.name?.text ?? ''}`;
  }
}

function leftText(r: Rule): string {
  return r.bracketed ? `[${r.sources.map((s) => s.text).join(', ')}]` : r.sources[0].text;
}

function commentOf(line: string): string | undefined {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(i).trimEnd();
  }
  return undefined;
}

