/**
 * How a workspace's checkpoints group, by path: a training run's `checkpoint-N/` folders (Trainer,
 * Accelerate and Lightning name them so; the newest step first) and a hub cache's snapshots (one
 * group per repo revision). Ungrouped files are the user's own and come first — in the view, and in
 * the order the index reads headers when there are more files than it reads up front.
 */
import { isRemote } from '../formats/remote/remoteName';
import * as path from 'node:path';
import { hubDisplayName, hubSnapshotFile } from '../formats/hubCache';

export interface CheckpointGroup {
  kind: 'training-step' | 'hub-snapshot';
  /** Files with the same key are one group (the folder's path). */
  key: string;
  /** `checkpoint-1000`, or `org/name@86b5e09` for a hub snapshot. */
  label: string;
  /** Where the group sits: the run folder (relative to the workspace), or `hub cache`. */
  where: string;
  /** The training step (newest first); 0 for a hub snapshot. */
  step: number;
}

const STEP_FOLDER = /^(?:checkpoint|global_step|step|epoch)[-_=]?(\d{1,12})$/i;

/** The group a checkpoint belongs to, or undefined for a file of the user's own. */
export function checkpointGroup(file: string, relative: (p: string) => string): CheckpointGroup | undefined {
  const snap = hubSnapshotFile(file);
  if (snap) {
    const label = `${snap.repo}@${snap.revision.slice(0, 7)}`;
    return { kind: 'hub-snapshot', key: path.join(snap.repoDir, 'snapshots', snap.revision), label, where: 'hub cache', step: 0 };
  }
  const dir = path.dirname(file);
  const m = STEP_FOLDER.exec(path.basename(dir));
  if (!m) return undefined;
  const run = path.dirname(dir);
  return { kind: 'training-step', key: dir, label: path.basename(dir), where: relative(run) || '.', step: Number(m[1]) };
}

/** A file's name inside its group (`optimizer.pt`), or the name the user knows it by when ungrouped. */
export function nameInGroup(file: string, group: CheckpointGroup | undefined, relative: (p: string) => string): string {
  if (!group) return relative(file);
  const snap = hubSnapshotFile(file);
  return snap ? snap.file : path.basename(file);
}

/** A hub snapshot's file as `org/name@rev/file`; any other path as `relative` names it. */
export function displayName(file: string, relative: (p: string) => string): string {
  if (isRemote(file)) return file;   // hf://… and https://… are shown as written, never made relative
  const snap = hubSnapshotFile(file);
  return snap ? hubDisplayName(snap) : relative(file);
}

/**
 * The order headers are read in: the user's own files, then hub snapshots, then training checkpoints
 * newest step first across runs — so when only the first N are read up front, they are the ones a
 * porting engineer names.
 */
export function readOrder(files: readonly string[], relative: (p: string) => string): string[] {
  const rank = (f: string): [number, number] => {
    const g = checkpointGroup(f, relative);
    return !g ? [0, 0] : g.kind === 'hub-snapshot' ? [1, 0] : [2, -g.step];
  };
  const ranked = files.map((f, i) => ({ f, i, r: rank(f) }));
  ranked.sort((a, b) => a.r[0] - b.r[0] || a.r[1] - b.r[1] || a.i - b.i);
  return ranked.map((x) => x.f);
}
