/**
 * transformers ≥ 5 saves some models under other keys than their modules have (conversion_mapping.py's
 * renames and fusions, reversed by `save_pretrained`). The truth is real files: tiny models built and
 * saved by the pinned transformers' own `save_pretrained` (test/fixtures/hf_keyspace/save_tiny.py, into a
 * scratch folder). For every class whose saved keys differ from its module keys, the inferred checkpoint
 * key space is exactly the saved file's keys and shapes, and a mapping the auto-mapper proposes from the
 * saved file to the class checks clean.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkpointPrefix, inCheckpointSpace } from '../../server/src/source/hfKeySpace';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const env = testPython();
const SAVE = path.join(__dirname, '..', 'fixtures', 'hf_keyspace', 'save_tiny.py');
// The 28 classes of model_truth.py and the corpus classes of the families with conversion rules.
const CORPUS = ['hf/segformer', 'hf/vit_mae', 'hf/deit_teacher', 'hf/beit_cls', 'hf/altclip', 'hf/qwen2_moe', 'hf/bert_cls', 'hf/llama_cls'];

interface Saved { name: string; class: string; file: string; folder: string; module: Record<string, number[]>; saved: Record<string, number[]>; tied: string[]; error?: string }

let saved: Saved[] | undefined;
function cases(): Saved[] {
  if (!saved) {
    const dir = scratchDir('hf-keyspace').dir;
    const truth = runPython(env.python!, [path.join(__dirname, '..', 'python', 'model_truth.py'), '--names']).trim().split('\n').filter(Boolean);
    saved = JSON.parse(runPython(env.python!, [SAVE, dir, ...truth, ...CORPUS]).trim().split('\n').pop()!) as Saved[];
  }
  return saved;
}

/** Saved keys other than the module's, tied weights aside. */
const differs = (c: Saved) => {
  const written = Object.keys(c.module).filter((k) => !c.tied.includes(k));
  return written.length !== Object.keys(c.saved).length || written.some((k) => !(k in c.saved));
};

test('the checkpoint key space of every class whose saved keys differ is the file save_pretrained wrote', { skip: env.skip, timeout: 300_000 }, async () => {
  const all = cases();
  assert.deepEqual(all.filter((c) => c.error).map((c) => `${c.name}: ${c.error}`), []);
  const differing = all.filter(differs);
  // What transformers 5.24 renames or fuses at load among these classes (measured, not assumed).
  assert.deepEqual(differing.map((c) => c.name).sort(), ['beit', 'deit', 'dinov2', 'hf/altclip', 'hf/beit_cls', 'hf/deit_teacher', 'hf/segformer', 'hf/vit_mae', 'mixtral', 'swin', 'vit']);
  for (const c of differing) {
    const info = await readModelSource(`${c.file}::${c.class}`, new Map(), { config: path.join(c.folder, 'config.json') });
    assert.ok(info.checkpointSpace, `${c.name}: no checkpoint key space`);
    const ckpt = inCheckpointSpace(info);
    assert.equal(ckpt.keySpace, 'checkpoint');
    assert.deepEqual(ckpt.tensors.map((t) => t.key).sort(), Object.keys(c.saved).sort(), c.name);
    for (const t of ckpt.tensors) {
      // A classifier sized by id2label is open here (a dimension by name): every other shape is the file's.
      if (t.shape.some(Number.isNaN)) continue;
      assert.deepEqual(t.shape, c.saved[t.key], `${c.name}: ${t.key}`);
    }
  }
  // And the classes whose keys agree get no second key space.
  for (const c of all.filter((x) => !differs(x)).slice(0, 8)) {
    const info = await readModelSource(`${c.file}::${c.class}`, new Map(), { config: path.join(c.folder, 'config.json') });
    assert.equal(info.tensors.filter((t) => t.checkpointKey || t.checkpointConversion).length, 0, c.name);
  }
});

test('keys --json: module keys with checkpointKey where renamed and checkpointConversion where fused; --key-space checkpoint lists the saved keys', { skip: env.skip, timeout: 300_000 }, () => {
  const mixtral = cases().find((c) => c.name === 'mixtral')!;
  const spec = `${mixtral.file}::MixtralModel`;
  const cfg = path.join(mixtral.folder, 'config.json');
  const r = runCli(['keys', spec, '--json', '--config', cfg]);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { keySpace: string; tensors: { key: string; checkpointKey?: string; checkpointConversion?: { keys: string[]; ops: string } }[] };
  assert.equal(doc.keySpace, 'module');
  assert.deepEqual(doc.tensors.map((t) => t.key), Object.keys(mixtral.module));
  assert.equal(doc.tensors.find((t) => t.key === 'layers.0.mlp.gate.weight')?.checkpointKey, 'layers.0.block_sparse_moe.gate.weight');
  const fused = doc.tensors.find((t) => t.key === 'layers.0.mlp.experts.gate_up_proj')!.checkpointConversion!;
  assert.equal(fused.ops, 'MergeModulelist(dim=0), Concatenate(dim=1)');
  assert.deepEqual([...fused.keys].sort(), Object.keys(mixtral.saved).filter((k) => /^layers\.0\.block_sparse_moe\.experts\.\d+\.w[13]\./.test(k)).sort());
  const c = runCli(['keys', spec, '--json', '--config', cfg, '--key-space', 'checkpoint']);
  assert.equal(c.code, 0, c.err);
  assert.deepEqual((JSON.parse(c.out) as { tensors: { key: string }[] }).tensors.map((t) => t.key).sort(), Object.keys(mixtral.saved).sort());
  assert.equal(runCli(['keys', spec, '--key-space', 'hub']).code, 2);
});

test('map from the saved checkpoint to the class, then check: clean, in the checkpoint key space', { skip: env.skip, timeout: 600_000 }, () => {
  const dir = scratchDir('hf-keyspace-map').dir;
  for (const c of cases().filter(differs)) {
    const out = path.join(dir, `${c.name.replace('/', '_')}.tpmap`);
    const m = runCli(['map', path.join(c.folder, 'model.safetensors'), `${c.file}::${c.class}`, '-o', out]);
    assert.equal(m.code, 0, `${c.name}: ${m.err}`);
    assert.match(m.out + m.err, /0 source tensors dropped, 0 target tensors unmapped/, c.name);
    const k = runCli(['check', out, '--json']);
    const doc = JSON.parse(k.out) as { diagnostics: { severity: string; code: string; message: string }[] };
    assert.deepEqual(doc.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').map((d) => `${d.code}: ${d.message}`), [], c.name);
  }
});

test('what was not followed is named in the checkpoint key space too: the module prefix is renamed as the keys under its nearest ancestor were', () => {
  const t = (key: string, checkpointKey?: string) => ({ key, dtype: 'F32', shape: [1], ...(checkpointKey ? { checkpointKey } : {}) });
  const tensors = [
    t('model.embeddings.word.weight', 'embeddings.word.weight'),
    t('model.layers.0.attention.q_proj.weight', 'encoder.layer.0.attention.attention.query.weight'),
    t('model.layers.0.attention.o_proj.weight', 'encoder.layer.0.attention.output.dense.weight'),
    t('model.layers.0.mlp.fc1.weight', 'encoder.layer.0.mlp.fc1.weight'),
    t('head.weight'),
  ];
  assert.equal(checkpointPrefix('model.encoder', tensors), 'encoder');
  assert.equal(checkpointPrefix('model.layers.0.mlp.act', tensors), 'encoder.layer.0.mlp.act');
  assert.equal(checkpointPrefix('model.layers.0.attention.q_proj.weight', tensors), 'encoder.layer.0.attention.attention.query.weight');
  assert.equal(checkpointPrefix('head.extra', tensors), 'head.extra');
  assert.equal(checkpointPrefix('', tensors), '');
});
