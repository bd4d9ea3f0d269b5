/**
 * Conditions nothing decides (no config class, no config.json, no default): the keys of each branch
 * are conditional — marked in `keys --json`, the table and hover, never listed as certain — and in a
 * mapping the checkpoint decides which alternative holds: a branch's key it does not write is
 * information, not unmapped-target-key.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { hoverModelSource } from '../../server/src/source/hover';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runCli } from '../support/cli';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';

const SRC = path.join(FIXTURES, 'source', 'branchy.py');

test('each branch\'s keys are conditional on the condition, or on its negation', async () => {
  const info = await readModelSource(`${SRC}::Net`);
  const byKey = new Map(info.tensors.map((t) => [t.key, t.conditional]));
  assert.equal(byKey.get('blocks.0.fc.weight'), undefined);
  assert.equal(byKey.get('blocks.0.cross.weight'), '`config.add_cross_attention`');
  assert.equal(byKey.get('blocks.1.gate.bias'), '`config.use_gate`');
  assert.equal(byKey.get('blocks.1.scale'), 'not `config.use_gate`');
  assert.ok(info.notes.some((n) => /`config.use_gate` \(line 13\) could not be decided: the keys of each branch are listed as conditional/.test(n)));
  const r = runCli(['keys', `${SRC}::Net`]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^blocks\.0\.cross\.weight \?/m);
  assert.match(r.out, /\?: only if not `config\.use_gate` \(2 tensors\)/);
  const h = await hoverModelSource(SRC, 11, 25);
  assert.match(h!.markdown, /`blocks\.\{0–1\}\.cross\.weight` \(only if `config\.add_cross_attention`\)/);
});

test('a mapping from a checkpoint of one alternative is clean: the other branch\'s keys are information', () => {
  const dir = scratchDir('conditional').dir;
  const hidden = 4;
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = {};
  let off = 0;
  const add = (key: string, shape: number[]) => { const n = shape.reduce((a, b) => a * b, 1) * 4; header[key] = { dtype: 'F32', shape, data_offsets: [off, off + n] }; off += n; };
  for (const i of [0, 1]) { add(`blocks.${i}.fc.weight`, [hidden, hidden]); add(`blocks.${i}.fc.bias`, [hidden]); add(`blocks.${i}.scale`, [hidden]); }
  const ckpt = path.join(dir, 'plain.safetensors');
  writeFileSync(ckpt, safetensorsBytes(header, off));
  const map = path.join(dir, 'port.tpmap');
  // A bare safetensors file of square matrices says nothing of its layout: the mapping names it.
  writeFileSync(map, `source ${ckpt}\ntarget ${SRC}::Net\nframework source torch\n\nblocks.{i}.fc.* -> blocks.{i}.fc.*\nblocks.{i}.scale -> blocks.{i}.scale\n`);
  const r = runCli(['check', map, '--json']);
  assert.equal(r.code, 0, r.out);
  const diags = JSON.parse(r.out).diagnostics as { severity: string; code: string; message: string }[];
  assert.deepEqual([...new Set(diags.map((d) => `${d.severity} ${d.code}`))], ['information unmapped-target-key']);
  assert.equal(diags.length, 8, diags.map((d) => d.message).join('\n')); // cross.weight/bias and gate.weight/bias in 2 blocks
  assert.ok(diags.every((d) => /exists only if `config\.(add_cross_attention|use_gate)`; no rule writes it/.test(d.message)));
});
