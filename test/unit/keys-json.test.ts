/**
 * `keys --json` written in chunks (cli/keysJson.ts) is exactly the keys document as compact JSON made
 * terminal-safe, byte for byte: on real fixtures of every format, model source, and keys that need
 * escaping (quotes, backslashes, controls, C1, bidi overrides, non-ASCII) or shapes with open dimensions.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { keysDocument } from '../../server/src/formats/keysDocument';
import { printableJson } from '../../server/src/formats/printable';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { writeKeysJson } from '../../server/src/cli/keysJson';
import { FIXTURES } from '../support/tmp';

const whole = (info: CheckpointInfo) => `${printableJson(JSON.stringify(keysDocument(info)))}\n`;

function streamed(info: CheckpointInfo): { text: string; chunks: number } {
  const chunks: string[] = [];
  writeKeysJson(info, (c) => chunks.push(c));
  return { text: chunks.join(''), chunks: chunks.length };
}

test('the streamed document equals the whole one on real files of every format', async () => {
  for (const rel of ['safetensors/vit_tiny.safetensors', 'torch/vit_tiny.pt', 'paddle/odd_arrays.pdparams', 'onnx/tiny_attn.onnx', 'gguf/tiny.gguf', 'safetensors/sharded/model.safetensors.index.json',
    'tfjs/quantized/model.json', 'tfjs/dense/model.json', 'frameworks/numpy/vit_deflated.npz', 'frameworks/flax/block.msgpack', 'frameworks/keras/model.keras', 'frameworks/orbax/params_ocdbt', 'frameworks/tf2/ckpt.index']) {
    const info = await readCheckpoint(path.join(FIXTURES, rel), { displayName: rel });
    assert.equal(streamed(info).text, whole(info), rel);
  }
});

test('keys that need escaping, open dimensions and extra fields come out as JSON.stringify writes them', () => {
  const keys = ['plain.key', 'quote"d', 'back\\slash', 'ctl\x1b[31m', 'del\x7f', 'c1\x85', 'bidi\u202eevil', 'sep\u2028', 'ключ', '😀', 'tab\t', ''];
  const info: CheckpointInfo = {
    file: 'weird "name".safetensors', format: 'safetensors', notes: ['a\u202enote'], metadata: { '"tensors":[]': 'x' },
    tensors: [
      ...keys.map((key, i) => ({ key, dtype: 'F32', shape: [i, 2], location: { file: '/x', offset: 0, length: 8 * i } })),
      { key: 'src', dtype: 'F32', shape: [NaN, 4], dims: ['hidden', 4], layout: 'out_in', tiedTo: 'emb', conditional: '`config.x`' },
      { key: 'c', dtype: 'F32', shape: [1], constant: true, graph: '/If_0.then_branch' },
      { key: 'big', dtype: 'Q4_K', shape: [4096, 32000] },
    ],
  };
  assert.equal(streamed(info).text, whole(info));
});

test('a long list is written in more than one chunk', () => {
  const tensors = Array.from({ length: 20_000 }, (_, i) => ({ key: `model.layers.${i}.weight`, dtype: 'BF16', shape: [64, 64] }));
  const info: CheckpointInfo = { file: 'm.safetensors', format: 'safetensors', tensors, notes: [] };
  const s = streamed(info);
  assert.ok(s.chunks > 1, `${s.chunks} chunks`);
  assert.equal(s.text, whole(info));
  assert.equal((JSON.parse(s.text) as { tensors: unknown[] }).tensors.length, 20_000);
});
