/**
 * ONNX parity runs end to end through the worker with onnxruntime-node, on models exported by torch:
 * the right mapping passes, a square-matrix transpose fault and a q/k swap fail and are localized to
 * their block with the mapping lines at fault, fp16 runs use fp16 tolerances, deduplicated and folded
 * initializers are handled or reported, runtime type errors name their node, and runs can be cancelled.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runOnnxParity } from '../../server/src/parity/engine';
import { ParityCancelled, ParityError } from '../../server/src/parity/parityError';
import { OnnxParityRequest, ProgressEvent } from '../../server/src/parity/types';
import { FIXTURES, scratchDir } from '../support/tmp';

const P = path.join(FIXTURES, 'parity');
const REF = path.join(P, 'ref.onnx');
const PORT = path.join(P, 'port.onnx');
const IDS = { name: 'input_ids', file: path.join(P, 'input_ids.npy') };
const map = (name: string) => path.join(P, `${name}.tpmap`);
const run = (req: Partial<OnnxParityRequest>, onProgress?: (e: ProgressEvent) => void) =>
  runOnnxParity({ reference: REF, candidate: PORT, inputs: [IDS], device: 'cpu', ...req }, { onProgress });

test('weights injected from a Paddle protocol-2 source (bytes stored as latin-1 text) are decoded: the same pass', async () => {
  const dir = scratchDir('parity-p2');
  const text = readFileSync(map('port_correct'), 'utf8').replace(/^source .*$/m, `source ${path.join(P, 'ref_p2.pdparams')}`)
    .replace(/^target .*$/m, `target ${PORT}`);
  const r = await run({ weights: dir.file('p2.tpmap', text) });
  assert.deepEqual(r.weights!.skipped, []);
  assert.equal(r.weights!.replaced, 35);
  assert.equal(r.pass, true, `max abs diff ${r.outputs[0].maxAbsDiff}`);
});

test('the right mapping passes: the port with injected weights computes what the reference computes', async () => {
  const events: ProgressEvent[] = [];
  const r = await run({ weights: map('port_correct'), layers: true }, (e) => events.push(e));
  assert.equal(r.pass, true);
  assert.equal(r.device, 'cpu');
  assert.deepEqual(r.tolerance, { atol: 1e-5, rtol: 1.3e-6 });
  assert.equal(r.outputs.length, 1);
  const out = r.outputs[0];
  assert.equal(out.name, 'last_hidden_state');
  assert.deepEqual(out.shape, [1, 7, 16]);
  assert.ok(out.maxAbsDiff < 1e-5, `max abs diff ${out.maxAbsDiff}`);
  assert.ok(out.cosine > 0.999999);
  assert.equal(r.firstDivergence, null);
  assert.ok(r.layers!.length > 60, 'intermediate values of both graphs were paired');
  assert.ok(r.layers!.some((l) => l.reference.includes('layer.1/attention/output') && l.candidate.includes('blocks.1/attn/o') && l.pairedBy === 'mapping'));
  assert.equal(r.weights!.replaced, 35);
  assert.deepEqual(r.weights!.skipped, []);
  assert.deepEqual(r.inputs, [{ name: 'input_ids', dtype: 'int64', shape: [1, 7], source: 'file', file: IDS.file }]);
  for (const phase of ['loading', 'weights', 'running', 'comparing', 'layers']) assert.ok(events.some((e) => e.phase === phase), `progress ${phase}`);
  const last = events.filter((e) => e.phase === 'layers').at(-1)!;
  assert.equal(last.done, last.total);
});

test('without the mapping the port runs its own random weights and fails', async () => {
  const r = await run({});
  assert.equal(r.pass, false);
  assert.ok(r.outputs[0].maxAbsDiff > 0.1);
  assert.equal(r.firstDivergence, undefined, 'no --layers, no divergence search');
});

test('a square weight left untransposed fails and --layers localizes it to block 1\'s output projection and its mapping line', async () => {
  const r = await run({ weights: map('port_transpose_fault'), layers: true });
  assert.equal(r.pass, false);
  const d = r.firstDivergence!;
  assert.match(d.reference, /layer\.1\/attention\/output\//);
  assert.match(d.candidate, /blocks\.1\/attn\/o\//);
  assert.ok(d.maxAbsDiff > 0.1);
  assert.ok(d.weights!.includes('blocks.1.attn.o.weight'));
  assert.deepEqual(d.mapping!.map((m) => m.line), [15, 16]);
  assert.equal(d.mapping![0].text, 'encoder.layer.1.attention.output.weight -> blocks.1.attn.o.weight');
  // Everything before block 1's attention output agrees.
  const firstBad = r.layers!.findIndex((l) => !l.pass);
  assert.ok(r.layers!.slice(0, firstBad).some((l) => l.reference.includes('layer.1/attention/Softmax')));
  assert.match(r.notes.join('\n'), /missing-transpose/);
});

test('a q/k swap fails and is localized to block 0\'s attention, citing the swapped lines', async () => {
  const r = await run({ weights: map('port_qk_swap'), layers: true });
  assert.equal(r.pass, false);
  const d = r.firstDivergence!;
  assert.match(d.reference, /^\/layer\.0\/attention\//);
  assert.match(d.candidate, /^\/blocks\.0\/attn\//);
  const lines = d.mapping!.map((m) => m.text).join('\n');
  assert.match(lines, /encoder\.layer\.0\.attention\.(query|key)\.weight -> blocks\.0\.attn\.(k|q)\.weight/);
  assert.ok(!r.layers!.slice(0, r.layers!.findIndex((l) => !l.pass)).some((l) => l.reference.includes('layer.1')));
});

test('fp16 runs report the fp16 tolerances, round for real, and pass with a looser atol', async () => {
  const r = await run({ weights: map('port_correct'), dtype: 'fp16' });
  assert.equal(r.dtype, 'fp16');
  assert.deepEqual(r.tolerance, { atol: 1e-5, rtol: 1e-3 });
  const d = r.outputs[0].maxAbsDiff;
  assert.ok(d > 1e-5 && d < 0.05, `fp16 error ${d}`);
  assert.match(r.notes.join('\n'), /fp16: \d+ initializers and \d+ computed values rounded/);
  assert.ok(r.outputs[0].requiredTolerance.atol > 0);
  const loose = await run({ weights: map('port_correct'), dtype: 'fp16', atol: 0.05 });
  assert.equal(loose.pass, true);
  const bf = await run({ weights: map('port_correct'), dtype: 'bf16', layers: true });
  assert.deepEqual(bf.tolerance, { atol: 1e-5, rtol: 1.6e-2 });
  assert.ok(bf.outputs[0].maxAbsDiff > d, 'bf16 rounds coarser than fp16');
});

test('weights the exporter deduplicated into Identity nodes are restored as initializers', async () => {
  const r = await run({ candidate: path.join(P, 'port_dedup.onnx'), weights: map('port_correct') });
  assert.equal(r.pass, true, JSON.stringify(r.outputs));
  assert.ok(r.weights!.restored.includes('blocks.1.norm1.weight'));
  assert.ok(r.weights!.restored.length >= 15);
  assert.match(r.notes.join('\n'), /deduplicated by the exporter/);
});

test('mapping targets the exporter folded away are reported by name with the reason', async () => {
  const r = await run({ candidate: path.join(P, 'ref_folded.onnx'), weights: map('ref_folded') });
  const skipped = r.weights!.skipped;
  assert.deepEqual(skipped.map((s) => s.key), ['encoder.layer.0.attention.query.weight', 'encoder.layer.1.attention.query.weight']);
  assert.match(skipped[0].reason, /is not an initializer of ref_folded\.onnx: exporters rename weights they fold or transpose \(`onnx::MatMul_N`\)/);
  assert.match(skipped[0].reason, /`onnx::MatMul_\d+`/);
  assert.equal(skipped[0].mapping.line, 7);
  assert.equal(r.weights!.replaced, 3);
});

test('the runtime\'s type error in a half-precision candidate names the node', async () => {
  await assert.rejects(
    runOnnxParity({ reference: path.join(P, 'fp32_mask_ref.onnx'), candidate: path.join(P, 'fp16_mask.onnx'), dtype: 'fp16', device: 'cpu' }),
    (e: Error) => e instanceof ParityError && /fp16_mask\.onnx: onnxruntime cannot load it: node \/attn\/mask_add: .*tensor\(float16\) and tensor\(float\)/.test(e.message),
  );
});

test('a model with external data is edited with its data inlined and compares equal to its inline twin', async () => {
  const ext = path.join(FIXTURES, 'onnx', 'external', 'model.onnx');
  const tiny = path.join(FIXTURES, 'onnx', 'tiny_attn.onnx');
  const r = await runOnnxParity({ reference: tiny, candidate: ext, layers: true, inputs: [{ name: 'x', random: [2, 4, 5] }], device: 'cpu' });
  assert.equal(r.pass, true);
  assert.equal(r.outputs[0].maxAbsDiff, 0);
  assert.ok(r.layers!.length > 5 && r.layers!.every((l) => l.pairedBy === 'name' || l.pairedBy === 'order'));
  assert.ok(r.layers!.every((l) => l.pass));
});

test('cannot-run cases are ParityErrors naming the file and the reason', async () => {
  await assert.rejects(run({ candidate: path.join(P, 'missing.onnx') }), /candidate .*missing\.onnx: no such file/);
  await assert.rejects(run({ candidate: path.join(P, 'port_correct.tpmap') }), (e: Error) => e instanceof ParityError && /port_correct\.tpmap/.test(e.message));
  await assert.rejects(run({ inputs: [{ name: 'input_ids', random: [1, 2, 3] }] }), /has 3 dimensions, input "input_ids" has 2/);
  await assert.rejects(run({ weights: path.join(P, 'nope.tpmap') }), /nope\.tpmap: no such file/);
  await assert.rejects(run({ device: 'cuda' }), /--device cuda: .*CUDA/);
});

test('a run can be cancelled: the worker is stopped and the promise rejects at once', async () => {
  const ac = new AbortController();
  const p = runOnnxParity({ reference: REF, candidate: PORT, layers: true, device: 'cpu' }, { signal: ac.signal, onProgress: () => ac.abort() });
  await assert.rejects(p, (e: Error) => e instanceof ParityCancelled);
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(runOnnxParity({ reference: REF, candidate: PORT }, { signal: pre.signal }), ParityCancelled);
});
