/**
 * Opening a file the user named without ever blocking on it. A named pipe called `model.safetensors`
 * blocks `open(2)` until a writer appears — forever, holding one of libuv's four pool threads (four such
 * files stall every fs call of the language server), or the whole process for a sync open. So files are
 * opened non-blocking (no effect on regular files), the handle itself is fstat'ed (no window to swap the
 * file between check and open), and anything but a regular file is refused with the reason.
 */
import { Stats, closeSync, constants, fstatSync, openSync, promises as fs, readFileSync, statSync } from 'node:fs';
import { checkOpened, checkOpenedSync } from './roots';

/** Windows has neither O_NONBLOCK nor named pipes in the file system: a plain read-only open there. */
const READ_NONBLOCK = constants.O_RDONLY | ((constants as { O_NONBLOCK?: number }).O_NONBLOCK ?? 0);

/** Refused before reading: the message is the whole reason (`is a named pipe (FIFO), not a checkpoint file`). */
export class NotRegularFile extends Error {
  readonly code = 'ENOTREGULAR';
}

/** What the file is instead, or undefined for a regular file. `noun` says what was expected ("a mapping file"). */
export function nonRegularReason(st: Stats, noun = 'a checkpoint file'): string | undefined {
  if (st.isFile()) return undefined;
  const what = st.isDirectory() ? 'a directory'
    : st.isFIFO() ? 'a named pipe (FIFO)'
      : st.isSocket() ? 'a socket'
        : st.isCharacterDevice() ? 'a character device'
          : st.isBlockDevice() ? 'a block device'
            : 'something other than a regular file';
  return `is ${what}, not ${noun}`;
}

function refuse(st: Stats, noun: string): void {
  const reason = nonRegularReason(st, noun);
  if (reason) throw new NotRegularFile(reason);
}

/** Opening a socket fails (ENXIO) rather than blocking; say what it is rather than "no such device". */
function explainOpenFailure(e: unknown, path: string, noun: string): never {
  if ((e as NodeJS.ErrnoException)?.code === 'ENXIO') {
    let st: Stats | undefined;
    try { st = statSync(path); } catch { /* keep the original error */ }
    if (st) refuse(st, noun);
  }
  throw e;
}

/**
 * A read-only handle on a regular file; fs errors (ENOENT, EACCES…) and NotRegularFile are thrown as
 * they are. Inside a confinement (roots.ts), and under `within` when given, the opened file's real
 * path is checked (OutsideRoots).
 */
export async function openRegular(path: string, noun = 'a checkpoint file', within?: string): Promise<{ handle: fs.FileHandle; stats: Stats }> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(path, READ_NONBLOCK);
  } catch (e) {
    explainOpenFailure(e, path, noun);
  }
  try {
    const stats = await handle.stat();
    refuse(stats, noun);
    await checkOpened(path, stats, within);
    return { handle, stats };
  } catch (e) {
    await handle.close().catch(() => undefined);
    throw e;
  }
}

/** As openRegular, for the few synchronous readers; the caller closes the descriptor. */
export function openRegularSync(path: string, noun = 'a checkpoint file', within?: string): number {
  let fd: number;
  try {
    fd = openSync(path, READ_NONBLOCK);
  } catch (e) {
    explainOpenFailure(e, path, noun);
  }
  try {
    const stats = fstatSync(fd);
    refuse(stats, noun);
    checkOpenedSync(path, stats, within);
    return fd;
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * A whole regular file as text. `check` sees its size (from the open handle) before anything is read,
 * so a size limit is enforced on the very file that is then read.
 */
export async function readRegularFile(path: string, noun: string, check?: (stats: Stats) => void): Promise<string> {
  const { handle, stats } = await openRegular(path, noun);
  try {
    check?.(stats);
    return await handle.readFile('utf8');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** readRegularFile for synchronous callers. */
export function readRegularFileSync(path: string, noun: string, within?: string): Buffer {
  const fd = openRegularSync(path, noun, within);
  try {
    return readFileSync(fd);
  } finally {
    closeSync(fd);
  }
}
