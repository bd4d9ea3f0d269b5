/**
 * The mapping analysis on real checkpoints made by torch (HF ViT, a Paddle-style ViT, HF CLIP vision,
 * T5 with its tied embedding): full correct mappings are clean, and every diagnostic code has a case
 * that raises it — on the line at fault — and a case that does not.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { analyzeMapping } from '../../server/src/mapping/analyze';
import { MappingDiagnostic } from '../../server/src/mapping/diagnostics';
import { positionAt } from '../../server/src/mapping/lineIndex';
import { parseMapping } from '../../server/src/mapping/parse';
import { loadSides } from '../../server/src/mapping/sides';
import { checkMappingFile } from '../../server/src/mapping/checkFile';
import { sparseSafetensors } from '../support/sparse';
import { FIXTURES, scratchDir } from '../support/tmp';
import { T5_TIED_RULES, VIT_TO_PADDLE_RULES } from '../support/mappings';

const DIR = path.join(FIXTURES, 'mapping');
const index = new CheckpointIndex();

type Found = MappingDiagnostic & { line: number };

async function check(text: string): Promise<Found[]> {
  const file = parseMapping(text);
  const sides = await loadSides(path.join(DIR, 'test.tpmap'), file, index);
  return analyzeMapping(file, sides).diagnostics.map((d) => ({ ...d, line: positionAt(file.lineStarts, d.start).line + 1 }));
}

const codes = (ds: Found[], severity?: string) => ds.filter((d) => !severity || d.severity === severity).map((d) => `${d.line} ${d.code}`);
const only = (ds: Found[], code: string) => ds.filter((d) => d.code === code);

const VIT_TO_PADDLE = `source vit_hf.safetensors\ntarget vit_paddle.pdparams\n${VIT_TO_PADDLE_RULES}`;

const VIT_TO_CLIP = `source vit_hf.safetensors
target clip_vision.safetensors

embeddings.cls_token -> vision_model.embeddings.class_embedding | squeeze(0) | squeeze(0)
embeddings.position_embeddings -> vision_model.embeddings.position_embedding.weight | squeeze(0)
embeddings.patch_embeddings.projection.weight -> vision_model.embeddings.patch_embedding.weight
embeddings.patch_embeddings.projection.bias -> drop
encoder.layer.{i}.layernorm_before.* -> vision_model.encoder.layers.{i}.layer_norm1.*
encoder.layer.{i}.attention.attention.query.* -> vision_model.encoder.layers.{i}.self_attn.q_proj.*
encoder.layer.{i}.attention.attention.key.* -> vision_model.encoder.layers.{i}.self_attn.k_proj.*
encoder.layer.{i}.attention.attention.value.* -> vision_model.encoder.layers.{i}.self_attn.v_proj.*
encoder.layer.{i}.attention.output.dense.* -> vision_model.encoder.layers.{i}.self_attn.out_proj.*
encoder.layer.{i}.layernorm_after.* -> vision_model.encoder.layers.{i}.layer_norm2.*
encoder.layer.{i}.intermediate.dense.* -> vision_model.encoder.layers.{i}.mlp.fc1.*
encoder.layer.{i}.output.dense.* -> vision_model.encoder.layers.{i}.mlp.fc2.*
layernorm.* -> vision_model.post_layernorm.*
pooler.* -> drop
`;

const T5_TIED = `source t5_hf.safetensors\ntarget t5_port_fp16.safetensors\n${T5_TIED_RULES}`;

test('ViT → Paddle ViT (fused qkv, every Linear transposed): no diagnostics at all', async () => {
  assert.deepEqual(codes(await check(VIT_TO_PADDLE)), []);
});

test('ViT → CLIP vision: clean but for what CLIP has and ViT lacks', async () => {
  const d = await check(VIT_TO_CLIP);
  assert.deepEqual(codes(d, 'warning'), []);
  assert.deepEqual(d.filter((x) => x.severity === 'error').map((x) => x.key),
    ['vision_model.pre_layrnorm.weight', 'vision_model.pre_layrnorm.bias', 'visual_projection.weight']);
  assert.deepEqual(only(d, 'unmapped-target-key').filter((x) => x.severity === 'information').map((x) => x.key), ['vision_model.embeddings.position_ids']);
  assert.ok(only(d, 'unmapped-target-key').every((x) => x.line === 2), 'on the target line');
});

test('T5 with the tied shared.weight feeding both embeddings, cast to fp16: clean', async () => {
  assert.deepEqual(codes(await check(T5_TIED)), []);
});

test('dtype-mismatch: fp32 into an fp16 target without a cast', async () => {
  const d = await check(T5_TIED.replace('shared.weight -> encoder.embed_tokens.weight | cast(F16)', 'shared.weight -> encoder.embed_tokens.weight'));
  assert.deepEqual(codes(d), ['4 dtype-mismatch']);
  assert.match(d[0].message, /source is F32, target is F16: convert writes it as F16, the target's dtype; add `\| cast\(F16\)` to say so/);
  assert.equal(d[0].severity, 'warning');
});

test('dtype-mismatch across kinds (a float into an integer target) is an error: convert would not guess it', async () => {
  const s = scratchDir('analysis-kinds');
  sparseSafetensors(path.join(s.dir, 'f.safetensors'), [['ids', [4]]]);
  sparseSafetensors(path.join(s.dir, 'i.safetensors'), [['ids', [4]]], 'I64', 8);
  const m = s.file('kinds.tpmap', 'source f.safetensors\ntarget i.safetensors\nids -> ids\n');
  const d = (await checkMappingFile(m, new CheckpointIndex())).analysis.diagnostics;
  assert.deepEqual(d.map((x) => [x.severity, x.code]), [['error', 'dtype-mismatch']]);
  assert.match(d[0].message, /^source is F32, target is I64: convert does not turn floats into integers unasked; add `\| cast\(I64\)` if the conversion is intended$/);
});

test('missing-transpose: by shape on a non-square Linear, by convention on a square one', async () => {
  const text = VIT_TO_PADDLE
    .replace('-> blocks.{i}.mlp.fc1.weight | transpose', '-> blocks.{i}.mlp.fc1.weight')
    .replace('-> blocks.{i}.attn.proj.weight | transpose', '-> blocks.{i}.attn.proj.weight');
  const d = await check(text);
  assert.deepEqual(codes(d), ['10 missing-transpose', '13 missing-transpose']);
  assert.match(d[0].message, /torch stores this Linear weight as \[out, in\], paddle as \[in, out\]: add `\| transpose` \(the square shape \[8, 8\] hides it\)/);
  assert.match(d[1].message, /source \[16, 8\] is target \[8, 16\] transposed: add `\| transpose`/);
  assert.deepEqual(d[1].fixes![0].edits[0].newText, ' | transpose');
});

test('extra-transpose: torch → torch with a transpose on a square matrix', async () => {
  const d = await check(VIT_TO_CLIP.replace(
    'encoder.layer.{i}.attention.attention.query.* -> vision_model.encoder.layers.{i}.self_attn.q_proj.*',
    'encoder.layer.{i}.attention.attention.query.weight -> vision_model.encoder.layers.{i}.self_attn.q_proj.weight | transpose\nencoder.layer.{i}.attention.attention.query.bias -> vision_model.encoder.layers.{i}.self_attn.q_proj.bias'));
  assert.deepEqual(codes(d, 'warning'), ['9 extra-transpose']);
});

test('shape-mismatch: the wrong Linear, transposed once too often', async () => {
  const d = await check(VIT_TO_PADDLE.replace('encoder.layer.{i}.output.dense.weight           -> blocks.{i}.mlp.fc2.weight | transpose',
    'encoder.layer.{i}.output.dense.weight           -> blocks.{i}.mlp.fc1.weight | transpose'));
  assert.ok(codes(d).includes('15 shape-mismatch'), codes(d).join('\n'));
  assert.ok(codes(d).includes('15 duplicate-target'));
  assert.ok(codes(d).includes('2 unmapped-target-key'));
  // The rule that fits (line 13) keeps no error: the duplicate is blamed on the wrong one.
  assert.deepEqual(d.filter((x) => x.line === 13).map((x) => `${x.severity} ${x.code}`), ['information duplicate-target']);
});

test('suspicious-pairing: query → k_proj (the seed note\'s slip), and {i} → a fixed layer', async () => {
  const d = await check(VIT_TO_CLIP
    .replace('encoder.layer.{i}.attention.attention.query.* -> vision_model.encoder.layers.{i}.self_attn.q_proj.*\nencoder.layer.{i}.attention.attention.key.* -> vision_model.encoder.layers.{i}.self_attn.k_proj.*',
      'encoder.layer.{i}.attention.attention.query.* -> vision_model.encoder.layers.{i}.self_attn.k_proj.*\nencoder.layer.{i}.attention.attention.key.* -> vision_model.encoder.layers.{i}.self_attn.q_proj.*')
    .replace('encoder.layer.{i}.layernorm_after.* -> vision_model.encoder.layers.{i}.layer_norm2.*', 'encoder.layer.{i}.layernorm_after.* -> vision_model.encoder.layers.0.layer_norm2.*'));
  const sp = only(d, 'suspicious-pairing');
  assert.deepEqual(sp.map((x) => x.line), [9, 10, 13]);
  assert.match(sp[0].message, /the attention query is mapped to the attention key/);
  assert.match(sp[2].message, /layer 1 is mapped to layer 0/);
});

test('unknown keys name the closest real keys and offer them as fixes', async () => {
  const d = await check(VIT_TO_PADDLE.replace('embeddings.cls_token                     -> cls_token', 'embeddings.cls_tokn -> cls_tokens'));
  const src = only(d, 'unknown-source-key')[0];
  assert.equal(src.line, 4);
  assert.match(src.message, /`embeddings\.cls_tokn` is not a key of the source \(vit_hf\.safetensors\); closest: `embeddings\.cls_token`/);
  assert.equal(src.fixes![0].edits[0].newText, 'embeddings.cls_token');
  const unk = await check(VIT_TO_PADDLE.replace('-> cls_token', '-> cls_tokens'));
  assert.equal(only(unk, 'unknown-target-key')[0].fixes![0].edits[0].newText, 'cls_token');
  const pat = await check(VIT_TO_PADDLE.replace('encoder.layer.{i}.layernorm_before.*', 'encoder.layers.{i}.layernorm_before.*'));
  assert.match(only(pat, 'unknown-source-key')[0].message, /matches no key of the source; closest: `encoder\.layer\.\{i\}\.layernorm_before\.\*`|closest: `encoder\.layer\.\{i\}\.layernorm_before\.\*`/);
});

test('unmapped source keys: one warning per key on the source line, with a drop fix', async () => {
  const d = await check(VIT_TO_PADDLE.replace('pooler.*    -> drop\n', ''));
  assert.deepEqual(only(d, 'unmapped-source-key').map((x) => `${x.line} ${x.key}`), ['1 pooler.dense.weight', '1 pooler.dense.bias']);
  assert.equal(only(d, 'unmapped-source-key')[0].fixes![0].edits[0].newText, 'pooler.dense.weight -> drop\n');
});

test('unreadable and missing checkpoints are errors on the directive, naming the reason', async () => {
  const d = await check('source missing.safetensors\ntarget ../torch/not_a_checkpoint.txt\na -> b\n');
  assert.deepEqual(codes(d), ['1 unreadable-checkpoint', '2 unreadable-checkpoint']);
  assert.match(d[0].message, /missing\.safetensors: no such file/);
  assert.match(d[1].message, /unknown checkpoint kind|no such file/);
});

test('parse errors and rules without directives', async () => {
  const d = await check('a.b -> c.d\nfoo ->\n');
  assert.deepEqual(codes(d), ['1 parse-error', '1 parse-error', '2 parse-error']);
});

test('a capture on the right must be bound on the left; `*` on both sides', async () => {
  const d = await check('source vit_hf.safetensors\ntarget vit_paddle.pdparams\nlayernorm.weight -> blocks.{j}.norm1.weight\nlayernorm.* -> norm.weight\n');
  assert.deepEqual(codes(d, 'error').filter((c) => c.includes('parse-error')), ['3 parse-error', '4 parse-error']);
});
