/**
 * make_frameworks.py runs here with the pinned JAX/Flax, NumPy, TensorFlow, Keras and h5py
 * (test/python/requirements-jax.txt, in test/python/.venv-jax) into a scratch folder: what today's
 * libraries write is listed exactly as their own readers report it — not only the committed copies
 * frameworks-fixtures.test.ts reads.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { runPython, testJaxPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';
import { assertMatchesTruth, truthFiles } from '../support/truth';

const env = testJaxPython();
const ROOT = path.join(FIXTURES, 'frameworks');

test('make_frameworks.py with the real libraries: every file they write is listed as they report it', { skip: env.skip, timeout: 600_000 }, async () => {
  const out = scratchDir('frameworks-gen').dir;
  runPython(env.python!, [path.join(ROOT, 'make_frameworks.py'), out]);
  const made = truthFiles(out).map((f) => path.relative(out, f));
  assert.deepEqual(made, truthFiles(ROOT).map((f) => path.relative(ROOT, f)), 'the committed fixtures are what the generator makes');
  for (const rel of made) await assertMatchesTruth(path.join(out, rel));
});
