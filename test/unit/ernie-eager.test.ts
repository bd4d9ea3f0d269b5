/**
 * A BERT-family port through eager parity onto a PaddleNLP class (issue 30): transformers' ErnieModel saved
 * by `save_pretrained` (test/fixtures/ports/eager/hf_ernie, made by make_hf_ernie.py) → PaddleNLP 2.8.1's
 * own `ErnieModel`. `map` pairs every tensor, `check` is clean, and eager parity passes within 1e-5 in
 * float32 with both outputs (sequence and pooled) paired. The two models look up the token-type and
 * position embeddings in another order; independent lookups that agree are no "swapped rules?" note.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { checkDiagnostics, runCli } from '../support/cli';
import { testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const py = testPython();
const EAGER = path.join(FIXTURES, 'ports', 'eager');
const ERNIE = `${path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'paddlenlp', 'transformers', 'ernie', 'modeling.py')}::ErnieModel`;

test('HF ErnieModel (save_pretrained) → PaddleNLP ErnieModel: map, check clean, eager parity within 1e-5 on both outputs, no false swap note', { skip: py.skip }, async () => {
  const s = scratchDir('ernie-eager');
  const mapping = path.join(s.dir, 'port.tpmap');
  const r = runCli(['map', path.join(EAGER, 'hf_ernie', 'model.safetensors'), ERNIE, '-o', mapping]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /39 target tensors mapped \(0 with low confidence\), 0 source tensors dropped, 0 target tensors unmapped/);
  assert.deepEqual(checkDiagnostics(mapping).filter((d) => d.severity !== 'information'), []);
  const report = await runEagerParity({
    reference: 'hf_ernie.py::reference', candidate: 'paddlenlp_ernie.py::candidate', weights: mapping, python: py.python, cwd: EAGER, trusted: true,
  });
  assert.equal(report.pass, true, JSON.stringify(report.firstDivergence));
  assert.equal(report.outputs.length, 2);
  for (const o of report.outputs) assert.ok(o.pass && o.maxAbsDiff <= 1e-5, `${o.name}: ${o.maxAbsDiff}`);
  assert.ok(report.layers!.every((l) => l.pass));
  assert.ok(report.layers!.some((l) => l.reference === 'embeddings.token_type_embeddings' && l.candidate === 'embeddings.token_type_embeddings'));
  assert.deepEqual(report.notes.filter((n) => /swapped rules/.test(n)), []);
});
