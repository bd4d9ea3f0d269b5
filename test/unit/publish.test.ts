/**
 * Publishing a finished temporary file (formats/publish.ts): never over a name that exists by then
 * unless replacing was asked for; the exclusive-create fallback for file systems without hard links
 * (link(2) refused with EPERM, as FAT and some FUSE/SMB mounts do) keeps the same rule; a set is
 * published whole or not at all, and a rollback never removes a file it did not publish.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fsp, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { OutputAppeared, TEMP_PATTERN, publishFile, publishSet, tempNameFor } from '../../server/src/formats/publish';
import { scratchDir } from '../support/tmp';

const tmp = scratchDir('publish');

function temp(target: string, text: string): string {
  const t = tempNameFor(target);
  writeFileSync(t, text);
  return t;
}

/** Runs `fn` on a file system whose link(2) is refused with EPERM. */
async function withoutHardLinks(fn: () => Promise<void>): Promise<void> {
  const link = fsp.link;
  fsp.link = async () => { throw Object.assign(new Error('operation not permitted'), { code: 'EPERM' }); };
  try {
    await fn();
  } finally {
    fsp.link = link;
  }
}

test('temporary names follow the one pattern stale-file cleaning accepts, even for long output names', () => {
  for (const name of ['out.safetensors', 'x'.repeat(250)]) {
    const base = path.basename(tempNameFor(path.join(tmp.dir, name)));
    assert.match(base, TEMP_PATTERN);
    assert.ok(base.length <= 255, String(base.length));
  }
});

for (const links of [true, false]) {
  const how = links ? 'with hard links' : 'without hard links (exclusive create, then rename)';
  test(`publish ${how}: a new name gets the file, an existing one is left and refused`, async () => {
    const run = async () => {
      const out = path.join(tmp.dir, `out-${links}.bin`);
      const t1 = temp(out, 'first');
      await publishFile(t1, out);
      assert.equal(readFileSync(out, 'utf8'), 'first');
      assert.equal(existsSync(t1), false);
      const t2 = temp(out, 'second');
      await assert.rejects(publishFile(t2, out), (e: unknown) => e instanceof OutputAppeared && /appeared while this run was writing it/.test(e.message));
      assert.equal(readFileSync(out, 'utf8'), 'first');
      await publishFile(t2, out, { replace: true });
      assert.equal(readFileSync(out, 'utf8'), 'second');
    };
    await (links ? run() : withoutHardLinks(run));
  });
}

test('a set whose third file is taken: the two published are removed again, the foreign file and its neighbours kept', async () => {
  const dir = path.join(tmp.dir, 'set');
  await fsp.mkdir(dir);
  const names = ['a', 'b', 'c', 'index'].map((n) => path.join(dir, n));
  writeFileSync(names[2], 'foreign');
  const files = names.map((target) => ({ tmp: temp(target, `new ${path.basename(target)}`), target }));
  await assert.rejects(publishSet(files), OutputAppeared);
  assert.deepEqual(readdirSync(dir).sort(), ['c']);
  assert.equal(readFileSync(names[2], 'utf8'), 'foreign');
});

test('a rollback leaves a published name alone once something else has replaced it', async () => {
  const dir = path.join(tmp.dir, 'set2');
  await fsp.mkdir(dir);
  const [a, b] = ['a', 'b'].map((n) => path.join(dir, n));
  const files = [{ tmp: temp(a, 'mine'), target: a }, { tmp: path.join(dir, '.missing.0123456789ab.tensorport-tmp'), target: b }];
  // The second temporary file does not exist: the set fails after `a` is published; `a` is ours, so removed.
  await assert.rejects(publishSet(files));
  assert.equal(existsSync(a), false);
  // Now `a` is replaced by another program between its publish and the failure: it must survive.
  const t = temp(a, 'mine again');
  const link = fsp.link;
  fsp.link = (async (from: string, to: string) => {
    if (from === files[1].tmp) { rmSync(a); writeFileSync(a, 'theirs'); }
    return link(from, to);
  }) as typeof fsp.link;
  try {
    await assert.rejects(publishSet([{ tmp: t, target: a }, files[1]]));
  } finally {
    fsp.link = link;
  }
  assert.equal(readFileSync(a, 'utf8'), 'theirs');
});
