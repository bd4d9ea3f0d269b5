/**
 * The role memo remembers keys with layer numbers by their shape (`layers.#.mlp.weight`). It must answer
 * exactly what computing each key's role answers: checked on every key of every checkpoint fixture
 * (HF, Meta, Paddle, timm, GGUF, Flax, Keras, TF, ONNX names), and on the same keys with their numbers
 * changed, so a shape first seen with one layer serves another.
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { checkpointKindByName } from '../../server/src/formats/fileKinds';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { keyRole, keyRoleUncached } from '../../server/src/mapping/roles';
import { FIXTURES } from '../support/tmp';

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else if (checkpointKindByName(name)) yield p;
  }
}

async function fixtureKeys(): Promise<string[]> {
  const keys = new Set<string>();
  for (const file of files(FIXTURES)) {
    const info = await readCheckpoint(file).catch(() => undefined);
    for (const t of info?.tensors ?? []) keys.add(t.key);
  }
  return [...keys];
}

test('remembered roles equal computed roles on every fixture key, and with its numbers changed', async () => {
  const keys = await fixtureKeys();
  assert.ok(keys.length > 1000, `only ${keys.length} keys read from the fixtures`);
  let renumbered = 0;
  for (const key of keys) {
    assert.deepEqual({ ...keyRole(key) }, keyRoleUncached(key), key);
    let n = 0;
    const other = key.replace(/(^|[./])(\d{1,6})(?=[./]|$)/g, (_, sep: string, d: string) => `${sep}${(Number(d) * 7 + 3 + n++) % 50}`);
    if (other === key) continue;
    renumbered++;
    assert.deepEqual({ ...keyRole(other) }, keyRoleUncached(other), other);
    assert.deepEqual({ ...keyRole(key) }, keyRoleUncached(key), `${key} after ${other}`);
  }
  assert.ok(renumbered > 500, `only ${renumbered} keys had layer numbers`);
});

test('a Keras vars/N key keeps its own role: its number names the parameter', () => {
  assert.equal(keyRole('layers/dense/vars/0').param, 'kernel');
  assert.equal(keyRole('layers/dense/vars/1').param, 'bias');
  assert.equal(keyRole('blocks.3.attn.qkv.weight').layer, 3);
  assert.equal(keyRole('blocks.11.attn.qkv.weight').layer, 11);
  assert.equal(keyRole('h_2.attn.0.weight').layer, keyRoleUncached('h_2.attn.0.weight').layer);
});
