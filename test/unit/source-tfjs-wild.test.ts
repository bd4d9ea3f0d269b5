/**
 * TF.js model code someone else wrote: the model-building functions of tensorflow/tfjs-examples (excerpts
 * in test/fixtures/tfjs-wild, each with its source path and commit), read by `keys FILE::fn` and checked
 * against what @tensorflow/tfjs itself builds from the same file in a fresh Node process.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { TFJS_WILD, tfjsWeights } from '../support/tfjsTruth';
import { readModelSource } from '../../server/src/source/readModelSource';
import type { Binding } from '../../server/src/source/interpret';

/** [file, function, its arguments by name, in order]: TF.js gets them positionally, `keys` by name (`set`). */
const MODELS: [string, string, [string, Binding][]][] = [
  ['mnist.js', 'createConvModel', []], // constants for the input shape, conv2d/maxPooling2d/flatten
  ['mnist.js', 'createDenseModel', []],
  ['quantization-fashion-mnist.js', 'createModel', []], // batch norm first, `same` padding, a compile helper
  ['abalone.js', 'createModel', [['inputShape', [8]]]], // CommonJS, `inputShape: inputShape` from the argument
  ['snake-dqn.js', 'createDeepQNetwork', [['h', 9], ['w', 9], ['numActions', 4]]], // validation that throws
  ['simple-object-detection.js', 'buildNewHead', [['inputShape', [7, 7, 256]]]], // `{inputShape}` shorthand
  // One function, a model per type: `if (modelType === …)` chains, helpers called with fewer arguments.
  ...['mlp', 'mlp-l2', 'mlp-dropout', 'linear-regression', 'simpleRNN', 'gru'].map((t): [string, string, [string, Binding][]] =>
    ['jena-weather.js', 'buildModel', [['modelType', t], ['numTimeSteps', 10], ['numFeatures', 14]]]),
  // globalMaxPool1d (an alias tfjs-layers exports), and a bidirectional LSTM wrapper.
  ...['multihot', 'flatten', 'cnn', 'simpleRNN', 'lstm', 'bidirectionalLSTM'].map((t): [string, string, [string, Binding][]] =>
    ['sentiment.js', 'buildModel', [['modelType', t], ['maxLen', 100], ['vocabularySize', 1000], ['embeddingSize', 16]]]),
  // `Array.isArray(sizes)` deciding whether a number is wrapped in a list, then a loop over it.
  ['lstm-text-generation.js', 'createModel', [['sampleLen', 40], ['charSetSize', 60], ['lstmLayerSizes', [128, 64]]]],
  ['lstm-text-generation.js', 'createModel', [['sampleLen', 40], ['charSetSize', 60], ['lstmLayerSizes', 128]]],
  // A custom layer with computeOutputShape, an LSTM applied with `initialState`, dot, timeDistributed.
  ['date-conversion-attention.js', 'createModel', [['inputVocabSize', 13], ['outputVocabSize', 14], ['inputLength', 12], ['outputLength', 10]]],
];

const dtypeOf = (d: string) => ({ float32: 'F32', int32: 'I32' })[d] ?? d;

for (const [file, fn, bind] of MODELS) {
  test(`tfjs-examples ${file}::${fn}(${bind.map(([, v]) => JSON.stringify(v)).join(', ')}) lists exactly the weights TF.js builds`, async () => {
    const truth = tfjsWeights(file, fn, bind.map(([, v]) => v), TFJS_WILD);
    assert.ok(truth.length > 0);
    const info = await readModelSource(path.join(TFJS_WILD, `${file}::${fn}`), new Map(bind));
    assert.equal(info.framework, 'tfjs');
    assert.equal(info.incomplete, undefined, JSON.stringify(info.incomplete));
    assert.equal(info.stopped, undefined);
    assert.deepEqual(info.tensors.map((t) => ({ name: t.key, shape: t.shape, dtype: t.dtype })), truth.map((w) => ({ ...w, dtype: dtypeOf(w.dtype) })));
  });
}

// fashion-mnist-vae's builders take one options object (`const {originalDim, …} = opts`): `set` binds
// numbers and lists, not objects, so its fields stay symbols named after them; given the object's
// values, they are TF.js's shapes.
for (const fn of ['encoder', 'decoder']) {
  test(`tfjs-examples fashion-mnist-vae.js::${fn}(opts): sizes named by the options' fields, and those values give TF.js's shapes`, async () => {
    const opts = { originalDim: 784, intermediateDim: 512, latentDim: 2 };
    const truth = tfjsWeights('fashion-mnist-vae.js', fn, [opts], TFJS_WILD);
    const info = await readModelSource(path.join(TFJS_WILD, `fashion-mnist-vae.js::${fn}`));
    assert.equal(info.incomplete, undefined, JSON.stringify(info.incomplete));
    assert.ok(info.tensors.every((t) => t.dims?.every((d) => typeof d === 'string' && d in opts)), JSON.stringify(info.tensors.map((t) => t.dims)));
    const valued = info.tensors.map((t) => [t.key, t.dims!.map((d) => opts[d as keyof typeof opts])]);
    assert.deepEqual(valued, truth.map((w) => [w.name, w.shape]));
  });
}
