/**
 * The workspace at a glance (the Explorer's Tensor Port view): every checkpoint with its format and
 * tensor count or why it cannot be read, every mapping file with its error and warning counts — from
 * the open document's analysis when the editor has it, else from the file on disk.
 */
import { CheckpointIndex } from '../index/checkpointIndex';
import { checkMappingFile } from './checkFile';
import type { MappingDiagnostic } from './diagnostics';

export interface WorkspaceEntry { path: string; kind: 'checkpoint' | 'mapping'; ok: boolean; detail: string; errors: number; warnings: number }

export interface WorkspaceFiles {
  checkpoints: readonly string[];
  mappings: readonly string[];
  /** Diagnostics of mappings open in the editor, by path: newer than the files on disk. */
  open: ReadonlyMap<string, readonly MappingDiagnostic[]>;
  maxMappingBytes: number;
}

export async function summarizeWorkspace(files: WorkspaceFiles, index: CheckpointIndex): Promise<WorkspaceEntry[]> {
  const entries: WorkspaceEntry[] = [];
  for (const file of [...files.checkpoints].sort()) {
    const e = await index.get(file);
    entries.push(e.ok
      ? { path: file, kind: 'checkpoint', ok: true, detail: `${e.info.format}, ${e.info.tensors.length} tensors`, errors: 0, warnings: 0 }
      : { path: file, kind: 'checkpoint', ok: false, detail: e.error.reason, errors: 1, warnings: 0 });
  }
  for (const file of [...files.mappings].sort()) {
    const diagnostics = files.open.get(file)
      ?? await checkMappingFile(file, index, files.maxMappingBytes).then((c) => c.analysis.diagnostics, () => undefined);
    if (!diagnostics) { entries.push({ path: file, kind: 'mapping', ok: false, detail: 'cannot be read', errors: 1, warnings: 0 }); continue; }
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
    entries.push({ path: file, kind: 'mapping', ok: errors === 0, detail: errors || warnings ? `${errors} errors, ${warnings} warnings` : 'clean', errors, warnings });
  }
  return entries;
}
