/**
 * The parity runner's pure parts on real files where there are files: the comparison and its
 * required tolerances, the .npy reader against what numpy wrote, half-precision rounding, generated
 * inputs, the mapping transforms on data, ONNX editing at the wire level, layer selection and pairing,
 * and the command-mode line parser.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { readOnnx } from '../../server/src/formats/onnx/onnxReader';
import { flatten, parseEventLine, separateInterleaved } from '../../server/src/parity/commandMode';
import { DEFAULT_TOLERANCE, compareArrays, unravel } from '../../server/src/parity/compare';
import { emulateHalf } from '../../server/src/parity/halfPrecision';
import { bf16ToFloat, floatToBf16, floatToFp16, fp16ToFloat, toFloat64 } from '../../server/src/parity/hostTensor';
import { buildInputs, generate, parseInputSpec } from '../../server/src/parity/inputs';
import { layerValues, nodeScope, pairLayers } from '../../server/src/parity/layers';
import { readNpyFile } from '../../server/src/parity/npy';
import { DT, editModel, parseModel, tensorBytes } from '../../server/src/parity/onnxModel';
import { ParityError } from '../../server/src/parity/parityError';
import { nodeInError } from '../../server/src/parity/runOnnx';
import { FIXTURES, scratchDir } from '../support/tmp';

const P = path.join(FIXTURES, 'parity');
const fp32 = DEFAULT_TOLERANCE.fp32;
const tmp = scratchDir('parity');

// ---- comparison --------------------------------------------------------------------------------

test('identical tensors pass with zero differences, cosine 1 and no tolerance needed', () => {
  const c = compareArrays([1, -2, 3, 0], [1, -2, 3, 0], [2, 2], fp32);
  assert.equal(c.pass, true);
  assert.equal(c.maxAbsDiff, 0);
  assert.equal(c.maxRelDiff, 0);
  assert.equal(c.cosine, 1);
  assert.deepEqual(c.requiredTolerance, { atol: 0, rtol: 0 });
  assert.equal(c.mismatches, 0);
});

test('differences are measured as torch.testing.assert_close does, with the worst element as a multi-index', () => {
  const c = compareArrays([1, 2, 0, -4], [1, 2.5, 1e-6, -4], [2, 2], fp32);
  assert.equal(c.pass, false);
  assert.equal(c.maxAbsDiff, 0.5);
  assert.equal(c.maxRelDiff, Infinity, 'a nonzero difference over a zero reference is infinitely relative');
  assert.deepEqual(c.worstIndex, [0, 1]);
  assert.equal(c.mismatches, 1, '1e-6 over a zero reference is within atol 1e-5');
  assert.ok(Math.abs(c.requiredTolerance.atol - (0.5 - 1.3e-6 * 2)) < 1e-12);
  assert.ok(Math.abs(c.requiredTolerance.rtol - (0.5 - 1e-5) / 2) < 1e-12);
  const cos = (1 * 1 + 2 * 2.5 + 16) / Math.sqrt((1 + 4 + 16) * (1 + 6.25 + 1e-12 + 16));
  assert.ok(Math.abs(c.cosine - cos) < 1e-12);
});

test('the required tolerances are the smallest that pass (property)', () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.double({ min: -100, max: 100, noNaN: true }), fc.double({ min: -1, max: 1, noNaN: true })), { minLength: 1, maxLength: 40 }),
    fc.double({ min: 0, max: 1e-2, noNaN: true }), fc.double({ min: 0, max: 1e-2, noNaN: true }),
    (pairs, atol, rtol) => {
      const ref = pairs.map(([r]) => r);
      const cand = pairs.map(([r, d]) => r + d);
      const c = compareArrays(ref, cand, [ref.length], { atol, rtol });
      const slack = 1 + 1e-9;
      assert.equal(compareArrays(ref, cand, [ref.length], { atol: c.requiredTolerance.atol * slack + 1e-300, rtol }).pass, true);
      if (Number.isFinite(c.requiredTolerance.rtol)) assert.equal(compareArrays(ref, cand, [ref.length], { atol, rtol: c.requiredTolerance.rtol * slack + 1e-300 }).pass, true);
      if (c.requiredTolerance.atol > atol * 1e-6 && c.requiredTolerance.atol > 1e-12) {
        assert.equal(compareArrays(ref, cand, [ref.length], { atol: c.requiredTolerance.atol * 0.99, rtol }).pass, false);
      }
      assert.equal(c.pass, c.mismatches === 0);
    }), { numRuns: 300 });
});

test('NaN matches NaN at the same place; NaN on one side fails and is the worst element', () => {
  assert.equal(compareArrays([1, NaN], [1, NaN], [2], fp32).pass, true);
  const c = compareArrays([1, 2, 3], [1, NaN, 30], [3], fp32);
  assert.equal(c.pass, false);
  assert.deepEqual(c.worstIndex, [1]);
  assert.ok(Number.isNaN(c.maxAbsDiff) && Number.isNaN(c.cosine));
  assert.deepEqual(c.requiredTolerance, { atol: Infinity, rtol: Infinity });
  assert.equal(compareArrays([Infinity, -1], [Infinity, -1], [2], fp32).pass, true);
  const inf = compareArrays([Infinity, 1], [1e30, 1], [2], fp32);
  assert.equal(inf.pass, false);
  assert.deepEqual(inf.worstIndex, [0]);
});

test('shapes that differ are a failure with the reason, and indices unravel in row-major order', () => {
  assert.match(compareArrays([1, 2], [1, 2, 3], [2], fp32).reason!, /shapes differ/);
  assert.deepEqual(unravel(23, [2, 3, 4]), [1, 2, 3]);
  assert.deepEqual(unravel(5, [2, 3]), [1, 2]);
});

// ---- .npy ----------------------------------------------------------------------------------------

const DTYPE: Record<string, string> = { '<f4': 'float32', '<f8': 'float64', '<f2': 'float16', '<i8': 'int64', '<i4': 'int32', '|b1': 'bool' };

test('.npy files written by numpy read back with their dtype, shape and values (versions 1 and 2)', () => {
  const expected = JSON.parse(readFileSync(path.join(P, 'npy', 'expected.json'), 'utf8')) as Record<string, { dtype: string; shape: number[]; values: number[] }>;
  assert.ok(Object.keys(expected).length >= 8);
  for (const [name, e] of Object.entries(expected)) {
    const t = readNpyFile(path.join(P, 'npy', `${name}.npy`));
    assert.equal(t.dtype, DTYPE[e.dtype], name);
    assert.deepEqual(t.dims, e.shape, name);
    assert.deepEqual([...toFloat64(t)], e.values, name);
  }
  const ids = readNpyFile(path.join(P, 'input_ids.npy'));
  assert.equal(ids.dtype, 'int64');
  assert.deepEqual([...toFloat64(ids)], [3, 1, 4, 1, 5, 9, 2]);
});

test('.npy files the reader cannot use are refused with the file and the reason', () => {
  const err = (f: string) => { try { readNpyFile(f); } catch (e) { assert.ok(e instanceof ParityError); return (e as Error).message; } assert.fail(`${f} was accepted`); };
  assert.match(err(path.join(P, 'npy', 'fortran.npy')), /fortran\.npy: .*Fortran \(column-major\) order/);
  assert.match(err(path.join(P, 'npy', 'big_endian.npy')), /dtype '>f4' is not supported/);
  const good = readFileSync(path.join(P, 'npy', 'f4.npy'));
  assert.match(err(tmp.file('short.npy', good.subarray(0, good.length - 3))), /needs 24 bytes of data, the file has 21/);
  assert.match(err(tmp.file('text.npy', 'hello')), /does not start with \\x93NUMPY/);
  assert.match(err(path.join(P, 'npy', 'missing.npy')), /missing\.npy: no such file/);
});

// ---- half precision ------------------------------------------------------------------------------

test('fp16 and bf16 rounding: nearest even, overflow to infinity, every bit pattern round-trips', () => {
  assert.equal(floatToFp16(1), 0x3c00);
  assert.equal(floatToFp16(65504), 0x7bff);
  assert.equal(floatToFp16(65520), 0x7c00, '65520 rounds up to infinity in fp16');
  assert.equal(floatToFp16(-2), 0xc000);
  assert.equal(floatToFp16(6e-8), 0x0001, 'the smallest subnormal');
  assert.equal(floatToFp16(2e-8), 0, 'below half the smallest subnormal');
  assert.equal(floatToFp16(1 + 2 ** -11), 0x3c00, 'a tie rounds to even');
  assert.equal(floatToFp16(1 + 3 * 2 ** -11), 0x3c02);
  assert.ok(Number.isNaN(fp16ToFloat(floatToFp16(NaN))));
  assert.equal(bf16ToFloat(floatToBf16(1.001)), 1);
  assert.equal(bf16ToFloat(floatToBf16(3.14159)), 3.140625);
  for (let h = 0; h < 0x10000; h++) {
    const f = fp16ToFloat(h);
    if (!Number.isNaN(f)) assert.equal(floatToFp16(f), h, `fp16 ${h.toString(16)}`);
    const b = bf16ToFloat(h);
    if (!Number.isNaN(b)) assert.equal(floatToBf16(b), h, `bf16 ${h.toString(16)}`);
  }
});

// ---- inputs --------------------------------------------------------------------------------------

test('generated inputs are deterministic in the seed and the name, and follow their kind', () => {
  const a = generate('x', 'float32', [4, 8], 1);
  assert.deepEqual(a.data, generate('x', 'float32', [4, 8], 1).data);
  assert.notDeepEqual(a.data, generate('x', 'float32', [4, 8], 2).data);
  assert.notDeepEqual(a.data, generate('y', 'float32', [4, 8], 1).data);
  const v = [...(a.data as Float32Array)];
  const mean = v.reduce((s, x) => s + x, 0) / v.length;
  assert.ok(Math.abs(mean) < 0.6 && v.some((x) => x < 0) && v.some((x) => x > 0), 'roughly N(0, 1)');
  const ids = [...(generate('input_ids', 'int64', [2, 50], 0).data as BigInt64Array)].map(Number);
  assert.ok(ids.every((x) => x >= 0 && x < 10) && new Set(ids).size > 5);
  assert.ok([...(generate('attention_mask', 'int64', [1, 5], 0).data as BigInt64Array)].every((x) => x === 1n));
  assert.deepEqual([...(generate('position_ids', 'int64', [2, 3], 0).data as BigInt64Array)].map(Number), [0, 1, 2, 0, 1, 2]);
  assert.ok([...(generate('token_type_ids', 'int32', [1, 4], 0).data as Int32Array)].every((x) => x === 0));
});

test('a given input binds the symbolic dimensions the generated ones follow; bad specs name the input', () => {
  const metas = [
    { name: 'input_ids', type: 'int64', shape: ['batch', 'seq'] as (number | string)[] },
    { name: 'attention_mask', type: 'int64', shape: ['batch', 'seq'] as (number | string)[] },
    { name: 'pixel', type: 'float32', shape: [1, 3] as (number | string)[] },
  ];
  const r = buildInputs(metas, [parseInputSpec('input_ids=random:2x7')], 0);
  assert.deepEqual(r.feeds.get('attention_mask')!.dims, [2, 7]);
  assert.deepEqual(r.report.map((i) => [i.name, i.source]), [['input_ids', 'random'], ['attention_mask', 'generated'], ['pixel', 'generated']]);
  const alone = buildInputs(metas, [], 0);
  assert.deepEqual(alone.feeds.get('input_ids')!.dims, [1, 1]);
  assert.match(alone.notes.join('\n'), /symbolic dimensions "batch", "seq" set to 1/);
  assert.throws(() => buildInputs(metas, [parseInputSpec('ids=random:1x2')], 0), /no input "ids" \(its inputs: input_ids, attention_mask, pixel\)/);
  assert.throws(() => buildInputs(metas, [parseInputSpec('pixel=random:1x4')], 0), /dimension 1 is 4, input "pixel" needs 3/);
  assert.throws(() => buildInputs(metas, [parseInputSpec('pixel=random:3')], 0), /has 1 dimensions, input "pixel" has 2/);
  assert.throws(() => parseInputSpec('x=random:2xa'), /SHAPE is sizes separated by x/);
  assert.throws(() => parseInputSpec('novalue'), /NAME=FILE\.npy or NAME=random:SHAPE/);
  assert.deepEqual(parseInputSpec('a=b=c.npy'), { name: 'a', file: 'b=c.npy' });
  const fromFile = buildInputs([{ name: 'input_ids', type: 'int32', shape: [1, 'seq'] }], [{ name: 'input_ids', file: path.join(P, 'input_ids.npy') }], 0);
  assert.equal(fromFile.feeds.get('input_ids')!.dtype, 'int32');
  assert.match(fromFile.notes[0], /holds int64; converted to int32/);
});

// ---- transforms on data --------------------------------------------------------------------------

// ---- ONNX at the wire level ---------------------------------------------------------------------

test('an ONNX model parses to the reader\'s initializers and re-encodes byte for byte when nothing changes', async () => {
  const file = path.join(P, 'ref.onnx');
  const bytes = readFileSync(file);
  const m = parseModel(bytes, file);
  const info = await readOnnx(file, file);
  assert.deepEqual(m.initializers.map((t) => [t.name, t.dims]), info.tensors.filter((t) => !t.constant).map((t) => [t.key, t.shape]));
  assert.deepEqual(m.inputs.map((v) => v.name), ['input_ids']);
  assert.ok(editModel(m, {}).equals(bytes));
  assert.throws(() => parseModel(bytes.subarray(0, 1000), file), /ref\.onnx: (malformed ONNX protobuf|not an ONNX model)/);
});

test('half-precision emulation rounds every float initializer to fp16 and rounds computed values after each node', () => {
  const file = path.join(P, 'ref.onnx');
  const m = parseModel(readFileSync(file), file);
  const half = emulateHalf(m, 'fp16');
  assert.equal(half.alreadyHalf, false);
  const h = parseModel(half.bytes!, file);
  assert.equal(half.rounded.initializers, m.initializers.length);
  for (const t of h.initializers) {
    const v = new Float32Array(new Uint8Array(tensorBytes(h, t.field)).buffer);
    for (const x of v) assert.equal(fp16ToFloat(floatToFp16(x)), x, `${t.name} holds a value fp16 cannot`);
  }
  const casts = h.nodes.filter((n) => n.op === 'Cast' && n.attrs.some((a) => a.name === 'to' && a.i === DT.FLOAT16));
  assert.equal(casts.length, half.rounded.values);
  assert.ok(half.rounded.values > 50);
  const fp16 = parseModel(readFileSync(path.join(P, 'fp16_mask.onnx')), 'fp16_mask.onnx');
  assert.equal(emulateHalf(fp16, 'fp16').alreadyHalf, true);
});

test('layers are the float values computed from the inputs, scoped by module path', () => {
  const m = parseModel(readFileSync(path.join(P, 'ref.onnx')), 'ref.onnx');
  const values = layerValues(m);
  const names = new Set(values.map((v) => v.name));
  assert.ok(names.has('/encoder/layer.0/attention/query/Add_output_0') || names.has('/layer.0/attention/query/Add_output_0'));
  assert.ok(!values.some((v) => v.op === 'Shape' || v.op === 'Constant'), 'shape arithmetic is not a layer');
  assert.ok(!names.has('/layer.0/attention/query/Transpose_output_0'), 'a weight\'s transpose does not depend on the input');
  assert.ok(!values.some((v) => v.name.includes('Gather_output_0') && v.scope.includes('attention')), 'shape gathers are integers');
  assert.equal(nodeScope('/encoder/layer.0/attention/query/MatMul'), 'encoder.layer.0.attention.query');
  assert.equal(nodeScope('Identity_3'), '');
});

test('pairing: mapped modules anchor, crossing anchors give way, the rest pairs by order and shape', () => {
  const v = (name: string, scope: string, op: string, order: number, dims = [1, 4]) => ({ name, node: name, scope, op, order, dims });
  const ref = [v('r.q', 'a.query', 'MatMul', 0), v('r.k', 'a.key', 'MatMul', 1), v('r.s', 'a', 'MatMul', 2, [4, 4]), v('r.o', 'a', 'Softmax', 3, [4, 4])];
  const cand = [v('c.q', 'b.q', 'MatMul', 0), v('c.k', 'b.k', 'MatMul', 1), v('c.s', 'b', 'MatMul', 2, [4, 4]), v('c.o', 'b', 'Softmax', 3, [4, 4])];
  const straight = pairLayers(ref, cand, [{ source: 'a.query', target: 'b.q' }, { source: 'a.key', target: 'b.k' }]);
  assert.deepEqual(straight.map((p) => [p.reference.name, p.candidate.name, p.pairedBy]),
    [['r.q', 'c.q', 'mapping'], ['r.k', 'c.k', 'mapping'], ['r.s', 'c.s', 'order'], ['r.o', 'c.o', 'order']]);
  const swapped = pairLayers(ref, cand, [{ source: 'a.query', target: 'b.k' }, { source: 'a.key', target: 'b.q' }]);
  assert.equal(swapped.filter((p) => p.pairedBy === 'mapping').length, 1, 'of two crossing anchors one is kept');
  assert.deepEqual(swapped.slice(-2).map((p) => [p.reference.name, p.candidate.name]), [['r.s', 'c.s'], ['r.o', 'c.o']]);
});

// ---- command mode's lines and runtime messages -----------------------------------------------------

test('another rank\'s text inside an event line (PYTHONUNBUFFERED writes text and newline apart) is taken out', () => {
  assert.deepEqual(separateInterleaved('[rank 1/2] starting{"event": "tensor", "name": "h"}'), { event: '{"event": "tensor", "name": "h"}', text: '[rank 1/2] starting' });
  assert.deepEqual(separateInterleaved('{"event": "done"}[rank 1/2] starting'), { event: '{"event": "done"}', text: '[rank 1/2] starting' });
  // Braces and escaped quotes inside strings do not end the event.
  assert.deepEqual(separateInterleaved('[r]{"event":"log","message":"a}b\\"{c"}'), { event: '{"event":"log","message":"a}b\\"{c"}', text: '[r]' });
  // One thing alone stays as it is: plain text, an event, or a broken event (which is then an error).
  assert.equal(separateInterleaved('{"event":"done"}'), undefined);
  assert.equal(separateInterleaved('[rank 1/2] starting'), undefined);
  assert.equal(separateInterleaved('{"event": "tensor", "name": "b"'), undefined);
});

test('protocol lines: JSON objects, with the bare NaN and Infinity Python writes', () => {
  assert.deepEqual(parseEventLine('{"event":"done"}'), { event: 'done' });
  const e = parseEventLine('{"event":"tensor","name":"NaN Infinity","reference":[NaN, -Infinity],"candidate":[1,Infinity]}');
  assert.equal(e.name, 'NaN Infinity');
  assert.ok(Number.isNaN((e.reference as number[])[0]));
  assert.equal((e.reference as number[])[1], -Infinity);
  assert.equal((e.candidate as number[])[1], Infinity);
  assert.throws(() => parseEventLine('{"event": "tensor", "name": "b", "reference": [1.0,'));
  assert.throws(() => parseEventLine('[1, 2]'), /not a JSON object/);
  assert.deepEqual(flatten([[1, 2], [3, 4], [5, 6]], 'x'), { values: [1, 2, 3, 4, 5, 6], shape: [3, 2] });
  assert.deepEqual(flatten(2.5, 'x'), { values: [2.5], shape: [] });
  assert.throws(() => flatten([[1, 2], [3]], 'reference'), /"reference" is ragged/);
  assert.throws(() => flatten([1, 'a'], 'candidate'), /holds string where a number belongs/);
});

test('runtime errors name the node at fault', () => {
  assert.equal(nodeInError('Type Error: Type parameter (T) of Optype (Add) bound to different types (tensor(float16) and tensor(float) in node (/attn/mask_add).'), '/attn/mask_add');
  assert.equal(nodeInError("Could not find an implementation for MatMul(13) node with name '/blocks.0/attn/q/MatMul'"), '/blocks.0/attn/q/MatMul');
  assert.equal(nodeInError('nothing here'), undefined);
});
