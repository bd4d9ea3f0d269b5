/**
 * A Python file cut at its top-level statements without parsing it: a tokenizer-grade scan that
 * follows strings (single, triple, prefixed), comments, brackets and backslash continuations, so a
 * block starts only where a statement at column 0 starts. Large modeling files (transformers' run to
 * thousands of lines) are then parsed a class at a time, and only the classes a model reaches: most of
 * a file (other heads, forward passes' helpers, docstrings) is never parsed at all.
 */

export interface Block {
  /** Byte range in the text (UTF-16 code units, as JS strings index). */
  start: number;
  end: number;
  /** 0-based line of `start`. */
  row: number;
  /** A class or function definition (decorators included) and its name; else a plain statement. */
  kind: 'class' | 'def' | 'other';
  name?: string;
}

const CONTINUATION = /^(except|else|elif|finally)\b/;
const HEADER = /^(?:async[ \t]+)?(def|class)[ \t]+([A-Za-z_]\w*)/;

/**
 * The blocks in order, or undefined when the scan ends inside a string or brackets (then parse whole).
 * `indent` > 0 cuts a class body instead: statements that start after exactly that many spaces (the
 * class's methods and fields); lines indented less (the `class` line) or more (method bodies) are not cuts.
 */
export function splitTopLevel(text: string, indent = 0): Block[] | undefined {
  const starts: { at: number; row: number }[] = [];
  let depth = 0;
  let row = 0;
  let quote = '';          // the open string's delimiter: ', ", ''' or """
  let lineStart = true;
  let continued = false;   // the previous line ended in a backslash
  for (let i = 0; i < text.length; i++) {
    let c = text[i];
    if (lineStart) {
      lineStart = false;
      if (indent > 0 && !quote && depth === 0 && !continued) {
        let k = 0;
        while (k < indent && text[i + k] === ' ') k++;
        const d = text[i + k];
        if (k === indent && d !== ' ' && d !== '\t' && d !== '\n' && d !== '\r' && d !== '#') { i += k; c = text[i]; starts.push({ at: i, row }); }
      } else if (!quote && depth === 0 && !continued && c !== ' ' && c !== '\t' && c !== '\n' && c !== '\r' && c !== '#') starts.push({ at: i, row });
      continued = false;
    }
    if (quote) {
      if (c === '\\') { i++; if (text[i] === '\n') row++; continue; }
      if (c === '\n') { row++; lineStart = true; if (quote.length === 1) return undefined; continue; }
      if (text.startsWith(quote, i)) { i += quote.length - 1; quote = ''; }
      continue;
    }
    switch (c) {
      case '#': { const nl = text.indexOf('\n', i); i = (nl < 0 ? text.length : nl) - 1; break; }
      case '"': case "'": quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c; i += quote.length - 1; break;
      case '(': case '[': case '{': depth++; break;
      case ')': case ']': case '}': depth = Math.max(0, depth - 1); break;
      case '\\': if (text[i + 1] === '\n' || (text[i + 1] === '\r' && text[i + 2] === '\n')) continued = true; break;
      case '\n': row++; lineStart = true; break;
      default: break;
    }
  }
  if (quote || depth !== 0) return undefined;
  const blocks: Block[] = [];
  for (let k = 0; k < starts.length; k++) {
    const { at, row: r } = starts[k];
    const end = k + 1 < starts.length ? starts[k + 1].at : text.length;
    const prev = blocks[blocks.length - 1];
    // `except`/`else`/`elif`/`finally` go on the compound statement they continue (`try: from typing
    // import Literal` / `except ImportError: …`): cut apart, each half is a syntax error.
    if (prev && CONTINUATION.test(text.slice(at, at + 8))) { prev.end = end; continue; }
    // Decorators belong to the definition they decorate: one block from the first `@` line.
    if (prev && prev.kind === 'other' && text[prev.start] === '@' && !prev.name) {
      prev.end = end;
      const m = HEADER.exec(text.slice(at, Math.min(end, at + 200)));
      if (m) { prev.kind = m[1] === 'class' ? 'class' : 'def'; prev.name = m[2]; }
      continue;
    }
    const m = HEADER.exec(text.slice(at, Math.min(end, at + 200)));
    blocks.push(m ? { start: at, end, row: r, kind: m[1] === 'class' ? 'class' : 'def', name: m[2] } : { start: at, end, row: r, kind: 'other' });
  }
  return blocks;
}
