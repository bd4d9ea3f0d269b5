/**
 * The JAX/TF/Keras checkpoints' layouts, read from the real files: Dense kernels `[in, out]` and
 * convolutions HWIO whether the key is `.`- or `/`-separated or a TF2 object-graph path — so a mapping
 * against torch (`[out, in]`, OIHW) is told it needs a transpose or a permute.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { convLayout, convPermutation, linearLayout } from '../../server/src/mapping/layout';
import { FIXTURES } from '../support/tmp';

const FW = path.join(FIXTURES, 'frameworks');

test('Flax msgpack, big_vision .npz and TF2 checkpoints: Dense kernels [in, out], convolutions HWIO, permute(3, 2, 0, 1) to torch', async () => {
  // big_vision's patch convolution is `embedding/kernel`: a module named like an embedding is never taken
  // for a Linear or a convolution (layout.ts NOT_LINEAR), so the .npz case checks its Dense kernel only.
  const cases: [string, string, string | undefined][] = [
    ['flax/block.msgpack', 'params.Dense_1.kernel', 'params.Conv_0.kernel'],
    ['numpy/vit_stored.npz', 'Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel', undefined],
    ['tf2/ckpt.index', 'encoder/layers/0/kernel/.ATTRIBUTES/VARIABLE_VALUE', 'encoder/conv/kernel/.ATTRIBUTES/VARIABLE_VALUE'],
  ];
  for (const [file, dense, conv] of cases) {
    const info = await readCheckpoint(path.join(FW, file));
    const t = (k: string) => info.tensors.find((x) => x.key === k)!;
    assert.equal(linearLayout(t(dense), info.framework), 'in_out', `${file}: ${dense}`);
    if (!conv) continue;
    const c = convLayout(t(conv), info.framework);
    assert.equal(c, 'HWIO', `${file}: ${conv}`);
    assert.deepEqual(convPermutation(c!, 'OIHW'), [3, 2, 0, 1]);
  }
});

test('TF1 names (BERT) are [in, out] kernels of the tf framework; the Keras file says keras', async () => {
  const tf1 = await readCheckpoint(path.join(FW, 'tf1', 'bert_model.ckpt.index'));
  assert.equal(tf1.framework, 'tf');
  assert.equal(linearLayout(tf1.tensors.find((t) => t.key === 'bert/encoder/layer_0/attention/self/query/kernel')!, tf1.framework), 'in_out');
  assert.equal(linearLayout(tf1.tensors.find((t) => t.key === 'bert/embeddings/word_embeddings')!, tf1.framework), undefined);
  const keras = await readCheckpoint(path.join(FW, 'keras', 'model.weights.h5'));
  assert.equal(keras.framework, 'keras');
  assert.ok(keras.notes.some((n) => n.includes('vars/0')), keras.notes.join('\n'));
});
