/**
 * A training folder as Trainer leaves it, in the real language server: its settings pickle
 * (training_args.bin) and a Git LFS pointer are information, not errors; optimizer, scheduler and RNG
 * states are listed without complaint; a malicious pickle in the same folder is still an error.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { LspClient } from '../support/lspClient';
import { FIXTURES, scratchDir } from '../support/tmp';

const ws = scratchDir('lsptrainer');
const run = path.join(ws.dir, 'checkpoint-500');
let client: LspClient;
const uriOf = (name: string) => pathToFileURL(path.join(run, name)).toString();

before(async () => {
  mkdirSync(run);
  for (const f of ['training_args.bin', 'optimizer.pt', 'scheduler.pt', 'rng_state.pth', 'model.safetensors']) {
    copyFileSync(path.join(FIXTURES, 'real', 'trainer', f), path.join(run, f));
  }
  // os.system('id') as a pickle inside the same tree.
  ws.file('checkpoint-500/evil.pt', Buffer.from([0x80, 2, 0x63, ...Buffer.from('os\nsystem\n'), 0x58, 2, 0, 0, 0, ...Buffer.from('id'), 0x85, 0x52, 0x2e]));
  ({ client } = await LspClient.start(ws.dir));
});

after(() => client.stop());

test('Trainer files: settings and the LFS pointer are one information each; the states list cleanly; a malicious pickle is an error', async () => {
  const info = 3;
  const args = await client.until(uriOf('training_args.bin'), (d) => d.length > 0);
  assert.deepEqual(args.map((d) => [d.code, d.severity]), [['not-a-checkpoint', info]]);
  assert.match(args[0].message, /Trainer settings/);
  const lfs = await client.until(uriOf('model.safetensors'), (d) => d.length > 0);
  assert.deepEqual(lfs.map((d) => [d.code, d.severity]), [['not-a-checkpoint', info]]);
  assert.match(lfs[0].message, /Git LFS pointer to a 440 MB object .*git lfs pull/);
  for (const f of ['optimizer.pt', 'scheduler.pt', 'rng_state.pth']) assert.deepEqual(client.diagnostics.get(uriOf(f)), [], f);
  const evil = await client.until(uriOf('evil.pt'), (d) => d.length > 0);
  assert.deepEqual(evil.map((d) => [d.code, d.severity]), [['unsafe-pickle', 1]]);
});
