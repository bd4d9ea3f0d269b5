/**
 * Never silently wrong: code inference cannot follow is reported where the user looks. The issue's own
 * case — a PaddleNLP-style `BertModel` whose encoder is `paddle.nn.TransformerEncoder`, the target of a
 * mapping from a real HF BERT checkpoint that maps the embeddings and drops the encoder — must not check
 * clean: `keys` says the model is incomplete under `encoder`, `check` warns on the target line with the
 * model file's line, and `check --json` says per side whether it was understood entirely. The same model
 * with its encoder written in layers inference knows is complete and clean.
 */
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli';
import { FIXTURES, scratchDir } from '../support/tmp';

const NO_ENV = ' (no Python environment to read its source from: `--python PATH`, or a .venv above the model file)';
const encoderLine = (text: string) => text.split('\n').findIndex((l) => l.includes('self.encoder =')) + 1;

const MODEL = (encoder: string) => `import paddle
import paddle.nn as nn


class BertEmbeddings(nn.Layer):
    def __init__(self, vocab_size, hidden_size, max_position, type_vocab_size):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab_size, hidden_size)
        self.position_embeddings = nn.Embedding(max_position, hidden_size)
        self.token_type_embeddings = nn.Embedding(type_vocab_size, hidden_size)
        self.layer_norm = nn.LayerNorm(hidden_size)


class Block(nn.Layer):
    def __init__(self, d, heads, ffn):
        super().__init__()
        self.self_attn = nn.MultiHeadAttention(d, heads)
        self.linear1 = nn.Linear(d, ffn)
        self.linear2 = nn.Linear(ffn, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)


class BertModel(nn.Layer):
    def __init__(self, vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=64, max_position_embeddings=40, type_vocab_size=2):
        super().__init__()
        self.embeddings = BertEmbeddings(vocab_size, hidden_size, max_position_embeddings, type_vocab_size)
${encoder}
`;

const VIA_FRAMEWORK = `        encoder_layer = nn.TransformerEncoderLayer(hidden_size, num_attention_heads, intermediate_size)
        self.encoder = nn.TransformerEncoder(encoder_layer, num_hidden_layers)`;
const BY_HAND = `        self.encoder = nn.LayerList([Block(hidden_size, num_attention_heads, intermediate_size) for _ in range(num_hidden_layers)])`;

const MAPPING = `source model.safetensors
target model.py::BertModel

embeddings.word_embeddings.weight -> embeddings.word_embeddings.weight
embeddings.position_embeddings.weight -> embeddings.position_embeddings.weight
embeddings.token_type_embeddings.weight -> embeddings.token_type_embeddings.weight
embeddings.LayerNorm.weight -> embeddings.layer_norm.weight
embeddings.LayerNorm.bias -> embeddings.layer_norm.bias
encoder.* -> drop
`;

function port(name: string, encoder: string): { dir: string; model: string } {
  const s = scratchDir(name);
  cpSync(path.join(FIXTURES, 'ports', 'bert_tiny', 'model.safetensors'), path.join(s.dir, 'model.safetensors'));
  const model = MODEL(encoder);
  s.file('model.py', model);
  s.file('port.tpmap', MAPPING);
  return { dir: s.dir, model };
}

test('keys on a model whose encoder is a framework layer inference does not know: incomplete under `encoder`, with the line, in the table and --json', () => {
  const { dir, model } = port('silent-keys', VIA_FRAMEWORK);
  const spec = path.join(dir, 'model.py::BertModel');
  const json = runCli(['keys', spec, '--json']);
  assert.equal(json.code, 0, json.err);
  const doc = JSON.parse(json.out);
  assert.equal(doc.complete, false);
  assert.deepEqual(doc.incomplete.map((g: { module: string; line: number; message: string }) => [g.module, g.line, g.message]),
    [['encoder', encoderLine(model), `\`paddle.nn.TransformerEncoder\` is not a layer Tensor Port knows${NO_ENV}`]]);
  assert.ok(!doc.tensors.some((t: { key: string }) => t.key.startsWith('encoder.')));
  const table = runCli(['keys', spec]);
  assert.match(table.out, new RegExp(`note: \`encoder\` is incomplete \\(model\\.py:${encoderLine(model)}\\): \`paddle\\.nn\\.TransformerEncoder\` is not a layer Tensor Port knows \\(no Python environment.*\\); what it registers there is not listed`));
});

test('check on a mapping into it is not clean: a warning on the target line naming `encoder` and model.py\'s line; --json says the target side is incomplete', () => {
  const { dir, model } = port('silent-check', VIA_FRAMEWORK);
  const r = runCli(['check', path.join(dir, 'port.tpmap'), '--json']);
  assert.equal(r.code, 0, r.err); // a warning, not an error: the exit code is for errors
  const doc = JSON.parse(r.out);
  const warned = doc.diagnostics.filter((d: { code: string }) => d.code === 'incomplete-model-source');
  assert.equal(warned.length, 1, r.out);
  assert.equal(warned[0].severity, 'warning');
  assert.equal(warned[0].line, 2);
  assert.equal(warned[0].message, `target \`BertModel\`: \`paddle.nn.TransformerEncoder\` is not a layer Tensor Port knows${NO_ENV} (model.py:${encoderLine(model)}); what it registers under \`encoder\` is not listed, so rules into it cannot be checked`);
  assert.ok(doc.summary.warnings >= 1);
  assert.deepEqual(doc.sides.map((s: { role: string; complete: boolean }) => [s.role, s.complete]), [['target', false]]);
  assert.deepEqual(doc.sides[0].incomplete.map((g: { module: string; file: string; line: number }) => [g.module, path.basename(g.file), g.line]), [['encoder', 'model.py', encoderLine(model)]]);
  const text = runCli(['check', path.join(dir, 'port.tpmap')]);
  assert.match(text.out, /port\.tpmap:2:8: warning incomplete-model-source: target `BertModel`/);
  assert.doesNotMatch(text.out, /0 errors, 0 warnings/);
});

test('a rule into the module that was not followed: unknown-target-key says the module was not followed, with the line', () => {
  const { dir, model } = port('silent-rule', VIA_FRAMEWORK);
  const mapping = path.join(dir, 'port.tpmap');
  writeFileSync(mapping, MAPPING.replace('encoder.* -> drop', 'encoder.layer.{i}.attention.self.query.weight -> encoder.layers.{i}.self_attn.q_proj.weight | transpose\nencoder.* -> drop'));
  const doc = JSON.parse(runCli(['check', mapping, '--json']).out);
  const unknown = doc.diagnostics.find((d: { code: string }) => d.code === 'unknown-target-key');
  assert.equal(unknown.message, `\`encoder.layers.{i}.self_attn.q_proj.weight\` matches no key of the target (model.py::BertModel) — but \`encoder\` was not followed (model.py:${encoderLine(model)}: \`paddle.nn.TransformerEncoder\` is not a layer Tensor Port knows${NO_ENV}), so its keys are not listed`);
});

test('the same model with its encoder in layers inference knows: complete, and no incomplete-model-source', () => {
  const { dir } = port('silent-complete', BY_HAND);
  const keys = JSON.parse(runCli(['keys', path.join(dir, 'model.py::BertModel'), '--json']).out);
  assert.equal(keys.complete, true);
  assert.equal(keys.incomplete, undefined);
  assert.ok(keys.tensors.some((t: { key: string }) => t.key === 'encoder.1.self_attn.q_proj.weight'));
  const doc = JSON.parse(runCli(['check', path.join(dir, 'port.tpmap'), '--json']).out);
  assert.deepEqual(doc.sides.map((s: { role: string; complete: boolean }) => [s.role, s.complete]), [['target', true]]);
  assert.equal(doc.diagnostics.filter((d: { code: string }) => d.code === 'incomplete-model-source').length, 0);
});

test('a checkpoint side has no `sides` entry and keys --json no `complete`: only model source is judged for completeness', () => {
  const { dir } = port('silent-ckpt', BY_HAND);
  const keys = JSON.parse(runCli(['keys', path.join(dir, 'model.safetensors'), '--json']).out);
  assert.equal(keys.complete, undefined);
});

test('what is not followed but never registered — a layer built and thrown away, data from numpy — is not reported', () => {
  const s = scratchDir('silent-noise');
  s.file('m.py', `import numpy as np
import torch
from torch import nn
from somewhere import Mystery


class Net(nn.Module):
    def __init__(self, dim=4, depth=2):
        super().__init__()
        rates = np.linspace(0, 0.1, depth)
        unused = Mystery(dim)
        self.drop_rates = [float(r) for r in rates]
        self.blocks = nn.ModuleList([nn.Linear(dim, dim) for _ in range(depth)])
        self.scale = rates[0]
`);
  const doc = JSON.parse(runCli(['keys', path.join(s.dir, 'm.py::Net'), '--json']).out);
  assert.equal(doc.complete, true, JSON.stringify(doc.incomplete));
  assert.equal(doc.tensors.length, 4);
});

test('a bias flag inference cannot read is never silently kept: a ParamAttr keeps it, a flag nothing decides makes it conditional, an expression not followed is a gap on that tensor', () => {
  const s = scratchDir('silent-bias-flags');
  s.file('m.py', `import paddle
import torch
from paddle import nn, ParamAttr
from helpers import make_attr


class M(nn.Layer):
    def __init__(self, flag, d=4):
        super().__init__()
        self.attr = nn.Linear(d, d, bias_attr=ParamAttr(learning_rate=0.1))
        self.off = nn.Linear(d, d, bias_attr=False)
        self.flagged = nn.Linear(d, d, bias_attr=flag)
        self.chosen = nn.Linear(d, d, bias_attr=None if flag else False)
        self.unread = nn.LayerNorm(d, bias_attr=make_attr())
        self.mha = nn.MultiHeadAttention(d, 2, bias_attr=flag)


class T(torch.nn.Module):
    def __init__(self, affine, d=4):
        super().__init__()
        self.norm = torch.nn.BatchNorm1d(d, affine=affine)
`);
  const doc = JSON.parse(runCli(['keys', path.join(s.dir, 'm.py::M'), '--json']).out);
  const cond = (k: string) => doc.tensors.find((t: { key: string }) => t.key === k)?.conditional;
  assert.deepEqual(doc.tensors.filter((t: { key: string }) => t.key.endsWith('bias')).map((t: { key: string }) => t.key),
    ['attr.bias', 'flagged.bias', 'chosen.bias', 'unread.bias', 'mha.q_proj.bias', 'mha.k_proj.bias', 'mha.v_proj.bias', 'mha.out_proj.bias']);
  assert.equal(cond('attr.bias'), undefined);
  assert.equal(cond('flagged.bias'), '`flag`');
  assert.equal(cond('chosen.bias'), '`flag`');
  assert.equal(cond('mha.out_proj.bias'), '`flag`');
  assert.equal(cond('unread.bias'), undefined);
  assert.equal(doc.complete, false);
  assert.deepEqual(doc.incomplete.map((g: { module: string; line: number }) => [g.module, g.line]), [['unread.bias', 14]]);
  const table = runCli(['keys', path.join(s.dir, 'm.py::M')]).out;
  assert.match(table, /`unread\.bias` is incomplete \(m\.py:14\): `bias_attr=` could not be evaluated: the tensors it governs are listed, but may not exist\n/);
  const torchDoc = JSON.parse(runCli(['keys', path.join(s.dir, 'm.py::T'), '--json']).out);
  assert.deepEqual(torchDoc.tensors.map((t: { key: string; conditional?: string }) => [t.key, t.conditional ?? '']),
    [['norm.weight', '`affine`'], ['norm.bias', '`affine`'], ['norm.running_mean', ''], ['norm.running_var', ''], ['norm.num_batches_tracked', '']]);
});
