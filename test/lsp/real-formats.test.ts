/**
 * Files the real frameworks wrote, in the real language server: a Paddle inference model
 * (`paddle.jit.save`'s .pdiparams named by its .json program) and a torch 2.13 state dict are indexed,
 * and a mapping between them gets completion, hover and the transpose check like any other pair.
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { LspClient } from '../support/lspClient';
import { FIXTURES, scratchDir } from '../support/tmp';

const REAL = path.join(FIXTURES, 'real');
const ws = scratchDir('lspreal');
let client: LspClient;
let ready: { checkpoints: number; unreadable: number };
let uri: string;
const text = 'source model.pdiparams\ntarget state_dict.pt\n\nlinear_0.w_0 -> fc.weight\n\n';

before(async () => {
  for (const f of ['model.json', 'model.pdiparams']) copyFileSync(path.join(REAL, 'paddle3', 'inference_pir', f), path.join(ws.dir, f));
  copyFileSync(path.join(REAL, 'torch2', 'state_dict.pt'), path.join(ws.dir, 'state_dict.pt'));
  ({ client, ready } = await LspClient.start(ws.dir));
  uri = await client.open(path.join(ws.dir, 'port.tpmap'), text);
});

after(() => client.stop());

test('the inference model and the torch 2.13 file are both indexed, neither unreadable', () => {
  assert.deepEqual(ready, { checkpoints: 2, unreadable: 0, pending: 0 });
});

test('a rule from the Paddle program\'s name to torch\'s key: Paddle\'s [in, out] against torch\'s [out, in]', async () => {
  const d = await client.until(uri, (x) => x.length > 0);
  const rule = d.filter((x) => x.range.start.line === 3);
  assert.ok(rule.some((x) => x.code === 'shape-mismatch' || x.code === 'missing-transpose'), JSON.stringify(rule.map((x) => [x.code, x.message])));
  assert.ok(rule.some((x) => /\[8, 4\]/.test(x.message) && /\[4, 8\]/.test(x.message)), JSON.stringify(rule.map((x) => x.message)));
});

test('completion offers the program\'s names with dtype and shape; hover shows the tensor', async () => {
  const r = await client.request<{ items: { label: string; detail?: string }[] }>('textDocument/completion', { textDocument: { uri }, position: { line: 4, character: 0 } });
  const conv = r.items.find((i) => i.label === 'conv2d_0.w_0');
  assert.ok(conv, r.items.map((i) => i.label).join(', '));
  assert.equal(conv!.detail, 'F32 [4, 3, 3, 3]');
  const h = await client.request<{ contents: { value: string } }>('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 3 } });
  assert.match(h.contents.value, /F32 \[8, 4\]/);
});
