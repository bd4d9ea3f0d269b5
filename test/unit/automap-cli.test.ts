/**
 * `tensorport map` as a user runs it: the built CLI in a child process (run `node esbuild.mjs` first),
 * on the torch-made fixtures of test/fixtures/automap and ../mapping. The JSON document of cli.md, the
 * written `.tpmap` (atomic, paths relative to it, never over an existing file without --force) checked
 * by `tensorport check`, the text on stdout, and exit 2 for bad usage and unreadable inputs.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FIXTURES, scratchDir } from '../support/tmp';
import { BIN, runCli } from '../support/cli';

const VIT = path.join(FIXTURES, 'mapping', 'vit_hf.safetensors');
const CLIP = path.join(FIXTURES, 'mapping', 'clip_vision.safetensors');
const BERT = path.join(FIXTURES, 'automap', 'bert.safetensors');
const BERT_CLS = path.join(FIXTURES, 'automap', 'bert_cls.bin');
const tmp = scratchDir('automap-cli');

const run = (...args: string[]) => runCli(args, { cwd: tmp.dir });

test('map --json prints one rule per target key, with confidence, and what is left on each side', () => {
  const r = run('map', VIT, CLIP, '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const doc = JSON.parse(r.out);
  assert.deepEqual(Object.keys(doc), ['rules', 'unmappedSource', 'unmappedTarget']);
  assert.equal(doc.rules.length, 37);
  const q = doc.rules.find((x: { target: string }) => x.target === 'vision_model.encoder.layers.0.self_attn.q_proj.weight');
  assert.deepEqual(Object.keys(q), ['source', 'target', 'transforms', 'confidence']);
  assert.deepEqual(q.source, ['encoder.layer.0.attention.attention.query.weight']);
  assert.deepEqual(q.transforms, []);
  assert.ok(q.confidence >= 0.8 && q.confidence <= 1);
  const cls = doc.rules.find((x: { target: string }) => x.target === 'vision_model.embeddings.class_embedding');
  assert.deepEqual(cls.transforms, ['squeeze(0)', 'squeeze(0)']);
  assert.deepEqual(doc.unmappedSource, ['embeddings.patch_embeddings.projection.bias', 'pooler.dense.weight', 'pooler.dense.bias']);
  assert.deepEqual(doc.unmappedTarget, ['vision_model.embeddings.position_ids', 'vision_model.pre_layrnorm.weight', 'vision_model.pre_layrnorm.bias', 'visual_projection.weight']);
});

test('map -o writes the folded mapping with paths relative to it, and check finds it clean', () => {
  const out = path.join(tmp.dir, 'maps', 'bert.tpmap');
  spawnSync('mkdir', ['-p', path.dirname(out)]);
  const r = run('map', BERT_CLS, BERT, '-o', out);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, `wrote ${out}: 40 target tensors mapped (0 with low confidence), 2 source tensors dropped, 0 target tensors unmapped\n`);
  const text = readFileSync(out, 'utf8');
  const rel = (p: string) => path.relative(path.dirname(out), p).split(path.sep).join('/');
  assert.match(text, new RegExp(`^source ${rel(BERT_CLS).replace(/\./g, '\\.')}$`, 'm'));
  assert.match(text, new RegExp(`^target ${rel(BERT).replace(/\./g, '\\.')}$`, 'm'));
  assert.match(text, /^bert\.encoder\.layer\.\{i\}\.\* -> encoder\.layer\.\{i\}\.\*$/m);
  assert.match(text, /^classifier\.\* -> drop {2}# no counterpart in the target$/m);
  assert.deepEqual(readdirSync(path.dirname(out)), ['bert.tpmap'], 'no temporary file left behind');

  const c = run('check', out, '--json');
  assert.equal(c.code, 0, c.out + c.err);
  assert.deepEqual(JSON.parse(c.out).summary, { files: 1, errors: 0, warnings: 0, information: 0 });
});

test('map -o refuses to replace an existing file unless --force', () => {
  const out = tmp.file('existing.tpmap', '# my hand-written mapping\n');
  const r = run('map', VIT, CLIP, '-o', out);
  assert.equal(r.code, 2);
  assert.equal(r.err, `tensorport: ${out}: already exists; pass --force to replace it\n`);
  assert.equal(readFileSync(out, 'utf8'), '# my hand-written mapping\n');

  const f = run('map', VIT, CLIP, '-o', out, '--force');
  assert.equal(f.code, 0, f.err);
  assert.match(f.out, /37 target tensors mapped \(0 with low confidence\), 3 source tensors dropped, 4 target tensors unmapped/);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^layernorm\.\* -> vision_model\.post_layernorm\.\*$/m);
  // Only the genuinely unmapped target parameters are left for `check` to report.
  const c = run('check', out, '--json');
  const doc = JSON.parse(c.out);
  assert.equal(c.code, 1);
  assert.deepEqual(doc.diagnostics.filter((d: { severity: string }) => d.severity !== 'information').map((d: { code: string; key: string }) => `${d.code} ${d.key}`),
    ['unmapped-target-key vision_model.pre_layrnorm.weight', 'unmapped-target-key vision_model.pre_layrnorm.bias', 'unmapped-target-key visual_projection.weight']);
});

test('map without -o prints the .tpmap text, with the paths as given', () => {
  const r = run('map', BERT, BERT_CLS);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^# Proposed by `tensorport map`: 40 target tensors mapped, 0 source tensors dropped, 2 target tensors unmapped\.\n/);
  assert.match(r.out, new RegExp(`^source ${BERT.replace(/[./]/g, '\\$&')}\ntarget ${BERT_CLS.replace(/[./]/g, '\\$&')}$`, 'm'));
  assert.match(r.out, /^# {3}classifier\.weight {2}F32 \[2, 8\]: no source tensor fits$/m);
  assert.match(r.out, /^embeddings\.\* -> bert\.embeddings\.\*$/m);
  // The printed text is a mapping: saved beside the inputs' paths, it checks with only the classifier unmapped.
  const saved = tmp.file('printed.tpmap', r.out);
  const c = run('check', saved, '--json');
  assert.deepEqual(JSON.parse(c.out).diagnostics.map((d: { code: string; key: string }) => `${d.code} ${d.key}`),
    ['unmapped-target-key classifier.weight', 'unmapped-target-key classifier.bias']);
});

test('bad usage and unreadable inputs exit 2 with one line and no stack trace', () => {
  const corrupt = tmp.file('corrupt.safetensors', Buffer.from([200, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
  writeFileSync(path.join(tmp.dir, 'notes.txt'), 'hello');
  const cases: [string[], RegExp][] = [
    [['map'], /^tensorport: map takes a SOURCE and a TARGET checkpoint/],
    [['map', VIT], /^tensorport: map takes a SOURCE and a TARGET checkpoint/],
    [['map', VIT, CLIP, BERT], /^tensorport: map takes a SOURCE and a TARGET checkpoint/],
    [['map', VIT, CLIP, '--bogus'], /^tensorport: map: unknown option --bogus; map takes --output, --force, --json, --python \(tensorport map --help\)\n$/],
    [['map', VIT, path.join(tmp.dir, 'missing.safetensors')], /^tensorport: .*missing\.safetensors: no such file\n$/],
    [['map', corrupt, CLIP], /^tensorport: .*corrupt\.safetensors: /],
    [['map', path.join(tmp.dir, 'notes.txt'), CLIP], /^tensorport: .*notes\.txt: /],
    [['map', 'model.py::Net', CLIP], /^tensorport: model\.py::Net: no such file/],
  ];
  for (const [args, err] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
    assert.match(r.err, err, args.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
  // A failed run writes nothing.
  const r = run('map', VIT, path.join(tmp.dir, 'missing.safetensors'), '-o', path.join(tmp.dir, 'never.tpmap'));
  assert.equal(r.code, 2);
  assert.ok(!readdirSync(tmp.dir).some((f) => f.includes('never')), 'no output, no temporary file');
});

test('map with model source as the target: sizes from the config.json beside the checkpoint, a mapping that checks clean', () => {
  const dir = path.join(FIXTURES, 'source');
  const out = path.join(tmp.dir, 'vit-source.tpmap');
  const r = spawnSync(process.execPath, [BIN, 'map', path.join(dir, 'ckpt', 'vit_hf.safetensors'), `${path.join(dir, 'vitpkg', 'modeling_vit.py')}::ViTModel`, '-o', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(readFileSync(out, 'utf8'), /^target .*vitpkg\/modeling_vit\.py::ViTModel$/m);
  const check = spawnSync(process.execPath, [BIN, 'check', out, '--json'], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout);
  assert.equal(JSON.parse(check.stdout).summary.errors, 0);
});
