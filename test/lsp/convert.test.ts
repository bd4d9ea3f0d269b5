/**
 * Convert with Mapping through the real server (`tensorport/convert`): the output written in the
 * format asked, progress notifications per tensor, and a cancelled run that writes nothing.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import type { ConvertProgressParams, ConvertResult } from '../../server/src/lsp/protocol';
import { LspClient } from '../support/lspClient';
import { sparseSafetensors } from '../support/sparse';
import { EXAMPLES, scratchDir } from '../support/tmp';

const ws = scratchDir('lspconvert');
let client: LspClient;
const progress: ConvertProgressParams[] = [];

before(async () => {
  for (const f of ['hf_bert_tiny.safetensors', 'paddlenlp_bert_tiny.pdparams', 'good.tpmap']) copyFileSync(path.join(EXAMPLES, 'bert-to-paddlenlp', f), path.join(ws.dir, f));
  ({ client } = await LspClient.start(ws.dir));
  client.conn.onNotification('tensorport/convertProgress', (p: ConvertProgressParams) => { progress.push(p); });
});

after(() => client.stop());

test('tensorport/convert writes the target as .pdparams, with a progress notification per tensor', async () => {
  const out = path.join(ws.dir, 'port.pdparams');
  const r = await client.request<ConvertResult>('tensorport/convert', { id: 'a', mapping: path.join(ws.dir, 'good.tpmap'), output: out, format: 'paddle' });
  assert.equal(r.ok, true, JSON.stringify(r));
  assert.equal(r.ok && r.tensors, 39);
  const mine = progress.filter((p) => p.id === 'a');
  assert.equal(mine.length, 39);
  assert.deepEqual(mine.at(-1), { id: 'a', done: 39, total: 39, key: mine.at(-1)!.key });
  const [got, want] = await Promise.all([readCheckpoint(out), readCheckpoint(path.join(ws.dir, 'paddlenlp_bert_tiny.pdparams'))]);
  assert.deepEqual(got.tensors.map((t) => [t.key, t.dtype, t.shape]), want.tensors.map((t) => [t.key, t.dtype, t.shape]));
  const again = await client.request<ConvertResult>('tensorport/convert', { id: 'b', mapping: path.join(ws.dir, 'good.tpmap'), output: out, format: 'paddle' });
  assert.deepEqual(again.ok ? 'ok' : again.message, `${out}: exists; convert replaces it only with --force (nothing was written)`);
});

test('a cancelled conversion stops, says so, and leaves neither the output nor a temporary file', async () => {
  const keys = Array.from({ length: 48 }, (_, i): [string, number[]] => [`layers.${i}.weight`, [1024, 1024]]);
  sparseSafetensors(path.join(ws.dir, 'big_src.safetensors'), keys);
  sparseSafetensors(path.join(ws.dir, 'big_tgt.safetensors'), keys);
  writeFileSync(path.join(ws.dir, 'big.tpmap'), 'source big_src.safetensors\ntarget big_tgt.safetensors\n\nlayers.{i}.weight -> layers.{i}.weight | transpose\n');
  const out = path.join(ws.dir, 'big_out.safetensors');
  const cancel = new CancellationTokenSource();
  const pending = client.conn.sendRequest<ConvertResult>('tensorport/convert', { id: 'c', mapping: path.join(ws.dir, 'big.tpmap'), output: out, format: 'safetensors' }, cancel.token);
  while (!progress.some((p) => p.id === 'c')) await new Promise((r) => setTimeout(r, 5));
  cancel.cancel();
  const r = await pending;
  assert.deepEqual(r, { ok: false, cancelled: true, message: `cancelled; nothing was written to ${out}` });
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(ws.dir).filter((f) => f.includes('tensorport-tmp')), []);
});
