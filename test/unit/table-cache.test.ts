/**
 * The table cache (index/tableCache.ts) through the real read pool and real files: a header read in
 * one session is answered in the next without a read thread, equal to a fresh read — keys, shapes,
 * locations, key lookups and the trie; an entry is never used for a header that changed (even one byte,
 * at the same size), a damaged or inconsistent entry reads as none, small headers are not kept, the
 * folder is trimmed least recently used first, and a folder that cannot be written costs only the cache.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { decodeEntry, encodeEntry } from '../../server/src/index/tableCacheFile';
import { trim } from '../../server/src/index/tableCache';
import { ReadPool } from '../../server/src/index/readPool';
import { columnsOf } from '../../server/src/index/tensorColumns';
import { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { sparseSafetensors } from '../support/sparse';
import { scratchDir } from '../support/tmp';

const tmp = scratchDir('table-cache');

/** Keys of several shapes and dtypes' worth, one of them not ASCII (the arena is then UTF-8). */
function* keys(n: number, odd = 'encoder.layer.0.attention.gewicht_ä'): Generator<[string, number[]]> {
  yield [odd, [3]];
  for (let i = 0; i < n; i++) yield [`encoder.layer.${i % 7}.block${i}.${i % 2 ? 'weight' : 'bias'}`, i % 2 ? [4, i % 5 + 1] : [4]];
}

/** A session: a pool whose log is kept, keeping headers of 4 tensors or more. */
function session(dir: string, minTensors = 4): { pool: ReadPool; log: string[] } {
  const log: string[] = [];
  const pool = new ReadPool({ size: 1, idleMs: 60_000, log: (l) => log.push(l) });
  pool.useCache({ dir, minTensors });
  return { pool, log };
}

async function entries(dir: string, want = 1): Promise<string[]> {
  for (let i = 0; i < 200; i++) {
    const found = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.tptc')) : [];
    if (found.length >= want) return found.map((f) => path.join(dir, f));
    await new Promise((r) => setTimeout(r, 25));
  }
  return [];
}

const READ = { displayName: 'model.safetensors', identity: true };

/** A checkpoint of n + 1 tensors read once by a session keeping it in `name`'s folder: the file, the folder, the entry. */
async function keptOnce(name: string, n: number): Promise<{ file: string; dir: string; entry: string }> {
  const dir = path.join(tmp.dir, name);
  const file = path.join(tmp.dir, `${name}.safetensors`);
  sparseSafetensors(file, keys(n));
  const s = session(dir);
  await s.pool.read(file, READ);
  const [entry] = await entries(dir);
  await s.pool.close();
  return { file, dir, entry };
}

/** Everything a user of the read sees: the info with its tensors, and every key found by the index. */
function seen(info: CheckpointInfo): unknown {
  const cols = columnsOf(info)!;
  const found = info.tensors.map((t) => cols.indexOf(t.key));
  return { info: { ...info }, found, trie: cols.trie, missing: cols.indexOf('encoder.layer.0.nothing') };
}

test('a header read in one session is answered in the next from the cache, without a read thread, as a fresh read gives it', async () => {
  const dir = path.join(tmp.dir, 'reuse');
  const file = path.join(tmp.dir, 'reuse.safetensors');
  sparseSafetensors(file, keys(60));
  const first = session(dir);
  const fresh = await first.pool.read(file, READ);
  assert.equal((await entries(dir)).length, 1, 'the read was kept');
  await first.pool.close();

  const second = session(dir);
  const cached = await second.pool.read(file, READ);
  assert.equal(second.pool.threads, 0, 'no read thread was started');
  assert.deepEqual(second.log, ['table cache: model.safetensors (61 tensors) unchanged since it was last read']);
  assert.deepEqual(seen(cached), seen(fresh));
  assert.deepEqual({ ...cached }, { ...(await readCheckpoint(file, READ)) });
  assert.equal(cached.tensors[0].key, 'encoder.layer.0.attention.gewicht_ä');

  // A read for another name shown, or without the identity to check an entry by, does not take it.
  const other = await second.pool.read(file, { ...READ, displayName: 'other' });
  assert.equal(other.file, 'other');
  await second.pool.read(file, { displayName: 'model.safetensors' });
  assert.equal(second.log.length, 1);
  await second.pool.close();
});

test('an entry is not used once the header changes, even one byte at the same size; a touched file keeps it', async () => {
  const { file, dir } = await keptOnce('changed', 40);

  // Touched, same bytes: still the header the entry was made from.
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const touched = session(dir);
  await touched.pool.read(file, READ);
  assert.equal(touched.log.length, 1, 'a touched file is answered from the cache');
  await touched.pool.close();

  // One key renamed in place: the same size, the same length of header, another name.
  const size = statSync(file).size;
  sparseSafetensors(file, keys(40, 'encoder.layer.0.attention.gewicht_ö'));
  assert.equal(statSync(file).size, size);
  const second = session(dir);
  const info = await second.pool.read(file, READ);
  assert.equal(info.tensors[0].key, 'encoder.layer.0.attention.gewicht_ö');
  assert.deepEqual(second.log, [], 'the old entry was not used');
  assert.equal(columnsOf(info)!.indexOf('encoder.layer.0.attention.gewicht_ä'), -1);
  await second.pool.close();
});

test('a damaged entry reads as none: the header is read again and the entry made anew', async () => {
  const { file, dir, entry } = await keptOnce('damaged', 80);
  const want = { ...(await readCheckpoint(file, READ)) };
  const good = readFileSync(entry);

  const damages: [string, (b: Buffer) => Buffer][] = [
    ['a byte flipped in the arrays', (b) => { const c = Buffer.from(b); c[c.length - 100] ^= 0x40; return c; }],
    ['cut short', (b) => b.subarray(0, b.length >> 1)],
    ['empty', () => Buffer.alloc(0)],
    ['another file altogether', () => Buffer.from('{"not":"an entry"}')],
  ];
  for (const [what, damage] of damages) {
    writeFileSync(entry, damage(good));
    const s = session(dir);
    assert.deepEqual({ ...(await s.pool.read(file, READ)) }, want, what);
    assert.deepEqual(s.log, [], `${what}: not used`);
    // The read wrote a sound entry over it.
    for (let i = 0; i < 200 && !readFileSync(entry).equals(good); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(readFileSync(entry).equals(good), `${what}: the entry was made again`);
    await s.pool.close();
  }
});

test('an entry whose checksum holds but whose tables would send a lookup or a walk out of bounds or round forever is refused', async () => {
  const { entry } = await keptOnce('crafted', 30);
  const sound = () => decodeEntry(readFileSync(entry))!;
  assert.ok(sound(), 'the entry as written decodes');
  const crafted: [string, (e: NonNullable<ReturnType<typeof sound>>) => void][] = [
    ['a trie sibling link back to itself (a walk that never ends)', (e) => { e.trie.next[1] = 1; }],
    ['a child whose parent comes after it', (e) => { e.trie.parent[1] = e.trie.nodes - 1; }],
    ['a hash table with no empty slot (a probe that never stops)', (e) => { e.index.slots.fill(1); }],
    ['a trie hash table with no empty slot', (e) => { e.trie.childSlots.fill(2); }],
    ['key ends going backwards', (e) => { e.table.keyEnds[3] = 0; }],
    ['a dtype that is not in the list', (e) => { e.table.dtype[0] = 99; }],
    ['more dimensions than stored', (e) => { e.table.ndim[0] = 200; }],
  ];
  for (const [what, craft] of crafted) {
    const e = sound();
    craft(e);
    const bytes = encodeEntry(e);
    assert.ok(bytes, what);
    assert.equal(decodeEntry(bytes), undefined, what);
  }
});

test('small headers are not kept, and a folder that cannot be written costs only the cache', async () => {
  const file = path.join(tmp.dir, 'small.safetensors');
  sparseSafetensors(file, keys(30));
  const dir = path.join(tmp.dir, 'small');
  const s = session(dir, 10_000);
  await s.pool.read(file, READ);
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(existsSync(dir) ? readdirSync(dir) : [], [], 'nothing kept for 31 tensors');
  await s.pool.close();

  const blocked = tmp.file('not-a-folder', 'a file where the cache folder should be');
  const b = session(blocked);
  assert.deepEqual({ ...(await b.pool.read(file, READ)) }, { ...(await readCheckpoint(file, READ)) });
  for (let i = 0; i < 200 && b.log.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
  assert.match(b.log[0] ?? '', /^table cache: could not keep model\.safetensors: E[A-Z]+$/);
  await b.pool.close();
});

test('the folder is trimmed to its size, least recently used first, and a dead writer\'s temporary file goes', async () => {
  const dir = path.join(tmp.dir, 'trim');
  mkdirSync(dir);
  const now = Date.now() / 1000;
  const put = (name: string, kb: number, ageS: number) => {
    writeFileSync(path.join(dir, name), Buffer.alloc(kb * 1024));
    utimesSync(path.join(dir, name), now - ageS, now - ageS);
  };
  put('old.tptc', 100, 300);
  put('used-lately.tptc', 100, 10);
  put('newest.tptc', 100, 1);
  put('x.tptc.123-0-ab.tmp', 10, 3600);
  put('y.tptc.123-0-cd.tmp', 10, 1);
  put('unrelated.txt', 500, 9999);
  await trim(dir, 250 * 1024);
  assert.deepEqual(readdirSync(dir).sort(), ['newest.tptc', 'unrelated.txt', 'used-lately.tptc', 'y.tptc.123-0-cd.tmp']);
});

test('fields JSON would change are not kept; a field left undefined reads back undefined', async () => {
  const { entry } = await keptOnce('fields', 30);
  const e = decodeEntry(readFileSync(entry))!;
  const changed: [string, object][] = [
    ['a typed array', { graph: new Float32Array(2) }],
    ['a number JSON writes as null', { metadata: { scale: Number.NaN } }],
    ['undefined in an array', { notes: ['a', undefined] }],
    ['a date', { metadata: { saved: new Date(0) } }],
  ];
  for (const [what, fields] of changed) assert.equal(encodeEntry({ ...e, info: { ...e.info, ...fields } as typeof e.info }), undefined, what);
  const kept = decodeEntry(encodeEntry({ ...e, info: { ...e.info, framework: undefined } })!)!;
  assert.equal(kept.info.framework, undefined);
  assert.deepEqual(kept.info.notes, e.info.notes);
});
