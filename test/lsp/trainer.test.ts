/**
 * A porting engineer's folder, in the real language server: a real `Trainer.train()` output
 * (checkpoint-2/ and checkpoint-4/), a model cloned without Git LFS, a hub cache with a partial
 * download, and a malicious pickle. Trainer's settings, the LFS pointer and the partial download are
 * information, not errors; optimizer, scheduler and RNG states list cleanly and are not offered as
 * mapping sides; the pickle is still an error. With a small `eagerLimit`, the oldest step's headers
 * wait until something asks for them.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import type { KeysResult, StatusParams, WorkspaceResult } from '../../server/src/lsp/protocol';
import { LspClient } from '../support/lspClient';
import { FIXTURES, scratchDir } from '../support/tmp';

const ws = scratchDir('lsptrainer');
const run = path.join(ws.dir, 'out');
const REV = 'b1e2'.padEnd(40, '7');
const snapshot = path.join(ws.dir, 'hub', 'models--org--tiny', 'snapshots', REV);
const partial = path.join(ws.dir, 'hub', 'models--org--tiny', 'blobs', `${'e'.repeat(64)}.12345678.incomplete`);
let client: LspClient;
let ready: { checkpoints: number; unreadable: number; pending?: number };
const uriOf = (file: string) => pathToFileURL(path.join(ws.dir, file)).toString();
const STATES = ['optimizer.pt', 'scheduler.pt', 'rng_state.pth'];

before(async () => {
  cpSync(path.join(FIXTURES, 'real', 'trainer_run'), run, { recursive: true, filter: (f) => !f.endsWith('.truth.json') });
  cpSync(path.join(FIXTURES, 'real', 'trainer', 'model.safetensors'), path.join(ws.dir, 'clone', 'model.safetensors'));
  // os.system('id') as a pickle inside the same tree.
  ws.file('out/checkpoint-4/evil.pt', Buffer.from([0x80, 2, 0x63, ...Buffer.from('os\nsystem\n'), 0x58, 2, 0, 0, 0, ...Buffer.from('id'), 0x85, 0x52, 0x2e]));
  mkdirSync(path.dirname(partial), { recursive: true });
  cpSync(path.join(run, 'checkpoint-4', 'model.safetensors'), path.join(path.dirname(partial), 'f'.repeat(64)));
  writeFileSync(partial, Buffer.alloc(4096));
  mkdirSync(snapshot, { recursive: true });
  symlinkSync(`../../blobs/${'f'.repeat(64)}`, path.join(snapshot, 'model.safetensors'));
  // Read up front: the 2 own files (LFS pointer, partial download), the hub snapshot, checkpoint-4 (6 files with evil.pt).
  ({ client, ready } = await LspClient.start(ws.dir, { eagerLimit: 9 }));
});

after(() => client.stop());

test('Trainer settings, the LFS pointer and the partial download are one information each; the states list cleanly; a malicious pickle is an error', async () => {
  const info = 3;
  const args = await client.until(uriOf('out/checkpoint-4/training_args.bin'), (d) => d.length > 0);
  assert.deepEqual(args.map((d) => [d.code, d.severity]), [['not-a-checkpoint', info]]);
  assert.match(args[0].message, /Trainer settings/);
  const lfs = await client.until(uriOf('clone/model.safetensors'), (d) => d.length > 0);
  assert.deepEqual(lfs.map((d) => [d.code, d.severity]), [['not-a-checkpoint', info]]);
  assert.match(lfs[0].message, /Git LFS pointer to a 440 MB object .*git lfs pull/);
  const part = await client.until(pathToFileURL(partial).toString(), (d) => d.length > 0);
  assert.deepEqual(part.map((d) => [d.code, d.severity]), [['not-a-checkpoint', info]]);
  assert.match(part[0].message, /unfinished Hugging Face download of org\/tiny \(4\.1 KB so far\).*`hf download org\/tiny`/);
  for (const f of [...STATES, 'model.safetensors']) assert.deepEqual(client.diagnostics.get(uriOf(`out/checkpoint-4/${f}`)), [], f);
  const evil = await client.until(uriOf('out/checkpoint-4/evil.pt'), (d) => d.length > 0);
  assert.deepEqual(evil.map((d) => [d.code, d.severity]), [['unsafe-pickle', 1]]);
});

test('past eagerLimit the oldest step waits: counted, listed as not read, read (and diagnosed) when asked for', async () => {
  assert.deepEqual(ready, { checkpoints: 14, unreadable: 1, pending: 5 });
  for (let i = 0; i < 100 && client.status.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
  const status = client.status.at(-1) as StatusParams;
  assert.deepEqual({ ...status, openMappings: 0 }, { checkpoints: 11, unreadable: 1, notCheckpoints: 3, pending: 5, openMappings: 0 });
  assert.equal(client.diagnostics.get(uriOf('out/checkpoint-2/training_args.bin')), undefined);
  const { entries } = await client.request<WorkspaceResult>('tensorport/workspace', {});
  const step2 = entries.filter((e) => e.group?.label === 'checkpoint-2');
  assert.deepEqual(step2.map((e) => [e.label, e.detail]), ['model.safetensors', ...STATES, 'training_args.bin'].sort().map((f) => [f, 'not read yet']));
  const keys = await client.request<KeysResult>('tensorport/keys', { path: path.join(run, 'checkpoint-2', 'training_args.bin') });
  assert.equal(keys.ok ? 'ok' : keys.code, 'not-a-checkpoint');
  const args = await client.until(uriOf('out/checkpoint-2/training_args.bin'), (d) => d.length > 0);
  assert.deepEqual(args.map((d) => d.code), ['not-a-checkpoint']);
});

test('the view: own files first, steps grouped under their run folder, hub files under repo@revision, states and settings said as what they are', async () => {
  const { entries } = await client.request<WorkspaceResult>('tensorport/workspace', {});
  const row = (f: string) => entries.find((e) => e.path === path.join(ws.dir, f))!;
  assert.deepEqual(row('out/checkpoint-4/optimizer.pt'), {
    path: path.join(run, 'checkpoint-4', 'optimizer.pt'), kind: 'checkpoint', ok: true, label: 'optimizer.pt',
    detail: `torch-zip, optimizer state, ${JSON.parse(readFileSync(path.join(FIXTURES, 'real', 'trainer_run', 'checkpoint-4', 'optimizer.pt.truth.json'), 'utf8')).tensors.length} tensors`, errors: 0, warnings: 0, infos: 0,
    group: { kind: 'training-step', key: path.join(run, 'checkpoint-4'), label: 'checkpoint-4', where: 'out', step: 4 },
  });
  assert.equal(row('out/checkpoint-4/rng_state.pth').detail, 'torch-zip, RNG state, 1 tensor');
  assert.deepEqual([row('out/checkpoint-4/training_args.bin').infos, row('out/checkpoint-4/evil.pt').errors], [1, 1]);
  const hub = row(`hub/models--org--tiny/snapshots/${REV}/model.safetensors`);
  assert.deepEqual([hub.label, hub.group?.label, hub.group?.where], ['model.safetensors', 'org/tiny@b1e2777', 'hub cache']);
  assert.equal(row('clone/model.safetensors').label, 'clone/model.safetensors');
});

test('a mapping\'s `source` completion offers model weights, not optimizer, scheduler or RNG states, settings or pointers', async () => {
  const uri = await client.open(path.join(ws.dir, 'port.tpmap'), 'source \ntarget x.pdparams\n');
  const r = await client.request<{ items: { label: string }[] }>('textDocument/completion', { textDocument: { uri }, position: { line: 0, character: 7 } });
  const offered = r.items.map((i) => i.label).filter((l) => !l.endsWith('.py') && !l.endsWith('.ts'));
  assert.ok(offered.includes('out/checkpoint-4/model.safetensors'), offered.join(', '));
  for (const hidden of [...STATES, 'training_args.bin', 'clone/model.safetensors', '.incomplete']) {
    assert.ok(!offered.some((l) => l.endsWith(hidden) && !l.includes('checkpoint-2')), `${hidden} offered: ${offered.join(', ')}`);
  }
});
