/**
 * The language server's entry: makes the connection, announces the capabilities, creates the session's
 * Workspace on initialize and hands it to the handlers (handlers.ts), which convert LSP to calls on the
 * pure core and back. Nothing here decides anything about checkpoints or mappings.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodeActionKind, DidChangeWatchedFilesNotification, ProposedFeatures, TextDocumentSyncKind, TextDocuments, createConnection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { CHECKPOINT_GLOBS } from '../formats/fileKinds';
import { ReadPool } from '../index/readPool';
import { disposeParityWorkers } from '../parity/engine';
import { setPythonInterpreter } from '../source/pythonEnv';
import { ResyncingFraming } from './framing';
import { registerHandlers } from './handlers';
import { DEFAULT_SETTINGS, SERVER_PROCESS, ServerSettings } from './protocol';
import { FIX_ALL_KIND } from './toProtocol';
import { Workspace } from './workspace';

/**
 * Over stdio (editors other than VS Code, which uses IPC), stdin is reframed first: a malformed header
 * would otherwise leave vscode-jsonrpc's reader out of step for good (framing.ts).
 */
const connection = process.argv.includes('--stdio')
  ? createConnection(ProposedFeatures.all, process.stdin.pipe(new ResyncingFraming((why) => process.stderr.write(`tensorport: language server input: ${why}\n`))), process.stdout)
  : createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
// glibc read the extension's fixed mmap threshold when this process started; the Python the server runs
// (parity, model discovery) must not inherit it: there every large tensor would be its own mmap.
for (const [name, value] of Object.entries(SERVER_PROCESS.env)) if (process.env[name] === value) delete process.env[name];
// Header reads run in worker threads: this thread keeps answering completions and hovers meanwhile.
const readPool = new ReadPool({ log: (line) => connection.console.info(line) });
let session: Workspace | undefined;

const workspace = (): Workspace => {
  // LSP forbids requests before initialize; a client that sends one gets an error, not a crash.
  if (!session) throw new Error('the server is not initialized yet');
  return session;
};

connection.onInitialize((params) => {
  let roots = (params.workspaceFolders ?? []).map((f) => fileURLToPath(f.uri));
  if (roots.length === 0 && params.rootUri) roots = [fileURLToPath(params.rootUri)];
  const settings: ServerSettings = { ...DEFAULT_SETTINGS, ...(params.initializationOptions as Partial<ServerSettings> | undefined) };
  setPythonInterpreter(settings.python, "the editor's interpreter");
  // Only an absolute folder: the option comes from whatever client started the server.
  const cacheDir = typeof settings.tableCacheDir === 'string' && path.isAbsolute(settings.tableCacheDir) ? settings.tableCacheDir : undefined;
  readPool.useCache(cacheDir ? { dir: cacheDir } : undefined);
  session = new Workspace(connection, documents, roots, settings, readPool);
  // The scan reads every checkpoint next: the read threads load (~100 ms) while the client answers and the scan
  // lists the folders. Not with a table cache: a session whose large headers all come from it needs no thread,
  // and two threads loading on a two-core machine slowed its first diagnostics by ~60 ms (docs/benchmarks.md);
  // the first read the cache cannot answer starts them.
  if (!cacheDir) readPool.warm();
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: ['.', '|', ' ', '(', '{', '>', ':'] },
      hoverProvider: true,
      definitionProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix, FIX_ALL_KIND] },
      documentSymbolProvider: true,
      documentLinkProvider: { resolveProvider: false },
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
  await workspace().scan();
});

registerHandlers(connection, documents, workspace);

connection.onShutdown(async () => {
  disposeParityWorkers();
  await readPool.close();
});

documents.listen(connection);
connection.listen();
