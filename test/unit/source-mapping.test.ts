/**
 * Model source as a side of a mapping: HF ViT's real checkpoint → the Paddle ViT source, with the
 * source's open dimensions bound from the checkpoint (embed_dim → 8, depth → 2). A correct mapping is
 * clean; a Linear mapped torch → paddle without `| transpose` is `missing-transpose`, square or not;
 * a rule that needs another value for a bound symbol is a `shape-mismatch` naming the symbol and
 * both values; `set` and a config.json beside the checkpoint feed the bindings.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { analyzeMapping } from '../../server/src/mapping/analyze';
import { MappingDiagnostic } from '../../server/src/mapping/diagnostics';
import { positionAt } from '../../server/src/mapping/lineIndex';
import { parseMapping } from '../../server/src/mapping/parse';
import { Sides, loadSides } from '../../server/src/mapping/sides';
import { FIXTURES } from '../support/tmp';
import { VIT_TO_PADDLE_SOURCE_RULES } from '../support/mappings';

const index = new CheckpointIndex();

type Found = MappingDiagnostic & { line: number };

async function check(text: string, dir = FIXTURES): Promise<{ ds: Found[]; sides: Sides }> {
  const file = parseMapping(text);
  const sides = await loadSides(path.join(dir, 'test.tpmap'), file, index);
  const ds = analyzeMapping(file, sides).diagnostics.map((d) => ({ ...d, line: positionAt(file.lineStarts, d.start).line + 1 }));
  return { ds, sides };
}

const codes = (ds: Found[]) => ds.map((d) => `${d.line} ${d.code}`);
const target = (s: Sides) => { assert.ok(s.target?.ok, JSON.stringify(s.target)); return s.target.side; };

const VIT_TO_PADDLE_SOURCE = `source mapping/vit_hf.safetensors\ntarget source/paddle_vit.py::VisionTransformer\nset num_classes = 0\n${VIT_TO_PADDLE_SOURCE_RULES}`;

test('HF ViT checkpoint → Paddle ViT source: clean, with the source\'s sizes bound from the checkpoint', async () => {
  const { ds, sides } = await check(VIT_TO_PADDLE_SOURCE);
  assert.deepEqual(codes(ds), []);
  const side = target(sides);
  assert.equal(side.framework, 'paddle');
  assert.equal(side.info.format, 'python-source');
  assert.equal(side.keys.length, 38, 'two layers (depth from the checkpoint) and no classifier (num_classes = 0)');
  const b = side.info.bindings!;
  assert.deepEqual([b.embed_dim.value, b.depth.value, b.patch_size.value, b.mlp_ratio.value, b.image_size.value, b.num_classes.value], [8, 2, 4, 2, 8, 0]);
  assert.match(b.embed_dim.from, /^line 5: `embeddings\.cls_token` \[1, 1, 8\]$/);
  assert.match(b.depth.from, /`\{i\}` takes 2 values in mapping\/vit_hf\.safetensors/);
  assert.match(b.num_classes.from, /`set num_classes = 0` \(line 3\)/);
  assert.deepEqual(side.tensors.get('encoder.layers.1.mlp.fc1.weight')!.shape, [8, 16]);
  assert.deepEqual(side.tensors.get('encoder.layers.1.mlp.fc1.weight')!.declared, ['embed_dim', 'embed_dim*mlp_ratio']);
});

test('missing-transpose on every torch → paddle Linear without `| transpose`: by convention on the square q, by shape on fc1', async () => {
  const text = VIT_TO_PADDLE_SOURCE
    .replace('-> encoder.layers.{i}.attn.q.weight | transpose', '-> encoder.layers.{i}.attn.q.weight')
    .replace('-> encoder.layers.{i}.mlp.fc1.weight | transpose', '-> encoder.layers.{i}.mlp.fc1.weight');
  const { ds } = await check(text);
  assert.deepEqual(codes(ds), ['9 missing-transpose', '18 missing-transpose']);
  assert.match(ds[0].message, /torch stores this Linear weight as \[out, in\], paddle as \[in, out\]: add `\| transpose` \(the square shape \[8, 8\] hides it\)/);
  assert.match(ds[1].message, /source \[16, 8\] is target \[8, 16\] transposed/);
});

test('a contradiction — the same symbol needing two values — is a shape-mismatch naming the symbol and both values', async () => {
  const text = VIT_TO_PADDLE_SOURCE.replace(
    'encoder.layer.{i}.attention.output.dense.weight -> encoder.layers.{i}.attn.proj.weight | transpose',
    'encoder.layer.{i}.intermediate.dense.weight -> encoder.layers.{i}.attn.proj.weight | transpose');
  const { ds } = await check(text);
  const mismatch = ds.filter((d) => d.code === 'shape-mismatch');
  assert.deepEqual(mismatch.map((d) => d.line), [15]);
  assert.match(mismatch[0].message, /`embed_dim` is 8 \(bound by line 5: `embeddings\.cls_token` \[1, 1, 8\]\) but this rule needs 16/);
  // The wrong rule does not skew the others: the right ones stay clean.
  assert.deepEqual(codes(ds.filter((d) => d.severity === 'error')), ['15 shape-mismatch']);
});

test('without `set num_classes = 0` the default applies: the classifier is a target nobody writes', async () => {
  const { ds } = await check(VIT_TO_PADDLE_SOURCE.replace('set num_classes = 0\n', '\n'));
  assert.deepEqual(ds.map((d) => `${d.line} ${d.code} ${d.key}`), ['2 unmapped-target-key classifier.weight', '2 unmapped-target-key classifier.bias']);
  assert.match(ds[0].message, /F32 \[8, 1000\]/);
});

test('`set` wins over the checkpoint: a wrong value is reported on the rules it breaks', async () => {
  const { ds } = await check(VIT_TO_PADDLE_SOURCE.replace('set num_classes = 0', 'set num_classes = 0\nset embed_dim = 16'));
  const first = ds.find((d) => d.code === 'shape-mismatch')!;
  assert.equal(first.line, 6);
  assert.match(first.message, /`embed_dim` is 16 \(bound by `set embed_dim = 16` \(line 4\)\) but this rule needs 8/);
});

const HF_IDENTITY = `source ckpt/vit_hf.safetensors
target vitpkg/modeling_vit.py::ViTModel

embeddings.* -> embeddings.*
encoder.*    -> encoder.*
layernorm.*  -> layernorm.*
pooler.*     -> pooler.*
`;

test('a config.json beside the checkpoint binds config fields (HF ViT source, torch → torch)', async () => {
  const { ds, sides } = await check(HF_IDENTITY, path.join(FIXTURES, 'source'));
  assert.deepEqual(codes(ds), []);
  const side = target(sides);
  assert.equal(side.keys.length, 40);
  assert.match(side.info.bindings!.hidden_size.from, /^config\.json beside ckpt\/vit_hf\.safetensors$/);
  assert.match(side.info.bindings!.num_hidden_layers.from, /config\.json/);
});

test('model source as the source side: inferred shapes flow through `cat` into a fused Paddle checkpoint', async () => {
  const text = `source source/paddle_vit.py::VisionTransformer
target mapping/vit_paddle.pdparams
set num_classes = 0

patch_embedding.cls_token -> cls_token
[encoder.layers.{i}.attn.q.weight, encoder.layers.{i}.attn.k.weight, encoder.layers.{i}.attn.v.weight] -> blocks.{i}.attn.qkv.weight | cat(1)
encoder.layers.{i}.mlp.fc1.weight -> blocks.{i}.mlp.fc1.weight
`;
  const { ds, sides } = await check(text);
  assert.ok(sides.source?.ok);
  const src = sides.source.side;
  assert.equal(src.info.bindings!.embed_dim.value, 8);
  assert.deepEqual(src.tensors.get('encoder.layers.1.mlp.fc1.weight')!.shape, [8, 16]);
  assert.deepEqual(ds.filter((d) => d.severity === 'error' && d.code !== 'unmapped-target-key').map((d) => d.code), []);
});

test('a model source that cannot be read is an unreadable-checkpoint error on its line', async () => {
  const { ds } = await check('source mapping/vit_hf.safetensors\ntarget source/paddle_vit.py::ViT\n\nembeddings.cls_token -> cls_token\n');
  const err = ds.filter((d) => d.severity === 'error');
  assert.deepEqual(codes(ds.filter((d) => d.severity === 'error')), ['2 unreadable-checkpoint']);
  assert.match(err[0].message, /^target source\/paddle_vit\.py::ViT: no class or function `ViT` \(classes here: .*VisionTransformer\)$/);
});

test('re-analysing an unchanged mapping reuses the same side data (the rule cache stays warm)', async () => {
  const a = await check(VIT_TO_PADDLE_SOURCE);
  const b = await check(`${VIT_TO_PADDLE_SOURCE}# an edit elsewhere\n`);
  assert.equal(target(a.sides), target(b.sides));
});
