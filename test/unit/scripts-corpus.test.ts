/**
 * Conversion scripts on real code: transformers' own `convert_*.py` scripts (read in place from the
 * copy of transformers 4.46 test/python/ensure-venv.mjs installs, with a `# tensorport:` comment added
 * to a scratch copy) checked against checkpoints the real libraries wrote (timm, open_clip,
 * transformers; Meta's and OLMo's layouts by torch.save: test/fixtures/scripts-corpus/make_corpus.py).
 * Each correct script is clean — branches the checkpoints rule out, permutations inside helpers and
 * over shards, fused q/k/v slices all understood — and each fault planted in it is reported on its line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { ScriptDiagnostic, checkScript, scanScript } from '../../server/src/scripts/scriptPairs';
import { CASES, CorpusCase, corpusMissing, scriptCopy, withDirective } from '../support/scriptCorpus';

const skip = corpusMissing() ?? false;
const index = new CheckpointIndex();
const byName = (name: string): CorpusCase => CASES.find((c) => c.script.includes(name))!;

async function check(c: CorpusCase, edit: (t: string) => string = (t) => t, source?: string) {
  const text = edit(withDirective(c, source));
  const file = scriptCopy(c, text);
  return { text, ds: await checkScript(file, text, index) };
}
function replace(from: string, to: string) {
  return (t: string) => {
    assert.ok(t.includes(from), `the script contains ${from}`);
    return t.replace(from, to);
  };
}
/** The line (1-based, as in an editor) a diagnostic sits on, and that line's text. */
const lineOf = (text: string, d: ScriptDiagnostic) => text.split('\n')[d.line];
const codes = (ds: ScriptDiagnostic[]) => ds.map((d) => `${d.code}@${d.line + 1}`);

test('every script of the corpus is clean against its real checkpoints, and most have pairs to check', { skip }, async () => {
  let withPairs = 0;
  for (const c of CASES) {
    const { text, ds } = await check(c);
    assert.deepEqual(ds.map((d) => `${d.code}: ${d.message}`), [], `${c.script} is clean`);
    if ((await scanScript(scriptCopy(c, text), text)).pairs.length) withPairs++;
  }
  assert.ok(CASES.length >= 12 && withPairs >= 10, `${withPairs} of ${CASES.length} scripts have pairs`);
  // The sharded path of the LLaMA script against one shard of a two-shard checkpoint.
  const sharded = await check(byName('llama'), (t) => t, 'llama_meta_2shards/consolidated.00.pth');
  assert.deepEqual(sharded.ds, []);
});

test('ViT (timm): the final LayerNorm renamed to `layernorm.weight` in the branch the checkpoints take is an error there, with the right key offered', { skip }, async () => {
  const { text, ds } = await check(byName('vit_timm'), replace('("norm.weight", "vit.layernorm.weight")', '("norm.weight", "layernorm.weight")'));
  assert.equal(ds.length, 1, codes(ds).join());
  assert.equal(ds[0].code, 'unknown-target-key');
  assert.match(lineOf(text, ds[0]), /\("norm\.weight", "layernorm\.weight"\),/);
  assert.match(lineOf(text, ds[0]), /^ {16}/, 'the else branch, not the base-model one');
  assert.match(ds[0].message, /closest: `vit\.layernorm\.weight`/);
});

test('ViT (timm): norm1/norm2 swapped and a typo are found on their lines', { skip }, async () => {
  const swapped = await check(byName('vit_timm'), replace('(f"blocks.{i}.norm1.weight", f"vit.encoder.layer.{i}.layernorm_before.weight")', '(f"blocks.{i}.norm2.weight", f"vit.encoder.layer.{i}.layernorm_before.weight")'));
  assert.deepEqual(swapped.ds.map((d) => d.code), ['suspicious-pairing']);
  assert.match(lineOf(swapped.text, swapped.ds[0]), /blocks\.\{i\}\.norm2\.weight", f"vit\.encoder\.layer\.\{i\}\.layernorm_before/);
  const typo = await check(byName('vit_timm'), replace('(f"blocks.{i}.mlp.fc2.bias"', '(f"blocks.{i}.mlp.fc2.bais"'));
  assert.deepEqual(typo.ds.map((d) => d.code), ['unknown-source-key']);
  assert.match(lineOf(typo.text, typo.ds[0]), /mlp\.fc2\.bais/);
  assert.match(typo.ds[0].message, /closest: `blocks\.\{i\}\.mlp\.fc2\.bias`/);
});

test('DeiT: the pooler pairs under `if base_model:` are not this port\'s (no pre_logits in timm\'s DeiT), so nothing is said of them', { skip }, async () => {
  const c = byName('deit');
  const { text } = await check(c);
  assert.match(text, /\("pre_logits\.fc\.weight", "pooler\.dense\.weight"\)/);
  // …but a typo in the branch that is taken still is an error.
  const typo = await check(c, replace('("head_dist.weight", "distillation_classifier.weight")', '("head_dist.weight", "distilation_classifier.weight")'));
  assert.deepEqual(typo.ds.map((d) => d.code), ['unknown-target-key']);
  assert.match(lineOf(typo.text, typo.ds[0]), /distilation_classifier/);
});

test('fused q/k/v slices: a slice of the wrong size is an error on its line; q and k slices exchanged are a warning on both', { skip }, async () => {
  const c = byName('vit_timm');
  const wrong = await check(c, replace('in_proj_weight[\n            config.hidden_size : config.hidden_size * 2, :\n        ]', 'in_proj_weight[\n            config.hidden_size : config.hidden_size * 3, :\n        ]'));
  assert.deepEqual(wrong.ds.map((d) => d.code), ['shape-mismatch']);
  assert.match(lineOf(wrong.text, wrong.ds[0]), /config\.hidden_size : config\.hidden_size \* 3, :/);
  assert.match(wrong.ds[0].message, /takes rows 16–48 \(32\) of `blocks\.0\.attn\.qkv\.weight` \[48, 16\], but `vit\.encoder\.layer\.0\.attention\.attention\.key\.weight` has 16 rows/);
  const swapped = await check(c, (t) => replace('in_proj_bias[: config.hidden_size]', 'in_proj_bias[config.hidden_size : config.hidden_size * 2]')(
    replace('in_proj_bias[\n            config.hidden_size : config.hidden_size * 2\n        ]', 'in_proj_bias[: config.hidden_size]')(t)));
  assert.deepEqual(swapped.ds.map((d) => d.code), ['suspicious-pairing', 'suspicious-pairing']);
  assert.match(swapped.ds[0].message, /takes rows 16–32 of `blocks\.0\.attn\.qkv\.bias`, where a fused q\/k\/v tensor holds k, but writes `vit\.encoder\.layer\.0\.attention\.attention\.query\.bias` \(q\)/);
  assert.match(swapped.ds[1].message, /takes rows 0–16 .* holds q, but writes `vit\.encoder\.layer\.0\.attention\.attention\.key\.bias` \(k\)/);
  assert.match(lineOf(swapped.text, swapped.ds[1]), /in_proj_bias\[: config\.hidden_size\]/);
  const olmo = await check(byName('olmo'), replace('q_proj_weight, k_proj_weight, v_proj_weight = torch.split(', 'k_proj_weight, q_proj_weight, v_proj_weight = torch.split('));
  assert.ok(olmo.ds.length >= 1 && olmo.ds.every((d) => d.code === 'shape-mismatch' || d.code === 'suspicious-pairing'), codes(olmo.ds).join());
  const chunk = await check(byName('olmo'), replace('loaded[f"transformer.blocks.{layer_i}.ff_proj.weight"], 2, dim=0', 'loaded[f"transformer.blocks.{layer_i}.ff_proj.weight"], 3, dim=0'));
  assert.ok(chunk.ds.length >= 1 && chunk.ds.every((d) => d.code === 'shape-mismatch'), codes(chunk.ds).join());
});

test('LLaMA: q/k permuted by the helper `permute` (single shard or over shards) is clean; a q written without it is the rotary warning on its line', { skip }, async () => {
  const c = byName('llama');
  const { text, ds } = await check(c, replace('permute(\n                        loaded[f"layers.{layer_i}.attention.wq.weight"], n_heads=n_heads\n                    )', 'loaded[f"layers.{layer_i}.attention.wq.weight"]'));
  assert.deepEqual(ds.map((d) => d.code), ['suspicious-pairing']);
  assert.match(lineOf(text, ds[0]), /"model\.layers\.\{layer_i\}\.self_attn\.q_proj\.weight": loaded\[f"layers\.\{layer_i\}\.attention\.wq\.weight"\]/);
  assert.match(ds[0].message, /LLaMA's q rows need the rotary permutation/);
  const extra = await check(c, replace('loaded[f"layers.{layer_i}.feed_forward.w2.weight"],', 'loaded[f"layers.{layer_i}.feed_forward.w2.weight"].T,'));
  assert.deepEqual(extra.ds.map((d) => d.code), ['shape-mismatch']);
  assert.match(lineOf(extra.text, extra.ds[0]), /feed_forward\.w2\.weight"\]\.T/);
});
