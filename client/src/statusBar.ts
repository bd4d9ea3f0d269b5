/** The status bar item: how many checkpoints the server has indexed, and how many it could not read. */
import * as vscode from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { StatusParams } from '../../server/src/lsp/protocol';
import { count } from './plural';

export function createStatusBar(context: vscode.ExtensionContext, client: LanguageClient, onStatus: vscode.Event<StatusParams>): void {
  const item = vscode.window.createStatusBarItem('tensorport.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Tensor Port';
  item.text = '$(sync~spin) Tensor Port';
  item.tooltip = 'Tensor Port: indexing checkpoints';
  item.command = 'tensorport.showOutput';
  item.show();
  context.subscriptions.push(item);
  context.subscriptions.push(onStatus((s) => {
    item.text = `$(database) ${count(s.checkpoints, 'checkpoint')}${s.unreadable ? ` $(warning) ${s.unreadable}` : ''}`;
    item.tooltip = `Tensor Port: ${count(s.checkpoints, 'checkpoint')} indexed (${s.pending ? `${s.pending} read when needed, ` : ''}${s.unreadable} unreadable), `
      + `${s.notCheckpoints ? `${count(s.notCheckpoints, 'other file')} (Trainer settings, LFS pointers, partial downloads), ` : ''}${count(s.openMappings, 'mapping file')} open`;
    item.backgroundColor = s.unreadable ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  }));
  context.subscriptions.push(client.onDidChangeState((e) => {
    if (e.newState === State.Stopped) {
      item.text = '$(error) Tensor Port';
      item.tooltip = 'Tensor Port: the language server stopped; see the Output channel';
    } else if (e.newState === State.Starting) {
      item.text = '$(sync~spin) Tensor Port';
    }
  }));
}
