/**
 * Eager mode with the real frameworks of the Python test environment (torch 2.13, Paddle 3.3): an HF-style
 * PyTorch ViT (test/fixtures/ports/eager/hf_style_vit.py, the checkpoint's own key names) against the
 * seed-style Paddle ViT (create_parameter, nn.Linear [in, out]) through a mapping. The correct port passes
 * forward and backward; each planted fault — in a scratch copy of the mapping or the port's source — is
 * found at its module: a missing transpose on a square weight, q/k swapped, LayerNorm epsilon 1e-12 vs
 * 1e-6, tanh-GELU vs erf-GELU, a float32 attention mask under fp16, a gradient the port stops. Then two
 * ranks under torchrun (gloo, CPU), the probe's comparison against compare.ts, and the event channel.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { compareArrays } from '../../server/src/parity/compare';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { ParityError } from '../../server/src/parity/parityError';
import { EagerParityRequest, ParityReport } from '../../server/src/parity/types';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const py = testPython();
const skip = py.skip;
const PORTS = path.join(FIXTURES, 'ports');
const tmp = scratchDir('eager');
// A scratch copy of the ports the faults are planted in: eager/ beside the ports it imports.
for (const f of ['eager', 'vit_tiny', 'paddle_vit.py', 'torch_vit_plinear.py']) cpSync(path.join(PORTS, f), path.join(tmp.dir, f), { recursive: true });
const E = path.join(tmp.dir, 'eager');
const TRAINED = 'vit_tiny_trained.safetensors';

/** A copy of a fixture file with `edit` applied, under a new name in the same folder. */
function planted(file: string, to: string, edit: (s: string) => string): string {
  const src = readFileSync(path.join(tmp.dir, file), 'utf8');
  const out = edit(src);
  assert.notEqual(out, src, `the fault was planted in ${file}`);
  writeFileSync(path.join(tmp.dir, to), out);
  return to;
}

function run(req: Partial<EagerParityRequest>): Promise<ParityReport> {
  return runEagerParity({
    reference: 'hf_style_vit.py::reference', candidate: 'paddle_port.py::candidate', weights: 'vit_paddle.tpmap', referenceWeights: TRAINED,
    python: py.python, cwd: E, trusted: true, ...req,
  });
}

/** A Paddle port whose source differs: paddle_vit.py edited, and a factory importing the edited copy. */
function paddlePort(name: string, edit: (s: string) => string): string {
  planted('paddle_vit.py', `${name}.py`, edit);
  planted('eager/paddle_port.py', `eager/${name}_port.py`, (s) => s.replace('from paddle_vit import', `from ${name} import`));
  return `${name}_port.py::candidate`;
}

test('the correct port passes forward and backward, every module paired through the mapping', { skip }, async () => {
  const r = await run({ backward: true });
  assert.equal(r.mode, 'eager');
  assert.equal(r.pass, true, JSON.stringify(r.firstDivergence));
  assert.equal(r.device, 'cpu');
  assert.equal(r.outputs[0].name, 'last_hidden_state');
  assert.equal(r.outputs[0].candidateName, 'output');
  assert.deepEqual(r.outputs[0].shape, [2, 17, 32]);
  assert.equal(r.firstDivergence, null);
  const pairs = new Map(r.layers!.map((l) => [l.reference, l]));
  // Prefixes of the rules' keys: the attention block and the whole layer pair, not just the Linear layers.
  assert.equal(pairs.get('encoder.layer.0.attention')?.candidate, 'layers.0.attn');
  assert.equal(pairs.get('encoder.layer.1')?.candidate, 'layers.1');
  assert.equal(pairs.get('encoder.layer.0.attention.attention.query')?.candidate, 'layers.0.attn.q');
  assert.equal(pairs.get('embeddings.patch_embeddings.projection')?.candidate, 'patch_embed.proj');
  assert.ok(r.layers!.every((l) => l.pairedBy === 'mapping' && l.pass && l.summary?.reference.sample?.length));
  // Modules with no counterpart are listed, not paired with something else.
  assert.ok(r.unpaired!.reference.includes('encoder.layer.0.intermediate.intermediate_act_fn'));
  assert.ok(r.unpaired!.candidate.includes('layers.0.mlp'));
  // Gradients: every parameter, paired through the rules, a transposed weight's gradient compared transposed.
  const b = r.backward!;
  assert.equal(b.pass, true);
  assert.equal(b.gradients.length, 38);
  const q = b.gradients.find((g) => g.candidate === 'layers.0.attn.q.weight')!;
  assert.deepEqual(q.reference, ['encoder.layer.0.attention.attention.query.weight']);
  assert.match(q.mapping!.text, /\| transpose$/);
  assert.ok(q.maxAbsDiff < 1e-4 && q.cosine > 0.999999);
  assert.deepEqual(b.unpaired, { reference: [], candidate: [] });
  assert.equal(b.gradients[0].candidate.startsWith('norm.'), true, 'backward order: the last module first');
});

test('a missing transpose on a square weight is found at the query projection, with its mapping lines', { skip }, async () => {
  const map = planted('eager/vit_paddle.tpmap', 'eager/no_transpose.tpmap', (s) => s.replace(/(attention\.query\.weight -> \S+) \| transpose/, '$1'));
  const r = await run({ weights: path.basename(map) });
  assert.equal(r.pass, false);
  const d = r.firstDivergence!;
  assert.equal(d.reference, 'encoder.layer.0.attention.attention.query');
  assert.equal(d.module, 'layers.0.attn.q');
  assert.deepEqual(d.mappingLines!.map((m) => m.text), ['encoder.layer.{i}.attention.attention.query.weight -> layers.{i}.attn.q.weight', 'encoder.layer.{i}.attention.attention.query.bias -> layers.{i}.attn.q.bias']);
  assert.equal(d.lastAgreeing?.reference, 'encoder.layer.0.layernorm_before');
  assert.ok(d.requiredTolerance!.atol > 0.1);
  assert.equal(d.sources?.candidate?.class, 'Linear');
});

test('a missing transpose on the key weight alone is found at the key projection, not hidden behind the query\'s result', { skip }, async () => {
  const map = planted('eager/vit_paddle.tpmap', 'eager/no_transpose_key.tpmap', (s) => s.replace(/(attention\.key\.weight -> \S+) \| transpose/, '$1'));
  const r = await run({ weights: path.basename(map) });
  assert.equal(r.pass, false);
  assert.equal(r.firstDivergence!.module, 'layers.0.attn.k');
  const row = (m: string) => r.layers!.find((l) => l.candidate === m)!;
  assert.equal(row('layers.0.attn.q').pass, true);
  assert.equal(row('layers.0.attn.k').pass, false);
  assert.equal(row('layers.0.attn.v').pass, true);
  assert.notEqual(row('layers.0.attn.q').summary!.reference.mean, row('layers.0.attn.k').summary!.reference.mean, 'each row compares its own tensors');
});

test('q and k swapped in the mapping: the attention block diverges and the crossing rules are named', { skip }, async () => {
  const map = planted('eager/vit_paddle.tpmap', 'eager/swap.tpmap', (s) => s.replace(/attn\.q\./g, 'attn.TMP.').replace(/(key\.\w+ -> layers\.\{i\}\.attn\.)k\./g, '$1q.').replace(/attn\.TMP\./g, 'attn.k.'));
  const r = await run({ weights: path.basename(map) });
  assert.equal(r.pass, false);
  const d = r.firstDivergence!;
  assert.deepEqual(d.within && [d.within.reference, d.within.candidate], ['encoder.layer.0.attention', 'layers.0.attn']);
  assert.equal(d.module, 'layers.0.attn.proj');
  assert.equal(d.within?.sources?.candidate?.class, 'Attention');
  assert.match(d.within!.sources!.candidate!.file!, /paddle_vit\.py$/);
  assert.match(r.notes.join('\n'), /swapped rules\? encoder\.layer\.0\.attention\.attention\.query ↔ layers\.0\.attn\.k \(mapping lines 16, 17\)/);
});

test('LayerNorm epsilon 1e-12 where the reference has 1e-6 is found at the first LayerNorm', { skip }, async () => {
  const cand = paddlePort('paddle_vit_eps', (s) => s.replace(/epsilon=1e-6/g, 'epsilon=1e-12'));
  const r = await run({ candidate: cand });
  assert.equal(r.pass, false);
  assert.equal(r.firstDivergence!.reference, 'encoder.layer.0.layernorm_before');
  assert.equal(r.firstDivergence!.module, 'layers.0.attn_norm');
  assert.equal(r.firstDivergence!.lastAgreeing?.candidate, 'patch_embed');
  assert.equal(r.firstDivergence!.mappingLines![0].text, 'encoder.layer.{i}.layernorm_before.* -> layers.{i}.attn_norm.*');
});

test('an output the port changes in place after its module returned is compared as it is after the pass', { skip }, async () => {
  // The probe compares mapping pairs while the candidate runs; a tensor changed since must not keep that result.
  const cand = paddlePort('paddle_vit_inplace', (s) => s.replace('        return x + self.mlp(self.mlp_norm(x))',
    '        n = self.mlp_norm(x)\n        y = self.mlp(n)\n        n.scale_(2.0)  # after use: the output is unchanged\n        return x + y'));
  const r = await run({ candidate: cand });
  const row = (m: string) => r.layers!.find((l) => l.candidate === m)!;
  assert.equal(r.outputs[0].pass, true);
  assert.equal(row('layers.0.mlp_norm').pass, false);
  assert.equal(row('layers.0.mlp.fc2').pass, true);
  assert.equal(r.firstDivergence!.module, 'layers.0.mlp_norm');
});

test('tanh-GELU where the reference has erf-GELU is found at the MLP of the first layer', { skip }, async () => {
  const cand = paddlePort('paddle_vit_tanh', (s) => s.replace('F.gelu(self.fc1(x))', 'F.gelu(self.fc1(x), approximate=True)'));
  const r = await run({ candidate: cand });
  assert.equal(r.pass, false);
  const d = r.firstDivergence!;
  // GELU is a function call in the port: the first module after it, fc2, is where the values part.
  assert.equal(d.reference, 'encoder.layer.0.output.dense');
  assert.equal(d.module, 'layers.0.mlp.fc2');
  assert.equal(d.lastAgreeing?.candidate, 'layers.0.mlp.fc1');
  assert.ok(d.maxAbsDiff > 1e-5 && d.maxAbsDiff < 1e-2, `a small difference: ${d.maxAbsDiff}`);
});

test('a float32 attention mask under fp16 (a PyTorch port): the module that raised, with its input dtypes', { skip }, async () => {
  planted('torch_vit_plinear.py', 'torch_vit_mask.py', (s) => s.replace('        out = attn.softmax(dim=-1) @ v', '        attn = attn + torch.zeros(n, n)  # a float32 mask\n        out = attn.softmax(dim=-1) @ v'));
  planted('eager/torch_port.py', 'eager/torch_mask_port.py', (s) => s.replace('from torch_vit_plinear import', 'from torch_vit_mask import'));
  const base = { candidate: 'torch_port.py::candidate', weights: 'vit_torch.tpmap', dtype: 'fp16' as const, atol: 0.05 };
  const ok = await run(base);
  assert.equal(ok.pass, true, 'the correct port passes at fp16 with a looser atol');
  assert.ok(ok.outputs[0].maxAbsDiff > 1e-5, 'and really ran in half precision');
  const r = await run({ ...base, candidate: 'torch_mask_port.py::candidate' });
  assert.equal(r.pass, false);
  assert.equal(r.firstDivergence!.module, 'blocks.0.attn');
  assert.match(r.firstDivergence!.reason!, /^the candidate raised in blocks\.0\.attn \(its inputs: float16\): RuntimeError: .*dtype/);
  assert.equal(r.firstDivergence!.lastAgreeing?.candidate, 'blocks.0.attn.v');
  // The same port in fp32 is right: the fault is the dtype.
  assert.equal((await run({ ...base, candidate: 'torch_mask_port.py::candidate', dtype: 'fp32', atol: undefined })).pass, true);
});

test('a gradient the port stops (detach) passes forward and is found in backward order', { skip }, async () => {
  const cand = paddlePort('paddle_vit_detach', (s) => s.replace('q, k, v = self.split(self.q(x))', 'q, k, v = self.split(self.q(x).detach())'));
  const r = await run({ candidate: cand, backward: true });
  assert.equal(r.outputs[0].pass, true);
  assert.equal(r.firstDivergence, null);
  assert.equal(r.pass, false);
  const g = r.backward!.firstDivergence!;
  assert.equal(g.candidate, 'layers.1.attn.q.bias');
  assert.match(g.reason!, /gets no gradient \(a detach or stop_gradient on its path/);
  assert.equal(r.backward!.unpaired.reference.length, 0);
});

test('two ranks under torchrun (gloo, CPU): rank 0 reports over the channel, rank 1\'s verdict is a note', { skip, timeout: 120_000 }, async () => {
  const launcher = `${py.python} -m torch.distributed.run --standalone --nproc-per-node 2`;
  const log: string[] = [];
  const ok = await runEagerParity({ reference: 'hf_style_vit.py::reference', candidate: 'paddle_port.py::candidate', weights: 'vit_paddle.tpmap', referenceWeights: TRAINED, launcher, cwd: E, trusted: true }, { onLog: (t) => log.push(t) });
  assert.equal(ok.pass, true, JSON.stringify(ok.firstDivergence));
  assert.deepEqual(ok.ranks?.map((x) => x.rank), [0, 1]);
  assert.match(ok.notes.join('\n'), /rank 1: 0 of 23 module pairs outside tolerance, outputs pass/);
  assert.match(log.join(''), /\[tensorport probe rank 1\] 0 of 23 module pairs outside tolerance/);
  const map = planted('eager/vit_paddle.tpmap', 'eager/no_transpose2.tpmap', (s) => s.replace(/(attention\.query\.weight -> \S+) \| transpose/, '$1'));
  const bad = await runEagerParity({ reference: 'hf_style_vit.py::reference', candidate: 'paddle_port.py::candidate', weights: path.basename(map), referenceWeights: TRAINED, launcher, cwd: E, trusted: true });
  assert.equal(bad.firstDivergence!.module, 'layers.0.attn.q');
  assert.match(bad.notes.join('\n'), /rank 1: \d+ of 23 module pairs outside tolerance, outputs FAIL/);
});

test('refusals: untrusted, a spec that is not FILE.py::NAME, a model that cannot be built, unmatched parameters', { skip }, async () => {
  await assert.rejects(run({ trusted: false }), /only available in a trusted workspace/);
  await assert.rejects(run({ reference: 'hf_style_vit.py' }), /--reference hf_style_vit\.py: expected FILE\.py::NAME/);
  await assert.rejects(run({ reference: 'nope.py::x' }), /no such file/);
  await assert.rejects(run({ reference: 'hf_style_vit.py::ViTModel' }), (e: Error) => e instanceof ParityError && /hf_style_vit\.py::ViTModel cannot be built with no arguments/.test(e.message));
  const map = planted('eager/vit_paddle.tpmap', 'eager/no_norm.tpmap', (s) => s.replace('layernorm.* -> norm.*\n', ''));
  await assert.rejects(run({ weights: path.basename(map) }), /2 of the candidate's tensors get no value from the mapping no_norm\.tpmap: norm\.weight, norm\.bias/);
});

test('the probe\'s comparison is compare.ts\'s: same statistics, NaN and infinity rules, required tolerances', { skip }, () => {
  const cases: [number[], number[]][] = [
    [[1, 2, 3, 4], [1, 2.00001, 3.1, 4]],
    [[0, 1, -2, 0.5], [1e-7, 1, -2.5, 0.5]],
    [[NaN, 1, 2], [NaN, 1, 2.5]],
    [[1, NaN, 2], [1, 2, 2]],
    [[Infinity, 1], [Infinity, 1.1]],
    [[Infinity, 1], [-Infinity, 1]],
    [[0, 0], [0, 0]],
    [[0, 0], [1, 0]],
  ];
  const tol = { atol: 1e-5, rtol: 1.3e-6 };
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'server', 'python'))})
import numpy as np
from tensorport_compare import compare
cases = json.loads(sys.argv[1])
print(json.dumps([compare(np.array(r, dtype=np.float32), np.array(c, dtype=np.float32), 1e-5, 1.3e-6) for r, c in cases], default=str))`;
  const enc = (v: number) => (Number.isFinite(v) ? v : String(v));
  const out = JSON.parse(runPython(py.python!, ['-c', script, JSON.stringify(cases.map(([r, c]) => [r.map(enc), c.map(enc)]))]).replace(/\bNaN\b/g, '"NaN"').replace(/-Infinity\b/g, '"-Infinity"').replace(/(?<!")Infinity\b/g, '"Infinity"')) as Record<string, unknown>[];
  const num = (v: unknown) => (typeof v === 'string' ? Number(v) : v as number);
  cases.forEach(([r, c], i) => {
    const ts = compareArrays(new Float32Array(r), new Float32Array(c), [r.length], tol);
    const p = out[i];
    const label = `case ${i}`;
    assert.equal(p.pass, ts.pass, label);
    assert.equal(p.mismatches, ts.mismatches, label);
    assert.deepEqual(p.worstIndex, ts.worstIndex, label);
    for (const k of ['maxAbsDiff', 'maxRelDiff', 'cosine'] as const) {
      const a = num(p[k]);
      const b = ts[k];
      assert.ok(Number.isNaN(a) ? Number.isNaN(b) : Math.abs(a - b) <= 1e-12 * Math.max(1, Math.abs(b)) || a === b, `${label} ${k}: ${a} vs ${b}`);
    }
    const req = p.requiredTolerance as Record<string, unknown>;
    assert.ok(Math.abs(num(req.atol) - ts.requiredTolerance.atol) <= 1e-12 || num(req.atol) === ts.requiredTolerance.atol, `${label} atol`);
    assert.ok(Math.abs(num(req.rtol) - ts.requiredTolerance.rtol) <= 1e-9 * Math.max(1, ts.requiredTolerance.rtol) || num(req.rtol) === ts.requiredTolerance.rtol, `${label} rtol`);
  });
});

test('the probe\'s fused torch comparison (large finite tensors) is compare.ts\'s too, exactly but for the cosine, and leaves NaN to the exact path', { skip }, () => {
  const n = 5000;
  const shape = [50, 100];
  const tol = { atol: 1e-5, rtol: 1.3e-6 };
  let seed = 7;
  const rand = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed / 2 ** 31 - 0.5; };
  const base = Float32Array.from({ length: n }, (_, i) => (i % 97 === 0 ? 0 : rand() * 4));
  const near = Float32Array.from(base, (v) => v + rand() * 2e-6);
  const planted = Float32Array.from(near);
  planted[1234] += 0.25; // one element far off, at [12, 34]
  planted[97 * 3] = 3e-5; // a reference zero the candidate misses by more than atol: relative difference ∞
  // Two differences equal in float32 but not exactly: 1 − 2^-30 (rounded up to 1) before 1. compare.ts's
  // worst element is the second; the float32 pass alone would say the first.
  const tied = Float32Array.from(base);
  const tiedRef = Float32Array.from(base);
  tiedRef[100] = 2 ** -30; tied[100] = 1; tiedRef[4000] = 0; tied[4000] = 1;
  // Every element off by atol + rtol·|r|, the rule's threshold: float32 rounding of c decides which side it lands.
  const edge = Float32Array.from(base, (v) => v + Math.sign(v) * (tol.atol + tol.rtol * Math.abs(v)));
  const cases: [Float32Array, Float32Array][] = [[base, Float32Array.from(base)], [base, near], [base, planted], [new Float32Array(n), near], [tiedRef, tied], [base, edge]];
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'server', 'python'))})
import torch
import tensorport_fastcompare as f
f.torch_or_none()
cases = json.load(open(sys.argv[1]))
t = lambda a: torch.tensor(a, dtype=torch.float32).reshape(${JSON.stringify(shape)})
out = [f.compare_fast(t(r), t(c), 1e-5, 1.3e-6) for r, c in cases]
nan = list(cases[1][1]); nan[5] = float("nan")  # after the six cases: out[6]
out.append(f.compare_fast(t(cases[1][0]), t(nan), 1e-5, 1.3e-6))
print(json.dumps(out).replace("Infinity", '"Infinity"'))`;
  const input = path.join(tmp.dir, 'fused-cases.json');
  writeFileSync(input, JSON.stringify(cases.map(([r, c]) => [Array.from(r), Array.from(c)])));
  const out = JSON.parse(runPython(py.python!, ['-c', script, input])) as (Record<string, unknown> | null)[];
  const num = (v: unknown) => (typeof v === 'string' ? Number(v) : v as number);
  const close = (a: number, b: number, rel: number) => a === b || Math.abs(a - b) <= rel * Math.max(1e-30, Math.abs(b));
  cases.forEach(([r, c], i) => {
    const ts = compareArrays(r, c, shape, tol);
    const p = out[i]!;
    const label = `case ${i}`;
    assert.ok(p, `${label}: the fused path decides a finite pair`);
    assert.equal(p.pass, ts.pass, label);
    assert.equal(p.mismatches, ts.mismatches, label);
    assert.deepEqual(p.worstIndex, ts.worstIndex, label);
    assert.ok(close(num(p.maxAbsDiff), ts.maxAbsDiff, 1e-15), `${label} maxAbsDiff`);
    assert.ok(close(num(p.maxRelDiff), ts.maxRelDiff, 1e-15), `${label} maxRelDiff`);
    // The cosine alone comes from float32 sums (documented): within 1e-6.
    assert.ok(Math.abs(num(p.cosine) - ts.cosine) <= 1e-6, `${label} cosine ${num(p.cosine)} vs ${ts.cosine}`);
    const req = p.requiredTolerance as Record<string, unknown>;
    assert.ok(close(num(req.atol), ts.requiredTolerance.atol, 1e-15), `${label} required atol`);
    assert.ok(close(num(req.rtol), ts.requiredTolerance.rtol, 1e-15), `${label} required rtol`);
  });
  assert.deepEqual(out[2]!.worstIndex, [12, 34]);
  assert.equal(out[2]!.pass, false);
  assert.deepEqual(out[4]!.worstIndex, [40, 0], 'the exact worst of two float32 ties');
  const split = compareArrays(cases[5][0], cases[5][1], shape, tol).mismatches;
  assert.ok(split > 0 && split < n, `the threshold case splits: ${split} of ${n}`);
  assert.equal(out[6], null, 'a NaN goes to the exact NumPy path');
});

test('a comparison made during the candidate\'s pass is kept only while neither tensor changed since', { skip }, () => {
  const script = `
import json, sys
sys.path.insert(0, ${JSON.stringify(path.join(__dirname, '..', '..', 'server', 'python'))})
import torch
import tensorport_early as early
import tensorport_fastcompare as f
from tensorport_frameworks import Side
f.torch_or_none()
side = lambda role: Side(role, torch.nn.Identity(), "torch")
r = torch.randn(8192)
c = r.clone()
call = lambda t: {"name": "block", "call": 0, "tensor": t, "output": t, "id": id(t), "keys": frozenset(["block.w"])}
rc, cc = call(r), call(c)
e = early.EarlyCompare(side("reference"), side("candidate"), [rc], early.pairs_before_candidate([rc], {"block": frozenset(["block.w"])}, []), 1e-5, 1.3e-6, lambda s, t: t)
e.offer(cc)
e.finish()
before = e.result(rc, cc)
c.mul_(2)
print(json.dumps([before["pass"], e.result(rc, cc) is None]))`;
  assert.deepEqual(JSON.parse(runPython(py.python!, ['-c', script])), [true, true]);
});

test('the CLI: eager JSON with firstDivergence.module and mappingLines, exit 1 on a fault, 2 when it cannot run', { skip }, () => {
  const bin = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
  const cli = (...args: string[]) => spawnSync(process.execPath, [bin, 'parity', '--reference', 'hf_style_vit.py::reference', '--candidate', 'paddle_port.py::candidate', '--python', py.python!, '--reference-weights', TRAINED, ...args], { cwd: E, encoding: 'utf8', timeout: 120_000 });
  const map = planted('eager/vit_paddle.tpmap', 'eager/no_transpose3.tpmap', (s) => s.replace(/(attention\.query\.weight -> \S+) \| transpose/, '$1'));
  const r = cli('--weights', path.basename(map), '--json');
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.mode, 'eager');
  assert.equal(doc.firstDivergence.module, 'layers.0.attn.q');
  assert.deepEqual(doc.firstDivergence.mappingLines.map((m: { line: number }) => m.line), [16, 17]);
  assert.ok(doc.layers.length > 20);
  const text = cli('--weights', path.basename(map));
  assert.match(text.stdout, /first divergence \(of 23 layer pairs, \d+ outside tolerance\):\n {2}reference {2}encoder\.layer\.0\.attention\.attention\.query\n {2}candidate {2}layers\.0\.attn\.q/);
  assert.match(text.stdout, /mapping:16: encoder\.layer\.\{i\}\.attention\.attention\.query\.weight -> layers\.\{i\}\.attn\.q\.weight\n/);
  const bad = cli('--weights', 'vit_paddle.tpmap', '--layers');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^tensorport: --layers does not apply to eager mode/);
});

test('command mode over the channel: stdout full of JSON-looking noise and interleaved ranks is only the log', { skip }, async () => {
  const { runCommandParity } = await import('../../server/src/parity/commandMode');
  const script = tmp.file('channel_script.py', [
    'import os, sys',
    'sys.path.insert(0, os.environ["TENSORPORT_PYTHON_DIR"])',
    'import tensorport_channel as tp',
    'tp.connect()',
    'print("{progress bar 10%", flush=True)',
    'tp.send({"event": "tensor", "name": "block.0", "reference": [1.0, 2.0], "candidate": [1.0, 2.5]})',
    'print(\'{"event": "stat", "name": "not-from-stdout", "maxAbsDiff": 0}\', flush=True)',
    'tp.send({"event": "stat", "name": "block.1", "maxAbsDiff": float("nan")})',
    'tp.send({"event": "done", "device": "cpu"})',
  ].join('\n'));
  const log: string[] = [];
  const r = await runCommandParity({ command: `${py.python} ${script}`, trusted: true }, { onStderr: (t) => log.push(t) });
  assert.deepEqual(r.outputs.map((o) => o.name), ['block.0', 'block.1']);
  assert.equal(r.outputs[0].maxAbsDiff, 0.5);
  assert.ok(Number.isNaN(r.outputs[1].maxAbsDiff), 'NaN travels as "NaN"');
  assert.equal(r.firstDivergence?.reference, 'block.0');
  assert.match(log.join(''), /\{progress bar 10%\n[^]*not-from-stdout/);
});
