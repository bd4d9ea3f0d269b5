/**
 * *Tensor Port: Convert with Mapping*: the output format picked from a list (the mapping's target's
 * own format first), the file from a save dialog, the conversion in the language server with progress
 * and cancel, the result opened in the checkpoint viewer. Warnings go to the Output channel.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { CONVERT_PROGRESS_NOTIFICATION, CONVERT_REQUEST, ConvertParams, ConvertProgressParams, ConvertResult } from '../../server/src/lsp/protocol';
import { count } from './plural';

type Format = ConvertParams['format'];
const FORMATS: { format: Format; ext: string; label: string; detail: string }[] = [
  { format: 'safetensors', ext: 'safetensors', label: 'safetensors', detail: 'transformers, safetensors.safe_open, any framework' },
  { format: 'paddle', ext: 'pdparams', label: 'Paddle (.pdparams)', detail: 'paddle.load and Layer.set_state_dict' },
  { format: 'torch', ext: 'pt', label: 'PyTorch (.pt)', detail: 'torch.load(weights_only=True)' },
  { format: 'gguf', ext: 'gguf', label: 'GGUF', detail: 'llama.cpp, gguf-py (the target\'s metadata carried over)' },
];

const listeners = new Map<string, (p: ConvertProgressParams) => void>();
let runs = 0;

/** One handler for the progress notifications of every run (a second registration would replace the first). */
export function listenForConvertProgress(client: LanguageClient): vscode.Disposable {
  return client.onNotification(CONVERT_PROGRESS_NOTIFICATION, (p: ConvertProgressParams) => listeners.get(p.id)?.(p));
}

export async function convertMappingCommand(client: LanguageClient | undefined, output: vscode.OutputChannel, arg?: vscode.Uri): Promise<void> {
  const mapping = arg ?? (vscode.window.activeTextEditor?.document.languageId === 'tpmap' ? vscode.window.activeTextEditor.document.uri : undefined);
  if (!client || !mapping) {
    void vscode.window.showWarningMessage('Tensor Port: open a mapping file (.tpmap) to convert with it.');
    return;
  }
  const doc = await vscode.workspace.openTextDocument(mapping);
  if (doc.isDirty) await doc.save();
  const target = /^\s*target\s+(\S+)/m.exec(doc.getText())?.[1] ?? '';
  const first = FORMATS.find((f) => target.toLowerCase().endsWith(`.${f.ext}`) || (f.format === 'torch' && /\.(pt|pth|bin)$/i.test(target)));
  const items = [...(first ? [first] : []), ...FORMATS.filter((f) => f !== first)].map((f) => ({ ...f, description: f === first ? 'the target\'s format' : undefined }));
  const picked = await vscode.window.showQuickPick(items, { title: 'Tensor Port: convert into', placeHolder: 'Output format' });
  if (!picked) return;
  const stem = path.basename(mapping.fsPath, '.tpmap');
  const out = await vscode.window.showSaveDialog({
    defaultUri: vscode.Uri.file(path.join(path.dirname(mapping.fsPath), `${stem}.${picked.ext}`)),
    filters: { [picked.label]: picked.format === 'torch' ? ['pt', 'pth', 'bin'] : [picked.ext] }, saveLabel: 'Convert',
  });
  if (!out) return;
  const id = `convert-${++runs}`;
  const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Tensor Port: converting into ${path.basename(out.fsPath)}`, cancellable: true },
    async (progress, token) => {
      let shown = 0;
      listeners.set(id, (p) => {
        const pct = (100 * p.done) / Math.max(1, p.total);
        progress.report({ increment: pct - shown, message: `${p.done}/${p.total} ${p.key}` });
        shown = pct;
      });
      try {
        // The save dialog already asked whether to replace an existing file.
        return await client.sendRequest<ConvertResult>(CONVERT_REQUEST, { id, mapping: mapping.fsPath, output: out.fsPath, format: picked.format, force: true } satisfies ConvertParams, token);
      } catch (e) {
        return { ok: false, message: e instanceof Error ? e.message : String(e), cancelled: token.isCancellationRequested } as ConvertResult;
      } finally {
        listeners.delete(id);
      }
    });
  if (!result.ok) {
    output.appendLine(`convert ${mapping.fsPath}: ${result.message}`);
    if (result.cancelled) void vscode.window.showInformationMessage(`Tensor Port: conversion cancelled; nothing was written to ${path.basename(out.fsPath)}.`);
    else void vscode.window.showErrorMessage(`Tensor Port: ${result.message.split('\n')[0]}`, 'Show Output').then((c) => (c ? output.show(true) : undefined));
    return;
  }
  for (const w of result.warnings) output.appendLine(`warning: ${w}`);
  const written = vscode.Uri.file(result.output);
  output.appendLine(`wrote ${result.output}: ${count(result.tensors, 'tensor')} in ${(result.ms / 1000).toFixed(1)} s`);
  const choice = await vscode.window.showInformationMessage(
    `Tensor Port: wrote ${path.basename(result.output)}${result.shards ? ` and ${count(result.shards, 'shard')}` : ''}: ${count(result.tensors, 'tensor')}${result.warnings.length ? ` (${count(result.warnings.length, 'warning')} in the Output)` : ''}.`,
    'Open in Viewer');
  if (choice) await vscode.commands.executeCommand('vscode.openWith', written, 'tensorport.checkpointViewer');
}
