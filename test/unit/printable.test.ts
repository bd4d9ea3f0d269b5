/**
 * What a file says reaches the user escaped: a tensor named with an ANSI sequence, a newline or a
 * bidirectional override cannot write to the terminal, break the one-line error, or reorder a message —
 * in the CLI's table, its JSON, its error line, and the editor's diagnostics.
 */
/* eslint-disable no-control-regex -- raw control characters in output are exactly what these tests look for */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { printable, printableJson } from '../../server/src/formats/printable';
import { runCli } from '../support/cli';
import { safetensorsBytes, scratchDir } from '../support/tmp';

const tmp = scratchDir('printable');
const EVIL = 'layer\x1b[31m.\nweight\u202e\x9b2J';

test('printable escapes controls, separators and bidi overrides, and nothing else', () => {
  assert.equal(printable(EVIL), 'layer\\x1b[31m.\\x0aweight\\u{202e}\\x9b2J');
  assert.equal(printable('a\nb', { keepNewlines: true }), 'a\nb');
  assert.equal(printable('ünïcode · 日本 `x`'), 'ünïcode · 日本 `x`');
  const json = printableJson(JSON.stringify({ k: EVIL }));
  assert.equal(JSON.parse(json).k, EVIL);
  assert.doesNotMatch(json, /[\x00-\x1f\x7f-\x9f\u202e]/);
});

test('keys: a hostile tensor name is escaped in the table and in --json; no raw control byte reaches stdout', () => {
  const file = tmp.file('evil.safetensors', safetensorsBytes({ [EVIL]: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4));
  const table = runCli(['keys', file]);
  assert.equal(table.code, 0, table.err);
  assert.ok(table.out.includes('layer\\x1b[31m.\\x0aweight\\u{202e}\\x9b2J'), table.out);
  const json = runCli(['keys', file, '--json']);
  assert.equal(JSON.parse(json.out).tensors[0].key, EVIL);
  for (const out of [table.out, json.out]) assert.doesNotMatch(out, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
});

test('an error naming a hostile key stays one line, escaped', () => {
  const file = tmp.file('bad.safetensors', safetensorsBytes({ [EVIL]: { dtype: 'F99', shape: [1], data_offsets: [0, 4] } }, 4));
  const r = runCli(['keys', file]);
  assert.equal(r.code, 2);
  assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
  assert.match(r.err, /tensor "layer\\x1b\[31m/);
  assert.doesNotMatch(r.err, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202e]/);
});
