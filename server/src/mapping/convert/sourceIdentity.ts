/**
 * A source must not change while a conversion reads it: a checkpoint rewritten in place mid-run (same
 * size, same header, new data) would give an output that mixes tensors of the old and the new file —
 * with nothing to show for it. So each source file's identity is taken when the converter first opens
 * it — size, mtime, ctime, inode and device, and a digest of its header (the bytes before its first
 * tensor's data) — and taken again after its last read, before anything is published. Any difference
 * fails the run with one line naming the file, and the temporary output is removed. Where the reader
 * recorded what it looked at (byteSource.ts HeaderIdentity, taken when the header was parsed), those
 * bytes are checked too, which also covers the time between parsing the header and the first read.
 */
import { createHash } from 'node:crypto';
import { Stats, promises as fs } from 'node:fs';
import { HeaderIdentity, sameHeader } from '../../formats/byteSource';
import { ConvertError } from './errors';

export interface Fingerprint { stats: Stats; headerLength: number; headerDigest?: string }

/** Header bytes are hashed in pieces of this size (a reused buffer: memory stays flat). */
const PIECE = 1024 * 1024;

/** The identity of an open source file; `headerLength` bytes from its start are digested. */
export async function fingerprint(handle: fs.FileHandle, stats: Stats, headerLength: number): Promise<Fingerprint> {
  const length = Math.max(0, Math.min(headerLength, stats.size));
  return { stats, headerLength: length, headerDigest: length ? await digestPrefix(handle, length) : undefined };
}

async function digestPrefix(handle: fs.FileHandle, length: number): Promise<string> {
  const hash = createHash('sha1');
  const buf = Buffer.allocUnsafe(Math.min(PIECE, length));
  for (let at = 0; at < length;) {
    const { bytesRead } = await handle.read(buf, 0, Math.min(buf.length, length - at), at);
    if (bytesRead === 0) break; // shorter now: the size check says so
    hash.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
  return hash.digest('hex');
}

/** Fails, naming the file as `name`, when `file` is no longer what `before` saw (and `identity`, when given). */
export async function checkUnchanged(file: string, name: string, handle: fs.FileHandle, before: Fingerprint, identity?: HeaderIdentity): Promise<void> {
  const changed = (how: string) => new ConvertError('input', `${name}: ${how} while this run was reading it; its tensors may mix old and new data, so nothing was written`);
  const was = before.stats;
  // The name first: a file replaced or removed also has its old inode's ctime changed (one link fewer).
  const byPath = await fs.stat(file).catch(() => undefined);
  if (!byPath) throw changed('was removed or renamed');
  if (byPath.ino !== was.ino || byPath.dev !== was.dev) throw changed('was replaced by another file');
  const now = await handle.stat();
  if (now.size !== was.size) throw changed(`changed size (${was.size} → ${now.size} bytes)`);
  if (now.mtimeMs !== was.mtimeMs || now.ctimeMs !== was.ctimeMs) throw changed('was modified');
  if (before.headerDigest && await digestPrefix(handle, before.headerLength) !== before.headerDigest) throw changed('had its header rewritten');
  if (identity && !(await sameHeader(file, identity))) throw changed('had its header rewritten');
}
