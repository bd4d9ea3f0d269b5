/**
 * Command mode with real child processes: a parity script using only Python's standard library, a
 * torchrun-style launcher whose rank 0 alone prints the protocol (and one whose other rank never
 * exits), and scripts that print garbage, die, stay silent or send unknown events — each a clear
 * error, never a hang. Needs a `python3` on PATH (standard library only); skipped without one.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCommandParity } from '../../server/src/parity/commandMode';
import { ParityCancelled, ParityError } from '../../server/src/parity/parityError';
import { CommandParityRequest } from '../../server/src/parity/types';
import { FIXTURES } from '../support/tmp';

const DIR = path.join(FIXTURES, 'parity', 'command');
const PY = ['python3', 'python'].find((p) => spawnSync(p, ['-c', 'import json, sys; sys.exit(0 if sys.version_info[0] == 3 else 1)']).status === 0);
const skip = PY ? false : 'no python3 on PATH';
const req = (command: string, extra: Partial<CommandParityRequest> = {}): CommandParityRequest => ({ command: `${PY} ${command}`, cwd: DIR, trusted: true, ...extra });

test('a standard-library Python script: tensors compared here, its stats collected, its output logged', { skip }, async () => {
  const log: string[] = [];
  const r = await runCommandParity(req('stdlib_parity.py'), { onStderr: (t) => log.push(t) });
  assert.equal(r.mode, 'command');
  assert.equal(r.pass, true);
  assert.equal(r.device, 'cpu');
  assert.deepEqual(r.outputs.map((o) => [o.name, o.shape, o.pass]), [['layers.0.linear', [3, 4], true], ['layers.0.act', [3, 4], true], ['logits', [], true]]);
  assert.ok(r.outputs[1].maxAbsDiff > 0 && r.outputs[1].maxAbsDiff < 2e-7);
  assert.equal(r.outputs[2].maxAbsDiff, 3e-6);
  assert.equal(r.firstDivergence, null);
  assert.match(log.join(''), /loading models \(this line is not protocol\)/);
  assert.match(log.join(''), /reference: torch-like/);
});

test('a fault in the script\'s candidate fails and is the first divergence; NaNs from Python are accepted', { skip }, async () => {
  const r = await runCommandParity(req('stdlib_parity.py --fault --nan', { atol: 1e-6 }));
  assert.equal(r.pass, false);
  assert.equal(r.firstDivergence!.reference, 'layers.0.linear');
  assert.equal(r.firstDivergence!.shape.length, 2);
  assert.ok(r.outputs[0].maxAbsDiff > 0.01);
  assert.equal(r.tolerance.atol, 1e-6);
  const nan = r.outputs.find((o) => o.name === 'layers.1.nan')!;
  assert.equal(nan.pass, true, 'NaN in both at the same place');
  assert.equal(r.layers!.length, 4);
});

test('a launcher starting two ranks: rank 0 prints the protocol, the other rank\'s stdout goes to the log', { skip }, async () => {
  const log: string[] = [];
  const r = await runCommandParity(req('launcher.py rank_parity.py'), { onStderr: (t) => log.push(t) });
  assert.equal(r.pass, true);
  assert.equal(r.device, 'cuda:0 of 2 ranks');
  assert.deepEqual(r.outputs.map((o) => o.name), ['hidden']);
  const text = log.join('');
  assert.match(text, /\[rank 1\/2\] starting/);
  assert.match(text, /\[rank 1\] shard ready/);
});

test('a rank that never exits after done is ended with its launcher: a result, not a hang', { skip }, async () => {
  const t0 = Date.now();
  const r = await runCommandParity(req('launcher.py --hang-rank 1 rank_parity.py'), { exitGraceMs: 500 });
  assert.equal(r.pass, true);
  assert.match(r.notes.join('\n'), /still running 0\.5 s after done; its process group was ended/);
  assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
});

async function failure(command: string, extra: Partial<CommandParityRequest> = {}): Promise<string> {
  const t0 = Date.now();
  try {
    await runCommandParity(req(command, extra));
  } catch (e) {
    assert.ok(e instanceof ParityError, String(e));
    assert.ok(Date.now() - t0 < 15_000, 'fails fast');
    return (e as Error).message;
  }
  assert.fail(`${command} did not fail`);
}

test('garbage, a dying script, an unknown event and an empty run are errors that say what happened', { skip }, async () => {
  assert.match(await failure('bad_scripts.py garbage'), /printed a line that is not a protocol event \(stdout line 2: .*\): \{"event": "tensor", "name": "b"/);
  const died = await failure('bad_scripts.py dies');
  assert.match(died, /exited with code 3 before sending \{"event":"done"\} \(after 1 event\)/);
  assert.match(died, /last lines of its stderr:\n.*\n.*CUDA out of memory/);
  assert.match(await failure('bad_scripts.py unknown'), /stdout line 2: unknown event "tensors" \(expected tensor, stat, log or done\)/);
  assert.match(await failure('bad_scripts.py empty'), /sent done without any tensor or stat event/);
});

test('a script that never sends done is stopped at the time limit', { skip }, async () => {
  assert.match(await failure('bad_scripts.py silent', { timeoutMs: 1500 }), /sent no \{"event":"done"\} within 2 s; it was stopped/);
});

test('a command that cannot start, an untrusted workspace and a cancel are clear too', { skip }, async () => {
  assert.match(await failure('no_such_script.py'), /exited with code 2 before sending/);
  await assert.rejects(runCommandParity({ command: 'true', trusted: false }), /only available in a trusted workspace/);
  await assert.rejects(runCommandParity({ command: 'true', cwd: path.join(DIR, 'missing'), trusted: true }), /cannot run `true` in .*missing/);
  const ac = new AbortController();
  const p = runCommandParity(req('bad_scripts.py silent'), { signal: ac.signal });
  setTimeout(() => ac.abort(), 300);
  await assert.rejects(p, ParityCancelled);
});
