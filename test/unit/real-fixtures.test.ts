/**
 * The committed files that real frameworks wrote (test/fixtures/real/, made by make_real.py with the
 * pinned torch, transformers, Paddle, paddle2onnx, onnx, gguf and safetensors) are listed exactly as
 * each framework reports them: keys, dtypes, shapes and the bytes behind every location. No Python here:
 * real-generator.test.ts runs the generator itself.
 */
import * as path from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../support/tmp';
import { assertMatchesTruth, truthFiles } from '../support/truth';

const ROOT = path.join(FIXTURES, 'real');

for (const file of truthFiles(ROOT)) {
  test(`real ${path.relative(ROOT, file)}: listed as its framework reports it`, () => assertMatchesTruth(file));
}
