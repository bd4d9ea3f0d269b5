/**
 * The checkpoint viewer: a read-only custom editor for checkpoint files. The server reads the header
 * (the same `tensorport/keys` answer as the CLI's JSON); the webview shows it as a filterable,
 * virtualised tree of modules and tensors. Nothing here reads the file itself.
 */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { KEYS_REQUEST, KeysParams, KeysResult, OPEN_CHECKPOINT_COMMAND, isRemoteName } from '../../server/src/lsp/protocol';
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
    const load = showCheckpoint(panel, this.extensionUri, this.getClient, document.uri.fsPath, vscode.workspace.asRelativePath(document.uri));
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(document.uri, '..'), document.uri.path.split('/').pop()!));
    watcher.onDidChange(() => void load());
    panel.onDidDispose(() => watcher.dispose());
  }
}

/**
 * The viewer in `panel` for `name` (a path, or a remote hf:// / https:// name the server reads
 * header-only): the page asks when its script is ready (and again after it is restored). Returns the
 * reload, for a file that changed.
 */
function showCheckpoint(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, getClient: () => LanguageClient | undefined, name: string, file: string): () => Promise<void> {
  panel.webview.options = { enableScripts: true, localResourceRoots: mediaRoots(extensionUri) };
  panel.webview.html = webviewHtml(panel.webview, extensionUri, { title: 'Checkpoint', script: 'viewer.js', style: 'viewer.css' });
  const load = async () => {
    await panel.webview.postMessage({ type: 'loading', file } satisfies ViewerMessage);
    const client = getClient();
    const result: KeysResult = client
      ? await client.sendRequest<KeysResult>(KEYS_REQUEST, { path: name } satisfies KeysParams)
      : { ok: false, message: 'the Tensor Port language server is not running' };
    await panel.webview.postMessage({ type: 'keys', file, result } satisfies ViewerMessage);
  };
  panel.webview.onDidReceiveMessage((m: FromViewer) => { if (m?.type === 'ready') void load(); });
  return load;
}

/**
 * A checkpoint that is no file of this machine (`hf://OWNER/REPO/PATH`, an `https://` URL) in the viewer:
 * a webview panel of its own, since a custom editor needs a file. A local path opens the file's viewer.
 */
async function openCheckpoint(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined, name?: string): Promise<void> {
  const picked = name ?? await vscode.window.showInputBox({
    title: 'Tensor Port: Open Checkpoint', prompt: 'hf://OWNER/REPO[@REVISION][/PATH], an https:// URL, or a path; read header-only',
    placeHolder: 'hf://google/vit-base-patch16-224/model.safetensors', ignoreFocusOut: true,
  });
  if (!picked?.trim()) return;
  const target = picked.trim();
  if (!isRemoteName(target)) {
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(target), VIEWER_TYPE_OPTION);
    return;
  }
  const panel = vscode.window.createWebviewPanel('tensorport.remoteCheckpoint', target.split('/').pop() || target, vscode.ViewColumn.Active, { enableScripts: true, retainContextWhenHidden: false });
  showCheckpoint(panel, context.extensionUri, getClient, target, target);
}

export function registerCheckpointViewer(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined): void {
  const provider = new CheckpointViewerProvider(context.extensionUri, getClient);
  for (const viewType of [VIEWER_TYPE, VIEWER_TYPE_OPTION]) {
    context.subscriptions.push(vscode.window.registerCustomEditorProvider(viewType, provider, { supportsMultipleEditorsPerDocument: true }));
  }
  context.subscriptions.push(vscode.commands.registerCommand(OPEN_CHECKPOINT_COMMAND, (name?: string) => openCheckpoint(context, getClient, name)));
}
