/**
 * The fixture generator runs here, with the pinned frameworks (test/python/requirements.txt), into a
 * scratch folder: what today's torch, transformers, Paddle, paddle2onnx, onnx, gguf-py and safetensors
 * write is read exactly as each reports it — not only the committed copies real-fixtures.test.ts reads.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';
import { assertMatchesTruth, truthFiles } from '../support/truth';

const env = testPython();
const GENERATOR = path.join(FIXTURES, 'real', 'make_real.py');

test('make_real.py with the real frameworks: every file they write is listed as they report it', { skip: env.skip, timeout: 600_000 }, async () => {
  const out = scratchDir('real-gen').dir;
  runPython(env.python!, [GENERATOR, out]);
  const made = truthFiles(out).map((f) => path.relative(out, f));
  // The committed fixtures are what this generator makes: same files, none stale, none missing.
  assert.deepEqual(made, truthFiles(path.join(FIXTURES, 'real')).map((f) => path.relative(path.join(FIXTURES, 'real'), f)));
  for (const rel of made) await assertMatchesTruth(path.join(out, rel));
});

test('Paddle\'s split of a parameter over 1 GiB (protocols 2–3: `key@@.N` slices) is listed whole, as paddle.load returns it', { skip: env.skip, timeout: 600_000 }, async () => {
  const dir = scratchDir('real-big').dir;
  const file = path.join(dir, 'big_p3.pdparams');
  const out = runPython(env.python!, ['-c', [
    'import os, sys, warnings',
    'warnings.filterwarnings("ignore")',
    'import numpy as np, paddle',
    'n = 2**30 + 16  # int8: past the (2**30 - 1)-byte slice limit, so two slices',
    `f = ${JSON.stringify(file)}`,
    'paddle.save({"small": paddle.ones([3]), "big": paddle.zeros([n], dtype="int8")}, f, protocol=3)',
    'sd = paddle.load(f, return_numpy=True)',
    'print(sorted((k, str(v.dtype), list(v.shape)) for k, v in sd.items()))',
  ].join('\n')]);
  const info = await readCheckpoint(file);
  const ours = info.tensors.map((t) => [t.key, t.dtype, t.shape] as [string, string, number[]]).sort();
  assert.deepEqual(ours, [['big', 'I8', [2 ** 30 + 16]], ['small', 'F32', [3]]]);
  assert.match(out, /\('big', 'int8', \[1073741840\]\), \('small', 'float32', \[3\]\)/);
  assert.ok(info.notes.some((n) => /saved in slices \(`UnpackBigParamInfor@@`\) and is listed whole/.test(n)), info.notes.join('\n'));
});
