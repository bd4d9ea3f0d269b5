/**
 * Test support: starts the built language server (dist/server.js) over stdio and speaks LSP to it as
 * an editor would — initialize with a workspace folder, open and edit documents, collect pushed
 * diagnostics, wait for the first index scan.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MessageConnection, StreamMessageReader, StreamMessageWriter, createMessageConnection } from 'vscode-jsonrpc/node';
import { SERVER_PROCESS } from '../../server/src/lsp/protocol';

export const SERVER = path.join(__dirname, '..', '..', 'dist', 'server.js');

export interface PushedDiagnostic {
  range: { start: { line: number; character: number }; end: { line: number; character: number } };
  severity: number; code: string; message: string;
  relatedInformation?: { location: { uri: string }; message: string }[];
}

export interface IndexReady { checkpoints: number; unreadable: number; pending: number }

export class LspClient {
  readonly diagnostics = new Map<string, PushedDiagnostic[]>();
  /** The document version each publication was computed for (the server sends it). */
  readonly diagnosticsVersion = new Map<string, number>();
  readonly status: unknown[] = [];
  readonly log: string[] = [];
  private waiters: (() => void)[] = [];
  private versions = new Map<string, number>();

  private constructor(readonly proc: ChildProcess, readonly conn: MessageConnection) {}

  static async start(workspace: string, initializationOptions?: object, bare = false): Promise<{ client: LspClient; ready: IndexReady }> {
    const { client, ready } = await LspClient.launch(workspace, initializationOptions, bare);
    return { client, ready: await ready };
  }

  /** Initialized, the first scan still running: `ready` settles when it ends (for requests made meanwhile). */
  static async launch(workspace: string, initializationOptions?: object, bare = false): Promise<{ client: LspClient; ready: Promise<IndexReady> }> {
    // TENSORPORT_LSP_CPU_PROF=DIR: the server writes a V8 CPU profile there when it exits (for benches).
    const prof = process.env.TENSORPORT_LSP_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.TENSORPORT_LSP_CPU_PROF}`] : [];
    // Started as the extension starts it (SERVER_PROCESS: its V8 flags and environment); `bare`, as another
    // editor starting `node dist/server.js --stdio` would (the memory bench compares the two;
    // TENSORPORT_LSP_BARE=1 starts every server of a bench so).
    const launch = bare || process.env.TENSORPORT_LSP_BARE ? { execArgv: [], env: {} } : SERVER_PROCESS;
    const proc = spawn(process.execPath, [...launch.execArgv, ...prof, SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...launch.env } });
    const conn = createMessageConnection(new StreamMessageReader(proc.stdout!), new StreamMessageWriter(proc.stdin!));
    const client = new LspClient(proc, conn);
    conn.onNotification('textDocument/publishDiagnostics', (p: { uri: string; version?: number; diagnostics: PushedDiagnostic[] }) => {
      client.diagnostics.set(p.uri, p.diagnostics);
      if (p.version !== undefined) client.diagnosticsVersion.set(p.uri, p.version);
      client.waiters.splice(0).forEach((w) => w());
    });
    conn.onNotification('tensorport/status', (p: unknown) => { client.status.push(p); });
    conn.onRequest('window/workDoneProgress/create', () => null);
    conn.onRequest('client/registerCapability', () => null);
    conn.onNotification('$/progress', () => undefined);
    conn.onNotification('window/logMessage', (m: { message: string }) => { client.log.push(m.message); });
    const ready = new Promise<IndexReady>((resolve) => conn.onNotification('tensorport/indexReady', resolve));
    conn.listen();
    await conn.sendRequest('initialize', {
      processId: process.pid, rootUri: null,
      capabilities: { window: { workDoneProgress: true }, textDocument: { publishDiagnostics: { relatedInformation: true } } },
      workspaceFolders: [{ uri: pathToFileURL(workspace).toString(), name: 'ws' }],
      initializationOptions,
    });
    await conn.sendNotification('initialized', {});
    return { client, ready };
  }

  async open(file: string, text: string): Promise<string> {
    const uri = pathToFileURL(file).toString();
    this.versions.set(uri, 1);
    await this.conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'tpmap', version: 1, text } });
    return uri;
  }

  /** Replaces the whole text and waits for the diagnostics of the new version. */
  async replaceAll(uri: string, text: string): Promise<PushedDiagnostic[]> {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ text }] });
    return this.until(uri, () => this.diagnosticsVersion.get(uri) === v);
  }

  async edit(uri: string, range: PushedDiagnostic['range'], text: string): Promise<void> {
    const v = (this.versions.get(uri) ?? 1) + 1;
    this.versions.set(uri, v);
    await this.conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ range, text }] });
  }

  /** Waits until the diagnostics pushed for `uri` satisfy `pred`. */
  async until(uri: string, pred: (d: PushedDiagnostic[]) => boolean, ms = 10_000): Promise<PushedDiagnostic[]> {
    const deadline = Date.now() + ms;
    for (;;) {
      const d = this.diagnostics.get(uri);
      if (d && pred(d)) return d;
      if (Date.now() > deadline) throw new Error(`timed out waiting for diagnostics on ${uri}; last: ${JSON.stringify(d?.map((x) => `${x.range.start.line + 1} ${x.code}`))}`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 100); });
    }
  }

  request<T>(method: string, params: unknown): Promise<T> {
    return this.conn.sendRequest<T>(method, params);
  }

  async stop(): Promise<void> {
    await this.conn.sendRequest('shutdown').catch(() => undefined);
    await this.conn.sendNotification('exit').catch(() => undefined);
    // A profiled server writes its profile as it exits: give it the moment to leave on its own.
    if (process.env.TENSORPORT_LSP_CPU_PROF && this.proc.exitCode === null) {
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, 5000); this.proc.once('exit', () => { clearTimeout(t); resolve(); }); });
    }
    this.conn.dispose();
    this.proc.kill();
  }
}
