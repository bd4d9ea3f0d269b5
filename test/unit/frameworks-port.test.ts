/**
 * One real port out of JAX: a ViT written with flax.linen and saved as big_vision saves its `.npz`
 * (`/`-separated keys, per-head attention kernels, HWIO patch convolution) → a transformers ViTModel.
 * The mapping is checked clean, `convert` writes the safetensors, and transformers' own from_pretrained
 * loads it (every key, no other) and reproduces Flax's output on the same image. `map` proposes the same
 * rules by itself — the names big_vision and TF BERT use, read as transformers' converters read them.
 * Fixtures: test/fixtures/frameworks/port/make_flax_vit.py (JAX), make_hf_vit.py (transformers).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readFileSync } from 'node:fs';
import { keyRole } from '../../server/src/mapping/roles';
import { checkDiagnostics, runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const PORT = path.join(FIXTURES, 'frameworks', 'port');
const MAPPING = path.join(PORT, 'vit_bigvision_to_hf.tpmap');
const env = testPython();

test('big_vision ViT .npz → HF ViT: the mapping checks clean with `/` keys and `encoderblock_{i}` captures', () => {
  assert.deepEqual(checkDiagnostics(MAPPING), []);
});

test('big_vision ViT .npz → HF ViT: converted, loaded by transformers, equal to Flax on the same image', { skip: env.skip, timeout: 300_000 }, () => {
  const out = path.join(scratchDir('frameworks-port').dir, 'vit.safetensors');
  const r = runCli(['convert', MAPPING, '-o', out]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(runPython(env.python!, [path.join(PORT, 'check_port.py'), path.join(PORT, 'hf_vit'), out, path.join(PORT, 'vit_io.npz')]).trim().split('\n').at(-1)!) as {
    missing: string[]; unexpected: string[]; mismatched: string[][]; shape: number[]; max_abs_diff: number; scale: number;
  };
  assert.deepEqual([report.missing, report.unexpected, report.mismatched], [[], [], []]);
  assert.deepEqual(report.shape, [2, 17, 8]);
  assert.ok(report.scale > 0.5, 'the output is not trivially small');
  assert.ok(report.max_abs_diff < 1e-5, `max |HF − Flax| = ${report.max_abs_diff}`);
});

/** A mapping's rules, one normalised line each (blanks collapsed), without comments and the side lines. */
function ruleLines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/#.*/, '').replace(/\s+/g, ' ').trim()).filter((l) => l.includes('->')).sort();
}

test('`map` proposes the port by itself: big_vision names → HF ViT, folded into encoderblock_{i} rules, the hand-checked mapping line for line', () => {
  const out = path.join(scratchDir('frameworks-port-map').dir, 'auto.tpmap');
  const r = runCli(['map', path.join(PORT, 'vit_bigvision.npz'), path.join(PORT, 'hf_vit', 'model.safetensors'), '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /38 target tensors mapped \(0 with low confidence\), 0 source tensors dropped, 0 target tensors unmapped/);
  assert.deepEqual(ruleLines(readFileSync(out, 'utf8')), ruleLines(readFileSync(MAPPING, 'utf8')));
});

test('roles of big_vision and TF BERT names, as transformers\' converters pair them (convert_siglip_to_hf.py, BERT\'s TF loader)', () => {
  const role = (k: string) => { const r = keyRole(k); return [r.role, r.normOrder, r.layer]; };
  // big_vision: LayerNorm_0/1 → layer_norm1/2, MlpBlock_0/Dense_0/1 → fc1/fc2, MultiHeadDotProductAttention_0/{query,key,value,out}.
  assert.deepEqual(role('params/img/Transformer/encoderblock_3/LayerNorm_0/scale'), ['norm', 1, 3]);
  assert.deepEqual(role('params/img/Transformer/encoderblock_3/LayerNorm_1/bias'), ['norm', 2, 3]);
  assert.deepEqual(role('params/img/Transformer/encoderblock_3/MlpBlock_0/Dense_0/kernel'), ['ffn_in', undefined, 3]);
  assert.deepEqual(role('params/img/Transformer/encoderblock_3/MlpBlock_0/Dense_1/kernel'), ['ffn_out', undefined, 3]);
  assert.deepEqual(role('params/img/Transformer/encoderblock_3/MultiHeadDotProductAttention_0/key/kernel'), ['k', undefined, 3]);
  assert.deepEqual(role('params/img/Transformer/encoderblock_3/MultiHeadDotProductAttention_0/out/kernel'), ['o', undefined, 3]);
  assert.deepEqual(role('params/img/Transformer/encoder_norm/scale'), ['norm', undefined, undefined]);
  // TF BERT: layer_N is the layer, attention/output/LayerNorm the first norm, output/LayerNorm the second.
  assert.deepEqual(role('bert/encoder/layer_11/attention/self/query/kernel'), ['q', undefined, 11]);
  assert.deepEqual(role('bert/encoder/layer_11/attention/output/dense/kernel'), ['o', undefined, 11]);
  assert.deepEqual(role('bert/encoder/layer_11/intermediate/dense/kernel'), ['ffn_in', undefined, 11]);
  assert.deepEqual(role('bert/encoder/layer_11/output/dense/kernel'), ['ffn_out', undefined, 11]);
  assert.deepEqual(role('bert/encoder/layer_11/attention/output/LayerNorm/gamma'), ['norm', 1, 11]);
  assert.deepEqual(role('bert/encoder/layer_11/output/LayerNorm/beta'), ['norm', 2, 11]);
  assert.deepEqual(role('bert/embeddings/word_embeddings'), ['embed', undefined, undefined]);
  // A Flax auto-name outside an MLP block numbers modules, not layers.
  assert.deepEqual(role('params.Dense_1.kernel'), [undefined, undefined, undefined]);
});
