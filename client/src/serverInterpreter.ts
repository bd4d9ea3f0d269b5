/**
 * The interpreter the language server resolves model source's imports through: the one the user chose
 * (the Python extension's selected interpreter, else `tensorport.python` — pythonInterpreter.ts, the
 * same as eager parity runs in), sent at start in initializationOptions and again whenever it changes.
 * Nothing chosen sends nothing: the server then looks for a `.venv` above each model file itself (and
 * reads it without running it). In an untrusted workspace nothing is sent: the server runs the
 * interpreter it is given, and an interpreter inside an untrusted folder could be anything.
 */
import { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { PYTHON_INTERPRETER_NOTIFICATION, PythonInterpreterParams } from '../../server/src/lsp/protocol';
import { pythonInterpreter } from './pythonInterpreter';

export async function chosenInterpreter(): Promise<string | undefined> {
  if (!vscode.workspace.isTrusted) return undefined;
  const found = await pythonInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri);
  return found.from === 'default' ? undefined : found.path;
}

/** Re-sends the chosen interpreter when the setting or the Python extension's selection changes. */
export function followInterpreter(context: vscode.ExtensionContext, client: LanguageClient, initial: string | undefined): void {
  let last = initial;
  const send = async () => {
    const path = await chosenInterpreter();
    if (path === last) return;
    last = path;
    const params: PythonInterpreterParams = path ? { path } : {};
    await client.sendNotification(PYTHON_INTERPRETER_NOTIFICATION, params);
  };
  context.subscriptions.push(
    vscode.workspace.onDidChangeConfiguration((e) => { if (e.affectsConfiguration('tensorport.python')) void send(); }),
    vscode.workspace.onDidGrantWorkspaceTrust(() => void send()),
  );
  if (vscode.extensions.getExtension('ms-python.python')) {
    PythonExtension.api().then(
      (api) => context.subscriptions.push(api.environments.onDidChangeActiveEnvironmentPath(() => void send())),
      () => undefined, // disabled or failed to activate: the setting still applies
    );
  }
}
