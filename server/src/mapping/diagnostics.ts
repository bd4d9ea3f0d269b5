/** The analysis' output: plain diagnostics with offsets into the mapping text and ready-made fixes. */
import { Span } from './syntax';

export type Severity = 'error' | 'warning' | 'information';

export type DiagnosticCode =
  | 'parse-error' | 'unreadable-checkpoint' | 'unsafe-pickle' | 'unknown-source-key' | 'unknown-target-key'
  | 'shape-mismatch' | 'missing-transpose' | 'extra-transpose' | 'dtype-mismatch' | 'layer-count-mismatch'
  | 'duplicate-target' | 'suspicious-pairing' | 'unmapped-source-key' | 'unmapped-target-key' | 'fp16-mask-float32'
  | 'incomplete-model-source' | 'config-value-differs' | 'framework-inferred' | 'framework-unknown' | 'remote-config-unavailable';

export interface TextEdit extends Span { newText: string }

export interface Fix {
  title: string;
  edits: TextEdit[];
  preferred?: boolean;
  /** Follows from the sides' layout conventions, not from a guess: `check --fix` applies it whatever the code (applyFixes.ts). */
  byConvention?: boolean;
}

/** Another place worth seeing: a span of this mapping (`file` absent) or a checkpoint file. */
export interface Related {
  file?: string;
  span?: Span;
  /** In `file` (model source): 0-based lines and columns. */
  range?: { line: number; column: number; endLine: number; endColumn: number };
  message: string;
}

export interface MappingDiagnostic extends Span {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
  /** The tensor key the message is about, where there is one (unmapped keys, unknown keys). */
  key?: string;
  related?: Related[];
  fixes?: Fix[];
}

export function shift(d: MappingDiagnostic, by: number): MappingDiagnostic {
  const mv = <T extends Span>(s: T): T => ({ ...s, start: s.start + by, end: s.end + by });
  return {
    ...mv(d),
    related: d.related?.map((r) => (r.file === undefined && r.span ? { ...r, span: mv(r.span) } : r)),
    fixes: d.fixes?.map((f) => ({ ...f, edits: f.edits.map(mv) })),
  };
}

export const fmtShape = (s: readonly (number | string)[]) => `[${s.join(', ')}]`;

/** A tensor's shape as people read it: model source keeps an unresolved dimension's name (`embed_dim`) instead of NaN. */
export const tensorShape = (t: { shape: readonly number[]; dims?: readonly (number | string)[] }) => fmtShape(t.dims ?? t.shape);

/**
 * Shapes the checks treat as equal. Model source may leave a dimension open (NaN: no `set`,
 * config.json or rule bound it) or a whole shape unknown (`dims` is `['?']`): there is nothing to
 * compare, and binding already reported anything that could not fit.
 */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i] || Number.isNaN(d) || Number.isNaN(b[i]));
}

/** A rule check's finding before it is placed on its line: the shape every check returns. */
export interface Problem { code: DiagnosticCode; severity: Severity; span: Span; message: string; fixes?: Fix[]; related?: Related[] }
