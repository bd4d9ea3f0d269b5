/**
 * TF.js `model.json`: only the JSON is read; each shard is `stat`ed, never opened. A group's shards,
 * taken in order, must hold exactly its weights' bytes — anything else is a model tfjs would load wrong
 * or not at all. Each weight gets the byte range it has in its shard; a weight that runs on into the
 * next shard gets the pieces (tensorInfo.ts `pieces`), so convert reads it whole.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ByteSource, describeFsError, spoilTrace, withSource } from '../byteSource';
import { nonRegularReason } from '../openRegular';
import { isRemote } from '../remote/remoteName';
import { ReaderError, unreadable } from '../readerError';
import { CheckpointInfo, TensorInfo, TensorLocation } from '../tensorInfo';
import { Manifest, ManifestGroup, ManifestProblem, parseManifest } from './manifest';

/** A model.json holds topology and the manifest: tens of KB, a few MB for a large graph model. */
const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** The top-level fields shown as metadata (strings only; the topology stays out of it). */
const SHOWN_FIELDS = ['format', 'generatedBy', 'convertedBy'];

export async function readTfjsModel(file: string, display: string): Promise<CheckpointInfo> {
  if (isRemote(file)) throw unreadable(display, 'a remote TF.js model.json is not read (its shards would need a request each): download the folder');
  spoilTrace(); // the result depends on the shards' sizes too: the JSON's bytes alone cannot vouch for it
  const doc = await withSource(file, display, (src) => parseJson(src, display));
  let manifest: Manifest | undefined;
  try {
    manifest = parseManifest(doc);
  } catch (e) {
    if (e instanceof ManifestProblem) throw unreadable(display, e.message);
    throw e;
  }
  if (!manifest) throw new ReaderError('not-a-checkpoint', display, 'JSON without a "weightsManifest": not a TF.js model.json (nor a weights manifest)');
  const dir = path.dirname(path.resolve(file));
  const tensors: TensorInfo[] = [];
  for (const g of manifest.groups) tensors.push(...await placeGroup(g, dir, display));
  const metadata: Record<string, string> = {};
  for (const f of SHOWN_FIELDS) {
    const v = manifest.fields?.[f];
    if (typeof v === 'string') metadata[f] = v;
  }
  const notes: string[] = [];
  if (manifest.fields && manifest.fields.modelTopology === undefined) notes.push('no "modelTopology": weights only, tf.loadLayersModel needs the topology from elsewhere');
  const quantized = tensors.filter((t) => t.quantization).length;
  if (quantized) notes.push(`${quantized} weight${quantized === 1 ? ' is' : 's are'} stored quantized (the dtype listed is what tfjs dequantizes to; the size is what is stored)`);
  return { file: display, format: 'tfjs-model', framework: 'tfjs', tensors, notes, ...(Object.keys(metadata).length ? { metadata } : {}) };
}

async function parseJson(src: ByteSource, display: string): Promise<unknown> {
  if (src.size > MAX_MODEL_JSON_BYTES) throw unreadable(display, `is ${src.size} bytes, more than the ${MAX_MODEL_JSON_BYTES}-byte limit for a model.json`);
  const text = (await src.read(0, src.size, 'the model.json')).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw unreadable(display, `not valid JSON (${(e as Error).message})`);
  }
}

/** Each weight of a group located in its shards, after the shards' sizes are checked against the manifest. */
async function placeGroup(g: ManifestGroup, dir: string, display: string): Promise<TensorInfo[]> {
  const files = g.paths.map((p) => path.join(dir, p));
  const sizes = await Promise.all(files.map((f, k) => shardSize(f, g.paths[k], display)));
  const stored = sizes.reduce((a, b) => a + b, 0);
  const needed = g.weights.reduce((a, w) => a + w.bytes, 0);
  if (stored !== needed) {
    const which = g.paths.length === 1 ? `shard ${g.paths[0]} holds` : `shards ${g.paths.join(', ')} hold`;
    throw unreadable(display, `${which} ${stored} bytes, but the manifest's weights ${g.weights.map((w) => `"${w.name}"`).slice(0, 3).join(', ')}${g.weights.length > 3 ? ', …' : ''} take ${needed}: truncated, or not this model's shards`);
  }
  const starts: number[] = [];
  let acc = 0;
  for (const s of sizes) { starts.push(acc); acc += s; }
  let shard = 0;
  let offset = 0;
  return g.weights.map((w) => {
    while (shard < sizes.length - 1 && offset >= starts[shard] + sizes[shard]) shard++;
    const t: TensorInfo = { key: w.name, dtype: w.dtype, shape: w.shape, ...(w.quantization ? { quantization: w.quantization } : {}) };
    if (w.bytes > 0) t.location = locate(files, sizes, starts, shard, offset, w.bytes, dir);
    offset += w.bytes;
    return t;
  });
}

function locate(files: string[], sizes: number[], starts: number[], first: number, offset: number, length: number, dir: string): TensorLocation {
  const at = offset - starts[first];
  if (at + length <= sizes[first]) return { file: files[first], offset: at, length, within: dir };
  const pieces: { file: string; offset: number; length: number }[] = [];
  let left = length;
  for (let k = first, from = at; left > 0; k++, from = 0) {
    const n = Math.min(left, sizes[k] - from);
    if (n > 0) pieces.push({ file: files[k], offset: from, length: n });
    left -= n;
  }
  return { file: pieces[0].file, offset: pieces[0].offset, length, within: dir, pieces };
}

async function shardSize(file: string, name: string, display: string): Promise<number> {
  let st;
  try {
    st = await fs.stat(file);
  } catch (e) {
    throw unreadable(display, `shard ${name}: ${describeFsError(e)}`);
  }
  const why = nonRegularReason(st, 'a weights shard');
  if (why) throw unreadable(display, `shard ${name}: ${why}`);
  return st.size;
}
