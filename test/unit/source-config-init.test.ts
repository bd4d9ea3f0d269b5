/**
 * Config classes whose `__init__` sets the fields (`def __init__(self, hidden_size=768, …): self.hidden_size =
 * hidden_size`, a base's `self.x = kwargs.pop("x", d)`): PaddleNLP's, PaddleFormers', transformers 4's remote
 * code. The defaults are what `Cls()` gives, a config.json beside the file what `Cls(**config)` gives — each
 * compared with the real state_dict() — and a field the `__init__` sets under a condition nothing decides is a
 * gap, never a guessed size. Last, the issue's own case: a mapping from a Hugging Face BERT checkpoint into
 * PaddleNLP's real `BertModel`, read in place in the test environment.
 */
import assert from 'node:assert/strict';
import { copyFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const env = testPython();
const MODEL = path.join(FIXTURES, 'source', 'config-init', 'model.py');
const SITE = path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages');
const BERT = path.join(SITE, 'paddlenlp', 'transformers', 'bert', 'modeling.py');

type Row = [string, number[]];

/** The real state_dict() of `cls(NetConfig(**given))`, built on torch's meta device. */
function truth(cls: string, given: object): Row[] {
  const script = [
    'import importlib.util, json, sys, torch',
    'spec = importlib.util.spec_from_file_location("config_init_model", sys.argv[1])',
    'mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)',
    'with torch.device("meta"):',
    '    model = getattr(mod, sys.argv[2])(mod.NetConfig(**json.loads(sys.argv[3])))',
    'print(json.dumps([[k, list(v.shape)] for k, v in model.state_dict().items()]))',
  ].join('\n');
  return JSON.parse(runPython(env.python!, ['-c', script, MODEL, cls, JSON.stringify(given)])) as Row[];
}

const rows = (info: Awaited<ReturnType<typeof readModelSource>>): Row[] => info.tensors.map((t) => [t.key, t.shape]);

test('the defaults of an __init__-style config class and its base are what Cls() gives: the real state_dict(), nothing incomplete', { skip: env.skip, timeout: 120_000 }, async () => {
  const info = await readModelSource(`${MODEL}::Net`);
  assert.deepEqual(rows(info), truth('Net', {}));
  assert.deepEqual(info.incomplete ?? [], []);
});

test('a config.json beside the file is Cls(**config): its values reach the parameters, **kwargs and what __init__ derives (head_dim, is_gated)', { skip: env.skip, timeout: 120_000 }, async () => {
  const given = { hidden_size: 48, num_layers: 3, head_dim: 16, use_bias: true, proj: 'plain', num_labels: 5 };
  const dir = scratchDir('config-init').dir;
  symlinkSync(MODEL, path.join(dir, 'model.py'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(given));
  const info = await readModelSource(`${path.join(dir, 'model.py')}::Net`);
  const want = truth('Net', given);
  assert.deepEqual(rows(info), want);
  assert.ok(want.some(([k]) => k === 'blocks.2.q.bias') && !want.some(([k]) => k.includes('gate')), 'the config changes which keys exist');
  assert.deepEqual(info.incomplete ?? [], []);
});

test('a field __init__ sets under a condition nothing decides is a gap on the layer it sizes, never a guessed size', { skip: env.skip, timeout: 120_000 }, async () => {
  const info = await readModelSource(`${MODEL}::NetWithFfn`);
  const want = truth('NetWithFfn', {});
  const ours = new Map(rows(info));
  for (const [k, shape] of want) {
    if (k.startsWith('ffn.')) assert.ok(ours.get(k)?.some((d) => Number.isNaN(d)), `${k} has no certain shape`);
    else assert.deepEqual(ours.get(k), shape, k);
  }
  assert.deepEqual((info.incomplete ?? []).map((e) => e.module).sort(), ['ffn.bias', 'ffn.weight']);
});

test('PaddleNLP\'s real BertModel: keys with its BertConfig defaults are complete (12 layers of 768); a map from a Hugging Face BERT checkpoint checks with every encoder layer mapped and nothing incomplete', { skip: env.skip, timeout: 300_000 }, () => {
  const keys = runCli(['keys', `${BERT}::BertModel`, '--json']);
  assert.equal(keys.code, 0, keys.err);
  const doc = JSON.parse(keys.out) as { complete: boolean; tensors: { key: string; shape: number[] }[] };
  assert.equal(doc.complete, true);
  assert.equal(doc.tensors.length, 199);
  assert.deepEqual(doc.tensors.find((t) => t.key === 'encoder.layers.11.linear1.weight')?.shape, [768, 3072]);
  assert.deepEqual(doc.tensors.find((t) => t.key === 'embeddings.word_embeddings.weight')?.shape, [30522, 768]);

  // The checkpoint with its config.json, as save_pretrained writes them.
  const dir = scratchDir('paddlenlp-bert');
  for (const f of ['model.safetensors', 'config.json']) copyFileSync(path.join(FIXTURES, 'ports', 'bert_tiny', f), path.join(dir.dir, f));
  const out = path.join(dir.dir, 'bert.tpmap');
  const m = runCli(['map', path.join(dir.dir, 'model.safetensors'), `${BERT}::BertModel`, '-o', out]);
  assert.equal(m.code, 0, m.err);
  assert.match(m.out + m.err, /37 target tensors mapped \(0 with low confidence\), 0 source tensors dropped/);
  const c = runCli(['check', out, '--json']);
  const report = JSON.parse(c.out) as { diagnostics: { code: string; key?: string }[]; sides: { role: string; complete: boolean; incomplete: unknown[] }[] };
  assert.deepEqual(report.sides.map((s) => [s.role, s.complete, s.incomplete.length]), [['target', true, 0]]);
  assert.ok(!report.diagnostics.some((d) => d.code === 'incomplete-model-source'));
  // The Hugging Face checkpoint has no pooler: its two tensors are the only ones the port leaves unwritten.
  assert.deepEqual(report.diagnostics.map((d) => `${d.code} ${d.key ?? ''}`).sort(), ['unmapped-target-key pooler.dense.bias', 'unmapped-target-key pooler.dense.weight']);
});
