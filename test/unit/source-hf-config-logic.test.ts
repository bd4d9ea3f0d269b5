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
import { scratchDir } from '../support/tmp';

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
