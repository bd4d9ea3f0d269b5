/**
 * Activation: starts the Tensor Port language server, keeps one Output channel for its log, and
 * registers the commands. Glue only — every answer comes from the server.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { registerCheckpointViewer } from './checkpointViewer';
import { crashPolicy } from './crashPolicy';
import { registerCommands } from './commands';
import { registerLanguageModelTools } from './languageModelTools';
import { listenForConvertProgress } from './convertMapping';
import { chosenInterpreter, followInterpreter } from './serverInterpreter';
import { createStatusBar } from './statusBar';
import { registerWorkspaceView } from './workspaceView';
import { CHECKPOINT_GLOBS, DEFAULT_SETTINGS, SERVER_PROCESS, STATUS_NOTIFICATION, ServerSettings, StatusParams } from '../../server/src/lsp/protocol';

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Tensor Port', { log: true });
  context.subscriptions.push(output);
  const serverModule = context.asAbsolutePath(path.join('dist', 'server.js'));
  const serverOptions: ServerOptions = {
    run: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: [...SERVER_PROCESS.execArgv], env: { ...process.env, ...SERVER_PROCESS.env } } },
    debug: { module: serverModule, transport: TransportKind.ipc, options: { execArgv: [...SERVER_PROCESS.execArgv, '--nolazy', '--inspect=6011'], env: { ...process.env, ...SERVER_PROCESS.env } } },
  };
  const config = vscode.workspace.getConfiguration('tensorport');
  const initializationOptions: ServerSettings = {
    readTimeoutMs: config.get<number>('index.readTimeoutMs', 10_000),
    exclude: config.get<string[]>('index.exclude', []),
    maxHeaderMB: config.get<number>('index.maxHeaderMB', 256),
    maxMappingMB: config.get<number>('mapping.maxFileMB', 20),
    eagerLimit: config.get<number>('index.eagerLimit', DEFAULT_SETTINGS.eagerLimit),
    python: await chosenInterpreter(),
    ...tableCache(context, config.get<boolean>('index.tableCache', true)),
  };
  const clientOptions: LanguageClientOptions = {
    // Mapping files, and model source: the fp16 mask lint (Python) and hover on layer definitions.
    documentSelector: [{ scheme: 'file', language: 'tpmap' }, { scheme: 'file', language: 'python' }, { scheme: 'file', language: 'typescript' }],
    outputChannel: output,
    // A crashed server is restarted (up to 4 times in 3 minutes) and the user is told.
    errorHandler: crashPolicy(output),
    initializationOptions,
    synchronize: {
      fileEvents: [
        ...CHECKPOINT_GLOBS.map((glob) => vscode.workspace.createFileSystemWatcher(glob)),
        // Head counts and model types beside a checkpoint feed some checks (rotary, per-head q/k/v).
        vscode.workspace.createFileSystemWatcher('**/{config,params}.json'),
      ],
    },
  };
  client = new LanguageClient('tensorport', 'Tensor Port', serverOptions, clientOptions);
  registerCommands(context, () => client, output);
  registerLanguageModelTools(context, () => client, output);
  // One handler per notification method (a second registration would replace the first): fan out here.
  const status = new vscode.EventEmitter<StatusParams>();
  context.subscriptions.push(status, client.onNotification(STATUS_NOTIFICATION, (s: StatusParams) => status.fire(s)), listenForConvertProgress(client));
  createStatusBar(context, client, status.event);
  registerCheckpointViewer(context, () => client);
  registerWorkspaceView(context, () => client, status.event);
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('tensorport.index')) {
      void vscode.window.showInformationMessage('Tensor Port: index settings apply after the language server restarts.', 'Restart')
        .then((choice) => (choice ? vscode.commands.executeCommand('tensorport.restartServer') : undefined));
    }
  }));
  await client.start();
  followInterpreter(context, client, initializationOptions.python);
}

/**
 * Large headers kept between sessions (the server's table cache), so a mapping restored with the window gets
 * its diagnostics without parsing them again; turned off, what was kept is removed.
 */
function tableCache(context: vscode.ExtensionContext, on: boolean): { tableCacheDir?: string } {
  const dir = vscode.Uri.joinPath(context.globalStorageUri, 'table-cache');
  if (on) return { tableCacheDir: dir.fsPath };
  void Promise.resolve(vscode.workspace.fs.delete(dir, { recursive: true, useTrash: false })).catch(() => undefined);
  return {};
}

export function deactivate(): Thenable<void> | undefined {
  return client?.stop();
}
