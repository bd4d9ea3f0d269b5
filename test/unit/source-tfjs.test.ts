/**
 * TF.js Layers models read from their TypeScript/JavaScript source without running it, checked against
 * TF.js itself: each fixture model is built by @tensorflow/tfjs in a fresh Node process (tfjsTruth.ts)
 * and its `model.weights` — names as saved, shapes, dtypes, in order — must be exactly what
 * `tensorport keys FILE::fn --json` lists. What cannot be followed is reported, never dropped.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkDiagnostics, runCli } from '../support/cli';
import { scratchDir } from '../support/tmp';
import { TFJS_SOURCE, tfjsWeights } from '../support/tfjsTruth';
import { readModelSource } from '../../server/src/source/readModelSource';

/** Every fixture model, as TF.js users write them: [file, function]. */
const MODELS: [string, string][] = [
  ['mlp.ts', 'buildMlp'], // sequential MLP added layer by layer
  ['cnn.ts', 'buildCnn'], // conv / batch norm / pooling / flatten in a layers list
  ['branches.ts', 'buildBranches'], // functional, two branches of different depth, concatenate
  ['customLayer.ts', 'buildWithCustom'], // tf.layers.Layer subclass with addWeight in build, a non-trainable weight
  ['transformer.ts', 'buildEncoder'], // encoder block as helper functions: layerNormalization, dense, add
  ['loopBlocks.ts', 'buildResidualStack'], // N blocks in a for loop, names from a template string
  ['embeddingLstm.ts', 'buildTextModel'], // named imports; embedding, lstm, gru, simpleRNN
  ['importer.ts', 'buildFromBlocks'], // helpers imported from ./blocks (one an arrow function)
  ['named.ts', 'buildNamed'], // named layers, Array.from, spread into the layers list, inputDim
  ['separable.ts', 'buildMobile'], // strided conv, depthwise and separable convolutions
  ['autoencoder.ts', 'buildDecoder'], // dense → reshape → conv2dTranspose (same/valid)
  ['autoencoder.ts', 'buildSignal'], // conv1d, maxPooling1d, causal dilated conv1d, flatten
  ['plain.js', 'buildJs'], // plain JavaScript with require and a for…of loop
  ['vit.ts', 'buildVit'], // a ViT: custom layers for the class token and positions, blocks in a loop, array destructuring
];

const dtypeOf = (d: string) => ({ float32: 'F32', int32: 'I32' })[d] ?? d;

for (const [file, fn] of MODELS) {
  test(`${file}::${fn} lists exactly the weights TF.js builds (names, shapes, dtypes, order)`, async () => {
    const truth = tfjsWeights(file, fn);
    assert.ok(truth.length > 0);
    const info = await readModelSource(path.join(TFJS_SOURCE, `${file}::${fn}`));
    assert.equal(info.format, 'ts-source');
    assert.equal(info.framework, 'tfjs');
    assert.equal(info.incomplete, undefined, JSON.stringify(info.incomplete));
    assert.deepEqual(info.tensors.map((t) => ({ name: t.key, shape: t.shape, dtype: t.dtype })), truth.map((w) => ({ ...w, dtype: dtypeOf(w.dtype) })));
  });
}

test('keys --json on a TF.js function: the same list, with each weight\'s layout and the line of its layer', () => {
  const r = runCli(['keys', path.join(TFJS_SOURCE, 'cnn.ts::buildCnn'), '--json']);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  const truth = tfjsWeights('cnn.ts', 'buildCnn');
  assert.deepEqual(doc.tensors.map((t: { key: string; shape: number[] }) => [t.key, t.shape]), truth.map((w) => [w.name, w.shape]));
  const kernel = doc.tensors.find((t: { key: string }) => t.key === 'conv2d_Conv2D1/kernel');
  assert.equal(kernel.layout, 'HWIO');
  assert.equal(kernel.definition.line, 7); // the `tf.layers.conv2d(…)` line
  assert.equal(doc.tensors.find((t: { key: string }) => t.key === 'dense_Dense1/kernel').layout, 'in_out');
  assert.ok(doc.notes.some((n: string) => /automatic layer names .* fresh process/.test(n)), doc.notes.join('\n'));
});

test('a model whose layers are all named carries no note about TF.js\'s per-process counters', async () => {
  const info = await readModelSource(path.join(TFJS_SOURCE, 'named.ts::buildNamed'));
  assert.ok(!info.notes.some((n) => /automatic layer names/.test(n)), info.notes.join('\n'));
});

test('a layer factory Tensor Port does not know is a gap, and so is the input shape of the layer after it', async () => {
  const truth = tfjsWeights('gaps.ts', 'buildWrapped');
  const info = await readModelSource(path.join(TFJS_SOURCE, 'gaps.ts::buildWrapped'));
  // What is listed is TF.js's, by name and order; the RNN's weights are the gap.
  const listed = info.tensors.map((t) => t.key);
  assert.deepEqual(listed, truth.map((w) => w.name).filter((n) => listed.includes(n)));
  assert.ok(truth.some((w) => w.name.startsWith('rnn')), JSON.stringify(truth));
  assert.deepEqual(info.tensors.find((t) => t.key === 'dense_Dense1/kernel')!.dims, ['?']);
  const gaps = (info.incomplete ?? []).map((g) => `${g.module}: ${g.message}`);
  assert.ok(gaps.some((g) => /^: `tf\.layers\.rnn` is not a layer Tensor Port knows/.test(g)), gaps.join('\n'));
  assert.ok(gaps.some((g) => /^dense_Dense1\/kernel: the input shape of `dense_Dense1` could not be followed/.test(g)), gaps.join('\n'));
});

test('a wrapper around a layer Tensor Port does not know is a gap, never an empty wrapper', async () => {
  const truth = tfjsWeights('gaps.ts', 'buildWrappedUnknown');
  assert.ok(truth.some((w) => w.name.startsWith('time_distributed_TimeDistributed1/')), JSON.stringify(truth));
  const info = await readModelSource(path.join(TFJS_SOURCE, 'gaps.ts::buildWrappedUnknown'));
  assert.ok(!info.tensors.some((t) => t.key.startsWith('time_distributed')));
  const gaps = (info.incomplete ?? []).map((g) => g.message);
  assert.ok(gaps.some((g) => /the layer `tf\.layers\.timeDistributed` wraps could not be followed/.test(g)), gaps.join('\n'));
  assert.deepEqual(info.tensors.find((t) => t.key === 'dense_Dense1/kernel')!.dims, ['?']);
});

test('a Sequential model whose first layer has no inputShape: TF.js refuses it, and so does the listing', async () => {
  assert.throws(() => tfjsWeights('gaps.ts', 'buildNoInputShape'), /must get an `inputShape` or `batchInputShape`/);
  const info = await readModelSource(path.join(TFJS_SOURCE, 'gaps.ts::buildNoInputShape'));
  assert.ok((info.incomplete ?? []).some((g) => g.module === '' && /`dense_Dense1`, the first layer of a Sequential model, has no `inputShape`: TF.js refuses the model/.test(g.message)));
});

test('sizes from arguments without defaults are named; given values, they are TF.js\'s', async () => {
  const open = await readModelSource(path.join(TFJS_SOURCE, 'gaps.ts::buildSized'));
  assert.deepEqual(open.tensors[0].dims, ['features', 16]);
  assert.deepEqual(open.tensors.slice(1).map((t) => t.shape), [[16], [16, 3], [3]]);
  const bound = await readModelSource(path.join(TFJS_SOURCE, 'gaps.ts::buildSized'), new Map([['features', 7]]));
  const truth = tfjsWeights('gaps.ts', 'buildSized', [7]);
  assert.deepEqual(bound.tensors.map((t) => [t.key, t.shape]), truth.map((w) => [w.name, w.shape]));
});

test('naming a tf.layers.Layer subclass as the root says to name a function that builds a model with it', async () => {
  const info = await readModelSource(path.join(TFJS_SOURCE, 'customLayer.ts::ScaleShift'));
  assert.deepEqual(info.tensors, []);
  assert.match(info.stopped ?? '', /`ScaleShift` is a TF\.js layer: TF\.js makes its weights when it is applied, so name a function that builds a model with it/);
});

test('a TypeScript or JavaScript file named without ::name is refused with the functions it defines', () => {
  const r = runCli(['keys', path.join(TFJS_SOURCE, 'vit.ts')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /model source needs the function that builds the model, as FILE::name, e\.g\. .*vit\.ts::buildVit \(its functions: mlp, block, buildVit\)/);
  const js = runCli(['keys', path.join(TFJS_SOURCE, 'plain.js')]);
  assert.match(js.err, /e\.g\. .*plain\.js::buildJs \(its functions: block, buildJs\)/);
});

test('a TF.js function is a mapping side: its sizes bind from the other side, and a transpose too many is caught', () => {
  const tmp = scratchDir('source-tfjs');
  const side = path.join(TFJS_SOURCE, 'mlp.ts::buildMlp');
  const keys = ['dense_Dense1/kernel', 'dense_Dense1/bias', 'dense_Dense2/kernel', 'dense_Dense2/bias', 'dense_Dense3/kernel'];
  const rules = (extra: (k: string) => string) => keys.map((k) => `${k} -> ${k}${extra(k)}`).join('\n');
  const clean = tmp.file('clean.tpmap', `source ${side}\ntarget ${side}\n\n${rules(() => '')}\n`);
  assert.deepEqual(checkDiagnostics(clean), []);
  const bad = tmp.file('bad.tpmap', `source ${side}\ntarget ${side}\n\n${rules((k) => (k === 'dense_Dense2/kernel' ? ' | transpose' : ''))}\n`);
  const d = checkDiagnostics(bad);
  assert.equal(d.length, 1, JSON.stringify(d));
  assert.equal(d[0].code, 'shape-mismatch');
  assert.match(d[0].message, /`dense_Dense2\/kernel` \[128, 64\] becomes \[64, 128\].*`hidden` is 128/);
});

test('a size argument nothing binds that may be a number or a list: the branch is undecided and the layers a loop over it would add are a reported gap, never one layer listed as if certain', () => {
  const s = scratchDir('tfjs-unbound-sizes');
  s.file('lm.ts', `import * as tf from '@tensorflow/tfjs';
export function buildLm(lstmLayerSizes: number | number[], vocab: number) {
  const model = tf.sequential();
  if (Array.isArray(lstmLayerSizes)) {
    for (let i = 0; i < lstmLayerSizes.length; i++) {
      model.add(tf.layers.lstm({ units: lstmLayerSizes[i], returnSequences: i < lstmLayerSizes.length - 1, inputShape: i === 0 ? [10, vocab] : undefined }));
    }
  } else {
    model.add(tf.layers.lstm({ units: lstmLayerSizes, inputShape: [10, vocab] }));
  }
  model.add(tf.layers.dense({ units: vocab }));
  return model;
}
`);
  const doc = JSON.parse(runCli(['keys', path.join(s.dir, 'lm.ts::buildLm'), '--json']).out);
  assert.equal(doc.complete, false);
  assert.deepEqual(doc.incomplete.map((g: { line: number; message: string }) => [g.line, /for` loop/.test(g.message)]), [[5, true]]);
});
