/**
 * GPT-NeoX's fused q/k/v is stored per head: the auto-mapper splits (and joins) it per head with the
 * head count from config.json, so converting with the proposed mapping gives the other layout byte for
 * byte (fixtures sliced as HF's forward pass does); a hand-written plain `chunk(3, k)` — every shape
 * fits — is flagged with the per-head form as a quick fix.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { generateMapping, generateMappingFile } from '../../server/src/mapping/automap/generate';
import { RuleCache, analyzeMapping } from '../../server/src/mapping/analyze';
import { checkMappingFile } from '../../server/src/mapping/checkFile';
import { parseMapping } from '../../server/src/mapping/parse';
import { loadSides } from '../../server/src/mapping/sides';
import { convertMapping } from '../../server/src/mapping/convert/convertMapping';
import { keyRole } from '../../server/src/mapping/roles';
import { assertSameTensors } from '../support/tensorBytes';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'neox');
const NEOX = path.join(DIR, 'model.safetensors');
const SPLIT = path.join(DIR, 'split.safetensors');
const tmp = scratchDir('neox');


test('GPT-NeoX names have their roles (attention.dense is the output projection, dense_h_to_4h/4h_to_h the MLP), and other families\' too', () => {
  assert.equal(keyRole('gpt_neox.layers.3.attention.dense.weight').role, 'o');
  assert.equal(keyRole('h.3.self_attention.dense.bias').role, 'o');
  assert.equal(keyRole('gpt_neox.layers.3.mlp.dense_h_to_4h.weight').role, 'ffn_in');
  assert.equal(keyRole('gpt_neox.layers.3.mlp.dense_4h_to_h.weight').role, 'ffn_out');
  assert.equal(keyRole('gpt_neox.layers.3.attention.query_key_value.weight').role, 'qkv');
  assert.equal(keyRole('embed_out.weight').role, 'head');
  // Falcon, Phi, MPT and Baichuan, as llama.cpp's name tables know them.
  assert.equal(keyRole('transformer.h.0.self_attention.dense.weight').role, 'o');
  assert.equal(keyRole('model.layers.0.self_attn.dense.weight').role, 'o');
  assert.equal(keyRole('transformer.blocks.0.attn.Wqkv.weight').role, 'qkv');
  assert.equal(keyRole('model.layers.0.self_attn.W_pack.weight').role, 'qkv');
  assert.deepEqual([keyRole('transformer.h.0.ln_attn.weight').normOrder, keyRole('transformer.h.0.ln_mlp.weight').normOrder], [1, 2]);
  // BERT's spelling is untouched.
  assert.equal(keyRole('bert.encoder.layer.0.attention.output.dense.weight').role, 'o');
  assert.equal(keyRole('bert.encoder.layer.0.output.dense.weight').role, 'ffn_out');
});

for (const [name, source, target] of [['NeoX → split q/k/v', NEOX, SPLIT], ['split q/k/v → NeoX', SPLIT, NEOX]] as const) {
  test(`${name}: the proposed mapping is per head and converts byte for byte`, async () => {
    const mapping = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.tpmap`);
    const g = await generateMappingFile(source, target, mapping);
    assert.equal(g.proposal.unmappedTarget.length, 0, g.text);
    if (source === NEOX) {
      assert.match(g.text, /query_key_value\.weight +-> layers\.\{i\}\.attn\.k_proj\.weight \| reshape\(2, 3, 4, 8\) \| chunk\(3, 1, 1\) \| reshape\(8, 8\) {2}# GPT-NeoX interleaves q, k and v per head \(2 heads, from config\.json\)/);
      assert.match(g.text, /query_key_value\.bias +-> layers\.\{i\}\.attn\.v_proj\.bias \| reshape\(2, 3, 4\) \| chunk\(3, 2, 1\) \| reshape\(8\)/);
    } else {
      assert.match(g.text, /-> gpt_neox\.layers\.\{i\}\.attention\.query_key_value\.weight \| reshape\(2, 1, 4, 8\) \| cat\(1\) \| reshape\(24, 8\)/);
    }
    const out = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.safetensors`);
    await convertMapping(mapping, out);
    await assertSameTensors(out, target);
  });
}

test('without config.json the layout is known from the key names, the head count is not: the rule says so', async () => {
  const g = await generateMapping(path.join(DIR, 'noconfig', 'model.safetensors'), SPLIT);
  const q = g.proposal.rules.find((r) => r.target === 'layers.0.attn.q_proj.weight')!;
  assert.deepEqual(q.transforms, ['chunk(3, 0)']);
  assert.ok(q.confidence <= 0.5);
  assert.match(g.text, /q_proj\.weight.*# low confidence \(0\.50\); GPT-NeoX interleaves q, k and v per head: put config\.json \(num_attention_heads\) beside the checkpoint/);
});

test('a plain chunk of the per-head qkv is suspicious-pairing, and its quick fix converts right', async () => {
  const lines = [`source ${NEOX}`, `target ${SPLIT}`];
  for (const [k, proj] of ['q_proj', 'k_proj', 'v_proj'].entries()) {
    for (const p of ['weight', 'bias']) lines.push(`gpt_neox.layers.{i}.attention.query_key_value.${p} -> layers.{i}.attn.${proj}.${p} | chunk(3, ${k})`);
  }
  lines.push('gpt_neox.layers.{i}.input_layernorm.* -> layers.{i}.attn_norm.*', 'gpt_neox.layers.{i}.post_attention_layernorm.* -> layers.{i}.mlp_norm.*',
    'gpt_neox.layers.{i}.attention.dense.* -> layers.{i}.attn.o_proj.*', 'gpt_neox.layers.{i}.mlp.dense_h_to_4h.* -> layers.{i}.mlp.fc1.*',
    'gpt_neox.layers.{i}.mlp.dense_4h_to_h.* -> layers.{i}.mlp.fc2.*', 'gpt_neox.embed_in.weight -> embed.weight',
    'gpt_neox.final_layer_norm.* -> norm.*', 'embed_out.weight -> lm_head.weight');
  let text = lines.join('\n') + '\n';
  const file = path.join(tmp.dir, 'plain.tpmap');
  const index = new CheckpointIndex();
  const check = async () => {
    tmp.file('plain.tpmap', text);
    return (await checkMappingFile(file, index)).analysis.diagnostics;
  };
  const ds = await check();
  const flagged = ds.filter((d) => d.code === 'suspicious-pairing');
  assert.equal(flagged.length, 6, JSON.stringify(ds.map((d) => d.message)));
  assert.equal(ds.filter((d) => d.severity === 'error').length, 0, 'every shape fits: nothing else would have said it');
  assert.match(flagged[2].message, /^GPT-NeoX \(config\.json\): `gpt_neox\.layers\.0\.attention\.query_key_value\.weight` holds each head's q, k and v in turn, so `chunk\(3, 1\)` takes the rows of a third of the heads, q, k and v mixed: interleave per head with `reshape\(2, 3, 4, 8\) \| chunk\(3, 1, 1\) \| reshape\(8, 8\)`/);
  // Apply every quick fix, last first so the offsets stay valid.
  for (const d of [...flagged].sort((a, b) => b.start - a.start)) {
    const e = d.fixes![0].edits[0];
    text = text.slice(0, e.start) + e.newText + text.slice(e.end);
  }
  const after = await check();
  assert.deepEqual(after.filter((d) => d.severity !== 'information'), []);
  const out = path.join(tmp.dir, 'fixed.safetensors');
  await convertMapping(file, out);
  await assertSameTensors(out, SPLIT);
});

test('a `*` rule over weight and bias is flagged without a single fix, naming the split to write', async () => {
  const text = `source ${NEOX}\ntarget ${SPLIT}\ngpt_neox.layers.{i}.attention.query_key_value.* -> layers.{i}.attn.q_proj.* | chunk(3, 0)\n`;
  const file = tmp.file('star.tpmap', text);
  const ds = (await checkMappingFile(file, new CheckpointIndex())).analysis.diagnostics.filter((d) => d.code === 'suspicious-pairing');
  assert.equal(ds.length, 1);
  assert.equal(ds[0].fixes, undefined);
  assert.match(ds[0].message, /write the weight and the bias as rules of their own, each split per head \(for this weight: `reshape\(2, 3, 4, 8\) \| chunk\(3, 0, 1\) \| reshape\(8, 8\)`\)/);
});

test('adding config.json beside the checkpoint updates a cached analysis: the warning gains its fix', async () => {
  const dir = path.join(tmp.dir, 'later');
  mkdirSync(dir, { recursive: true });
  copyFileSync(NEOX, path.join(dir, 'model.safetensors'));
  const text = `source model.safetensors\ntarget ${SPLIT}\ngpt_neox.layers.{i}.attention.query_key_value.weight -> layers.{i}.attn.q_proj.weight | chunk(3, 0)\n`;
  const file = parseMapping(text);
  const mappingPath = path.join(dir, 'm.tpmap');
  const index = new CheckpointIndex();
  const cache = new RuleCache();   // as the language server keeps one per open document
  const warning = async () => analyzeMapping(file, await loadSides(mappingPath, file, index), cache).diagnostics.find((d) => d.code === 'suspicious-pairing')!;
  const before = await warning();
  assert.match(before.message, /^GPT-NeoX \(key names\): .*put config\.json \(num_attention_heads\) beside the checkpoint/);
  assert.equal(before.fixes, undefined);
  copyFileSync(path.join(DIR, 'config.json'), path.join(dir, 'config.json'));
  const after = await warning();
  assert.match(after.message, /^GPT-NeoX \(config\.json\): .*interleave per head with `reshape\(2, 3, 4, 8\) \| chunk\(3, 0, 1\) \| reshape\(8, 8\)`/);
  assert.equal(after.fixes?.length, 1);
});