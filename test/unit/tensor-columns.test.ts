/**
 * The columnar tensor table the server keeps (index/tensorColumns.ts): on real fixtures of every format
 * it gives back exactly the objects a read makes, finds every key, and a side built over it (SideData)
 * equals one built from the objects — keys, tensors, trie matches, tied and conditional keys.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { CheckpointInfo, TensorInfo } from '../../server/src/formats/tensorInfo';
import { ReadPool } from '../../server/src/index/readPool';
import { ColumnMap, columnarInfo, columnsOf, TensorColumns, tensorCount } from '../../server/src/index/tensorColumns';
import { encodeTensors } from '../../server/src/formats/tensorTable';
import { sideFromInfo } from '../../server/src/mapping/sideData';
import { Sep } from '../../server/src/mapping/keySegments';
import { Segment } from '../../server/src/mapping/syntax';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const FILES = [
  'safetensors/vit_tiny.safetensors', 'safetensors/sharded/model.safetensors.index.json',
  'torch/vit_tiny.pt', 'torch/vit_tiny_legacy.pt', 'paddle/linear_p2.pdparams', 'paddle/odd_arrays.pdparams',
  'onnx/tiny_attn.onnx', 'onnx/gemm_helper.onnx', 'gguf/tiny.gguf',
];

const columnar = (info: CheckpointInfo) => columnarInfo({ ...info }, new TensorColumns(encodeTensors(info.tensors)));

test('the columns give back every tensor a read makes, and find each by its key', async () => {
  for (const rel of FILES) {
    const info = await readCheckpoint(path.join(FIXTURES, rel), { displayName: rel });
    const cols = new TensorColumns(encodeTensors(info.tensors));
    assert.equal(cols.count, info.tensors.length, rel);
    info.tensors.forEach((t, i) => {
      assert.deepEqual(cols.at(i), t, `${rel}: ${t.key}`);
      assert.equal(cols.keyAt(i), t.key);
      assert.equal(cols.indexOf(t.key), i, `${rel}: ${t.key} is found`);
      assert.deepEqual(cols.at(i, true).shape, [...t.shape].reverse());
    });
    assert.equal(cols.indexOf(`${info.tensors[0].key}.nope`), -1);
    assert.equal(cols.indexOf(''), -1);
    const wrapped = columnar(info);
    assert.deepEqual(wrapped.tensors, info.tensors, `${rel}: the array made on demand`);
    assert.equal(tensorCount(wrapped), info.tensors.length);
    assert.ok(columnsOf(wrapped) && !columnsOf(info));
  }
});

test('a side over the columns equals a side over the objects', async () => {
  for (const rel of FILES) {
    const info = await readCheckpoint(path.join(FIXTURES, rel), { displayName: rel });
    const objects = sideFromInfo(info, `/abs/${rel}`, rel, 'torch');
    const cols = sideFromInfo(columnar(info), `/abs/${rel}`, rel, 'torch');
    assert.deepEqual(cols.keys, objects.keys, rel);
    assert.equal(cols.tensors.size, objects.tensors.size);
    assert.deepEqual([...cols.tensors], [...objects.tensors], `${rel}: entries (GGUF shapes row-major in both)`);
    for (const k of objects.keys) assert.deepEqual(cols.tensors.get(k), objects.tensors.get(k));
    assert.equal(cols.tensors.has('no.such.key'), false);
    assert.deepEqual(cols.rebuilt, objects.rebuilt);
    // Every key's parent with a trailing `*`, and with each numeric segment a capture.
    for (const key of objects.keys.slice(0, 50)) {
      const segs = key.split('.');
      const sep = (i: number) => (i === 0 ? '' : '.') as Sep;
      const star: Segment[] = [...segs.slice(0, -1).map((text, i) => ({ kind: 'literal', sep: sep(i), text }) as Segment), { kind: 'star', sep: sep(segs.length - 1) }];
      const captures: Segment[] = segs.map((text, i) => (/^\d+$/.test(text) ? { kind: 'capture', sep: sep(i), name: `c${i}` } : { kind: 'literal', sep: sep(i), text }));
      assert.deepEqual(cols.trie.match(star), objects.trie.match(star), `${rel}: ${key} *`);
      assert.deepEqual(cols.trie.match(captures), objects.trie.match(captures), `${rel}: ${key} captures`);
      assert.ok(cols.trie.match(captures).some((m) => m.key === key));
    }
    // The trie against a scan of the keys.
    const dotted = objects.keys.find((k) => k.includes('.')) ?? 'none.x';
    const prefix = `${dotted.split('.')[0]}.`;
    assert.deepEqual(new Set(cols.trie.keysWithPrefix(prefix, Infinity)), new Set(cols.keys.filter((k) => k.startsWith(prefix))), `${rel}: ${prefix}`);
    assert.deepEqual(new Set(cols.trie.keysWithPrefix('', Infinity)), new Set(cols.keys));
    const parent = dotted.split('.').slice(0, -1);
    const under = cols.trie.match([...parent.map((text, i) => ({ kind: 'literal', sep: i === 0 ? '' : '.', text }) as Segment), { kind: 'star', sep: '.' }]).map((m) => m.key);
    assert.deepEqual(new Set(under), new Set(cols.keys.filter((k) => k.startsWith(`${parent.join('.')}.`))), `${rel}: ${parent.join('.')}.*`);
  }
});

test('the framework read from evidence over the columns is the one read over the objects', async () => {
  let byShapes = 0;
  for (const rel of FILES) {
    // As if the file did not say its framework (safetensors.torch.save_file writes none), nor the mapping,
    // and no config.json at /abs: buffer names, then the shapes decide.
    const info = { ...await readCheckpoint(path.join(FIXTURES, rel), { displayName: rel }), framework: undefined };
    const objects = sideFromInfo(info, `/abs/${rel}`, rel);
    const cols = sideFromInfo(columnar(info), `/abs/${rel}`, rel);
    assert.equal(cols.framework, objects.framework, rel);
    assert.equal(cols.frameworkWhy, objects.frameworkWhy, rel);
    if (objects.frameworkWhy?.includes('Linear weights are stored')) byShapes++;
    // Only the tensors of a rank (and shape) asked for are made, and they are the map's own, in its order.
    const map = cols.tensors as ColumnMap;
    for (const rank of [1, 2, 4]) {
      assert.deepEqual([...map.entriesOfRank(rank)], [...objects.tensors].filter(([, t]) => t.shape.length === rank), `${rel}: rank ${rank}`);
    }
    assert.deepEqual([...map.entriesOfRank(2, (sh) => sh[0] > sh[1])], [...objects.tensors].filter(([, t]) => t.shape.length === 2 && t.shape[0] > t.shape[1]), `${rel}: wide`);
  }
  assert.ok(byShapes > 0, 'some fixture is decided by its Linear weights\' shapes');
});

test('tensors that do not fit the columns keep every field; constants, ties, conditions and duplicates behave as a Map', () => {
  const tensors: TensorInfo[] = [
    { key: 'ключ.0.weight', dtype: 'F32', shape: [2, 3], location: { file: '/m/x', offset: 8, length: 24 } },
    { key: 'emb.weight', dtype: 'F32', shape: [NaN, 4], dims: ['vocab', 4], declared: ['vocab', 4] },
    { key: 'head.weight', dtype: 'F32', shape: [NaN, 4], tiedTo: 'emb.weight' },
    { key: 'maybe.bias', dtype: 'F32', shape: [4], conditional: '`config.use_bias`' },
    { key: 'const', dtype: 'F32', shape: [1], constant: true },
    { key: '😀.x', dtype: 'F16', shape: [] },
    { key: 'dup', dtype: 'F16', shape: [1] },
    { key: 'dup', dtype: 'F32', shape: [2] },
  ];
  const info: CheckpointInfo = { file: 'm', format: 'safetensors', tensors, notes: [] };
  const cols = new TensorColumns(encodeTensors(tensors));
  tensors.forEach((t, i) => assert.deepEqual(cols.at(i), t));
  assert.equal(cols.indexOf('ключ.0.weight'), 0);
  assert.equal(cols.indexOf('😀.x'), 5);
  assert.equal(cols.indexOf('dup'), 7, 'the last of a repeated key, as Map.set leaves it');
  const a = sideFromInfo(info, '/m', 'm', 'torch');
  const b = sideFromInfo(columnar(info), '/m', 'm', 'torch');
  assert.deepEqual(b.tensors.get('dup'), a.tensors.get('dup'));
  assert.deepEqual(new Set(b.keys), new Set(a.keys));
  assert.equal(b.tensors.has('const'), false);
  assert.equal(b.tensors.size, a.tensors.size);
  assert.deepEqual(b.tied, new Map([['head.weight', 'emb.weight']]));
  assert.deepEqual(b.conditional, new Map([['maybe.bias', '`config.use_bias`']]));
  assert.deepEqual(a.conditional, b.conditional);
});

test('unicode keys written by safetensors itself are found through the pool', { skip: testPython().skip }, async () => {
  const dir = scratchDir('columns').dir;
  const file = path.join(dir, 'unicode.safetensors');
  runPython(testPython().python!, ['-c', [
    'import numpy as np',
    'from safetensors.numpy import save_file',
    `save_file({"слой.0.вес": np.zeros((2, 3), np.float32), "层.1": np.zeros(4, np.float16), "a\\"b": np.zeros(1, np.int64)}, ${JSON.stringify(file)})`,
  ].join('\n')]);
  const pool = new ReadPool({ size: 1 });
  try {
    const pooled = await pool.read(file);
    const inThread = await readCheckpoint(file);
    const side = sideFromInfo(pooled, file, 'unicode.safetensors');
    for (const t of inThread.tensors) assert.deepEqual(side.tensors.get(t.key), t, t.key);
    assert.deepEqual(pooled.tensors, inThread.tensors);
  } finally {
    await pool.close();
  }
});

test('an idle read worker is stopped, giving its memory back', async () => {
  const pool = new ReadPool({ size: 1, idleMs: 50 });
  try {
    await pool.read(path.join(FIXTURES, 'safetensors/vit_tiny.safetensors'));
    assert.equal(pool.threads, 1);
    for (let i = 0; i < 100 && pool.threads > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(pool.threads, 0, 'the worker was stopped after its idle time');
  } finally {
    await pool.close();
  }
});
