/**
 * The fixture generator runs here, with the pinned frameworks (test/python/requirements.txt), into a
 * scratch folder: what today's torch, transformers, Paddle, paddle2onnx, onnx, gguf-py and safetensors
 * write is read exactly as each reports it — not only the committed copies real-fixtures.test.ts reads.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
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
