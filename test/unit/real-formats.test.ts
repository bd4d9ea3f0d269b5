/**
 * The edges of what real frameworks write: a Paddle inference model's parameters without their
 * program or with another model's, eval in a pickle that is not Paddle's DenseTensor form, packed
 * sub-byte dtypes that do not end on a byte, ONNX subgraphs nested without end.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { ReaderError } from '../../server/src/formats/readerError';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';

const REAL = path.join(FIXTURES, 'real');
const tmp = scratchDir('real-formats');

async function refused(file: string, code: 'unreadable-checkpoint' | 'unsafe-pickle', reason: RegExp): Promise<void> {
  await assert.rejects(readCheckpoint(file), (e: unknown) => {
    assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${String(e)}`);
    assert.equal(e.code, code, e.reason);
    assert.match(e.reason, reason);
    return true;
  });
}

test('.pdiparams without its program is refused, saying which files to put beside it', async () => {
  const file = path.join(tmp.dir, 'model.pdiparams');
  copyFileSync(path.join(REAL, 'paddle3', 'inference_pir', 'model.pdiparams'), file);
  await refused(file, 'unreadable-checkpoint', /put the program beside it \(model\.json or model\.pdmodel\)/);
});

test('.pdiparams beside another model\'s program is refused: names never slide onto the wrong tensors', async () => {
  const dir = path.join(tmp.dir, 'mixed');
  mkdirSync(dir);
  copyFileSync(path.join(REAL, 'paddle3', 'inference_pir', 'model.json'), path.join(dir, 'model.json'));
  // Tensors of a different count and shapes: safetensors' bytes are not a .pdiparams at all.
  writeFileSync(path.join(dir, 'model.pdiparams'), readFileSync(path.join(REAL, 'paddle3', 'inference_pir', 'model.pdiparams')).subarray(0, 100));
  await refused(path.join(dir, 'model.pdiparams'), 'unreadable-checkpoint', /truncated, or not the parameters of this program|not the parameters of this program/);
});

test('a legacy .pdmodel names the same tensors as PIR\'s .json for the same layer', async () => {
  const pir = await readCheckpoint(path.join(REAL, 'paddle3', 'inference_pir', 'model.pdiparams'));
  const legacy = await readCheckpoint(path.join(REAL, 'paddle3', 'inference_legacy', 'model.pdiparams'));
  assert.equal(pir.format, 'paddle-inference');
  assert.deepEqual(pir.tensors.map((t) => [t.key, t.dtype, t.shape]), legacy.tensors.map((t) => [t.key, t.dtype, t.shape]));
  assert.deepEqual(legacy.notes, ['names from model.pdmodel (the program beside it)']);
});

test('eval in a .pdparams other than Paddle\'s DenseTensor form is unsafe; in a torch pickle any eval is', async () => {
  // {'w': eval('__import__("os")', {})}: protocol 2, GLOBAL builtins.eval, REDUCE with a string.
  const ascii = (s: string) => [...Buffer.from(s, 'latin1')];
  const payload = Buffer.from([0x80, 2, 0x7d, 0x58, ...u32(1), ...ascii('w'), 0x63, ...ascii('builtins\neval\n'),
    0x58, ...u32(4), ...ascii('data'), 0x7d, 0x86, 0x52, 0x73, 0x2e]);
  await refused(tmp.file('evil.pdparams', payload), 'unsafe-pickle', /`builtins\.eval` with something other than Paddle's DenseTensor form/);
  await refused(tmp.file('evil.pt', payload), 'unsafe-pickle', /`builtins\.eval`, which is not on the allow-list/);
});

test('packed sub-byte tensors must end on a byte boundary, as safetensors requires', async () => {
  const file = tmp.file('f4.safetensors', safetensorsBytes({ x: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2));
  await refused(file, 'unreadable-checkpoint', /F4 \[3\]: 12 bits, not a whole number of bytes/);
  const ok = await readCheckpoint(tmp.file('f6.safetensors', safetensorsBytes({ x: { dtype: 'F6_E3M2', shape: [4], data_offsets: [0, 3] } }, 3)));
  assert.deepEqual(ok.tensors.map((t) => [t.dtype, t.shape, t.location!.length]), [['F6_E3M2', [4], 3]]);
});

test('ONNX subgraphs nested past the bound end the read instead of recursing', async () => {
  // GraphProto { node { op_type "If", attribute { name "g", g { … } } } } nested 40 deep.
  const len = (b: number[]) => varint(b.length).concat(b);
  let graph: number[] = [];
  for (let i = 0; i < 40; i++) {
    const attr = [0x0a, ...len([...Buffer.from('g')]), 0x32, ...len(graph)];
    const node = [0x22, ...len([...Buffer.from('If')]), 0x2a, ...len(attr)];
    graph = [0x0a, ...len(node)];
  }
  const model = Buffer.from([0x08, 8, 0x3a, ...len(graph)]);
  await refused(tmp.file('deep.onnx', model), 'unreadable-checkpoint', /subgraphs nest deeper than 32 levels/);
});

function u32(n: number): number[] {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...b];
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7; }
  out.push(n);
  return out;
}
