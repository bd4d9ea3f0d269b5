/**
 * "Replace with the suggestion" for a mistyped key in a conversion script, as a mapping's unknown key
 * gets it. A script's key is code, not a tpmap pattern: the edit touches only the mistyped segments'
 * text inside the string literal — in an f-string or a `%`/`.format` template only the literal run that
 * differs, never a placeholder, a prefix variable or a quote — and is offered only where it is sure:
 * one suggestion is closer than every other, and the text it replaces occurs once in the literal.
 */
import { computeLineStarts, offsetAt, positionAt } from '../mapping/lineIndex';
import { levenshtein } from '../mapping/suggest';
import { Pos } from '../source/ir';

export interface ScriptEdit extends Pos { newText: string }

export interface ScriptFix { title: string; edits: ScriptEdit[]; preferred?: boolean }

/**
 * The fix for `literal` (the string as written, its range in `text`) whose key reads `written` as a
 * pattern (`blocks.{i}.mlp.fc2.bais`, a prefix variant or list rewrite applied), given the checker's
 * suggestions, closest first.
 */
export function typoFix(text: string, literal: Pos, written: string, suggestions: readonly string[]): ScriptFix | undefined {
  const best = unambiguous(written, suggestions);
  if (!best) return undefined;
  const change = changedSegments(written, best);
  if (!change) return undefined;
  const lines = computeLineStarts(text);
  const start = offsetAt(lines, text.length, literal.line, literal.column);
  const end = offsetAt(lines, text.length, literal.endLine, literal.endColumn);
  const at = uniqueRun(text.slice(start, end), change.from);
  if (at === undefined) return undefined;
  const a = positionAt(lines, start + at);
  const b = positionAt(lines, start + at + change.from.length);
  return {
    title: `Replace with \`${best}\``, preferred: true,
    edits: [{ line: a.line, column: a.character, endLine: b.line, endColumn: b.character, newText: change.to }],
  };
}

/** The one suggestion strictly closer to the written key than every other, or none. */
function unambiguous(written: string, suggestions: readonly string[]): string | undefined {
  const limit = Math.max(written.length, ...suggestions.map((s) => s.length));
  const scored = [...new Set(suggestions)].filter((s) => s !== written).map((s) => ({ s, d: levenshtein(written, s, limit) ?? Infinity }));
  scored.sort((x, y) => x.d - y.d);
  if (!scored.length || scored[0].d === Infinity || (scored.length > 1 && scored[1].d === scored[0].d)) return undefined;
  return scored[0].s;
}

/**
 * The whole dot-separated segments that differ (`bais` → `bias`, `norm1.weigth` → `norm1.weight`), or
 * none when the difference reaches into a capture: placeholders are the script's code, not its text.
 */
export function changedSegments(from: string, to: string): { from: string; to: string } | undefined {
  let p = 0;
  while (p < from.length && p < to.length && from[p] === to[p]) p++;
  let s = 0;
  while (s < from.length - p && s < to.length - p && from[from.length - 1 - s] === to[to.length - 1 - s]) s++;
  p = p > 0 ? from.lastIndexOf('.', p - 1) + 1 : 0;
  while (s > 0 && from[from.length - s] !== '.') s--;
  const a = from.slice(p, from.length - s);
  const b = to.slice(p, to.length - s);
  if (!a || !b || /[{}]/.test(a) || /[{}]/.test(b)) return undefined;
  return { from: a, to: b };
}

const WORD = /[\w-]/;

/**
 * Where `run` stands as whole segments in the literal's text, if it stands there exactly once: between
 * the quotes, outside every placeholder (`{i}`, `${i}`, `%d`, `%(i)d`).
 */
function uniqueRun(literal: string, run: string): number | undefined {
  const open = literal.search(/["'`]/);
  const close = Math.max(literal.lastIndexOf('"'), literal.lastIndexOf("'"), literal.lastIndexOf('`'));
  if (open < 0 || close <= open) return undefined;
  const blank = (m: string) => ' '.repeat(m.length);
  const body = literal.slice(open, close + 1).replace(/\{[^{}]*\}/g, blank).replace(/%(?:\(\w+\))?[dis]/g, blank);
  const found: number[] = [];
  for (let i = body.indexOf(run); i >= 0; i = body.indexOf(run, i + 1)) {
    if (!WORD.test(body[i - 1] ?? '') && !WORD.test(body[i + run.length] ?? '')) found.push(i);
  }
  return found.length === 1 ? open + found[0] : undefined;
}
