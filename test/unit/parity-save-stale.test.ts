/**
 * `--save-tensors` (server/python/tensorport_save.py) replaces its own earlier files by design, but a run
 * killed mid-write leaves an mkstemp temporary file: the next run removes those — its exact pattern,
 * regular files untouched for an hour — and leaves similar names, links and young files alone.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runPython, testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const py = testPython();
const SAVE = path.join(__dirname, '..', '..', 'server', 'python');

test('stale --save-tensors temporary files are removed; look-alikes, links and young files are not', { skip: py.skip }, () => {
  const dir = scratchDir('parity-save-stale').dir;
  const old = new Date(Date.now() - 2 * 3_600_000);
  const make = (name: string, when = old) => { writeFileSync(path.join(dir, name), 'x'); utimesSync(path.join(dir, name), when, when); };
  make('.tensorport-ab_cd123.npy.tmp');
  for (const n of ['.tensorport-abcd123.npy.tmp', '.tensorport-ab_cd123.npy.tmp.keep', 'tensorport-ab_cd123.npy.tmp', '.tensorport-AB_CD123.npy.tmp']) make(n);
  make('.tensorport-young123.npy.tmp', new Date());
  symlinkSync(path.join(dir, 'tensorport-ab_cd123.npy.tmp'), path.join(dir, '.tensorport-linkxxxx.npy.tmp'));
  const out = runPython(py.python!, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(SAVE)}); import tensorport_save as s; print(s.remove_stale_temps(${JSON.stringify(dir)}))`]);
  assert.equal(out.trim(), "['.tensorport-ab_cd123.npy.tmp']");
  assert.equal(existsSync(path.join(dir, '.tensorport-ab_cd123.npy.tmp')), false);
  for (const n of ['.tensorport-abcd123.npy.tmp', '.tensorport-ab_cd123.npy.tmp.keep', 'tensorport-ab_cd123.npy.tmp', '.tensorport-AB_CD123.npy.tmp', '.tensorport-young123.npy.tmp']) assert.ok(existsSync(path.join(dir, n)), n);
  assert.ok(lstatSync(path.join(dir, '.tensorport-linkxxxx.npy.tmp')).isSymbolicLink());
});
