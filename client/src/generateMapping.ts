/** `Tensor Port: Generate Mapping`: pick a source and a target checkpoint, let the server propose and write the `.tpmap`, open it. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient } from 'vscode-languageclient/node';
import { CHECKPOINT_DIALOG_EXTENSIONS, GENERATE_MAPPING_REQUEST, GenerateMappingParams, GenerateMappingResult } from '../../server/src/lsp/protocol';
import { count } from './plural';

const CHECKPOINTS = { Checkpoints: [...CHECKPOINT_DIALOG_EXTENSIONS] };

export async function generateMappingCommand(client: LanguageClient | undefined): Promise<void> {
  if (!client) return;
  const [source] = (await vscode.window.showOpenDialog({ title: 'Source checkpoint (the weights you have)', openLabel: 'Source', filters: CHECKPOINTS })) ?? [];
  if (!source) return;
  const [target] = (await vscode.window.showOpenDialog({ title: 'Target checkpoint (the model you port to)', openLabel: 'Target', filters: CHECKPOINTS, defaultUri: source })) ?? [];
  if (!target) return;
  const stem = (u: vscode.Uri) => path.basename(u.fsPath).replace(/\..*$/, '');
  const suggested = vscode.Uri.joinPath(source, '..', `${stem(source)}_to_${stem(target)}.tpmap`);
  const output = await vscode.window.showSaveDialog({ title: 'Save the mapping', defaultUri: suggested, filters: { 'Tensor Port mapping': ['tpmap'] } });
  if (!output) return;
  // The save dialog already asked about replacing an existing file.
  const r = await client.sendRequest<GenerateMappingResult>(GENERATE_MAPPING_REQUEST,
    { source: source.fsPath, target: target.fsPath, output: output.fsPath, overwrite: true } satisfies GenerateMappingParams);
  if (!r.ok) {
    void vscode.window.showErrorMessage(`Tensor Port: ${r.message}`);
    return;
  }
  await vscode.window.showTextDocument(output);
  void vscode.window.showInformationMessage(`Tensor Port: ${count(r.rules, 'target tensor')} mapped (${r.lowConfidence} with low confidence, marked in the file); ` +
    `${count(r.unmappedSource, 'source tensor')} dropped, ${count(r.unmappedTarget, 'target tensor')} without a source.`);
}
