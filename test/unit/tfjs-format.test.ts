/**
 * TF.js model.json against the real @tensorflow/tfjs: every fixture (test/fixtures/tfjs/make_tfjs.mjs) is
 * loaded by `tf.loadLayersModel` and `keys --json` must list exactly its weights' names, shapes and
 * dtypes; the byte ranges the reader gives (a weight across two shards, quantized weights) must hold
 * exactly the values tfjs loads.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { TensorInfo } from '../../server/src/formats/tensorInfo';
import { dequantize } from '../../server/src/mapping/convert/dequantize';
import { convLayout, linearLayout } from '../../server/src/mapping/layout';
import { runCli } from '../support/cli';
import { FIXTURES } from '../support/tmp';

const DIR = path.join(FIXTURES, 'tfjs');
const DTYPE: Record<string, string> = { float32: 'F32', int32: 'I32', bool: 'BOOL' };

interface Manifest { paths: string[]; weights: tf.io.WeightsManifestEntry[] }

/** The model as tfjs loads it from the folder (fromMemory: file:// needs tfjs-node). */
async function loadTfjs(dir: string): Promise<tf.LayersModel> {
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: object; weightsManifest: Manifest[] };
  const shards = json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(dir, p))));
  const data = Buffer.concat(shards);
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }));
}

/** A located tensor's stored bytes, pieces joined. */
function storedBytes(t: TensorInfo): Buffer {
  const loc = t.location!;
  return Buffer.concat((loc.pieces ?? [loc]).map((p) => readFileSync(p.file).subarray(p.offset, p.offset + p.length)));
}

for (const name of ['dense', 'conv-bn', 'embedding', 'quantized', 'port/tfjs']) {
  test(`keys --json of ${name}/model.json lists what tf.loadLayersModel loads, and its bytes are tfjs's values`, async () => {
    tf.setBackend('cpu');
    const dir = path.join(DIR, name);
    const model = await loadTfjs(dir);
    const r = runCli(['keys', '--json', path.join(dir, 'model.json')]);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as { format: string; framework: string; tensors: { key: string; dtype: string; shape: number[]; bytes: number; quantization?: { dtype: string } }[] };
    assert.equal(doc.format, 'tfjs-model');
    assert.equal(doc.framework, 'tfjs');
    // tfjs orders model.weights by layer (trainable first); the manifest keeps save order: compare as sets of rows.
    const truth = model.weights.map((w) => `${w.originalName} ${DTYPE[w.dtype]} [${w.shape.join(', ')}]`).sort();
    assert.deepEqual(doc.tensors.map((t) => `${t.key} ${t.dtype} [${t.shape.join(', ')}]`).sort(), truth);

    const info = await readCheckpoint(path.join(dir, 'model.json'));
    const values = new Map(model.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
    for (const t of info.tensors) {
      const stored = storedBytes(t);
      const bytes = t.quantization ? dequantize(stored, t.quantization, t.dtype, Buffer.alloc(stored.length / (t.quantization.dtype === 'U8' ? 1 : 2) * 4)) : stored;
      const got = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
      assert.deepEqual([...got], [...values.get(t.key)!], `${name}: ${t.key}`);
    }
    if (name === 'dense') assert.ok(info.tensors.some((t) => t.location?.pieces?.length === 2), 'a weight runs across the two 64-byte shards');
    if (name === 'quantized') {
      assert.deepEqual(doc.tensors.map((t) => t.quantization?.dtype), ['U8', 'U16', 'F16', 'U8', 'U16', 'F16']);
      assert.deepEqual(doc.tensors.map((t) => t.bytes), [12, 6, 6, 3, 12, 4], 'sizes are what is stored');
    }
  });
}

test('a weights-only manifest (a top-level list of groups) lists the same weights as its model.json', async () => {
  const only = await readCheckpoint(path.join(DIR, 'weights-only', 'weights_manifest.json'));
  const full = await readCheckpoint(path.join(DIR, 'dense', 'model.json'));
  assert.deepEqual(only.tensors.map((t) => [t.key, t.shape]), full.tensors.map((t) => [t.key, t.shape]));
  assert.equal(only.format, 'tfjs-model');
});

test('TF.js layouts are Keras\': Dense kernels [in, out], Conv2D kernels HWIO', async () => {
  const conv = await readCheckpoint(path.join(DIR, 'conv-bn', 'model.json'));
  const t = (k: string) => conv.tensors.find((x) => x.key === k)!;
  assert.equal(convLayout(t('conv2d_Conv2D1/kernel'), conv.framework), 'HWIO');
  assert.equal(linearLayout(t('dense_Dense2/kernel'), conv.framework), 'in_out');
  assert.equal(linearLayout(t('batch_normalization_BatchNormalization1/gamma'), conv.framework), undefined);
});
