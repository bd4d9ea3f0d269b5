/**
 * Tensor Port's operations as language-model tools for chat agents (package.json
 * `contributes.languageModelTools`): each call is one `tensorport/tool` request to the language server,
 * which runs the same core as `tensorport … --json` and `tensorport mcp`. Glue only: the answer is the
 * server's document. Writing a checkpoint (convert) and running models or a script (parity) are
 * confirmed by the user first; parity's command and eager modes need a trusted workspace, as the panel
 * does, and eager mode runs in the interpreter the panel would use when the call names none.
 */
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { TOOL_NAMES, TOOL_REQUEST, ToolName, ToolParams, ToolResult } from '../../server/src/lsp/protocol';
import { pythonInterpreter } from './pythonInterpreter';

/** package.json's tool names: `tensorport_keys`, … */
export const lmToolName = (name: ToolName): string => `tensorport_${name}`;

type Input = Record<string, unknown>;

/** Eager mode: a `FILE.py::NAME` model on either side (as the parity tool decides). */
const isEager = (input: Input) => [input.reference, input.candidate].some((s) => typeof s === 'string' && /\.py::[A-Za-z_]\w*$/.test(s));

export function registerLanguageModelTools(context: vscode.ExtensionContext, getClient: () => LanguageClient | undefined, output: vscode.LogOutputChannel): void {
  for (const name of TOOL_NAMES) context.subscriptions.push(vscode.lm.registerTool<Input>(lmToolName(name), new TensorPortTool(name, getClient, output)));
  // Which of our tools the editor has (the e2e test reads this notification).
  context.subscriptions.push(vscode.commands.registerCommand('tensorport.listLanguageModelTools', () => {
    const ours = vscode.lm.tools.filter((t) => t.name.startsWith('tensorport_')).map((t) => t.name).sort();
    const line = `${ours.length} language-model tools registered: ${ours.join(', ')}`;
    output.info(line);
    void vscode.window.showInformationMessage(`Tensor Port: ${line}`);
    return ours;
  }));
}

class TensorPortTool implements vscode.LanguageModelTool<Input> {
  constructor(private readonly name: ToolName, private readonly getClient: () => LanguageClient | undefined, private readonly output: vscode.LogOutputChannel) {}

  prepareInvocation(options: vscode.LanguageModelToolInvocationPrepareOptions<Input>): vscode.PreparedToolInvocation {
    const input = options.input ?? {};
    const text = (k: string) => (typeof input[k] === 'string' ? (input[k] as string) : '');
    switch (this.name) {
      case 'convert': {
        const message = new vscode.MarkdownString().appendMarkdown('Write the checkpoint ').appendText(text('output'))
          .appendMarkdown(' from the mapping ').appendText(text('mapping'))
          .appendMarkdown(input.force === true ? ', **replacing the file if it exists**?' : '?');
        return { invocationMessage: `Converting ${text('mapping')} to ${text('output')}`, confirmationMessages: { title: 'Tensor Port: convert a checkpoint', message } };
      }
      case 'parity': {
        const message = input.command !== undefined
          ? new vscode.MarkdownString().appendMarkdown('Run this command (your own comparison script) in ').appendText(text('cwd') || 'the workspace folder').appendMarkdown('?').appendCodeblock(text('command'), 'shell')
          : new vscode.MarkdownString().appendMarkdown('Run ').appendText(text('reference')).appendMarkdown(' and ').appendText(text('candidate'))
            .appendMarkdown(isEager(input) ? ' (your own model code, in your Python) on the same inputs and compare every module?' : ' with onnxruntime on the same inputs and compare their outputs?');
        return { invocationMessage: 'Running a parity check', confirmationMessages: { title: 'Tensor Port: run a parity check', message } };
      }
      default:
        return { invocationMessage: `Tensor Port: ${this.name}` };
    }
  }

  async invoke(options: vscode.LanguageModelToolInvocationOptions<Input>, token: vscode.CancellationToken): Promise<vscode.LanguageModelToolResult> {
    const input = options.input ?? {};
    // Errors thrown here reach the model as the tool's answer: one line it can act on.
    if (this.name === 'parity' && input.command !== undefined && !vscode.workspace.isTrusted) {
      throw new Error('command mode runs your own script: it is only available in a trusted workspace (Workspaces: Manage Workspace Trust)');
    }
    let sent = input;
    if (this.name === 'parity' && isEager(input)) {
      if (!vscode.workspace.isTrusted) throw new Error('eager mode runs your own model code: it is only available in a trusted workspace (Workspaces: Manage Workspace Trust)');
      if (input.python === undefined && input.launcher === undefined) {
        const python = await pythonInterpreter(vscode.workspace.workspaceFolders?.[0]?.uri);
        this.output.info(`parity tool (eager): Python ${python.path} (from ${python.from})`);
        sent = { ...input, python: python.path };
      }
    }
    const client = this.getClient();
    if (!client) throw new Error('the Tensor Port language server is not running (Tensor Port: Restart Language Server)');
    const result = await client.sendRequest<ToolResult>(TOOL_REQUEST, { name: this.name, input: sent, trusted: vscode.workspace.isTrusted } satisfies ToolParams, token);
    if (!result.ok) throw new Error(result.message);
    return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(JSON.stringify(result.json))]);
  }
}
