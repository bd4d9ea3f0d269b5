/**
 * A TF.js model folder as the TF.js converter writes it (tensorflowjs/write_weights.py): the weights in
 * order, back to back, cut into `group1-shardKofN.bin` files of at most 4 MiB each (a weight may run
 * from one shard into the next: tfjs concatenates a group's shards before slicing), and `model.json`
 * whose `weightsManifest` lists them. Written into the target's model.json: its topology, `format`,
 * `generatedBy`, `convertedBy` and every other field stay as they are; only the manifest is new.
 * Every shard is written completely under a temporary name, then the set is published with model.json
 * last (publish.ts publishSet): a failed run leaves the old files as they were.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeTempFile } from '../../formats/atomicWrite';
import { describeFsError } from '../../formats/byteSource';
import { publishSet, testPublishGate } from '../../formats/publish';
import { readRegularFile } from '../../formats/openRegular';
import { OutTensor, PublishOptions, publishError, writeTemp } from './atomicOutput';
import { ConvertError } from './errors';

/** TF.js's default shard size (tensorflowjs `--weight_shard_size_bytes`, 4 MiB). */
export const TFJS_SHARD_BYTES = 4 * 1024 * 1024;

/** Tensor Port dtypes → tfjs-core's weight dtypes (what a layers model's weights can be). */
export const TFJS_WRITE_DTYPES: Readonly<Record<string, string>> = Object.freeze({ F32: 'float32', I32: 'int32', BOOL: 'bool' });

interface Piece { tensor: number; from: number; to: number }

/** The shard files' contents: byte ranges of the tensors, in order, `shardBytes` per file. */
export function tfjsShards(tensors: readonly OutTensor[], shardBytes: number): Piece[][] {
  const shards: Piece[][] = [[]];
  let room = shardBytes;
  tensors.forEach((t, i) => {
    if (t.byteLength === 0) { shards[shards.length - 1].push({ tensor: i, from: 0, to: 0 }); return; }
    for (let from = 0; from < t.byteLength;) {
      if (room === 0) { shards.push([]); room = shardBytes; }
      const to = Math.min(t.byteLength, from + room);
      shards[shards.length - 1].push({ tensor: i, from, to });
      room -= to - from;
      from = to;
    }
  });
  return shards;
}

export function tfjsShardNames(outPath: string, n: number): string[] {
  return Array.from({ length: n }, (_, k) => path.join(path.dirname(outPath), `group1-shard${k + 1}of${n}.bin`));
}

/**
 * The target model.json's fields other than the manifest, or undefined when the target is no TF.js
 * model (the output is then a model.json with the manifest only, which tfjs loads with a topology given
 * apart).
 */
export async function tfjsFieldsOf(target: string | undefined): Promise<Record<string, unknown> | undefined> {
  if (target === undefined) return undefined;
  let doc: unknown;
  try {
    doc = JSON.parse(await readRegularFile(target, 'a TF.js model.json'));
  } catch (e) {
    throw new ConvertError('input', `${target}: cannot read it again for its model topology: ${e instanceof SyntaxError ? e.message : describeFsError(e)}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return undefined;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) if (k !== 'weightsManifest') fields[k] = v;
  return fields;
}

export function tfjsModelJson(tensors: readonly OutTensor[], shardFiles: readonly string[], fields: Record<string, unknown> | undefined): string {
  const weights = tensors.map((t) => ({ name: t.key, shape: t.shape, dtype: TFJS_WRITE_DTYPES[t.dtype] }));
  return JSON.stringify({ ...(fields ?? {}), weightsManifest: [{ paths: shardFiles.map((f) => path.basename(f)), weights }] });
}

/** Writes the shards and model.json; returns the bytes written. `produce(i)` gives tensor i's bytes. */
export async function writeTfjs(outPath: string, tensors: readonly OutTensor[], shards: readonly Piece[][], fields: Record<string, unknown> | undefined,
  produce: (i: number) => Promise<Buffer>, opts: PublishOptions & { signal?: AbortSignal; onWritten(i: number): void }): Promise<number> {
  const names = tfjsShardNames(outPath, shards.length);
  const last = new Map<number, Piece>();
  for (const s of shards) for (const p of s) last.set(p.tensor, p);
  // A tensor cut across two shards is made once and kept until its last piece is on disk.
  const made = new Map<number, Promise<Buffer>>();
  const data = (i: number) => {
    let d = made.get(i);
    if (!d) { d = produce(i); made.set(i, d); }
    return d;
  };
  const temps: string[] = [];
  let bytes = 0;
  try {
    for (let k = 0; k < shards.length; k++) {
      const pieces = shards[k];
      const parts: OutTensor[] = pieces.map((p) => ({ ...tensors[p.tensor], byteLength: p.to - p.from }));
      const none = Buffer.alloc(0);
      const part = await writeTemp(names[k], parts, { crc: false, before: () => none, tail: () => none },
        async (j) => (await data(pieces[j].tensor)).subarray(pieces[j].from, pieces[j].to),
        { signal: opts.signal, onWritten: (j) => {
          const p = pieces[j];
          if (last.get(p.tensor) !== p) return;
          made.delete(p.tensor);
          opts.onWritten(p.tensor);
        } });
      temps.push(part.tmp);
      bytes += part.bytes;
    }
    const text = tfjsModelJson(tensors, names, fields);
    temps.push(await writeTempFile(outPath, text).catch((e: unknown) => {
      throw new ConvertError('io', `${outPath}: cannot write it: ${describeFsError(e)}; nothing was written`);
    }));
    await testPublishGate();
    await opts.beforePublish?.();
    opts.signal?.throwIfAborted();
    const set = [...names, outPath].map((target, k) => ({ tmp: temps[k], target }));
    await publishSet(set, { replace: opts.replace, forceOption: opts.forceOption }).catch((e: unknown) => {
      throw publishError((e as { target?: string }).target ?? outPath, e);
    });
    return bytes + Buffer.byteLength(text);
  } catch (e) {
    await Promise.all(made.values()).catch(() => undefined);
    await Promise.all(temps.map((p) => fs.rm(p, { force: true }).catch(() => undefined)));
    throw e;
  }
}
