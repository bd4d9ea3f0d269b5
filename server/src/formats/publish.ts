/**
 * Putting a finished temporary file in place without clobbering. A check that the output does not
 * exist, made when a run starts, says nothing about the moment the file is moved in: another run, or
 * anything else, may have created it meanwhile, and rename(2) would silently replace it. So the
 * publish itself is the check: link(2) the temporary file to the final name — which fails with EEXIST
 * when the name exists, atomically — then unlink the temporary name. (renameat2's RENAME_NOREPLACE
 * does the same in one call, but Node does not expose it.) Only with `replace` (`--force`) is the
 * output renamed over whatever is there.
 *
 * File systems without hard links (FAT, some FUSE and SMB mounts) refuse link(2); there the name is
 * claimed with an exclusive create (O_CREAT|O_EXCL, which fails if anything appeared) and the temporary
 * file renamed over that empty placeholder. The claim is just as exclusive, but for the moment between
 * the two steps a reader may see an empty file at the output path.
 */
import { randomBytes } from 'node:crypto';
import { Stats, promises as fs } from 'node:fs';
import * as path from 'node:path';

/** The suffix of every temporary file this tool writes beside an output (staleTemps.ts removes leftovers). */
export const TEMP_SUFFIX = '.tensorport-tmp';
/** `.NAME.<12 hex digits>.tensorport-tmp`: nothing else is ever treated as our leftover. */
export const TEMP_PATTERN = /^\..+\.[0-9a-f]{12}\.tensorport-tmp$/;
/** Output names are cut to this many characters in a temporary name, so it stays within NAME_MAX (255). */
const MAX_STEM = 200;

/** A fresh temporary name beside `target` (created by the caller with O_EXCL). */
export function tempNameFor(target: string): string {
  const stem = path.basename(target).slice(0, MAX_STEM);
  return path.join(path.dirname(target), `.${stem}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
}

/** The output appeared after the run checked for it; nothing was replaced. */
export class OutputAppeared extends Error {
  readonly code = 'EEXIST';
  constructor(readonly target: string, forceOption = '--force') {
    super(`${target}: appeared while this run was writing it (another run or program created it); it was left as it is and nothing was written (${forceOption} replaces it)`);
  }
}

/** link(2) errors that mean "this file system has no hard links", not "you may not". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/**
 * Moves the finished `tmp` to `target`. Without `replace` it fails with OutputAppeared when `target`
 * exists by then (whatever it is: a file, a link, a folder), and `tmp` is left for the caller to remove.
 */
export async function publishFile(tmp: string, target: string, opts: { replace?: boolean; forceOption?: string } = {}): Promise<void> {
  if (opts.replace) {
    await fs.rename(tmp, target);
  } else {
    try {
      await fs.link(tmp, target);
      // Both names are the new file now; dropping the temporary one cannot fail in a way that matters to
      // the output (a leftover name is a stale temporary file, removed by a later run).
      await fs.unlink(tmp).catch(() => undefined);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') throw new OutputAppeared(target, opts.forceOption);
      if (!NO_HARD_LINKS.has(code)) throw e;
      await claimThenRename(tmp, target, opts.forceOption);
    }
  }
  await syncDir(path.dirname(target));
}

/**
 * Publishes several finished files as one set (a sharded checkpoint's shards, then its index): in the
 * given order, each as publishFile does. If any fails, the files this call already published are
 * removed again — only while each still is the very file published (same inode), so nothing another
 * run put there is touched — and every temporary file is removed: no half-published set is left.
 * Runs racing for the same names publish in the same order, so the first contested name decides and
 * exactly one of them wins.
 */
export async function publishSet(files: readonly { tmp: string; target: string }[], opts: { replace?: boolean; forceOption?: string } = {}): Promise<void> {
  const published: { target: string; st: Stats }[] = [];
  try {
    for (const f of files) {
      await publishFile(f.tmp, f.target, opts);
      // As published (the link changed its ctime): a file put there later differs in inode or ctime,
      // even where a freed inode number is reused.
      published.push({ target: f.target, st: await fs.lstat(f.target) });
    }
  } catch (e) {
    for (const p of published) {
      const st = await fs.lstat(p.target).catch(() => undefined);
      if (st && sameFile(st, p.st)) await fs.unlink(p.target).catch(() => undefined);
    }
    await Promise.all(files.map((f) => fs.rm(f.tmp, { force: true }).catch(() => undefined)));
    throw e;
  }
}

function sameFile(a: Stats, b: Stats): boolean {
  return a.ino === b.ino && a.dev === b.dev && a.ctimeMs === b.ctimeMs && a.size === b.size;
}

/** Makes the new name itself durable where the platform allows opening a folder; elsewhere it is best effort. */
async function syncDir(dir: string): Promise<void> {
  let d: fs.FileHandle | undefined;
  try {
    d = await fs.open(dir, 'r');
    await d.sync();
  } catch {
    // Not supported (Windows) or not permitted: the data itself is already synced.
  } finally {
    await d?.close().catch(() => undefined);
  }
}

/** The fallback without hard links: an exclusive create claims the name, the rename fills it. */
async function claimThenRename(tmp: string, target: string, forceOption?: string): Promise<void> {
  let claim: fs.FileHandle;
  try {
    claim = await fs.open(target, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new OutputAppeared(target, forceOption);
    throw e;
  }
  await claim.close();
  try {
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.unlink(target).catch(() => undefined);
    throw e;
  }
}

/**
 * A test-only pause before a run publishes, so tests can act "during the run" deterministically (create
 * the output, rewrite the source, kill the process). Inert unless TENSORPORT_TEST_PUBLISH_GATE is set:
 * then the run creates `$GATE.ready.<pid>` and waits until `$GATE.go` exists (at most a minute).
 */
export async function testPublishGate(): Promise<void> {
  const gate = process.env.TENSORPORT_TEST_PUBLISH_GATE;
  if (!gate) return;
  await fs.writeFile(`${gate}.ready.${process.pid}`, '');
  for (let waited = 0; waited < 60_000; waited += 20) {
    if (await fs.access(`${gate}.go`).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}
