/**
 * The GGUF reader on hand-written spec files (test/fixtures/gen/gguf_files.py) checked against their
 * sidecars, and on truncated, random and hostile headers, which must fail as ReaderErrors, fast.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { withSource } from '../../server/src/formats/byteSource';
import { readGguf } from '../../server/src/formats/gguf';
import { ReaderError } from '../../server/src/formats/readerError';
import type { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'gguf');
const TINY = path.join(DIR, 'tiny.gguf');
const V2 = path.join(DIR, 'align64_v2.gguf');
const tmp = scratchDir('gguf');

interface Expected {
  data_start: number;
  metadata: Record<string, string>;
  tensors: { key: string; dtype: string; shape: number[]; offset: number; length: number; first_bytes: string }[];
}

function read(file: string): Promise<CheckpointInfo> {
  return withSource(file, file, readGguf);
}

async function rejects(bytes: Buffer, reason?: RegExp): Promise<ReaderError> {
  const file = tmp.file('bad.gguf', bytes);
  try {
    await read(file);
  } catch (e) {
    assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${String(e)}`);
    assert.equal(e.code, 'unreadable-checkpoint');
    assert.equal(e.internal, false, `an internal error escaped the reader: ${e.reason}`);
    if (reason) assert.match(e.reason, reason);
    return e;
  }
  assert.fail('read without error');
}

for (const file of [TINY, V2]) {
  test(`${path.basename(file)}: tensors, GGML-order shapes, types, metadata and byte ranges match the writer`, async () => {
    const exp: Expected = JSON.parse(readFileSync(file.replace(/\.gguf$/, '.expected.json'), 'utf8'));
    const info = await read(file);
    assert.equal(info.format, 'gguf');
    assert.equal(info.framework, 'gguf');
    assert.equal(info.shapeOrder, 'ggml');
    assert.deepEqual(info.metadata, exp.metadata);
    assert.deepEqual(info.notes, []);
    const bytes = readFileSync(file);
    assert.deepEqual(info.tensors.map((t) => t.key), exp.tensors.map((t) => t.key));
    for (const [i, t] of info.tensors.entries()) {
      const e = exp.tensors[i];
      assert.equal(t.dtype, e.dtype, t.key);
      assert.deepEqual(t.shape, e.shape, t.key);
      assert.deepEqual(t.location, { file: path.resolve(file), offset: exp.data_start + e.offset, length: e.length }, t.key);
      assert.equal(bytes.subarray(t.location!.offset, t.location!.offset + e.first_bytes.length / 2).toString('hex'), e.first_bytes, t.key);
    }
  });
}

test('quantised and 16-bit types: Q8_0 is 34-byte blocks of 32, BF16 and F16 two bytes, dims fastest first', async () => {
  const info = await read(TINY);
  const byKey = new Map(info.tensors.map((t) => [t.key, t]));
  const q = byKey.get('blk.0.ffn_up.weight')!;
  assert.equal(q.dtype, 'Q8_0');
  assert.deepEqual(q.shape, [32, 4]);
  assert.equal(q.location!.length, 4 * 34);
  // A block starts with its f16 scale, max|x| / 127: well under 1 for the writer's standard-normal values.
  const bytes = readFileSync(TINY);
  const d = halfToFloat(bytes.readUInt16LE(q.location!.offset));
  assert.ok(d > 0 && d < 1, `scale ${d}`);
  assert.equal(byKey.get('blk.0.ffn_gate.weight')!.dtype, 'BF16');
  assert.equal(byKey.get('blk.0.ffn_gate.weight')!.location!.length, 16 * 2);
  assert.deepEqual(byKey.get('token_embd.weight')!.shape, [8, 5], 'torch [vocab 5, dim 8] is GGML [8, 5]');
  assert.equal(info.metadata!['tokenizer.ggml.token_type'], '[array of 40 INT32]');
  assert.equal(info.metadata!['llama.attention.layer_norm_rms_epsilon'], '0.00001');
});

test('every truncation fails with a ReaderError', async () => {
  for (const file of [TINY, V2]) {
    const bytes = readFileSync(file);
    // Every byte near both ends, every fifth in between (header fields are mostly short).
    for (let cut = 0; cut < bytes.length; cut += cut < 64 || cut > bytes.length - 64 ? 1 : 5) {
      await rejects(bytes.subarray(0, cut));
    }
  }
});

test('random bytes and other formats are "not a GGUF file"', async () => {
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 100; i++) {
    const buf = Buffer.alloc(24 + Math.floor(rand() * 2000));
    for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rand() * 256);
    await rejects(buf, /^not a GGUF file: it starts with [0-9a-f]{8}, not "GGUF"$/);
    // The right magic and version, then noise: still a clear failure, never anything else.
    buf.write('GGUF', 0, 'latin1');
    buf.writeUInt32LE(3, 4);
    await rejects(buf);
  }
  await rejects(readFileSync(path.join(FIXTURES, 'onnx', 'gemm_helper.onnx')), /^not a GGUF file/);
  await rejects(Buffer.from('GGUF'), /too short for a GGUF header/);
});

test('versions: 1 and big-endian files are refused with a reason, 2 and 3 are read', async () => {
  await rejects(header({ version: 1 }), /GGUF version 1 .* is not supported/);
  const be = header({});
  be.writeUInt32BE(3, 4);
  await rejects(be, /unsupported GGUF version 50331648 \(a big-endian GGUF file/);
  await rejects(header({ version: 4 }), /^unsupported GGUF version 4$/);
  const info = await read(tmp.file('empty.gguf', header({ version: 2 })));
  assert.deepEqual(info.tensors, []);
});

test('huge counts and lengths fail fast, before any allocation', async () => {
  const started = Date.now();
  await rejects(header({ tensors: 2n ** 60n }), /claims 1152921504606846976 tensors and 0 metadata entries, which cannot fit in a file of 24 bytes/);
  await rejects(header({ kvs: 2n ** 63n }), /cannot fit/);
  await rejects(header({ tensors: 2n ** 64n - 1n, kvs: 2n ** 64n - 1n }), /cannot fit/);
  await rejects(header({ kvs: 1n, body: Buffer.concat([u64(2n ** 62n), Buffer.alloc(16)]) }), /metadata key 0 claims 4611686018427387904 bytes, past the end/);
  await rejects(header({ kvs: 1n, body: Buffer.concat([str('k'), u32(9), u32(4), u64(2n ** 62n), Buffer.alloc(8)]) }), /"k" claims 4611686018427387904 items of UINT32, more than the rest of the file/);
  await rejects(header({ kvs: 1n, body: Buffer.concat([str('k'), u32(9), u32(8), u64(2n ** 40n), Buffer.alloc(32)]) }), /claims 1099511627776 items of STRING/);
  await rejects(header({ kvs: 1n, body: Buffer.concat([str('k'), u32(8), u64(2n ** 50n), Buffer.alloc(8)]) }), /value of "k" claims 1125899906842624 bytes/);
  await rejects(header({ tensors: 1n, body: Buffer.concat([str('t'), u32(1000), Buffer.alloc(40)]) }), /"t" has 1000 dimensions; GGML allows at most 4/);
  await rejects(header({ tensors: 1n, body: tensorInfo('t', [2n ** 40n, 2n ** 40n], 0, 0n) }), /"t" has dimension 1099511627776, too many elements/);
  const nested = Buffer.concat([str('k'), u32(9), ...Array.from({ length: 6 }, () => Buffer.concat([u32(9), u64(1n)])), u32(0), u64(0n)]);
  await rejects(header({ kvs: 1n, body: nested }), /nests arrays more than 4 deep/);
  assert.ok(Date.now() - started < 1000);
});

test('bad values, alignment, offsets, block sizes and duplicates are named', async () => {
  await rejects(header({ kvs: 1n, body: Buffer.concat([str('k'), u32(13), Buffer.alloc(8)]) }), /"k" has unknown value type 13/);
  await rejects(header({ kvs: 1n, body: Buffer.concat([str('general.alignment'), u32(4), u32(24)]) }), /general.alignment must be a power of two, but is 24 \(UINT32\)/);
  await rejects(header({ kvs: 1n, body: Buffer.concat([str('general.alignment'), u32(8), str('32')]) }), /general.alignment must be a power of two, but is 32 \(STRING\)/);
  const one = (name: string, dims: bigint[], type: number, offset: bigint, data = 64) =>
    withData(header({ tensors: 1n, body: tensorInfo(name, dims, type, offset) }), data);
  await rejects(one('w', [4n], 0, 8n), /"w" has data offset 8, not a multiple of the alignment 32/);
  await rejects(one('w', [30n, 2n], 8, 0n), /"w" of type Q8_0 has a first dimension of 30, not a multiple of its block size 32/);
  await rejects(one('w', [64n], 0, 0n), /data of tensor "w" \(256 bytes at byte \d+\) runs past the end of the file/);
  await rejects(one('w', [4n], 0, 2n ** 62n), /"w" has data offset 4611686018427387904, past the end of the file/);
  const twice = Buffer.concat([tensorInfo('w', [4n], 0, 0n), tensorInfo('w', [4n], 0, 32n)]);
  await rejects(withData(header({ tensors: 2n, body: twice }), 64), /tensor "w" is listed twice/);
});

test('unknown GGML types, long strings, nested and long arrays, custom alignment', async () => {
  const kv = Buffer.concat([
    str('general.alignment'), u32(10), u64(64n),
    str('template'), u32(8), str('x'.repeat(70_000)),
    str('pairs'), u32(9), u32(9), u64(2n), u32(0), u64(2n), Buffer.from([1, 2]), u32(7), u64(1n), Buffer.from([0]),
    str('many'), u32(9), u32(8), u64(20n), ...Array.from({ length: 20 }, (_, i) => str(`tok${i}`)),
    str('__proto__'), u32(8), str('p'), str('toString'), u32(8), str('t'),
  ]);
  const infos = Buffer.concat([tensorInfo('new', [8n], 99, 0n), tensorInfo('f', [4n], 0, 64n)]);
  const head = header({ kvs: 6n, tensors: 2n, body: Buffer.concat([kv, infos]) });
  const info = await read(tmp.file('odd.gguf', withData(head, 128, 64)));
  assert.equal(info.metadata!.template, '[string of 70000 bytes]');
  assert.equal(info.metadata!.pairs, '[[1, 2], [false]]');
  assert.equal(info.metadata!.many, '[array of 20 STRING]');
  assert.equal(info.metadata!['general.alignment'], '64');
  assert.equal(JSON.parse(JSON.stringify(info.metadata)).__proto__, 'p', 'keys from the file stay plain keys');
  assert.equal(Object.getOwnPropertyDescriptor(info.metadata, 'toString')!.value, 't');
  assert.deepEqual(info.tensors[0], { key: 'new', dtype: 'GGML_TYPE_99', shape: [8] });
  // general.alignment moves the data section to the next multiple of 64, and offsets count from there.
  assert.equal(info.tensors[1].location!.offset, Math.ceil(head.length / 64) * 64 + 64);
  assert.match(info.notes.join('\n'), /GGML tensor type 99 is not known to this reader/);
});

// ---- a minimal GGUF writer for hand-made headers ----

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([u64(BigInt(b.length)), b]);
}

function header(h: { version?: number; tensors?: bigint; kvs?: bigint; body?: Buffer }): Buffer {
  return Buffer.concat([Buffer.from('GGUF'), u32(h.version ?? 3), u64(h.tensors ?? 0n), u64(h.kvs ?? 0n), h.body ?? Buffer.alloc(0)]);
}

function tensorInfo(name: string, dims: bigint[], type: number, offset: bigint): Buffer {
  return Buffer.concat([str(name), u32(dims.length), ...dims.map(u64), u32(type), u64(offset)]);
}

/** Pads the header to the alignment and appends `data` bytes of tensor data. */
function withData(head: Buffer, data: number, alignment = 32): Buffer {
  return Buffer.concat([head, Buffer.alloc((alignment - (head.length % alignment)) % alignment), Buffer.alloc(data)]);
}

function halfToFloat(h: number): number {
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
  return h & 0x8000 ? -v : v;
}
