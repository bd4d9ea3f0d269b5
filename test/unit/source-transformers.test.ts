/**
 * Model source on the files people port: the modeling files of the pinned transformers, read in place
 * in the Python test environment's site-packages (never copied). The truth is the real classes'
 * state_dict() (test/python/model_truth.py builds each on the meta device): with the configuration
 * class's defaults and nothing beside the file, and with a changed config as `config.json` beside the
 * file (a link to it in a scratch folder, as a hub repo with remote code has it) and through `--config`.
 * Exact means the same keys in the same order with the same shapes.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { lintMaskDtypes } from '../../server/src/source/maskLint';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const env = testPython();
const TRUTH = path.join(__dirname, '..', 'python', 'model_truth.py');

interface Case { name: string; file: string; class: string; default: Record<string, number[]>; given: { config: object; keys: Record<string, number[]> } }

let cases: Case[] | undefined;
function truth(): Case[] {
  cases ??= JSON.parse(runPython(env.python!, [TRUTH])) as Case[];
  return cases;
}

async function ours(spec: string): Promise<[string, (number | string)[]][]> {
  const info = await readModelSource(spec);
  return info.tensors.map((t) => [t.key, t.shape.map((d, i) => (Number.isNaN(d) ? (t.dims?.[i] ?? '?') : d))]);
}

test('28 transformers classes: the keys, order and shapes of state_dict() with the config class\'s defaults', { skip: env.skip, timeout: 300_000 }, async () => {
  const all = truth();
  assert.ok(all.length >= 28, `${all.length} cases`);
  for (const c of all) {
    assert.deepEqual(await ours(`${c.file}::${c.class}`), Object.entries(c.default), `${c.name}: ${c.class} in ${c.file}`);
  }
});

test('the same classes with a changed config.json beside the file: counts, sizes and switches (cross-attention, gated FFN) follow it', { skip: env.skip, timeout: 300_000 }, async () => {
  const tmp = scratchDir('hf-config').dir;
  for (const c of truth()) {
    const dir = path.join(tmp, c.name);
    mkdirSync(dir);
    symlinkSync(c.file, path.join(dir, path.basename(c.file)));
    writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c.given.config));
    const got = await ours(`${path.join(dir, path.basename(c.file))}::${c.class}`);
    assert.deepEqual(got, Object.entries(c.given.keys), `${c.name} with ${JSON.stringify(c.given.config).slice(0, 120)}…`);
  }
});

test('keys --config: the CLI builds the model with the named config and says where the values came from', { skip: env.skip, timeout: 300_000 }, () => {
  const t5 = truth().find((c) => c.name === 't5')!;
  const cfg = path.join(scratchDir('hf-config-cli').dir, 'gated.json');
  writeFileSync(cfg, JSON.stringify(t5.given.config));
  const r = runCli(['keys', `${t5.file}::T5Model`, '--json', '--config', cfg]);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.deepEqual(doc.tensors.map((t: { key: string }) => t.key), Object.keys(t5.given.keys));
  assert.ok(doc.tensors.some((t: { key: string }) => t.key.endsWith('DenseReluDense.wi_0.weight')), 'gated-gelu gives wi_0/wi_1');
  assert.equal(doc.notes[0], `built with the values of ${cfg}`);
  assert.equal(doc.config.num_layers, 2);
  const bad = runCli(['keys', `${t5.file}::T5Model`, '--config', path.join(path.dirname(cfg), 'missing.json')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /missing\.json: cannot be read as a config file/);
  assert.equal(bad.err.trim().split('\n').length, 1);
});

test('weight tying: GPT-2\'s lm_head.weight is tied to transformer.wte.weight (LLaMA\'s is not), and a mapping from the saved checkpoint that lacks it is clean', { skip: env.skip, timeout: 300_000 }, async () => {
  const byName = new Map(truth().map((c) => [c.name, c]));
  const gpt2 = await readModelSource(`${byName.get('gpt2')!.file}::GPT2LMHeadModel`);
  assert.deepEqual(gpt2.tensors.filter((t) => t.tiedTo).map((t) => [t.key, t.tiedTo]), [['lm_head.weight', 'transformer.wte.weight']]);
  assert.ok(gpt2.notes.some((n) => n.includes('`save_pretrained` writes only `transformer.wte.weight`')), gpt2.notes.join('\n'));
  const llama = await readModelSource(`${byName.get('llama')!.file}::LlamaForCausalLM`);
  assert.equal(llama.tensors.filter((t) => t.tiedTo).length, 0, 'tie_word_embeddings is False in LlamaConfig');
  // transformers' save_pretrained dropped lm_head.weight from this real file (test/fixtures/real/make_real.py).
  const saved = path.join(__dirname, '..', 'fixtures', 'real', 'hf', 'gpt2_tied', 'model.safetensors');
  const map = path.join(scratchDir('tied').dir, 'gpt2.tpmap');
  writeFileSync(map, [`source ${saved}`, `target ${byName.get('gpt2')!.file}::GPT2LMHeadModel`, '',
    'transformer.wte.weight -> transformer.wte.weight', 'transformer.wpe.weight -> transformer.wpe.weight',
    'transformer.h.{i}.* -> transformer.h.{i}.*', 'transformer.ln_f.* -> transformer.ln_f.*', ''].join('\n'));
  const r = runCli(['check', map, '--json']);
  assert.equal(r.code, 0, r.out);
  const doc = JSON.parse(r.out);
  assert.deepEqual(doc.diagnostics.map((d: { severity: string; code: string }) => [d.severity, d.code]), [['information', 'unmapped-target-key']]);
  assert.match(doc.diagnostics[0].message, /`lm_head.weight` is tied to `transformer.wte.weight`, which is written/);
});

test('the fp16 mask lint on the same files: none reported — transformers builds masks in the activations\' dtype, and a padding mask handed to its create_causal_mask is its to convert', { skip: env.skip, timeout: 300_000 }, async () => {
  const files = [...new Set(truth().map((c) => c.file))];
  const reported: string[] = [];
  for (const f of files) for (const d of await lintMaskDtypes(f, readFileSync(f, 'utf8'))) reported.push(`${f}:${d.line + 1}: ${d.message}`);
  assert.deepEqual(reported, []);
  // The float32 causal mask of transformers 4.20's CLIP text model is still found (installed apart, read in place).
  const clip = path.join(__dirname, '..', 'python', '.venv', 'corpus-4.20', 'transformers', 'models', 'clip', 'modeling_clip.py');
  assert.equal((await lintMaskDtypes(clip, readFileSync(clip, 'utf8'))).length, 1);
});
