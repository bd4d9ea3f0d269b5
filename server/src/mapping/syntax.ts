/**
 * The tpmap syntax tree (../shared/spec/tpmap.md). Every node carries exact offsets into the text, so
 * diagnostics, hover and completion can point at a key, a transform or a directive — and a half-typed
 * line still yields a partial node instead of nothing.
 */
import { Sep } from './keySegments';

export interface Span { start: number; end: number }

export interface Token extends Span { text: string }

/**
 * One segment of a key pattern (split at `.` and `/`, keySegments.ts), with the separator before it. A
 * capture is a layer number, the whole segment (`{i}`) or inside it (`encoderblock_{i}`, `Dense_{i}`).
 */
export type Segment =
  | { kind: 'literal'; sep: Sep; text: string }
  | { kind: 'capture'; sep: Sep; name: string; prefix?: string; suffix?: string }
  | { kind: 'star'; sep: Sep };

export interface KeyPattern extends Token {
  segments: Segment[];
}

export interface Transform extends Span {
  name: Token;
  /** Arguments as written; `value` is set when the argument is an integer. */
  args: (Token & { value?: number })[];
  /** Where the argument list is, when there is one (`(…)`), for signature help and hover. */
  parens?: Span;
}

export interface SideDirective extends Span {
  kind: 'source' | 'target';
  keyword: Token;
  /** The path as written (quotes removed), absent when the line stops after the keyword. */
  path?: Token;
  /** `::ClassName` for model source. */
  className?: Token;
}

/** What `set` binds: what a constructor takes from a config. */
export type SetValue = number | boolean | string;

export interface SetDirective extends Span {
  kind: 'set';
  keyword: Token;
  name?: Token;
  /** The value as written (`1e-6`, `True`, `"gelu"`) and as a constructor receives it. */
  value?: Token & { value: SetValue };
}

export interface FrameworkDirective extends Span {
  kind: 'framework';
  keyword: Token;
  side?: Token;
  name?: Token;
}

export interface Rule extends Span {
  kind: 'rule';
  /** One pattern, or the bracketed list of a `cat` rule. */
  sources: KeyPattern[];
  bracketed: boolean;
  arrow?: Span;
  /** Absent while the line is still being typed. */
  target?: KeyPattern | ({ kind: 'drop' } & Token);
  transforms: Transform[];
}

export type Item = SideDirective | SetDirective | FrameworkDirective | Rule;

export interface SyntaxError extends Span { message: string }

export interface MappingFile {
  text: string;
  items: Item[];
  errors: SyntaxError[];
  /** Start offset of every line, for offset ↔ line/column conversion. */
  lineStarts: number[];
}

export function isDrop(t: Rule['target']): t is { kind: 'drop' } & Token {
  return t !== undefined && 'kind' in t && t.kind === 'drop';
}
