/**
 * Fused q/k/v in both directions (issue 30): HF's separate query/key/value joined into a PaddleClas-style
 * `attn.qkv` by `cat`, and that fused Paddle checkpoint split back into HF's by `chunk(3, k)`. Shapes fit
 * whatever order the parts take, so `check` judges the order by the names (a fused qkv holds query, key,
 * value) and `check --fix` puts it right; eager parity runs the split direction end to end — the fused
 * Paddle ViT as reference, transformers' ViTModel as candidate, each part compared with its slice.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { checkDiagnostics, runCli } from '../support/cli';
import { testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const py = testPython();
const EAGER = path.join(FIXTURES, 'ports', 'eager');
const HF_VIT = path.join(EAGER, 'hf_vit', 'model.safetensors');
const s = scratchDir('fused-part-order');

const lineOf = (t: string, needle: string) => t.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** The fused Paddle checkpoint (convert of the cat mapping), and `map` of it back onto the HF checkpoint. */
let made: { mapping: string; text: string } | undefined;
function splitMapping(): { mapping: string; text: string } {
  if (made) return made;
  const fused = path.join(s.dir, 'vit_qkv.pdparams');
  const c = runCli(['convert', path.join(EAGER, 'vit_paddle_qkv.tpmap'), '-o', fused]);
  assert.equal(c.code, 0, c.err);
  const mapping = path.join(s.dir, 'split.tpmap');
  const r = runCli(['map', fused, HF_VIT, '-o', mapping]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /0 source tensors dropped, 0 target tensors unmapped/);
  return (made = { mapping, text: readFileSync(mapping, 'utf8') });
}

test('map splits a fused qkv into query, key and value in that order; a planted swap of the parts is an error on each line, and check --fix puts it back', () => {
  const { mapping, text } = splitMapping();
  for (const [name, k] of [['query', 0], ['key', 1], ['value', 2]] as const) {
    assert.match(text, new RegExp(`^blocks\\.\\{i\\}\\.attn\\.qkv\\.weight +-> encoder\\.layer\\.\\{i\\}\\.attention\\.attention\\.${name}\\.weight \\| chunk\\(3, ${k}, 1\\) \\| transpose$`, 'm'));
    assert.match(text, new RegExp(`^blocks\\.\\{i\\}\\.attn\\.qkv\\.bias +-> encoder\\.layer\\.\\{i\\}\\.attention\\.attention\\.${name}\\.bias \\| chunk\\(3, ${k}\\)$`, 'm'));
  }
  assert.deepEqual(checkDiagnostics(mapping), []);
  const swapped = text.replace(/(query\.weight \| chunk\(3, )0/, '$11').replace(/(key\.weight \| chunk\(3, )1/, '$10');
  const file = path.join(s.dir, 'split-swapped.tpmap');
  writeFileSync(file, swapped);
  const ds = checkDiagnostics(file);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [
    [lineOf(swapped, 'key.weight | chunk'), 'error', 'suspicious-pairing'], [lineOf(swapped, 'query.weight | chunk'), 'error', 'suspicious-pairing']]);
  assert.match(ds[1].message, /^`encoder\.layer\.0\.attention\.attention\.query\.weight` is a query but `chunk\(3, 1\)` takes the second part of `blocks\.0\.attn\.qkv\.weight`, the key: a fused qkv holds query, key, value in that order — use `chunk\(3, 0\)`/);
  const fixed = runCli(['check', file, '--fix']);
  assert.equal(fixed.code, 0, fixed.out + fixed.err);
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('q, k and v joined in another order into a fused qkv: an error on the list, fixed by ordering it', () => {
  const text = readFileSync(path.join(EAGER, 'vit_paddle_qkv.tpmap'), 'utf8').replace(/^source (.*)$/m, `source ${EAGER}/$1`).replace(/^target (.*)$/m, `target ${EAGER}/$1`);
  const file = path.join(s.dir, 'cat-order.tpmap');
  const swapped = text.replace('[encoder.layer.{i}.attention.attention.query.weight, encoder.layer.{i}.attention.attention.key.weight,', '[encoder.layer.{i}.attention.attention.key.weight, encoder.layer.{i}.attention.attention.query.weight,');
  assert.notEqual(swapped, text);
  writeFileSync(file, swapped);
  const ds = checkDiagnostics(file);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [[lineOf(swapped, 'attention.key.weight, encoder'), 'error', 'suspicious-pairing']]);
  assert.match(ds[0].message, /^the parts are joined key, query, value into `blocks\.0\.attn\.qkv\.weight`, a fused qkv that holds query, key, value in that order/);
  assert.equal(runCli(['check', file, '--fix']).code, 0);
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('eager parity the split way: the fused Paddle ViT as reference, transformers\' ViTModel as candidate — each of q, k, v against its slice of qkv; a planted swap fails and the run names the lines check blames', { skip: py.skip }, async () => {
  const { mapping, text } = splitMapping();
  const run = (weights: string) => runEagerParity({
    reference: 'paddle_vit_qkv.py::candidate', candidate: 'hf_vit.py::reference', weights, python: py.python, cwd: EAGER, trusted: true,
  });
  const r = await run(mapping);
  assert.equal(r.pass, true, JSON.stringify(r.firstDivergence));
  for (const o of r.outputs) assert.ok(o.maxAbsDiff <= 1e-5, `${o.name}: ${o.maxAbsDiff}`);
  const parts = ['q_proj', 'k_proj', 'v_proj'].map((p) => r.layers!.find((l) => l.candidate === `layers.0.attention.${p}`)!);
  assert.deepEqual(parts.map((l) => [l.reference, l.through, l.pass]), [0, 1, 2].map((i) => ['blocks.0.attn.qkv', `the reference's output [..., ${32 * i}:${32 * (i + 1)}], part ${i + 1} of 3 of the fused module`, true]));

  const swapped = text.replace(/(query\.weight \| chunk\(3, )0/, '$11').replace(/(key\.weight \| chunk\(3, )1/, '$10');
  const file = path.join(s.dir, 'split-swapped-eager.tpmap');
  writeFileSync(file, swapped);
  const bad = await run(file);
  assert.equal(bad.pass, false);
  const note = bad.notes.find((n) => n.startsWith('the mapping check reports'));
  for (const needle of ['query.weight | chunk', 'key.weight | chunk']) assert.match(note ?? '', new RegExp(`line ${lineOf(swapped, needle)}: suspicious-pairing`), JSON.stringify(bad.notes));
});
