/**
 * Conversion scripts checked as mappings: a .py/.ts file with `# tensorport: source=… target=…` has its
 * key pairs (HF `rename_keys`, PaddleNLP name mappings, %-/format-template dicts, `new[b] = old[a]`)
 * checked against the real checkpoints — unknown keys with suggestions on the literal, layer counts,
 * transposes only where the script leaves no doubt — and hover on any key string shows its tensors.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { checkpointSides, hoverKeyString } from '../../server/src/scripts/keyStringHover';
import { ScriptDiagnostic, checkScript, scanScript } from '../../server/src/scripts/scriptPairs';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'source', 'scripts');
const HF = path.join(DIR, 'convert_vit_paddle_to_hf.py');
const NLP = path.join(DIR, 'paddlenlp_bert_mappings.py');
const CLIP = path.join(DIR, 'clip_vision_to_vit.py');
const TS = path.join(DIR, 'vit_keys.ts');
const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const index = new CheckpointIndex();

const read = (file: string) => readFileSync(file, 'utf8');
/** The text a diagnostic sits on (single-line ranges). */
const on = (text: string, d: ScriptDiagnostic) => text.split('\n')[d.line].slice(d.column, d.endColumn);
const check = (file: string, edit: (t: string) => string = (t) => t) => {
  const text = edit(read(file));
  return checkScript(file, text, index).then((ds) => ({ text, ds }));
};
const edit = (from: string, to: string) => (t: string) => {
  assert.ok(t.includes(from), `the fixture contains ${from}`);
  return t.replace(from, to);
};

test('the four correct scripts are clean, and each is read for all its pairs', async () => {
  // HF's 22: 16 renames and the 6 parts of the fused qkv it splits.
  for (const [file, pairs] of [[HF, 22], [NLP, 23], [CLIP, 23], [TS, 4]] as const) {
    const text = read(file);
    const scan = await scanScript(file, text);
    assert.equal(scan.pairs.length, pairs, `${path.basename(file)}: pairs found`);
    assert.deepEqual(await checkScript(file, text, index), [], `${path.basename(file)} is clean`);
  }
});

test('HF rename_keys: a typo in an f-string target is unknown-target-key on that literal, with the real pattern offered', async () => {
  const { text, ds } = await check(HF, edit('f"encoder.layer.{i}.layernorm_before.weight"', 'f"encoder.layer.{i}.layernorm_befor.weight"'));
  assert.equal(ds.length, 1);
  const [d] = ds;
  assert.equal(d.code, 'unknown-target-key');
  assert.equal(d.severity, 'error');
  assert.equal(on(text, d), 'f"encoder.layer.{i}.layernorm_befor.weight"');
  assert.equal(d.key, 'encoder.layer.{i}.layernorm_befor.weight');
  assert.match(d.message, /matches no key of the target \(\.\.\/\.\.\/mapping\/vit_hf\.safetensors\); closest: `encoder\.layer\.\{i\}\.layernorm_before\.weight`/);
});

test('HF rename_keys.extend: a typo in a plain source string is unknown-source-key on it; the target is still checked', async () => {
  const { text, ds } = await check(HF, edit('("patch_embed.proj.bias", "embeddings.patch_embeddings.projection.bias")', '("patch_embed.projj.bias", "embeddings.patch_embeddings.projection.biass")'));
  assert.deepEqual(ds.map((d) => [d.code, on(text, d)]), [
    ['unknown-source-key', '"patch_embed.projj.bias"'],
    ['unknown-target-key', '"embeddings.patch_embeddings.projection.biass"'],
  ]);
  assert.match(ds[0].message, /closest: `patch_embed\.proj\.bias`/);
  assert.match(ds[1].message, /closest: `embeddings\.patch_embeddings\.projection\.bias`/);
});

test('a %-template dict and a str.format dict are checked with `{i}` over every layer', async () => {
  const { text, ds } = await check(CLIP, (t) => edit('"vision_model.encoder.layers.{}.layer_norm2.bias"', '"vision_model.encoder.layers.{}.layer_norm_2.bias"')(
    edit('"encoder.layer.%d.output.dense.bias"', '"encoder.layers.%d.output.dense.bias"')(t)));
  assert.deepEqual(ds.map((d) => [d.code, on(text, d)]), [
    ['unknown-target-key', '"encoder.layers.%d.output.dense.bias"'],
    ['unknown-source-key', '"vision_model.encoder.layers.{}.layer_norm_2.bias"'],
  ]);
  assert.match(ds[0].message, /`encoder\.layers\.\{i\}\.output\.dense\.bias` matches no key .*closest: `encoder\.layer\.\{i\}\.output\.dense\.bias`/);
});

test('f-string pairs over layers meet a deeper target: layer-count-mismatch on every layer pair, as in a tpmap', async () => {
  const { text, ds } = await check(NLP, edit('paddlenlp_bert_tiny.pdparams', 'paddlenlp_bert_deeper.pdparams'));
  assert.equal(ds.length, 16, 'one per f-string pair of the layer loop');
  for (const d of ds) {
    assert.equal(d.code, 'layer-count-mismatch');
    assert.match(on(text, d), /^f"bert\.encoder\.layers\.\{layer_index\}\./);
    assert.match(d.message, /`\{layer_index\}` takes 0, 1 \(2 values\) in the source but 0–2 \(3 values\) in the target/);
  }
});

test('a square Linear torch → paddle without PaddleNLP\'s "transpose" is missing-transpose, on the pair, for every layer', async () => {
  const { text, ds } = await check(NLP, edit('f"bert.encoder.layers.{layer_index}.self_attn.out_proj.weight", "transpose"]', 'f"bert.encoder.layers.{layer_index}.self_attn.out_proj.weight"]'));
  assert.equal(ds.length, 1);
  const [d] = ds;
  assert.equal(d.code, 'missing-transpose');
  assert.equal(on(text, d), '[f"bert.encoder.layer.{layer_index}.attention.output.dense.weight", f"bert.encoder.layers.{layer_index}.self_attn.out_proj.weight"]');
  assert.match(d.message, /torch stores this Linear weight as \[out, in\], paddle as \[in, out\]: the script must transpose it \(the square shape \[16, 16\] hides it\) \(and 1 more instance of this pair\); nothing in the script transposes this pair/);
});

test('…but not when some other code of the script transposes weights it does not tie to a pair', async () => {
  const loose = '\n\ndef fix_linear_weights(state_dict):\n    for k, v in state_dict.items():\n        if v.ndim == 2:\n            state_dict[k] = v.T\n';
  const { ds } = await check(NLP, (t) => edit('f"bert.encoder.layers.{layer_index}.self_attn.out_proj.weight", "transpose"]', 'f"bert.encoder.layers.{layer_index}.self_attn.out_proj.weight"]')(t) + loose);
  assert.deepEqual(ds, []);
});

test('HF script: a weight left out of transpose_keys is missing-transpose (square and not), a qkv transposed by hand is not a pair', async () => {
  const square = await check(HF, edit('"attn.proj.weight", ', ''));
  assert.deepEqual(square.ds.map((d) => d.code), ['missing-transpose']);
  assert.equal(on(square.text, square.ds[0]), '(f"blocks.{i}.attn.proj.weight", f"encoder.layer.{i}.attention.output.dense.weight")');
  assert.match(square.ds[0].message, /paddle stores this Linear weight as \[in, out\], torch as \[out, in\].*square shape \[8, 8\]/);
  const wide = await check(HF, edit('"mlp.fc1.weight", ', ''));
  assert.deepEqual(wide.ds.map((d) => d.code), ['missing-transpose']);
  assert.match(wide.ds[0].message, /source \[8, 16\] is target \[16, 8\] transposed/);
});

test('a transpose the script surely applies where none is needed: shape-mismatch naming why', async () => {
  const { text, ds } = await check(NLP, edit('"bert.embeddings.word_embeddings.weight"]', '"bert.embeddings.word_embeddings.weight", "transpose"]'));
  assert.equal(ds.length, 1);
  assert.equal(ds[0].code, 'shape-mismatch');
  assert.equal(on(text, ds[0]), '"bert.embeddings.word_embeddings.weight"');
  assert.match(ds[0].message, /becomes \[16, 40\] but target .* is \[40, 16\]: the transpose is one too many \(the script transposes it: PaddleNLP's `"transpose"` action\)/);
});

test('statement pairs new[b] = old[a]: `.T` in the statement counts, slicing makes it keys-only, a plain copy of a Linear is missing-transpose', async () => {
  const file = path.join(DIR, 'inline.py');
  const text = [
    '# tensorport: source=../../examples/bert-to-paddlenlp/hf_bert_tiny.safetensors target=../../examples/bert-to-paddlenlp/paddlenlp_bert_tiny.pdparams',
    'def convert(sd, new):',
    '    new["bert.pooler.dense.weight"] = sd.pop("bert.pooler.dense.weight").T',
    '    new["bert.encoder.layers.0.linear1.weight"] = torch.from_numpy(sd["bert.encoder.layer.0.intermediate.dense.weight"].numpy()).t()',
    '    new["bert.encoder.layers.0.linear2.weight"] = sd["bert.encoder.layer.0.output.dense.weight"][:, :8]',
    '    new["bert.encoder.layers.0.self_attn.out_proj.weight"] = sd["bert.encoder.layer.0.attention.output.dense.weight"]',
    '    new["bert.encoder.layers.0.norm1.weight"] = sd["bert.encoder.layer.0.attention.output.LayerNorm.weigth"]',
    '',
  ].join('\n');
  const ds = await checkScript(file, text, index);
  assert.deepEqual(ds.map((d) => [d.line, d.code]), [[5, 'missing-transpose'], [6, 'unknown-source-key']]);
  assert.equal(on(text, ds[1]), '"bert.encoder.layer.0.attention.output.LayerNorm.weigth"');
});

test('order=target,source reads each pair the other way round', async () => {
  const { ds } = await check(NLP, edit('# tensorport: source=', '# tensorport: order=target,source source='));
  assert.ok(ds.length >= 4);
  assert.ok(ds.some((d) => d.code === 'unknown-source-key' && d.key === 'bert.embeddings.layer_norm.weight'));
  assert.ok(ds.some((d) => d.code === 'unknown-target-key' && d.key === 'bert.embeddings.LayerNorm.weight'));
});

test('lists that name no key of either side are not key lists; names that are not layer numbers are not captures', async () => {
  const file = path.join(DIR, 'inline.py');
  const text = [
    '# tensorport: source=../../mapping/vit_paddle.pdparams target=../../mapping/vit_hf.safetensors',
    'FILES = [("pytorch_model.bin", "model.safetensors"), ("config.json", "preprocessor_config.json")]',
    'DTYPES = {"float16": "torch.float16", "bfloat16": "torch.bfloat16"}',
    'keys_to_ignore = ["head.weight", "head.bias"]',
    'def prefixed(prefix):',
    '    return [(f"{prefix}.norm.weight", "layernorm.weight")]',
    '',
  ].join('\n');
  assert.deepEqual(await checkScript(file, text, index), []);
  assert.deepEqual(await checkScript(path.join(DIR, 'plain.py'), 'rename_keys = [("a.b", "c.d")]\n', index), [], 'no comment, no check');
});

test('a broken comment or a missing checkpoint is reported on the comment', async () => {
  const bad = await check(NLP, edit('target=../../examples', 'targt=../../examples'));
  assert.deepEqual(bad.ds.map((d) => d.code), ['parse-error', 'parse-error']);
  assert.match(bad.ds[0].message, /the tensorport comment needs target=PATH/);
  assert.match(bad.ds[1].message, /unknown setting `targt`/);
  const missing = await check(NLP, edit('paddlenlp_bert_tiny.pdparams', 'nothere.pdparams'));
  assert.equal(missing.ds.length, 1);
  assert.equal(missing.ds[0].code, 'unreadable-checkpoint');
  assert.equal(on(missing.text, missing.ds[0]), '../../examples/bert-to-paddlenlp/nothere.pdparams');
});

test('TypeScript: template literals in a pushed key table, typo reported on the literal', async () => {
  const { text, ds } = await check(TS, edit('`encoder.layer.${i}.intermediate.dense.weight`', '`encoder.layer.${i}.intermediate.dense.weigh`'));
  assert.equal(ds.length, 1);
  assert.equal(ds[0].code, 'unknown-target-key');
  assert.equal(on(text, ds[0]), '`encoder.layer.${i}.intermediate.dense.weigh`');
});

let checkpoints: CheckpointInfo[] | undefined;
async function ckpts(): Promise<CheckpointInfo[]> {
  checkpoints ??= await Promise.all(['vit_hf.safetensors', 'vit_paddle.pdparams', 'clip_vision.safetensors']
    .map((f) => readCheckpoint(path.join(FIXTURES, 'mapping', f), { displayName: f })));
  return checkpoints;
}

async function hoverOn(file: string, needle: string) {
  const text = read(file);
  const lines = text.split('\n');
  const line = lines.findIndex((l) => l.includes(needle));
  assert.ok(line >= 0, `${needle} is in the fixture`);
  return hoverKeyString(file, text, line, lines[line].indexOf(needle) + 3, checkpointSides(await ckpts()));
}

test('hover on an f-string key: every layer of the checkpoint that has it, folded, with dtype and shape', async () => {
  const h = await hoverOn(HF, 'f"blocks.{i}.mlp.fc1.weight"');
  assert.ok(h);
  assert.match(h.markdown, /^\*\*`blocks\.\{i\}\.mlp\.fc1\.weight`\*\*/);
  assert.match(h.markdown, /\| `vit_paddle\.pdparams` \| `blocks\.\{0–1\}\.mlp\.fc1\.weight` \| F32 \| `\[8, 16\]` \| `\[in, out\]` \|/);
  assert.doesNotMatch(h.markdown, /vit_hf|clip_vision/);
  const text = read(HF).split('\n');
  assert.equal(text[h.range.line].slice(h.range.column, h.range.endColumn), 'f"blocks.{i}.mlp.fc1.weight"');
});

test('hover on a %-template, a transpose_keys entry (keys that end in it) and a TS template; nothing on other strings', async () => {
  const pct = await hoverOn(CLIP, '"vision_model.encoder.layers.%d.self_attn.q_proj.weight"');
  assert.match(pct!.markdown, /\| `clip_vision\.safetensors` \| `vision_model\.encoder\.layers\.\{0–1\}\.self_attn\.q_proj\.weight` \| F32 \| `\[8, 8\]` \| `\[out, in\]` \|/);
  const suffix = await hoverOn(HF, '"attn.proj.weight"');
  assert.match(suffix!.markdown, /keys ending in `attn\.proj\.weight`/);
  assert.match(suffix!.markdown, /`blocks\.\{0–1\}\.attn\.proj\.weight` \| F32 \| `\[8, 8\]`/);
  const ts = await hoverOn(TS, '`vision_model.encoder.layers.${i}.mlp.fc1.weight`');
  assert.match(ts!.markdown, /`vision_model\.encoder\.layers\.\{0–1\}\.mlp\.fc1\.weight` \| F32 \| `\[16, 8\]`/);
  assert.equal(await hoverOn(HF, '"--paddle_path"'), undefined);
  assert.equal(await hoverOn(HF, 'import argparse'), undefined);
});

test('tensorport check script.py reports the script\'s findings and exits 1', () => {
  const clean = spawnSync(process.execPath, [CLI, 'check', NLP, CLIP, '--json'], { encoding: 'utf8' });
  assert.equal(clean.status, 0, clean.stderr);
  assert.equal(JSON.parse(clean.stdout).summary.errors, 0);
  // A copy elsewhere, its comment naming the checkpoints by absolute path.
  const examples = path.join(FIXTURES, 'examples', 'bert-to-paddlenlp');
  const text = read(NLP)
    .replace(/source=\S+ target=\S+/, `source=${path.join(examples, 'hf_bert_tiny.safetensors')} target=${path.join(examples, 'paddlenlp_bert_tiny.pdparams')}`)
    .replace('"bert.pooler.dense.bias"]', '"bert.pooler.dense.biass"]');
  const file = scratchDir('script').file('mappings.py', text);
  const r = spawnSync(process.execPath, [CLI, 'check', file, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.diagnostics.length, 1);
  const d = out.diagnostics[0];
  assert.equal(d.code, 'unknown-target-key');
  assert.equal(d.key, 'bert.pooler.dense.biass');
  assert.equal(text.split('\n')[d.line - 1].slice(d.column - 1, d.endColumn - 1), '"bert.pooler.dense.biass"');
});
