/**
 * The small files beside a checkpoint that checks read (`config.json`, `params.json`: the framework
 * that wrote it, head counts, a model class's sizes). Beside a local checkpoint they are read where they
 * are; beside a remote one they are fetched once (from the commit the checkpoint was read at) into a
 * folder of the header cache, one per remote folder, so the synchronous readers that stat and read them
 * find them on disk — offline too. A file the server does not have is removed from that folder: a
 * config.json deleted upstream is not answered from an old copy.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ReaderError } from '../readerError';
import { headerCacheDir } from './hubSettings';
import { RemoteFile, missingFiles, newSession, remoteSession } from './remoteFile';
import { hfName, isRemote, parseRemote, remoteSibling } from './remoteName';

export type BesideFile = 'config.json' | 'params.json';
export const BESIDE_FILES: readonly BesideFile[] = ['config.json', 'params.json'];
/** A config file is a few KB; more than this is not one (and is never fetched whole). */
const MAX_BESIDE_BYTES = 4 * 2 ** 20;

/** Where `name` beside `checkpoint` is on this machine: beside it, or its fetched copy for a remote one. */
export function besidePath(checkpoint: string, name: BesideFile): string {
  if (!isRemote(checkpoint)) return path.join(path.dirname(checkpoint), name);
  return path.join(headerCacheDir(), 'beside', folderKey(checkpoint), name);
}

/** The remote folder as written (revision included): two names of one folder share their copies. */
function folderKey(checkpoint: string): string {
  const p = parseRemote(checkpoint);
  const folder = typeof p === 'string' ? checkpoint
    : p.kind === 'hf' ? `${p.repo}@${p.revision}/${p.file ? path.posix.dirname(p.file) : '.'}`
      : new URL('.', p.url).href;
  return createHash('sha1').update(folder).digest('hex');
}

const fetched = new Map<string, Promise<void>>();
/** Why a file beside a remote checkpoint could not be had, by checkpoint (a file the server lacks is no problem). */
const problems = new Map<string, string>();

/**
 * The reason the files beside a remote checkpoint are not all there to read, when one could not be fetched
 * or kept (offline with no copy, a server error, a header cache that cannot be written): checks that read
 * them did not run, and a mapping says so.
 */
export function besideProblem(checkpoint: string): string | undefined {
  return problems.get(checkpoint);
}

/**
 * Fetches the files beside a remote checkpoint into their copies, once per process for one commit
 * (`commit`: the one its header was read at, so both come from one version). Never throws: a copy that
 * cannot be refreshed (offline, a server error) stays as it was, and a missing copy is a missing file.
 */
export function fetchBeside(checkpoint: string, commit?: string): Promise<void> {
  if (!isRemote(checkpoint)) return Promise.resolve();
  const key = `${checkpoint}\0${commit ?? ''}`;
  let job = fetched.get(key);
  if (!job) {
    job = Promise.all(BESIDE_FILES.map((name) => fetchOne(checkpoint, commit, name))).then(() => undefined);
    fetched.set(key, job);
  }
  return job;
}

async function fetchOne(checkpoint: string, commit: string | undefined, name: BesideFile): Promise<void> {
  const copy = besidePath(checkpoint, name);
  const p = parseRemote(checkpoint);
  if (typeof p === 'string') return;
  const at = p.kind === 'hf' && commit ? hfName(p.repo, commit, p.file ?? name) : checkpoint;
  const sibling = remoteSibling(at, name);
  try {
    const bytes = await remoteSession.run(newSession(), async () => {
      const file = await RemoteFile.open(sibling, sibling);
      try {
        if (file.size > MAX_BESIDE_BYTES) return undefined;
        const buf = Buffer.alloc(file.size);
        await file.read(buf, 0, 0, file.size);
        return buf;
      } finally {
        await file.close();
      }
    });
    if (!bytes) return;
    await fs.mkdir(path.dirname(copy), { recursive: true });
    const tmp = `${copy}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await fs.writeFile(tmp, bytes);
    await fs.rename(tmp, copy);
    problems.delete(checkpoint);
  } catch (e) {
    if (e instanceof ReaderError && missingFiles.has(e)) await fs.rm(copy, { force: true }).catch(() => undefined);
    // A copy from an earlier fetch still answers; without one, the checks that read the file go without it.
    else if (!(await fs.stat(copy).then(() => true, () => false))) problems.set(checkpoint, `${name}: ${e instanceof ReaderError ? e.reason : (e as Error).message}`);
  }
}
