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

export async function readSafetensorsIndex(indexPath: string, displayName: string, readShard = readShardHere): Promise<CheckpointInfo> {
  spoilTrace();   // the result depends on the shards too: no single file's bytes can vouch for it
  const weightMap = await readWeightMap(indexPath, displayName);
  const dir = path.dirname(indexPath);
  const shards = [...new Set(Object.values(weightMap))];
  const notes: string[] = [];
  const tensors: TensorInfo[] = [];
  const seen = new Map<string, string>();
  let framework: Framework | undefined;

  for (const shard of shards) {
    if (path.isAbsolute(shard) || shard.split(/[\\/]/).includes('..')) {
      throw unreadable(displayName, `weight_map names shard "${shard}" outside the index's folder`);
    }
  }
  // Shard headers are read several at a time (a 30-shard model waits on I/O, not on each in turn),
  // then merged in the index's shard order so notes and tensor order do not depend on timing.
  const infos = await mapLimit(shards, SHARD_READS, async (shard) => {
    try {
      return await readShard(path.join(dir, shard), path.join(path.dirname(displayName), shard));
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
  for (const [key, shard] of Object.entries(weightMap)) {
    if (!seen.has(key)) notes.push(`the index maps "${key}" to ${shard}, which does not hold it`);
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
  for (const [k, v] of Object.entries(map)) {
    if (typeof v !== 'string') throw unreadable(displayName, `weight_map entry "${k}" is not a shard file name`);
  }
  return map as Record<string, string>;
}
