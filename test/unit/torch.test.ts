/**
 * The torch readers (zip and legacy) on fixtures made by Debian's torch: exact keys, dtypes, shapes
 * and byte locations (checked against element bytes the fixture script recorded), wrapped state
 * dicts, malicious and truncated files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { withSource } from '../../server/src/formats/byteSource';
import { ReaderError } from '../../server/src/formats/readerError';
import { DTYPE_SIZE, type CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { readTorchLegacy } from '../../server/src/formats/torchLegacy';
import { readTorchZip } from '../../server/src/formats/torchZip';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'torch');
const tmp = scratchDir('torch');

interface Expected { key: string; dtype: string; shape: number[]; stride: number[]; contiguous: boolean; first_hex: string; last_hex: string }
const expected: Expected[] = JSON.parse(readFileSync(path.join(DIR, 'vit_tiny.json'), 'utf8')).tensors;
const malicious: Record<string, { global: string; offset: number; marker: string }> = JSON.parse(readFileSync(path.join(DIR, 'malicious.json'), 'utf8'));

const zip = (file: string) => readTorchZip(file, path.basename(file));
const legacy = (file: string) => withSource(file, path.basename(file), readTorchLegacy);

async function rejects(p: Promise<unknown>, code: ReaderError['code'], reason?: RegExp): Promise<ReaderError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${String(e)}\n${(e as Error)?.stack}`);
    assert.equal(e.code, code, e.message);
    if (reason) assert.match(e.reason, reason);
    return e;
  }
  assert.fail('expected the read to fail');
}

/** Same keys, dtypes and shapes as the state dict, and every location holds the recorded bytes. */
function checkAgainstSidecar(info: CheckpointInfo, file: string): void {
  assert.deepEqual(info.tensors.map((t) => t.key), expected.map((e) => e.key));
  const bytes = readFileSync(file);
  for (const [i, t] of info.tensors.entries()) {
    const e = expected[i];
    assert.equal(t.dtype, e.dtype, t.key);
    assert.deepEqual(t.shape, e.shape, t.key);
    const loc = t.location;
    assert.ok(loc, `${t.key} has no location`);
    assert.equal(loc.file, path.resolve(file));
    const size = DTYPE_SIZE[t.dtype];
    if (e.contiguous) {
      assert.equal(loc.stride, undefined, t.key);
      assert.equal(loc.length, e.shape.reduce((a, b) => a * b, 1) * size, t.key);
    } else {
      assert.deepEqual(loc.stride, e.stride, t.key);
    }
    assert.equal(bytes.subarray(loc.offset, loc.offset + size).toString('hex'), e.first_hex, `${t.key} first element`);
    // The last logical element sits at the end of the span the location covers.
    assert.equal(bytes.subarray(loc.offset + loc.length - size, loc.offset + loc.length).toString('hex'), e.last_hex, `${t.key} last element`);
  }
  const q = info.tensors.find((t) => t.key === 'extra.q')!.location!;
  const k = info.tensors.find((t) => t.key === 'extra.k')!.location!;
  assert.equal(k.offset - q.offset, 8 * 8 * 4, 'extra.k is extra.q’s storage, 64 elements on');
  assert.deepEqual(new Set(info.tensors.map((t) => t.dtype)), new Set(['F32', 'F16', 'BF16', 'I64']));
}

test('zip: a real torch.save state dict, every key, dtype, shape and location', async () => {
  const file = path.join(DIR, 'vit_tiny.pt');
  const info = await zip(file);
  assert.equal(info.format, 'torch-zip');
  assert.equal(info.framework, 'torch');
  assert.equal(info.file, 'vit_tiny.pt');
  assert.deepEqual(info.notes, []);
  checkAgainstSidecar(info, file);
  const strided = info.tensors.find((t) => t.key === 'extra.strided')!;
  assert.deepEqual(strided.location!.stride, [6, 2]);
  assert.equal(strided.location!.length, (3 * 6 + 2 * 2 + 1) * 4); // the span of a [4, 3] view with stride [6, 2]
});

test('legacy: the same state dict saved with _use_new_zipfile_serialization=False', async () => {
  const file = path.join(DIR, 'vit_tiny_legacy.pt');
  const info = await legacy(file);
  assert.equal(info.format, 'torch-pickle');
  assert.equal(info.framework, 'torch');
  assert.deepEqual(info.notes, []);
  checkAgainstSidecar(info, file);
});

test('wrapped state dicts are flattened, the wrapper stripped, with notes', async () => {
  const wrapped = await zip(path.join(DIR, 'vit_tiny_wrapped.pt'));
  assert.deepEqual(wrapped.tensors.map((t) => t.key), expected.map((e) => e.key));
  assert.deepEqual(wrapped.notes, [
    'tensors found under "state_dict"; keys are listed without that prefix',
    'ignored 2 non-tensor values (`epoch`, `arch`)',
  ]);
  const model = await zip(path.join(DIR, 'vit_tiny_model.pt'));
  assert.deepEqual(model.tensors.map((t) => t.key), expected.map((e) => e.key));
  assert.deepEqual(model.notes, ['tensors found under "model"; keys are listed without that prefix']);
  checkAgainstSidecar(model, path.join(DIR, 'vit_tiny_model.pt'));
});

test('a deflated archive still lists its tensors, without locations, and says why', async () => {
  const info = await zip(path.join(DIR, 'vit_tiny_deflated.pt'));
  assert.deepEqual(info.tensors.map((t) => [t.key, t.dtype, t.shape]), expected.map((e) => [e.key, e.dtype, e.shape]));
  assert.ok(info.tensors.every((t) => t.location === undefined));
  assert.ok(info.notes.some((n) => /storage entries are compressed/.test(n)), info.notes.join('\n'));
});

test('malicious pickles in a zip, after legacy headers, or raw: unsafe-pickle, and nothing ran', async () => {
  for (const m of Object.values(malicious)) rmSync(m.marker, { force: true });
  const cases: [string, () => Promise<unknown>, { global: string; offset: number; marker: string }][] = [
    ['malicious_zip.pt', () => zip(path.join(DIR, 'malicious_zip.pt')), malicious.zip],
    ['malicious_legacy.pt', () => legacy(path.join(DIR, 'malicious_legacy.pt')), malicious.legacy],
    ...Object.entries(malicious).filter(([n]) => n !== 'zip' && n !== 'legacy')
      .map(([n, m]): [string, () => Promise<unknown>, typeof m] => [`malicious_${n}.bin`, () => legacy(path.join(DIR, `malicious_${n}.bin`)), m]),
  ];
  for (const [name, read, m] of cases) {
    const e = await rejects(read(), 'unsafe-pickle');
    assert.equal(e.file, name);
    assert.equal(e.reason, `pickle names \`${m.global}\`, which is not on the allow-list; nothing was executed`, name);
    assert.equal(e.offset, m.offset, name);
    assert.equal(existsSync(m.marker), false, `${m.marker} exists after reading ${name}: something ran`);
  }
});

test('not a torch checkpoint: a zip without data.pkl, random bytes, the wrong reader', async () => {
  await rejects(zip(path.join(DIR, 'no_data_pkl.zip')), 'unreadable-checkpoint', /^zip archive has no data\.pkl: not a torch\.save checkpoint$/);
  const rnd = Buffer.alloc(5000);
  let x = 99;
  for (let i = 0; i < rnd.length; i++) { x = (x * 1103515245 + 12345) & 0x7fffffff; rnd[i] = x >> 16; }
  const r = tmp.file('random.bin', rnd);
  await rejects(zip(r), 'unreadable-checkpoint', /not a zip archive/);
  await rejects(legacy(r), 'unreadable-checkpoint', /not a pickle/);
  await rejects(legacy(path.join(DIR, 'vit_tiny.pt')), 'unreadable-checkpoint', /zip archive/);
  await rejects(zip(path.join(DIR, 'vit_tiny_legacy.pt')), 'unreadable-checkpoint', /not a zip archive/);
  await rejects(zip(path.join(DIR, 'does-not-exist.pt')), 'unreadable-checkpoint', /no such file/);
  await rejects(zip(tmp.dir), 'unreadable-checkpoint', /directory/);
  await rejects(legacy(tmp.file('empty.pt', Buffer.alloc(0))), 'unreadable-checkpoint');
});

test('truncated files are unreadable-checkpoint, never another error', async () => {
  for (const name of ['vit_tiny.pt', 'vit_tiny_wrapped.pt', 'vit_tiny_deflated.pt', 'malicious_zip.pt']) {
    const bytes = readFileSync(path.join(DIR, name));
    await rejects(zip(tmp.file(`half_${name}`, bytes.subarray(0, bytes.length >> 1))), 'unreadable-checkpoint');
  }
  const bytes = readFileSync(path.join(DIR, 'vit_tiny_legacy.pt'));
  await rejects(legacy(tmp.file('half_legacy.pt', bytes.subarray(0, bytes.length >> 1))), 'unreadable-checkpoint');
  // Every cut point of the legacy file: inside a pickle, between pickles, inside a storage.
  for (let cut = 0; cut < bytes.length; cut += 37) {
    await rejects(legacy(tmp.file('cut.pt', bytes.subarray(0, cut))), 'unreadable-checkpoint');
  }
});
