/**
 * Confinement to a set of folders (the MCP server's roots). An agent's tool call runs inside
 * `confinement.run(roots, …)`; every file the readers open (through openRegular, so a sharded index's
 * shards, ONNX external data, a `.pdiparams`' model file, a mapping's sides, model source and its
 * imports alike) is checked there, on the file actually opened: its real path (symlinks followed) is
 * looked up and must be the very inode the handle holds, so swapping a symlink between the check and
 * the open cannot redirect a read. Outside a confinement (the CLI, the editor) nothing is checked.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { Stats, promises as fs, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { clip } from './clip';

export interface Roots {
  /** Real paths (symlinks resolved) of the folders inside which files may be read and written. */
  readonly dirs: readonly string[];
}

export const confinement = new AsyncLocalStorage<Roots>();

/** A path that lands outside the roots; its message is the reason (describeFsError passes it through). */
export class OutsideRoots extends Error {
  readonly code = 'EOUTSIDEROOTS';
}

/** Whether `real` is `dir` or under it (both real, absolute paths). */
export function isWithin(real: string, dir: string): boolean {
  const rel = path.relative(dir, real);
  // `..foo` is a name under dir; `..` and `../x` leave it; another drive is absolute.
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** The roots as a refusal names them: a few, each clipped. */
export function rootsText(roots: Roots): string {
  const shown = roots.dirs.slice(0, 6).map((d) => clip(d, 200));
  const more = roots.dirs.length - shown.length;
  return shown.length ? `${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}` : 'none';
}

export function outsideMessage(roots: Roots): string {
  return `is outside the server's roots (${rootsText(roots)}); start it with --allow DIR or announce the folder as a client root`;
}

/** `real` checked against the roots; throws OutsideRoots. */
export function assertWithin(real: string, roots: Roots): void {
  if (!roots.dirs.some((d) => isWithin(real, d))) throw new OutsideRoots(outsideMessage(roots));
}

/**
 * The real path of `p`, or for a path that does not exist yet (an output), where a write there would
 * land: the real path of its deepest existing folder with the rest appended. Walked from the top one
 * component at a time, as the kernel does, so `link/../x` goes up from the link's target (not from
 * the folder holding the link, as a textual normalisation would), and a path of a million components
 * costs as many steps as exist (not one per component).
 */
export async function realpathNearest(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { root, parts } = components(p);
  let cur = await fs.realpath(root);
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '..') { cur = path.dirname(cur); continue; }
    try {
      cur = await fs.realpath(path.join(cur, parts[i]));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return path.join(cur, ...parts.slice(i));
    }
  }
  return cur;
}

/** realpathNearest for the synchronous callers. */
export function realpathNearestSync(p: string): string {
  try {
    return realpathSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const { root, parts } = components(p);
  let cur = realpathSync(root);
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] === '..') { cur = path.dirname(cur); continue; }
    try {
      cur = realpathSync(path.join(cur, parts[i]));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      return path.join(cur, ...parts.slice(i));
    }
  }
  return cur;
}

/** The absolute path's root and its components, `..` kept (not normalised away), `.` and empty ones dropped. */
function components(p: string): { root: string; parts: string[] } {
  const abs = path.isAbsolute(p) ? p : `${process.cwd()}${path.sep}${p}`;
  const root = path.parse(abs).root;
  return { root, parts: abs.slice(root.length).split(process.platform === 'win32' ? /[\\/]/ : '/').filter((c) => c !== '' && c !== '.') };
}

/** Inside the current confinement (if any), the path `p` names (symlinks followed) must be under a root. */
export async function checkPath(p: string): Promise<void> {
  const roots = confinement.getStore();
  if (roots) assertWithin(await realpathNearest(p), roots);
}

/**
 * After an open: the file the handle holds must be the one at `p`'s real path, and that path under
 * the confinement's roots and under `within` (a model's folder, for its external data) when given.
 */
export async function checkOpened(p: string, stats: Stats, within?: string): Promise<void> {
  const roots = confinement.getStore();
  if (!roots && within === undefined) return;
  const real = await fs.realpath(p);
  sameFile(stats, await fs.stat(real));
  check(real, roots, within);
}

export function checkOpenedSync(p: string, stats: Stats, within?: string): void {
  const roots = confinement.getStore();
  if (!roots && within === undefined) return;
  const real = realpathSync(p);
  sameFile(stats, statSync(real));
  check(real, roots, within);
}

function sameFile(opened: Stats, named: Stats): void {
  if (opened.dev !== named.dev || opened.ino !== named.ino) throw new OutsideRoots('changed while it was being opened (a symlink swapped?): not read');
}

function check(real: string, roots: Roots | undefined, within: string | undefined): void {
  if (within !== undefined && !isWithin(real, realpathNearestSync(within))) throw new OutsideRoots(`resolves outside ${clip(within, 200)} (symlinks followed): not read`);
  if (roots) assertWithin(real, roots);
}
