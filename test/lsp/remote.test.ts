/**
 * The promise for the editor: a mapping whose source is `hf://…` gets the same diagnostics,
 * completion and hover as the same mapping over the downloaded files, having fetched only headers (and
 * the config.json beside the weights, which the checks read as they read the one beside a download).
 * The real language server against a local Hub-like server (test/support/fakeHub.ts); the weights are
 * the HF ViT-Tiny that transformers saved (test/fixtures/ports/vit_tiny), the target the Paddle model
 * source of the hand-written port.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { FakeHub, startFakeHub } from '../support/fakeHub';
import { LspClient, PushedDiagnostic } from '../support/lspClient';
import { FIXTURES, scratchDir } from '../support/tmp';

const VIT = path.join(FIXTURES, 'ports', 'vit_tiny');
const WEIGHTS = readFileSync(path.join(VIT, 'model.safetensors'));
const CONFIG = readFileSync(path.join(VIT, 'config.json'));
/** The tensors its safetensors header lists (`__metadata__` is not one). */
const TENSORS = Object.keys(JSON.parse(WEIGHTS.subarray(8, 8 + WEIGHTS.readUInt32LE(0)).toString('utf8'))).filter((k) => k !== '__metadata__').length;
const REMOTE = 'hf://org/vit-tiny/model.safetensors';
const LOCAL = 'download/model.safetensors';
const ws = scratchDir('lspremote');
let hub: FakeHub;
let client: LspClient;
const uris: Record<'local' | 'remote', string> = { local: '', remote: '' };
let servedBeforeOpen = 0;

/** The port with mistakes a porter makes: a wrong head count (config.json says 4), a missing transpose, a typo. */
const body = readFileSync(path.join(FIXTURES, 'ports', 'vit_paddle.tpmap'), 'utf8').split('\n').slice(4).join('\n')
  .replace('layers.{i}.attn.k.weight | transpose', 'layers.{i}.attn.k.weight')
  .replace('layernorm.* -> norm.*', 'layernorm.wieght -> norm.weight');
const mapping = (source: string) => `source ${source}\ntarget paddle_vit.py::VisionTransformer\nset num_heads = 2\n${body}`;
const lines = mapping(REMOTE).split('\n');

before(async () => {
  hub = await startFakeHub({ 'org/vit-tiny': { files: { 'model.safetensors': WEIGHTS, 'config.json': CONFIG } } });
  copyFileSync(path.join(FIXTURES, 'ports', 'paddle_vit.py'), path.join(ws.dir, 'paddle_vit.py'));
  mkdirSync(path.join(ws.dir, 'download'));
  for (const f of ['model.safetensors', 'config.json']) copyFileSync(path.join(VIT, f), path.join(ws.dir, 'download', f));
  // The server inherits this process's environment: the Hub is the fake one, the header cache is fresh.
  Object.assign(process.env, { HF_ENDPOINT: hub.endpoint, HF_HOME: path.join(ws.dir, '.hf'), HF_TOKEN: '', HF_HUB_OFFLINE: '', TENSORPORT_CACHE_DIR: path.join(ws.dir, '.cache') });
  ({ client } = await LspClient.start(ws.dir));
  servedBeforeOpen = hub.served.bytes;
  uris.local = await client.open(path.join(ws.dir, 'local.tpmap'), mapping(LOCAL));
  uris.remote = await client.open(path.join(ws.dir, 'remote.tpmap'), mapping(REMOTE));
});

after(async () => {
  await client.stop();
  await hub.close();
});

/** A diagnostic as the user reads it, the checkpoint's name made the same (on line 1 it spans that name). */
const shown = (d: PushedDiagnostic, name: string) =>
  [d.range.start.line, d.range.start.character, d.range.start.line === 0 ? 'NAME' : d.range.end.character, d.code, d.message.split(name).join('SOURCE'), d.relatedInformation?.length ?? 0];

test('diagnostics: the same over hf:// as over the download, config.json beside the weights included', async () => {
  const local = await client.until(uris.local, (d) => d.length > 0, 30_000);
  const remote = await client.until(uris.remote, (d) => d.length > 0, 30_000);
  assert.deepEqual(remote.map((d) => shown(d, REMOTE)), local.map((d) => shown(d, LOCAL)));
  const codes = new Set(remote.map((d) => d.code));
  // Each mistake is found, the head count only through the config.json beside the weights on the Hub.
  for (const code of ['config-value-differs', 'missing-transpose', 'unknown-source-key']) assert.ok(codes.has(code), `${code} in ${[...codes].join(', ')}`);
});

test('completion offers the remote tensors as it offers the downloaded ones', async () => {
  const at = (uri: string) => client.request<{ items: { label: string; detail?: string; kind?: number }[] }>('textDocument/completion', { textDocument: { uri }, position: { line: lines.length - 1, character: 0 } });
  const [local, remote] = await Promise.all([at(uris.local), at(uris.remote)]);
  const items = (r: typeof local) => r.items.map((i) => [i.label, i.detail, i.kind]);
  assert.ok(local.items.some((i) => i.label === 'embeddings.cls_token' && i.detail === 'F32 [1, 1, 32]'), JSON.stringify(items(local).slice(0, 5)));
  assert.deepEqual(items(remote), items(local));
});

test('hover shows the same tensor on either side of a rule', async () => {
  const line = lines.findIndex((l) => l.startsWith('encoder.layer.{i}.attention.attention.query.weight'));
  for (const character of [3, lines[line].indexOf('layers.{i}') + 3]) {
    const at = (uri: string) => client.request<{ contents: { value: string } } | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });
    const [local, remote] = await Promise.all([at(uris.local), at(uris.remote)]);
    assert.ok(local?.contents.value, `hover at ${line}:${character}`);
    assert.equal(remote?.contents.value.split(REMOTE).join('SOURCE'), local.contents.value.split(LOCAL).join('SOURCE'));
  }
});

test('only the header was fetched: the first 64 KiB block of a 97 KiB file, and the config.json', () => {
  const log = hub.served.log.join('\n');
  assert.ok(WEIGHTS.length > 65536 && WEIGHTS.readUInt32LE(0) + 8 < 65536, 'the fixture has tensor data past its first block');
  assert.doesNotMatch(log, /bytes=6553[6-9]|bytes=[7-9]\d{4}-/, 'no range past the first block');
  assert.ok(hub.served.bytes - servedBeforeOpen <= 65536 + CONFIG.length, `${hub.served.bytes - servedBeforeOpen} bytes`);
});

test('the viewer: the keys request the checkpoint viewer sends takes the hf:// name, and lists what the download lists', async () => {
  type Keys = { ok: boolean; keys?: { tensors: unknown[]; remote?: { commit: string } }; message?: string };
  const [local, remote] = await Promise.all([
    client.request<Keys>('tensorport/keys', { path: path.join(ws.dir, LOCAL) }),
    client.request<Keys>('tensorport/keys', { path: REMOTE }),
  ]);
  assert.ok(remote.ok, remote.message);
  assert.deepEqual(remote.keys!.tensors, local.keys!.tensors);
  assert.equal(remote.keys!.remote!.commit, hub.repos.get('org/vit-tiny')!.commit);
  const missing = await client.request<Keys>('tensorport/keys', { path: 'hf://org/vit-tiny/nope.safetensors' });
  assert.equal(missing.ok, false);
  assert.match(missing.message!, /org\/vit-tiny has no file nope\.safetensors at main/);
});

test('the remote source line is a link that opens the viewer; go to definition goes nowhere on it', async () => {
  const links = await client.request<{ range: PushedDiagnostic['range']; target: string }[]>('textDocument/documentLink', { textDocument: { uri: uris.remote } });
  assert.equal(links.length, 1);
  assert.deepEqual(links[0].range, { start: { line: 0, character: 7 }, end: { line: 0, character: 7 + REMOTE.length } });
  assert.equal(links[0].target, `command:tensorport.openCheckpoint?${encodeURIComponent(JSON.stringify([REMOTE]))}`);
  assert.deepEqual(await client.request('textDocument/documentLink', { textDocument: { uri: uris.local } }), []);
  assert.equal(await client.request('textDocument/definition', { textDocument: { uri: uris.remote }, position: { line: 0, character: 12 } }), null);
});

test('the Explorer view lists the remote checkpoint an open mapping names, as written, with its tensor count', async () => {
  const { entries } = await client.request<{ entries: { path: string; label: string; kind: string; detail: string }[] }>('tensorport/workspace', {});
  const remote = entries.find((e) => e.path === REMOTE);
  assert.ok(remote, JSON.stringify(entries.map((e) => e.path)));
  assert.deepEqual([remote!.kind, remote!.label, remote!.detail], ['checkpoint', REMOTE, `safetensors, ${TENSORS} tensors`]);
});
