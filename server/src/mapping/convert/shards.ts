/**
 * Sharded safetensors as `save_pretrained(max_shard_size=…)` writes them: tensors in order, a new shard
 * when the next tensor would pass the limit (a tensor larger than the limit gets a shard of its own),
 * files `model-00001-of-00003.safetensors` beside `model.safetensors.index.json`
 * (`{"metadata": {"total_size": …}, "weight_map": {key: file}}`). A set that fits in one shard is one
 * file named as asked, as save_pretrained does.
 */
import { OutTensor } from './atomicOutput';

/** `5GB` (10^9, as transformers counts), `500MiB` (2^20), or a number of bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'B').toUpperCase();
  const pow = { B: 0, K: 1, M: 2, G: 3, T: 4 }[unit[0] as 'B' | 'K' | 'M' | 'G' | 'T'];
  const base = unit.includes('I') ? 1024 : 1000;
  const n = Math.floor(Number(m[1]) * base ** pow);
  return n > 0 ? n : undefined;
}

/** Shard i's tensor indices; one group when everything fits. */
export function splitShards(tensors: readonly OutTensor[], maxBytes: number): number[][] {
  const shards: number[][] = [];
  let size = 0;
  tensors.forEach((t, i) => {
    const last = shards[shards.length - 1];
    if (!last || (size + t.byteLength > maxBytes && last.length > 0)) { shards.push([i]); size = t.byteLength; } else { last.push(i); size += t.byteLength; }
  });
  return shards;
}

/** `dir/model.safetensors` → `dir/model-00002-of-00003.safetensors`. */
export function shardName(out: string, k: number, n: number): string {
  const pad = (x: number) => String(x).padStart(5, '0');
  return out.replace(/\.safetensors$/i, '') + `-${pad(k + 1)}-of-${pad(n)}.safetensors`;
}

export function shardIndex(tensors: readonly OutTensor[], shards: readonly number[][], names: readonly string[], metadata: Record<string, string>): string {
  const weightMap: Record<string, string> = {};
  shards.forEach((idx, k) => { for (const i of idx) weightMap[tensors[i].key] = names[k]; });
  const total = tensors.reduce((a, t) => a + t.byteLength, 0);
  return JSON.stringify({ metadata: { ...metadata, total_size: total }, weight_map: weightMap }, null, 2) + '\n';
}
