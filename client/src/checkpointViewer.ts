/**
 * The checkpoint viewer: a read-only custom editor for checkpoint files. The server reads the header
 * (the same `tensorport/keys` answer as the CLI's JSON); the webview shows it as a filterable,
 * virtualised tree of modules and tensors. Nothing here reads the file itself.
 */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { KEYS_REQUEST, KeysParams, KeysResult } from '../../server/src/lsp/protocol';
import { FromViewer, ViewerMessage } from './webviewMessages';
import { mediaRoots, webviewHtml } from './webviewHtml';

export const VIEWER_TYPE = 'tensorport.checkpointViewer';
/** The same viewer offered under "Open With" for names other tools use too (`.bin`, `.ckpt`, shard indexes). */
export const VIEWER_TYPE_OPTION = 'tensorport.checkpointViewer.option';

export class CheckpointViewerProvider implements vscode.CustomReadonlyEditorProvider {
  constructor(private readonly extensionUri: vscode.Uri, private readonly getClient: () => LanguageClient | undefined) {}

  openCustomDocument(uri: vscode.Uri): vscode.CustomDocument {
    return { uri, dispose: () => undefined };
  }

  async resolveCustomEditor(document: vscode.CustomDocument, panel: vscode.WebviewPanel): Promise<void> {
    panel.webview.options = { enableScripts: true, localResourceRoots: mediaRoots(this.extensionUri) };
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, { title: 'Checkpoint', script: 'viewer.js', style: 'viewer.css' });
    const file = vscode.workspace.asRelativePath(document.uri);
    const load = async () => {
      await panel.webview.postMessage({ type: 'loading', file } satisfies ViewerMessage);
      const client = this.getClient();
      const result: KeysResult = client
        ? await client.sendRequest<KeysResult>(KEYS_REQUEST, { path: document.uri.fsPath } satisfies KeysParams)
        : { ok: false, message: 'the Tensor Port language server is not running' };
      await panel.webview.postMessage({ type: 'keys', file, result } satisfies ViewerMessage);
    };
    // The webview asks when its script is ready (and again after it is restored).
    panel.webview.onDidReceiveMessage((m: FromViewer) => { if (m?.type === 'ready') void load(); });
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(document.uri, '..'), document.uri.path.split('/').pop()!));
    watcher.onDidChange(() => void load());
    panel.onDidDispose(() => watcher.dispose());
  }
}

export function registerCheckpointViewer(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined): void {
  const provider = new CheckpointViewerProvider(context.extensionUri, getClient);
  for (const viewType of [VIEWER_TYPE, VIEWER_TYPE_OPTION]) {
    context.subscriptions.push(vscode.window.registerCustomEditorProvider(viewType, provider, { supportsMultipleEditorsPerDocument: true }));
  }
}
