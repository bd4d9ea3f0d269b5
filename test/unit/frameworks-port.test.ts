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
