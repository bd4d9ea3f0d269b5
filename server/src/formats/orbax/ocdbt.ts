/**
 * Reading keys and chosen values from an OCDBT database folder (tensorstore's key-value store that
 * Orbax writes by default): `manifest.ocdbt` → the latest version's B+tree root → its nodes in the
 * `d/` data files → leaf entries. Only the manifest, the B+tree nodes and the values `want` asks for
 * are read (Orbax: the small zarr metadata values), never the array chunks.
 *
 * Hostile folders are bounded: a node's height must be its parent's less one (so references cannot
 * loop), nodes, keys, record sizes and the decompressed bytes are capped, and data file paths must
 * stay inside the folder.
 */
import { join, resolve, sep } from 'node:path';
import { ByteSource } from '../byteSource';
import { unreadable } from '../readerError';
import { Cursor, MANIFEST_MAGIC, BTREE_MAGIC, type Node, OcdbtError, type Ref, openRecord, readManifest, readNode } from './ocdbtCodec';

export const OCDBT_LIMITS = {
  /** A manifest or node record, compressed, as stored. */
  recordBytes: 64 * 2 ** 20,
  /** One record decompressed (tensorstore's default node limit is 8 MiB). */
  decodedBytes: 64 * 2 ** 20,
  /** All records decompressed in one read. */
  totalDecodedBytes: 256 * 2 ** 20,
  nodes: 100_000,
  keys: 10_000_000,
  /** A value asked for (Orbax's are JSON of a few hundred bytes). */
  valueBytes: 16 * 2 ** 20,
  height: 64,
};

export interface OcdbtRead {
  /** Every key in the latest version, in order. */
  keys: string[];
  values: Map<string, Buffer>;
}

export async function readOcdbt(dir: string, display: string, want: (key: string) => boolean, limits = OCDBT_LIMITS): Promise<OcdbtRead> {
  const files = new Map<string, ByteSource>();
  let decoded = 0;
  const decode = (bytes: Buffer, magic: number, what: string, name: string): Cursor => {
    try {
      const c = openRecord(bytes, magic, what, limits.decodedBytes);
      decoded += c.buf.length;
      if (decoded > limits.totalDecodedBytes) throw new OcdbtError(`the database's records decompress to more than ${limits.totalDecodedBytes} bytes in all`);
      return c;
    } catch (e) {
      if (e instanceof OcdbtError) throw unreadable(name, e.message);
      throw e;
    }
  };
  const open = async (rel: string): Promise<ByteSource> => {
    let src = files.get(rel);
    if (!src) {
      src = await ByteSource.open(insideFolder(dir, display, rel), `${display}/${rel}`);
      files.set(rel, src);
    }
    return src;
  };
  const readRef = async (ref: Ref, what: string, cap: number): Promise<{ bytes: Buffer; name: string }> => {
    const rel = ref.file.base + ref.file.relative;
    const src = await open(rel);
    if (ref.length > cap) throw unreadable(src.displayName, `${what} at byte ${ref.offset} is said to be ${ref.length} bytes, over the ${cap}-byte limit`);
    return { bytes: await src.read(ref.offset, ref.length, what), name: src.displayName };
  };
  try {
    const manifestName = `${display}/manifest.ocdbt`;
    const src = await open('manifest.ocdbt');
    if (src.size > limits.recordBytes) throw unreadable(manifestName, `${src.size} bytes, over the ${limits.recordBytes}-byte limit for a manifest`);
    const bytes = await src.read(0, src.size, 'the manifest');
    let m: ReturnType<typeof readManifest>;
    try {
      m = readManifest(decode(bytes, MANIFEST_MAGIC, 'the manifest', manifestName));
    } catch (e) {
      if (e instanceof OcdbtError) throw unreadable(manifestName, e.message);
      throw e;
    }
    if (m.numbered) throw unreadable(manifestName, 'a numbered-manifest database (manifest.xxxxxxxxxxxxxxxx files): not read, only the single-file manifest Orbax writes');
    const out: OcdbtRead = { keys: [], values: new Map() };
    if (!m.root) return out;
    let nodes = 0;
    const visit = async (ref: Ref, height: number, prefix: Buffer): Promise<void> => {
      if (++nodes > limits.nodes) throw unreadable(display, `the OCDBT B+tree has more than ${limits.nodes} nodes`);
      const { bytes: raw, name } = await readRef(ref, 'a B+tree node', limits.recordBytes);
      let node: Node;
      try {
        node = readNode(decode(raw, BTREE_MAGIC, 'the B+tree node', name), ref.file.base);
      } catch (e) {
        if (e instanceof OcdbtError) throw unreadable(name, `the B+tree node at byte ${ref.offset}: ${e.message}`);
        throw e;
      }
      // Heights fall by one per level: a reference back up the tree (a cycle) cannot pass this.
      if (node.height !== height) throw unreadable(name, `the B+tree node at byte ${ref.offset} has height ${node.height} where ${height} was expected`);
      if (!node.leaf) {
        for (const child of node.children) await visit(child.ref, height - 1, Buffer.concat([prefix, child.subtreePrefix]));
        return;
      }
      for (const entry of node.entries) {
        if (out.keys.length >= limits.keys) throw unreadable(display, `the OCDBT database has more than ${limits.keys} keys`);
        const key = Buffer.concat([prefix, entry.key]).toString('utf8');
        out.keys.push(key);
        if (!want(key)) continue;
        if ('inline' in entry.value) out.values.set(key, entry.value.inline);
        else out.values.set(key, (await readRef(entry.value.ref, `the value of \`${key}\``, limits.valueBytes)).bytes);
      }
    };
    if (m.root.height > limits.height) throw unreadable(manifestName, `the B+tree root has height ${m.root.height}, over ${limits.height}`);
    await visit(m.root, m.root.height, Buffer.alloc(0));
    return out;
  } finally {
    await Promise.all([...files.values()].map((f) => f.close().catch(() => undefined)));
  }
}

/** A data file path from the database, as a path inside its folder: `..`, absolute paths and NULs refused. */
function insideFolder(dir: string, display: string, rel: string): string {
  const parts = rel.split('/');
  if (rel.length === 0 || rel.includes('\0') || rel.includes('\\') || rel.startsWith('/') || parts.includes('..')) {
    throw unreadable(display, `the OCDBT database names the data file \`${rel}\`, which is not a path inside its folder`);
  }
  const root = resolve(dir);
  const full = resolve(join(root, ...parts));
  if (!full.startsWith(root + sep)) throw unreadable(display, `the OCDBT database names the data file \`${rel}\`, which is not a path inside its folder`);
  return full;
}

