/**
 * What happens when the language server dies: it is restarted (at most 4 times in 3 minutes, as the
 * library's default allows) and the user is told, in a notification and in the log — a silent restart
 * would leave them wondering why their diagnostics blinked. Past the limit it stays down and says how
 * to bring it back.
 */
import * as vscode from 'vscode';
import { CloseAction, ErrorAction, ErrorHandler } from 'vscode-languageclient/node';

const MAX_RESTARTS = 4;
const WINDOW_MS = 3 * 60 * 1000;

export function crashPolicy(output: vscode.LogOutputChannel): ErrorHandler {
  const restarts: number[] = [];
  return {
    error: (_error, _message, count) => ({ action: count !== undefined && count <= 3 ? ErrorAction.Continue : ErrorAction.Shutdown }),
    closed: () => {
      const now = Date.now();
      while (restarts.length && now - restarts[0] > WINDOW_MS) restarts.shift();
      restarts.push(now);
      if (restarts.length > MAX_RESTARTS) {
        const message = `Tensor Port: the language server stopped ${restarts.length} times in 3 minutes and was not restarted again. See the Output channel, then run "Tensor Port: Restart Language Server".`;
        output.error(message);
        return { action: CloseAction.DoNotRestart, message };
      }
      const message = `Tensor Port: the language server stopped unexpectedly and was restarted (${restarts.length} of ${MAX_RESTARTS} in 3 minutes).`;
      output.warn(message);
      void vscode.window.showWarningMessage(message, 'Show Logs').then((choice) => { if (choice) output.show(true); });
      return { action: CloseAction.Restart, handled: true };
    },
  };
}
