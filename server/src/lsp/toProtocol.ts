/**
 * Core results → LSP types. The only place that knows what an LSP Diagnostic, range or edit looks like,
 * and where text a file controls (keys in messages) is made printable: one line, no control characters.
 */
import { pathToFileURL } from 'node:url';
import {
  CodeAction as LspCodeAction, CodeActionKind, CompletionItem as LspCompletionItem, CompletionItemKind, Diagnostic, DiagnosticSeverity,
  DiagnosticTag, DocumentSymbol, MarkupKind, Range, SymbolKind, TextEdit as LspTextEdit,
} from 'vscode-languageserver/node';
import { printable } from '../formats/printable';
import { IndexEntry } from '../index/checkpointIndex';
import { CodeAction } from '../mapping/codeActions';
import { CompletionItem } from '../mapping/completion';
import { MappingDiagnostic, Severity, TextEdit } from '../mapping/diagnostics';
import { positionAt } from '../mapping/lineIndex';
import { OutlineSymbol } from '../mapping/symbols';
import { SourceDiagnostic } from '../source/maskLint';
import { ScriptFix } from '../scripts/keyTypoFix';
import { ScriptDiagnostic } from '../scripts/scriptPairs';
import { MappingFile, Span } from '../mapping/syntax';

/** A checkpoint has no lines: its one diagnostic sits at the file's start and carries the reason. */
export function checkpointDiagnostics(entry: IndexEntry): Diagnostic[] {
  if (entry.ok) return [];
  return [{
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    // A file that is plainly something else (Trainer's settings, an LFS pointer) is information: nobody can act on it as an error.
    severity: entry.error.code === 'not-a-checkpoint' ? DiagnosticSeverity.Information : DiagnosticSeverity.Error,
    code: entry.error.code,
    source: 'tensorport',
    message: entry.error.offset !== undefined ? `${entry.error.reason} (at byte ${entry.error.offset})` : entry.error.reason,
  }];
}

export function toRange(file: MappingFile, span: Span): Range {
  const end = Math.min(span.end, file.text.length);
  return { start: positionAt(file.lineStarts, Math.min(span.start, end)), end: positionAt(file.lineStarts, end) };
}

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error, warning: DiagnosticSeverity.Warning, information: DiagnosticSeverity.Information,
};

export function toDiagnostic(file: MappingFile, uri: string, d: MappingDiagnostic): Diagnostic {
  return {
    range: toRange(file, d),
    severity: SEVERITY[d.severity],
    code: d.code,
    source: 'tensorport',
    message: printable(d.message),
    tags: d.code === 'unmapped-target-key' && d.severity === 'information' ? [DiagnosticTag.Unnecessary] : undefined,
    relatedInformation: d.related?.map((r) => ({
      location: r.file === undefined
        ? { uri, range: toRange(file, r.span ?? d) }
        : { uri: pathToFileURL(r.file).toString(), range: r.range ? { start: { line: r.range.line, character: r.range.column }, end: { line: r.range.endLine, character: r.range.endColumn } } : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } },
      message: printable(r.message),
    })),
  };
}

/** A model-source lint (0-based line/column ranges already) as an LSP diagnostic. */
export function sourceDiagnostic(uri: string, d: SourceDiagnostic): Diagnostic {
  const range = (r: { line: number; column: number; endLine: number; endColumn: number }) => ({ start: { line: r.line, character: r.column }, end: { line: r.endLine, character: r.endColumn } });
  return {
    range: range(d), severity: DiagnosticSeverity.Warning, code: d.code, source: 'tensorport', message: printable(d.message),
    relatedInformation: d.related?.map((r) => ({ location: { uri, range: range(r) }, message: printable(r.message) })),
  };
}

/** A conversion-script finding (a key pair checked as a mapping rule) as an LSP diagnostic. */
export function scriptDiagnostic(uri: string, d: ScriptDiagnostic): Diagnostic {
  const range = (r: { line: number; column: number; endLine: number; endColumn: number }) => ({ start: { line: r.line, character: r.column }, end: { line: r.endLine, character: r.endColumn } });
  return {
    range: range(d), severity: SEVERITY[d.severity], code: d.code, source: 'tensorport', message: printable(d.message),
    relatedInformation: d.related?.map((r) => ({ location: { uri: r.file === undefined ? uri : pathToFileURL(r.file).toString(), range: range(r) }, message: printable(r.message) })),
  };
}

/** A conversion script's quick fix: positions are the script's own lines and columns. */
export function toScriptCodeAction(uri: string, d: ScriptDiagnostic, f: ScriptFix): LspCodeAction {
  return {
    title: f.title, kind: CodeActionKind.QuickFix, isPreferred: f.preferred, diagnostics: [scriptDiagnostic(uri, d)],
    edit: { changes: { [uri]: f.edits.map((e) => ({ range: { start: { line: e.line, character: e.column }, end: { line: e.endLine, character: e.endColumn } }, newText: e.newText })) } },
  };
}

export function toTextEdit(file: MappingFile, e: TextEdit): LspTextEdit {
  return { range: toRange(file, e), newText: e.newText };
}

export const FIX_ALL_KIND = `${CodeActionKind.SourceFixAll}.tensorport`;

export function toFixAllAction(file: MappingFile, uri: string, edits: TextEdit[]): LspCodeAction {
  return { title: 'Fix the layout problems (Tensor Port)', kind: FIX_ALL_KIND, edit: { changes: { [uri]: edits.map((e) => toTextEdit(file, e)) } } };
}

export function toCodeAction(file: MappingFile, uri: string, a: CodeAction): LspCodeAction {
  return {
    title: a.title,
    kind: CodeActionKind.QuickFix,
    isPreferred: a.preferred,
    diagnostics: a.diagnostics.map((d) => toDiagnostic(file, uri, d)),
    edit: { changes: { [uri]: a.edits.map((e) => toTextEdit(file, e)) } },
  };
}

const COMPLETION_KIND: Record<CompletionItem['kind'], CompletionItemKind> = {
  key: CompletionItemKind.Field, pattern: CompletionItemKind.Snippet, file: CompletionItemKind.File,
  keyword: CompletionItemKind.Keyword, transform: CompletionItemKind.Function, dtype: CompletionItemKind.TypeParameter, parameter: CompletionItemKind.Variable,
};

export function toCompletionItem(file: MappingFile, c: CompletionItem): LspCompletionItem {
  return {
    label: c.label,
    kind: COMPLETION_KIND[c.kind],
    detail: c.detail,
    documentation: c.documentation ? { kind: MarkupKind.Markdown, value: c.documentation } : undefined,
    sortText: c.sortText,
    filterText: c.label,
    textEdit: { range: toRange(file, c.range), newText: c.insertText ?? c.label },
  };
}

export function toDocumentSymbol(file: MappingFile, s: OutlineSymbol): DocumentSymbol {
  return {
    name: s.name || '(empty)',
    detail: s.detail,
    kind: s.kind === 'directive' ? SymbolKind.Property : s.kind === 'block' ? SymbolKind.Namespace : SymbolKind.Field,
    range: toRange(file, s.span),
    selectionRange: toRange(file, s.selection),
    children: s.children.map((c) => toDocumentSymbol(file, c)),
  };
}

/** Hover text: markdown whose lines may quote a file's names, made printable (newlines kept). */
export function toMarkdown(markdown: string): { kind: 'markdown'; value: string } {
  return { kind: 'markdown', value: printable(markdown, { keepNewlines: true }) };
}

