/**
 * An Orbax checkpoint folder (`orbax.checkpoint` StandardCheckpointer / PyTreeCheckpointer): `_METADATA`
 * (JSON) gives the pytree — each leaf's path and value type — and each array's dtype and shape come
 * from its zarr metadata, which OCDBT (Orbax's default) keeps in its B+tree (ocdbt.ts) as
 * `PARAM/.zarray`, and the non-OCDBT layout as a `PARAM/.zarray` file in a folder per array.
 * `_METADATA` records `write_shape` only for jax.Array and never a dtype, so the zarr metadata is the truth.
 *
 * Keys are the pytree path joined with `.` (`params.Dense_0.kernel`, list items by index), which is
 * also Orbax's own name for the array in storage and the Flax msgpack reader's separator. Arrays are
 * stored as compressed zarr chunks: listed without a byte location.
 */
import { promises as fs } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { withSource } from '../byteSource';
import { ORBAX_METADATA_NAME as ORBAX_METADATA } from '../fileKinds';
import { unreadable } from '../readerError';
import { type CheckpointInfo, type TensorInfo } from '../tensorInfo';
import { readOcdbt } from './ocdbt';
import { type ZarrArray, parseZarrMetadata } from './zarrMetadata';

const MAX_METADATA_BYTES = 64 * 2 ** 20;
const MAX_ZARR_BYTES = 2 ** 20;
/** `ocdbt.process_N` folders read when no merged top-level manifest is there. */
const MAX_PROCESS_DBS = 4096;
const ARRAY_TYPES = new Set(['jax.Array', 'np.ndarray']);

interface Leaf { key: string; valueType: string }

/** `path` is the checkpoint folder or its `_METADATA`; `display` names it in results and errors. */
export async function readOrbax(path: string, display: string): Promise<CheckpointInfo> {
  const named = basename(path) === ORBAX_METADATA;
  const dir = named ? dirname(path) : path;
  const folder = named ? display.replace(/[\\/]_METADATA$/, '') : display;
  const metaName = named ? display : `${display}/${ORBAX_METADATA}`;
  const leaves = parseTree(metaName, await withSource(join(dir, ORBAX_METADATA), metaName, async (src) => {
    if (src.size > MAX_METADATA_BYTES) throw unreadable(metaName, `${src.size} bytes, over the ${MAX_METADATA_BYTES}-byte limit for Orbax's tree metadata`);
    return src.read(0, src.size, 'the tree metadata');
  }));
  const arrays = leaves.leaves.filter((l) => ARRAY_TYPES.has(l.valueType));
  // Orbax before `use_ocdbt` was recorded: the manifest's presence says.
  const ocdbt = leaves.ocdbt ?? await exists(join(dir, 'manifest.ocdbt'));
  const zarr = ocdbt ? await zarrFromOcdbt(dir, folder) : await zarrFromFolders(dir, folder, arrays);
  const tensors: TensorInfo[] = [];
  const notes: string[] = [];
  const missing: string[] = [];
  const bad: string[] = [];
  let bigEndian = 0;
  for (const leaf of arrays) {
    const meta = zarr.get(leaf.key);
    if (meta === undefined) { missing.push(leaf.key); continue; }
    if (typeof meta === 'string') { bad.push(`\`${leaf.key}\`: ${meta}`); continue; }
    if (meta.bigEndian) bigEndian++;
    tensors.push({ key: leaf.key, dtype: meta.dtype, shape: meta.shape });
  }
  const listed = new Set(leaves.leaves.map((l) => l.key));
  const unlisted = [...zarr.keys()].filter((k) => !listed.has(k));
  const others = leaves.leaves.length - arrays.length;
  if (missing.length > 0) notes.push(`${plural(missing.length, 'array')} in ${ORBAX_METADATA} with no zarr metadata in the checkpoint (not listed): ${sample(missing.map((k) => `\`${k}\``))}`);
  if (bad.length > 0) notes.push(`${plural(bad.length, 'array')} whose zarr metadata could not be read (not listed): ${sample(bad)}`);
  if (unlisted.length > 0) notes.push(`${plural(unlisted.length, 'array')} stored but not in ${ORBAX_METADATA}'s tree (not listed): ${sample(unlisted.map((k) => `\`${k}\``))}`);
  if (others > 0) notes.push(`${plural(others, 'leaf', 'leaves')} that ${others === 1 ? 'is' : 'are'} not an array (scalars, strings) ${others === 1 ? 'is' : 'are'} not listed`);
  if (bigEndian > 0) notes.push(`${plural(bigEndian, 'array')} stored big-endian`);
  if (tensors.length > 0) notes.push('Orbax stores arrays as compressed zarr chunks: listed without byte locations');
  return { file: display, format: 'orbax', framework: 'jax', tensors, notes };
}

/** `_METADATA`'s leaves, each keyed by its path joined with `.`, and whether it says the arrays are in OCDBT. */
function parseTree(name: string, bytes: Buffer): { leaves: Leaf[]; ocdbt?: boolean } {
  let doc: unknown;
  try {
    doc = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw unreadable(name, `not JSON (${e instanceof Error ? e.message : String(e)}): not Orbax's tree metadata`);
  }
  const tree = isObject(doc) ? doc.tree_metadata : undefined;
  if (!isObject(doc) || !isObject(tree)) throw unreadable(name, 'no `tree_metadata` object: not the tree metadata Orbax ≥ 0.5 writes');
  const leaves: Leaf[] = [];
  for (const [tuple, entry] of Object.entries(tree)) {
    const keys = isObject(entry) ? entry.key_metadata : undefined;
    const value = isObject(entry) ? entry.value_metadata : undefined;
    if (!Array.isArray(keys) || !isObject(value) || typeof value.value_type !== 'string') throw unreadable(name, `the leaf \`${tuple}\` has no \`key_metadata\` list or \`value_metadata.value_type\``);
    const parts = keys.map((k: unknown) => (isObject(k) && (typeof k.key === 'string' || typeof k.key === 'number') ? String(k.key) : undefined));
    if (parts.some((p) => p === undefined)) throw unreadable(name, `the leaf \`${tuple}\` has a key that is neither a string nor a number`);
    leaves.push({ key: parts.join('.'), valueType: value.value_type });
  }
  return { leaves, ocdbt: typeof doc.use_ocdbt === 'boolean' ? doc.use_ocdbt : undefined };
}

/** Every `PARAM/.zarray` or `PARAM/zarr.json` in the OCDBT database(s), parsed, by PARAM. */
async function zarrFromOcdbt(dir: string, display: string): Promise<Map<string, ZarrArray | string>> {
  const want = (k: string) => /\/(?:\.zarray|zarr\.json)$/.test(k);
  const dbs = await exists(join(dir, 'manifest.ocdbt')) ? [''] : await processDatabases(dir, display);
  const out = new Map<string, ZarrArray | string>();
  for (const db of dbs) {
    const read = await readOcdbt(db ? join(dir, db) : dir, db ? `${display}/${db}` : display, want);
    for (const [key, value] of read.values) out.set(key.slice(0, key.lastIndexOf('/')), parseZarrMetadata(value));
  }
  return out;
}

/** Per-process OCDBT databases (`ocdbt.process_N`), for a checkpoint whose manifests were never merged. */
async function processDatabases(dir: string, display: string): Promise<string[]> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => /^ocdbt\.process_\d+$/.test(n)).sort();
  if (names.length === 0) throw unreadable(display, `${ORBAX_METADATA} says the arrays are in OCDBT, but there is no manifest.ocdbt (nor ocdbt.process_N folders)`);
  if (names.length > MAX_PROCESS_DBS) throw unreadable(display, `more than ${MAX_PROCESS_DBS} ocdbt.process_N folders`);
  return names;
}

/** The non-OCDBT layout: `PARAM/.zarray` (or `PARAM/zarr.json`) beside `_METADATA`, one folder per array. */
async function zarrFromFolders(dir: string, display: string, arrays: Leaf[]): Promise<Map<string, ZarrArray | string>> {
  const out = new Map<string, ZarrArray | string>();
  const root = resolve(dir);
  for (const { key } of arrays) {
    const folder = resolve(root, key);
    if (key.includes('/') || key.includes('\\') || key.includes('\0') || !folder.startsWith(root + sep)) { out.set(key, 'its name is not a folder inside the checkpoint'); continue; }
    const file = await exists(join(folder, '.zarray')) ? '.zarray' : await exists(join(folder, 'zarr.json')) ? 'zarr.json' : undefined;
    if (!file) continue;
    const name = `${display}/${key}/${file}`;
    out.set(key, parseZarrMetadata(await withSource(join(folder, file), name, async (src) => {
      if (src.size > MAX_ZARR_BYTES) throw unreadable(name, `${src.size} bytes, over the ${MAX_ZARR_BYTES}-byte limit for zarr metadata`);
      return src.read(0, src.size, 'the zarr metadata');
    })));
  }
  return out;
}

async function exists(path: string): Promise<boolean> {
  return fs.lstat(path).then(() => true, () => false);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function sample(items: string[]): string {
  return items.slice(0, 3).join(', ') + (items.length > 3 ? ', …' : '');
}
