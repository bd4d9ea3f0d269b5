/**
 * Model source that is broken, hostile or huge: `tensorport keys FILE.py::Class`, a mapping whose side
 * is that class, and the language server each give one clear answer in bounded time — never a hang,
 * a crash, a stack trace or a raw control byte — and when inference stops partway (or a file does not
 * parse) a note names file:line and says the list is incomplete. Files are generated in a scratch dir.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { analyzeMapping } from '../../server/src/mapping/analyze';
import { parseMapping } from '../../server/src/mapping/parse';
import { loadSides } from '../../server/src/mapping/sides';
import { readModelSource } from '../../server/src/source/readModelSource';
import { CheckpointInfo } from '../../server/src/formats/tensorInfo';
import { runCli } from '../support/cli';
import { LspClient } from '../support/lspClient';
import { scratchDir } from '../support/tmp';

const ws = scratchDir('hostile');
const HEAD = 'import torch.nn as nn\n\n';
/** A module class whose `__init__` runs `body` (lines indented by 8) after `super().__init__()`. */
const cls = (name: string, body: string, params = '') =>
  `class ${name}(nn.Module):\n    def __init__(self${params}):\n        super().__init__()\n${body.split('\n').map((l) => `        ${l}`).join('\n')}\n`;
const model = (file: string, text: string) => ws.file(file, HEAD + text);

/** `keys` in this process, timed; every case must answer well inside the time a user waits. */
async function keys(spec: string, limitMs = 4000): Promise<CheckpointInfo & { ms: number }> {
  const t = performance.now();
  const info = await readModelSource(path.join(ws.dir, spec));
  const ms = performance.now() - t;
  assert.ok(ms < limitMs, `${spec} took ${ms.toFixed(0)} ms`);
  return { ...info, ms };
}
const names = (info: CheckpointInfo) => info.tensors.map((t) => t.key);

test('a syntax error in the root file: what the parser recovered, and one note naming file:line that the list is incomplete', async () => {
  model('syntax_root.py', cls('M', 'self.a = nn.Linear(2, 3)\nself.b = nn.Linear(3,\nself.c = nn.Linear(4, 5)'));
  const info = await keys('syntax_root.py::M');
  assert.deepEqual(names(info), ['a.weight', 'a.bias']);
  assert.match(info.stopped!, /syntax_root\.py:7: syntax error: Python would not import this file/);
  assert.equal(info.notes[0], info.stopped);
});

test('a syntax error in an imported file is named by that file and line; the class it defines is still read', async () => {
  model('helper_bad.py', `${cls('Blk', 'self.x = nn.Linear(2, 2)')}\ndef broken(:\n    pass\n`);
  model('syntax_import.py', `from helper_bad import Blk\n\n${cls('M', 'self.blk = Blk()')}`);
  const info = await keys('syntax_import.py::M');
  assert.deepEqual(names(info), ['blk.x.weight', 'blk.x.bias']);
  assert.match(info.stopped!, /helper_bad\.py:8: syntax error \(missing `\)`\)/);
});

test('a cycle of imports (a.py ↔ b.py) with classes used across is followed as far as the code goes', async () => {
  model('cyc_a.py', `from cyc_b import B\n\n${cls('A', 'self.l = nn.Linear(2, 2)\nif d < 2:\n    self.b = B(d + 1)', ', d=0')}`);
  model('cyc_b.py', `from cyc_a import A\n\n${cls('B', 'self.m = nn.Linear(3, 3)\nif d < 2:\n    self.a = A(d + 1)', ', d=0')}`);
  const info = await keys('cyc_a.py::A');
  assert.deepEqual(names(info), ['l.weight', 'l.bias', 'b.m.weight', 'b.m.bias', 'b.a.l.weight', 'b.a.l.bias']);
  assert.equal(info.stopped, undefined);
});

test('endless recursion — a module that builds itself, two classes that build each other, a helper calling itself — stops with file:line', async () => {
  model('selfbuild.py', cls('M', 'self.a = nn.Linear(2, 2)\nself.child = M()'));
  model('mutual.py', cls('P', 'self.q = Q()') + '\n' + cls('Q', 'self.p = P()'));
  model('helperrec.py', `def f(n):\n    return f(n + 1)\n\n\n${cls('M', 'self.a = nn.Linear(f(1), 2)')}`);
  const self = await keys('selfbuild.py::M');
  assert.deepEqual(names(self), ['a.weight', 'a.bias'], 'what the root registered before the recursion');
  assert.match(self.stopped!, /^inference stopped at .*selfbuild\.py:7: calls nest deeper than 60 \(endless recursion\?\) calling `__init__` .* the list is incomplete$/);
  assert.match((await keys('mutual.py::P')).stopped!, /mutual\.py:\d+: calls nest deeper than 60/);
  assert.match((await keys('helperrec.py::M')).stopped!, /helperrec\.py:4: calls nest deeper than 60 \(endless recursion\?\) calling `f` \(line 3\)/);
});

test('`while True` in __init__ is not run: its line is named, the statements after it are read', async () => {
  // A loop that registers layers is a gap; one that only computes is a note (it cannot lose keys).
  model('whiletrue.py', cls('M', 'self.a = nn.Linear(2, 2)\nwhile True:\n    self.c = nn.Linear(3, 3)\nself.b = nn.Linear(2, 2)'));
  const info = await keys('whiletrue.py::M');
  assert.deepEqual(names(info), ['a.weight', 'a.bias', 'b.weight', 'b.bias']);
  assert.deepEqual(info.incomplete?.map((g) => [g.module, g.message, g.at.line + 1]), [['', 'a `while` loop is not followed', 7]]);
  model('whilecount.py', cls('M', 'self.a = nn.Linear(2, 2)\nn = 0\nwhile n < 3:\n    n += 1'));
  const counting = await keys('whilecount.py::M');
  assert.equal(counting.incomplete, undefined);
  assert.ok(counting.notes.includes('a `while` loop (line 8) is not followed'), counting.notes.join('\n'));
});

test('range(10**12), runaway nested loops and comprehensions: bounded, and the note says where', async () => {
  model('bigrange.py', cls('M', 'self.a = nn.Linear(2, 2)\nself.l = nn.ModuleList([nn.Linear(2, 2) for _ in range(10**12)])'));
  const big = await keys('bigrange.py::M');
  assert.deepEqual(names(big), ['a.weight', 'a.bias']);
  assert.ok(big.notes.some((n) => /`range` of 1,000,000,000,000 items at .*bigrange\.py:7 is longer than inference follows/.test(n)), big.notes.join('\n'));
  model('loops.py', cls('M', 'self.a = nn.Linear(2, 2)\nfor i in range(100000):\n    for j in range(100000):\n        k = i\nself.b = nn.Linear(2, 2)'));
  const loops = await keys('loops.py::M');
  assert.deepEqual(names(loops), ['a.weight', 'a.bias'], 'registered before the stop');
  assert.match(loops.stopped!, /^inference stopped at .*loops\.py:9: model source too large to follow \(over 1,000,000 steps\)/);
  model('comp.py', cls('M', 'x = [i for i in range(100000) for j in range(100000)]\nself.a = nn.Linear(2, 2)'));
  assert.match((await keys('comp.py::M')).stopped!, /comp\.py:6: model source too large to follow/);
  model('huge.py', cls('M', `s = 'ab' * 10**12\nl = [1] * 10**12\nn = 10**10**10\nself.a = nn.Linear(2, n)`));
  const huge = await keys('huge.py::M');
  assert.deepEqual(huge.tensors.map((t) => t.dims ?? t.shape), [['?'], ['?']], 'a size past 2**53 is unknown, never Infinity');
});

test('10,000 parentheses and a chain of 10,000 `+`: no stack overflow, the line is named, the size is unknown', async () => {
  model('parens.py', cls('M', `self.a = nn.Linear(${'('.repeat(10_000)}2${')'.repeat(10_000)}, 2)\nself.b = nn.Linear(${Array(10_000).fill('1').join(' + ')}, 2)`));
  const info = await keys('parens.py::M');
  assert.deepEqual(names(info), ['a.weight', 'a.bias', 'b.weight', 'b.bias']);
  assert.deepEqual(info.tensors.map((t) => t.dims ?? t.shape), [['?'], [2], ['?'], [2]]);
  assert.ok(info.notes.some((n) => /parens\.py:6: nested deeper than 200 levels/.test(n)), info.notes.join('\n'));
  assert.ok(info.notes.some((n) => /parens\.py:7: nested deeper than 200 levels/.test(n)), info.notes.join('\n'));
  ws.file('deep.ts', `import * as tf from '@tensorflow/tfjs';\nexport function build() {\n  return tf.sequential({ layers: [tf.layers.dense({ units: ${'('.repeat(10_000)}2${')'.repeat(10_000)}, inputShape: [2] })] });\n}\n`);
  await assert.rejects(readModelSource(path.join(ws.dir, 'deep.ts::build')), /deep\.ts::build: nests too deeply to read/);
});

test('a 50,000-line file with the class at its end, and a 20 MB string literal: keys stay fast', async () => {
  const fns = Array.from({ length: 16_000 }, (_, i) => `def f${i}(x):\n    return x + ${i}\n\n`).join('');
  model('big.py', `${fns}${cls('M', 'self.a = nn.Linear(2, f3(1))')}`);
  const big = await keys('big.py::M', 2000);
  assert.deepEqual(big.tensors.map((t) => t.shape), [[4, 2], [4]]);
  assert.equal(big.tensors[0].definition!.line + 1, 48_006);
  model('bigstr.py', `S = '${'x'.repeat(20_000_000)}'\n\n${cls('M', 'self.a = nn.Linear(2, 2)')}`);
  assert.deepEqual(names(await keys('bigstr.py::M', 4000)), ['a.weight', 'a.bias']);
});

test('the CLI: a missing class, a directory, a FIFO — exit 2, one line naming the file; non-UTF-8 and escape bytes never reach the terminal raw', () => {
  model('ok.py', cls('M', 'self.a = nn.Linear(2, 2)'));
  mkdirSync(path.join(ws.dir, 'adir.py'));
  execFileSync('mkfifo', [path.join(ws.dir, 'fifo.py')]);
  const cases: [string, RegExp][] = [
    ['ok.py::Nope', /^tensorport: ok\.py::Nope: no class or function `Nope` \(classes here: M\)\n$/],
    ['adir.py::M', /^tensorport: adir\.py::M: is a directory, not a model source file\n$/],
    ['fifo.py::M', /^tensorport: fifo\.py::M: is a named pipe \(FIFO\), not a model source file\n$/],
  ];
  for (const [arg, err] of cases) {
    const r = runCli(['keys', arg], { cwd: ws.dir });
    assert.equal(r.code, 2, arg);
    assert.match(r.err, err);
    assert.equal(r.out, '');
  }
  ws.file('latin1.py', Buffer.concat([Buffer.from(HEAD), Buffer.from('# caf\xe9 \xff\xfe\n', 'latin1'),
    Buffer.from(cls('M', `self.add_module('\\x1b[2Jred', nn.Linear(2, 2))\nself.a = nn.Linear(2, 2)\nself.b = nn.Linear(3,`))]));
  const r = runCli(['keys', 'latin1.py::M'], { cwd: ws.dir });
  assert.equal(r.code, 0, r.err);
  // eslint-disable-next-line no-control-regex -- raw control bytes on the terminal are the failure looked for
  assert.doesNotMatch(r.out + r.err, /[\x00-\x08\x0b-\x1f\x7f]/, 'no raw control byte');
  assert.doesNotMatch(r.out + r.err, /\n\s+at /, 'no stack trace');
  assert.match(r.out, /\\x1b\[2Jred\.weight/);
  assert.match(r.out, /note: inference|note: .*latin1\.py:\d+: syntax error/);
});

test('a mapping whose side stopped partway is one unreadable-checkpoint naming file:line, not a list of wrong unmapped keys', async () => {
  model('side_ok.py', cls('S', 'self.a = nn.Linear(2, 2)\nself.b = nn.Linear(2, 2)'));
  model('side_rec.py', cls('T', 'self.a = nn.Linear(2, 2)\nself.b = nn.Linear(2, 2)\nself.loop = T()'));
  const file = parseMapping('source side_ok.py::S\ntarget side_rec.py::T\na.weight -> a.weight\n');
  const sides = await loadSides(path.join(ws.dir, 'x.tpmap'), file, new CheckpointIndex());
  const ds = analyzeMapping(file, sides).diagnostics;
  const bad = ds.filter((d) => d.code === 'unreadable-checkpoint');
  assert.equal(bad.length, 1);
  assert.deepEqual(ds.filter((d) => /target/.test(d.code)), [], 'nothing said about target keys');
  assert.match(bad[0].message, /side_rec\.py::T: inference stopped at .*side_rec\.py:8: calls nest deeper than 60 \(endless recursion\?\)/);
});

let lsp: LspClient | undefined;
after(() => lsp?.stop());

test('the language server answers a mapping on a runaway model and hover in it, and stays responsive', async () => {
  model('lsp_loop.py', cls('M', 'self.a = nn.Linear(2, 2)\nfor i in range(100000):\n    for j in range(100000):\n        k = i'));
  model('lsp_ok.py', cls('M', 'self.a = nn.Linear(2, 2)'));
  ({ client: lsp } = await LspClient.start(ws.dir));
  const t = performance.now();
  const uri = await lsp.open(path.join(ws.dir, 'lsp.tpmap'), 'source lsp_ok.py::M\ntarget lsp_loop.py::M\na.weight -> a.weight\n');
  const d = await lsp.until(uri, (x) => x.some((y) => y.code === 'unreadable-checkpoint'), 15_000);
  assert.match(d.find((y) => y.code === 'unreadable-checkpoint')!.message, /lsp_loop\.py:\d+: model source too large to follow/);
  assert.ok(performance.now() - t < 15_000);
  // Still answering: hover on the model-source file (the editor asks on every move).
  const t2 = performance.now();
  await lsp.request('textDocument/hover', { textDocument: { uri: pathToFileURL(path.join(ws.dir, 'lsp_loop.py')).toString() }, position: { line: 5, character: 20 } });
  assert.ok(performance.now() - t2 < 5_000);
});
