/**
 * transformers classes whose keys hang on config logic beyond plain fields, compared with the real
 * state_dict() the pinned transformers builds (test/python/constructs_truth.py): `num_labels` from the
 * library's `PreTrainedConfig.__post_init__` (2 when no `id2label` is given, a soft default a binding
 * overrides), membership tests on config values, layer schedules, generic heads of modeling_layers.py,
 * and sizes computed by helpers of the model file.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const env = testPython();
const TRUTH = path.join(__dirname, '..', 'python', 'constructs_truth.py');

type Row = [string, number[], string];
interface HfCase { hf: string; class: string; config: string; changes?: object; suffix?: string }

function truth(cases: object[]): { file: string; keys: Row[] }[] {
  return JSON.parse(runPython(env.python!, [TRUTH, JSON.stringify(cases)], { timeoutMs: 240_000 })) as { file: string; keys: Row[] }[];
}

/** Each case read twice: with the class's defaults, and with its changes as the config.json save_pretrained writes beside a link to the file. */
async function assertExact(name: string, cases: HfCase[]): Promise<void> {
  const tmp = scratchDir(name).dir;
  const withSave = cases.map((c, i) => ({ ...c, save_to: path.join(tmp, String(i)) }));
  for (const c of withSave) mkdirSync(c.save_to);
  const defaults = truth(cases.map((c) => ({ ...c, changes: {} })));
  const given = truth(withSave);
  for (const [i, c] of cases.entries()) {
    const plain = await readModelSource(`${defaults[i].file}::${c.class}`);
    assert.deepEqual(plain.tensors.map((t) => [t.key, t.shape, t.dtype]), defaults[i].keys, `${c.class} with its defaults`);
    assert.deepEqual(plain.incomplete ?? [], [], `${c.class} with its defaults: no gaps`);
    const link = path.join(withSave[i].save_to, path.basename(given[i].file));
    symlinkSync(given[i].file, link);
    const saved = await readModelSource(`${link}::${c.class}`);
    assert.deepEqual(saved.tensors.map((t) => [t.key, t.shape, t.dtype]), given[i].keys, `${c.class} with ${JSON.stringify(c.changes)}`);
    assert.deepEqual(saved.incomplete ?? [], [], `${c.class} with a config.json: no gaps`);
  }
}

test('num_labels with no id2label is the 2 PreTrainedConfig.__post_init__ gives: classifiers exact with the defaults', { skip: env.skip, timeout: 300_000 }, async () => {
  await assertExact('num-labels', [
    { hf: 'albert', class: 'AlbertForSequenceClassification', config: 'AlbertConfig', changes: { num_hidden_layers: 1, id2label: { 0: 'a', 1: 'b', 2: 'c' } } },
    { hf: 'segformer', class: 'SegformerForSemanticSegmentation', config: 'SegformerConfig', changes: { depths: [1, 1, 1, 1] } },
  ]);
});

test('the default of 2 labels is soft: a binding of num_labels (a mapping, `set`) sizes the classifier', { skip: env.skip, timeout: 300_000 }, async () => {
  const [real] = truth([{ hf: 'bert', class: 'BertForSequenceClassification', config: 'BertConfig', changes: { num_hidden_layers: 1 } }]);
  const spec = `${real.file}::BertForSequenceClassification`;
  const shape = async (b: Map<string, number>) => (await readModelSource(spec, b)).tensors.find((t) => t.key === 'classifier.weight')?.shape;
  assert.deepEqual(await shape(new Map()), [2, 768]);
  assert.deepEqual(await shape(new Map([['num_labels', 5]])), [5, 768]);
});

test('Qwen2-MoE\'s layer schedule: `layer_idx not in mlp_only_layers` and every `decoder_sparse_step`-th layer sparse', { skip: env.skip, timeout: 300_000 }, async () => {
  await assertExact('qwen2-moe', [{ hf: 'qwen2_moe', class: 'Qwen2MoeModel', config: 'Qwen2MoeConfig', changes: { num_hidden_layers: 4, num_experts: 4, decoder_sparse_step: 2, mlp_only_layers: [3] } }]);
});

test('generic heads of modeling_layers.py read from source: AutoModel.from_config(config) builds the base model the config\'s model_type names', { skip: env.skip, timeout: 600_000 }, async () => {
  const small = { num_hidden_layers: 1, hidden_size: 64, intermediate_size: 128, num_attention_heads: 4, num_key_value_heads: 2 };
  await assertExact('generic-heads', [
    { hf: 'llama', class: 'LlamaForSequenceClassification', config: 'LlamaConfig', changes: { ...small, id2label: { 0: 'a', 1: 'b', 2: 'c' } } },
    { hf: 'llama', class: 'LlamaForTokenClassification', config: 'LlamaConfig', changes: { ...small, id2label: { 0: 'a', 1: 'b', 2: 'c', 3: 'd' } } },
    { hf: 'llama', class: 'LlamaForQuestionAnswering', config: 'LlamaConfig', changes: small },
    { hf: 'qwen2', class: 'Qwen2ForSequenceClassification', config: 'Qwen2Config', changes: small },
    { hf: 'mistral', class: 'MistralForQuestionAnswering', config: 'MistralConfig', changes: small },
    { hf: 'phi3', class: 'Phi3ForTokenClassification', config: 'Phi3Config', changes: { ...small, classifier_dropout: 0.2 } },
  ]);
});

test('sizes from helpers: LeViT\'s attention biases counted by a dict keyed by offset tuples, EfficientNet\'s repeats by math.ceil of a float coefficient', { skip: env.skip, timeout: 600_000 }, async () => {
  await assertExact('helpers', [
    { hf: 'levit', class: 'LevitModel', config: 'LevitConfig', changes: { depths: [1, 1, 1], image_size: 160 } },
    { hf: 'efficientnet', class: 'EfficientNetModel', config: 'EfficientNetConfig', changes: { depth_coefficient: 1.1, width_coefficient: 1.2 } },
  ]);
});

test('membership in a config list: DeBERTa-v2\'s `"c2p" in pos_att_type` from a saved list, and from an old `|`-joined string its config class converts', { skip: env.skip, timeout: 300_000 }, async () => {
  const changes = { num_hidden_layers: 1, relative_attention: true, position_biased_input: false, pos_att_type: ['c2p'] };
  await assertExact('deberta', [{ hf: 'deberta_v2', class: 'DebertaV2Model', config: 'DebertaV2Config', changes }]);
  const tmp = scratchDir('deberta-str').dir;
  const [real] = truth([{ hf: 'deberta_v2', class: 'DebertaV2Model', config: 'DebertaV2Config', changes, save_to: tmp }]);
  const cfg = path.join(tmp, 'config.json');
  writeFileSync(cfg, readFileSync(cfg, 'utf8').replace(/"pos_att_type": \[\s*"c2p"\s*\]/, '"pos_att_type": "C2P|"'));
  assert.match(readFileSync(cfg, 'utf8'), /"pos_att_type": "C2P\|"/);
  const link = path.join(tmp, path.basename(real.file));
  symlinkSync(real.file, link);
  const got = await readModelSource(`${link}::DebertaV2Model`);
  assert.deepEqual(got.tensors.map((t) => [t.key, t.shape, t.dtype]), real.keys);
  assert.ok(real.keys.some(([k]) => k.endsWith('pos_key_proj.weight')) && !real.keys.some(([k]) => k.endsWith('pos_query_proj.weight')));
});

test('membership decides layers: numbers in a tuple or list, `not in`, strings in a list or a string, other kinds never equal', { skip: env.skip, timeout: 300_000 }, async () => {
  const file = path.join(FIXTURES, 'source', 'hf-config-logic', 'membership.py');
  const kwargs = [{}, { sparse: [0], skip: [0], kinds: ['p2p'], names: 'conv' }, { n: 3, sparse: [0, 2], skip: [2] }];
  const reals = truth(kwargs.map((k) => ({ file, class: 'Net', kwargs: k })));
  // Each variant's values become the defaults of a copy of the file: the root's literal defaults are what `keys` reads.
  const tmp = scratchDir('membership').dir;
  const base = { n: 4, sparse: [1, 3], kinds: ['c2p', 'p2c'], names: 'conv|attn', skip: null };
  for (const [i, k] of kwargs.entries()) {
    const params = Object.entries({ ...base, ...k }).map(([name, v]) => `${name}=${pyLiteral(v)}`).join(', ');
    const text = readFileSync(file, 'utf8').replace(/def __init__\(self, .*\):/, `def __init__(self, ${params}):`);
    assert.notEqual(text, readFileSync(file, 'utf8'));
    const copy = path.join(tmp, `m${i}.py`);
    writeFileSync(copy, text);
    const got = await readModelSource(`${copy}::Net`);
    assert.deepEqual(got.tensors.map((t) => [t.key, t.shape, t.dtype]), reals[i].keys, JSON.stringify(k));
    assert.deepEqual(got.incomplete ?? [], []);
  }
  assert.ok(!reals[0].keys.some(([k]) => k.startsWith('never')));
});

function pyLiteral(v: unknown): string {
  return v === null ? 'None' : Array.isArray(v) ? `[${v.map(pyLiteral).join(', ')}]` : typeof v === 'string' ? JSON.stringify(v) : String(v);
}
