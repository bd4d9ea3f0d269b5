/**
 * The file-kind registry (server/src/formats/fileKinds.ts) is the one list of what Tensor Port reads;
 * package.json, which VS Code reads without running code, must say the same: every checkpoint kind
 * opens in the viewer (as default or as an option) and has Show Checkpoint Keys in the Explorer.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CHECKPOINT_EXTENSIONS, CHECKPOINT_GLOBS, SHARD_INDEX_SUFFIX, checkpointKindByName, fileKindByName } from '../../server/src/formats/fileKinds';

const pkg = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8'));

test('names: checkpoints by extension (case-insensitive), shard indexes, mappings, sources', () => {
  assert.equal(checkpointKindByName('/a/B.SafeTensors'), 'safetensors');
  assert.equal(checkpointKindByName('model.safetensors.index.json'), 'safetensors-index');
  assert.equal(checkpointKindByName('config.json'), undefined);
  assert.equal(checkpointKindByName('inference/model.pdiparams'), 'paddle-inference');
  assert.equal(fileKindByName('port.tpmap'), 'mapping');
  assert.equal(fileKindByName('modeling_vit.py'), 'source');
  assert.equal(fileKindByName('types.d.ts'), undefined);
  assert.equal(fileKindByName('C:\\w\\model.gguf'), 'checkpoint');
});

test('package.json lists every checkpoint extension the registry has, and no other', () => {
  const exts = Object.keys(CHECKPOINT_EXTENSIONS).map((e) => e.slice(1)).sort();
  const selectors = (pkg.contributes.customEditors as { selector: { filenamePattern: string }[] }[])
    .flatMap((c) => c.selector.map((s) => s.filenamePattern));
  assert.deepEqual(selectors.filter((s) => !s.endsWith(SHARD_INDEX_SUFFIX)).map((s) => s.replace('*.', '')).sort(), exts);
  assert.ok(selectors.includes(`*${SHARD_INDEX_SUFFIX}`));
  const menu = (pkg.contributes.menus['explorer/context'] as { command: string; when: string }[]).find((m) => m.command === 'tensorport.showKeys')!;
  const inWhen = /\(([^)]*)\)/.exec(menu.when)![1].split('|').sort();
  assert.deepEqual(inWhen, exts);
  assert.deepEqual(CHECKPOINT_GLOBS, [`**/*.{${Object.keys(CHECKPOINT_EXTENSIONS).map((e) => e.slice(1)).join(',')}}`, `**/*${SHARD_INDEX_SUFFIX}`, '**/*.incomplete']);
});
