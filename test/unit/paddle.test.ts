/**
 * The Paddle `.pdparams` reader on plain-pickle fixtures (protocols 2 and 4), the worked example,
 * odd arrays (big-endian, strings, objects, sliced big parameters), malicious and truncated files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { withSource } from '../../server/src/formats/byteSource';
import { readPaddlePickle } from '../../server/src/formats/paddlePickle';
import { ReaderError } from '../../server/src/formats/readerError';
import { DTYPE_SIZE } from '../../server/src/formats/tensorInfo';
import { EXAMPLES, FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'paddle');
const tmp = scratchDir('paddle');

interface Expected { key: string; dtype: string; shape: number[]; fortran: boolean; first_hex: string; last_hex: string }
const sidecar: { tensors: Expected[]; parameterNames: Record<string, string>; namedParam: string } =
  JSON.parse(readFileSync(path.join(DIR, 'linear.json'), 'utf8'));
const malicious: Record<string, { global: string; offset: number; marker: string }> =
  JSON.parse(readFileSync(path.join(FIXTURES, 'torch', 'malicious.json'), 'utf8'));

const read = (file: string) => withSource(file, path.basename(file), readPaddlePickle);

async function rejects(p: Promise<unknown>, code: ReaderError['code'], reason?: RegExp): Promise<ReaderError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (reason) assert.match(e.reason, reason);
    return e;
  }
  assert.fail('expected the read to fail');
}

test('protocol 4: keys, dtypes, shapes, byte locations, the parameter-name table', async () => {
  const file = path.join(DIR, 'linear_p4.pdparams');
  const info = await read(file);
  assert.equal(info.format, 'paddle-pickle');
  assert.equal(info.framework, 'paddle');
  assert.deepEqual(info.tensors.map((t) => t.key), sidecar.tensors.map((e) => e.key));
  assert.deepEqual(info.parameterNames, { ...sidecar.parameterNames, named: sidecar.namedParam });
  assert.deepEqual(info.notes, ['1 array is in Fortran (column-major) order: its location carries strides']);
  const bytes = readFileSync(file);
  for (const [i, t] of info.tensors.entries()) {
    const e = sidecar.tensors[i];
    assert.equal(t.dtype, e.dtype, t.key);
    assert.deepEqual(t.shape, e.shape, t.key);
    const loc = t.location!;
    assert.ok(loc, `${t.key} has no location`);
    const size = DTYPE_SIZE[t.dtype];
    assert.equal(loc.length, e.shape.reduce((a, b) => a * b, 1) * size, t.key);
    assert.deepEqual(loc.stride, e.fortran ? [1, e.shape[0]] : undefined, t.key);
    assert.equal(bytes.subarray(loc.offset, loc.offset + size).toString('hex'), e.first_hex, `${t.key} first element`);
    assert.equal(bytes.subarray(loc.offset + loc.length - size, loc.offset + loc.length).toString('hex'), e.last_hex, `${t.key} last element`);
  }
  // Linear weights stay [in, out] as Paddle wrote them.
  assert.deepEqual(info.tensors.find((t) => t.key === 'fc1.weight')!.shape, [16, 32]);
});

test('protocol 2: same tensors; latin-1 text payloads are located as UTF-8 text to decode, ASCII ones as raw bytes', async () => {
  const file = path.join(DIR, 'linear_p2.pdparams');
  const info = await read(file);
  assert.deepEqual(info.tensors.map((t) => [t.key, t.dtype, t.shape]), sidecar.tensors.map((e) => [e.key, e.dtype, e.shape]));
  assert.deepEqual(info.notes, [
    'pickle protocol 2 stores array bytes as latin-1 text: 9 tensors\' locations are UTF-8 text to decode, not raw bytes (re-saving with protocol 4, paddle.save\'s default, stores them raw)',
    '1 array is in Fortran (column-major) order: its location carries strides',
  ]);
  assert.deepEqual(info.parameterNames, { ...sidecar.parameterNames, named: sidecar.namedParam });
  const bytes = readFileSync(file);
  for (const [i, t] of info.tensors.entries()) {
    const e = sidecar.tensors[i];
    const loc = t.location!;
    assert.ok(loc, `${t.key} has no location`);
    const stored = bytes.subarray(loc.offset, loc.offset + loc.length);
    // Decoded independently of the converter: UTF-8 text → code points → one byte each.
    const data = loc.encoding === 'latin1-from-utf8' ? Buffer.from(stored.toString('utf8'), 'latin1') : stored;
    const size = DTYPE_SIZE[t.dtype];
    assert.equal(data.length, e.shape.reduce((a, b) => a * b, 1) * size, t.key);
    assert.deepEqual(loc.stride, e.fortran ? [1, e.shape[0]] : undefined, t.key);
    assert.equal(data.subarray(0, size).toString('hex'), e.first_hex, `${t.key} first element`);
    assert.equal(data.subarray(data.length - size).toString('hex'), e.last_hex, `${t.key} last element`);
  }
  // Pure-ASCII payloads (small integers) are their own bytes: a plain location.
  assert.equal(info.tensors.find((t) => t.key === 'pos_ids')!.location!.encoding, undefined);
});

test('the worked example: PaddleNLP BERT, protocol 2', async () => {
  const info = await read(path.join(EXAMPLES, 'bert-to-paddlenlp', 'paddlenlp_bert_tiny.pdparams'));
  const { location, ...first } = info.tensors[0];
  assert.deepEqual(first, { key: 'bert.embeddings.word_embeddings.weight', dtype: 'F32', shape: [40, 16] });
  assert.equal(location?.encoding, 'latin1-from-utf8');
  assert.equal(info.tensors.length, 5 + 2 * 16 + 2);
  const linear1 = info.tensors.find((t) => t.key === 'bert.encoder.layers.1.linear1.weight')!;
  assert.deepEqual([linear1.dtype, linear1.shape], ['F32', [16, 32]]);
  const deeper = await read(path.join(EXAMPLES, 'bert-to-paddlenlp', 'paddlenlp_bert_deeper.pdparams'));
  assert.equal(deeper.tensors.length, 5 + 3 * 16 + 2);
});

test('odd arrays: big-endian, strings, objects, sliced big parameters, nested non-tensors', async () => {
  const info = await read(path.join(DIR, 'odd_arrays.pdparams'));
  assert.deepEqual(info.tensors.map((t) => [t.key, t.dtype, t.shape, t.location !== undefined]), [
    ['be.weight', 'F32', [4], false],
    ['big.weight', 'F32', [4, 6], false],
    ['ok.bias', 'F32', [3], true],
  ]);
  assert.deepEqual(info.notes, [
    '1 array was saved in slices (`UnpackBigParamInfor@@`) and is listed whole, without a byte location',
    'ignored 2 non-tensor values (`LR_Scheduler.last_epoch`, `LR_Scheduler.last_lr`)',
    '1 array is big-endian: no byte location given',
    'skipped 2 arrays with no tensor dtype: `names` (numpy dtype U2), `objects` (object array)',
  ]);
});

test('malicious .pdparams: unsafe-pickle naming the global at its offset, and nothing ran', async () => {
  for (const m of Object.values(malicious)) rmSync(m.marker, { force: true });
  for (const [name, m] of Object.entries(malicious)) {
    if (name === 'zip' || name === 'legacy') continue;
    const e = await rejects(read(path.join(DIR, `malicious_${name}.pdparams`)), 'unsafe-pickle');
    assert.equal(e.file, `malicious_${name}.pdparams`);
    assert.equal(e.reason, `pickle names \`${m.global}\`, which is not on the allow-list; nothing was executed`);
    assert.equal(e.offset, m.offset);
    assert.equal(existsSync(m.marker), false, `${m.marker} exists: something ran`);
  }
});

test('truncated, random and empty files are unreadable-checkpoint', async () => {
  for (const name of ['linear_p2.pdparams', 'linear_p4.pdparams', 'odd_arrays.pdparams']) {
    const bytes = readFileSync(path.join(DIR, name));
    await rejects(read(tmp.file(`half_${name}`, bytes.subarray(0, bytes.length >> 1))), 'unreadable-checkpoint', /ends (early|before its STOP)/);
    for (let cut = 0; cut < bytes.length; cut += 53) {
      await rejects(read(tmp.file('cut.pdparams', bytes.subarray(0, cut))), 'unreadable-checkpoint');
    }
  }
  const rnd = Buffer.alloc(3000);
  let x = 7;
  for (let i = 0; i < rnd.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; rnd[i] = x >> 16; }
  await rejects(read(tmp.file('random.pdparams', rnd)), 'unreadable-checkpoint');
  await rejects(read(tmp.file('empty.pdparams', Buffer.alloc(0))), 'unreadable-checkpoint');
});
