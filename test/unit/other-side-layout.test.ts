/**
 * Layout from the other side of the mapping (issue 30, item 3): a torch block saved by
 * `safetensors.torch.save_file` (test/fixtures/ports/bare_mlp, made by make_bare_mlp.py) has no `format`,
 * no config.json, no bias and no norm — nothing in or beside it shows its layout. Its Paddle port's
 * Linear weights are [in, out], and the rules pair the non-square ones with reversed shapes: the file is
 * read as torch, said as a note naming the pair, so the square projection's transpose is written by
 * `map` and its absence is an error of `check`. Pairs that disagree decide nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkDiagnostics, runCli } from '../support/cli';
import { FIXTURES, scratchDir } from '../support/tmp';

const BARE = path.join(FIXTURES, 'ports', 'bare_mlp');
const s = scratchDir('other-side-layout');
const NOTE = /read as torch \(\[out, in\] Linear weights\) because the other side of the mapping shows its Linear weights' layout: the target's `fc1\.weight` \[32, 64\] is stored \[in, out\] and `fc1\.weight` here is \[64, 32\] \(and 1 more agree\)/;

function mapping(name: string, rules: string): string {
  return s.file(`${name}.tpmap`, `source ${BARE}/model.safetensors\ntarget ${BARE}/paddle_mlp.py::Block\n${rules}`);
}

test('map onto the Paddle class: the bare file is read as torch from the pairs, said as a note, and the square q_proj gets its transpose', () => {
  const out = path.join(s.dir, 'mapped.tpmap');
  const r = runCli(['map', path.join(BARE, 'model.safetensors'), `${BARE}/paddle_mlp.py::Block`, '-o', out]);
  assert.equal(r.code, 0, r.err);
  const text = readFileSync(out, 'utf8');
  assert.match(text, new RegExp(`^# The source file does not say its framework: ${NOTE.source}\\.$`, 'm'));
  assert.match(text, /^q_proj\.weight +-> q_proj\.weight \| transpose$/m);
  const ds = checkDiagnostics(out);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [[2, 'information', 'framework-inferred']]);
  assert.match(ds[0].message, NOTE);
});

test('check: the missing square transpose is an error once the other side decides the layout (a warning asking for `framework` before)', () => {
  const m = mapping('no-transpose', 'q_proj.weight -> q_proj.weight\nfc1.weight -> fc1.weight | transpose\nfc2.weight -> fc2.weight | transpose\n');
  const ds = checkDiagnostics(m);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [[1, 'information', 'framework-inferred'], [3, 'error', 'missing-transpose']]);
  assert.match(ds[0].message, NOTE);
  // With only the square pair, nothing shows the layout: the warning asks for the framework line, as before.
  const only = mapping('square-only', 'q_proj.weight -> q_proj.weight\nfc1.* -> drop\nfc2.* -> drop\n');
  const w = checkDiagnostics(only).filter((d) => d.code.startsWith('framework-'));
  assert.deepEqual(w.map((d) => [d.line, d.severity, d.code]), [[1, 'warning', 'framework-unknown']]);
  assert.match(w[0].message, /no rule pairing one with a Linear weight of known layout on the other side/);
});

test('pairs that disagree (one reversed, one the same shape) decide nothing: the warning stays', () => {
  const m = mapping('disagree', 'q_proj.weight -> q_proj.weight\nfc1.weight -> fc1.weight | transpose\nfc1.weight -> fc2.weight\nfc2.weight -> drop\n');
  const ds = checkDiagnostics(m).filter((d) => d.code.startsWith('framework-'));
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [[1, 'warning', 'framework-unknown']]);
});
