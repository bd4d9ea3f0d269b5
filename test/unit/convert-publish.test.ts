/**
 * What happens at the output and the sources while a run is under way, through the real CLI: a file
 * that appears at the output is never replaced (without --force), of four runs racing for one output
 * exactly one wins, a sharded set is published whole or not at all, a source rewritten in place fails
 * the run with nothing written, and a killed run's temporary file is removed by the next run (and a
 * foreign file with a similar name is not). "During the run" is made deterministic with the test-only
 * publish gate (formats/publish.ts testPublishGate: TENSORPORT_TEST_PUBLISH_GATE, inert when unset):
 * each run stops with its output complete but unpublished until the test says go.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import {
  closeSync, existsSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, statSync, symlinkSync, utimesSync, writeFileSync, writeSync,
} from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { BIN, runCli } from '../support/cli';
import { sparseSafetensors } from '../support/sparse';
import { scratchDir } from '../support/tmp';

const tmp = scratchDir('convert-publish');
const TEMP = /\.tensorport-tmp$/;

/** A folder with a 1 MiB sparse source and target and a mapping that copies every tensor. */
function setup(name: string, layers = 4): { dir: string; src: string; mapping: string } {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir);
  const keys = Array.from({ length: layers }, (_, i): [string, number[]] => [`layers.${i}.weight`, [256, 256]]);
  const src = path.join(dir, 'src.safetensors');
  sparseSafetensors(src, keys);
  sparseSafetensors(path.join(dir, 'tgt.safetensors'), keys);
  const mapping = path.join(dir, 'm.tpmap');
  writeFileSync(mapping, `source ${JSON.stringify(src)}\ntarget ${JSON.stringify(path.join(dir, 'tgt.safetensors'))}\n\nlayers.{i}.weight -> layers.{i}.weight\n`);
  return { dir, src, mapping };
}

interface Gated { child: ChildProcess; ready: Promise<void>; exited: Promise<{ code: number | null; err: string }> }

/** Starts the CLI stopped at the publish gate `gate`: `ready` resolves when its output is complete but unpublished. */
function startGated(gate: string, args: string[]): Gated {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TENSORPORT_TEST_PUBLISH_GATE: gate } });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const exited = new Promise<{ code: number | null; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, err })));
  const ready = (async () => {
    const deadline = Date.now() + 60_000;
    while (!existsSync(`${gate}.ready.${child.pid}`)) {
      if (child.exitCode !== null) throw new Error(`exited ${child.exitCode} before the gate: ${err}`);
      if (Date.now() > deadline) throw new Error('never reached the publish gate');
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return { child, ready, exited };
}

const open = (gate: string) => writeFileSync(`${gate}.go`, '');
const temps = (dir: string) => readdirSync(dir).filter((f) => TEMP.test(f));
const oneLine = (err: string) => assert.equal(err.trim().split('\n').length, 1, `one line on stderr: ${err}`);

test('a file created at the output during the run is left as it is: exit 2, one line, nothing written', async () => {
  const { dir, mapping } = setup('appeared');
  const out = path.join(dir, 'out.safetensors');
  const gate = path.join(dir, 'gate');
  const run = startGated(gate, ['convert', mapping, '-o', out]);
  await run.ready;
  writeFileSync(out, 'written by someone else meanwhile');
  open(gate);
  const { code, err } = await run.exited;
  assert.equal(code, 2, err);
  oneLine(err);
  assert.match(err, /^tensorport: .*out\.safetensors: appeared while this run was writing it .*nothing was written \(--force replaces it\)$/m);
  assert.equal(readFileSync(out, 'utf8'), 'written by someone else meanwhile');
  assert.deepEqual(temps(dir), []);
});

test('with --force, a file created at the output during the run is replaced', async () => {
  const { dir, mapping } = setup('appeared-force');
  const out = path.join(dir, 'out.safetensors');
  const gate = path.join(dir, 'gate');
  const run = startGated(gate, ['convert', mapping, '-o', out, '--force']);
  await run.ready;
  writeFileSync(out, 'replaced, as asked');
  open(gate);
  const { code, err } = await run.exited;
  assert.equal(code, 0, err);
  assert.equal(runCli(['keys', out]).code, 0, 'the converted checkpoint');
  assert.deepEqual(temps(dir), []);
});

test('four concurrent runs to one output: exactly one succeeds, the others say the output appeared', async () => {
  const { dir, mapping } = setup('race');
  const out = path.join(dir, 'out.safetensors');
  const gate = path.join(dir, 'gate');
  // All four pass the start's "exists?" check and finish writing before any of them publishes.
  const runs = Array.from({ length: 4 }, () => startGated(gate, ['convert', mapping, '-o', out]));
  await Promise.all(runs.map((r) => r.ready));
  open(gate);
  const results = await Promise.all(runs.map((r) => r.exited));
  assert.deepEqual(results.map((r) => r.code).sort(), [0, 2, 2, 2], results.map((r) => r.err).join(''));
  for (const r of results.filter((x) => x.code === 2)) {
    oneLine(r.err);
    assert.match(r.err, /out\.safetensors: appeared while this run was writing it/);
  }
  assert.equal(runCli(['keys', out]).code, 0, 'one whole converted checkpoint');
  assert.deepEqual(temps(dir), []);
});

test('sharded: a shard name taken during the run fails it, and nothing of its set is left published', async () => {
  const { dir, mapping } = setup('shards');
  const out = path.join(dir, 'model.safetensors');
  const gate = path.join(dir, 'gate');
  const run = startGated(gate, ['convert', mapping, '-o', out, '--max-shard-size', '300KiB']);
  await run.ready;
  const second = path.join(dir, 'model-00002-of-00004.safetensors');
  writeFileSync(second, 'another run got here first');
  open(gate);
  const { code, err } = await run.exited;
  assert.equal(code, 2, err);
  oneLine(err);
  assert.match(err, /model-00002-of-00004\.safetensors: appeared while this run was writing it/);
  assert.equal(readFileSync(second, 'utf8'), 'another run got here first');
  // Shard 1 had been published before shard 2 was refused: it is removed again; no index, no temporaries.
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('model')).sort(), ['model-00002-of-00004.safetensors']);
  assert.deepEqual(temps(dir), []);
});

test('sharded: all shards and the index are published together', async () => {
  const { dir, mapping } = setup('shards-ok');
  const out = path.join(dir, 'model.safetensors');
  const gate = path.join(dir, 'gate');
  const run = startGated(gate, ['convert', mapping, '-o', out, '--max-shard-size', '300KiB']);
  await run.ready;
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('model')), [], 'nothing is published before all is written');
  open(gate);
  const { code, err } = await run.exited;
  assert.equal(code, 0, err);
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('model')).length, 5);
  assert.equal(runCli(['keys', `${out}.index.json`]).code, 0);
});

for (const keepMtime of [false, true]) {
  test(`a source rewritten in place during the run (same size, same header${keepMtime ? ', mtime put back' : ''}) fails it with nothing written`, async () => {
    const { dir, src, mapping } = setup(`rewritten${keepMtime ? '-mtime' : ''}`);
    const out = path.join(dir, 'out.safetensors');
    const gate = path.join(dir, 'gate');
    const before = statSync(src);
    const run = startGated(gate, ['convert', mapping, '-o', out]);
    await run.ready;
    // New data in the last tensor, as a training run saving in place would leave it.
    const fd = openSync(src, 'r+');
    writeSync(fd, Buffer.from([1, 2, 3, 4]), 0, 4, before.size - 4);
    closeSync(fd);
    if (keepMtime) utimesSync(src, before.atime, before.mtime);
    assert.equal(statSync(src).size, before.size);
    open(gate);
    const { code, err } = await run.exited;
    assert.equal(code, 2, err);
    oneLine(err);
    assert.match(err, /src\.safetensors: was modified while this run was reading it; .*nothing was written/);
    assert.equal(existsSync(out), false);
    assert.deepEqual(temps(dir), []);
  });
}

test('a source replaced by another file during the run fails it', async () => {
  const { dir, src, mapping } = setup('replaced');
  const out = path.join(dir, 'out.safetensors');
  const gate = path.join(dir, 'gate');
  const run = startGated(gate, ['convert', mapping, '-o', out]);
  await run.ready;
  writeFileSync(`${src}.new`, readFileSync(src));
  renameSync(`${src}.new`, src);
  open(gate);
  const { code, err } = await run.exited;
  assert.equal(code, 2, err);
  assert.match(err, /src\.safetensors: was replaced by another file while this run was reading it/);
  assert.equal(existsSync(out), false);
});

test("a killed run's temporary file is removed by the next run; files that only look like one are not", async () => {
  const { dir, mapping } = setup('stale');
  const out = path.join(dir, 'out.safetensors');
  const gate = path.join(dir, 'gate');
  const killed = startGated(gate, ['convert', mapping, '-o', out]);
  await killed.ready;
  killed.child.kill('SIGKILL');
  await killed.exited;
  const [left] = temps(dir);
  assert.ok(left, 'kill -9 leaves the complete temporary file behind');
  const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
  utimesSync(path.join(dir, left), hoursAgo(3), hoursAgo(3));
  // Foreign or live files that must survive: similar names, a symlink of our pattern, a young temporary file.
  const victim = path.join(dir, 'victim.bin');
  writeFileSync(victim, 'not ours');
  utimesSync(victim, hoursAgo(5), hoursAgo(5));
  const foreign = [
    '.out.safetensors.0123456789ab.tensorport-tmp.keep', 'out.safetensors.0123456789ab.tensorport-tmp',
    '.out.safetensors.0123456789AB.tensorport-tmp', '.out.safetensors.0123456789a.tensorport-tmp', '.out.safetensors.0123456789ab.tmp',
  ];
  for (const f of foreign) { writeFileSync(path.join(dir, f), 'x'); utimesSync(path.join(dir, f), hoursAgo(5), hoursAgo(5)); }
  const link = path.join(dir, '.link.0123456789ab.tensorport-tmp');
  symlinkSync(victim, link);
  const young = path.join(dir, '.young.safetensors.0123456789ab.tensorport-tmp');
  writeFileSync(young, 'a run still writing');
  utimesSync(young, hoursAgo(0.5), hoursAgo(0.5));

  const next = runCli(['convert', mapping, '-o', out]);
  assert.equal(next.code, 0, next.err);
  assert.match(next.err, new RegExp(`^note: removed 1 stale temporary file left by interrupted runs in .*: ${left.replace(/\./g, '\\.')} \\(1\\.0 MB, 3 h old\\)$`, 'm'));
  assert.equal(existsSync(path.join(dir, left)), false);
  for (const f of foreign) assert.ok(existsSync(path.join(dir, f)), f);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(victim, 'utf8'), 'not ours');
  assert.ok(existsSync(young));
});

test('map -o does not replace a file created during the run', async () => {
  const { dir } = setup('map');
  const out = path.join(dir, 'proposed.tpmap');
  const gate = path.join(dir, 'gate');
  const run = startGated(gate, ['map', path.join(dir, 'src.safetensors'), path.join(dir, 'tgt.safetensors'), '-o', out]);
  await run.ready;
  writeFileSync(out, 'my own mapping');
  open(gate);
  const { code, err } = await run.exited;
  assert.equal(code, 2, err);
  oneLine(err);
  assert.match(err, /proposed\.tpmap: appeared while this run was writing it.*\(--force replaces it\)/);
  assert.equal(readFileSync(out, 'utf8'), 'my own mapping');
  assert.deepEqual(temps(dir), []);
});
