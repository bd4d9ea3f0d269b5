/**
 * The header cache on disk (hubSettings.headerCacheDir): the bytes readers pulled from remote files,
 * so a reopened workspace costs one request per file (zero for a commit-pinned Hub name) and an
 * offline user still gets answers. Two kinds of entries:
 * - `refs/<sha1>.json`: what a name resolved to — for the Hub, endpoint + repo + revision + path →
 *   commit, ETag, size; for a URL, the URL → ETag, size;
 * - `blocks/<sha1>.bin`: the blocks read of one file version, keyed by endpoint, repo,
 *   commit, path and ETag (a URL: the URL, ETag and size), so a changed file never meets old bytes.
 * Writes are a temporary file renamed into place; a cache that cannot be written (read-only home) is
 * silently skipped — it is an optimisation, never a requirement online.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { headerCacheDir } from './hubSettings';

export interface RemoteMeta {
  size: number;
  etag?: string;
  commit?: string;
  /** The canonical URL (the Hub: resolve/<commit>/path). */
  url: string;
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');

export function refKey(parts: string[]): string {
  return sha1(['ref', ...parts].join('\n'));
}

export function versionKey(meta: RemoteMeta): string {
  return sha1(['version', meta.url, meta.etag ?? '', String(meta.size)].join('\n'));
}

export async function loadRef(key: string): Promise<RemoteMeta | undefined> {
  try {
    const v = JSON.parse(await fs.readFile(join(headerCacheDir(), 'refs', `${key}.json`), 'utf8')) as RemoteMeta;
    return typeof v.size === 'number' && typeof v.url === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

export async function saveRef(key: string, meta: RemoteMeta): Promise<void> {
  await writeAtomic(join(headerCacheDir(), 'refs', `${key}.json`), JSON.stringify(meta));
}

/** The cached blocks of one file version (block index → bytes). One file: a u32 length, a JSON list, the data. */
export async function loadBlocks(key: string, blockSize: number): Promise<Map<number, Buffer>> {
  const out = new Map<number, Buffer>();
  try {
    const data = await fs.readFile(join(headerCacheDir(), 'blocks', `${key}.bin`));
    const n = data.readUInt32LE(0);
    const list = JSON.parse(data.toString('utf8', 4, 4 + n)) as { blockSize: number; blocks: [number, number][] };
    if (list.blockSize !== blockSize) return out;
    let at = 4 + n;
    for (const [index, length] of list.blocks) {
      if (at + length > data.length) return new Map();
      out.set(index, data.subarray(at, at + length));
      at += length;
    }
  } catch {
    /* no entry, or a damaged one: nothing cached */
  }
  return out;
}

export async function saveBlocks(key: string, blockSize: number, blocks: Map<number, Buffer>): Promise<void> {
  const sorted = [...blocks.entries()].sort((a, b) => a[0] - b[0]);
  const list = Buffer.from(JSON.stringify({ blockSize, blocks: sorted.map(([i, b]) => [i, b.length]) }));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(list.length);
  await writeAtomic(join(headerCacheDir(), 'blocks', `${key}.bin`), Buffer.concat([head, list, ...sorted.map(([, b]) => b)]));
}

async function writeAtomic(file: string, data: string | Buffer): Promise<void> {
  try {
    await fs.mkdir(join(file, '..'), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, file);
  } catch {
    /* an unwritable cache only costs requests next time */
  }
}
