/**
 * One real port out of Keras: a Keras 3 functional model (Embedding, a patchifying Conv2D, two
 * LayerNormalizations, a Dense MLP, a square Dense head) saved by `save_weights` as `.weights.h5`, whose
 * weights Keras names by position (`layers/dense_1/vars/0`) → the same model written in torch. The
 * mapping checks clean, a planted missing transpose or permute is an error on its line, `convert` writes
 * the safetensors, and the torch module loads it (every key, no other) and reproduces Keras' output on the
 * same input. `map` proposes the same rules by itself: the layer's class says what `vars/N` is.
 * Fixtures: test/fixtures/frameworks/port/make_keras_port.py (Keras), make_torch_port.py (torch).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { linearLayout, convLayout } from '../../server/src/mapping/layout';
import { keyRole } from '../../server/src/mapping/roles';
import { kerasVar } from '../../server/src/mapping/kerasVars';
import { checkDiagnostics, runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const PORT = path.join(FIXTURES, 'frameworks', 'port');
const MAPPING = path.join(PORT, 'keras_block_to_torch.tpmap');
const env = testPython();

test('Keras .weights.h5 → torch: the hand-checked mapping checks clean', () => {
  assert.deepEqual(checkDiagnostics(MAPPING), []);
});

/** The mapping with one rule's transform taken away, written beside the fixtures (its paths are relative). */
function planted(dir: string, rule: string, without: string): { file: string; line: number } {
  const lines = readFileSync(MAPPING, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.startsWith(rule));
  assert.ok(i >= 0 && lines[i].includes(without), `no rule ${rule} with ${without}`);
  lines[i] = lines[i].replace(without, '');
  const file = path.join(dir, 'planted.tpmap');
  writeFileSync(file, lines.join('\n').replace(/^(source|target) (\S+)/gm, (_, side: string, p: string) => `${side} ${path.join(PORT, p)}`));
  return { file, line: i + 1 };
}

test('a planted missing transpose on the square Dense head is a missing-transpose error on its line; a missing permute on the Conv2D kernel a shape error on its', () => {
  const dir = scratchDir('keras-port-planted').dir;
  const head = planted(dir, 'layers/dense_2/vars/0', ' | transpose');
  const d = checkDiagnostics(head.file).filter((x) => x.severity === 'error');
  assert.deepEqual(d.map((x) => [x.code, x.line]), [['missing-transpose', head.line]]);
  assert.match(d[0].message, /\[in, out\] \(a Keras kernel\).*\[out, in\] \(torch\)/);
  const conv = planted(dir, 'layers/conv2d/vars/0', ' | permute(3, 2, 0, 1)');
  assert.deepEqual(checkDiagnostics(conv.file).filter((x) => x.severity === 'error').map((x) => [x.code, x.line]), [['shape-mismatch', conv.line]]);
});

test('Keras .weights.h5 → torch: converted, loaded by the torch module, equal to Keras on the same input', { skip: env.skip, timeout: 300_000 }, () => {
  const out = path.join(scratchDir('keras-port').dir, 'block.safetensors');
  const r = runCli(['convert', MAPPING, '-o', out]);
  assert.equal(r.code, 0, r.err);
  const report = JSON.parse(runPython(env.python!, [path.join(PORT, 'check_keras_port.py'), out, path.join(PORT, 'keras_block_io.npz')]).trim().split('\n').at(-1)!) as {
    missing: string[]; unexpected: string[]; mismatched: string[]; shape: number[]; max_abs_diff: number; scale: number;
  };
  assert.deepEqual([report.missing, report.unexpected, report.mismatched], [[], [], []]);
  assert.deepEqual(report.shape, [2, 4, 8]);
  assert.ok(report.scale > 0.5, 'the output is not trivially small');
  assert.ok(report.max_abs_diff <= 1e-5, `max |torch − Keras| = ${report.max_abs_diff}`);
});

/** A mapping's rules, one normalised line each (blanks collapsed), without comments and the side lines. */
function ruleLines(text: string): string[] {
  return text.split('\n').map((l) => l.replace(/#.*/, '').replace(/\s+/g, ' ').trim()).filter((l) => l.includes('->')).sort();
}

test('`map` proposes the port by itself from Keras\' positional names, the hand-checked mapping line for line', () => {
  const out = path.join(scratchDir('keras-port-map').dir, 'auto.tpmap');
  const r = runCli(['map', path.join(PORT, 'keras_block.weights.h5'), path.join(PORT, 'torch_block.safetensors'), '-o', out]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /13 target tensors mapped \(\d+ with low confidence\), 0 source tensors dropped, 0 target tensors unmapped/);
  assert.deepEqual(ruleLines(readFileSync(out, 'utf8')), ruleLines(readFileSync(MAPPING, 'utf8')));
});

test('Keras 3 `vars/N` read as the parameter its class builds in that place; a class or place not known stays unread', () => {
  assert.deepEqual(kerasVar('layers/layer_normalization_1/vars/1'), { cls: 'layer_normalization', counter: 1, param: 'beta', kind: 'norm' });
  assert.deepEqual(kerasVar('layers/dense/vars/0'), { cls: 'dense', counter: 0, param: 'kernel', kind: 'linear' });
  assert.equal(kerasVar('layers/batch_normalization_3/vars/3')?.param, 'moving_variance');
  assert.equal(kerasVar('layers/embedding/vars/1'), undefined);
  assert.equal(kerasVar('layers/conv2d_transpose/vars/0'), undefined, 'a transposed convolution kernel is HWOI: not read as a conv2d');
  assert.equal(kerasVar('layers/dense/kernel'), undefined);
  const t = (key: string, shape: number[]) => ({ key, dtype: 'F32', shape});
  assert.equal(linearLayout(t('layers/dense_2/vars/0', [8, 8]), 'keras'), 'in_out');
  assert.equal(linearLayout(t('layers/dense_2/vars/1', [8]), 'keras'), undefined);
  assert.equal(convLayout(t('layers/conv2d/vars/0', [2, 2, 3, 8]), 'keras'), 'HWIO');
  assert.deepEqual([keyRole('layers/layer_normalization_1/vars/0').role, keyRole('layers/layer_normalization_1/vars/0').param], ['norm', 'gamma']);
  assert.equal(keyRole('layers/dense/vars/1').param, 'bias');
});
