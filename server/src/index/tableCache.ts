/**
 * The table cache: large checkpoint headers as the read threads made them (columns, key index, key trie),
 * kept on disk between sessions, as clangd keeps its index. An editor restoring a mapping over two
 * 100,000-tensor checkpoints otherwise parses 20 MB of JSON before its first diagnostics; with the cache it
 * reads two entries and re-reads the headers only to digest them.
 *
 * An entry is used only when the file still holds exactly the bytes its read looked at (the same size, the
 * same digest of the same ranges: the identity the in-memory index already trusts, byteSource.ts), and
 * only for the same read (path, name shown, kind, header limit). Readers are deterministic, so such an
 * entry is what reading again would give. Only headers of many tensors are kept (a small one parses faster
 * than its entry loads); the least recently used go once the folder passes its size.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { threadId } from 'node:worker_threads';
import { sameHeader } from '../formats/byteSource';
import { CacheEntry, decodeEntry, encodeEntry } from './tableCacheFile';

export interface TableCacheOptions {
  dir: string;
  /** The folder's size it is trimmed to, least recently used first (default 256 MiB). */
  maxBytes?: number;
  /** Headers of fewer tensors are not kept (default 10,000: those parse in ~20 ms). */
  minTensors?: number;
}

export const DEFAULT_CACHE_BYTES = 256 * 2 ** 20;
export const DEFAULT_CACHE_MIN_TENSORS = 10_000;
const SUFFIX = '.tptc';
/** A temporary file older than this was left by a process that died while writing it. */
const STALE_TEMP_MS = 10 * 60_000;

/** What an entry is for: one read of one file (what the reader was asked changes what it answers). */
export function entryName(file: string, read: { displayName: string; kind?: string; maxHeaderBytes?: number }): string {
  return JSON.stringify([path.resolve(file), read.displayName, read.kind ?? null, read.maxHeaderBytes ?? null]);
}

function entryPath(dir: string, name: string): string {
  return path.join(dir, createHash('sha1').update(name).digest('hex') + SUFFIX);
}

/** The entry for `name` if there is a sound one and `file` still holds the header it was made from. */
export async function loadEntry(dir: string, name: string, file: string): Promise<CacheEntry | undefined> {
  const where = entryPath(dir, name);
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(where);
  } catch {
    return undefined;
  }
  const entry = decodeEntry(bytes);
  if (!entry || entry.name !== name || !(await sameHeader(file, entry.identity))) return undefined;
  // Its modification time is when it was last used: trimming removes the least recently used.
  const now = new Date();
  void fs.utimes(where, now, now).catch(() => undefined);
  return entry;
}

/**
 * The entry's bytes, if the table is worth keeping: many tensors, no tensor outside the columns, a trie,
 * and an identity to check it by later.
 */
export function entryBytes(entry: CacheEntry, minTensors = DEFAULT_CACHE_MIN_TENSORS): Buffer | undefined {
  if (entry.table.count < minTensors || entry.table.extras.length > 0) return undefined;
  return encodeEntry(entry);
}

/** Writes the entry (a temporary file renamed over it: a reader sees the old entry or the new), then trims the folder. */
export async function storeEntry(opts: TableCacheOptions, name: string, bytes: Buffer): Promise<void> {
  await fs.mkdir(opts.dir, { recursive: true });
  const target = entryPath(opts.dir, name);
  const tmp = `${target}.${process.pid}-${threadId}-${randomBytes(4).toString('hex')}.tmp`;
  try {
    await fs.writeFile(tmp, bytes, { flag: 'wx' });
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
  await trim(opts.dir, opts.maxBytes ?? DEFAULT_CACHE_BYTES);
}

/** Removes the least recently used entries until the folder is within `maxBytes`, and temporaries a dead writer left. */
export async function trim(dir: string, maxBytes: number): Promise<void> {
  const now = Date.now();
  const entries: { file: string; size: number; used: number }[] = [];
  for (const name of await fs.readdir(dir)) {
    const file = path.join(dir, name);
    const st = await fs.lstat(file).catch(() => undefined);
    if (!st?.isFile()) continue;
    if (name.endsWith('.tmp')) {
      if (now - st.mtimeMs > STALE_TEMP_MS) await fs.rm(file, { force: true }).catch(() => undefined);
    } else if (name.endsWith(SUFFIX)) {
      entries.push({ file, size: st.size, used: st.mtimeMs });
    }
  }
  entries.sort((a, b) => b.used - a.used);
  let total = 0;
  for (const e of entries) {
    total += e.size;
    if (total > maxBytes) await fs.rm(e.file, { force: true }).catch(() => undefined);
  }
}
