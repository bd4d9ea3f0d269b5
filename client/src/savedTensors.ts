/**
 * The outcome of a parity panel "Save tensors" run, as a notification: the folder the pair went to, with
 * an action that shows it — the Explorer when the folder is in the workspace, the system's file manager
 * otherwise — or why nothing was saved (the run's own notes, which name the reason).
 */
import * as vscode from 'vscode';
import type { ParityResult } from '../../server/src/lsp/protocol';

export async function announceSavedTensors(module: string, r: ParityResult): Promise<void> {
  if (!r.ok) {
    if (r.message !== 'cancelled') void vscode.window.showErrorMessage(`Tensor Port: the tensors of ${module} were not saved: ${r.message}`);
    return;
  }
  const saved = r.report.savedTensors;
  if (!saved?.files.length) {
    const why = r.report.notes.filter((n) => n.startsWith('--save-tensors')).map((n) => n.replace(/^--save-tensors\s*/, '')).join('; ');
    void vscode.window.showWarningMessage(`Tensor Port: nothing saved for ${module}${why ? `: ${why}` : ''}`);
    return;
  }
  const inWorkspace = !!vscode.workspace.getWorkspaceFolder(vscode.Uri.file(saved.dir));
  const shown = inWorkspace ? vscode.workspace.asRelativePath(saved.dir) : saved.dir;
  const files = saved.files.flatMap((f) => [f.referenceFile, f.candidateFile]);
  const action = inWorkspace ? 'Reveal in Explorer' : 'Open Folder';
  const pick = await vscode.window.showInformationMessage(
    `Tensor Port: saved ${module}'s outputs (reference and candidate, ${files.length} .npy files) to ${shown}`, action);
  if (pick === 'Reveal in Explorer') await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(files[0]));
  else if (pick === 'Open Folder') await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(files[0]));
}
