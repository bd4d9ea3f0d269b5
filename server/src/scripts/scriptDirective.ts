/**
 * The comment that makes a .py/.ts file a checked conversion script:
 * `# tensorport: source=PATH target=PATH [order=target,source]` (`// tensorport: …` in TypeScript).
 * Paths are relative to the script, may be double-quoted, and may name model source as `FILE.py::Class`
 * like a tpmap `source`/`target` line.
 */
import { Pos } from '../source/ir';

export interface DirectivePath { text: string; pos: Pos }

export interface ScriptDirective {
  /** The whole comment. */
  pos: Pos;
  source?: DirectivePath;
  target?: DirectivePath;
  /** Which string of a pair is the source key: the first unless `order=target,source`. */
  sourceFirst: boolean;
  errors: { pos: Pos; message: string }[];
}

const COMMENT = /^(\s*)(#|\/\/)\s*tensorport:/;

/** The first `tensorport:` comment of the file, or undefined when the file carries none. */
export function findDirective(text: string): ScriptDirective | undefined {
  const lines = text.split('\n');
  for (let line = 0; line < lines.length; line++) {
    const raw = lines[line].replace(/\r$/, '');
    const m = COMMENT.exec(raw);
    if (!m) continue;
    const d: ScriptDirective = { pos: { line, column: m[1].length, endLine: line, endColumn: raw.length }, sourceFirst: true, errors: [] };
    const at = (column: number, endColumn: number): Pos => ({ line, column, endLine: line, endColumn });
    for (const t of raw.slice(m[0].length).matchAll(/(\w+)=("[^"]*"|\S+)|\S+/g)) {
      const start = m[0].length + t.index;
      const end = start + t[0].length;
      if (t[1] === undefined) { d.errors.push({ pos: at(start, end), message: `expected NAME=VALUE (source=PATH, target=PATH, order=target,source), not \`${t[0]}\`` }); continue; }
      const quoted = t[2].startsWith('"');
      const value = quoted ? t[2].slice(1, -1) : t[2];
      const valueStart = start + t[1].length + 1 + (quoted ? 1 : 0);
      const vpos = at(valueStart, valueStart + value.length);
      if (t[1] === 'source' || t[1] === 'target') d[t[1]] = { text: value, pos: vpos };
      else if (t[1] === 'order' && /^(source,target|target,source)$/.test(value)) d.sourceFirst = value === 'source,target';
      else d.errors.push({ pos: at(start, end), message: t[1] === 'order' ? '`order` is `source,target` or `target,source`' : `unknown setting \`${t[1]}\`: expected source=, target= or order=` });
    }
    if (!d.source || !d.target) d.errors.push({ pos: d.pos, message: `the tensorport comment needs ${!d.source && !d.target ? 'source=PATH and target=PATH' : !d.source ? 'source=PATH' : 'target=PATH'}` });
    return d;
  }
  return undefined;
}
