/** The extension's commands, each a thin request to the server and a way to show its answer. */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { CHECKPOINT_DIALOG_EXTENSIONS, KEYS_REQUEST, KeysParams, KeysResult } from '../../server/src/lsp/protocol';
import { convertMappingCommand } from './convertMapping';
import { createExample } from './createExample';
import { generateMappingCommand } from './generateMapping';
import { ParityPanel } from './parityPanel';

export function registerCommands(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined, output: vscode.OutputChannel): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('tensorport.showKeys', async (uri?: vscode.Uri) => {
      const client = getClient();
      if (!client) return;
      const target = uri ?? (await pickCheckpoint());
      if (!target) return;
      const result = await client.sendRequest<KeysResult>(KEYS_REQUEST, { path: target.fsPath } satisfies KeysParams);
      if (!result.ok) {
        void vscode.window.showErrorMessage(`Tensor Port: ${result.message}`);
        return;
      }
      const doc = await vscode.workspace.openTextDocument({ language: 'json', content: JSON.stringify(result.keys, null, 1) });
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
    vscode.commands.registerCommand('tensorport.showOutput', () => output.show(true)),
    vscode.commands.registerCommand('tensorport.generateMapping', () => generateMappingCommand(getClient())),
    vscode.commands.registerCommand('tensorport.runParity', (mapping?: string | vscode.Uri) => {
      const uri = typeof mapping === 'string' ? vscode.Uri.parse(mapping) : mapping
        ?? (vscode.window.activeTextEditor?.document.languageId === 'tpmap' ? vscode.window.activeTextEditor.document.uri : undefined);
      ParityPanel.show(context, getClient(), output, uri);
    }),
    vscode.commands.registerCommand('tensorport.createExample', () => createExample(context)),
    vscode.commands.registerCommand('tensorport.convertMapping', (uri?: vscode.Uri) => convertMappingCommand(getClient(), output, uri)),
    vscode.commands.registerCommand('tensorport.restartServer', async () => {
      await getClient()?.restart();
    }),
  );
}

async function pickCheckpoint(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    openLabel: 'Show keys',
    filters: { Checkpoints: [...CHECKPOINT_DIALOG_EXTENSIONS] },
  });
  return picked?.[0];
}
