/**
 * Request and notification handlers: each converts LSP in, makes one call into the core, and converts
 * the plain result out (toProtocol.ts). State comes in as the Workspace; no handler keeps any of its own.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CodeActionKind, Connection, FileChangeType, Range, ResponseError, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { isCheckpointPath } from '../formats/fileKinds';
import { absoluteName, isRemote } from '../formats/remote/remoteName';
import { keysDocument } from '../formats/keysDocument';
import { writeFileAtomically } from '../formats/atomicWrite';
import { diffCheckpoints, formatDiff } from '../index/diff';
import { findMappings, findModelSources } from '../index/findFiles';
import { fixByConvention, minimalEdit } from '../mapping/applyFixes';
import { generateMapping } from '../mapping/automap/generate';
import { analyzeMappingText } from '../mapping/checkFile';
import { codeActionsAt } from '../mapping/codeActions';
import { completeAt } from '../mapping/completion';
import { definitionAt } from '../mapping/definition';
import { sideDirective } from '../mapping/sides';
import type { SideDirective } from '../mapping/syntax';
import { hoverAt } from '../mapping/hover';
import { foldingRanges, formatMapping, outline } from '../mapping/symbols';
import { summarizeWorkspace } from '../mapping/workspaceSummary';
import { convertMapping } from '../mapping/convert/convertMapping';
import { ConvertError } from '../mapping/convert/errors';
import { runCommandParity } from '../parity/commandMode';
import { runEagerParity } from '../parity/eager/eagerMode';
import { runOnnxParity } from '../parity/engine';
import { parseInputSpec } from '../parity/inputs';
import { hoverKeyString } from '../scripts/keyStringHover';
import { classNamesOf, pythonDefinitionsOf } from '../source/classNames';
import { hoverModelSource } from '../source/hover';
import { setPythonInterpreter } from '../source/pythonEnv';
import { ToolContext, toolNamed } from '../tools/definitions';
import { invokeTool } from '../tools/invoke';
import { cancelledError, honourCancel } from './cancellation';
import {
  CONVERT_PROGRESS_NOTIFICATION, CONVERT_REQUEST, ConvertParams, ConvertProgressParams, ConvertResult, DIFF_REQUEST, DiffParams, DiffResult, GENERATE_MAPPING_REQUEST, GenerateMappingParams, GenerateMappingResult, KEYS_REQUEST, KeysParams, KeysResult,
  PARITY_LOG_NOTIFICATION, PARITY_PROGRESS_NOTIFICATION, PARITY_REQUEST, ParityParams, ParityReport, ParityResult, PYTHON_INTERPRETER_NOTIFICATION, PYTHON_MODELS_REQUEST, PythonInterpreterParams, PythonModelsResult, TOOL_REQUEST, ToolParams, ToolResult, WORKSPACE_REQUEST, WorkspaceResult,
  OPEN_CHECKPOINT_COMMAND,
} from './protocol';
import { FIX_ALL_KIND, toCodeAction, toMarkdown, toCompletionItem, toDocumentSymbol, toFixAllAction, toRange, toScriptCodeAction, toTextEdit } from './toProtocol';
import { Workspace, isMapping, isModelSource } from './workspace';

const UNTRUSTED_COMMAND = 'command mode runs your own script: it is only available in a trusted workspace';

export function registerHandlers(connection: Connection, documents: TextDocuments<TextDocument>, workspace: () => Workspace): void {
  connection.onDidChangeWatchedFiles(async ({ changes }) => {
    const ws = workspace();
    for (const change of changes) {
      const file = fileURLToPath(change.uri);
      if (!isCheckpointPath(file)) continue;
      if (change.type === FileChangeType.Deleted) ws.forgetCheckpoint(file);
      else {
        ws.index.invalidate(file);
        ws.publishCheckpoint(await ws.index.get(file));
      }
    }
    // A changed checkpoint (or the config.json beside one) may be a side of an open mapping.
    await ws.analyzeOpenMappings();
    ws.sendStatus();
  });

  connection.onNotification(PYTHON_INTERPRETER_NOTIFICATION, async (p: PythonInterpreterParams) => {
    // Model sources load again with the new environment (the model cache is keyed on the interpreter).
    setPythonInterpreter(p?.path, "the editor's interpreter");
    await workspace().analyzeOpenMappings();
  });

  connection.onRequest(KEYS_REQUEST, honourCancel(async (params: KeysParams): Promise<KeysResult> => {
    // A remote name (hf://, https://) is read header-only like a path: the viewer opens either.
    const entry = await workspace().index.get(absoluteName(params.path, path.resolve));
    return entry.ok ? { ok: true, keys: keysDocument(entry.info) } : { ok: false, message: entry.error.message, code: entry.error.code };
  }));

  connection.onRequest(DIFF_REQUEST, honourCancel(async (params: DiffParams): Promise<DiffResult> => {
    const ws = workspace();
    const [a, b] = await Promise.all([ws.index.get(absoluteName(params.a, path.resolve)), ws.index.get(absoluteName(params.b, path.resolve))]);
    if (!a.ok) return { ok: false, message: a.error.message };
    if (!b.ok) return { ok: false, message: b.error.message };
    const d = diffCheckpoints(a.info, b.info);
    return { ok: true, text: formatDiff(ws.relative(a.path), ws.relative(b.path), d), differs: d.changed.length + d.onlyInA.length + d.onlyInB.length > 0 };
  }));

  connection.onRequest(GENERATE_MAPPING_REQUEST, async (p: GenerateMappingParams, token): Promise<GenerateMappingResult | ResponseError<void>> => {
    if (token.isCancellationRequested) return cancelledError();
    const progress = await connection.window.createWorkDoneProgress();
    progress.begin('Tensor Port: proposing a mapping', undefined, `${path.basename(p.source)} → ${path.basename(p.target)}`);
    try {
      const g = await generateMapping(p.source, p.target, path.dirname(path.resolve(p.output)));
      if (token.isCancellationRequested) return cancelledError();   // cancelled: nothing written
      await writeFileAtomically(p.output, g.text, { overwrite: p.overwrite });
      connection.console.info(`wrote ${p.output}: ${g.proposal.rules.length} rules, ${g.lowConfidence} with low confidence`);
      return { ok: true, output: p.output, rules: g.proposal.rules.length, lowConfidence: g.lowConfidence,
        unmappedSource: g.proposal.unmappedSource.length, unmappedTarget: g.proposal.unmappedTarget.length };
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    } finally {
      progress.done();
    }
  });

  connection.onRequest(CONVERT_REQUEST, async (p: ConvertParams, token): Promise<ConvertResult> => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    const ws = workspace();
    try {
      const s = await convertMapping(path.resolve(p.mapping), path.resolve(p.output), {
        format: p.format, force: p.force, index: ws.index, signal: abort.signal,
        onProgress: (done, total, key) => connection.sendNotification(CONVERT_PROGRESS_NOTIFICATION, { id: p.id, done, total, key } satisfies ConvertProgressParams),
      });
      connection.console.info(`converted ${ws.relative(p.mapping)} → ${ws.relative(s.output)}: ${s.tensors} tensors in ${(s.ms / 1000).toFixed(1)} s`);
      return { ok: true, output: s.output, tensors: s.tensors, bytes: s.bytes, unwritten: s.unwritten, warnings: s.warnings, ms: s.ms, ...(s.shards ? { shards: s.shards } : {}) };
    } catch (e) {
      if (abort.signal.aborted) return { ok: false, cancelled: true, message: `cancelled; nothing was written to ${p.output}` };
      return { ok: false, message: e instanceof ConvertError ? e.message : e instanceof Error ? e.message : String(e) };
    }
  });

  connection.onRequest(PARITY_REQUEST, async (p: ParityParams, token): Promise<ParityResult> => {
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    const onProgress = (e: { phase: string; message: string; done?: number; total?: number }) => {
      connection.sendNotification(PARITY_PROGRESS_NOTIFICATION, { id: p.id, ...e });
    };
    const onLog = (text: string) => connection.sendNotification(PARITY_LOG_NOTIFICATION, { id: p.id, text });
    try {
      let report: ParityReport;
      if (p.kind === 'onnx') report = await runOnnxParity({ ...p.request, inputs: [...(p.request.inputs ?? []), ...(p.inputSpecs ?? []).map(parseInputSpec)] }, { onProgress, signal: abort.signal });
      else if (p.kind === 'command') report = await runCommandParity(p.request, { onProgress, signal: abort.signal, onStderr: onLog });
      else report = await runEagerParity({ ...p.request, inputs: (p.inputSpecs ?? []).map(parseInputSpec) }, { onProgress, onLog, signal: abort.signal, index: workspace().index });
      connection.console.info(`parity ${p.kind}: ${report.pass ? 'pass' : 'FAIL'} on ${report.device} (${report.outputs.length} outputs${report.layers ? `, ${report.layers.length} layers` : ''})`);
      return { ok: true, report };
    } catch (e) {
      return { ok: false, message: e instanceof Error ? e.message : String(e) };
    }
  });

  connection.onRequest(PYTHON_MODELS_REQUEST, honourCancel(async (): Promise<PythonModelsResult> => {
    const ws = workspace();
    const files = (await Promise.all(ws.roots.map((r) => findModelSources(r, { exclude: ws.settings.exclude, maxFiles: 2000 })))).flat().filter((f) => f.endsWith('.py'));
    const overlay = ws.overlay();
    return { models: files.sort().flatMap((file) => pythonDefinitionsOf(file, overlay).map((d) => ({ file, relative: ws.relative(file), ...d }))) };
  }));

  connection.onRequest(TOOL_REQUEST, async (p: ToolParams, token): Promise<ToolResult> => {
    const def = toolNamed(p.name);
    if (!def) return { ok: false, message: `no tool "${p.name}"` };
    const abort = new AbortController();
    token.onCancellationRequested(() => abort.abort());
    const ws = workspace();
    const commands: ToolContext['commands'] = p.trusted ? { allowed: true } : { allowed: false, refusal: UNTRUSTED_COMMAND };
    const outcome = await invokeTool(def, p.input, { index: ws.index, signal: abort.signal, commands }, ws.roots[0] ?? process.cwd());
    if (abort.signal.aborted) return { ok: false, message: 'cancelled' };
    connection.console.info(`tool ${def.name}: ${outcome.ok ? 'done' : outcome.message}`);
    return outcome;
  });

  connection.onRequest(WORKSPACE_REQUEST, honourCancel(async (): Promise<WorkspaceResult> => {
    const ws = workspace();
    const mappings = (await Promise.all(ws.roots.map((r) => findMappings(r, { exclude: ws.settings.exclude })))).flat();
    const open = new Map(ws.mappings.all().map((m) => [m.path, m.analysis.diagnostics]));
    // Remote checkpoints have no place in the workspace's folders: those an open mapping names are listed too.
    const remote = ws.mappings.all().flatMap((m) => [m.sides.source, m.sides.target]).flatMap((s) => (s?.ok && isRemote(s.side.path) ? [s.side.path] : []));
    return { entries: await summarizeWorkspace({
      checkpoints: [...new Set([...ws.checkpointFiles, ...remote])], mappings, open, maxMappingBytes: ws.maxMappingBytes, pending: ws.pending, relative: (f) => ws.relative(f),
    }, ws.index) };
  }));

  documents.onDidOpen((e) => {
    const ws = workspace();
    if (isMapping(e.document)) void ws.analyze(e.document).then(() => ws.sendStatus());
    else if (isModelSource(e.document)) void ws.lintSource(e.document);
  });
  documents.onDidChangeContent((e) => {
    const ws = workspace();
    if (isMapping(e.document)) void ws.analyze(e.document);
    else if (isModelSource(e.document)) {
      void ws.lintSource(e.document);
      // An open mapping whose side is this class sees the unsaved text too.
      const name = `${path.basename(fileURLToPath(e.document.uri))}::`;
      void ws.analyzeOpenMappings((m) => m.getText().includes(name));
    }
  });
  documents.onDidClose((e) => {
    const ws = workspace();
    ws.mappings.close(e.document.uri);
    ws.forgetScript(e.document.uri);
    connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
    ws.sendStatus();
  });

  connection.onCompletion(honourCancel(async ({ textDocument, position }) => {
    const ws = workspace();
    const c = await ws.current(textDocument.uri);
    if (!c) return null;
    // Model-source files are only offered on a `source`/`target` line: walking the workspace costs.
    const line = c.state.file.text.slice(c.state.file.lineStarts[position.line] ?? 0, c.offset(position));
    const sources = /^\s*(source|target)\s/.test(line)
      ? (await Promise.all(ws.roots.map((r) => findModelSources(r, { exclude: ws.settings.exclude, maxFiles: 2000 })))).flat()
      : [];
    const overlay = ws.overlay();
    const r = completeAt(c.state.file, c.offset(position), {
      sides: c.state.sides, mappingPath: c.state.path, files: [...ws.sideCandidates(), ...sources], classesOf: (f) => classNamesOf(f, overlay),
    });
    return { isIncomplete: r.isIncomplete, items: r.items.map((i) => toCompletionItem(c.state.file, i)) };
  }));

  connection.onHover(honourCancel(async ({ textDocument, position }) => {
    const ws = workspace();
    const doc = documents.get(textDocument.uri);
    if (doc && isModelSource(doc)) {
      const checkpoints = await ws.readCheckpoints();
      // A key string of a conversion script is looked up in the sides its `tensorport:` comment names.
      const h = await hoverModelSource(fileURLToPath(doc.uri), position.line, position.character, { overlay: ws.overlay(), checkpoints }).catch(() => undefined)
        ?? await hoverKeyString(fileURLToPath(doc.uri), doc.getText(), position.line, position.character, await ws.keySides(doc, checkpoints)).catch(() => undefined);
      return h ? { contents: toMarkdown(h.markdown), range: { start: { line: h.range.line, character: h.range.column }, end: { line: h.range.endLine, character: h.range.endColumn } } } : null;
    }
    const c = await ws.current(textDocument.uri);
    if (!c) return null;
    const h = hoverAt(c.state.file, c.offset(position), c.state.sides);
    return h ? { contents: toMarkdown(h.markdown), range: toRange(c.state.file, h.span) } : null;
  }));

  connection.onDefinition(honourCancel(async ({ textDocument, position }) => {
    const c = await workspace().current(textDocument.uri);
    const d = c ? definitionAt(c.state.file, c.offset(position), c.state.sides) : undefined;
    // A remote checkpoint is no file to go to: its document link opens it in the viewer.
    if (!d || isRemote(d.file)) return null;
    const r = d.range;
    return { uri: pathToFileURL(d.file).toString(), range: r ? { start: { line: r.line, character: r.column }, end: { line: r.endLine, character: r.endColumn } } : { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
  }));

  connection.onCodeAction(honourCancel(async ({ textDocument, range, context }) => {
    const ws = workspace();
    const doc = documents.get(textDocument.uri);
    if (doc && isModelSource(doc)) {
      // A conversion script: "replace with the suggestion" on a mistyped key; nothing for *Fix All*.
      if (context.only && !context.only.some((k) => CodeActionKind.QuickFix.startsWith(k))) return [];
      const ds = await ws.scriptDiagnostics(doc).catch(() => []);
      return ds.filter((d) => d.fixes?.length && overlaps(d, range)).flatMap((d) => d.fixes!.map((f) => toScriptCodeAction(textDocument.uri, d, f)));
    }
    const c = await ws.current(textDocument.uri);
    if (!c) return null;
    // *Fix All* (`editor.codeActionsOnSave: { "source.fixAll": "explicit" }`, or the Source Action menu): the
    // fixes the layout conventions dictate, pass after pass, as `tensorport check --fix` applies them.
    if (context.only?.some((k) => FIX_ALL_KIND.startsWith(k))) {
      const { checked, applied } = await fixByConvention(c.state, (text) => analyzeMappingText(c.state.path, text, ws.index));
      return applied ? [toFixAllAction(c.state.file, textDocument.uri, [minimalEdit(c.state.file.text, checked.file.text)])] : [];
    }
    const span = { start: c.offset(range.start), end: c.offset(range.end) };
    return codeActionsAt(c.state.file, c.state.analysis, span, c.state.sides).map((a) => toCodeAction(c.state.file, textDocument.uri, a));
  }));

  // A remote `source`/`target` is a link that opens it in the checkpoint viewer, header-only.
  connection.onDocumentLinks(honourCancel(async ({ textDocument }) => {
    const c = await workspace().current(textDocument.uri);
    if (!c) return null;
    return (['source', 'target'] as const).map((k) => sideDirective(c.state.file, k)).filter((d): d is SideDirective => !!d).filter((d) => d.path && !d.className && isRemote(d.path.text)).map((d) => ({
      range: toRange(c.state.file, d.path!),
      target: `command:${OPEN_CHECKPOINT_COMMAND}?${encodeURIComponent(JSON.stringify([d.path!.text]))}`,
      tooltip: 'Open in the checkpoint viewer (header-only)',
    }));
  }));

  connection.onDocumentSymbol(honourCancel(async ({ textDocument }) => {
    const c = await workspace().current(textDocument.uri);
    return c ? outline(c.state.file).map((s) => toDocumentSymbol(c.state.file, s)) : null;
  }));

  connection.onFoldingRanges(honourCancel(async ({ textDocument }) => {
    const c = await workspace().current(textDocument.uri);
    return c ? foldingRanges(c.state.file) : null;
  }));

  // A lens on every mapping: the parity check is the next step after the mapping checks clean.
  connection.onCodeLens(({ textDocument }) => [{
    range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
    command: { title: '$(play) Run Parity Check', command: 'tensorport.runParity', arguments: [textDocument.uri] },
  }]);

  connection.onDocumentFormatting(honourCancel(async ({ textDocument }) => {
    const c = await workspace().current(textDocument.uri);
    return c ? formatMapping(c.state.file).map((e) => toTextEdit(c.state.file, e)) : null;
  }));
}

/** Does a script range (0-based line/column, end exclusive) touch the editor's range? */
function overlaps(p: { line: number; column: number; endLine: number; endColumn: number }, r: Range): boolean {
  const before = (l1: number, c1: number, l2: number, c2: number) => l1 < l2 || (l1 === l2 && c1 < c2);
  return !before(p.endLine, p.endColumn, r.start.line, r.start.character) && !before(r.end.line, r.end.character, p.line, p.column);
}
