/**
 * A Hugging Face hub cache and `hf download --local-dir` folders, as huggingface_hub lays them out:
 * snapshots are symlinks into `blobs/`, two revisions share a blob, a download in progress is
 * `.incomplete`. huggingface_hub itself (pinned in the Python test environment) says the layout is a
 * valid cache and which file is current (`try_to_load_from_cache`): the index lists that one, once.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { hubDisplayName, hubSnapshotFile, unfinishedDownload } from '../../server/src/formats/hubCache';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { ReaderError } from '../../server/src/formats/readerError';
import { checkpointGroup, readOrder } from '../../server/src/index/checkpointGroups';
import { findCheckpoints } from '../../server/src/index/findFiles';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const env = testPython();
const MODEL = path.join(FIXTURES, 'real', 'trainer_run', 'checkpoint-4', 'model.safetensors');
const OLD_REV = '1'.repeat(40);
const MAIN_REV = 'a8c3f1e2b4d5'.padEnd(40, '0');

/** `hub/models--google--bert-tiny`: two revisions sharing the weights blob, `refs/main` at the newer, and a partial download. */
function makeHubCache(): { hub: string; repo: string; partial: string } {
  const hub = path.join(scratchDir('hubcache').dir, 'hub');
  const repo = path.join(hub, 'models--google--bert-tiny');
  const blobs = path.join(repo, 'blobs');
  mkdirSync(blobs, { recursive: true });
  const weights = createHash('sha256').update(readFileSync(MODEL)).digest('hex');
  copyFileSync(MODEL, path.join(blobs, weights));
  const config = createHash('sha1').update('{}').digest('hex');
  writeFileSync(path.join(blobs, config), '{}');
  for (const rev of [OLD_REV, MAIN_REV]) {
    const snap = path.join(repo, 'snapshots', rev);
    mkdirSync(snap, { recursive: true });
    symlinkSync(`../../blobs/${weights}`, path.join(snap, 'model.safetensors'));
    symlinkSync(`../../blobs/${config}`, path.join(snap, 'config.json'));
  }
  mkdirSync(path.join(repo, 'refs'));
  writeFileSync(path.join(repo, 'refs', 'main'), MAIN_REV);
  const partial = path.join(blobs, `${'c'.repeat(64)}.1a2b3c4d.incomplete`);
  writeFileSync(partial, Buffer.alloc(1_500_000));
  return { hub, repo, partial };
}

test('a hub cache: huggingface_hub reads the layout; the index lists the current revision\'s file once, and the partial download', { skip: env.skip }, async () => {
  const { hub, repo, partial } = makeHubCache();
  const truth = JSON.parse(runPython(env.python!, ['-c', [
    'import json, sys',
    'from huggingface_hub import scan_cache_dir, try_to_load_from_cache',
    'info = scan_cache_dir(sys.argv[1])',
    'revs = {r.commit_hash: sorted(f.file_name for f in r.files) for repo in info.repos for r in repo.revisions}',
    'print(json.dumps({"warnings": [str(w) for w in info.warnings], "repos": [r.repo_id for r in info.repos], "revs": revs,',
    '  "current": try_to_load_from_cache("google/bert-tiny", "model.safetensors", cache_dir=sys.argv[1])}))',
  ].join('\n'), hub]));
  assert.deepEqual(truth.warnings, []);
  assert.deepEqual(truth.repos, ['google/bert-tiny']);
  assert.deepEqual(truth.revs, { [OLD_REV]: ['config.json', 'model.safetensors'], [MAIN_REV]: ['config.json', 'model.safetensors'] });
  assert.equal(truth.current, path.join(repo, 'snapshots', MAIN_REV, 'model.safetensors'));

  assert.deepEqual(await findCheckpoints(hub), [partial, truth.current]);
  const snap = hubSnapshotFile(truth.current)!;
  assert.equal(hubDisplayName(snap), 'google/bert-tiny@a8c3f1e/model.safetensors');
  assert.equal((await readCheckpoint(truth.current)).tensors.length, JSON.parse(readFileSync(`${MODEL}.truth.json`, 'utf8')).tensors.length);
  await assert.rejects(readCheckpoint(partial, { displayName: 'partial' }), (e: unknown) => {
    assert.ok(e instanceof ReaderError);
    assert.equal(e.code, 'not-a-checkpoint');
    assert.equal(e.message, 'partial: an unfinished Hugging Face download of google/bert-tiny (1.5 MB so far), not a checkpoint yet: '
      + 'run `hf download google/bert-tiny` again to finish it, or delete the file');
    return true;
  });
});

test('a revision no branch points at is listed when its blob is its own; the user\'s own link to a blob wins over the cache\'s', async () => {
  const { hub, repo } = makeHubCache();
  const only = path.join(repo, 'snapshots', OLD_REV, 'pytorch_model.safetensors');
  copyFileSync(MODEL, only);
  const mine = path.join(hub, 'mine.safetensors');
  symlinkSync(path.join(repo, 'snapshots', OLD_REV, 'model.safetensors'), mine);
  const found = await findCheckpoints(hub);
  assert.deepEqual(found.filter((f) => !f.endsWith('.incomplete')), [mine, only]);
});

test('`hf download --local-dir`: the partial file in .cache/huggingface/download is said as such, with the folder to download into', async () => {
  const dir = scratchDir('localdir').dir;
  const cache = path.join(dir, 'bert', '.cache', 'huggingface', 'download');
  mkdirSync(cache, { recursive: true });
  const partial = path.join(cache, `Fo9tEAbd3x1Kb2pX3QcQk3UBg0s=.${'d'.repeat(64)}.0f0f0f0f.incomplete`);
  writeFileSync(partial, Buffer.alloc(2048));
  assert.deepEqual(unfinishedDownload(partial), { localDir: path.join(dir, 'bert') });
  assert.deepEqual(await findCheckpoints(dir), [partial]);
  await assert.rejects(readCheckpoint(partial, { displayName: 'p' }), /^ReaderError: p: an unfinished Hugging Face download \(2\.0 KB so far\), not a checkpoint yet: run the same `hf download … --local-dir .*\/bert` again/);
  // Anything else ending in .incomplete is not ours to judge.
  assert.equal(unfinishedDownload(path.join(dir, 'notes.incomplete')), undefined);
  assert.equal(unfinishedDownload(path.join(dir, 'datasets--x--y', 'blobs', 'e.incomplete'))?.kind, 'dataset');
});

test('training steps group by folder, newest first when headers are read; the user\'s own files come before them', () => {
  const rel = (p: string) => path.relative('/w', p);
  const files = ['/w/out/checkpoint-500/model.safetensors', '/w/mine.safetensors', '/w/out/checkpoint-1500/optimizer.pt',
    '/w/hub/models--a--b/snapshots/' + MAIN_REV + '/model.safetensors', '/w/out/checkpoint-1000/model.safetensors'];
  assert.deepEqual(readOrder(files, rel), ['/w/mine.safetensors', files[3], '/w/out/checkpoint-1500/optimizer.pt',
    '/w/out/checkpoint-1000/model.safetensors', '/w/out/checkpoint-500/model.safetensors']);
  assert.deepEqual(checkpointGroup(files[0], rel), { kind: 'training-step', key: '/w/out/checkpoint-500', label: 'checkpoint-500', where: 'out', step: 500 });
  assert.equal(checkpointGroup('/w/runs/global_step200/mp_rank_00_model_states.pt', rel)?.step, 200);
  assert.equal(checkpointGroup(files[1], rel), undefined);
  assert.deepEqual(checkpointGroup(files[3], rel), { kind: 'hub-snapshot', key: `/w/hub/models--a--b/snapshots/${MAIN_REV}`, label: 'a/b@a8c3f1e', where: 'hub cache', step: 0 });
});
