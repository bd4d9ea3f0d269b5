/** The model diff on real checkpoints: the HF BERT and its PaddleNLP port, and a checkpoint against itself. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { diffCheckpoints, formatDiff } from '../../server/src/index/diff';
import { EXAMPLES, FIXTURES } from '../support/tmp';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
const HF = path.join(EXAMPLES, 'bert-to-paddlenlp', 'hf_bert_tiny.safetensors');
const PADDLE = path.join(EXAMPLES, 'bert-to-paddlenlp', 'paddlenlp_bert_tiny.pdparams');

test('HF BERT vs its PaddleNLP port: renamed keys on both sides, the pooler transposed in place', async () => {
  const d = diffCheckpoints(await readCheckpoint(HF), await readCheckpoint(PADDLE));
  assert.ok(d.onlyInA.some((t) => t.key === 'bert.embeddings.LayerNorm.weight'));
  assert.ok(d.onlyInB.some((t) => t.key === 'bert.embeddings.layer_norm.weight'));
  // Same key, same shape: the square pooler is "the same" to a diff — exactly why the mapping checks layouts.
  assert.equal(d.changed.length, 0);
  assert.equal(d.same, 5); // the three embeddings and the pooler's weight and bias
});

test('a transposed tensor is reported as such', () => {
  const a = { file: 'a', format: 'safetensors' as const, notes: [], tensors: [{ key: 'fc.weight', dtype: 'F32', shape: [32, 16] }, { key: 'x', dtype: 'F32', shape: [2] }] };
  const b = { file: 'b', format: 'paddle-pickle' as const, notes: [], tensors: [{ key: 'fc.weight', dtype: 'F32', shape: [16, 32] }, { key: 'x', dtype: 'F16', shape: [2] }] };
  const d = diffCheckpoints(a, b);
  assert.deepEqual(d.changed.map((c) => [c.key, c.transposed]), [['fc.weight', true], ['x', false]]);
  assert.equal(formatDiff('a', 'b', d).split('\n')[3], '- fc.weight  F32 [32, 16]');
  assert.equal(formatDiff('a', 'b', d).split('\n')[4], '+ fc.weight  F32 [16, 32]  (transposed)');
});

test('tensorport diff: exit 0 for identical checkpoints, 1 with a unified listing when they differ', () => {
  const vit = path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors');
  const same = spawnSync(process.execPath, [BIN, 'diff', vit, path.join(FIXTURES, 'safetensors', 'sharded', 'model.safetensors.index.json')], { encoding: 'utf8' });
  assert.equal(same.status, 0, same.stderr);
  assert.match(same.stdout, /@@ 41 tensors identical in dtype and shape; 0 changed/);
  const differ = spawnSync(process.execPath, [BIN, 'diff', HF, PADDLE, '--json'], { encoding: 'utf8' });
  assert.equal(differ.status, 1);
  const doc = JSON.parse(differ.stdout);
  assert.ok(doc.onlyInA.length > 0 && doc.onlyInB.length > 0);
});
