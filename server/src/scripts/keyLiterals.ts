/**
 * What a conversion script's string literals say about tensor keys, language-neutral: the template a
 * literal spells (`f"blocks.{i}.norm1.weight"`, `"blocks.%d.norm1.weight" % i`, `"{}.x".format(i)`)
 * as a tpmap key pattern with `{name}` captures, and the pairs of literals that read as "this source
 * key becomes that target key". The Python and TypeScript scanners fill these in; scriptPairs.ts
 * checks them against the checkpoints, keyStringHover.ts looks them up.
 */
import { Pos } from '../source/ir';
import { Linear } from './linearExpr';

/** One string literal that spells a key or a key pattern. */
export interface KeyLiteral {
  /** The tpmap pattern: literal segments and `{name}` captures (`blocks.{i}.norm1.weight`). */
  pattern: string;
  /** The literal as written, prefix and quotes included. */
  pos: Pos;
  /** Every capture stands for an integer for sure (a `range` loop variable, `%d`, a layer-like name). */
  numeric: boolean;
  /**
   * `f"{prefix}encoder.layer.{i}…"` where `prefix` is only ever given constant strings (`""` under `if
   * base_model:`, `"vit."` otherwise): the pattern for each, with the branches that give it.
   */
  variants?: { pattern: string; numeric: boolean; conditions: Branch[] }[];
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
  /** The `if` branches the pair sits in, outermost first: the checkpoints decide whether they were taken. */
  conditions?: Branch[];
  /** What the value goes through between read and write (statement and dict-entry pairs). */
  flow?: PairFlow;
}

/** One branch of one `if` statement: `node` is the statement's offset, `branch` 0 for its body, 1… for elif/else. */
export interface Branch { node: number; branch: number }

export interface PairFlow {
  /** LLaMA's rotary row permutation is applied (why, for messages). */
  rotary?: string;
  /** Concatenated over the shards of a sharded checkpoint. */
  shards: boolean;
  reshaped: boolean;
  /** Sliced or split on the way, whether or not the part could be read. */
  sliced?: boolean;
  /** One part of a fused tensor; `read` identifies the read all parts of one fused tensor share. */
  part?: FusedSlice;
}

/** `fused[a:b]` (a range) or the `index`-th of `chunk`/`split`, with its bounds as the script writes them. */
export interface FusedSlice {
  read: number;
  dim: number;
  kind: 'range' | 'chunk' | 'split';
  /** range: the bounds (absent: the start or end of the dimension); negative values count from the end. */
  start?: Linear;
  end?: Linear;
  /** chunk: how many equal parts; split: each part's size. */
  parts?: number;
  sizes?: Linear[];
  index?: number;
  /** The slice (or the chunk/split call) as written. */
  pos: Pos;
  text: string;
}

/**
 * `rename_keys = [(p[0], p[1][4:]) if p[1].startswith("vit") else p for p in rename_keys]`: the list's
 * earlier pairs lose a prefix on one side, where the branch around it is taken.
 */
export interface GroupRewrite {
  group: string;
  /** The rewriting statement's line (0-based): the group's pairs above it are rewritten. */
  line: number;
  element: 0 | 1;
  prefix: string;
  strip: number;
  conditions: Branch[];
}

export interface ScriptScan {
  /** Every string literal that could spell a key or pattern (`"cls_token"` as well as `"blocks.0.norm1.weight"`), in text order. */
  literals: KeyLiteral[];
  pairs: KeyPair[];
  /** A transpose in the code that no pair accounts for (a loop over every 2-D weight): then no pair is sure to be untransposed. */
  looseTranspose: boolean;
  /** Code that reshapes tensors somewhere (reshape, view, squeeze, `[None]`…): an equal-size shape difference may be intended. */
  reshapes: boolean;
  rewrites?: GroupRewrite[];
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
