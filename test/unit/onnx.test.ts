/**
 * The ONNX reader on real exports (torch.onnx, onnx.helper, external data) checked against what the
 * onnx library itself parsed (the fixtures' sidecars), and on truncated, random and hand-made broken
 * protobufs, which must fail as ReaderErrors, fast.
 */
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readOnnx } from '../../server/src/formats/onnx/onnxReader';
import { ReaderError } from '../../server/src/formats/readerError';
import type { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'onnx');
const TINY = path.join(DIR, 'tiny_attn.onnx');
const HELPER = path.join(DIR, 'gemm_helper.onnx');
const EXTERNAL = path.join(DIR, 'external', 'model.onnx');
const ESCAPE = path.join(DIR, 'external_escape.onnx');
const tmp = scratchDir('onnx');

interface Expected {
  producer_name: string;
  producer_version: string;
  ir_version: number;
  opset: Record<string, number>;
  metadata_props: Record<string, string>;
  tensors: { key: string; dtype: string; shape: number[]; consumers: string[]; first_bytes?: string; raw?: boolean; external?: Record<string, string> }[];
  inputs: { name: string; dtype: string; shape: (number | string)[] }[];
  outputs: { name: string; dtype: string; shape: (number | string)[] }[];
  sparse_initializers: number;
}

function sidecar(model: string): Expected {
  return JSON.parse(readFileSync(model.replace(/\.onnx$/, '.expected.json'), 'utf8'));
}

async function rejects(file: string, reason?: RegExp): Promise<ReaderError> {
  try {
    await readOnnx(file, file);
  } catch (e) {
    assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${String(e)}`);
    assert.equal(e.code, 'unreadable-checkpoint');
    assert.equal(e.internal, false, `an internal error escaped the reader: ${e.reason}`);
    if (reason) assert.match(e.reason, reason);
    return e;
  }
  assert.fail(`${file} was read without error`);
}

// external_escape.onnx is refused (its external data leaves the model's folder): tested below.
for (const model of [TINY, HELPER, EXTERNAL]) {
  test(`${path.relative(DIR, model)}: keys, dtypes, shapes, consumers, graph and metadata match the onnx library`, async () => {
    const exp = sidecar(model);
    const info = await readOnnx(model, model);
    assert.equal(info.format, 'onnx');
    assert.equal(info.framework, 'onnx');
    assert.equal(info.file, model);
    // The sidecars list initializers (onnx's graph.initializer); Constant nodes' values come after them here.
    const inits = info.tensors.filter((t) => !t.constant);
    assert.deepEqual(inits.map((t) => t.key), exp.tensors.map((t) => t.key));
    for (const [i, t] of inits.entries()) {
      assert.equal(t.dtype, exp.tensors[i].dtype, t.key);
      assert.deepEqual(t.shape, exp.tensors[i].shape, t.key);
      assert.deepEqual(t.consumers ?? [], exp.tensors[i].consumers, t.key);
    }
    assert.deepEqual(info.graph, { inputs: exp.inputs, outputs: exp.outputs });
    assert.equal(info.metadata!.producer_name, exp.producer_name);
    if (exp.producer_version) assert.equal(info.metadata!.producer_version, exp.producer_version);
    assert.equal(info.metadata!.ir_version, String(exp.ir_version));
    assert.equal(info.metadata!.opset, String(exp.opset['']));
    for (const [k, v] of Object.entries(exp.metadata_props)) assert.equal(info.metadata![k], v);
  });
}

test('torch export: folded MatMul weights, Gemm transB=1 head, Conv weight, symbolic input dims', async () => {
  const info = await readOnnx(TINY, 'tiny_attn.onnx');
  const byKey = new Map(info.tensors.map((t) => [t.key, t]));
  assert.deepEqual(byKey.get('head.weight')!.consumers, ['Gemm.B.transB']);
  assert.deepEqual(byKey.get('head.weight')!.shape, [3, 8]);
  assert.deepEqual(byKey.get('conv.weight')!.consumers, ['Conv.W']);
  const folded = info.tensors.filter((t) => /^onnx::MatMul_\d+$/.test(t.key));
  assert.equal(folded.length, 4);
  for (const t of folded) assert.deepEqual(t.consumers, ['MatMul.B']);
  assert.deepEqual(info.graph!.inputs, [{ name: 'x', dtype: 'F32', shape: ['batch', 4, 'seq'] }]);
  assert.deepEqual(info.graph!.outputs, [{ name: 'logits', dtype: 'F32', shape: ['batch', 3] }]);
  // torch's exporter keeps shape arithmetic as Constant nodes: listed after the initializers, marked.
  const constants = info.tensors.filter((t) => t.constant);
  assert.deepEqual(constants.map((t) => t.key), ['/Constant_output_0', '/norm/Constant_output_0', '/norm/Constant_1_output_0']);
  assert.deepEqual(info.notes, ["3 tensors are Constant nodes' values (weights or shapes an exporter folded into the graph), listed beside the initializers"]);
  assert.equal(info.metadata!.producer_name, 'pytorch');
});

test('onnx.helper model: Gemm transB=0 and 1, MatMul, typed fields, sparse initializer, metadata_props', async () => {
  const info = await readOnnx(HELPER, 'gemm_helper.onnx');
  const byKey = new Map(info.tensors.map((t) => [t.key, t]));
  assert.deepEqual(byKey.get('w1')!.consumers, ['Gemm.B']);
  assert.deepEqual(byKey.get('w2')!.consumers, ['Gemm.B.transB']);
  assert.deepEqual(byKey.get('w3')!.consumers, ['MatMul.B']);
  assert.equal(byKey.get('w3')!.dtype, 'F16');
  // int64_data is varint-coded: listed, but with no byte range, and a note says why.
  assert.equal(byKey.get('shape')!.location, undefined);
  assert.ok(info.notes.some((n) => /1 tensor stores its values in typed protobuf fields/.test(n)), info.notes.join('\n'));
  assert.ok(info.notes.includes('1 sparse initializer is not listed'), info.notes.join('\n'));
  assert.equal(info.metadata!.author, 'tensorport');
  assert.deepEqual(info.graph!.outputs, [{ name: 'Y', dtype: 'F16', shape: ['?', 2] }]);
});

test('locations point at each tensor\'s bytes: raw_data, packed float_data and external data', async () => {
  for (const model of [TINY, HELPER, EXTERNAL]) {
    const exp = sidecar(model);
    const info = await readOnnx(model, model);
    let checked = 0;
    for (const [i, t] of info.tensors.filter((x) => !x.constant).entries()) {
      const want = exp.tensors[i].first_bytes;
      if (!t.location || want === undefined) continue;
      const bytes = readFileSync(t.location.file);
      assert.ok(t.location.offset + t.location.length <= bytes.length, t.key);
      assert.equal(bytes.subarray(t.location.offset, t.location.offset + want.length / 2).toString('hex'), want, `${model} ${t.key}`);
      checked++;
    }
    assert.ok(checked >= 4, `${model}: only ${checked} locations checked`);
  }
  const w2 = (await readOnnx(HELPER, 'h')).tensors.find((t) => t.key === 'w2')!;
  assert.equal(w2.location!.length, 5 * 6 * 4, 'float_data located as plain floats');
});

test('external data: locations name the external file, which the reader never opens', async () => {
  const exp = sidecar(EXTERNAL);
  const copy = path.join(tmp.dir, 'model.onnx');
  copyFileSync(EXTERNAL, copy); // no weights.bin next to the copy
  const info = await readOnnx(copy, 'model.onnx');
  const weights = path.join(tmp.dir, 'weights.bin');
  for (const [i, t] of info.tensors.filter((x) => !x.constant).entries()) {
    const ext = exp.tensors[i].external!;
    assert.deepEqual(t.location, { file: weights, offset: Number(ext.offset), length: Number(ext.length), within: tmp.dir, external: 'weights.bin' }, t.key);
  }
  assert.deepEqual(info.notes.filter((n) => !n.includes('Constant nodes')), []);
});

test('an external location outside the model\'s folder is refused, naming the model and the location', async () => {
  await assert.rejects(readOnnx(ESCAPE, 'external_escape.onnx'),
    /^ReaderError: external_escape\.onnx: initializer "escaped": external data location "\.\.\/outside\.bin" resolves outside the model's folder/);
  for (const loc of ['/etc/passwd', 'C:\\weights.bin', 'a/../../b.bin']) {
    const file = tmp.file('escape2.onnx', model([tensorProto({ name: 'w', dims: [1], dataType: 1, external: { location: loc } })]));
    await assert.rejects(readOnnx(file, file), /resolves outside the model's folder/, loc);
  }
  // Spelt inside, but a symlink to a file elsewhere: where it resolves is what counts.
  const dir = path.join(tmp.dir, 'linked');
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(tmp.dir, 'elsewhere.bin'), Buffer.alloc(4));
  symlinkSync(path.join(tmp.dir, 'elsewhere.bin'), path.join(dir, 'w.bin'));
  const linked = path.join(dir, 'm.onnx');
  writeFileSync(linked, model([tensorProto({ name: 'w', dims: [1], dataType: 1, external: { location: 'w.bin' } })]));
  await assert.rejects(readOnnx(linked, 'm.onnx'), /^ReaderError: m\.onnx: initializer "w": external data location "w\.bin" resolves outside/);
  // A symlink that stays in the folder is followed.
  writeFileSync(path.join(dir, 'real.bin'), Buffer.alloc(4));
  const inside = path.join(dir, 'in.onnx');
  writeFileSync(inside, model([tensorProto({ name: 'w', dims: [1], dataType: 1, external: { location: 'real.bin' } })]));
  assert.equal((await readOnnx(inside, 'in.onnx')).tensors[0].location?.file, path.join(dir, 'real.bin'));
});

test('every truncation fails with a ReaderError, unless the cut leaves the whole graph intact', async () => {
  for (const model of [TINY, HELPER, EXTERNAL]) {
    const bytes = readFileSync(model);
    const full = await readOnnx(model, model);
    const target = path.join(tmp.dir, `cut-${path.basename(model)}`);
    // Every byte near both ends (headers, the last fields), every thirteenth in between.
    for (let cut = 0; cut < bytes.length; cut += cut < 64 || cut > bytes.length - 64 ? 1 : 13) {
      tmp.file(path.basename(target), bytes.subarray(0, cut));
      let info: CheckpointInfo | undefined;
      try {
        info = await readOnnx(target, target);
      } catch (e) {
        assert.ok(e instanceof ReaderError && e.code === 'unreadable-checkpoint', `cut ${cut}: ${String(e)}`);
        continue;
      }
      // Protobuf has no end marker: a cut between top-level fields after the graph is a valid, smaller model.
      assert.deepEqual(info.tensors.map((t) => t.key), full.tensors.map((t) => t.key), `cut ${cut} succeeded with a partial graph`);
    }
    for (const cut of [0, 1, 10, Math.floor(bytes.length / 2), bytes.length - 1]) {
      await rejects(tmp.file(path.basename(target), bytes.subarray(0, cut)));
    }
  }
});

test('random bytes, text, a GGUF and a zip named .onnx are "not an ONNX model"', async () => {
  let seed = 42;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 200; i++) {
    const buf = Buffer.alloc(1 + Math.floor(rand() * 3000), 0);
    for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
    const e = await rejects(tmp.file('random.onnx', buf));
    assert.match(e.reason, /^not an ONNX model: /, `random #${i}: ${e.reason}`);
  }
  await rejects(tmp.file('empty.onnx', Buffer.alloc(0)), /^not an ONNX model: the file is empty$/);
  await rejects(tmp.file('text.onnx', 'hello, this is not a model\n'), /^not an ONNX model: /);
  await rejects(tmp.file('gguf.onnx', readFileSync(path.join(FIXTURES, 'gguf', 'tiny.gguf'))), /^not an ONNX model: /);
  await rejects(tmp.file('zip.onnx', Buffer.from('PK\x03\x04\x14\x00\x00\x00', 'latin1')), /^not an ONNX model: /);
  // Valid protobuf, but not a model: no graph.
  await rejects(tmp.file('nograph.onnx', Buffer.concat([tag(1, 0), varint(7)])), /^not an ONNX model: it has no graph/);
  await rejects(tmp.file('wrongwire.onnx', Buffer.concat([tag(1, 0), varint(7), tag(7, 0), varint(3)])), /ModelProto field 7 \(graph\) has wire type VARINT, expected LEN/);
});

test('huge lengths, overlong varints and bad tensors fail fast with a reason and an offset', async () => {
  const head = Buffer.concat([tag(1, 0), varint(7)]);
  const huge = Buffer.concat([head, tag(7, 2), varint(2 ** 60), Buffer.alloc(16)]);
  const started = Date.now();
  const e1 = await rejects(tmp.file('huge.onnx', huge), /field 7 claims \d+ bytes but only 16 remain in its message \(truncated file\?\)/);
  assert.equal(e1.offset, 2);
  const e2 = await rejects(tmp.file('varint.onnx', Buffer.concat([head, Buffer.alloc(11, 0xff)])), /varint longer than 10 bytes/);
  assert.equal(e2.offset, 2);
  const inner = Buffer.concat([tag(5, 2), varint(2 ** 40)]);
  await rejects(tmp.file('inner.onnx', Buffer.concat([head, lenField(7, inner)])), /field 5 claims 1099511627776 bytes but only 0 remain/);
  await rejects(tmp.file('group.onnx', Buffer.concat([head, lenField(7, tag(1, 3))])), /wire type 3 of field 1/);
  await rejects(tmp.file('neg.onnx', model([tensorProto({ name: 'w', dims: [-1, 4], dataType: 1, raw: Buffer.alloc(16) })])), /"w" has an invalid dimension -1/);
  await rejects(tmp.file('short.onnx', model([tensorProto({ name: 'w', dims: [2, 4], dataType: 1, raw: Buffer.alloc(12) })])),
    /"w": raw_data holds 12 bytes, but shape \[2, 4\] of F32 needs 32/);
  await rejects(tmp.file('extlen.onnx', model([tensorProto({ name: 'w', dims: [2], dataType: 7, external: { location: 'w.bin', length: '8' } })])),
    /external data length 8 does not match shape \[2\] of I64 \(16 bytes\)/);
  assert.ok(Date.now() - started < 2000);
});

test('hand-made models: packed dims, IR<4 initializer inputs, transA, custom domains, unknown fields', async () => {
  const nodes = [
    nodeProto('Gemm', ['a', 'x'], { transA: 1 }),
    nodeProto('MatMul', ['x', 'a']),
    nodeProto('FusedMatMul', ['x', 'b'], {}, 'com.microsoft'),
    nodeProto('Gather', ['b', 'idx']),
  ];
  const inits = [
    tensorProto({ name: 'a', dims: [3, 2], dataType: 16, raw: Buffer.alloc(12), packedDims: true }),
    tensorProto({ name: 'b', dims: [2], dataType: 22, raw: Buffer.alloc(1) }),
  ];
  const inputs = [valueInfo('x', 1, ['B', 3]), valueInfo('a', 16, [3, 2])];
  const extra = Buffer.concat([
    tag(99, 0), varint(5), lenField(98, Buffer.from('future field')),
    lenField(14, Buffer.concat([str(1, '__proto__'), str(2, 'p')])), lenField(14, Buffer.concat([str(1, 'toString'), str(2, 't')])),
  ]);
  const file = tmp.file('hand.onnx', model(inits, nodes, inputs, extra));
  const info = await readOnnx(file, file);
  assert.deepEqual(info.tensors.map((t) => [t.key, t.dtype, t.shape, t.consumers]), [
    ['a', 'BF16', [3, 2], ['Gemm.A.transA', 'MatMul.B']],
    ['b', 'I4', [2], ['com.microsoft.FusedMatMul.1', 'Gather.data']],
  ]);
  assert.equal(info.tensors[1].location!.length, 1, 'two int4 values share one byte');
  assert.deepEqual(info.graph!.inputs, [{ name: 'x', dtype: 'F32', shape: ['B', 3] }], 'initializers listed as inputs are weights');
  assert.equal(JSON.parse(JSON.stringify(info.metadata)).__proto__, 'p', 'metadata keys from the file stay plain keys');
  assert.equal(Object.getOwnPropertyDescriptor(info.metadata, 'toString')!.value, 't');
});

test('a multi-gigabyte model with inline raw_data is listed without reading the tensor bytes', async () => {
  // A sparse file: 24 initializers of 128 MiB each, their raw_data left as holes on disk.
  const file = path.join(tmp.dir, 'big.onnx');
  const n = 24;
  const each = 128 * 1024 * 1024;
  const tensorHeads = Array.from({ length: n }, (_, i) => {
    const head = Buffer.concat([tag(1, 0), varint(each / 4), tag(2, 0), varint(1), lenField(8, Buffer.from(`layer${i}.weight`))]);
    return Buffer.concat([head, tag(9, 2), varint(each)]);
  });
  const tensorLens = tensorHeads.map((h) => h.length + each);
  const graphLen = tensorLens.reduce((a, b, i) => a + tag(5, 2).length + varint(b).length + tensorHeads[i].length + each, 0);
  const fd = openSync(file, 'w');
  try {
    let pos = 0;
    const put = (b: Buffer) => { writeSync(fd, b, 0, b.length, pos); pos += b.length; };
    put(Buffer.concat([tag(1, 0), varint(8), tag(7, 2), varint(graphLen)]));
    for (let i = 0; i < n; i++) {
      put(Buffer.concat([tag(5, 2), varint(tensorLens[i]), tensorHeads[i]]));
      pos += each;
    }
    put(Buffer.concat([tag(8, 2), varint(2), tag(2, 0), varint(17)]));
  } finally {
    closeSync(fd);
  }
  const started = Date.now();
  const info = await readOnnx(file, file);
  const elapsed = Date.now() - started;
  assert.equal(info.tensors.length, n);
  assert.deepEqual(info.tensors[n - 1].shape, [each / 4]);
  assert.equal(info.tensors[n - 1].location!.length, each);
  assert.equal(info.metadata!.opset, '17');
  assert.ok(elapsed < 1500, `took ${elapsed} ms`);
});

// ---- a minimal protobuf writer for hand-made models ----

function varint(v: number): Buffer {
  const out: number[] = [];
  let n = BigInt.asUintN(64, BigInt(v)); // negative int64s take ten bytes, as protobuf writes them
  do {
    const low = Number(n & 127n);
    n >>= 7n;
    out.push(n > 0n ? low | 0x80 : low);
  } while (n > 0n);
  return Buffer.from(out);
}

function tag(field: number, wire: number): Buffer {
  return varint(field * 8 + wire);
}

function lenField(field: number, payload: Buffer): Buffer {
  return Buffer.concat([tag(field, 2), varint(payload.length), payload]);
}

function str(field: number, s: string): Buffer {
  return lenField(field, Buffer.from(s));
}

function tensorProto(t: { name: string; dims: number[]; dataType: number; raw?: Buffer; packedDims?: boolean; external?: Record<string, string> }): Buffer {
  const parts = [
    t.packedDims ? lenField(1, Buffer.concat(t.dims.map(varint))) : Buffer.concat(t.dims.map((d) => Buffer.concat([tag(1, 0), varint(d)]))),
    tag(2, 0), varint(t.dataType), str(8, t.name),
  ];
  if (t.raw) parts.push(lenField(9, t.raw));
  if (t.external) {
    for (const [k, v] of Object.entries(t.external)) parts.push(lenField(13, Buffer.concat([str(1, k), str(2, v)])));
    parts.push(tag(14, 0), varint(1));
  }
  return Buffer.concat(parts);
}

function nodeProto(op: string, inputs: string[], ints: Record<string, number> = {}, domain = ''): Buffer {
  const attrs = Object.entries(ints).map(([k, v]) => lenField(5, Buffer.concat([str(1, k), tag(3, 0), varint(v), tag(20, 0), varint(2)])));
  return Buffer.concat([...inputs.map((i) => str(1, i)), str(2, `${op}_out`), str(4, op), ...(domain ? [str(7, domain)] : []), ...attrs]);
}

function valueInfo(name: string, elem: number, dims: (number | string)[]): Buffer {
  const shape = Buffer.concat(dims.map((d) => lenField(1, typeof d === 'number' ? Buffer.concat([tag(1, 0), varint(d)]) : str(2, d))));
  const tensorType = Buffer.concat([tag(1, 0), varint(elem), lenField(2, shape)]);
  return Buffer.concat([str(1, name), lenField(2, lenField(1, tensorType))]);
}

function model(inits: Buffer[], nodes: Buffer[] = [], inputs: Buffer[] = [], extra = Buffer.alloc(0)): Buffer {
  const graph = Buffer.concat([...nodes.map((n) => lenField(1, n)), ...inits.map((t) => lenField(5, t)), ...inputs.map((v) => lenField(11, v))]);
  return Buffer.concat([tag(1, 0), varint(8), str(2, 'hand'), lenField(7, graph), lenField(8, Buffer.concat([tag(2, 0), varint(13)])), extra]);
}
