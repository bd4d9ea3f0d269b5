/**
 * Writes a file so that readers never see half of it: a temporary file beside the target, flushed to
 * disk, then published (publish.ts) — without `overwrite`, never over a file that exists by then, even
 * one that appeared after the first check. On any failure the temporary file is removed and an
 * existing target is left as it was.
 */
import { promises as fs } from 'node:fs';
import { publishFile, tempNameFor, testPublishGate } from './publish';

export async function writeFileAtomically(target: string, data: string | Uint8Array, opts: { overwrite?: boolean; forceOption?: string } = {}): Promise<void> {
  // Refused early (nothing written) when the target is there already; the publish checks again.
  if (!opts.overwrite && (await exists(target))) {
    const err = new Error(`${target}: already exists`) as NodeJS.ErrnoException;
    err.code = 'EEXIST';
    throw err;
  }
  const tmp = await writeTempFile(target, data);
  try {
    await testPublishGate();
    await publishFile(tmp, target, { replace: opts.overwrite, forceOption: opts.forceOption });
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** `data` in a fresh temporary file beside `target`, synced; returns its name (nothing is left on failure). */
export async function writeTempFile(target: string, data: string | Uint8Array): Promise<string> {
  const tmp = tempNameFor(target);
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(tmp, 'wx');
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    return tmp;
  } catch (e) {
    await fh?.close().catch(() => undefined);
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.lstat(p);
    return true;
  } catch {
    return false;
  }
}
