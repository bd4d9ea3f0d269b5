/**
 * What a conversion script's string literals say about tensor keys, language-neutral: the template a
 * literal spells (`f"blocks.{i}.norm1.weight"`, `"blocks.%d.norm1.weight" % i`, `"{}.x".format(i)`)
 * as a tpmap key pattern with `{name}` captures, and the pairs of literals that read as "this source
 * key becomes that target key". The Python and TypeScript scanners fill these in; scriptPairs.ts
 * checks them against the checkpoints, keyStringHover.ts looks them up.
 */
import { Pos } from '../source/ir';

/** One string literal that spells a key or a key pattern. */
export interface KeyLiteral {
  /** The tpmap pattern: literal segments and `{name}` captures (`blocks.{i}.norm1.weight`). */
  pattern: string;
  /** The literal as written, prefix and quotes included. */
  pos: Pos;
  /** Every capture stands for an integer for sure (a `range` loop variable, `%d`, a layer-like name). */
  numeric: boolean;
}

/**
 * How the script treats a pair's tensor: `yes` — transposed for sure (PaddleNLP's `"transpose"`
 * action, `.T` in the same statement or in the loop over the pair's list, a `transpose_keys` entry);
 * `none` — nothing at the pair says so; `opaque` — the value goes through code that may change its
 * shape (slicing, reshape, a PaddleNLP action other than transpose): only its keys are checked.
 */
export type Transposition = 'yes' | 'none' | 'opaque';

export interface KeyPair {
  first: KeyLiteral;
  second: KeyLiteral;
  /** The tuple, list, dict entry or statement that pairs them. */
  pos: Pos;
  /** Pairs of one list, dict or `.append` receiver: a group none of whose keys exists is not a key list. */
  group: string;
  transposition: Transposition;
  /** Why `yes`: "PaddleNLP's `\"transpose\"` action", "`.T` in the loop over `rename_keys`". */
  why?: string;
}

export interface ScriptScan {
  /** Every string literal that spells a dotted key or pattern, in text order. */
  literals: KeyLiteral[];
  pairs: KeyPair[];
  /** A transpose in the code that no pair accounts for (a loop over every 2-D weight): then no pair is sure to be untransposed. */
  looseTranspose: boolean;
  /** Code that reshapes tensors somewhere (reshape, view, squeeze, `[None]`…): an equal-size shape difference may be intended. */
  reshapes: boolean;
}

/** A piece of a literal: text, or a placeholder — named (`{i}`, `%(i)d`) or positional (`{}`, `%d`). */
export type TemplatePart = string | { name?: string; index?: number; numeric?: boolean };

const DEFAULT_NAMES = ['i', 'j', 'k', 'l', 'm', 'n'];

/** Names that stand for a layer or block number when nothing else says what they are. */
export const LAYERISH = /^(?:[ijklmn]|idx|index|num|layer|block|stage|(?:\w+_)?(?:i|j|n|id|idx|index|num|no|layer|block))$/i;

const SEGMENT = /^(?:[\w-]+|\{[A-Za-z_]\w*\})$/;

/**
 * The key pattern a template spells, or undefined when it is no key: every dot-separated segment must
 * be a plain name/number or one whole placeholder, and some segment must contain a letter.
 * `positional` names the values of `{}`/`%d` placeholders (the arguments of `%` or `.format`).
 */
export function patternOf(parts: TemplatePart[], positional: (string | undefined)[] = [], numericNames?: ReadonlySet<string>): { pattern: string; numeric: boolean } | undefined {
  let text = '';
  let numeric = true;
  let next = 0;
  for (const p of parts) {
    if (typeof p === 'string') { text += p; continue; }
    let name = p.name;
    if (name === undefined) {
      const k = p.index ?? next++;
      name = positional[k] ?? DEFAULT_NAMES[k];
      if (!name) return undefined;
      if (!p.numeric && positional[k] !== undefined && !(numericNames?.has(name) || LAYERISH.test(name))) numeric = false;
    } else if (!p.numeric && !(numericNames?.has(name) || LAYERISH.test(name))) {
      numeric = false;
    }
    if (!/^[A-Za-z_]\w*$/.test(name)) return undefined;
    text += `{${name}}`;
  }
  const segs = text.split('.');
  if (!segs.every((s) => SEGMENT.test(s))) return undefined;
  if (!segs.some((s) => !s.startsWith('{') && /[A-Za-z]/.test(s))) return undefined;
  return { pattern: text, numeric };
}

/**
 * Splits a plain (non-f) string's text at `str.format` and `%` placeholders: `{}`, `{0}`, `{name}`,
 * `%d`, `%i`, `%s`. Text with other braces or `%` stays text, and fails the segment check later.
 */
export function splitPlaceholders(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let last = 0;
  for (const m of text.matchAll(/\{(\w*)(?::d)?\}|%([dis])/g)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    if (m[2] !== undefined) parts.push({ numeric: m[2] !== 's' });
    else if (m[1] === '') parts.push({});
    else if (/^\d+$/.test(m[1])) parts.push({ index: Number(m[1]) });
    else parts.push({ name: m[1] });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

export const isDotted = (l: KeyLiteral) => l.pattern.includes('.');

/** Does 0-based line/character fall inside a range (end exclusive, but the closing quote counts)? */
export function contains(p: Pos, line: number, character: number): boolean {
  if (line < p.line || line > p.endLine) return false;
  if (line === p.line && character < p.column) return false;
  if (line === p.endLine && character > p.endColumn) return false;
  return true;
}
