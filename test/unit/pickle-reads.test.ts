/**
 * A pickle that fits in the cursor's window comes in one read (a 53 KB `.pdparams` took four growing
 * ones); a range longer than the window still goes through windows, never read whole.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { ByteSource, withSource } from '../../server/src/formats/byteSource';
import { Cursor, type RandomAccess } from '../../server/src/formats/pickle/cursor';
import { runPickle } from '../../server/src/formats/pickle/vm';
import { FIXTURES } from '../support/tmp';

const PADDLE = path.join(FIXTURES, 'examples', 'bert-to-paddlenlp', 'paddlenlp_bert_deeper.pdparams');

/** The real source, the ranges read through it recorded. */
function recorded(src: ByteSource): { src: RandomAccess; seen: [number, number][] } {
  const seen: [number, number][] = [];
  return { seen, src: { displayName: src.displayName, size: src.size, read: (o, l, w) => { seen.push([o, l]); return src.read(o, l, w); } } };
}

test('a .pdparams smaller than the window is read in one read, whole', async () => {
  await withSource(PADDLE, PADDLE, async (file) => {
    assert.ok(file.size > 16 * 1024, `the fixture is ${file.size} bytes`);
    const { src, seen } = recorded(file);
    const { value } = await runPickle(src, 0, file.size, { requireProto: true, paddleDenseTensors: true });
    assert.ok(value !== null && typeof value === 'object');
    assert.deepEqual(seen, [[0, file.size]]);
  });
});

test('a range longer than the window is read in windows', async () => {
  await withSource(PADDLE, PADDLE, async (file) => {
    const { src, seen } = recorded(file);
    const window = 16 * 1024;
    const cur = new Cursor(src, 0, file.size, window);
    while (cur.remaining > 0) await cur.bytes(Math.min(1000, cur.remaining), 'test');
    assert.ok(seen.length > 1, `${seen.length} reads`);
    for (const [, length] of seen) assert.ok(length <= window, `a ${length}-byte read`);
  });
});
