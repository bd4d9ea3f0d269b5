/**
 * The pickle interpreter on its own: opcodes of every protocol, lazy payloads, the allow-list, and
 * hostile input (malicious globals, corrupt and truncated streams, absurd lengths, blow-ups).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import fc from 'fast-check';
import { withSource } from '../../server/src/formats/byteSource';
import { BufferSource } from '../../server/src/formats/pickle/cursor';
import { flattenTensors } from '../../server/src/formats/pickle/flatten';
import { type PyValue, dictGet, isObj } from '../../server/src/formats/pickle/values';
import { type PickleOptions, runPickle } from '../../server/src/formats/pickle/vm';
import { ReaderError } from '../../server/src/formats/readerError';
import { readTorchLegacy } from '../../server/src/formats/torchLegacy';
import { FIXTURES, scratchDir } from '../support/tmp';

const tmp = scratchDir('pickle');
const malicious: Record<string, { global: string; offset: number; marker: string }> =
  JSON.parse(readFileSync(path.join(FIXTURES, 'torch', 'malicious.json'), 'utf8'));

function run(bytes: Buffer | number[], opts?: PickleOptions) {
  const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes);
  return runPickle(new BufferSource('t.pkl', b), 0, b.length, opts);
}

async function value(bytes: Buffer | number[], opts?: PickleOptions): Promise<PyValue> {
  return (await run(bytes, opts)).value;
}

async function rejects(p: Promise<unknown>, code: ReaderError['code'], reason?: RegExp, offset?: number): Promise<ReaderError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (reason) assert.match(e.reason, reason);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    return e;
  }
  assert.fail('expected the read to fail');
}

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return [...b]; };
const u64 = (n: bigint) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(n); return [...b]; };
const str = (s: string) => { const b = Buffer.from(s); return [0x58, ...u32(b.length), ...b]; }; // BINUNICODE
const ascii = (s: string) => [...Buffer.from(s, 'latin1')];

test('protocol 2: dicts, lists, tuples, ints, floats, memo and OrderedDict', async () => {
  // OrderedDict(a=[1, -2, 300, 1.5, None, True], b=(70000, 2**70), c='a' via the memo)
  const d = await value([
    0x80, 2,
    0x63, ...ascii('collections\nOrderedDict\n'), 0x29, 0x52, 0x71, 0,
    0x28,
    ...str('a'), 0x71, 1,
    0x5d, 0x28, 0x4b, 1, 0x4a, 0xfe, 0xff, 0xff, 0xff, 0x4d, 0x2c, 0x01, 0x47, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0x4e, 0x88, 0x65,
    ...str('b'),
    0x4a, 0x70, 0x11, 0x01, 0x00, 0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x86,
    ...str('c'), 0x68, 1,
    0x75, 0x2e,
  ]);
  assert.ok(isObj(d) && d.kind === 'dict');
  assert.deepEqual([...d.entries.values()].map(([k]) => k), ['a', 'b', 'c']);
  assert.deepEqual(dictGet(d, 'a'), { kind: 'list', items: [1, -2, 300, 1.5, null, true] });
  assert.deepEqual(dictGet(d, 'b'), { kind: 'tuple', items: [70000, 2n ** 70n] });
  assert.equal(dictGet(d, 'c'), 'a');
  await rejects(value([0x80, 2, 0x29, 0x4b, 1, 0x4b, 2, 0x73, 0x2e]), 'unreadable-checkpoint', /SETITEM on a tuple, not a dict/, 7);
});

test('protocol 0 text opcodes and protocol 4 framing, MEMOIZE, STACK_GLOBAL, sets', async () => {
  // (lp0\nI1\naF2.5\naL12345678901234567890L\naS'h\x69\n'\naVcaf\u00e9\na. in protocol 0
  const p0 = Buffer.from("(lp0\nI1\naF2.5\naL12345678901234567890L\naS'h\\x69\\n'\naVcaf\\u00e9\naI01\na.", 'latin1');
  const l = await value(p0) as { items: PyValue[] };
  assert.deepEqual(l.items, [1, 2.5, 12345678901234567890n, 'hi\n', 'café', true]);

  const p4 = [
    0x80, 4, 0x95, ...u64(30n),
    0x8c, 11, ...ascii('collections'), 0x94, 0x8c, 11, ...ascii('OrderedDict'), 0x94, 0x93, 0x94, 0x29, 0x52, 0x94,
    0x8c, 1, ...ascii('s'), 0x8f, 0x28, 0x4b, 1, 0x4b, 2, 0x90, 0x73,
    0x8c, 1, ...ascii('f'), 0x28, 0x4b, 3, 0x91, 0x73,
    0x8c, 1, ...ascii('a'), 0x68, 3, 0x73, // memo 3 is the OrderedDict itself: a cycle
    0x2e,
  ];
  const d = await value(p4);
  assert.ok(isObj(d) && d.kind === 'dict');
  assert.deepEqual(dictGet(d, 's'), { kind: 'set', items: [1, 2], frozen: false });
  assert.deepEqual(dictGet(d, 'f'), { kind: 'set', items: [3], frozen: true });
  assert.equal(dictGet(d, 'a'), d);
  const flat = flattenTensors('t.pkl', d, (v) => (isObj(v) && v.kind === 'dict' ? 'descend' : 'ignore'));
  assert.ok(flat.notes.some((n) => /refers to itself/.test(n)), flat.notes.join('\n'));
});

test('payloads above the inline limit stay in the file as references, with their offsets', async () => {
  const big = Buffer.alloc(3000, 7);
  const bytes = Buffer.from([
    0x80, 3, 0x28,
    0x42, ...u32(big.length), ...big, // BINBYTES, lazy
    0x43, 3, 1, 2, 3, // SHORT_BINBYTES, inline
    0x63, ...ascii('_codecs\nencode\n'), ...str('é'.repeat(1500)), ...str('latin1'), 0x86, 0x52, // lazy text → bytes
    0x74, 0x2e,
  ]);
  const t = await value(bytes) as { items: PyValue[] };
  assert.deepEqual(t.items[0], { kind: 'lazy', of: 'bytes', offset: 8, length: 3000, encoding: 'raw' });
  assert.deepEqual(t.items[1], { kind: 'bytes', data: Buffer.from([1, 2, 3]), offset: 3010 });
  const enc = t.items[2] as { kind: string; encoding: string; length: number };
  assert.equal(enc.kind, 'lazy');
  assert.equal(enc.encoding, 'latin1-from-utf8');
  assert.equal(enc.length, 3000); // UTF-8 bytes of 1500 two-byte code points
});

test('every malicious fixture stops at its global, names it, and runs nothing', async () => {
  for (const m of Object.values(malicious)) rmSync(m.marker, { force: true });
  for (const [name, m] of Object.entries(malicious)) {
    if (name === 'zip' || name === 'legacy') continue;
    const bytes = readFileSync(path.join(FIXTURES, 'torch', `malicious_${name}.bin`));
    const e = await rejects(value(bytes), 'unsafe-pickle', undefined, m.offset);
    assert.equal(e.reason, `pickle names \`${m.global}\`, which is not on the allow-list; nothing was executed`);
    assert.equal(existsSync(m.marker), false, `${m.marker} exists: something ran`);
  }
});

test('other dangerous globals are refused too, by any spelling', async () => {
  for (const g of ['builtins\neval', '__builtin__\neval', 'nt\nsystem', 'builtins\ngetattr', 'copyreg\n_reconstructor', 'torch\nload', 'numpy\nload', 'collections\ndefaultdict']) {
    const e = await rejects(value([0x80, 2, 0x63, ...ascii(`${g}\n`), 0x2e]), 'unsafe-pickle', /not on the allow-list; nothing was executed/, 2);
    assert.ok(e.reason.includes(g.replace('\n', '.')), e.reason);
  }
  // INST (protocol 0 instantiation) goes through the same check; EXT codes name globals indirectly.
  await rejects(value(Buffer.from('(S\'ls\'\nios\nsystem\n.', 'latin1')), 'unsafe-pickle', /`os\.system`/);
  await rejects(value([0x80, 2, 0x82, 1, 0x2e]), 'unsafe-pickle', /extension code 1/);
});

test('allow-listed globals used the wrong way are errors, not calls', async () => {
  await rejects(value([0x80, 2, 0x63, ...ascii('torch\nFloatStorage\n'), 0x29, 0x52, 0x2e]), 'unreadable-checkpoint', /constant, not something a checkpoint calls/);
  await rejects(value([0x80, 2, 0x4b, 1, 0x29, 0x52, 0x2e]), 'unreadable-checkpoint', /REDUCE calls a int/);
  await rejects(value([0x80, 2, 0x63, ...ascii('os system\n\n')]), 'unreadable-checkpoint', /not a Python name/);
});

test('corrupt streams fail with the offset of the bad opcode', async () => {
  await rejects(value([0x80, 2, 0x4b, 1, 0xff, 0x2e]), 'unreadable-checkpoint', /unknown pickle opcode 0xff/, 4);
  await rejects(value([0x80, 2, 0x2e]), 'unreadable-checkpoint', /stack underflow/, 2);
  await rejects(value([0x80, 2, 0x65, 0x2e]), 'unreadable-checkpoint', /without a MARK/, 2);
  await rejects(value([0x80, 2, 0x68, 5, 0x2e]), 'unreadable-checkpoint', /memo slot 5 is read before it is written/, 2);
  await rejects(value([0x80, 2, 0x4b, 1]), 'unreadable-checkpoint', /ends before its STOP/, 4);
  await rejects(value([0x80, 2, 0x4a, 1, 2]), 'unreadable-checkpoint', /ends early/);
  await rejects(value([0x80, 9, 0x2e]), 'unreadable-checkpoint', /protocol 9/);
  await rejects(value([0x4e, 0x2e], { requireProto: true }), 'unreadable-checkpoint', /does not start with a pickle protocol header/, 0);
  await rejects(value([0x80, 2, 0x4e, 0x51, 0x2e]), 'unreadable-checkpoint', /persistent id/, 3);
});

test('a huge BINUNICODE8 length is refused against the bytes left, without allocating', async () => {
  const before = process.memoryUsage().arrayBuffers;
  const bytes = Buffer.from([0x80, 4, 0x8d, ...u64(1n << 60n), ...ascii('abc'), 0x2e]);
  const file = tmp.file('huge.bin', bytes);
  const e = await rejects(withSource(file, 'huge.bin', (src) => runPickle(src, 0, src.size)), 'unreadable-checkpoint', /BINUNICODE8 needs \d+ bytes but only 4 remain/);
  assert.equal(e.offset, 11);
  for (const op of [0x8e, 0x96]) await rejects(value([0x80, 4, op, ...u64(0xffff_ffff_ffffn), 0x2e]), 'unreadable-checkpoint', /needs \d+ bytes/);
  await rejects(value([0x80, 2, 0x58, ...u32(0xffff_fff0), 0x2e]), 'unreadable-checkpoint', /BINUNICODE needs 4294967280 bytes/);
  await rejects(value([0x80, 2, 0x54, ...u32(0x8000_0000), 0x2e]), 'unreadable-checkpoint', /negative length/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * 2 ** 20);
});

test('blow-ups are capped: deep MARK nesting, exponential shared references', async () => {
  await rejects(value([0x80, 2, ...Array(20_000).fill(0x28), 0x2e]), 'unreadable-checkpoint', /MARKs nest deeper/);
  // l0 = [], then 40 times: l = [l, l]: 2^40 paths through 80 list objects.
  const ops = [0x80, 2, 0x5d];
  for (let i = 0; i < 40; i++) ops.push(0x32, 0x86); // DUP, TUPLE2
  ops.push(0x2e);
  const v = await value(ops);
  const t0 = Date.now();
  assert.throws(() => flattenTensors('t.pkl', v, (x) => (isObj(x) && (x.kind === 'tuple' || x.kind === 'list') ? 'descend' : 'ignore')),
    (e: unknown) => e instanceof ReaderError && /shared references/.test(e.reason));
  assert.ok(Date.now() - t0 < 10_000);
});

test('random bytes named .bin are unreadable, never another error', async () => {
  const rnd = Buffer.alloc(4096);
  let x = 12345;
  for (let i = 0; i < rnd.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; rnd[i] = x >> 16; }
  const file = tmp.file('random.bin', rnd);
  await rejects(withSource(file, 'random.bin', readTorchLegacy), 'unreadable-checkpoint');
});

test('fuzz: any bytes after a protocol header end in a value or a ReaderError', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (tail) => {
    try {
      await run(Buffer.concat([Buffer.from([0x80, 2]), Buffer.from(tail)]));
    } catch (e) {
      assert.ok(e instanceof ReaderError, String(e));
    }
  }), { numRuns: 2000 });
});

test('fuzz: real pickles with bytes flipped end in a value or a ReaderError', async () => {
  const files = ['paddle/linear_p4.pdparams', 'paddle/linear_p2.pdparams', 'paddle/odd_arrays.pdparams'].map((f) => readFileSync(path.join(FIXTURES, f)));
  await fc.assert(fc.asyncProperty(fc.nat(files.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }), async (i, flips) => {
    const b = Buffer.from(files[i]);
    for (const [at, byte] of flips) b[at % b.length] = byte;
    try {
      await run(b);
    } catch (e) {
      assert.ok(e instanceof ReaderError, String(e));
    }
  }), { numRuns: 500 });
});

test('newer torch spellings: UntypedStorage with _rebuild_tensor_v3, meta tensors, Size, Parameter', async () => {
  const g = (m: string, n: string) => [0x63, ...ascii(`${m}\n${n}\n`)];
  const bytes = [
    0x80, 2, 0x5d, 0x28,
    // _rebuild_tensor_v3(('storage', torch.UntypedStorage, '0', 'cpu', 16), 2, torch.Size((2, 4)), (4, 1), False, OrderedDict(), torch.float8_e4m3fn)
    ...g('torch._utils', '_rebuild_tensor_v3'),
    0x28, 0x28, ...str('storage'), ...g('torch', 'UntypedStorage'), ...str('0'), ...str('cpu'), 0x4b, 16, 0x74, 0x51,
    0x4b, 2, ...g('torch', 'Size'), 0x4b, 2, 0x4b, 4, 0x86, 0x85, 0x52, 0x4b, 4, 0x4b, 1, 0x86, 0x89,
    ...g('collections', 'OrderedDict'), 0x29, 0x52, ...g('torch', 'float8_e4m3fn'), 0x74, 0x52,
    // _rebuild_meta_tensor_no_storage(torch.bfloat16, (3,), (1,), False)
    ...g('torch._utils', '_rebuild_meta_tensor_no_storage'), 0x28, ...g('torch', 'bfloat16'), 0x4b, 3, 0x85, 0x4b, 1, 0x85, 0x89, 0x74, 0x52,
    0x65, 0x2e,
  ];
  const { storageFromPid } = await import('../../server/src/formats/pickle/torchTensors');
  const l = await value(bytes, { persistentLoad: storageFromPid }) as { items: PyValue[] };
  assert.deepEqual(l.items[0], {
    kind: 'tensor', dtype: 'F8_E4M3', shape: [2, 4], stride: [4, 1], storageOffset: 2,
    storage: { kind: 'storage', key: '0', dtype: 'U8', typeName: 'torch.UntypedStorage', numel: 16, viewOffset: 0, device: 'cpu' },
  });
  assert.deepEqual(l.items[1], { kind: 'tensor', dtype: 'BF16', shape: [3], stride: [1], storageOffset: 0, storage: null });
});

test('tiers: a pickle naming only unknown classes is not a checkpoint; one naming something that acts is unsafe', async () => {
  for (const g of ['__main__\nSettings', 'mypkg.config\nTrainConfig', 'argparse\nNamespace']) {
    await rejects(value([0x80, 2, 0x63, ...ascii(`${g}\n`), 0x29, 0x81, 0x2e]), 'not-a-checkpoint', /not a tensor checkpoint: it pickles `.*` objects, which this reader does not build; nothing was executed/);
  }
  for (const g of ['collections\ndefaultdict', 'functools\npartial', 'mypkg\nsystem', 'torch.hub\nload']) {
    await rejects(value([0x80, 2, 0x63, ...ascii(`${g}\n`), 0x2e]), 'unsafe-pickle', /not on the allow-list; nothing was executed/);
  }
});
