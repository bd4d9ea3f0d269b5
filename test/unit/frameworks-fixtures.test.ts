/**
 * The committed files that real JAX/Flax, NumPy, TensorFlow and Keras wrote (test/fixtures/frameworks/,
 * made by make_frameworks.py with the pinned test/python/requirements-jax.txt) are listed exactly as each
 * library's own reader reports them: keys, dtypes, shapes and the bytes behind every location. No Python
 * here: frameworks-generator.test.ts runs the generator itself.
 */
import * as path from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../support/tmp';
import { assertMatchesTruth, truthFiles } from '../support/truth';

const ROOT = path.join(FIXTURES, 'frameworks');

for (const file of truthFiles(ROOT)) {
  test(`frameworks ${path.relative(ROOT, file)}: listed as its library reports it`, () => assertMatchesTruth(file));
}
