/**
 * The language server's header reads in worker threads: every format comes back exactly as an
 * in-thread read gives it (the packed tensor table included), errors keep their reason, and a read
 * that overruns its time or its memory fails alone — its thread is replaced and the pool goes on.
 */
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { ReaderError } from '../../server/src/formats/readerError';
import { pooledReader, ReadPool } from '../../server/src/index/readPool';
import { decodeTensors, encodeTensors } from '../../server/src/formats/tensorTable';
import { sparseSafetensors, writeSafetensorsHeader } from '../support/sparse';
import { FIXTURES, scratchDir } from '../support/tmp';

const pool = new ReadPool({ size: 2, idleMs: 60_000 });
after(() => pool.close());
const tmp = scratchDir('pool');

const FILES = [
  'safetensors/vit_tiny.safetensors', 'safetensors/sharded/model.safetensors.index.json',
  'torch/vit_tiny.pt', 'torch/vit_tiny_legacy.pt', 'torch/vit_tiny_wrapped.pt',
  'paddle/linear_p2.pdparams', 'paddle/linear_p4.pdparams', 'paddle/odd_arrays.pdparams',
  'onnx/tiny_attn.onnx', 'onnx/gemm_helper.onnx', 'gguf/tiny.gguf', 'gguf/align64_v2.gguf',
];

test('a pooled read equals an in-thread read for every format', async () => {
  await Promise.all(FILES.map(async (rel) => {
    const file = path.join(FIXTURES, rel);
    assert.deepEqual(await pool.read(file, { displayName: rel }), await readCheckpoint(file, { displayName: rel }), rel);
  }));
  assert.equal(pool.threads, 2, 'reads ran on both threads');
});

test('a sharded index is merged in this thread from shards read by the pool, as an in-thread read gives it', async () => {
  const shardPool = new ReadPool({ size: 2, idleMs: 60_000 });
  const read = pooledReader(shardPool);
  try {
    for (const name of ['model.safetensors.index.json', 'stale.safetensors.index.json']) {
      const file = path.join(FIXTURES, 'safetensors', 'sharded', name);
      assert.deepEqual(await read(file, { displayName: name }), await readCheckpoint(file, { displayName: name }), name);
    }
    assert.equal(shardPool.threads, 2, 'both shards were read in workers');
    // A shard that fails fails the index with the same message either way.
    const dir = path.join(tmp.dir, 'sharded');
    cpSync(path.join(FIXTURES, 'safetensors', 'sharded'), dir, { recursive: true });
    writeFileSync(path.join(dir, 'model-00002-of-00002.safetensors'), 'not a header');
    const file = path.join(dir, 'model.safetensors.index.json');
    const inThread = await readCheckpoint(file, { displayName: 'm.index.json' }).catch((e: Error) => e.message);
    assert.match(String(inThread), /^m\.index\.json: shard model-00002-of-00002\.safetensors: /);
    await assert.rejects(read(file, { displayName: 'm.index.json' }), { message: inThread });
  } finally {
    await shardPool.close();
  }
});

test('the packed table round-trips plain and unusual tensors alike', () => {
  const tensors = [
    { key: 'a', dtype: 'F32', shape: [2, 3], location: { file: '/m/x', offset: 8, length: 24 } },
    { key: '', dtype: 'BF16', shape: [] },
    { key: 'ключ', dtype: 'F32', shape: [NaN, 4], dims: ['hidden', 4], declared: ['hidden', 4] },
    { key: 'v', dtype: 'F16', shape: [4, 2], location: { file: '/m/y', offset: 0, length: 16, stride: [1, 4] } },
    { key: 'w', dtype: 'F32', shape: [1], location: { file: '/m/x', offset: 32, length: 4 }, consumers: ['MatMul.B'] },
  ];
  const table = encodeTensors(tensors);
  assert.equal(table.extras.length, 3);
  assert.deepEqual(decodeTensors(table), tensors);
});

test('errors keep their code, file and reason', async () => {
  const file = path.join(FIXTURES, 'torch', 'malicious_os-system.bin');
  const inThread = await readCheckpoint(file).catch((e: unknown) => e as ReaderError);
  const pooled = await pool.read(file).catch((e: unknown) => e as ReaderError);
  assert.ok(pooled instanceof ReaderError);
  assert.equal(pooled.code, 'unsafe-pickle');
  assert.equal(pooled.message, (inThread as ReaderError).message);
});

test('a read over its time is stopped, its thread replaced, and the next read served', async () => {
  const many = path.join(tmp.dir, 'many.safetensors');
  sparseSafetensors(many, (function* () { for (let i = 0; i < 100_000; i++) yield [`layers.${i}.weight`, [4]] as [string, number[]]; })());
  const small = new ReadPool({ size: 1 });
  try {
    await assert.rejects(small.read(many, { displayName: 'many.safetensors', timeoutMs: 5 }),
      { message: 'many.safetensors: reading the header took longer than 5 ms' });
    assert.equal(small.threads, 0, 'the overrunning worker was terminated');
    const vit = await small.read(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'));
    assert.equal(vit.tensors.length, 41);
    const again = await small.read(many);
    assert.equal(again.tensors.length, 100_000);
  } finally {
    await small.close();
  }
});

test('a header that needs more memory than a worker may use fails alone', async () => {
  // 200,000 tensors of distinct shapes listed last byte first: a header out of offset order is read as
  // objects (to sort them), ~60 MiB of them, where a worker may use 16.
  const many = path.join(tmp.dir, 'many-oom.safetensors');
  const entries: string[] = [];
  let end = 0;
  for (let i = 0; i < 200_000; i++) end += i + 1;
  for (let i = 199_999; i >= 0; i--) {
    entries.push(`"layers.${i}.weight":{"dtype":"U8","shape":[1,${i + 1}],"data_offsets":[${end - (i + 1)},${end}]}`);
    end -= i + 1;
  }
  writeSafetensorsHeader(many, `{${entries.join(',')}}`, 200_000 * 200_001 / 2);
  const tight = new ReadPool({ size: 1, maxHeapMB: 16 });
  try {
    await assert.rejects(tight.read(many, { displayName: 'many-oom.safetensors' }),
      { message: 'many-oom.safetensors: the reader stopped: its header needs more memory than a reader may use' });
    const vit = await tight.read(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'));
    assert.equal(vit.tensors.length, 41);
  } finally {
    await tight.close();
  }
});

test('a closed pool refuses new reads with a reason', async () => {
  const closed = new ReadPool({ size: 1 });
  await closed.close();
  await assert.rejects(closed.read('/x.safetensors'), /the reader pool has been shut down/);
});

test('warmed threads wait for the reads to come, stop when nothing comes, and the pool still reads after', async () => {
  const warmed = new ReadPool({ size: 2, idleMs: 2_000 });
  try {
    warmed.warm();
    assert.equal(warmed.threads, 2, 'both threads started before any read');
    const file = path.join(FIXTURES, 'safetensors/vit_tiny.safetensors');
    assert.deepEqual(await warmed.read(file), await readCheckpoint(file));
    assert.equal(warmed.threads, 2, 'the read ran on a warmed thread, none was added');
    for (let waited = 0; warmed.threads > 0 && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    assert.equal(warmed.threads, 0, 'idle warmed threads stopped');
    assert.deepEqual(await warmed.read(file), await readCheckpoint(file));
  } finally {
    await warmed.close();
  }
});

test('a read someone waits on goes ahead of the reads queued before it', async () => {
  const one = new ReadPool({ size: 1, idleMs: 60_000 });
  try {
    const files = FILES.filter((f) => !f.endsWith('.json')).map((f) => path.join(FIXTURES, f));
    const done: string[] = [];
    const reads = files.map((f) => one.read(f).then(() => { done.push(f); }));
    const last = files[files.length - 1];
    one.prioritize(last);
    await Promise.all(reads);
    // The first was already on the thread; the one asked for comes next, not last.
    assert.equal(done.indexOf(last), 1, done.map((f) => path.basename(f)).join(', '));
  } finally {
    await one.close();
  }
});
