/** `tensorport keys` as a user runs it: the built CLI in a child process, its stdout, stderr and exit code. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { FIXTURES, scratchDir } from '../support/tmp';
import { runCli } from '../support/cli';

const VIT = path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors');
const tmp = scratchDir('cli');

const run = (...args: string[]) => runCli(args);

test('keys --json prints the documented document', () => {
  const r = run('keys', VIT, '--json');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.equal(doc.file, VIT);
  assert.equal(doc.format, 'safetensors');
  assert.deepEqual(doc.tensors[0], { key: 'embeddings.cls_token', dtype: 'F32', shape: [1, 1, 8], bytes: 32 });
  assert.equal(doc.tensors.length, 41);
  assert.equal(r.err, '');
});

test('keys prints an aligned table with totals', () => {
  const r = run('keys', VIT);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.match(lines[0], /^key\s+dtype\s+shape\s+size$/);
  const row = lines.find((l) => l.startsWith('pooler.dense.weight '))!;
  assert.match(row, /^pooler\.dense\.weight\s+F16\s+\[8, 8\]\s+128 B$/);
  // Columns line up: every row's dtype starts where the header's does.
  const col = lines[0].indexOf('dtype');
  for (const l of lines.slice(1, 42)) assert.match(l.slice(col), /^(F32|F16|BF16|I64) /, l);
  assert.match(r.out, /\n41 tensors, [\d,]+ parameters, [\d.]+ KiB \(safetensors, torch layout\)\n/);
  assert.ok(!r.out.includes('\u001b['), 'no colour when stdout is not a terminal');
});

test('an unreadable file exits 2 with one line naming the file and the reason', () => {
  const bad = tmp.file('bad.safetensors', Buffer.from([9, 0, 0, 0, 0, 0, 0, 0, 0x7b]));
  const r = run('keys', bad);
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.equal(r.err, `tensorport: ${bad}: header length 9 runs past the end of the file (9 bytes): truncated? (at byte 0)\n`);
});

test('a missing file, a directory, an unknown kind and bad usage exit 2 without a stack trace', () => {
  for (const args of [['keys', path.join(tmp.dir, 'missing.pt')], ['keys', tmp.dir], ['keys', tmp.file('notes.txt', 'hello')], ['keys'], ['frobnicate'], ['keys', VIT, '--bogus']]) {
    const r = run(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^tensorport: /, args.join(' '));
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
});

test('check refuses a mapping file above --max-mapping-mb before reading it', () => {
  const big = tmp.file('big.tpmap', 'source a.safetensors\ntarget b.safetensors\n' + '# padding\n'.repeat(120_000));
  const r = run('check', big, '--max-mapping-mb', '1');
  assert.equal(r.code, 2);
  assert.match(r.err, /big\.tpmap: 1\.1 MiB is more than the 1 MiB a mapping file may have/);
  assert.equal(run('check', big, '--max-mapping-mb', 'lots').code, 2);
});

test('--version prints the version; an unknown command says so on one line, naming the commands', () => {
  const v = runCli(['--version']);
  assert.equal(v.code, 0);
  assert.match(v.out, /^tensorport \d+\.\d+\.\d+\n$/);
  const r = runCli(['--bogus']);
  assert.equal(r.code, 2);
  assert.equal(r.err, 'tensorport: unknown command "--bogus" (the commands: keys, check, diff, map, convert, parity, mcp; tensorport --help)\n');
  const h = runCli(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /^usage: tensorport <command> \[options\]/);
});

test('a misspelled or unknown option is one line naming it, the nearest real option and --help (exit 2)', () => {
  const cases: [string[], string][] = [
    [['convert', 'port.tpmap', '--jsn'], 'tensorport: convert: unknown option --jsn; did you mean --json? (tensorport convert --help)\n'],
    [['keys', VIT, '-json'], 'tensorport: keys: unknown option -json; did you mean --json? (tensorport keys --help)\n'],
    [['convert', 'port.tpmap', '--max-shard', '5GB'], 'tensorport: convert: unknown option --max-shard; did you mean --max-shard-size? (tensorport convert --help)\n'],
    [['diff', VIT, VIT, '--frobnicate'], 'tensorport: diff: unknown option --frobnicate; diff takes --json (tensorport diff --help)\n'],
    [['map', VIT, VIT, '-o'], 'tensorport: map: -o (--output) needs a value: -o OUT.tpmap (tensorport map --help)\n'],
    [['keys', VIT, '--json=yes'], 'tensorport: keys: --json takes no value (tensorport keys --help)\n'],
  ];
  for (const [args, err] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.err, err, args.join(' '));
    assert.equal(r.out, '');
  }
  // `--help` as another option's value is that value, not a request for help.
  assert.doesNotMatch(run('parity', '--command=--help', '--timeout', '5', '--json').out, /^usage:/);
});

test('model source named without ::Class lists the classes the file defines', () => {
  const model = tmp.file('model.py', 'import torch.nn as nn\n\nclass Block(nn.Module):\n    pass\n\nclass Net(nn.Module):\n    pass\n');
  const r = run('keys', model);
  assert.equal(r.code, 2);
  assert.equal(r.err, `tensorport: ${model}: model source needs the class to build, as FILE::Class, e.g. ${model}::Net (its classes: Block, Net)\n`);
});
