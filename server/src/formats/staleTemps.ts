/**
 * Temporary files left by killed runs. A run killed with SIGKILL (or by a power cut) cannot remove its
 * temporary file, and a checkpoint's temporary file can be hundreds of MB, hidden by its leading dot.
 * The next run that writes into the same folder removes them — only names of this tool's own exact
 * pattern (publish.ts TEMP_PATTERN), only regular files (lstat: a link is never followed nor removed),
 * and only those not written to for an hour: a run still writing touches its file all the time, so a
 * concurrent run's file is never taken for a leftover.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { TEMP_PATTERN } from './publish';

/** A temporary file untouched this long belongs to no live run. */
export const STALE_AFTER_MS = 60 * 60 * 1000;

export interface RemovedTemp { file: string; bytes: number; ageMs: number }

/** Removes stale temporary files in `dir`; returns what was removed. Never throws: cleaning is a courtesy. */
export async function removeStaleTemps(dir: string, now = Date.now()): Promise<RemovedTemp[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: RemovedTemp[] = [];
  for (const name of names) {
    if (!TEMP_PATTERN.test(name)) continue;
    const file = path.join(dir, name);
    try {
      const st = await fs.lstat(file);
      if (!st.isFile()) continue;
      const ageMs = now - st.mtimeMs;
      if (ageMs < STALE_AFTER_MS) continue;
      await fs.unlink(file);
      removed.push({ file, bytes: st.size, ageMs });
    } catch {
      // Gone meanwhile (another run cleaned it), or not ours to remove: leave it.
    }
  }
  return removed;
}

/** `removed 2 stale temporary files left by interrupted runs in DIR: .a.….tensorport-tmp (300 MB, 3 h old), …`. */
export function describeRemoved(dir: string, removed: readonly RemovedTemp[]): string {
  const each = removed.map((r) => `${path.basename(r.file)} (${sizeText(r.bytes)}, ${Math.floor(r.ageMs / 3_600_000)} h old)`);
  return `removed ${removed.length} stale temporary file${removed.length === 1 ? '' : 's'} left by interrupted runs in ${dir}: ${each.join(', ')}`;
}

function sizeText(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}
