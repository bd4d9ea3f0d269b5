/**
 * The workspace at a glance (the Explorer's Tensor Port view): every checkpoint with its format and
 * tensor count or why it cannot be read, every mapping file with its error and warning counts — from
 * the open document's analysis when the editor has it, else from the file on disk.
 */
import { tensorCount } from '../index/tensorColumns';
import { CheckpointGroup, checkpointGroup, nameInGroup } from '../index/checkpointGroups';
import { CheckpointIndex, IndexEntry } from '../index/checkpointIndex';
import { checkMappingFile } from './checkFile';
import type { MappingDiagnostic } from './diagnostics';

export interface WorkspaceEntry {
  path: string; kind: 'checkpoint' | 'mapping'; ok: boolean;
  /** The name shown: relative to the workspace, or inside its group (`optimizer.pt` under `checkpoint-500`). */
  label: string;
  detail: string; errors: number; warnings: number;
  /** Files that are plainly something else (Trainer settings, an LFS pointer): said, not alarmed. */
  infos: number;
  /** A training step's folder or a hub snapshot the file belongs to. */
  group?: CheckpointGroup;
}

export interface WorkspaceFiles {
  checkpoints: readonly string[];
  mappings: readonly string[];
  /** Diagnostics of mappings open in the editor, by path: newer than the files on disk. */
  open: ReadonlyMap<string, readonly MappingDiagnostic[]>;
  maxMappingBytes: number;
  /** Checkpoints listed but not read yet (past the eager limit): summarised without reading them. */
  pending?: ReadonlySet<string>;
  /** The name the user knows a file by (relative to the workspace). */
  relative: (file: string) => string;
}

const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;

const CONTENT_LABEL = { 'optimizer-state': 'optimizer state', 'scheduler-state': 'scheduler state', 'rng-state': 'RNG state' } as const;

function checkpointEntry(file: string, e: IndexEntry | undefined, relative: (f: string) => string): WorkspaceEntry {
  const group = checkpointGroup(file, relative);
  const base = { path: file, kind: 'checkpoint' as const, label: nameInGroup(file, group, relative), errors: 0, warnings: 0, infos: 0, ...(group ? { group } : {}) };
  if (!e) return { ...base, ok: true, detail: 'not read yet' };
  if (e.ok) {
    const what = e.info.content ? `, ${CONTENT_LABEL[e.info.content]}` : '';
    return { ...base, ok: true, detail: `${e.info.format}${what}, ${plural(tensorCount(e.info), 'tensor')}` };
  }
  return e.error.code === 'not-a-checkpoint' ? { ...base, ok: false, detail: e.error.reason, infos: 1 } : { ...base, ok: false, detail: e.error.reason, errors: 1 };
}

export async function summarizeWorkspace(files: WorkspaceFiles, index: CheckpointIndex): Promise<WorkspaceEntry[]> {
  const entries: WorkspaceEntry[] = [];
  for (const file of [...files.checkpoints].sort()) {
    const e = files.pending?.has(file) ? index.peek(file) : await index.get(file);
    entries.push(checkpointEntry(file, e, files.relative));
  }
  for (const file of [...files.mappings].sort()) {
    const diagnostics = files.open.get(file)
      ?? await checkMappingFile(file, index, files.maxMappingBytes).then((c) => c.analysis.diagnostics, () => undefined);
    const label = files.relative(file);
    if (!diagnostics) { entries.push({ path: file, kind: 'mapping', label, ok: false, detail: 'cannot be read', errors: 1, warnings: 0, infos: 0 }); continue; }
    const errors = diagnostics.filter((d) => d.severity === 'error').length;
    const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
    entries.push({ path: file, kind: 'mapping', label, ok: errors === 0, detail: errors || warnings ? `${plural(errors, 'error')}, ${plural(warnings, 'warning')}` : 'clean', errors, warnings, infos: 0 });
  }
  return entries;
}
