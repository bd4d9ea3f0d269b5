/**
 * Writes a file so that readers never see half of it: a temporary file beside the target, flushed to
 * disk, then renamed into place. On any failure the temporary file is removed and an existing target
 * is left as it was.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export async function writeFileAtomically(target: string, data: string | Uint8Array, opts: { overwrite?: boolean } = {}): Promise<void> {
  if (!opts.overwrite && (await exists(target))) {
    const err = new Error(`${target}: already exists`) as NodeJS.ErrnoException;
    err.code = 'EEXIST';
    throw err;
  }
  const tmp = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
  let fh: fs.FileHandle | undefined;
  try {
    fh = await fs.open(tmp, 'wx');
    await fh.writeFile(data);
    await fh.sync();
    await fh.close();
    fh = undefined;
    await fs.rename(tmp, target);
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
