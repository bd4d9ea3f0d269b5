/**
 * A JAX checkpoint is a side of a mapping like any other, in the editor: the real server over stdio on the
 * big_vision ViT port (test/fixtures/frameworks/port, written by flax.linen), whose keys are `/`-separated
 * (`Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel`): a planted missing transpose is a diagnostic on
 * its line, hover on a `{i}` pattern inside a segment shows what it matches, and completion folds the
 * layers of `encoderblock_N` into `encoderblock_{i}`.
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { LspClient } from '../support/lspClient';
import { FIXTURES, scratchDir } from '../support/tmp';

const ws = scratchDir('lsp-frameworks');
const PORT = path.join(FIXTURES, 'frameworks', 'port');
let client: LspClient;
let uri: string;
let lines: string[];

before(async () => {
  cpSync(path.join(PORT, 'vit_bigvision.npz'), path.join(ws.dir, 'vit_bigvision.npz'));
  cpSync(path.join(PORT, 'hf_vit'), path.join(ws.dir, 'hf_vit'), { recursive: true });
  lines = readFileSync(path.join(PORT, 'vit_bigvision_to_hf.tpmap'), 'utf8').split('\n');
  const q = lines.findIndex((l) => l.includes('query/kernel'));
  lines[q] = lines[q].replace(/ \| transpose$/, '');
  ({ client } = await LspClient.start(ws.dir));
  uri = await client.open(path.join(ws.dir, 'port.tpmap'), lines.join('\n'));
});

after(() => client.stop());

const lineOf = (needle: string) => lines.findIndex((l) => l.includes(needle));

test('the planted missing transpose on a `/` key with a capture inside a segment is found on its line, and nothing else', async () => {
  const d = await client.until(uri, (x) => x.length > 0);
  assert.deepEqual(d.map((x) => [x.range.start.line, x.code]), [[lineOf('query/kernel'), 'missing-transpose']]);
});

test('hover on `Transformer/encoderblock_{i}/…` shows the keys it matches and the shape through the transforms', async () => {
  const line = lineOf('MlpBlock_0/Dense_0/kernel');
  const h = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line, character: 5 } });
  assert.match(h.contents.value, /matches 2 keys/);
  assert.match(h.contents.value, /transpose/);
});

test('completion after `Transformer/encoderblock_` offers the block keys folded into `{i}`, with dtype and shape', async () => {
  const typed = 'Transformer/encoderblock_';
  await client.replaceAll(uri, [...lines, typed].join('\n'));
  const r = await client.request<{ items: { label: string; detail?: string }[] }>('textDocument/completion', { textDocument: { uri }, position: { line: lines.length, character: typed.length } });
  const labels = r.items.map((i) => i.label);
  const fc = r.items.find((i) => i.label === 'Transformer/encoderblock_{i}/MlpBlock_0/Dense_0/kernel');
  assert.ok(fc, labels.slice(0, 8).join(', '));
  assert.match(fc!.detail!, /^F32 \[\d+, \d+\] × 2$/);
});
