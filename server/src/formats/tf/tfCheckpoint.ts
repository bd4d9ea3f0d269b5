/**
 * A TensorFlow checkpoint (`tf.train.Checkpoint.write`/`save`, `tf.compat.v1.train.Saver`): `PREFIX.index`
 * is a table (sstable.ts) of `BundleEntryProto` keyed by variable name, with the `BundleHeaderProto`
 * under the empty key (tensorflow/core/protobuf/tensor_bundle.proto); the bytes live in
 * `PREFIX.data-NNNNN-of-NNNNN`. Names are listed as TensorFlow spells them: TF1 variable names
 * (`bert/encoder/layer_0/attention/self/query/kernel`) or TF2 object-graph paths
 * (`model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE`) — what `tf.train.list_variables` says,
 * less the serialized object graph itself (`_CHECKPOINTABLE_OBJECT_GRAPH`, a string, no weight).
 * Only the index is read; each shard is only stat'ed, to check the offsets against its size.
 */
import { promises as fs } from 'node:fs';
import { resolve } from 'node:path';
import { type ByteSource, spoilTrace } from '../byteSource';
import { unreadable } from '../readerError';
import { type CheckpointInfo, DTYPE_SIZE, type TensorInfo, numel } from '../tensorInfo';
import { readTable, varint } from './sstable';

const OBJECT_GRAPH = '_CHECKPOINTABLE_OBJECT_GRAPH';

/** tensorflow/core/framework/types.proto `DataType` → safetensors' names (the rest by TensorFlow's). */
const DTYPES: Readonly<Record<number, string>> = Object.assign(Object.create(null) as Record<number, string>, {
  1: 'F32', 2: 'F64', 3: 'I32', 4: 'U8', 5: 'I16', 6: 'I8', 7: 'STRING', 8: 'C64', 9: 'I64', 10: 'BOOL',
  11: 'QINT8', 12: 'QUINT8', 13: 'QINT32', 14: 'BF16', 15: 'QINT16', 16: 'QUINT16', 17: 'U16', 18: 'C128', 19: 'F16',
  20: 'RESOURCE', 21: 'VARIANT', 22: 'U32', 23: 'U64', 24: 'F8_E5M2', 25: 'F8_E4M3', 26: 'F8_E4M3FNUZ',
  27: 'F8_E4M3B11FNUZ', 28: 'F8_E5M2FNUZ', 29: 'I4', 30: 'U4', 31: 'I2', 32: 'U2', 33: 'F4',
});

interface Entry { dtype: number; shape: number[]; unknownRank: boolean; shard: number; offset: number; size: number; sliced: boolean }

export async function readTfCheckpoint(src: ByteSource): Promise<CheckpointInfo> {
  const name = src.displayName;
  const entries = await readTable(src);
  if (entries.length === 0 || entries[0].key.length !== 0) throw unreadable(name, 'the table has no bundle header (the entry under the empty key): not a TensorFlow checkpoint index');
  const header = parseHeader(name, entries[0].value);
  const prefix = resolve(src.path).replace(/\.index$/, '');
  const shardFile = (i: number) => `${prefix}.data-${String(i).padStart(5, '0')}-of-${String(header.shards).padStart(5, '0')}`;
  // The listing depends on the shards' sizes, which the index's bytes do not record.
  spoilTrace();
  const shardSizes = new Map<number, number | undefined>();
  const tensors: TensorInfo[] = [];
  const notes: string[] = [];
  const problems: string[] = [];
  let sliceEntries = 0;
  let sliced = 0;
  for (const { key, value } of entries.slice(1)) {
    // Partitioned variables keep each slice under an encoded key that starts with a NUL byte; the full name lists the variable.
    if (key[0] === 0) { sliceEntries++; continue; }
    const k = key.toString('utf8');
    if (k === OBJECT_GRAPH) { notes.push(`\`${OBJECT_GRAPH}\` (TF2's object graph, serialized: no weight) is not listed`); continue; }
    const e = parseEntry(name, k, value);
    const dtype = DTYPES[e.dtype] ?? `DT_${e.dtype}`;
    const info: TensorInfo = { key: k, dtype, shape: e.shape };
    tensors.push(info);
    if (e.sliced) { sliced++; continue; }
    const size = DTYPE_SIZE[dtype];
    if (header.bigEndian || size === undefined || e.unknownRank) continue;
    if (e.size !== numel(e.shape) * size) { problems.push(`\`${k}\`: ${e.size} bytes for ${numel(e.shape) * size} declared`); continue; }
    if (e.shard >= header.shards) { problems.push(`\`${k}\`: shard ${e.shard} of ${header.shards}`); continue; }
    if (!shardSizes.has(e.shard)) shardSizes.set(e.shard, await fs.stat(shardFile(e.shard)).then((s) => (s.isFile() ? s.size : undefined), () => undefined));
    const shardSize = shardSizes.get(e.shard);
    if (shardSize === undefined) continue;
    if (e.offset + e.size > shardSize) { problems.push(`\`${k}\`: ${e.size} bytes at byte ${e.offset} run past the end of its ${shardSize}-byte shard`); continue; }
    info.location = { file: shardFile(e.shard), offset: e.offset, length: e.size };
  }
  const missing = [...shardSizes].filter(([, s]) => s === undefined).map(([i]) => shardFile(i).slice(prefix.length));
  if (missing.length > 0) notes.push(`data shard${missing.length === 1 ? '' : 's'} \`PREFIX${missing[0]}\`${missing.length > 1 ? ` and ${missing.length - 1} more are` : ' is'} missing: ${missing.length === 1 ? 'its' : 'their'} tensors are listed without a location`);
  if (header.bigEndian) notes.push('the checkpoint is big-endian, so its tensors have no byte location');
  if (sliced > 0) notes.push(`${sliced} variable${sliced === 1 ? ' is' : 's are'} partitioned (saved in ${sliceEntries} slices) and listed whole, with no byte location`);
  if (problems.length > 0) notes.push(`no byte location for ${problems.length} tensor${problems.length === 1 ? '' : 's'}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`);
  if (tensors.some((t) => t.key.endsWith('/.ATTRIBUTES/VARIABLE_VALUE'))) notes.push('TF2 object-graph names: each variable is `PATH/.ATTRIBUTES/VARIABLE_VALUE`');
  return { file: name, format: 'tf-checkpoint', framework: 'tf', tensors, notes };
}

/** BundleHeaderProto: num_shards = 1, endianness = 2 (LITTLE 0, BIG 1), version = 3. */
function parseHeader(name: string, buf: Buffer): { shards: number; bigEndian: boolean } {
  let shards = 1, bigEndian = false;
  forFields(name, buf, 'the bundle header', (field, value) => {
    if (field === 1 && typeof value === 'number') shards = value;
    if (field === 2 && typeof value === 'number') bigEndian = value === 1;
  });
  if (shards < 1 || shards > 100_000) throw unreadable(name, `the bundle header says ${shards} shards`);
  return { shards, bigEndian };
}

/** BundleEntryProto: dtype 1, shape 2 (TensorShapeProto: dim 2 {size 1}, unknown_rank 3), shard_id 3, offset 4, size 5, slices 7. */
function parseEntry(name: string, key: string, buf: Buffer): Entry {
  const e: Entry = { dtype: 0, shape: [], unknownRank: false, shard: 0, offset: 0, size: 0, sliced: false };
  forFields(name, buf, `the entry of \`${key}\``, (field, value) => {
    if (field === 1 && typeof value === 'number') e.dtype = value;
    else if (field === 3 && typeof value === 'number') e.shard = value;
    else if (field === 4 && typeof value === 'number') e.offset = value;
    else if (field === 5 && typeof value === 'number') e.size = value;
    else if (field === 7) e.sliced = true;
    else if (field === 2 && Buffer.isBuffer(value)) {
      forFields(name, value, `the shape of \`${key}\``, (f, v) => {
        if (f === 3 && v === 1) e.unknownRank = true;
        if (f !== 2 || !Buffer.isBuffer(v)) return;
        let size = 0;
        forFields(name, v, `a dimension of \`${key}\``, (ff, vv) => { if (ff === 1 && typeof vv === 'number') size = vv; });
        if (e.shape.length >= 64) throw unreadable(name, `\`${key}\` has more than 64 dimensions`);
        e.shape.push(size);
      });
    }
  });
  if (e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw unreadable(name, `\`${key}\` has a negative or unknown dimension`);
  return e;
}

/** The fields of a small protobuf message held in memory: varints as numbers, length-delimited as buffers. */
function forFields(name: string, buf: Buffer, what: string, fn: (field: number, value: number | Buffer) => void): void {
  const r = { buf, pos: 0 };
  while (r.pos < buf.length) {
    const tag = varint(name, r);
    const field = Math.floor(tag / 8), wire = tag & 7;
    if (wire === 0) fn(field, varint(name, r));
    else if (wire === 2) {
      const n = varint(name, r);
      if (r.pos + n > buf.length) throw unreadable(name, `${what}: a field runs past its message`);
      fn(field, buf.subarray(r.pos, r.pos + n));
      r.pos += n;
    } else if (wire === 5) { r.pos += 4; }
    else if (wire === 1) { r.pos += 8; }
    else throw unreadable(name, `${what}: wire type ${wire} is not one protobuf writes here`);
    if (r.pos > buf.length) throw unreadable(name, `${what}: a field runs past its message`);
  }
}
