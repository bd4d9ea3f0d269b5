/**
 * The error-tolerant tpmap parser: line by line, it never throws and always returns a tree. A line that
 * is none of the spec's forms yields a `parse-error` saying what was expected, plus whatever partial
 * node could be recovered, so completion and the other lines' diagnostics keep working while typing.
 */
import { computeLineStarts } from './lineIndex';
import { splitKey } from './keySegments';
import {
  FrameworkDirective, Item, KeyPattern, MappingFile, Rule, Segment, SetDirective, SetValue, SideDirective, SyntaxError, Token, Transform,
} from './syntax';

export const TRANSFORM_NAMES = ['transpose', 'permute', 'reshape', 'squeeze', 'unsqueeze', 'chunk', 'cat', 'cast'] as const;

export function parseMapping(text: string): MappingFile {
  const lineStarts = computeLineStarts(text);
  return { text, lineStarts, ...parseLines(text, lineStarts, 0, lineStarts.length) };
}

/** Parses lines [from, to) of a text: the unit of work of both the full and the incremental parse. */
export function parseLines(text: string, lineStarts: number[], from: number, to: number): { items: Item[]; errors: SyntaxError[] } {
  const items: Item[] = [];
  const errors: SyntaxError[] = [];
  for (let i = from; i < Math.min(to, lineStarts.length); i++) {
    const start = lineStarts[i];
    let end = i + 1 < lineStarts.length ? lineStarts[i + 1] - 1 : text.length;
    if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
    const item = parseLine(text, start, codeEnd(text, start, end), errors);
    if (item) items.push(item);
  }
  return { items, errors };
}

/** Where the code part of a line ends: at a `#` that is not inside a double-quoted string. */
function codeEnd(text: string, start: number, end: number): number {
  let quoted = false;
  for (let i = start; i < end; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if (c === '#' && !quoted) return i;
  }
  return end;
}

class Scanner {
  pos: number;
  constructor(readonly text: string, start: number, readonly end: number) { this.pos = start; }
  skipSpace(): void {
    while (this.pos < this.end && (this.text[this.pos] === ' ' || this.text[this.pos] === '\t')) this.pos++;
  }
  atEnd(): boolean { this.skipSpace(); return this.pos >= this.end; }
  peek(s: string): boolean { this.skipSpace(); return this.text.startsWith(s, this.pos) && this.pos + s.length <= this.end; }
  eat(s: string): Token | undefined {
    if (!this.peek(s)) return undefined;
    const t = { start: this.pos, end: this.pos + s.length, text: s };
    this.pos += s.length;
    return t;
  }
  /** A run of characters allowed in keys and words: anything but blanks and the language's punctuation. */
  word(): Token | undefined {
    this.skipSpace();
    const start = this.pos;
    while (this.pos < this.end) {
      const c = this.text[this.pos];
      if (c === ' ' || c === '\t' || c === ',' || c === '[' || c === ']' || c === '|' || c === '(' || c === ')' || c === '=') break;
      if (c === '-' && this.text[this.pos + 1] === '>') break;
      this.pos++;
    }
    return this.pos > start ? { start, end: this.pos, text: this.text.slice(start, this.pos) } : undefined;
  }
  rest(): Token | undefined {
    this.skipSpace();
    let end = this.end;
    while (end > this.pos && (this.text[end - 1] === ' ' || this.text[end - 1] === '\t')) end--;
    if (end <= this.pos) return undefined;
    const t = { start: this.pos, end, text: this.text.slice(this.pos, end) };
    this.pos = this.end;
    return t;
  }
}

function parseLine(text: string, start: number, end: number, errors: SyntaxError[]): Item | undefined {
  const s = new Scanner(text, start, end);
  if (s.atEnd()) return undefined;
  const first = s.word();
  const keywordFollows = () => s.pos >= end || text[s.pos] === ' ' || text[s.pos] === '\t';
  if (first && (first.text === 'source' || first.text === 'target') && keywordFollows()) return parseSide(s, first, errors);
  if (first && first.text === 'set' && keywordFollows()) return parseSet(s, first, errors);
  if (first && first.text === 'framework' && keywordFollows()) return parseFramework(s, first, errors);
  s.pos = start;
  return parseRule(s, errors);
}

function parseSide(s: Scanner, keyword: Token, errors: SyntaxError[]): SideDirective {
  const kind = keyword.text as 'source' | 'target';
  const item: SideDirective = { kind, keyword, start: keyword.start, end: keyword.end };
  const rest = s.rest();
  if (!rest) {
    errors.push({ start: keyword.start, end: keyword.end, message: `expected a path after \`${kind}\` (a checkpoint, or FILE.py::Class)` });
    return item;
  }
  item.end = rest.end;
  let raw = rest.text;
  let offset = rest.start;
  if (raw.startsWith('"')) {
    const close = raw.indexOf('"', 1);
    if (close < 0) {
      errors.push({ start: rest.start, end: rest.end, message: 'unterminated string: expected a closing `"`' });
      raw = raw.slice(1);
      offset += 1;
    } else {
      const after = raw.slice(close + 1);
      if (after.trim() && !after.trimStart().startsWith('::')) {
        errors.push({ start: rest.start + close + 1, end: rest.end, message: 'unexpected text after the quoted path' });
      }
      const cls = after.trimStart().startsWith('::') ? after.trimStart().slice(2).trim() : '';
      item.path = { start: offset + 1, end: offset + close, text: raw.slice(1, close) };
      if (cls) {
        const at = rest.start + raw.lastIndexOf(cls);
        item.className = { start: at, end: at + cls.length, text: cls };
      }
      return item;
    }
  }
  const sep = raw.lastIndexOf('::');
  if (sep >= 0) {
    item.path = { start: offset, end: offset + sep, text: raw.slice(0, sep) };
    const cls = raw.slice(sep + 2);
    if (cls) item.className = { start: offset + sep + 2, end: offset + raw.length, text: cls };
    else errors.push({ start: offset + sep, end: offset + raw.length, message: 'expected a class name after `::`' });
  } else {
    item.path = { start: offset, end: offset + raw.length, text: raw };
  }
  return item;
}

function parseSet(s: Scanner, keyword: Token, errors: SyntaxError[]): SetDirective {
  const item: SetDirective = { kind: 'set', keyword, start: keyword.start, end: keyword.end };
  const name = s.word();
  if (!name || !/^[A-Za-z_][A-Za-z0-9_.]*$/.test(name.text)) {
    errors.push({ ...(name ?? keyword), message: `expected \`set NAME = ${SET_VALUE_FORMS}` });
    return item;
  }
  item.name = name;
  item.end = name.end;
  const eq = s.eat('=');
  const value = eq ? s.rest() : undefined;
  const parsed = value ? setValue(value.text) : undefined;
  if (!eq || !value || parsed === undefined) {
    const at = value ?? eq ?? name;
    errors.push({ start: at.start, end: at.end, message: `expected \`set ${name.text} = ${SET_VALUE_FORMS}` });
    return item;
  }
  item.value = { ...value, value: parsed };
  item.end = value.end;
  return item;
}

const SET_VALUE_FORMS = 'VALUE` (an integer, a float such as `1e-6`, `True`/`False` or a quoted string)';

/**
 * What `set` takes: what a constructor takes from a config — an integer, a float (`1e-6`, `0.5`), a
 * boolean (Python's `True`/`False` or JSON's `true`/`false`) or a string in double or single quotes.
 */
export function setValue(text: string): SetValue | undefined {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return Number(text);
  if (text === 'True' || text === 'true') return true;
  if (text === 'False' || text === 'false') return false;
  const q = /^"([^"]*)"$|^'([^']*)'$/.exec(text);
  if (q) return q[1] ?? q[2];
  return undefined;
}

/** A `set` value written back as the line would say it: strings quoted, booleans Python's way. */
export function formatSetValue(v: SetValue): string {
  if (typeof v === 'string') return v.includes('"') ? `'${v}'` : `"${v}"`;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  // 1e-6, not 0.000001: how configs and Python print an epsilon.
  return !Number.isInteger(v) && v !== 0 && Math.abs(v) < 1e-3 ? v.toExponential() : String(v);
}

const FRAMEWORKS = ['torch', 'paddle', 'jax', 'tf', 'keras', 'tfjs', 'mlx', 'onnx', 'gguf'];

function parseFramework(s: Scanner, keyword: Token, errors: SyntaxError[]): FrameworkDirective {
  const item: FrameworkDirective = { kind: 'framework', keyword, start: keyword.start, end: keyword.end };
  const side = s.word();
  if (!side || (side.text !== 'source' && side.text !== 'target')) {
    errors.push({ ...(side ?? keyword), message: 'expected `framework source|target NAME`' });
    return item;
  }
  item.side = side;
  item.end = side.end;
  const name = s.word();
  if (!name || !FRAMEWORKS.includes(name.text)) {
    errors.push({ ...(name ?? side), message: `expected a framework: ${FRAMEWORKS.join(', ')}` });
    if (name) { item.name = name; item.end = name.end; }
    return item;
  }
  item.name = name;
  item.end = name.end;
  if (!s.atEnd()) errors.push({ start: s.pos, end: s.end, message: 'unexpected text after the framework name' });
  return item;
}

function parseRule(s: Scanner, errors: SyntaxError[]): Rule {
  s.skipSpace();
  const errorsBefore = errors.length;
  const rule: Rule = { kind: 'rule', sources: [], bracketed: false, transforms: [], start: s.pos, end: s.pos };
  const open = s.eat('[');
  if (open) {
    rule.bracketed = true;
    for (;;) {
      const k = s.word();
      if (k) rule.sources.push(keyPattern(k, errors));
      if (s.eat(',')) continue;
      if (s.eat(']')) break;
      errors.push({ start: s.pos, end: Math.max(s.pos + 1, s.end), message: 'expected `,` or `]` in the source list' });
      rule.end = s.end;
      return rule;
    }
  } else {
    const k = s.word();
    if (k) rule.sources.push(keyPattern(k, errors));
  }
  rule.end = rule.sources.at(-1)?.end ?? s.pos;
  if (rule.sources.length === 0) {
    errors.push({ start: s.pos, end: Math.max(s.pos + 1, s.end), message: 'expected a source key, a `[…]` list of keys, or a directive (source, target, set, framework)' });
    return rule;
  }
  const arrow = s.eat('->');
  if (!arrow && errors.length > errorsBefore) return rule; // One complaint per half-typed line is enough.
  if (!arrow) {
    const at = s.atEnd() ? rule.end : s.pos;
    errors.push({ start: at, end: s.atEnd() ? rule.end : s.end, message: 'expected `->` and a target key (or `drop`)' });
    return rule;
  }
  rule.arrow = arrow;
  rule.end = arrow.end;
  const target = s.word();
  if (!target) {
    errors.push({ start: arrow.start, end: arrow.end, message: 'expected a target key or `drop` after `->`' });
    return rule;
  }
  rule.target = target.text === 'drop' ? { kind: 'drop', ...target } : keyPattern(target, errors);
  rule.end = target.end;
  while (!s.atEnd()) {
    const bar = s.eat('|');
    if (!bar) {
      errors.push({ start: s.pos, end: s.end, message: 'expected `| transform` or the end of the line' });
      break;
    }
    rule.end = bar.end;
    const t = parseTransform(s, bar.start, errors);
    if (!t) break;
    rule.transforms.push(t);
    rule.end = t.end;
  }
  if (rule.bracketed && !rule.transforms.some((t) => t.name.text === 'cat')) {
    errors.push({ start: rule.start, end: rule.sources.at(-1)!.end + 1, message: 'a `[…]` list of source keys needs a `| cat(DIM)` transform' });
  }
  return rule;
}

function parseTransform(s: Scanner, barStart: number, errors: SyntaxError[]): Transform | undefined {
  const name = s.word();
  if (!name) {
    errors.push({ start: barStart, end: barStart + 1, message: `expected a transform after \`|\`: ${TRANSFORM_NAMES.join(', ')}` });
    return undefined;
  }
  const t: Transform = { name, args: [], start: name.start, end: name.end };
  if (!(TRANSFORM_NAMES as readonly string[]).includes(name.text)) {
    errors.push({ ...name, message: `unknown transform \`${name.text}\`: expected one of ${TRANSFORM_NAMES.join(', ')}` });
  }
  const open = s.eat('(');
  if (!open) return t;
  for (;;) {
    if (s.peek(')')) break;
    const a = s.word();
    if (!a) break;
    t.args.push(/^-?\d+$/.test(a.text) ? { ...a, value: Number(a.text) } : a);
    if (!s.eat(',')) break;
  }
  const close = s.eat(')');
  if (!close) {
    errors.push({ start: open.start, end: s.pos, message: `expected \`)\` to close \`${name.text}(\`` });
    t.parens = { start: open.start, end: s.pos };
    t.end = s.pos;
    return t;
  }
  t.parens = { start: open.start, end: close.end };
  t.end = close.end;
  return t;
}

/** A capture, the whole segment or inside it: `{i}`, `encoderblock_{i}`, `Dense_{i}`. */
const CAPTURE = /^([^{}*]*)\{([A-Za-z_][A-Za-z0-9_]*)\}([^{}*]*)$/;

function keyPattern(tok: Token, errors: SyntaxError[]): KeyPattern {
  const text = tok.text;
  const segments: Segment[] = [];
  const parts = splitKey(text);
  parts.forEach(({ sep, text: p, start }, i) => {
    const last = i === parts.length - 1;
    const abs = tok.start + start;
    const c = p.includes('{') || p.includes('}') ? CAPTURE.exec(p) : null;
    if (p === '') {
      errors.push({ start: abs, end: abs + 1, message: last ? `expected a key segment after \`${sep}\`` : `empty key segment (\`${sep}${parts[i + 1].sep}\`)` });
    } else if (p === '*') {
      if (!last) errors.push({ start: abs, end: abs + 1, message: '`*` may only be the last segment of a key' });
      segments.push({ kind: 'star', sep });
    } else if (c) {
      segments.push({ kind: 'capture', sep, name: c[2], ...(c[1] ? { prefix: c[1] } : {}), ...(c[3] ? { suffix: c[3] } : {}) });
    } else {
      if (p.includes('{') || p.includes('}') || p.includes('*')) {
        errors.push({ start: abs, end: abs + p.length, message: `\`${p}\`: a capture is written \`{name}\`, once a segment (\`{i}\`, \`block_{i}\`); \`*\` is a whole last segment` });
      }
      segments.push({ kind: 'literal', sep, text: p });
    }
  });
  return { start: tok.start, end: tok.end, text, segments };
}
