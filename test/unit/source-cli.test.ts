/**
 * Model source on the command line, as a user runs it (the built bundle, `node esbuild.mjs` first):
 * `tensorport keys FILE.py::Class` in JSON and as a table, its errors, and `tensorport check` on a
 * mapping whose target is model source.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { FIXTURES, scratchDir } from '../support/tmp';
import { VIT_TO_PADDLE_SOURCE_RULES } from '../support/mappings';
import { runCli } from '../support/cli';

const SRC = path.join(FIXTURES, 'source');
const tmp = scratchDir('source-cli');

const run = (...args: string[]) => runCli(args);

test('keys FILE.py::Class --json: format python-source, tensors in state_dict order, defaults applied', () => {
  const spec = path.join(SRC, 'paddle_vit.py::VisionTransformer');
  const r = run('keys', spec, '--json');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.equal(doc.file, spec);
  assert.equal(doc.format, 'python-source');
  assert.equal(doc.framework, 'paddle');
  assert.equal(doc.tensors.length, 200);
  assert.deepEqual(doc.tensors[0], { key: 'patch_embedding.cls_token', dtype: 'F32', shape: [1, 1, 768], bytes: 3072, definition: { line: 29, column: 26 } });
  assert.deepEqual(doc.tensors[6], { key: 'encoder.layers.0.attn.q.weight', dtype: 'F32', shape: [768, 768], bytes: 2359296, layout: 'in_out', definition: { line: 61, column: 18 } });
  assert.equal(doc.config.embed_dim, 768);
});

test('keys on HF-style source without a config: open dimensions are strings naming them', () => {
  const r = run('keys', path.join(SRC, 'vitpkg', 'modeling_vit.py::ViTModel'), '--json');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.deepEqual(doc.tensors.map((t: { shape: unknown }) => t.shape).slice(0, 2), [[1, 1, 'hidden_size'], [1, '(image_size//patch_size)*(image_size//patch_size)+1', 'hidden_size']]);
  assert.ok(doc.notes.some((n: string) => /num_hidden_layers/.test(n)));
});

test('keys FILE.ts::function prints the people\'s table of a TF.js model', () => {
  const r = run('keys', path.join(FIXTURES, 'tfjs-source', 'vit.ts::buildVit'));
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0], /^key\s+dtype\s+shape\s+layout\s+line$/);
  assert.match(r.out, /\nblock1_fc1\/kernel\s+F32\s+\[64, 256\]\s+in_out\s+\d+\n/);
  assert.match(r.out, /\npatch_embed\/kernel\s+F32\s+\[8, 8, 3, 64\]\s+HWIO\s+\d+\n/);
  assert.match(r.out, /\n36 tensors, 113,472 parameters \(ts-source, tfjs layout\)\n/);
});

test('keys on a missing class or file exits 2 with one line naming it', () => {
  for (const [arg, reason] of [['paddle_vit.py::Nope', /no class or function `Nope` \(classes here: PatchEmbedding, .*\)/], ['missing.py::Net', /no such file/]] as const) {
    const r = run('keys', path.join(SRC, arg));
    assert.equal(r.code, 2);
    assert.equal(r.out, '');
    assert.match(r.err, new RegExp(`^tensorport: .*${arg.replace(/[.*:]/g, '\\$&')}: ${reason.source}\\n$`));
  }
});

test('check: a mapping onto model source is clean, and a missing transpose fails it', () => {
  const text = `source ${path.join(FIXTURES, 'mapping', 'vit_hf.safetensors')}\ntarget ${path.join(SRC, 'paddle_vit.py')}::VisionTransformer\nset num_classes = 0\n${VIT_TO_PADDLE_SOURCE_RULES}`;
  const good = tmp.file('good.tpmap', text);
  let r = run('check', good, '--json');
  assert.equal(r.code, 0, r.out + r.err);
  assert.deepEqual(JSON.parse(r.out).diagnostics, []);
  const bad = tmp.file('bad.tpmap', text.replace('attn.k.weight | transpose', 'attn.k.weight'));
  r = run('check', bad, '--json');
  assert.equal(r.code, 1);
  const ds = JSON.parse(r.out).diagnostics;
  const kLine = text.split('\n').findIndex((l) => l.includes('attn.k.weight')) + 1;
  assert.deepEqual(ds.map((d: { line: number; code: string }) => `${d.line} ${d.code}`), [`${kLine} missing-transpose`]);
});
