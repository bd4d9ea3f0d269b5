/**
 * Sharded safetensors: `model.safetensors.index.json` names a shard per key. We read every shard's
 * header (never its data) and report keys whose shard disagrees with the index, since a stale index is
 * a classic cause of "missing key" errors that only show up at load time.
 */
import * as path from 'node:path';
import { describeFsError, spoilTrace, withSource } from './byteSource';
import { mapLimit } from './mapLimit';
import { readRegularFile } from './openRegular';
import { ReaderError, unreadable } from './readerError';
import { readSafetensors } from './safetensors';
import { CheckpointInfo, Framework, TensorInfo } from './tensorInfo';

const MAX_INDEX_BYTES = 64 * 1024 * 1024;
/** Shard headers read at once. */
const SHARD_READS = 8;


const readShardHere = (file: string, displayName: string) => withSource(file, displayName, readSafetensors);

/** What an index names: its weight map and its shard files (as written in it), checked to stay in its folder. */
export interface IndexPlan { weightMap: Record<string, string>; shards: string[]; keys: number }

export async function readIndexPlan(indexPath: string, displayName: string): Promise<IndexPlan> {
  const weightMap = await readWeightMap(indexPath, displayName);
  const shards = new Set<string>();
  let keys = 0;
  // for-in, not Object.entries/values: on a 100k-key weight map that is 30 ms against 150.
  for (const key in weightMap) {
    shards.add(weightMap[key]);
    keys++;
  }
  for (const shard of shards) {
    if (path.isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
      throw unreadable(displayName, `weight_map names shard "${shard}" outside the index's folder`);
    }
  }
  return { weightMap, shards: [...shards], keys };
}

/** Where a shard named in the index lives, and the name messages give it. */
export function shardPaths(indexPath: string, displayName: string, shard: string): { file: string; displayName: string } {
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
  for (const [i, shard] of shards.entries()) {
    const info: CheckpointInfo = infos[i];
    framework ??= info.framework;
    for (const t of info.tensors) {
      const earlier = seen.get(t.key);
      if (earlier !== undefined) {
        notes.push(`"${t.key}" is stored in both ${earlier} and ${shard}; the index points at ${weightMap[t.key] ?? 'neither'}`);
        continue;
      }
      seen.set(t.key, shard);
      const indexed = weightMap[t.key];
      if (indexed === undefined) notes.push(`"${t.key}" is in ${shard} but missing from the index's weight_map`);
      else if (indexed !== shard) notes.push(`"${t.key}" is in ${shard} but the index says ${indexed}`);
      tensors.push(t);
    }
  }
  let indexedFound = 0;
  for (const t of tensors) if (weightMap[t.key] !== undefined) indexedFound++;
  if (indexedFound < keys) {
    for (const key in weightMap) if (!seen.has(key)) notes.push(`the index maps "${key}" to ${weightMap[key]}, which does not hold it`);
  }
  return { file: displayName, format: 'safetensors-index', tensors, framework, notes };
}

async function readWeightMap(indexPath: string, displayName: string): Promise<Record<string, string>> {
  let text: string;
  try {
    text = await readRegularFile(indexPath, 'a checkpoint file', (st) => {
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
  const map = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (map === null || typeof map !== 'object' || Array.isArray(map)) throw unreadable(displayName, 'index has no "weight_map" object');
  for (const k in map) {
    if (typeof (map as Record<string, unknown>)[k] !== 'string') throw unreadable(displayName, `weight_map entry "${k}" is not a shard file name`);
  }
  return map as Record<string, string>;
}
