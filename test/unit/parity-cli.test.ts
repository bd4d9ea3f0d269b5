/**
 * `tensorport parity` as a user runs it: the built CLI (dist/cli.js, with its worker
 * dist/parityWorker.js) in a child process — the --json document of parity.md, the table, and the exit
 * codes 0 pass, 1 fail, 2 cannot run. Build first: `node esbuild.mjs`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { FIXTURES } from '../support/tmp';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
const P = path.join(FIXTURES, 'parity');
const PY = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'import sys; sys.exit(0 if sys.version_info[0] == 3 else 1)']).status === 0);

function parity(...args: string[]) {
  const r = spawnSync(process.execPath, [BIN, 'parity', ...args], { encoding: 'utf8', cwd: P, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const base = ['--reference', 'ref.onnx', '--candidate', 'port.onnx', '--input', 'input_ids=input_ids.npy', '--device', 'cpu'];

test('parity --json prints the documented document and exits 0 when the mapping is right', () => {
  const r = parity(...base, '--weights', 'port_correct.tpmap', '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const doc = JSON.parse(r.out);
  assert.equal(doc.pass, true);
  assert.equal(doc.device, 'cpu');
  assert.equal(doc.dtype, 'fp32');
  assert.deepEqual(Object.keys(doc.outputs[0]).filter((k) => ['name', 'shape', 'maxAbsDiff', 'maxRelDiff', 'cosine', 'worstIndex', 'pass'].includes(k)).sort(),
    ['cosine', 'maxAbsDiff', 'maxRelDiff', 'name', 'pass', 'shape', 'worstIndex']);
  assert.equal(doc.outputs[0].name, 'last_hidden_state');
  assert.deepEqual(doc.outputs[0].shape, [1, 7, 16]);
  assert.ok(doc.outputs[0].maxAbsDiff < 1e-5);
  assert.equal(doc.outputs[0].worstIndex.length, 3);
  assert.equal(typeof doc.timings.loadMs, 'number');
  assert.equal(typeof doc.timings.runMs, 'number');
  assert.deepEqual(doc.tolerance, { atol: 1e-5, rtol: 1.3e-6 });
});

test('a fault exits 1; --layers names the first diverging pair and the mapping line', () => {
  const r = parity(...base, '--weights', 'port_transpose_fault.tpmap', '--layers', '--json');
  assert.equal(r.code, 1, r.err);
  const doc = JSON.parse(r.out);
  assert.equal(doc.pass, false);
  assert.match(doc.firstDivergence.reference, /layer\.1\/attention\/output/);
  assert.match(doc.firstDivergence.candidate, /blocks\.1\/attn\/o/);
  assert.ok(doc.firstDivergence.maxAbsDiff > 0.1);
  assert.equal(doc.firstDivergence.mapping[0].line, 15);
  const t = parity(...base, '--weights', 'port_transpose_fault.tpmap', '--layers');
  assert.equal(t.code, 1);
  assert.match(t.out, /^output\s+shape\s+max abs\s+max rel\s+cosine\s+worst at\s+result$/m);
  assert.match(t.out, /^last_hidden_state\s+\[1, 7, 16\]\s+\S+\s+\S+\s+\S+\s+\[0, \d, \d+\]\s+FAIL \(\d+ of 112 elements — would pass with atol \S+ or rtol \S+\)$/m);
  assert.match(t.out, /first divergence .*:\n {2}reference {2}\/layer\.1\/attention\/output\/MatMul_output_0\n {2}candidate {2}\/blocks\.1\/attn\/o\/MatMul_output_0/);
  assert.match(t.out, /port_transpose_fault\.tpmap:15: encoder\.layer\.1\.attention\.output\.weight -> blocks\.1\.attn\.o\.weight/);
  assert.match(t.out, /\nFAIL: 1 of 1 output outside tolerance\n$/);
});

test('--dtype fp16 reports fp16 tolerances', () => {
  const r = parity(...base, '--weights', 'port_correct.tpmap', '--dtype', 'fp16', '--json');
  const doc = JSON.parse(r.out);
  assert.equal(doc.dtype, 'fp16');
  assert.deepEqual(doc.tolerance, { atol: 1e-5, rtol: 1e-3 });
  assert.equal(r.code, doc.pass ? 0 : 1);
  const loose = parity(...base, '--weights', 'port_correct.tpmap', '--dtype', 'fp16', '--atol', '0.05');
  assert.equal(loose.code, 0, loose.out);
  assert.match(loose.out, /dtype fp16 · atol 0\.05 rtol 1e-3/);
});

test('cannot run: exit 2 with one line naming the file and the reason, no stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['--reference', 'ref.onnx', '--candidate', 'missing.onnx'], /^tensorport: candidate missing\.onnx: no such file\n$/],
    [[...base, '--device', 'cuda'], /^tensorport: --device cuda: /],
    [['--reference', 'fp32_mask_ref.onnx', '--candidate', 'fp16_mask.onnx', '--dtype', 'fp16'], /^tensorport: candidate fp16_mask\.onnx: onnxruntime cannot load it: node \/attn\/mask_add: /],
    [['--reference', 'ref.onnx'], /^tensorport: parity needs --reference and --candidate \(or --command\)/],
    [[...base, '--dtype', 'fp64'], /^tensorport: --dtype fp64: expected one of fp32, fp16, bf16/],
    [[...base, '--input', 'nope=random:1x2'], /^tensorport: --input nope: the reference model has no input "nope"/],
    [[...base, '--frobnicate'], /^tensorport: parity: unknown option --frobnicate; .* \(tensorport parity --help\)\n$/],
    [['--command', 'true', '--layers'], /^tensorport: --command runs your script instead of ONNX models: --layers does not apply/],
  ];
  for (const [args, re] of cases) {
    const r = parity(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    assert.equal(r.out, '');
  }
});

test('--command runs a script and reads its protocol', { skip: PY ? false : 'no python3 on PATH' }, () => {
  const r = parity('--command', `${PY} stdlib_parity.py --fault`, '--cwd', path.join(P, 'command'), '--json');
  assert.equal(r.code, 1, r.err);
  const doc = JSON.parse(r.out);
  assert.equal(doc.mode, 'command');
  assert.equal(doc.firstDivergence.reference, 'layers.0.linear');
  assert.match(r.err, /reference: torch-like/, 'the script\'s stderr is passed through');
  const dead = parity('--command', `${PY} bad_scripts.py dies`, '--cwd', path.join(P, 'command'));
  assert.equal(dead.code, 2);
  assert.match(dead.err, /tensorport: `.*bad_scripts\.py dies` exited with code 3 before sending \{"event":"done"\}/);
  // The reasons after the first line stay lines of their own, not `\x0a` inside one.
  assert.match(dead.err, /\(after 1 event\)\nlast lines of its stderr:\nTraceback \(most recent call last\):\n {2}RuntimeError: CUDA out of memory\n$/);
});
