/**
 * The Python that eager parity runs the user's models in: the Python extension's active environment
 * for the resource when ms-python.python is installed (its official API, @vscode/python-extension),
 * else the `tensorport.python` setting, else `python3` (`python` on Windows). Says where it came from,
 * for the Output channel.
 */
import { PythonExtension } from '@vscode/python-extension';
import * as vscode from 'vscode';

export interface Interpreter { path: string; from: 'python extension' | 'tensorport.python' | 'default' }

const PYTHON_EXTENSION = 'ms-python.python';

export async function pythonInterpreter(resource: vscode.Uri | undefined): Promise<Interpreter> {
  if (vscode.extensions.getExtension(PYTHON_EXTENSION)) {
    try {
      const api = await PythonExtension.api();
      const active = api.environments.getActiveEnvironmentPath(resource);
      const env = await api.environments.resolveEnvironment(active);
      const exe = env?.executable.uri?.fsPath;
      if (exe) return { path: exe, from: 'python extension' };
    } catch {
      // The extension is disabled or failed to activate: the setting still applies.
    }
  }
  const setting = vscode.workspace.getConfiguration('tensorport', resource).get<string>('python', '').trim();
  if (setting) return { path: setting, from: 'tensorport.python' };
  return { path: process.platform === 'win32' ? 'python' : 'python3', from: 'default' };
}
