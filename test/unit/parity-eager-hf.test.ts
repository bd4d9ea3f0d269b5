/**
 * Eager parity on real transformers models (torch 2.13, transformers 5.24, Paddle 3.3 in the test venv):
 * a ViTModel saved by `save_pretrained` (test/fixtures/ports/eager/hf_vit, made by make_hf_vit.py) is the
 * reference's weights — transformers 5 holds its keys renamed in memory, so they load through its own
 * loader — against a Paddle ViT with PaddleClas's fused `attn.qkv`; BERT's position embeddings ([1, L, H])
 * against a port that looks them up per batch row ([B, L, H]); Paddle half precision on the CPU.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { EagerParityRequest, ParityReport } from '../../server/src/parity/types';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const py = testPython();
const skip = py.skip;
const PORTS = path.join(FIXTURES, 'ports');
const tmp = scratchDir('eager-hf');
for (const f of ['eager', 'bert_tiny', 'paddle_bert.py']) cpSync(path.join(PORTS, f), path.join(tmp.dir, f), { recursive: true });
const E = path.join(tmp.dir, 'eager');

function planted(file: string, to: string, edit: (s: string) => string): string {
  const src = readFileSync(path.join(tmp.dir, file), 'utf8');
  const out = edit(src);
  assert.notEqual(out, src, `the fault was planted in ${file}`);
  writeFileSync(path.join(tmp.dir, to), out);
  return path.basename(to);
}

function run(req: Partial<EagerParityRequest>): Promise<ParityReport> {
  return runEagerParity({
    reference: 'hf_vit.py::reference', candidate: 'paddle_vit_qkv.py::candidate', weights: 'vit_paddle_qkv.tpmap',
    python: py.python, cwd: E, trusted: true, ...req,
  });
}

const row = (r: ParityReport, ref: string) => r.layers!.find((l) => l.reference === ref)!;

test('a save_pretrained ViT loads as transformers loads it; q, k and v are compared with their thirds of the fused qkv', { skip }, async () => {
  const log: string[] = [];
  const r = await runEagerParity({
    reference: 'hf_vit.py::reference', candidate: 'paddle_vit_qkv.py::candidate', weights: 'vit_paddle_qkv.tpmap', backward: true,
    python: py.python, cwd: E, trusted: true,
  }, { onLog: (t) => log.push(t) });
  assert.match(log.join(''), /the reference loaded hf_vit\/model\.safetensors through transformers' loader: 32 keys renamed/);
  assert.equal(r.pass, true, JSON.stringify(r.firstDivergence));
  assert.equal(r.firstDivergence, null);
  assert.ok(r.layers!.every((l) => l.pass));
  // The model's own (renamed) modules pair through the mapping written against the checkpoint's names.
  assert.equal(row(r, 'layers.0.attention.o_proj').candidate, 'blocks.0.attn.proj');
  const parts = ['q_proj', 'k_proj', 'v_proj'].map((p) => row(r, `layers.1.attention.${p}`));
  assert.deepEqual(parts.map((l) => l.candidate), ['blocks.1.attn.qkv', 'blocks.1.attn.qkv', 'blocks.1.attn.qkv']);
  assert.deepEqual(parts.map((l) => l.through), [0, 1, 2].map((i) => `the candidate's output [..., ${32 * i}:${32 * (i + 1)}], part ${i + 1} of 3 of the fused module`));
  assert.deepEqual(parts[0].shape, [2, 17, 32]);
  // Gradients pair through the checkpoint's names, the fused weight's through its cat.
  assert.equal(r.backward!.pass, true);
  assert.ok(r.backward!.gradients.some((g) => g.candidate === 'blocks.0.attn.qkv.weight' && g.reference.length === 3));
});

test('the checkpoint of another model: missing and unexpected keys are one line each, with counts', { skip }, async () => {
  await assert.rejects(run({ weights: undefined, referenceWeights: '../bert_tiny/model.safetensors' }), (e: Error) => {
    const lines = e.message.split('\n');
    assert.equal(lines.length, 2, e.message);
    assert.match(lines[0], /^\d+ of the reference's tensors get no value from .*bert_tiny\/model\.safetensors \(through transformers' loader, which renames as from_pretrained does\): [^,]+, [^,]+, [^,]+, …$/);
    assert.match(lines[1], /^\d+ tensors of .*bert_tiny\/model\.safetensors are not in the reference/);
    return true;
  });
});

test('a missing transpose on the attention output is the headline with its own mapping line, not the fused qkv', { skip }, async () => {
  const map = planted('eager/vit_paddle_qkv.tpmap', 'eager/qkv_no_transpose.tpmap', (s) => s.replace(/(attention\.output\.dense\.weight -> \S+) \| transpose/, '$1'));
  // The reference's weights as a save_pretrained folder (config.json beside model.safetensors).
  const r = await run({ weights: map, referenceWeights: 'hf_vit' });
  assert.equal(r.pass, false);
  const d = r.firstDivergence!;
  assert.equal(d.module, 'blocks.0.attn.proj');
  assert.equal(d.reference, 'layers.0.attention.o_proj');
  assert.deepEqual(d.mappingLines!.map((m) => m.text), ['encoder.layer.{i}.attention.output.dense.weight -> blocks.{i}.attn.proj.weight', 'encoder.layer.{i}.attention.output.dense.bias -> blocks.{i}.attn.proj.bias']);
  assert.equal(d.lastAgreeing?.reference, 'layers.0.attention.v_proj');
  assert.ok(r.layers!.filter((l) => l.through).every((l) => l.reference.startsWith('layers.1') || l.pass), 'the first layer\'s q, k, v slices agree');
});

test('a planted cast(F16) on the first MLP weight is the headline at fc1 with its own line', { skip }, async () => {
  const map = planted('eager/vit_paddle_qkv.tpmap', 'eager/qkv_f16.tpmap', (s) => s.replace(/(intermediate\.dense\.weight -> \S+ \| transpose)/, '$1 | cast(F16)'));
  const r = await run({ weights: map });
  assert.equal(r.pass, false);
  const d = r.firstDivergence!;
  assert.equal(d.module, 'blocks.0.mlp.fc1');
  assert.equal(d.mappingLines![0].text, 'encoder.layer.{i}.intermediate.dense.weight -> blocks.{i}.mlp.fc1.weight | transpose | cast(F16)');
  assert.ok(d.maxAbsDiff > 1e-5 && d.maxAbsDiff < 1e-2, `fp16 rounding of the weights: ${d.maxAbsDiff}`);
  assert.ok(['q_proj', 'k_proj', 'v_proj'].every((p) => row(r, `layers.0.attention.${p}`).pass));
});

test('BERT position embeddings [1, L, H] against a port\'s [B, L, H]: compared broadcast, no false failure', { skip }, async () => {
  const cand = planted('paddle_bert.py', 'paddle_bert_batch.py', (s) => s.replace('positions = paddle.arange(input_ids.shape[1]).unsqueeze(0)', 'positions = paddle.arange(input_ids.shape[1]).unsqueeze(0).expand_as(input_ids)'));
  planted('eager/paddle_bert_port.py', 'eager/paddle_bert_batch_port.py', (s) => s.replace('from paddle_bert import', `from ${cand.replace(/\.py$/, '')} import`));
  const r = await run({ reference: 'hf_bert.py::reference', candidate: 'paddle_bert_batch_port.py::candidate', weights: 'bert_paddle.tpmap' });
  assert.equal(r.pass, true, JSON.stringify(r.firstDivergence));
  assert.equal(r.firstDivergence, null);
  const pos = row(r, 'embeddings.position_embeddings');
  assert.equal(pos.pass, true);
  assert.equal(pos.broadcast, 'compared broadcast: reference [1, 16, 32], candidate [2, 16, 32]');
  assert.equal(pos.maxAbsDiff, 0);
});

test('Paddle in half precision on the CPU: one line saying what to do, not a divergence', { skip }, async () => {
  await assert.rejects(run({ dtype: 'fp16', device: 'cpu' }), (e: Error) => {
    assert.equal(e.message.split('\n').length, 1, e.message);
    assert.match(e.message, /^--dtype fp16: Paddle has no float16 kernel for `\w+` on the CPU, so the candidate cannot run in fp16 here: run it on a GPU \(--device cuda\), or use --dtype (bf16 or )?fp32 on the CPU$/);
    return true;
  });
});

test('pairing through a chunk: each split candidate module against its part of the fused reference output; sizes that do not add up are not compared', { skip }, () => {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'server', 'python'))})
from tensorport_pairing import pair_calls
def call(name, shape, keys):
    return {"name": name, "call": 0, "shape": shape, "keys": frozenset(keys), "id": id(name)}
ref = [call("attn.c_attn", [2, 5, 96], ["attn.c_attn.weight"])]
rules = [{"sources": ["attn.c_attn.weight"], "target": "attn.%s.weight" % p, "part": [i, 3]} for i, p in enumerate("qkv")]
def run(sizes):
    cand = [call("attn.%s" % p, [2, 5, n], ["attn.%s.weight" % p]) for p, n in zip("qkv", sizes)]
    pairs, unpaired = pair_calls(ref, cand, rules)
    return [[p["candidate"]["name"], p["slice"]] for p in pairs], [list(x) for x in unpaired["notComparable"]]
print(json.dumps([run([32, 32, 32]), run([32, 32, 16])]))`;
  const [ok, bad] = JSON.parse(runPython(py.python!, ['-c', script])) as [[string, Record<string, unknown>][], string[][]][];
  assert.deepEqual(ok[0].map(([c, s]) => [c, s.side, s.start, s.stop]), [['attn.q', 'reference', 0, 32], ['attn.k', 'reference', 32, 64], ['attn.v', 'reference', 64, 96]]);
  assert.deepEqual(ok[1], []);
  assert.deepEqual(bad[0], []);
  assert.deepEqual(bad[1], [['attn.c_attn', 'attn.k'], ['attn.c_attn', 'attn.q'], ['attn.c_attn', 'attn.v']]);
});

test('pairing by order stays within a numbered block: the reference\'s block-1 dropout never pairs with the candidate\'s block-0 drop_path of the same shape', { skip }, () => {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'server', 'python'))})
from tensorport_pairing import pair_calls
def call(name, k=0):
    return {"name": name, "call": k, "shape": [2, 18, 48], "keys": frozenset(), "id": id(name) + k}
# HF DeiT against PaddleClas: no mapping anchors these parameterless modules, and the candidate's blocks run more of them.
ref = [call("layers.0.dropout"), call("layers.0.dropout", 1), call("layers.1.dropout"), call("layers.1.dropout", 1)]
cand = [call("blocks.0.attn.proj_drop"), call("blocks.0.drop_path"), call("blocks.0.mlp.drop", 1), call("blocks.0.drop_path", 1),
        call("blocks.1.attn.proj_drop"), call("blocks.1.drop_path"), call("blocks.1.mlp.drop", 1), call("blocks.1.drop_path", 1)]
pairs, _ = pair_calls(ref, cand, [])
print(json.dumps([[p["reference"]["name"], p["candidate"]["name"]] for p in pairs]))`;
  const pairs = JSON.parse(runPython(py.python!, ['-c', script])) as [string, string][];
  assert.ok(pairs.length >= 2, JSON.stringify(pairs));
  for (const [r, c] of pairs) assert.equal(r.split('.')[1], c.split('.')[1], `${r} ↔ ${c}`);
  assert.ok(pairs.some(([r]) => r === 'layers.1.dropout'), JSON.stringify(pairs));
});
