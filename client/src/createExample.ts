/**
 * *Create the Example Port* (the walkthrough's first step): copies the bundled example (media/example:
 * a tiny HF ViT, the same model as Paddle saves it, a mapping with one mistake) into
 * `tensorport-example/` in a folder the user picks, and opens the mapping — in this window when the
 * folder is in the workspace, else by opening that folder.
 */
import * as vscode from 'vscode';

const FILES = ['port.tpmap', 'vit_hf.safetensors', 'vit_paddle.pdparams'];

export async function createExample(context: vscode.ExtensionContext): Promise<void> {
  const here = vscode.workspace.workspaceFolders?.[0]?.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectFolders: true, canSelectFiles: false, canSelectMany: false, defaultUri: here,
    openLabel: 'Create the Example Here', title: 'Tensor Port: where to create tensorport-example/',
  });
  if (!picked?.[0]) return;
  const dir = vscode.Uri.joinPath(picked[0], 'tensorport-example');
  await vscode.workspace.fs.createDirectory(dir);
  for (const f of FILES) {
    const to = vscode.Uri.joinPath(dir, f);
    // An example already there (perhaps edited) is opened, not overwritten.
    if (await vscode.workspace.fs.stat(to).then(() => true, () => false)) continue;
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(context.extensionUri, 'media', 'example', f), to);
  }
  const mapping = vscode.Uri.joinPath(dir, 'port.tpmap');
  if (vscode.workspace.getWorkspaceFolder(dir)) {
    await vscode.window.showTextDocument(mapping);
    await vscode.commands.executeCommand('workbench.actions.view.problems');
  } else {
    await vscode.commands.executeCommand('vscode.openFolder', dir);
  }
}
