/**
 * The language server's entry: a thin layer that turns LSP messages into calls on the pure core
 * (index, readers, mapping analysis) and the core's plain results back into LSP types.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CodeActionKind, DiagnosticSeverity, ResponseError, DidChangeWatchedFilesNotification, FileChangeType, ProposedFeatures, TextDocumentSyncKind, TextDocuments, createConnection,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { keysDocument } from '../formats/keysDocument';
import { CheckpointIndex, IndexEntry } from '../index/checkpointIndex';
import { pooledReader, ReadPool } from '../index/readPool';
import { diffCheckpoints, formatDiff } from '../index/diff';
import { findCheckpoints, findMappings, findModelSources } from '../index/findCheckpoints';
import { generateMapping } from '../mapping/automap/generate';
import { writeFileAtomically } from '../index/atomicWrite';
import { runCommandParity } from '../parity/commandMode';
import { disposeParityWorkers, runOnnxParity } from '../parity/engine';
import { hoverModelSource } from '../source/hover';
import { lintMaskDtypes } from '../source/maskLint';
import { hoverKeyString } from '../scripts/keyStringHover';
import { checkScript } from '../scripts/scriptPairs';
import { parseInputSpec } from '../parity/inputs';
import { analyzeMappingText, checkMappingFile, tooLargeMessage } from '../mapping/checkFile';
import { CHECKPOINT_GLOBS, MAPPING_EXTENSION, isCheckpointPath, isSourceName } from '../formats/fileKinds';
import { readRegularFileSync } from '../formats/openRegular';
import { fixByConvention, minimalEdit } from '../mapping/applyFixes';
import { codeActionsAt } from '../mapping/codeActions';
import { completeAt } from '../mapping/completion';
import { hoverAt } from '../mapping/hover';
import { offsetAt } from '../mapping/lineIndex';
import { locate } from '../mapping/locate';
import { foldingRanges, formatMapping, outline } from '../mapping/symbols';
import { cancelledError, honourCancel } from './cancellation';
import { MappingDocuments, MappingState } from './mappingDocuments';
import {
  DEFAULT_SETTINGS, DIFF_REQUEST, PARITY_LOG_NOTIFICATION, PARITY_PROGRESS_NOTIFICATION, PARITY_REQUEST, ParityParams, ParityResult, GENERATE_MAPPING_REQUEST, GenerateMappingParams, GenerateMappingResult, DiffParams, DiffResult, INDEX_READY_NOTIFICATION, WORKSPACE_REQUEST, WorkspaceEntry, WorkspaceResult, IndexReadyParams, KEYS_REQUEST, KeysParams, KeysResult, STATUS_NOTIFICATION, ServerSettings, StatusParams,
} from './protocol';
import { FIX_ALL_KIND, checkpointDiagnostics, scriptDiagnostic, sourceDiagnostic, toCodeAction, toCompletionItem, toDiagnostic, toDocumentSymbol, toFixAllAction, toRange, toTextEdit } from './toProtocol';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let roots: string[] = [];
let settings: ServerSettings = DEFAULT_SETTINGS;
// Header reads run in worker threads: this thread keeps answering completions and hovers meanwhile.
const readPool = new ReadPool();
let index = new CheckpointIndex();
let mappings = new MappingDocuments(index);
const checkpointFiles = new Set<string>();
const unreadable = new Set<string>();

connection.onInitialize((params) => {
  roots = (params.workspaceFolders ?? []).map((f) => fileURLToPath(f.uri));
  if (roots.length === 0 && params.rootUri) roots = [fileURLToPath(params.rootUri)];
  settings = { ...DEFAULT_SETTINGS, ...(params.initializationOptions as Partial<ServerSettings> | undefined) };
  index = new CheckpointIndex({
    timeoutMs: settings.readTimeoutMs, maxHeaderBytes: settings.maxHeaderMB * 2 ** 20, displayName: relativeToRoots, reader: pooledReader(readPool),
  });
  mappings = new MappingDocuments(index);
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['.', '|', ' ', '(', '{', '>', ':'] },
      hoverProvider: true,
      definitionProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
      documentSymbolProvider: true,
      foldingRangeProvider: true,
      documentFormattingProvider: true,
      codeLensProvider: { resolveProvider: false },
    },
    serverInfo: { name: 'tensorport' },
  };
});

connection.onInitialized(async () => {
  // Watching is the client's job in VS Code; registering here covers other editors too.
  connection.client.register(DidChangeWatchedFilesNotification.type, {
    watchers: [...CHECKPOINT_GLOBS.map((globPattern) => ({ globPattern })), { globPattern: '**/{config,params}.json' }],
  }).catch(() => undefined);
  await scanWorkspace();
});

async function scanWorkspace(): Promise<void> {
  const progress = await connection.window.createWorkDoneProgress();
  progress.begin('Tensor Port: indexing checkpoints', 0, 'finding files', false);
  const files = (await Promise.all(roots.map((r) => findCheckpoints(r, { exclude: settings.exclude })))).flat();
  connection.console.info(`indexing ${files.length} checkpoint(s) in ${roots.join(', ') || 'no folder'}`);
  const entries = await index.scan(files, (done, total, file) => {
    progress.report(Math.round((100 * done) / Math.max(total, 1)), relativeToRoots(file));
  });
  entries.forEach(publishCheckpoint);
  progress.done();
  const ready: IndexReadyParams = { checkpoints: entries.length, unreadable: entries.filter((e) => !e.ok).length };
  connection.sendNotification(INDEX_READY_NOTIFICATION, ready);
  sendStatus();
}

function publishCheckpoint(entry: IndexEntry): void {
  checkpointFiles.add(entry.path);
  if (entry.ok) unreadable.delete(entry.path);
  else {
    unreadable.add(entry.path);
    connection.console.warn(entry.error.message);
  }
  connection.sendDiagnostics({ uri: pathToFileURL(entry.path).toString(), diagnostics: checkpointDiagnostics(entry) });
}

function sendStatus(): void {
  const status: StatusParams = { checkpoints: checkpointFiles.size, unreadable: unreadable.size, openMappings: mappings.all().length };
  connection.sendNotification(STATUS_NOTIFICATION, status);
}

connection.onDidChangeWatchedFiles(async ({ changes }) => {
  for (const change of changes) {
    const file = fileURLToPath(change.uri);
    if (!isCheckpointPath(file)) continue;
    if (change.type === FileChangeType.Deleted) index.forget(file);
    else index.invalidate(file);
    if (change.type === FileChangeType.Deleted) {
      checkpointFiles.delete(file);
      unreadable.delete(file);
      connection.sendDiagnostics({ uri: change.uri, diagnostics: [] });
    } else {
      publishCheckpoint(await index.get(file));
    }
  }
  // A changed checkpoint (or the config.json beside one) may be a side of an open mapping.
  await Promise.all(documents.all().filter(isMapping).map(analyze));
  sendStatus();
});

connection.onRequest(KEYS_REQUEST, honourCancel(async (params: KeysParams): Promise<KeysResult> => {
  const entry = await index.get(path.resolve(params.path));
  return entry.ok ? { ok: true, keys: keysDocument(entry.info) } : { ok: false, message: entry.error.message };
}));

connection.onRequest(DIFF_REQUEST, honourCancel(async (params: DiffParams): Promise<DiffResult> => {
  const [a, b] = await Promise.all([index.get(path.resolve(params.a)), index.get(path.resolve(params.b))]);
  if (!a.ok) return { ok: false, message: a.error.message };
  if (!b.ok) return { ok: false, message: b.error.message };
  const d = diffCheckpoints(a.info, b.info);
  return { ok: true, text: formatDiff(relativeToRoots(a.path), relativeToRoots(b.path), d), differs: d.changed.length + d.onlyInA.length + d.onlyInB.length > 0 };
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

connection.onRequest(PARITY_REQUEST, async (p: ParityParams, token): Promise<ParityResult> => {
  const abort = new AbortController();
  token.onCancellationRequested(() => abort.abort());
  const onProgress = (e: { phase: string; message: string; done?: number; total?: number }) => {
    connection.sendNotification(PARITY_PROGRESS_NOTIFICATION, { id: p.id, ...e });
  };
  try {
    const report = p.kind === 'onnx'
      ? await runOnnxParity({ ...p.request, inputs: [...(p.request.inputs ?? []), ...(p.inputSpecs ?? []).map(parseInputSpec)] }, { onProgress, signal: abort.signal })
      : await runCommandParity(p.request, { onProgress, signal: abort.signal, onStderr: (text) => connection.sendNotification(PARITY_LOG_NOTIFICATION, { id: p.id, text }) });
    connection.console.info(`parity ${p.kind}: ${report.pass ? 'pass' : 'FAIL'} on ${report.device} (${report.outputs.length} outputs)`);
    return { ok: true, report };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
});

connection.onRequest(WORKSPACE_REQUEST, honourCancel(async (): Promise<WorkspaceResult> => {
  const entries: WorkspaceEntry[] = [];
  for (const file of [...checkpointFiles].sort()) {
    const e = await index.get(file);
    entries.push(e.ok
      ? { path: file, kind: 'checkpoint', ok: true, detail: `${e.info.format}, ${e.info.tensors.length} tensors`, errors: 0, warnings: 0 }
      : { path: file, kind: 'checkpoint', ok: false, detail: e.error.reason, errors: 1, warnings: 0 });
  }
  const mappingsOnDisk = (await Promise.all(roots.map((r) => findMappings(r, { exclude: settings.exclude })))).flat().sort();
  for (const file of mappingsOnDisk) {
    // An open document's state is newer than the file on disk.
    const open = mappings.all().find((m) => m.path === file);
    const diagnostics = open ? open.analysis.diagnostics : await checkMappingFile(file, index, settings.maxMappingMB * 2 ** 20).then((c) => c.analysis.diagnostics, () => undefined);
    if (!diagnostics) { entries.push({ path: file, kind: 'mapping', ok: false, detail: 'cannot be read', errors: 1, warnings: 0 }); continue; }
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
    entries.push({ path: file, kind: 'mapping', ok: errors === 0, detail: errors || warnings ? `${errors} errors, ${warnings} warnings` : 'clean', errors, warnings });
  }
  return { entries };
}));

// --- mapping documents -------------------------------------------------------------------------

const isMapping = (doc: TextDocument) => doc.uri.startsWith('file:') && doc.uri.endsWith(MAPPING_EXTENSION);
const isPython = (doc: TextDocument) => doc.uri.startsWith('file:') && /\.pyi?$/.test(doc.uri);
/** Model source the server hovers: Python, and TS modules (transformers.js-style classes). */
const isModelSource = (doc: TextDocument) => doc.uri.startsWith('file:') && isSourceName(doc.uri);

/** Model source lints (fp16-mask-float32, Python) and conversion-script checks (Python and TypeScript), on open and on each edit. */
async function lintSource(doc: TextDocument): Promise<void> {
  const version = doc.version;
  const file = fileURLToPath(doc.uri);
  const warn = (e: unknown) => {
    connection.console.warn(`lint ${doc.uri}: ${e instanceof Error ? e.message : String(e)}`);
    return [];
  };
  // The fp16 mask lint reads Python; conversion-script checks read Python and TypeScript alike.
  const [found, script] = await Promise.all([isPython(doc) ? lintMaskDtypes(file, doc.getText()).catch(warn) : [], checkScript(file, doc.getText(), index).catch(warn)]);
  if (documents.get(doc.uri)?.version !== version) return;
  connection.sendDiagnostics({ uri: doc.uri, version, diagnostics: [...found.map((d) => sourceDiagnostic(doc.uri, d)), ...script.map((d) => scriptDiagnostic(doc.uri, d))] });
}

/** Unsaved editor text of open model-source files, so hover, inference and mapping sides see what the user sees. */
function overlay(): Map<string, string> {
  return new Map(documents.all().filter(isModelSource).map((d) => [fileURLToPath(d.uri), d.getText()]));
}

async function analyze(doc: TextDocument): Promise<void> {
  const limit = settings.maxMappingMB * 2 ** 20;
  if (doc.getText().length > limit) {
    // Refused whole, with one diagnostic saying why: analysing it would stall the server for everyone.
    mappings.close(doc.uri);
    connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: [{
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: DiagnosticSeverity.Error,
      code: 'parse-error', source: 'tensorport', message: tooLargeMessage(doc.getText().length, limit) }] });
    return;
  }
  const state = await mappings.update(doc.uri, fileURLToPath(doc.uri), doc.version, doc.getText(), overlay());
  if (!state) return;
  connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: state.analysis.diagnostics.map((d) => toDiagnostic(state.file, doc.uri, d)) });
  connection.console.debug(`analysed ${relativeToRoots(state.path)} v${doc.version}: ${state.analysis.rules.length} rules, ${state.analysis.diagnostics.length} diagnostics in ${state.analysisMs.toFixed(1)} ms`);
}

documents.onDidOpen((e) => {
  if (isMapping(e.document)) void analyze(e.document).then(sendStatus);
  else if (isModelSource(e.document)) void lintSource(e.document);
});
documents.onDidChangeContent((e) => {
  if (isMapping(e.document)) void analyze(e.document);
  else if (isModelSource(e.document)) {
    void lintSource(e.document);
    // An open mapping whose side is this class sees the unsaved text too.
    const name = `${path.basename(fileURLToPath(e.document.uri))}::`;
    for (const m of documents.all()) if (isMapping(m) && m.getText().includes(name)) void analyze(m);
  }
});
documents.onDidClose((e) => {
  mappings.close(e.document.uri);
  connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  sendStatus();
});

/** The analysed state matching the document's current text, waiting for an analysis in flight. */
async function current(uri: string): Promise<{ state: MappingState; offset: (p: { line: number; character: number }) => number } | undefined> {
  const doc = documents.get(uri);
  if (!doc || !isMapping(doc)) return undefined;
  if (doc.getText().length > settings.maxMappingMB * 2 ** 20) return undefined;
  let state = mappings.get(uri);
  if (!state || state.version !== doc.version) state = await mappings.update(uri, fileURLToPath(uri), doc.version, doc.getText(), overlay());
  if (!state) return undefined;
  const s = state;
  return { state: s, offset: (p) => offsetAt(s.file.lineStarts, s.file.text.length, p.line, p.character) };
}

/** Class names a model-source file defines (top-level `class X` in Python or TS), for `FILE.py::` completion. */
function classesOf(file: string): string[] {
  const text = documents.get(pathToFileURL(file).toString())?.getText() ?? (() => { try { return readRegularFileSync(file, 'a model source file').toString('utf8'); } catch { return ''; } })();
  return [...text.matchAll(/^(?:export\s+)?class\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]);
}

connection.onCompletion(honourCancel(async ({ textDocument, position }) => {
  const c = await current(textDocument.uri);
  if (!c) return null;
  // Model-source files are only offered on a `source`/`target` line: walking the workspace costs.
  const line = c.state.file.text.slice(c.state.file.lineStarts[position.line] ?? 0, c.offset(position));
  const sources = /^\s*(source|target)\s/.test(line)
    ? (await Promise.all(roots.map((r) => findModelSources(r, { exclude: settings.exclude, maxFiles: 2000 })))).flat()
    : [];
  const r = completeAt(c.state.file, c.offset(position), { sides: c.state.sides, mappingPath: c.state.path, files: [...checkpointFiles, ...sources], classesOf });
  return { isIncomplete: r.isIncomplete, items: r.items.map((i) => toCompletionItem(c.state.file, i)) };
}));

connection.onHover(honourCancel(async ({ textDocument, position }) => {
  const doc = documents.get(textDocument.uri);
  if (doc && isModelSource(doc)) {
    const checkpoints = (await Promise.all([...checkpointFiles].map((f) => index.get(f)))).flatMap((e) => (e.ok ? [e.info] : []));
    const h = await hoverModelSource(fileURLToPath(doc.uri), position.line, position.character, { overlay: overlay(), checkpoints }).catch(() => undefined)
      ?? await hoverKeyString(fileURLToPath(doc.uri), doc.getText(), position.line, position.character, checkpoints).catch(() => undefined);
    return h ? { contents: { kind: 'markdown', value: h.markdown }, range: { start: { line: h.range.line, character: h.range.column }, end: { line: h.range.endLine, character: h.range.endColumn } } } : null;
  }
  const c = await current(textDocument.uri);
  if (!c) return null;
  const h = hoverAt(c.state.file, c.offset(position), c.state.sides);
  return h ? { contents: { kind: 'markdown', value: h.markdown }, range: toRange(c.state.file, h.span) } : null;
}));

connection.onDefinition(honourCancel(async ({ textDocument, position }) => {
  const c = await current(textDocument.uri);
  if (!c) return null;
  const at = locate(c.state.file, c.offset(position));
  const sideOf = (kind: 'source' | 'target') => { const s = c.state.sides[kind]; return s?.ok ? s.side : undefined; };
  const target = at.kind === 'side-path' ? sideOf(at.directive.kind)
    : at.kind === 'source-key' ? sideOf('source') : at.kind === 'target-key' ? sideOf('target') : undefined;
  if (!target) return null;
  // A model-source key opens the line that defines it; a checkpoint has no lines, so the file opens.
  if (at.kind === 'source-key' || at.kind === 'target-key') {
    const first = target.trie.match(at.pattern.segments)[0];
    const def = first ? target.tensors.get(first.key)?.definition : undefined;
    if (def) return { uri: pathToFileURL(def.file).toString(), range: { start: { line: def.line, character: def.column }, end: { line: def.endLine, character: def.endColumn } } };
  }
  return { uri: pathToFileURL(target.path).toString(), range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } } };
}));

connection.onCodeAction(honourCancel(async ({ textDocument, range, context }) => {
  const c = await current(textDocument.uri);
  if (!c) return null;
  // *Fix All* (`editor.codeActionsOnSave: { "source.fixAll": "explicit" }`, or the Source Action menu): the
  // fixes the layout conventions dictate, as `tensorport check --fix` applies them.
  if (context.only?.some((k) => FIX_ALL_KIND.startsWith(k))) {
    const { checked, applied } = await fixByConvention(c.state, (text) => analyzeMappingText(c.state.path, text, index));
    return applied ? [toFixAllAction(c.state.file, textDocument.uri, [minimalEdit(c.state.file.text, checked.file.text)])] : [];
  }
  const span = { start: c.offset(range.start), end: c.offset(range.end) };
  return codeActionsAt(c.state.file, c.state.analysis, span, c.state.sides).map((a) => toCodeAction(c.state.file, textDocument.uri, a));
}));

connection.onDocumentSymbol(honourCancel(async ({ textDocument }) => {
  const c = await current(textDocument.uri);
  return c ? outline(c.state.file).map((s) => toDocumentSymbol(c.state.file, s)) : null;
}));

connection.onFoldingRanges(honourCancel(async ({ textDocument }) => {
  const c = await current(textDocument.uri);
  return c ? foldingRanges(c.state.file) : null;
}));

// A lens on every mapping: the parity check is the next step after the mapping checks clean.
connection.onCodeLens(({ textDocument }) => [{
  range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
  command: { title: '$(play) Run Parity Check', command: 'tensorport.runParity', arguments: [textDocument.uri] },
}]);

connection.onDocumentFormatting(honourCancel(async ({ textDocument }) => {
  const c = await current(textDocument.uri);
  return c ? formatMapping(c.state.file).map((e) => toTextEdit(c.state.file, e)) : null;
}));

function relativeToRoots(file: string): string {
  for (const r of roots) {
    const rel = path.relative(r, file);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
  }
  return file;
}

connection.onShutdown(async () => {
  disposeParityWorkers();
  await readPool.close();
});

documents.listen(connection);
connection.listen();
