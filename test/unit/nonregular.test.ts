/**
 * Files that are not regular files — a named pipe (FIFO) called `model.safetensors`, a directory called
 * `x.safetensors`, a socket — are refused at once with the reason, by every reader, the mapping check,
 * the converter's source reads, workspace discovery and the CLI. A plain open of a FIFO blocks until a
 * writer appears, so before the fix each of these reads hung; every check here has a deadline, and the
 * pipes are unblocked at the end so a regression fails instead of hanging the run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, cpSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Server, createServer } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { ReaderError } from '../../server/src/formats/readerError';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { findCheckpoints } from '../../server/src/index/findFiles';
import { checkMappingFile } from '../../server/src/mapping/checkFile';
import { convertMapping } from '../../server/src/mapping/convert/convertMapping';
import { ConvertError } from '../../server/src/mapping/convert/errors';
import { FIXTURES, scratchDir } from '../support/tmp';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
const tmp = scratchDir('nonregular');
const CHECKPOINT_NAMES = ['model.safetensors', 'x.pt', 'x.onnx', 'x.gguf', 'x.pdparams', 'x.safetensors.index.json', 'unknown_kind'];
const fifos: string[] = [];
let noFifo: string | undefined;
let socketServer: Server | undefined;

function mkfifo(p: string): void {
  const r = spawnSync('mkfifo', [p]);
  if (r.error || r.status !== 0) throw new Error(`mkfifo ${p}: ${r.error?.message ?? r.stderr.toString()}`);
  fifos.push(p);
}

before(() => {
  try {
    for (const n of [...CHECKPOINT_NAMES, 'm.tpmap']) mkfifo(path.join(tmp.dir, n));
  } catch (e) {
    noFifo = (e as Error).message;
  }
  mkdirSync(path.join(tmp.dir, 'dir.safetensors'));
});

/**
 * Releases any read stuck in open(2), so a regression fails instead of hanging the run: a read-write
 * descriptor on each pipe lets every waiting open return, the unlink makes later opens fail, and the
 * close gives the released readers end-of-file.
 */
after(() => {
  const held = fifos.map((p) => { try { return openSync(p, constants.O_RDWR | constants.O_NONBLOCK); } catch { return undefined; } });
  for (const p of fifos) rmSync(p, { force: true });
  for (const fd of held) if (fd !== undefined) closeSync(fd);
  socketServer?.close();
});

const DEADLINE_MS = 1000;

/** The promise's rejection, or a failure if it resolves or is still pending after the deadline. */
async function rejectsQuickly(p: Promise<unknown>, what: string): Promise<Error> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), DEADLINE_MS); });
  const t0 = performance.now();
  try {
    const r = await Promise.race([p.then(() => 'resolved' as const, (e: unknown) => e), late]);
    assert.notEqual(r, 'late', `${what}: still pending after ${DEADLINE_MS} ms (blocked opening a pipe?)`);
    assert.notEqual(r, 'resolved', `${what}: was read as if it were a checkpoint`);
    assert.ok(r instanceof Error, `${what}: rejected with ${String(r)}`);
    assert.ok(performance.now() - t0 < DEADLINE_MS);
    return r;
  } finally {
    clearTimeout(timer);
  }
}

test('readCheckpoint refuses a named pipe under every checkpoint name at once, naming the file', async (t) => {
  if (noFifo) return t.skip(`cannot make a named pipe here: ${noFifo}`);
  for (const name of CHECKPOINT_NAMES) {
    const p = path.join(tmp.dir, name);
    const e = await rejectsQuickly(readCheckpoint(p), name);
    assert.ok(e instanceof ReaderError, `${name}: ${e.message}`);
    assert.equal(e.code, 'unreadable-checkpoint');
    assert.equal(e.message, `${p}: is a named pipe (FIFO), not a checkpoint file`);
  }
});

test('more pipes than libuv has pool threads, read together, still all fail at once', async (t) => {
  if (noFifo) return t.skip(`cannot make a named pipe here: ${noFifo}`);
  const reads = Array.from({ length: 3 }, () => CHECKPOINT_NAMES.map((n) => readCheckpoint(path.join(tmp.dir, n)))).flat();
  let timer: NodeJS.Timeout | undefined;
  const results = await Promise.race([Promise.allSettled(reads), new Promise<'late'>((r) => { timer = setTimeout(() => r('late'), DEADLINE_MS); })]);
  clearTimeout(timer);
  assert.notEqual(results, 'late', `${reads.length} reads still pending after ${DEADLINE_MS} ms`);
  assert.equal(results.length, 3 * CHECKPOINT_NAMES.length);
  for (const r of results as PromiseSettledResult<unknown>[]) {
    assert.equal(r.status, 'rejected');
    assert.match((r as PromiseRejectedResult).reason.message, /is a named pipe \(FIFO\), not a checkpoint file$/);
  }
  // And the pool is free afterwards: a real checkpoint still reads.
  const ok = await readCheckpoint(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'));
  assert.ok(ok.tensors.length > 0);
});

test('a directory named like a checkpoint, a socket and a character device are refused with what they are', async () => {
  const dir = path.join(tmp.dir, 'dir.safetensors');
  assert.equal((await rejectsQuickly(readCheckpoint(dir), 'directory')).message, `${dir}: is a directory, not a checkpoint file`);
  if (process.platform !== 'win32') {
    const sock = path.join(tmp.dir, 'sock.safetensors');
    socketServer = createServer();
    await new Promise<void>((resolve) => socketServer!.listen(sock, resolve));
    assert.equal((await rejectsQuickly(readCheckpoint(sock), 'socket')).message, `${sock}: is a socket, not a checkpoint file`);
    assert.equal((await rejectsQuickly(readCheckpoint('/dev/null', { displayName: 'null.safetensors' }), '/dev/null')).message,
      'null.safetensors: is a character device, not a checkpoint file');
  }
});

test('a sharded index whose shard is a named pipe names the shard', async (t) => {
  if (noFifo) return t.skip(`cannot make a named pipe here: ${noFifo}`);
  const dir = path.join(tmp.dir, 'sharded');
  mkdirSync(dir);
  mkfifo(path.join(dir, 'shard-1.safetensors'));
  const index = path.join(dir, 'model.safetensors.index.json');
  writeFileSync(index, JSON.stringify({ weight_map: { a: 'shard-1.safetensors' } }));
  const e = await rejectsQuickly(readCheckpoint(index), 'index with a pipe shard');
  assert.equal(e.message, `${index}: shard shard-1.safetensors: is a named pipe (FIFO), not a checkpoint file`);
});

test('checkMappingFile refuses a mapping that is a named pipe, and reports a pipe or a directory on either side', async (t) => {
  if (noFifo) return t.skip(`cannot make a named pipe here: ${noFifo}`);
  const e = await rejectsQuickly(checkMappingFile(path.join(tmp.dir, 'm.tpmap'), new CheckpointIndex()), 'm.tpmap');
  assert.equal(e.message, 'is a named pipe (FIFO), not a mapping file');

  const m = tmp.file('sides.tpmap', 'source model.safetensors\ntarget dir.safetensors\n* -> *\n');
  const checked = await Promise.race([
    checkMappingFile(m, new CheckpointIndex()),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the check is still running after 2 s')), 2000)),
  ]);
  const unreadable = checked.analysis.diagnostics.filter((d) => d.code === 'unreadable-checkpoint').map((d) => d.message);
  assert.equal(unreadable.length, 2, JSON.stringify(checked.analysis.diagnostics.map((d) => d.message)));
  assert.match(unreadable.join('\n'), /source .*model\.safetensors: is a named pipe \(FIFO\), not a checkpoint file/);
  assert.match(unreadable.join('\n'), /target .*dir\.safetensors: is a directory, not a checkpoint file/);
});

test('convert: ONNX external data that is a named pipe fails the read at once, naming the file; no output, no temporary file', async (t) => {
  if (noFifo) return t.skip(`cannot make a named pipe here: ${noFifo}`);
  // The ONNX reader never opens external data, so the header reads fine; the converter is the first to open it.
  const dir = path.join(tmp.dir, 'onnx_ext');
  cpSync(path.join(FIXTURES, 'convert', 'onnx_ext'), dir, { recursive: true });
  rmSync(path.join(dir, 'weights.data'));
  mkfifo(path.join(dir, 'weights.data'));
  const m = tmp.file('onnx_pipe.tpmap', `source ${JSON.stringify(path.join(dir, 'model.onnx'))}\ntarget ${JSON.stringify(path.join(FIXTURES, 'convert', 'onnx.expected.safetensors'))}\n`
    + 'W1 -> fc1.weight | transpose\nW2 -> fc2.weight\nB2 -> fc2.bias\nscale -> scale | cast(F32)\ntiny -> tiny\ntyped -> typed\n');
  const out = path.join(dir, 'out.safetensors');
  const e = await rejectsQuickly(convertMapping(m, out), 'convert from a pipe');
  assert.ok(e instanceof ConvertError, e.message);
  assert.equal(e.kind, 'input');
  assert.match(e.message, /weights\.data: cannot read the bytes of `W1` .*: is a named pipe \(FIFO\), not a checkpoint file$/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(readdirSync(dir).sort(), ['model.onnx', 'weights.data']);
});

test('findCheckpoints over a folder of pipes finishes and lists only the regular checkpoint', async (t) => {
  if (noFifo) return t.skip(`cannot make a named pipe here: ${noFifo}`);
  const dir = path.join(tmp.dir, 'ws');
  mkdirSync(dir);
  for (const n of ['a.safetensors', 'b.bin', 'c.pt', 'd.onnx']) mkfifo(path.join(dir, n));
  cpSync(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'), path.join(dir, 'real.safetensors'));
  const found = await Promise.race([findCheckpoints(dir), new Promise<'late'>((r) => setTimeout(() => r('late'), DEADLINE_MS))]);
  assert.deepEqual(found, [path.join(dir, 'real.safetensors')]);
});

test('the CLI: `keys PIPE` and `check PIPE.tpmap` exit 2 with one line naming the file (needs `node esbuild.mjs`)', (t) => {
  if (noFifo) return t.skip(`cannot make a named pipe here: ${noFifo}`);
  for (const [args, line] of [
    [['keys', path.join(tmp.dir, 'model.safetensors')], `tensorport: ${path.join(tmp.dir, 'model.safetensors')}: is a named pipe (FIFO), not a checkpoint file\n`],
    [['keys', path.join(tmp.dir, 'x.pt')], `tensorport: ${path.join(tmp.dir, 'x.pt')}: is a named pipe (FIFO), not a checkpoint file\n`],
    [['check', path.join(tmp.dir, 'm.tpmap')], `tensorport: ${path.join(tmp.dir, 'm.tpmap')}: is a named pipe (FIFO), not a mapping file\n`],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.signal, null, `${args.join(' ')}: killed after 10 s (blocked on the pipe?)`);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, line);
  }
});
