/**
 * Finds checkpoint and mapping files under workspace folders. Skips the folders that never hold a user's
 * checkpoints but can hold millions of files (node_modules, .git, virtual environments).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { openRegular } from '../formats/openRegular';
import { MAPPING_EXTENSION, isCheckpointPath, isSourceName } from '../formats/fileKinds';
import { hubSnapshotFile } from '../formats/hubCache';

const SKIP = new Set(['node_modules', '.git', '.hg', '.svn', '__pycache__', '.venv', 'venv', '.tox', '.mypy_cache', '.vscode-test']);

/**
 * `.bin` is also what ONNX external data, tokenizers and many other tools write: in workspace
 * discovery a `.bin` counts only when it starts like a torch.save file (zip or pickle), so those
 * blobs do not show up as "unreadable checkpoints". Asked for explicitly, any `.bin` is still read.
 */
async function looksLikeCheckpoint(file: string): Promise<boolean> {
  if (path.extname(file).toLowerCase() !== '.bin') return true;
  let fh: fs.FileHandle | undefined;
  try {
    fh = (await openRegular(file)).handle; // not a plain open: a pipe named x.bin would block
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    return (bytesRead >= 4 && buffer.readUInt32LE(0) === 0x04034b50) || (bytesRead >= 1 && buffer[0] === 0x80);
  } catch {
    return false;
  } finally {
    await fh?.close();
  }
}

/**
 * Checkpoints under a folder. A file reached through symlinks is listed once per target: in a hub
 * cache every revision's snapshot links to the same blobs, and the one listed is the revision a
 * branch (`refs/main`) points at.
 */
export async function findCheckpoints(root: string, opts: FindOptions = {}): Promise<string[]> {
  const links = new Set<string>();
  const found = await findFiles(root, async (p) => isCheckpointPath(p) && (await looksLikeCheckpoint(p)), { ...opts, links });
  return links.size ? onePerTarget(found, links) : found;
}

async function onePerTarget(found: string[], links: ReadonlySet<string>): Promise<string[]> {
  const byTarget = new Map<string, string[]>();
  for (const p of found) {
    const target = links.has(p) ? await fs.realpath(p).catch(() => p) : p;
    const same = byTarget.get(target);
    if (same) same.push(p);
    else byTarget.set(target, [p]);
  }
  const refs = new Map<string, Promise<Set<string>>>();
  const keep = new Set<string>();
  for (const paths of byTarget.values()) {
    if (paths.length === 1) { keep.add(paths[0]); continue; }
    let best = paths[0];
    for (const p of paths) {
      const snap = hubSnapshotFile(p);
      if (!snap) { best = p; break; } // the user's own link wins over a cache's
      let named = refs.get(snap.repoDir);
      if (!named) refs.set(snap.repoDir, named = branchRevisions(snap.repoDir));
      if ((await named).has(snap.revision)) best = p;
    }
    keep.add(best);
  }
  return found.filter((p) => keep.has(p));
}

/** The revisions a hub repo's branches point at (`refs/main` holds a commit hash). */
async function branchRevisions(repoDir: string): Promise<Set<string>> {
  const dir = path.join(repoDir, 'refs');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const revs = await Promise.all(names.map((n) => fs.readFile(path.join(dir, n), 'latin1').then((t) => t.trim().slice(0, 64), () => '')));
  return new Set(revs.filter(Boolean));
}

/** Mapping files (`*.tpmap`) under a folder, for the workspace overview. */
export function findMappings(root: string, opts: FindOptions = {}): Promise<string[]> {
  return findFiles(root, (p) => p.endsWith(MAPPING_EXTENSION), opts);
}

export interface FindOptions {
  maxDepth?: number;
  maxFiles?: number;
  /** Folder names to skip besides the built-in ones (the `tensorport.index.exclude` setting). */
  exclude?: string[];
}

interface WalkOptions extends FindOptions {
  /** Filled with the found paths that are symlinks (to regular files: links to folders are not followed). */
  links?: Set<string>;
}

/** Model source a mapping may name (`FILE.py::Class`): Python and TypeScript files, declarations excluded. */
export function findModelSources(root: string, opts: FindOptions = {}): Promise<string[]> {
  return findFiles(root, isSourceName, opts);
}

/** A link whose target is a regular file (a dangling or looping link, or one to a folder, is not). */
async function isFileLink(p: string): Promise<boolean> {
  return fs.stat(p).then((st) => st.isFile(), () => false);
}

async function findFiles(root: string, accept: (path: string) => boolean | Promise<boolean>, opts: WalkOptions): Promise<string[]> {
  const skip = new Set([...SKIP, ...(opts.exclude ?? [])]);
  const maxDepth = opts.maxDepth ?? 12;
  const maxFiles = opts.maxFiles ?? 10_000;
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > maxDepth || found.length >= maxFiles) return;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return; // An unreadable folder is not an error the user asked about.
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      if (found.length >= maxFiles) return;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (!skip.has(e.name)) await walk(p, depth + 1);
      } else if (e.isFile() && (await accept(p))) {
        found.push(p);
      } else if (e.isSymbolicLink() && (await accept(p)) && (await isFileLink(p))) {
        found.push(p);
        opts.links?.add(p);
      }
    }
  };
  await walk(root, 0);
  return found;
}
