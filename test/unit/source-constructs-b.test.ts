/**
 * Constructs real libraries build models with, each followed as a general mechanism and compared with
 * the real state_dict() the pinned torch builds (test/python/constructs_truth.py): buffers computed by
 * tensor indexing and ops (relative-position indexes, rotary tables), block specs decoded from
 * strings, config values derived from others (`num_labels` from `id2label`), and conditions nothing
 * decides that pick layers (both alternatives listed, each conditional).
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const env = testPython();
const TRUTH = path.join(__dirname, '..', 'python', 'constructs_truth.py');
const DIR = path.join(FIXTURES, 'source', 'constructs-b');

type Row = [string, number[], string];
function truth(cases: object[]): { file: string; keys: Row[] }[] {
  return JSON.parse(runPython(env.python!, [TRUTH, JSON.stringify(cases)], { timeoutMs: 240_000 })) as { file: string; keys: Row[] }[];
}

async function ours(spec: string): Promise<{ rows: Row[]; incomplete: number; info: Awaited<ReturnType<typeof readModelSource>> }> {
  const info = await readModelSource(spec);
  return { rows: info.tensors.map((t) => [t.key, t.shape, t.dtype]), incomplete: info.incomplete?.length ?? 0, info };
}

test('buffers built by indexing, meshgrid, stack/cat, arange, flatten/permute/view, sum, outer, cumsum, repeat/expand: keys, shapes and dtypes of the real state_dict()', { skip: env.skip, timeout: 300_000 }, async () => {
  const file = path.join(DIR, 'buffers.py');
  const [real] = truth([{ file, class: 'RelPos' }]);
  const got = await ours(`${file}::RelPos`);
  assert.deepEqual(got.rows, real.keys);
  assert.equal(got.incomplete, 0);
  assert.ok(!got.rows.some(([k]) => k === 'inv_freq_np'), 'persistent=False is not in state_dict()');
  const byKey = new Map(got.rows.map((r) => [r[0], r]));
  assert.deepEqual(byKey.get('relative_position_index'), ['relative_position_index', [49, 49], 'I64']);
  assert.deepEqual(byKey.get('coords_table'), ['coords_table', [1, 13, 13, 2], 'F32']);
});

test('the same tables over values nothing binds: shapes are expressions of them, never a guess', async () => {
  const info = await readModelSource(`${path.join(DIR, 'buffers.py')}::Symbolic`);
  const dims = new Map(info.tensors.map((t) => [t.key, t.dims]));
  assert.deepEqual(dims.get('relative_position_index'), ['window*window', 'window*window']);
  assert.deepEqual(dims.get('inv_freq'), ['(head_dim+1)//2']);
  assert.deepEqual(dims.get('tail'), ['n-2']);
  assert.equal(info.tensors.find((t) => t.key === 'relative_position_index')?.dtype, 'I64');
  assert.equal(info.tensors.find((t) => t.key === 'inv_freq')?.dtype, 'F32');
  assert.equal(info.incomplete?.length ?? 0, 0);
});

test('block specs decoded from strings (re.split/match/findall, int(s[1:]), namedtuple and _replace, dataclasses.replace): the real keys', { skip: env.skip, timeout: 300_000 }, async () => {
  const file = path.join(DIR, 'specs.py');
  const [real] = truth([{ file, class: 'Net' }]);
  const got = await ours(`${file}::Net`);
  assert.deepEqual(got.rows, real.keys);
  assert.equal(got.incomplete, 0);
  // 1 + 2 + 3 blocks from the repeat counts r1/r2/r3; the first of each stage keeps its stride.
  assert.equal(new Set(got.rows.map(([k]) => k.split('.')[1]).filter((x) => /^\d+$/.test(x ?? ''))).size, 6);
});

test('conditions nothing decides: both alternatives of if/else, elif, an early return and `A if c else B` are listed, each conditional, and match the real keys of each choice', { skip: env.skip, timeout: 300_000 }, async () => {
  const file = path.join(DIR, 'alternatives.py');
  const { info } = await ours(`${file}::Net`);
  const cond = new Map(info.tensors.map((t) => [t.key, t.conditional]));
  assert.equal(cond.get('ffn.wi_0.weight'), '`config.gated`');
  assert.equal(cond.get('ffn.wi.weight'), 'not `config.gated`');
  assert.equal(cond.get('ffn.wo.weight'), undefined, 'in both alternatives with one shape: certain');
  assert.equal(cond.get('ffn2.wi.weight'), 'not `gated`', 'the helper\'s early return keeps the other branch');
  assert.equal(cond.get('ffn3.wi_0.weight'), '`config.gated3`');
  assert.equal(cond.get('ffn3.wi.weight'), 'not `config.gated3`');
  assert.equal(cond.get('y.weight'), 'not `config.kind == "a"` and not `config.kind == "b"`');
  for (const c of cond.values()) if (c) assert.equal(new Set(c.split(' and ')).size, c.split(' and ').length, `a part repeated in ${c}`);
  // x is [2, 2] under "a" and [3, 3] under "b": one key, no single shape — a gap, never one of the two.
  assert.ok(info.incomplete?.some((g) => g.module === 'x.weight' && /\[2, 2\] if `config\.kind == "a"`, a parameter of shape \[3, 3\]/.test(g.message)));
  assert.ok(info.notes.some((n) => /condition `config\.gated3` \(line \d+\) could not be decided: what each value gives is listed as conditional/.test(n)));
  // Every real choice's keys are listed, and nothing else.
  const choices = [true, false].flatMap((g) => ['a', 'c'].map((kind) => ({ gated: g, gated2: !g, gated3: g, kind, d: 4, f: 8 })));
  const reals = truth(choices.map((config) => ({ file, class: 'Net', kwargs: { config } })));
  const listed = new Set(info.tensors.map((t) => t.key));
  for (const r of reals) for (const [k] of r.keys) assert.ok(listed.has(k), k);
  const union = new Set(reals.flatMap((r) => r.keys.map(([k]) => k)));
  assert.deepEqual([...listed].filter((k) => !union.has(k)), []);
});

test('num_labels from id2label: a config.json save_pretrained wrote with 3 labels gives a 3-way classifier', { skip: env.skip, timeout: 300_000 }, async () => {
  const tmp = scratchDir('id2label').dir;
  const id2label = { 0: 'neg', 1: 'neu', 2: 'pos' };
  const cases = [
    { hf: 'bert', class: 'BertForSequenceClassification', config: 'BertConfig', changes: { num_hidden_layers: 1, id2label } },
    { hf: 'roberta', class: 'RobertaForSequenceClassification', config: 'RobertaConfig', changes: { num_hidden_layers: 1, id2label } },
  ].map((c) => ({ ...c, save_to: path.join(tmp, c.hf) }));
  for (const c of cases) mkdirSync(c.save_to);
  const reals = truth(cases);
  for (const [i, c] of cases.entries()) {
    const link = path.join(c.save_to, path.basename(reals[i].file));
    symlinkSync(reals[i].file, link);
    const got = await ours(`${link}::${c.class}`);
    assert.deepEqual(got.rows, reals[i].keys, c.class);
    assert.equal(got.incomplete, 0);
    assert.ok(got.rows.some(([k, shape]) => /classifier(\.out_proj)?\.weight$/.test(k) && shape[0] === 3), c.class);
  }
});

test('relative-position buffers of real classes with a changed config.json: Swin v2, BEiT and Data2Vec-Vision exact, no gaps', { skip: env.skip, timeout: 300_000 }, async () => {
  const tmp = scratchDir('relpos').dir;
  const cases = [
    { hf: 'swinv2', class: 'Swinv2Model', config: 'Swinv2Config', changes: { depths: [1, 1, 2, 1], window_size: 4, image_size: 64 } },
    { hf: 'beit', class: 'BeitModel', config: 'BeitConfig', changes: { num_hidden_layers: 2, use_relative_position_bias: true, image_size: 64 } },
    { hf: 'data2vec', suffix: 'data2vec_vision', class: 'Data2VecVisionModel', config: 'Data2VecVisionConfig', changes: { num_hidden_layers: 2, use_shared_relative_position_bias: true } },
  ].map((c) => ({ ...c, save_to: path.join(tmp, c.hf) }));
  for (const c of cases) mkdirSync(c.save_to);
  const reals = truth(cases);
  for (const [i, c] of cases.entries()) {
    const link = path.join(c.save_to, path.basename(reals[i].file));
    symlinkSync(reals[i].file, link);
    const got = await ours(`${link}::${c.class}`);
    assert.deepEqual(got.rows, reals[i].keys, c.class);
    assert.equal(got.incomplete, 0, c.class);
  }
});
