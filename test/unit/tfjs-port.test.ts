/**
 * PyTorch → TF.js end to end, with both real libraries: a torch model's safetensors
 * (fixtures/tfjs/port/make_port_torch.py) mapped onto the model.json TF.js saved for the same architecture
 * (make_tfjs.mjs), checked, converted, and loaded back by `tf.loadLayersModel`, whose output on the
 * fixture's input must be torch's. Also TF.js → TF.js from a quantized model whose weights run across
 * shards, written in shards small enough that they do again.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { runCli, checkDiagnostics } from '../support/cli';
import { FIXTURES, scratchDir } from '../support/tmp';

const PORT = path.join(FIXTURES, 'tfjs', 'port');
const { dir } = scratchDir('tfjs-port');

interface ModelJson { modelTopology: object; format: string; generatedBy: string; convertedBy: unknown; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] }

async function load(modelJson: string): Promise<{ model: tf.LayersModel; json: ModelJson }> {
  const json = JSON.parse(readFileSync(modelJson, 'utf8')) as ModelJson;
  const data = Buffer.concat(json.weightsManifest.flatMap((g) => g.paths.map((p) => readFileSync(path.join(path.dirname(modelJson), p)))));
  const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
  const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }));
  return { model, json };
}

test('PyTorch → TF.js: map proposes the transposes and the HWIO permute, check is clean, a missing transpose is an error, the converted model.json computes what torch computes', async () => {
  tf.setBackend('cpu');
  const mapping = path.join(dir, 'port.tpmap');
  const m = runCli(['map', path.join(PORT, 'torch.safetensors'), path.join(PORT, 'tfjs', 'model.json'), '-o', mapping, '--force']);
  assert.equal(m.code, 0, m.err);
  const text = readFileSync(mapping, 'utf8');
  const rule = (src: string) => text.split('\n').find((l) => l.startsWith(`${src} `))?.replace(/\s+/g, ' ');
  assert.equal(rule('embed.weight'), 'embed.weight -> embed/embeddings');
  assert.equal(rule('norm.weight'), 'norm.weight -> norm/gamma');
  assert.equal(rule('norm.bias'), 'norm.bias -> norm/beta');
  assert.equal(rule('fc1.weight'), 'fc1.weight -> fc1/kernel | transpose');
  assert.equal(rule('conv.weight'), 'conv.weight -> conv/kernel | permute(2, 3, 1, 0)');
  assert.equal(rule('head.weight'), 'head.weight -> head/kernel | transpose');

  assert.deepEqual(checkDiagnostics(mapping).filter((d) => d.severity === 'error' || d.severity === 'warning'), []);
  const planted = path.join(dir, 'planted.tpmap');
  writeFileSync(planted, text.replace(/^(fc1\.weight\s+->\s+fc1\/kernel) \| transpose$/m, '$1'));
  const errors = checkDiagnostics(planted).filter((d) => d.severity === 'error');
  assert.deepEqual(errors.map((d) => d.code), ['missing-transpose'], JSON.stringify(errors));
  assert.match(errors[0].message, /TF\.js kernel/);

  const out = path.join(dir, 'out', 'model.json');
  mkdirSync(path.dirname(out));
  const c = runCli(['convert', mapping, '-o', out, '--force']);
  assert.equal(c.code, 0, c.err);
  const { model, json } = await load(out);
  const target = JSON.parse(readFileSync(path.join(PORT, 'tfjs', 'model.json'), 'utf8')) as ModelJson;
  assert.deepEqual(json.modelTopology, target.modelTopology);
  assert.deepEqual([json.format, json.generatedBy, json.convertedBy], [target.format, target.generatedBy, target.convertedBy]);
  assert.deepEqual(json.weightsManifest[0].weights.map((w) => w.name), target.weightsManifest[0].weights.map((w) => w.name));
  assert.deepEqual(json.weightsManifest[0].paths, ['group1-shard1of1.bin']);

  const io = JSON.parse(readFileSync(path.join(PORT, 'io.json'), 'utf8')) as { input: number[][]; output: number[][] };
  const y = (model.predict(tf.tensor2d(io.input, undefined, 'float32')) as tf.Tensor).arraySync() as number[][];
  const worst = Math.max(...y.flatMap((row, i) => row.map((v, j) => Math.abs(v - io.output[i][j]))));
  assert.ok(y.flat().some((v) => Math.abs(v) > 0.1), "a real output, not zeros");
  assert.ok(worst < 1e-5, `TF.js output differs from torch's by ${worst}: ${JSON.stringify(y)} vs ${JSON.stringify(io.output)}`);

  // Without --force the finished set is never written over: the shards and model.json are all refused.
  const again = runCli(['convert', mapping, '-o', out]);
  assert.equal(again.code, 2);
  assert.match(again.err, /exists/);
});

test('TF.js → TF.js: quantized weights across shards are dequantized as tfjs does, and written across 16-byte shards', async () => {
  tf.setBackend('cpu');
  const src = path.join(FIXTURES, 'tfjs', 'quantized', 'model.json');
  const tgt = path.join(FIXTURES, 'tfjs', 'dense', 'model.json');
  const keys = ['dense_Dense1/kernel', 'dense_Dense1/bias', 'layer_normalization_LayerNormalization1/gamma', 'layer_normalization_LayerNormalization1/beta', 'fc1/kernel', 'fc1/bias'];
  const mapping = path.join(dir, 'q.tpmap');
  writeFileSync(mapping, `source ${src}\ntarget ${tgt}\n${keys.map((k) => `${k} -> ${k}`).join('\n')}\n`);
  assert.deepEqual(checkDiagnostics(mapping).filter((d) => d.severity === 'error'), []);
  const out = path.join(dir, 'q', 'model.json');
  mkdirSync(path.dirname(out));
  const c = runCli(['convert', mapping, '-o', out, '--max-shard-size', '16', '--force']);
  assert.equal(c.code, 0, c.err);
  const written = await load(out);
  assert.equal(written.json.weightsManifest[0].paths.length, Math.ceil(116 / 16));
  const quantized = await load(src);
  for (const k of keys) {
    const a = written.model.weights.find((w) => w.originalName === k)!.read().dataSync();
    const b = quantized.model.weights.find((w) => w.originalName === k)!.read().dataSync();
    assert.deepEqual([...a], [...b], k);
  }
});
