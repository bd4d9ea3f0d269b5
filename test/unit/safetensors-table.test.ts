/**
 * The safetensors reader filling columns (readCheckpoint's `table` option, used by `keys`) gives what
 * the objects' path gives: the same tensors in the same order, the same `keys --json` bytes and table,
 * the same refusal — on every real safetensors fixture and on headers that leave the columns' fast path.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { writeKeysJson } from '../../server/src/cli/keysJson';
import { formatKeysTable } from '../../server/src/cli/keysTable';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { tableOf } from '../../server/src/formats/tensorTable';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';

const scratch = scratchDir('safetensors-table');

function keysJson(info: CheckpointInfo): string {
  const chunks: string[] = [];
  writeKeysJson(info, (c) => chunks.push(c));
  return chunks.join('');
}

function safetensorsUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? safetensorsUnder(p) : p.endsWith('.safetensors') ? [p] : [];
  });
}

/** Reads `file` both ways; returns the table-backed info after checking it against the objects. */
async function bothWays(file: string): Promise<CheckpointInfo> {
  const objects = await readCheckpoint(file);
  const tabled = await readCheckpoint(file, { table: true });
  const json = keysJson(tabled);   // first, while only the columns exist
  assert.equal(json, keysJson(objects), file);
  assert.equal(formatKeysTable(tabled, { color: false }), formatKeysTable(objects, { color: false }), file);
  assert.deepEqual(tabled.tensors, objects.tensors, file);
  assert.deepEqual({ ...tabled, tensors: [] }, { ...objects, tensors: [] }, file);
  return tabled;
}

test('every real safetensors fixture reads the same through the columns', async () => {
  const files = safetensorsUnder(FIXTURES);
  let read = 0, columns = 0;
  for (const file of files) {
    const why = await readCheckpoint(file).then(() => undefined, (e: Error) => e.message);
    if (why !== undefined) {
      // A Git LFS pointer among the fixtures: refused alike.
      assert.equal(await readCheckpoint(file, { table: true }).then(() => 'read', (e: Error) => e.message), why);
      continue;
    }
    read++;
    if (tableOf(await bothWays(file))) columns++;
  }
  assert.ok(read >= 20, `${read} read`);
  // Written by safetensors itself: the header lists tensors in offset order, so none needs the sort.
  assert.equal(columns, read);
});

test('keys that JSON writes unescaped but a terminal must not see are escaped from the columns too', async () => {
  const keys = ['plain', 'del\x7f', 'c1\u0085', 'bidi\u202eevil', 'sep\u2028', 'ключ', '😀', ''];
  const header = Object.fromEntries(keys.map((k, i) => [k, { dtype: 'F32', shape: [i, 1], data_offsets: [2 * i * (i - 1), 2 * i * (i + 1)] }]));
  const file = scratch.file('odd-keys.safetensors', safetensorsBytes(header, 2 * keys.length * (keys.length - 1)));
  const info = await bothWays(file);
  assert.ok(tableOf(info), 'read into columns');
  assert.match(keysJson(info), /del\\u007f/);
});

test('a header out of offset order leaves the columns and is sorted as before', async () => {
  const header = { b: { dtype: 'F32', shape: [2], data_offsets: [8, 16] }, a: { dtype: 'F16', shape: [4], data_offsets: [0, 8] } };
  const info = await bothWays(scratch.file('unordered.safetensors', safetensorsBytes(header, 16)));
  assert.equal(tableOf(info), undefined);
  assert.deepEqual(info.tensors.map((t) => t.key), ['a', 'b']);
});

test('a faulty header is refused with the same reason either way', async () => {
  const cases = {
    span: { a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } },
    gap: { a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } },
    dtype: { a: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } },
    reversed: { a: { dtype: 'U8', shape: [0], data_offsets: [4, 0] } },
    subByte: { a: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } },
  };
  for (const [name, header] of Object.entries(cases)) {
    const file = scratch.file(`${name}.safetensors`, safetensorsBytes(header, 12));
    const why = await readCheckpoint(file).then(() => 'read', (e: Error) => e.message);
    assert.notEqual(why, 'read', name);
    assert.equal(await readCheckpoint(file, { table: true }).then(() => 'read', (e: Error) => e.message), why, name);
  }
});

test('assigning tensors detaches the columns', async () => {
  const info = await readCheckpoint(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'), { table: true });
  assert.ok(tableOf(info));
  info.tensors = info.tensors.slice(1);
  assert.equal(tableOf(info), undefined);
  assert.equal(JSON.parse(keysJson(info)).tensors.length, info.tensors.length);
});
