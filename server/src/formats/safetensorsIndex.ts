/**
 * Sharded safetensors: `model.safetensors.index.json` names a shard per key. We read every shard's
 * header (never its data) and report keys whose shard disagrees with the index, since a stale index is
 * a classic cause of "missing key" errors that only show up at load time.
 */
import * as path from 'node:path';
import { describeFsError, spoilTrace, withSource } from './byteSource';
import { mapLimit } from './mapLimit';
import { readRegularFile } from './openRegular';
import { isRemote, remoteSibling } from './remote/remoteName';
import { ReaderError, unreadable } from './readerError';
import { readSafetensors } from './safetensors';
import { CheckpointInfo, Framework, TensorInfo } from './tensorInfo';

const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** Shard headers read at once. */
const SHARD_READS = 8;


/** A remote index, whole (it is small: the same limit as a local one). */
function readRemoteText(indexPath: string, displayName: string): Promise<string> {
  return withSource(indexPath, displayName, async (src) => {
    if (src.size > MAX_INDEX_BYTES) throw unreadable(displayName, `index is ${src.size} bytes, more than the ${MAX_INDEX_BYTES}-byte limit`);
    return (await src.read(0, src.size, 'the index')).toString('utf8');
  });
}

const readShardHere = (file: string, displayName: string) => withSource(file, displayName, readSafetensors);

/**
 * What an index names: its weight map (key → shard, as a Map: keys come from the file, and a key named
 * `toString` must not find Object's) and its distinct shard files. Shards are identified by their
 * normalised path, so `x`, `./x` and `.//x` are one shard, read once; none may leave the index's folder.
 */
export interface IndexPlan { weightMap: Map<string, string>; shards: string[]; keys: number }

export async function readIndexPlan(indexPath: string, displayName: string): Promise<IndexPlan> {
  const written = await readWeightMap(indexPath, displayName);
  const canonical = new Map<string, string>();
  const weightMap = new Map<string, string>();
  for (const [key, shard] of written) {
    let c = canonical.get(shard);
    if (c === undefined) {
      if (path.isAbsolute(shard) || /^[a-zA-Z]:/.test(shard) || shard.split(/[\\/]/).includes('..')) {
        throw unreadable(displayName, `weight_map names shard "${shard}" outside the index's folder`);
      }
      c = path.normalize(shard.replace(/\\/g, '/'));
      canonical.set(shard, c);
    }
    weightMap.set(key, c);
  }
  return { weightMap, shards: [...new Set(weightMap.values())], keys: weightMap.size };
}

/** Where a shard named in the index lives, and the name messages give it. */
export function shardPaths(indexPath: string, displayName: string, shard: string): { file: string; displayName: string } {
  if (isRemote(indexPath)) return { file: remoteSibling(indexPath, shard), displayName: isRemote(displayName) ? remoteSibling(displayName, shard) : path.join(path.dirname(displayName), shard) };
  return { file: path.join(path.dirname(indexPath), shard), displayName: path.join(path.dirname(displayName), shard) };
}

export async function readSafetensorsIndex(
  indexPath: string, displayName: string, readShard = readShardHere, given?: IndexPlan,
): Promise<CheckpointInfo> {
  spoilTrace();   // the result depends on the shards too: no single file's bytes can vouch for it
  const { weightMap, shards, keys } = given ?? await readIndexPlan(indexPath, displayName);
  const notes: string[] = [];
  const tensors: TensorInfo[] = [];
  const seen = new Map<string, string>();
  let framework: Framework | undefined;

  // Shard headers are read several at a time (a 30-shard model waits on I/O, not on each in turn),
  // then merged in the index's shard order so notes and tensor order do not depend on timing.
  const infos = await mapLimit(shards, SHARD_READS, async (shard) => {
    try {
      const where = shardPaths(indexPath, displayName, shard);
      return await readShard(where.file, where.displayName);
    } catch (e) {
      if (e instanceof ReaderError) throw unreadable(displayName, `shard ${shard}: ${e.reason}`);
      throw e;
    }
  });
  const disagree = new NoteGroup((n) => `${n} keys are in a shard other than the index says`);
  const unindexed = new NoteGroup((n) => `${n} keys are in a shard but missing from the index's weight_map`);
  const twice = new NoteGroup((n) => `${n} keys are stored in two shards`);
  for (const [i, shard] of shards.entries()) {
    const info: CheckpointInfo = infos[i];
    framework ??= info.framework;
    for (const t of info.tensors) {
      const earlier = seen.get(t.key);
      if (earlier !== undefined) {
        twice.add(`"${t.key}" is stored in both ${earlier} and ${shard}; the index points at ${weightMap.get(t.key) ?? 'neither'}`);
        continue;
      }
      seen.set(t.key, shard);
      const indexed = weightMap.get(t.key);
      if (indexed === undefined) unindexed.add(`"${t.key}" is in ${shard} but missing from the index's weight_map`);
      else if (indexed !== shard) disagree.add(`"${t.key}" is in ${shard} but the index says ${indexed}`);
      tensors.push(t);
    }
  }
  let indexedFound = 0;
  for (const t of tensors) if (weightMap.has(t.key)) indexedFound++;
  const absent = new NoteGroup((n) => `the index maps ${n} keys to shards that do not hold them`);
  if (indexedFound < keys) {
    for (const [key, shard] of weightMap) if (!seen.has(key)) absent.add(`the index maps "${key}" to ${shard}, which does not hold it`);
  }
  for (const g of [twice, unindexed, disagree, absent]) notes.push(...g.notes());
  return { file: displayName, format: 'safetensors-index', tensors, framework, notes };
}

/**
 * Notes of one kind: the first few in full, then one line counting the rest — a stale index of 100,000
 * keys says so in a handful of lines, not 100,000.
 */
class NoteGroup {
  private readonly shown: string[] = [];
  private count = 0;
  constructor(private readonly summary: (n: number) => string, private readonly limit = 5) {}
  add(note: string): void {
    if (this.count++ < this.limit) this.shown.push(note);
  }
  notes(): string[] {
    return this.count > this.limit ? [...this.shown, `… ${this.summary(this.count)} in all`] : this.shown;
  }
}

async function readWeightMap(indexPath: string, displayName: string): Promise<Map<string, string>> {
  let text: string;
  try {
    text = isRemote(indexPath) ? await readRemoteText(indexPath, displayName) : await readRegularFile(indexPath, 'a checkpoint file', (st) => {
      if (st.size > MAX_INDEX_BYTES) throw unreadable(displayName, `index is ${st.size} bytes, more than the ${MAX_INDEX_BYTES}-byte limit`);
    });
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    throw unreadable(displayName, describeFsError(e));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw unreadable(displayName, `index is not valid JSON (${(e as Error).message})`);
  }
  const map = parsed !== null && typeof parsed === 'object' && Object.hasOwn(parsed, 'weight_map') ? (parsed as { weight_map: unknown }).weight_map : undefined;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) throw unreadable(displayName, 'index has no "weight_map" object');
  const out = new Map<string, string>();
  // for-in over JSON.parse's own properties (`__proto__` included: JSON.parse makes it an own key); on a
  // 100k-key weight map that is 30 ms against Object.entries' 150.
  for (const k in map) {
    const v = (map as Record<string, unknown>)[k];
    if (typeof v !== 'string') throw unreadable(displayName, `weight_map entry "${k}" is not a shard file name`);
    out.set(k, v);
  }
  return out;
}
