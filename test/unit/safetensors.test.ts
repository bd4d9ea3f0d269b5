/** The safetensors reader on real files and on every kind of broken header the reference rejects. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { ReaderError } from '../../server/src/formats/readerError';
import { EXAMPLES, FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';

const VIT = path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors');
const expected: Record<string, { dtype: string; shape: number[]; first: number }> =
  JSON.parse(readFileSync(path.join(FIXTURES, 'safetensors', 'vit_tiny.expected.json'), 'utf8'));
const tmp = scratchDir('st');

test('lists every tensor of a real file with dtype and shape, in file order', async () => {
  const info = await readCheckpoint(VIT);
  assert.equal(info.format, 'safetensors');
  assert.equal(info.framework, 'torch');
  assert.deepEqual(info.metadata, { format: 'pt' });
  assert.deepEqual(info.tensors.map((t) => t.key), Object.keys(expected));
  for (const t of info.tensors) {
    assert.equal(t.dtype, expected[t.key].dtype, t.key);
    assert.deepEqual(t.shape, expected[t.key].shape, t.key);
  }
  assert.deepEqual(new Set(info.tensors.map((t) => t.dtype)), new Set(['F32', 'F16', 'BF16', 'I64']));
});

test('locations point at the tensor bytes (checked against values the fixture script wrote)', async () => {
  const info = await readCheckpoint(VIT);
  const bytes = readFileSync(VIT);
  const cls = info.tensors.find((t) => t.key === 'embeddings.cls_token')!;
  assert.ok(Math.abs(bytes.readFloatLE(cls.location!.offset) - expected['embeddings.cls_token'].first) < 1e-6);
  const ids = info.tensors.find((t) => t.key === 'position_ids')!;
  assert.equal(Number(bytes.readBigInt64LE(ids.location!.offset)), expected.position_ids.first);
  assert.equal(ids.location!.length, 17 * 8);
});

test('reads the worked example checkpoint', async () => {
  const info = await readCheckpoint(path.join(EXAMPLES, 'bert-to-paddlenlp', 'hf_bert_tiny.safetensors'));
  assert.equal(info.tensors[0].key, 'bert.embeddings.position_ids');
  assert.equal(info.tensors[0].dtype, 'I64');
  assert.equal(info.tensors.length, 40); // 6 embedding tensors + 16 per layer × 2 + the pooler's 2
});

test('a sharded index lists the tensors of every shard', async () => {
  const info = await readCheckpoint(path.join(FIXTURES, 'safetensors', 'sharded', 'model.safetensors.index.json'));
  assert.equal(info.format, 'safetensors-index');
  assert.deepEqual(info.tensors.map((t) => t.key), Object.keys(expected));
  assert.deepEqual(info.notes, []);
});

test('a stale index is reported key by key', async () => {
  const info = await readCheckpoint(path.join(FIXTURES, 'safetensors', 'sharded', 'stale.safetensors.index.json'));
  assert.equal(info.tensors.length, Object.keys(expected).length);
  assert.ok(info.notes.some((n) => n.includes('"embeddings.cls_token" is in model-00001-of-00002.safetensors but the index says model-00002')), info.notes.join('\n'));
  assert.ok(info.notes.some((n) => n.includes('"encoder.layer.9.output.dense.weight"') && n.includes('does not hold it')));
});

const f32 = (shape: number[], offsets: [number, number]) => ({ dtype: 'F32', shape, data_offsets: offsets });

const malformed: [string, Buffer | string, RegExp][] = [
  ['empty file', Buffer.alloc(0), /too short for a safetensors header length/],
  ['truncated header length', Buffer.from([1, 2, 3]), /too short/],
  ['header length past the end of the file', safetensorsBytes({}, 0, 1000n), /header length 1000 runs past the end of the file/],
  ['header length 2^62', safetensorsBytes({}, 0, 1n << 62n), /exceeds the 100,000,000-byte limit/],
  ['invalid JSON', safetensorsBytes('{"a": {'), /not valid JSON/],
  ['JSON that is not an object', safetensorsBytes('[1, 2]'), /not an object of tensors/],
  ['invalid UTF-8', safetensorsBytes(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]).toString('latin1')), /not valid UTF-8|not valid JSON/],
  ['unknown dtype', safetensorsBytes({ w: { dtype: 'F7', shape: [1], data_offsets: [0, 4] } }, 4), /unknown dtype "F7"/],
  ['overlapping offsets', safetensorsBytes({ a: f32([2], [0, 8]), b: f32([2], [4, 12]) }, 12), /"b" overlaps the previous tensor/],
  ['a gap between tensors', safetensorsBytes({ a: f32([2], [0, 8]), b: f32([2], [12, 20]) }, 20), /gap in the data buffer before tensor "b"/],
  ['offsets not starting at 0', safetensorsBytes({ a: f32([2], [4, 12]) }, 12), /gap in the data buffer before tensor "a"/],
  ['shape disagreeing with the byte length', safetensorsBytes({ a: f32([3, 3], [0, 32]) }, 32), /F32 \[3,3\] \(36 bytes\) but data_offsets span 32 bytes/],
  ['data shorter than the offsets say (truncated)', safetensorsBytes({ a: f32([4], [0, 16]) }, 8), /ends at buffer byte 16 but the file holds 8: truncated/],
  ['trailing bytes after the last tensor', safetensorsBytes({ a: f32([1], [0, 4]) }, 12), /8 bytes after the last tensor/],
  ['negative shape', safetensorsBytes({ a: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, 4), /invalid shape/],
  ['metadata that is not strings', safetensorsBytes({ __metadata__: { a: 1 } }), /__metadata__ value for "a" is not a string/],
];

for (const [name, bytes, reason] of malformed) {
  test(`rejects ${name} with a reason naming the file`, async () => {
    const file = tmp.file(`${name.replace(/\W+/g, '_')}.safetensors`, bytes);
    await assert.rejects(readCheckpoint(file), (e: unknown) => {
      assert.ok(e instanceof ReaderError, `not a ReaderError: ${String(e)}`);
      assert.equal(e.code, 'unreadable-checkpoint');
      assert.match(e.reason, reason);
      assert.ok(e.message.startsWith(file), e.message);
      return true;
    });
  });
}

test('a real file cut anywhere is rejected, never misread', async () => {
  const whole = readFileSync(VIT);
  for (const cut of [4, 8, 9, 100, 2000, whole.length - 1]) {
    const file = tmp.file(`cut${cut}.safetensors`, whole.subarray(0, cut));
    await assert.rejects(readCheckpoint(file), ReaderError, `cut at ${cut}`);
  }
});

test('a missing file and a missing shard are clear errors', async () => {
  await assert.rejects(readCheckpoint(path.join(tmp.dir, 'nope.safetensors')), /nope\.safetensors: no such file/);
  const index = tmp.file('lonely.safetensors.index.json', JSON.stringify({ weight_map: { a: 'gone.safetensors' } }));
  await assert.rejects(readCheckpoint(index), /shard gone\.safetensors: no such file/);
  const escape = tmp.file('escape.safetensors.index.json', JSON.stringify({ weight_map: { a: '../../etc/passwd' } }));
  await assert.rejects(readCheckpoint(escape), /outside the index's folder/);
});

test('a header larger than the maxHeaderBytes budget is refused with the setting named; within it, read', async () => {
  const header: Record<string, unknown> = {};
  for (let i = 0; i < 20_000; i++) header[`layers.${i}.weight`] = { dtype: 'F32', shape: [1], data_offsets: [i * 4, i * 4 + 4] };
  const file = tmp.file('big_header.safetensors', safetensorsBytes(header, 80_000));
  assert.ok(readFileSync(file).length > 1 << 20);
  await assert.rejects(readCheckpoint(file, { maxHeaderBytes: 1 << 20 }), /needs more than 1 MiB \(the tensorport\.index\.maxHeaderMB limit\)/);
  assert.equal((await readCheckpoint(file, { maxHeaderBytes: 8 << 20 })).tensors.length, 20_000);
});
