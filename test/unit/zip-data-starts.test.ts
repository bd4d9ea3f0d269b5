/**
 * zipDataStarts.ts reads many entries' local headers together. yauzl's own one-at-a-time reader is the
 * oracle: on real archives (torch.save zips, np.savez) every entry's data offset must equal its. A zip
 * of thousands of small members must cost a few reads, not one per member, and a bad header still fails
 * the read naming its entry.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { ByteSource } from '../../server/src/formats/byteSource';
import { ReaderError } from '../../server/src/formats/readerError';
import type * as yauzl from 'yauzl';
import { listEntries, withZip } from '../../server/src/formats/torchZip';
import { dataStarts } from '../../server/src/formats/zipDataStarts';
import { zip } from '../hostile/builders';
import { FIXTURES, scratchDir } from '../support/tmp';

const { file } = scratchDir('zip-data-starts');

/** The real source, its reads counted. */
function counted(src: ByteSource): { src: Pick<ByteSource, 'size' | 'read' | 'prefetch'>; reads: () => number } {
  let n = 0;
  return {
    src: { size: src.size, read: (o, l, w) => { n++; return src.read(o, l, w); }, prefetch: (r) => src.prefetch(r) },
    reads: () => n,
  };
}

/** yauzl's own reader of one entry's local header: the reference the batched reader is held to. */
function dataStart(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<number> {
  return new Promise((resolve, reject) => zip.readLocalFileHeader(entry, { minimal: true }, (err, header) => (err ? reject(err) : resolve(header.fileDataStart))));
}

/** Every entry's data offset, batched and through yauzl, and the number of reads the batch took. */
async function bothWays(p: string): Promise<{ batched: number[]; yauzl: number[]; reads: number }> {
  return withZip(p, p, 'the test zip', async (src, z) => {
    const entries = [...(await listEntries(z, p)).values()];
    const c = counted(src);
    const result = await dataStarts(c.src, entries, p);
    const one: number[] = [];
    for (const e of entries) one.push(await dataStart(z, e));
    return { batched: entries.map((e) => result.get(e) as number), yauzl: one, reads: c.reads() };
  });
}

for (const rel of ['torch/vit_tiny.pt', 'real/torch2/views.pt', 'frameworks/numpy/vit_stored.npz', 'frameworks/numpy/vit_deflated.npz']) {
  test(`data offsets of every entry of ${rel} are yauzl's`, async () => {
    const { batched, yauzl } = await bothWays(path.join(FIXTURES, rel));
    assert.ok(batched.length > 1);
    assert.deepEqual(batched, yauzl);
  });
}

test('2,000 small members: their local headers come in a few reads, not one each', async () => {
  const p = file('many.zip', zip(Array.from({ length: 2000 }, (_, i) => ({ name: `m/${i}`, data: Buffer.alloc(100 + (i % 7), i & 0xff) }))));
  const { batched, yauzl, reads } = await bothWays(p);
  assert.deepEqual(batched, yauzl);
  assert.ok(reads <= 4, `${reads} reads`);
});

test('headers far apart are read one span each, in order of the file whatever order they are asked in', async () => {
  const big = Buffer.alloc(64 * 1024);
  const p = file('far.zip', zip([{ name: 'a', data: big }, { name: 'b', data: big }, { name: 'c', data: Buffer.alloc(8) }]));
  await withZip(p, p, 'the test zip', async (src, z) => {
    const entries = [...(await listEntries(z, p)).values()].reverse();
    const c = counted(src);
    const result = await dataStarts(c.src, entries, p);
    assert.equal(c.reads(), 3);
    for (const e of entries) assert.equal(result.get(e), await dataStart(z, e));
  });
});

test('a member whose local header is not one fails the read, naming the member', async () => {
  const bytes = zip([{ name: 'ok', data: Buffer.alloc(16) }, { name: 'bad', data: Buffer.alloc(16) }]);
  const second = bytes.indexOf(Buffer.from('PK\x03\x04', 'latin1'), 1);
  bytes.writeUInt32LE(0xdeadbeef, second);
  const p = file('bad.zip', bytes);
  await assert.rejects(
    withZip(p, 'bad.zip', 'the test zip', async (src, z) => dataStarts(src, [...(await listEntries(z, 'bad.zip')).values()], 'bad.zip')),
    (e: unknown) => e instanceof ReaderError && /zip entry bad: invalid local file header signature: 0xdeadbeef/.test(e.message),
  );
});

test('a member whose data would run past the end of the file fails the read', async () => {
  const bytes = zip([{ name: 'w', data: Buffer.alloc(16) }]);
  // The local header's extra-field length pushes the data start past the end; the directory is untouched.
  bytes.writeUInt16LE(0xffff, 28);
  const p = file('over.zip', bytes);
  await assert.rejects(
    withZip(p, 'over.zip', 'the test zip', async (src, z) => dataStarts(src, [...(await listEntries(z, 'over.zip')).values()], 'over.zip')),
    (e: unknown) => e instanceof ReaderError && /zip entry w: file data overflows file bounds/.test(e.message),
  );
  assert.ok(readFileSync(p).length < 0xffff);
});

test('a member whose local header lies past the end of the file fails the read as truncated', async () => {
  const bytes = zip([{ name: 'a', data: Buffer.alloc(16) }, { name: 'b', data: Buffer.alloc(16) }]);
  // Point the directory's record of `b` (its local header offset, 42 bytes into the record) past the end.
  const record = bytes.indexOf(Buffer.from('PK\x01\x02', 'latin1'), bytes.indexOf(Buffer.from('PK\x01\x02', 'latin1')) + 1);
  bytes.writeUInt32LE(bytes.length + 100, record + 42);
  const p = file('past.zip', bytes);
  await assert.rejects(
    withZip(p, 'past.zip', 'the test zip', async (src, z) => dataStarts(src, [...(await listEntries(z, 'past.zip')).values()], 'past.zip')),
    (e: unknown) => e instanceof ReaderError && /zip entry b: its local header .* runs past the end of the file .*truncated\?/.test(e.message),
  );
});
