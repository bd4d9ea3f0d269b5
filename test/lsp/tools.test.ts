/**
 * The editor's language-model tools go through `tensorport/tool` on the real server: the same
 * documents as the CLI's `--json`, paths relative to the workspace folder, one-line refusals, and
 * parity's command mode refused when the client says the workspace is not trusted.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { ToolParams, ToolResult } from '../../server/src/lsp/protocol';
import { runCli } from '../support/cli';
import { LspClient } from '../support/lspClient';
import { EXAMPLES, scratchDir } from '../support/tmp';

const ws = scratchDir('lsptools');
let client: LspClient;
const tool = (p: ToolParams) => client.request<ToolResult>('tensorport/tool', p);

before(async () => {
  for (const f of ['hf_bert_tiny.safetensors', 'paddlenlp_bert_tiny.pdparams', 'good.tpmap']) copyFileSync(path.join(EXAMPLES, 'bert-to-paddlenlp', f), path.join(ws.dir, f));
  ({ client } = await LspClient.start(ws.dir));
});

after(() => client.stop());

test('tensorport/tool answers with the CLI\'s --json document, paths relative to the workspace folder', async () => {
  const r = await tool({ name: 'check', input: { files: ['good.tpmap'] }, trusted: false });
  assert.ok(r.ok, JSON.stringify(r));
  const cli = runCli(['check', path.join(ws.dir, 'good.tpmap'), '--json']);
  assert.deepEqual(r.json, JSON.parse(cli.out));
  const keys = await tool({ name: 'keys', input: { file: 'hf_bert_tiny.safetensors' }, trusted: false });
  assert.ok(keys.ok && (keys.json as { format: string }).format === 'safetensors');
});

test('convert writes into the workspace and refuses to overwrite without force; bad input and untrusted command mode are one line', async () => {
  const input = { mapping: 'good.tpmap', output: 'port.pdparams' };
  const r = await tool({ name: 'convert', input, trusted: false });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal((r.json as { tensors: number }).tensors, 39);
  assert.ok(existsSync(path.join(ws.dir, 'port.pdparams')));
  const again = await tool({ name: 'convert', input, trusted: false });
  assert.deepEqual(again, { ok: false, message: `${path.join(ws.dir, 'port.pdparams')}: exists; convert replaces it only with "force" (nothing was written)` });
  assert.deepEqual(await tool({ name: 'keys', input: { file: 7 }, trusted: true }), { ok: false, message: 'keys: file: Invalid input: expected string, received number' });
  assert.deepEqual(await tool({ name: 'parity', input: { command: 'echo hi' }, trusted: false }),
    { ok: false, message: 'command mode runs your own script: it is only available in a trusted workspace' });
});
