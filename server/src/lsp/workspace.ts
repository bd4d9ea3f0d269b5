/**
 * The server's state for one session, in one object handed to every handler (rust-analyzer's
 * GlobalState): the workspace folders and settings, the checkpoint index, the open mapping documents'
 * analyses, and which checkpoints are known and unreadable. It also does the work that is not a
 * request — the first scan, publishing diagnostics, analysing and linting documents as they change.
 */
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Connection, DiagnosticSeverity, TextDocuments } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { MAPPING_EXTENSION, isSourceName } from '../formats/fileKinds';
import { isRemote } from '../formats/remote/remoteName';
import { CheckpointInfo } from '../formats/tensorInfo';
import { CheckpointIndex, IndexEntry } from '../index/checkpointIndex';
import { displayName, readOrder } from '../index/checkpointGroups';
import { findCheckpoints } from '../index/findFiles';
import { pooledReader, ReadPool } from '../index/readPool';
import { tooLargeMessage } from '../mapping/checkFile';
import { offsetAt } from '../mapping/lineIndex';
import { KeySide, checkpointSides } from '../scripts/keyStringHover';
import { ScriptDiagnostic, checkScript } from '../scripts/scriptPairs';
import { scriptSides } from '../scripts/scriptSides';
import { lintMaskDtypes } from '../source/maskLint';
import { IdleCollector } from './idleCollect';
import { MappingDocuments, MappingState } from './mappingDocuments';
import { INDEX_READY_NOTIFICATION, IndexReadyParams, STATUS_NOTIFICATION, ServerSettings, StatusParams } from './protocol';
import { checkpointDiagnostics, scriptDiagnostic, sourceDiagnostic, toDiagnostic } from './toProtocol';

export const isMapping = (doc: TextDocument): boolean => doc.uri.startsWith('file:') && doc.uri.endsWith(MAPPING_EXTENSION);
const isPython = (doc: TextDocument): boolean => doc.uri.startsWith('file:') && /\.pyi?$/.test(doc.uri);
/** Model source and conversion scripts: Python, and TS modules (transformers.js-style classes and key tables). */
export const isModelSource = (doc: TextDocument): boolean => doc.uri.startsWith('file:') && isSourceName(doc.uri);

/** A mapping's analysed state at the document's current text, with the editor-position → offset map. */
export interface CurrentMapping { state: MappingState; offset: (p: { line: number; character: number }) => number }

export class Workspace {
  readonly index: CheckpointIndex;
  readonly mappings: MappingDocuments;
  /** Every checkpoint the scan or the watcher reported, and those that failed to read. */
  readonly checkpointFiles = new Set<string>();
  readonly unreadable = new Set<string>();
  /** Files that are plainly something else (Trainer's settings, an LFS pointer, a partial download): not counted as unreadable. */
  readonly notCheckpoints = new Set<string>();
  /** Listed but not read yet: past `tensorport.index.eagerLimit`, read when something asks for them. */
  readonly pending = new Set<string>();
  /** Open conversion scripts' checks by document version (scriptDiagnostics). */
  private readonly scripts = new Map<string, { version: number; diagnostics: Promise<ScriptDiagnostic[]> }>();
  /** A full GC once quiet after a burst that grew the heap (a large side read and analysed). */
  private readonly collector = new IdleCollector();

  constructor(
    readonly connection: Connection,
    readonly documents: TextDocuments<TextDocument>,
    readonly roots: readonly string[],
    readonly settings: ServerSettings,
    readPool: ReadPool,
  ) {
    this.index = new CheckpointIndex({
      timeoutMs: settings.readTimeoutMs, maxHeaderBytes: settings.maxHeaderMB * 2 ** 20,
      displayName: (f) => this.display(f), reader: pooledReader(readPool), prioritize: (f) => readPool.prioritize(f),
      // A file read on demand (past the eager limit) gets its diagnostics the moment it is read.
      onRead: (entry) => { if (this.pending.has(entry.path)) this.publishCheckpoint(entry); },
    });
    this.mappings = new MappingDocuments(this.index);
  }

  get maxMappingBytes(): number {
    return this.settings.maxMappingMB * 2 ** 20;
  }

  /** A path as the user knows it: relative to the workspace folder that holds it. */
  relative(file: string): string {
    if (isRemote(file)) return file;   // hf://… and https://… are shown as written
    for (const r of this.roots) {
      const rel = path.relative(r, file);
      if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel;
    }
    return file;
  }

  /** A checkpoint as messages name it: relative, and a hub snapshot as `org/name@rev/file`. */
  display(file: string): string {
    return displayName(file, (f) => this.relative(f));
  }

  /**
   * Finds every checkpoint, then reads the headers of the first `eagerLimit` in the order a porting
   * engineer needs them (their own files, hub snapshots, the newest training steps); the rest are
   * listed and read when a mapping, the viewer or a diff asks for them.
   */
  async scan(): Promise<void> {
    const progress = await this.connection.window.createWorkDoneProgress();
    progress.begin('Tensor Port: indexing checkpoints', 0, 'finding files', false);
    const found = (await Promise.all(this.roots.map((r) => findCheckpoints(r, { exclude: this.settings.exclude })))).flat();
    const ordered = readOrder(found, (f) => this.relative(f));
    const eager = ordered.slice(0, Math.max(0, this.settings.eagerLimit));
    for (const f of ordered.slice(eager.length)) { this.checkpointFiles.add(f); this.pending.add(f); }
    this.connection.console.info(`indexing ${found.length} checkpoint(s) in ${this.roots.join(', ') || 'no folder'}`
      + (this.pending.size ? `: reading ${eager.length} headers now, ${this.pending.size} when asked (tensorport.index.eagerLimit)` : ''));
    const entries = await this.index.scan(eager, (done, total, file) => {
      progress.report(Math.round((100 * done) / Math.max(total, 1)), this.display(file));
    });
    entries.forEach((e) => this.publishCheckpoint(e));
    progress.done();
    const ready: IndexReadyParams = { checkpoints: found.length, unreadable: this.unreadable.size, pending: this.pending.size };
    this.connection.sendNotification(INDEX_READY_NOTIFICATION, ready);
    this.sendStatus();
  }

  publishCheckpoint(entry: IndexEntry): void {
    this.checkpointFiles.add(entry.path);
    this.pending.delete(entry.path);
    this.unreadable.delete(entry.path);
    this.notCheckpoints.delete(entry.path);
    if (!entry.ok) {
      (entry.error.code === 'not-a-checkpoint' ? this.notCheckpoints : this.unreadable).add(entry.path);
      this.connection.console.warn(entry.error.message);
    }
    this.connection.sendDiagnostics({ uri: pathToFileURL(entry.path).toString(), diagnostics: checkpointDiagnostics(entry) });
  }

  forgetCheckpoint(file: string): void {
    this.index.forget(file);
    for (const set of [this.checkpointFiles, this.unreadable, this.notCheckpoints, this.pending]) set.delete(file);
    this.connection.sendDiagnostics({ uri: pathToFileURL(file).toString(), diagnostics: [] });
  }

  /**
   * Checkpoints offered as a mapping's `source`/`target`: model weights only. Optimizer, scheduler and
   * RNG states and files that are not checkpoints still work when named, but are not proposed.
   */
  sideCandidates(): string[] {
    return [...this.checkpointFiles].filter((f) => {
      const e = this.index.peek(f);
      return !e || (e.ok ? !e.info.content : e.error.code !== 'not-a-checkpoint');
    });
  }

  sendStatus(): void {
    const status: StatusParams = {
      checkpoints: this.checkpointFiles.size - this.notCheckpoints.size, unreadable: this.unreadable.size,
      notCheckpoints: this.notCheckpoints.size, pending: this.pending.size, openMappings: this.mappings.all().length,
    };
    this.connection.sendNotification(STATUS_NOTIFICATION, status);
  }

  /** Unsaved editor text of open model-source files, so hover, inference and mapping sides see what the user sees. */
  overlay(): Map<string, string> {
    return new Map(this.documents.all().filter(isModelSource).map((d) => [fileURLToPath(d.uri), d.getText()]));
  }

  async analyze(doc: TextDocument): Promise<void> {
    const text = doc.getText();
    if (text.length > this.maxMappingBytes) {
      // Refused whole, with one diagnostic saying why: analysing it would stall the server for everyone.
      this.mappings.close(doc.uri);
      this.connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: [{
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: DiagnosticSeverity.Error,
        code: 'parse-error', source: 'tensorport', message: tooLargeMessage(text.length, this.maxMappingBytes) }] });
      return;
    }
    const state = await this.mappings.update(doc.uri, fileURLToPath(doc.uri), doc.version, text, this.overlay());
    if (!state) return;
    this.connection.sendDiagnostics({ uri: doc.uri, version: doc.version, diagnostics: state.analysis.diagnostics.map((d) => toDiagnostic(state.file, doc.uri, d)) });
    this.collector.touch();
    this.connection.console.debug(`analysed ${this.relative(state.path)} v${doc.version}: ${state.analysis.rules.length} rules, ${state.analysis.diagnostics.length} diagnostics in ${state.analysisMs.toFixed(1)} ms`);
  }

  /** Every open mapping, again: a checkpoint, a config.json or a model source one of them reads has changed. */
  async analyzeOpenMappings(filter: (doc: TextDocument) => boolean = () => true): Promise<void> {
    await Promise.all(this.documents.all().filter((d) => isMapping(d) && filter(d)).map((d) => this.analyze(d)));
  }

  /** Model source lints (fp16-mask-float32, Python) and conversion-script checks (Python and TypeScript). */
  async lintSource(doc: TextDocument): Promise<void> {
    const version = doc.version;
    const file = fileURLToPath(doc.uri);
    const warn = (e: unknown) => {
      this.connection.console.warn(`lint ${doc.uri}: ${e instanceof Error ? e.message : String(e)}`);
      return [];
    };
    const [found, script] = await Promise.all([
      isPython(doc) ? lintMaskDtypes(file, doc.getText()).catch(warn) : [],
      this.scriptDiagnostics(doc).catch(warn),
    ]);
    if (this.documents.get(doc.uri)?.version !== version) return;
    this.connection.sendDiagnostics({ uri: doc.uri, version, diagnostics: [...found.map((d) => sourceDiagnostic(doc.uri, d)), ...script.map((d) => scriptDiagnostic(doc.uri, d))] });
  }

  /**
   * A conversion script's diagnostics at the document's current version, computed once per version:
   * publishing and the quick fixes asked for as the cursor moves share one check.
   */
  scriptDiagnostics(doc: TextDocument): Promise<ScriptDiagnostic[]> {
    const hit = this.scripts.get(doc.uri);
    if (hit?.version === doc.version) return hit.diagnostics;
    const diagnostics = checkScript(fileURLToPath(doc.uri), doc.getText(), this.index);
    this.scripts.set(doc.uri, { version: doc.version, diagnostics });
    // A failed check is not remembered: the next request tries again.
    diagnostics.catch(() => { if (this.scripts.get(doc.uri)?.diagnostics === diagnostics) this.scripts.delete(doc.uri); });
    return diagnostics;
  }

  forgetScript(uri: string): void {
    this.scripts.delete(uri);
  }

  /** Where a key string of an open .py/.ts file is looked up: its script's own sides, else the workspace's checkpoints read so far. */
  async keySides(doc: TextDocument, checkpoints: CheckpointInfo[]): Promise<KeySide[]> {
    const own = await scriptSides(fileURLToPath(doc.uri), doc.getText(), this.index).catch(() => []);
    return own.length ? own : checkpointSides(checkpoints);
  }

  /** The checkpoints read so far: a hover never waits on the headers past the eager limit. */
  async readCheckpoints(): Promise<CheckpointInfo[]> {
    const read = await Promise.all([...this.checkpointFiles].filter((f) => !this.pending.has(f)).map((f) => this.index.get(f)));
    return read.flatMap((e) => (e.ok ? [e.info] : []));
  }

  /** The analysed state matching the document's current text, waiting for an analysis in flight. */
  async current(uri: string): Promise<CurrentMapping | undefined> {
    const doc = this.documents.get(uri);
    if (!doc || !isMapping(doc)) return undefined;
    if (doc.getText().length > this.maxMappingBytes) return undefined;
    let state = this.mappings.get(uri);
    if (!state || state.version !== doc.version) state = await this.mappings.update(uri, fileURLToPath(uri), doc.version, doc.getText(), this.overlay());
    if (!state) return undefined;
    const s = state;
    return { state: s, offset: (p) => offsetAt(s.file.lineStarts, s.file.text.length, p.line, p.character) };
  }
}
