/**
 * Keys, dtypes and shapes inferred from model source equal what the model really has: for every
 * torch fixture, the state_dict() of the same model instantiated with Debian torch by
 * test/fixtures/gen/source_models.py (order included); for the Paddle ViT, lists written by hand (no
 * paddle here; TF.js models are checked against TF.js itself in source-tfjs.test.ts). Open dimensions stay named; layouts, frameworks and
 * defining lines are right; bad input is a clear error.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { renderDim } from '../../server/src/source/dims';
import { inferTensors } from '../../server/src/source/infer';
import { Binding } from '../../server/src/source/interpret';
import { SourceError, loadModelSource } from '../../server/src/source/loadModel';
import { readModelSource } from '../../server/src/source/readModelSource';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'source');
const tmp = scratchDir('source-infer');

interface Expected { file: string; class: string; config: Record<string, unknown>; from: string; tensors: { key: string; dtype: string; shape: number[] }[] }

const expected = (name: string): Expected => JSON.parse(readFileSync(path.join(DIR, 'expected', `${name}.json`), 'utf8'));

async function infer(file: string, cls: string, config: Record<string, unknown> = {}) {
  const model = await loadModelSource(path.resolve(DIR, file), cls);
  const bindings = new Map(Object.entries(config).filter(([, v]) => typeof v === 'number' || typeof v === 'boolean') as [string, Binding][]);
  return inferTensors(model, { bindings });
}

const listing = (ts: { key: string; dtype: string; shape?: unknown[] }[]) =>
  ts.map((t) => `${t.key} ${t.dtype} [${(t.shape ?? []).map((d) => (typeof d === 'number' ? d : renderDim(d as never))).join(', ')}]`);

for (const name of readdirSync(path.join(DIR, 'expected')).map((f) => f.replace(/\.json$/, ''))) {
  const doc = expected(name);
  test(`${name}: inferred state_dict equals ${doc.from.startsWith('torch') ? 'the real one' : 'the hand-written list'} (${doc.tensors.length} tensors, in order)`, async () => {
    const r = await infer(doc.file, doc.class, doc.config);
    assert.deepEqual(listing(r.tensors), listing(doc.tensors));
  });
}

test('the torch fixtures are real state_dict()s: the expected lists come from torch, not by hand', () => {
  for (const name of ['hf_vit', 'layer_zoo']) assert.match(expected(name).from, /state_dict\(\) of the instantiated model/);
  assert.match(expected('paddle_vit').from, /by hand: paddle is not installed/);
});

test('without a config, dimensions stay named by the config field they come from', async () => {
  const info = await readModelSource(path.join(DIR, 'vitpkg', 'modeling_vit.py::ViTModel'));
  const byKey = new Map(info.tensors.map((t) => [t.key, t]));
  assert.equal(info.format, 'python-source');
  assert.equal(info.framework, 'torch');
  assert.deepEqual(byKey.get('embeddings.cls_token')!.dims, [1, 1, 'hidden_size']);
  assert.deepEqual(byKey.get('embeddings.position_embeddings')!.dims, [1, '(image_size//patch_size)*(image_size//patch_size)+1', 'hidden_size']);
  assert.deepEqual(byKey.get('encoder.layer.0.intermediate.dense.weight')!.dims, ['intermediate_size', 'hidden_size']);
  assert.ok(Number.isNaN(byKey.get('embeddings.cls_token')!.shape[2]), 'shape holds NaN where a dimension is open');
  // The layer count is open too: one layer is listed, and a note says how to bind it.
  assert.ok(byKey.has('encoder.layer.0.output.dense.bias') && !byKey.has('encoder.layer.1.output.dense.bias'));
  assert.ok(info.notes.some((n) => /^`encoder\.layer` is incomplete \(.*\): the count `num_hidden_layers` is not bound: one layer is listed \(`set num_hidden_layers = …`, or a config\.json, gives it\)/.test(n)), info.notes.join('\n'));
  assert.deepEqual(info.incomplete?.map((g) => g.module), ['encoder.layer']);
});

test('constructor defaults decide when nothing else does (Class() as written)', async () => {
  const info = await readModelSource(path.join(DIR, 'paddle_vit.py::VisionTransformer'));
  assert.equal(info.framework, 'paddle');
  assert.equal(info.tensors.length, 200);
  assert.deepEqual(info.tensors[1], { ...info.tensors[1], key: 'patch_embedding.position_embeddings', shape: [1, 197, 768] });
  assert.equal(info.bindings!.embed_dim.value, 768);
  assert.match(info.bindings!.embed_dim.from, /default/);
});

test('layouts: paddle Linear [in, out], torch Linear [out, in], GPT-2 Conv1D [in, out], convolutions OIHW/IOHW', async () => {
  const layout = async (file: string, cls: string) => new Map((await infer(file, cls)).tensors.map((t) => [t.key, t.layout]));
  const paddle = await layout('paddle_vit.py', 'VisionTransformer');
  assert.equal(paddle.get('encoder.layers.0.attn.q.weight'), 'in_out');
  assert.equal(paddle.get('patch_embedding.patch_embedding.weight'), 'OIHW');
  const zoo = await layout('layer_zoo.py', 'Zoo');
  assert.equal(zoo.get('head.pre.weight'), 'out_in');
  assert.equal(zoo.get('gpt2.c_attn.weight'), 'in_out');
  assert.equal(zoo.get('mha.in_proj_weight'), 'out_in');
  assert.equal(zoo.get('conv_t.weight'), 'IOHW');
  assert.equal(zoo.get('conv1d.weight'), 'OIW');
});

test('each tensor knows the line that defines it', async () => {
  const file = path.join(DIR, 'paddle_vit.py');
  const lines = readFileSync(file, 'utf8').split('\n');
  const info = await readModelSource(`${file}::VisionTransformer`);
  const at = (key: string) => {
    const d = info.tensors.find((t) => t.key === key)!.definition!;
    assert.equal(d.file, file);
    return lines[d.line].slice(d.column);
  };
  assert.match(at('encoder.layers.3.attn.q.weight'), /^nn\.Linear\(embed_dim, self\.all_head_dim/);
  assert.match(at('patch_embedding.cls_token'), /^paddle\.create_parameter\(/);
  assert.match(at('patch_embedding.patch_embedding.bias'), /^nn\.Conv2D\(in_channels = in_channels,/);
  assert.match(at('encoder.encoder_norm.weight'), /^nn\.LayerNorm\(embed_dim, epsilon=1e-6\)/);
});

test('buffers: persistent ones are listed (I64 position_ids), persistent=False ones are not', async () => {
  tmp.file('embed.py', [
    'import torch', 'from torch import nn', '',
    'class Embeddings(nn.Module):',
    '    def __init__(self, vocab=20, hidden=8, max_positions=7):',
    '        super().__init__()',
    '        self.word_embeddings = nn.Embedding(vocab, hidden)',
    '        self.register_buffer("position_ids", torch.arange(max_positions).expand((1, -1)))',
    '        self.register_buffer("token_type_ids", torch.zeros((1, max_positions), dtype=torch.long), persistent=False)', '',
  ].join('\n'));
  const r = await infer(path.join(tmp.dir, 'embed.py'), 'Embeddings', {});
  const ids = r.tensors.find((t) => t.key === 'position_ids')!;
  assert.equal(ids.dtype, 'I64');
  assert.equal(ids.param, false);
  assert.ok(!r.tensors.some((t) => t.key.endsWith('token_type_ids')));
});

test('a missing class, a missing file and a non-source file are clear errors naming the file', async () => {
  await assert.rejects(loadModelSource(path.join(DIR, 'paddle_vit.py'), 'ViT'),
    (e: Error) => e instanceof SourceError && /paddle_vit\.py: no class or function `ViT` \(classes here: PatchEmbedding, Attention, Mlp, EncoderLayer, Encoder, VisionTransformer\)/.test(e.message));
  await assert.rejects(loadModelSource(path.join(DIR, 'nope.py'), 'Net'), (e: Error) => e instanceof SourceError && /nope\.py: no such file/.test(e.message));
  await assert.rejects(readModelSource(path.join(DIR, 'nope.py::Net')), /nope\.py::Net: no such file/);
});

test('odd code: syntax errors elsewhere, self-recursion, unknown layers and loops over unknowns do not stop inference', async () => {
  const file = tmp.file('odd.py', `import torch
from torch import nn
from timm.layers import DropPath

class Loop(nn.Module):
    def __init__(self):
        super().__init__()
        self.me = Loop()

class Net(nn.Module):
    def __init__(self, dim=4, items=None):
        super().__init__()
        self.fc = nn.Linear(dim, 2 * dim)
        self.drop = DropPath(0.1)
        for x in items:
            self.extra = nn.Linear(1, 1)
        self.weird = nn.FancyNewLayer(dim)
        self.loop = Loop()

def broken(:
    pass
`);
  const model = await loadModelSource(file, 'Net');
  const r = inferTensors(model);
  assert.deepEqual(listing(r.tensors), ['fc.weight F32 [8, 4]', 'fc.bias F32 [8]']);
  // Nothing it could not follow is silent: each is a gap under the key prefix it affects.
  const gaps = r.gaps.map((g) => `${g.module}: ${g.gap.message} (line ${g.gap.site.pos.line + 1})`);
  assert.ok(gaps.includes('drop: `timm.layers.DropPath` is outside the code Tensor Port reads (line 14)'), gaps.join('\n'));
  assert.ok(gaps.some((g) => /^weird: `torch\.nn\.FancyNewLayer` is not a layer Tensor Port knows.* \(line 17\)$/.test(g)), gaps.join('\n'));
  assert.ok(gaps.includes(': a `for` loop over `items`, which inference cannot list, was skipped (line 15)'), gaps.join('\n'));
  // A module that builds itself is Python's RecursionError: inference stops, and says where.
  assert.ok(gaps.some((g) => /^: inference stopped at .*odd\.py:8: calls nest deeper than 60 \(endless recursion\?\)/.test(g)), gaps.join('\n'));
});
