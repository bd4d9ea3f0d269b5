/**
 * Hand-written ports (issue 19), through the CLI a user runs: a real HF ViT-Tiny and BERT-Tiny
 * (test/fixtures/ports/make_ports.py, transformers' save_pretrained) ported to a PyTorch ViT with
 * Paddle-style `[in, out]` Linear weights (`x @ W`), a PyTorch ViT in Flax style (`einsum` kernels beside
 * an `F.linear` weight), the seed-style Paddle ViT (PatchEmbedding owning its class token and position
 * embeddings through create_parameter) and a Paddle BERT — every class with base-size defaults.
 * The layouts come from how the code uses each parameter: each correct mapping checks clean, each
 * planted fault is reported on its line; `map` proposes the complete mapping for the tiny checkpoint;
 * `convert` writes into the model source, and the real framework loads the file with no missing or
 * unexpected key and computes what the HF model computes.
 */
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkDiagnostics, runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const PORTS = path.join(FIXTURES, 'ports');
const env = testPython();

const check = checkDiagnostics;

/** A copy of a fixture mapping beside its files (so its relative paths hold), with `edit` applied to its text. */
function planted(name: string, edit: (text: string) => string): string {
  const text = readFileSync(path.join(PORTS, name), 'utf8');
  const edited = edit(text);
  assert.notEqual(edited, text, 'the fault was planted');
  const out = path.join(PORTS, `.planted-${process.pid}-${name}`);
  writeFileSync(out, edited);
  process.on('exit', () => rmSync(out, { force: true }));
  return out;
}

const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** A scratch folder with the ViT-Tiny checkpoint and `port.py::Port`, a module whose `__init__(self, PARAMS)` runs `line`. */
function portBeside(name: string, params: string, line: string): ReturnType<typeof scratchDir> {
  const s = scratchDir(name);
  s.file('port.py', ['import torch', 'import torch.nn as nn', '', 'class Port(nn.Module):', `    def __init__(self, ${params}):`, '        super().__init__()', `        ${line}`, ''].join('\n'));
  copyFileSync(path.join(PORTS, 'vit_tiny', 'model.safetensors'), path.join(s.dir, 'vit.safetensors'));
  return s;
}

test('keys: a custom parameter gets the layout its forward uses — `x @ W` [in, out], einsum by subscripts, F.linear [out, in] — and says which use', () => {
  const plinear = JSON.parse(runCli(['keys', `${PORTS}/torch_vit_plinear.py::ViT`, '--json']).out) as { tensors: { key: string; layout?: string; layoutWhy?: string }[] };
  const q = plinear.tensors.find((t) => t.key === 'blocks.0.attn.q.weight')!;
  assert.equal(q.layout, 'in_out');
  assert.match(q.layoutWhy ?? '', /`x @ self\.weight` at torch_vit_plinear\.py:20/);
  const flax = JSON.parse(runCli(['keys', `${PORTS}/torch_vit_flax.py::ViT`, '--json']).out) as typeof plinear;
  assert.equal(flax.tensors.find((t) => t.key === 'encoder.0.attention.query.kernel')!.layout, 'in_out');
  assert.equal(flax.tensors.find((t) => t.key === 'encoder.0.attention.out.weight')!.layout, 'out_in');
  assert.match(flax.tensors.find((t) => t.key === 'encoder.0.attention.out.weight')!.layoutWhy ?? '', /F\.linear\(x, self\.weight, self\.bias\)/);
  // A parameter no use tells about has no layout: its name `cls` or `weight` is no evidence.
  assert.equal(flax.tensors.find((t) => t.key === 'cls')!.layout, undefined);
});

for (const name of ['vit_plinear.tpmap', 'vit_flax.tpmap', 'vit_paddle.tpmap']) {
  test(`check ${name}: the correct hand-written port is clean (no error, no warning)`, () => {
    assert.deepEqual(check(path.join(PORTS, name)), []);
  });
}

test('a missing transpose on a square [32, 32] weight is an error on its line, naming the use that says [in, out]', () => {
  const text = readFileSync(path.join(PORTS, 'vit_plinear.tpmap'), 'utf8');
  const file = planted('vit_plinear.tpmap', (t) => t.replace('attn.q.weight | transpose', 'attn.q.weight'));
  const ds = check(file);
  assert.equal(ds.length, 1, JSON.stringify(ds));
  assert.equal(ds[0].code, 'missing-transpose');
  assert.equal(ds[0].line, lineOf(text, 'attn.q.weight | transpose'));
  assert.match(ds[0].message, /the source stores this Linear weight as \[out, in\] \(torch\), the target as \[in, out\] \(used in `x @ self\.weight` at torch_vit_plinear\.py:20\): add `\| transpose` \(the square shape \[32, 32\] hides it\)/);
  assert.doesNotMatch(ds[0].message, /torch .* torch as/);
});

test('an extra transpose on a torch-style weight the code reads through F.linear is a warning on the transpose', () => {
  const file = planted('vit_flax.tpmap', (t) => t.replace('encoder.layer.{i}.attention.output.dense.* -> encoder.{i}.attention.out.*',
    'encoder.layer.{i}.attention.output.dense.weight -> encoder.{i}.attention.out.weight | transpose\nencoder.layer.{i}.attention.output.dense.bias -> encoder.{i}.attention.out.bias'));
  const ds = check(file);
  assert.equal(ds.length, 1, JSON.stringify(ds));
  assert.equal(ds[0].code, 'extra-transpose');
  assert.equal(ds[0].line, lineOf(readFileSync(file, 'utf8'), 'attention.out.weight | transpose'));
  assert.match(ds[0].message, /F\.linear\(x, self\.weight, self\.bias\)` at torch_vit_flax\.py:28\): this transpose scrambles the weight/);
});

test('q and k swapped in the seed-style Paddle port: an error on each of the two lines (both names say the role)', () => {
  const file = planted('vit_paddle.tpmap', (t) => t.replace('query.weight -> layers.{i}.attn.q.weight', 'query.weight -> layers.{i}.attn.K.weight')
    .replace('key.weight -> layers.{i}.attn.k.weight', 'key.weight -> layers.{i}.attn.q.weight').replace('attn.K.weight', 'attn.k.weight'));
  const text = readFileSync(file, 'utf8');
  const ds = check(file);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [
    [lineOf(text, 'query.weight -> layers.{i}.attn.k.weight'), 'error', 'suspicious-pairing'],
    [lineOf(text, 'key.weight -> layers.{i}.attn.q.weight'), 'error', 'suspicious-pairing'],
  ]);
  assert.match(ds[0].message, /the attention query is mapped to the attention key/);
});

test('a custom parameter nothing uses: no transpose diagnostic either way (the layout is unknown, not torch\'s)', () => {
  const s = portBeside('ports-unknown', 'dim=32', 'self.weight = nn.Parameter(torch.zeros(dim, dim))');
  for (const rule of ['encoder.layer.0.attention.attention.query.weight -> weight', 'encoder.layer.0.attention.attention.query.weight -> weight | transpose']) {
    const m = s.file('port.tpmap', `source vit.safetensors\ntarget port.py::Port\n${rule}\nencoder.* -> drop\nembeddings.* -> drop\nlayernorm.* -> drop\n`);
    assert.deepEqual(check(m).filter((d) => /transpose/.test(d.code)), [], rule);
  }
});

const MAPS: [string, string, string][] = [
  ['vit_tiny', 'paddle_vit.py::VisionTransformer', 'pdparams'],
  ['vit_tiny', 'torch_vit_plinear.py::ViT', 'pt'],
  ['vit_tiny', 'torch_vit_flax.py::ViT', 'safetensors'],
  ['bert_tiny', 'paddle_bert.py::BertModel', 'pdparams'],
];

for (const [hf, cls, ext] of MAPS) {
  test(`map ${hf} → ${cls} (base-size defaults): complete, clean, sizes bound; convert into the class; the real model loads it and matches HF`, { skip: env.skip }, () => {
    const s = scratchDir('ports-map');
    const mapping = path.join(s.dir, 'port.tpmap');
    const r = runCli(['map', path.join(PORTS, hf, 'model.safetensors'), path.join(PORTS, cls), '-o', mapping]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /target tensors mapped \(0 with low confidence\)?|target tensors mapped/);
    assert.match(r.out, /, 0 source tensors dropped, 0 target tensors unmapped/);
    const text = readFileSync(mapping, 'utf8');
    if (hf === 'vit_tiny') {
      assert.match(text, /^set (embed_dim|dim|hidden) = 32 +# /m);
      assert.match(text, /^set (depth|layers) = 2 +# `\{i\}` takes 2 values/m);
      assert.match(text, /^set (num_heads|heads) = 4 +# `num_attention_heads` in config\.json/m);
    }
    assert.deepEqual(check(mapping), []);
    const out = path.join(s.dir, `port.${ext}`);
    const c = runCli(['convert', mapping, '-o', out]);
    assert.equal(c.code, 0, c.err);
    const result = JSON.parse(runPython(env.python!, [path.join(PORTS, 'run_port.py'), path.join(PORTS, hf), path.join(PORTS, cls), mapping, out]).trim().split('\n').pop()!) as
      { missing: string[]; unexpected: string[]; maxAbs: number };
    assert.deepEqual(result.missing, []);
    assert.deepEqual(result.unexpected, []);
    assert.ok(result.maxAbs < 1e-4, `the port computes what HF computes (max |Δ| ${result.maxAbs})`);
  });
}

test('map with a class that is not in the file names the classes there, not the output file', () => {
  const s = scratchDir('ports-missing');
  const r = runCli(['map', path.join(PORTS, 'vit_tiny', 'model.safetensors'), `${PORTS}/paddle_vit.py::Nope`, '-o', path.join(s.dir, 'port.tpmap')]);
  assert.equal(r.code, 2);
  assert.match(r.err, /paddle_vit\.py::Nope: no class or function `Nope` \(classes here: PatchEmbedding, Attention, Mlp, EncoderLayer, VisionTransformer\)/);
  assert.doesNotMatch(r.err, /cannot write/);
});

test('convert into model source refuses a tensor whose dimensions nothing bound, naming them, and writes nothing', () => {
  const s = portBeside('ports-open', 'rows, cols', 'self.table = nn.Parameter(torch.zeros(rows * cols))');
  const m = s.file('port.tpmap', 'source vit.safetensors\ntarget port.py::Port\nembeddings.patch_embeddings.projection.bias -> table\n');
  const out = path.join(s.dir, 'out.safetensors');
  const r = runCli(['convert', m, '-o', out]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /`table` \[rows\*cols\] has sizes no rule and no config value bound .*: add `set rows = …` and `set cols = …`/);
  assert.throws(() => readFileSync(out));
});

const PPCLS_VIT = path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'paddleclas', 'ppcls', 'arch', 'backbone', 'model_zoo', 'vision_transformer.py');

/** `map` of the HF ViT-Tiny onto PaddleClas 2.6's own VisionTransformer, written into a scratch folder. */
function mapOntoPaddleClas(): { mapping: string; text: string; dir: string } {
  const s = scratchDir('ports-ppcls');
  const mapping = path.join(s.dir, 'port.tpmap');
  const r = runCli(['map', path.join(PORTS, 'vit_tiny', 'model.safetensors'), `${PPCLS_VIT}::VisionTransformer`, '-o', mapping]);
  assert.equal(r.code, 0, r.err);
  return { mapping, text: readFileSync(mapping, 'utf8'), dir: s.dir };
}

test('map onto the real PaddleClas 2.6 VisionTransformer, no hand edits: the set lines carry every value the checkpoint implies; check clean; convert; Paddle loads it from the set lines alone and computes what HF computes (≤ 1e-5)', { skip: env.skip }, () => {
  const { mapping, text, dir } = mapOntoPaddleClas();
  for (const line of [/^set embed_dim = 32 /m, /^set depth = 2 /m, /^set img_size = 32 /m, /^set mlp_ratio = 2 /m, /^set num_heads = 4 /m,
    /^set patch_size = 8 +# `patch_size` in config\.json/m, /^set qkv_bias = True +# `qkv_bias` in config\.json/m,
    /^set epsilon = 1e-6 +# `layer_norm_eps` in config\.json .*\(the class's default: 1e-5\)/m,
    /^set class_num = 0 +# the checkpoint has no `head\.weight`, `head\.bias`: 0 leaves that head out/m]) assert.match(text, line);
  assert.match(text, /-> blocks\.\{i\}\.attn\.qkv\.weight \| cat\(0\) \| transpose$/m);
  assert.match(text, /-> blocks\.\{i\}\.attn\.qkv\.bias \| cat\(0\)$/m);
  assert.match(text, /^embeddings\.position_embeddings +-> pos_embed$/m);
  assert.match(text, /0 target tensors unmapped/);
  assert.deepEqual(check(mapping), []);
  const out = path.join(dir, 'port.pdparams');
  const c = runCli(['convert', mapping, '-o', out]);
  assert.equal(c.code, 0, c.err);
  const run = (m: string) => JSON.parse(runPython(env.python!, [path.join(PORTS, 'run_port.py'), path.join(PORTS, 'vit_tiny'), `${PPCLS_VIT}::VisionTransformer`, m, out, '--sets-only']).trim().split('\n').pop()!) as
    { missing: string[]; unexpected: string[]; maxAbs: number; kwargs: Record<string, unknown> };
  const result = run(mapping);
  assert.deepEqual(result.missing, []);
  assert.deepEqual(result.unexpected, []);
  assert.equal(result.kwargs.epsilon, 1e-6);
  assert.ok(result.maxAbs <= 1e-5, `the port computes what HF computes in float32 (max |Δ| ${result.maxAbs})`);
  // Without the epsilon line the class is built with its own 1e-5: check says so, and the outputs do differ.
  const noEps = path.join(dir, 'no-eps.tpmap');
  writeFileSync(noEps, text.replace(/^set epsilon = .*\n/m, ''));
  const ds = check(noEps);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [[3, 'warning', 'config-value-differs']]);
  assert.match(ds[0].message, /`epsilon` is 1e-5 \(the class's default\), `layer_norm_eps` is 1e-6 in config\.json: outputs will differ .*add `set epsilon = 1e-6`/);
  assert.ok(run(noEps).maxAbs > 1e-4, 'the epsilon the warning names does change the outputs');
});

test('map onto PaddleClas with no config.json beside the checkpoint: `qkv_bias = True` comes from the q/k/v biases the checkpoint has; Paddle loads every key from the set lines alone', { skip: env.skip }, () => {
  const s = scratchDir('ports-ppcls-noconfig');
  copyFileSync(path.join(PORTS, 'vit_tiny', 'model.safetensors'), path.join(s.dir, 'model.safetensors'));
  const mapping = path.join(s.dir, 'port.tpmap');
  const r = runCli(['map', path.join(s.dir, 'model.safetensors'), `${PPCLS_VIT}::VisionTransformer`, '-o', mapping]);
  assert.equal(r.code, 0, r.err);
  const text = readFileSync(mapping, 'utf8');
  assert.match(text, /^set qkv_bias = True +# the checkpoint has `encoder\.layer\.0\.attention\.attention\.key\.bias`, .* which only True gives a parameter to \(no config\.json says; the class's default: False\)$/m);
  assert.match(text, /-> blocks\.\{i\}\.attn\.qkv\.bias \| cat\(0\)$/m);
  assert.match(text, /0 source tensors dropped, 0 target tensors unmapped/);
  assert.deepEqual(check(mapping), []);
  // No tensor shows the head count: the mapping says so, and the user who reads it writes the line.
  assert.match(text, /^# Left at the code's defaults \(no tensor's shape shows them; check them\): num_heads = 12, epsilon = 1e-5$/m);
  writeFileSync(mapping, text.replace(/^set qkv_bias/m, 'set num_heads = 4\nset qkv_bias'));
  const out = path.join(s.dir, 'port.pdparams');
  assert.equal(runCli(['convert', mapping, '-o', out]).code, 0);
  const result = JSON.parse(runPython(env.python!, [path.join(PORTS, 'run_port.py'), path.join(PORTS, 'vit_tiny'), `${PPCLS_VIT}::VisionTransformer`, mapping, out, '--sets-only']).trim().split('\n').pop()!) as
    { missing: string[]; unexpected: string[]; maxAbs: number; kwargs: Record<string, unknown> };
  assert.deepEqual(result.missing, []);
  assert.deepEqual(result.unexpected, []);
  assert.equal(result.kwargs.qkv_bias, true);
  // The class's epsilon 1e-5 against HF's 1e-6 is all that is left (no config.json says it).
  assert.ok(result.maxAbs < 1e-2, `the biases are in: max |Δ| ${result.maxAbs}`);
});

test('planted bugs in the PaddleClas port are each found by check on their own line: a wrong key, a missing square transpose, a cast into the class, swapped norms (errors, which convert refuses)', { skip: env.skip }, () => {
  const { mapping, text } = mapOntoPaddleClas();
  const plant = (from: string, to: string) => {
    assert.ok(text.includes(from), from);
    const file = `${mapping}.${Math.abs(hash(from))}.tpmap`;
    const edited = text.replace(from, to);
    writeFileSync(file, edited);
    return { file, edited };
  };
  const cases: [string, string, string, string[]][] = [
    ['encoder.layer.{i}.output.dense.bias ', 'encoder.layer.{i}.output.dense.bais ', 'output.dense.bais', ['unknown-source-key']],
    ['-> blocks.{i}.attn.proj.weight | transpose', '-> blocks.{i}.attn.proj.weight', '-> blocks.{i}.attn.proj.weight', ['missing-transpose']],
    ['-> blocks.{i}.mlp.fc1.bias', '-> blocks.{i}.mlp.fc1.bias | cast(F16)', 'cast(F16)', ['dtype-mismatch']],
  ];
  for (const [from, to, needle, codes] of cases) {
    const { file, edited } = plant(from, to);
    const errors = check(file).filter((d) => d.severity === 'error' && d.line > 3);
    assert.deepEqual(errors.map((d) => [d.line, d.code]), codes.map((c) => [lineOf(edited, needle), c]), `${to}: ${JSON.stringify(errors)}`);
    const c = runCli(['convert', file, '-o', `${file}.pdparams`]);
    assert.notEqual(c.code, 0, `convert refuses what check calls an error (${to})`);
  }
  const swapped = text.replace(/-> blocks\.\{i\}\.norm1\.\*/, '-> blocks.{i}.normX.*').replace(/-> blocks\.\{i\}\.norm2\.\*/, '-> blocks.{i}.norm1.*').replace('normX', 'norm2');
  const file = `${mapping}.swap.tpmap`;
  writeFileSync(file, swapped);
  const ds = check(file);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [
    [lineOf(swapped, '-> blocks.{i}.norm2.*'), 'error', 'suspicious-pairing'],
    [lineOf(swapped, '-> blocks.{i}.norm1.*'), 'error', 'suspicious-pairing'],
  ]);
  assert.match(ds[0].message, /the block's first norm is mapped to its second/);
  assert.notEqual(runCli(['convert', file, '-o', `${file}.pdparams`]).code, 0);
});

const hash = (s: string) => [...s].reduce((h, c) => (h * 31 + c.charCodeAt(0)) | 0, 7);

test('hover on a target key of a port says how it is stored and which use says so; a parameter nothing uses says its layout is unknown', async () => {
  const { parseMapping } = await import('../../server/src/mapping/parse');
  const { loadSides } = await import('../../server/src/mapping/sides');
  const { hoverAt } = await import('../../server/src/mapping/hover');
  const { CheckpointIndex } = await import('../../server/src/index/checkpointIndex');
  const mappingPath = path.join(PORTS, 'vit_plinear.tpmap');
  const text = readFileSync(mappingPath, 'utf8');
  const file = parseMapping(text);
  const sides = await loadSides(mappingPath, file, new CheckpointIndex());
  const at = text.indexOf('blocks.{i}.attn.q.weight') + 3;
  assert.match(hoverAt(file, at, sides)!.markdown, /stored as a Linear weight \[in, out\] \(used in `x @ self\.weight` at torch_vit_plinear\.py:20\)/);
  const src = text.indexOf('encoder.layer.{i}.attention.attention.query.weight') + 3;
  assert.match(hoverAt(file, src, sides)!.markdown, /stored as a Linear weight \[out, in\] \(torch\)/);

  const s = portBeside('ports-hover', 'dim=32', 'self.weight = nn.Parameter(torch.zeros(dim, dim))');
  const unknownText = 'source vit.safetensors\ntarget port.py::Port\nencoder.layer.0.attention.attention.query.weight -> weight\n';
  const unknownPath = s.file('port.tpmap', unknownText);
  const unknown = parseMapping(unknownText);
  const unknownSides = await loadSides(unknownPath, unknown, new CheckpointIndex());
  assert.match(hoverAt(unknown, unknownText.lastIndexOf('weight') + 2, unknownSides)!.markdown, /layout unknown: nothing in the code says how it is used/);
});

test('convert into transformers\' own GPT2LMHeadModel from a save_pretrained checkpoint that dropped the tied lm_head: the tied key is written too, and load_state_dict(strict=True) takes the file', { skip: env.skip }, () => {
  const s = scratchDir('ports-gpt2');
  const file = path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'transformers', 'models', 'gpt2', 'modeling_gpt2.py');
  const mapping = path.join(s.dir, 'port.tpmap');
  const m = runCli(['map', path.join(FIXTURES, 'real', 'hf', 'gpt2_tied', 'model.safetensors'), `${file}::GPT2LMHeadModel`, '-o', mapping]);
  assert.equal(m.code, 0, m.err);
  assert.match(readFileSync(mapping, 'utf8'), /^# Left at the code's defaults \(no tensor's shape shows them; check them\): .*n_head = 12/m);
  const out = path.join(s.dir, 'port.safetensors');
  const c = runCli(['convert', mapping, '-o', out]);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /17 tensors/);
  const r = runPython(env.python!, ['-c', [
    'import sys, warnings', 'warnings.filterwarnings("ignore")', 'import torch', 'from safetensors.torch import load_file',
    'from transformers import GPT2Config, GPT2LMHeadModel', 'sd = load_file(sys.argv[1])',
    'm = GPT2LMHeadModel(GPT2Config(n_layer=1, vocab_size=40, n_embd=8, n_positions=16, n_head=2))',
    'm.load_state_dict(sd, strict=True)', 'print(torch.equal(m.lm_head.weight, sd["transformer.wte.weight"]))',
  ].join('\n'), out]);
  assert.equal(r.trim().split('\n').pop(), 'True');
});
