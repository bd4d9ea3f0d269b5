/**
 * The real language server (dist/server.js) over stdio: it indexes a workspace on start, puts a
 * diagnostic on each checkpoint it cannot read, answers `tensorport/keys`, and follows file changes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, copyFileSync, mkdirSync, openSync, unlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CancellationTokenSource } from 'vscode-jsonrpc/node';
import { LspClient } from '../support/lspClient';
import { sparseSafetensors } from '../support/sparse';
import { VIT_TO_PADDLE_RULES } from '../support/mappings';
import { FIXTURES, scratchDir } from '../support/tmp';

const ws = scratchDir('lsp');
let client: LspClient;

before(async () => {
  mkdirSync(path.join(ws.dir, 'ckpt'));
  copyFileSync(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'), path.join(ws.dir, 'ckpt', 'vit.safetensors'));
  ws.file('ckpt/broken.safetensors', Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7b]));
  // ONNX external data is often named .bin: not a torch checkpoint, so not flagged as an unreadable one.
  ws.file('ckpt/weights.bin', Buffer.alloc(64, 7));
  mkdirSync(path.join(ws.dir, 'node_modules'));
  ws.file('node_modules/ignored.safetensors', 'not scanned');
  mkdirSync(path.join(ws.dir, 'runs'));
  ws.file('runs/excluded.safetensors', 'excluded by the tensorport.index.exclude setting');
  const started = await LspClient.start(ws.dir, { exclude: ['runs'], maxMappingMB: 1 });
  client = started.client;
  assert.deepEqual(started.ready, { checkpoints: 2, unreadable: 1, pending: 0 });
});

after(() => client.stop());

const uriOf = (rel: string) => pathToFileURL(path.join(ws.dir, rel)).toString();

test('an unreadable checkpoint gets one error diagnostic with the reason; a good one none', () => {
  const bad = client.diagnostics.get(uriOf('ckpt/broken.safetensors'));
  assert.equal(bad?.length, 1);
  assert.equal(bad![0].code, 'unreadable-checkpoint');
  assert.match(bad![0].message, /exceeds the 100,000,000-byte limit/);
  assert.deepEqual(client.diagnostics.get(uriOf('ckpt/vit.safetensors')), []);
  assert.equal(client.diagnostics.has(uriOf('node_modules/ignored.safetensors')), false);
  assert.equal(client.diagnostics.has(uriOf('runs/excluded.safetensors')), false);
  assert.equal(client.diagnostics.has(uriOf('ckpt/weights.bin')), false);
});

test('tensorport/keys answers with the keys JSON of the CLI', async () => {
  const res = await client.request<{ ok: boolean; keys: { format: string; tensors: { key: string; shape: number[] }[] } }>(
    'tensorport/keys', { path: path.join(ws.dir, 'ckpt', 'vit.safetensors') });
  assert.equal(res.ok, true);
  assert.equal(res.keys.format, 'safetensors');
  assert.deepEqual(res.keys.tensors[0], { key: 'embeddings.cls_token', dtype: 'F32', shape: [1, 1, 8], bytes: 32 });
  const bad = await client.request<{ ok: boolean; message: string }>('tensorport/keys', { path: path.join(ws.dir, 'ckpt', 'broken.safetensors') });
  assert.equal(bad.ok, false);
  assert.match(bad.message, /broken\.safetensors: header length/);
});

test('$/cancelRequest: a cancelled request is answered RequestCancelled, the same request uncancelled is answered in full', async () => {
  // Outside the workspace, so only these requests read it: 100,000 tensors take long enough to cancel mid-read.
  const many = path.join(scratchDir('lsp-cancel').dir, 'many.safetensors');
  sparseSafetensors(many, (function* () { for (let i = 0; i < 100_000; i++) yield [`layers.${i}.weight`, [4]] as [string, number[]]; })());
  const source = new CancellationTokenSource();
  const cancelled = client.conn.sendRequest('tensorport/keys', { path: many }, source.token);
  source.cancel();
  await assert.rejects(cancelled, (e: { code?: number }) => e.code === -32800);
  const full = await client.request<{ ok: boolean; keys: { tensors: unknown[] } }>('tensorport/keys', { path: many });
  assert.equal(full.keys.tensors.length, 100_000);
});

test('tensorport/workspace lists checkpoints and mapping files with their status; tensorport/diff compares two', async () => {
  ws.file('port.tpmap', 'source ckpt/vit.safetensors\ntarget ckpt/vit.safetensors\nembeddings.cls_token -> nowhere\n');
  const { entries } = await client.request<{ entries: { path: string; kind: string; ok: boolean; detail: string; errors: number }[] }>('tensorport/workspace', {});
  const byName = new Map(entries.map((e) => [path.relative(ws.dir, e.path), e]));
  assert.equal(byName.get(path.join('ckpt', 'vit.safetensors'))?.detail, 'safetensors, 41 tensors');
  assert.equal(byName.get(path.join('ckpt', 'broken.safetensors'))?.ok, false);
  const map = byName.get('port.tpmap')!;
  assert.equal(map.kind, 'mapping');
  assert.ok(map.errors > 0 && /errors/.test(map.detail), map.detail);
  const same = await client.request<{ ok: boolean; differs: boolean; text: string }>('tensorport/diff', { a: path.join(ws.dir, 'ckpt', 'vit.safetensors'), b: path.join(ws.dir, 'ckpt', 'vit.safetensors') });
  assert.equal(same.differs, false);
  assert.match(same.text, /@@ 41 tensors identical/);
});

test('a mapping larger than tensorport.mapping.maxFileMB is refused with one diagnostic, not analysed', async () => {
  const big = path.join(ws.dir, 'huge.tpmap');
  const text = 'source ckpt/vit.safetensors\ntarget ckpt/vit.safetensors\n' + '# padding\n'.repeat(120_000);
  const uri = await client.open(big, text);
  const d = await client.until(uri, (x) => x.length > 0);
  assert.equal(d.length, 1);
  assert.match(d[0].message, /1\.1 MiB is more than the 1 MiB a mapping file may have \(tensorport\.mapping\.maxFileMB/);
  const hover = await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 9 } });
  assert.equal(hover, null);
});

test('a checkpoint fixed on disk loses its diagnostic; one broken gains it', async () => {
  copyFileSync(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'), path.join(ws.dir, 'ckpt', 'broken.safetensors'));
  writeFileSync(path.join(ws.dir, 'ckpt', 'vit.safetensors'), Buffer.alloc(3));
  await client.conn.sendNotification('workspace/didChangeWatchedFiles', {
    changes: [{ uri: uriOf('ckpt/broken.safetensors'), type: 2 }, { uri: uriOf('ckpt/vit.safetensors'), type: 2 }],
  });
  await client.until(uriOf('ckpt/broken.safetensors'), (d) => d.length === 0);
  const d = await client.until(uriOf('ckpt/vit.safetensors'), (x) => x.length === 1);
  assert.match(d[0].message, /too short/);
});

test('a checkpoint deleted and restored under an open mapping: the mapping says so, then recovers', async () => {
  const ckpt = path.join(ws.dir, 'ckpt', 'vit.safetensors');
  copyFileSync(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'), ckpt);
  await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf('ckpt/vit.safetensors'), type: 2 }] });
  const uri = await client.open(path.join(ws.dir, 'live.tpmap'), 'source ckpt/vit.safetensors\ntarget ckpt/vit.safetensors\nembeddings.* -> embeddings.*\n');
  await client.until(uri, (d) => d.length > 0 && !d.some((x) => x.code === 'unreadable-checkpoint'));
  unlinkSync(ckpt);
  await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf('ckpt/vit.safetensors'), type: 3 }] });
  const gone = await client.until(uri, (d) => d.some((x) => x.code === 'unreadable-checkpoint'));
  assert.match(gone.find((x) => x.code === 'unreadable-checkpoint')!.message, /ckpt\/vit\.safetensors: no such file/);
  copyFileSync(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'), ckpt);
  await client.conn.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: uriOf('ckpt/vit.safetensors'), type: 1 }] });
  await client.until(uri, (d) => !d.some((x) => x.code === 'unreadable-checkpoint'));
});

test('a named pipe and a directory named as checkpoints: each is reported with its reason at once, and the server keeps answering', async (t) => {
  const odd = path.join(ws.dir, 'odd');
  mkdirSync(odd);
  const fifo = path.join(odd, 'model.safetensors');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.error || made.status !== 0) return t.skip(`cannot make a named pipe here: ${made.error?.message ?? made.stderr.toString()}`);
  mkdirSync(path.join(odd, 'x.safetensors'));
  try {
    const t0 = Date.now();
    const uri = await client.open(path.join(odd, 'odd.tpmap'), 'source model.safetensors\ntarget x.safetensors\n* -> *\n');
    const d = await client.until(uri, (x) => x.filter((y) => y.code === 'unreadable-checkpoint').length === 2, 5000);
    assert.ok(Date.now() - t0 < 5000);
    const messages = d.filter((x) => x.code === 'unreadable-checkpoint').map((x) => x.message).join('\n');
    assert.match(messages, /model\.safetensors: is a named pipe \(FIFO\), not a checkpoint file/);
    assert.match(messages, /x\.safetensors: is a directory, not a checkpoint file/);

    // The server is not wedged: a valid mapping opened next gets its analysis, hover and completion.
    const mapping = path.join(FIXTURES, 'mapping');
    const text = `source ${JSON.stringify(path.join(mapping, 'vit_hf.safetensors'))}\ntarget ${JSON.stringify(path.join(mapping, 'vit_paddle.pdparams'))}\n${VIT_TO_PADDLE_RULES}`;
    const good = await client.open(path.join(odd, 'good.tpmap'), text);
    await client.until(good, (x) => !x.some((y) => y.severity === 1), 5000);
    const line = text.split('\n').findIndex((l) => l.startsWith('embeddings.cls_token'));
    const hover = await client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri: good }, position: { line, character: 5 } });
    assert.match(hover?.contents.value ?? '', /F32 \[1, 1, 8\]/);
    const completion = await client.request<{ items: { label: string }[] }>('textDocument/completion', { textDocument: { uri: good }, position: { line, character: 0 } });
    assert.ok(completion.items.some((i) => i.label.startsWith('embeddings.')), JSON.stringify(completion.items.slice(0, 5)));
  } finally {
    // Releases a server read stuck on the pipe (a regression), so the run fails rather than hangs.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    unlinkSync(fifo);
    closeSync(fd);
  }
});
