/**
 * `tensorport check --fix` as a user runs it (the built CLI): the preferred quick fixes — the ones that
 * follow from the layout conventions — are applied pass after pass and written once; what cannot be
 * fixed that way is still reported, and the exit code is about the fixed file.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyPreferredFixes } from '../../server/src/mapping/applyFixes';
import { MappingDiagnostic } from '../../server/src/mapping/diagnostics';
import { EXAMPLES, FIXTURES, scratchDir } from '../support/tmp';
import { runCli } from '../support/cli';

const tmp = scratchDir('check-fix');

const run = (...args: string[]) => runCli(args);

test('convolutions get their permutes, a `*` rule is left with its message, and the file is rewritten once', () => {
  const conv = path.join(FIXTURES, 'conv');
  const text = `source ${conv}/torch.safetensors\ntarget ${conv}/mlx.safetensors\nstem.weight -> stem.weight\nstem.bias -> stem.bias\nconv.weight -> conv.weight\nconv.bias -> conv.bias\ntemporal.* -> temporal.*\nhead.* -> head.*\n`;
  const file = tmp.file('conv.tpmap', text);
  const r = run('check', file, '--fix', '--json');
  assert.equal(r.code, 1, r.err);
  assert.equal(r.err, `${file}: 2 fixes applied\n`);
  const doc = JSON.parse(r.out) as { diagnostics: { line: number; code: string; message: string }[] };
  assert.deepEqual(doc.diagnostics.map((d) => `${d.line} ${d.code}`), ['7 missing-transpose']);
  assert.match(doc.diagnostics[0].message, /write its weight as a rule of its own with `\| permute\(0, 2, 1\)`/);
  assert.equal(readFileSync(file, 'utf8'), text.replace('stem.weight -> stem.weight', 'stem.weight -> stem.weight | permute(0, 2, 3, 1)')
    .replace('conv.weight -> conv.weight', 'conv.weight -> conv.weight | permute(0, 2, 3, 1)'));
});

test('the worked example: the square missing transpose is fixed; key typos and pairings are left for a person', () => {
  const dir = path.join(EXAMPLES, 'bert-to-paddlenlp');
  const text = readFileSync(path.join(dir, 'bad.tpmap'), 'utf8').replace(/^(source|target) (\S+)/gm, (_, k: string, p: string) => `${k} ${path.join(dir, p)}`);
  const file = tmp.file('bad.tpmap', text);
  const before = run('check', file, '--json');
  const after = run('check', file, '--fix', '--json');
  const codes = (out: string) => (JSON.parse(out) as { diagnostics: { code: string }[] }).diagnostics.map((d) => d.code);
  assert.ok(codes(before.out).includes('missing-transpose'));
  assert.ok(!codes(after.out).includes('missing-transpose'), after.out);
  assert.ok(codes(after.out).includes('unknown-target-key'), 'a renamed key is not guessed');
  assert.ok(codes(after.out).includes('suspicious-pairing'));
  assert.match(readFileSync(file, 'utf8').split('\n')[10], /\| transpose$/);
  // Nothing left to fix: the file is not touched again.
  const again = run('check', file, '--fix');
  assert.equal(again.err, '');
});

test('without --fix nothing is written', () => {
  const conv = path.join(FIXTURES, 'conv');
  const text = `source ${conv}/torch.safetensors\ntarget ${conv}/mlx.safetensors\nstem.* -> stem.*\n`;
  const file = tmp.file('plain.tpmap', text);
  assert.equal(run('check', file).code, 1);
  assert.equal(readFileSync(file, 'utf8'), text);
});

test('fixes by convention only, one edit per place per pass', () => {
  const d = (code: MappingDiagnostic['code'], start: number, end: number, newText: string): MappingDiagnostic =>
    ({ start: 0, end: 1, severity: 'error', code, message: '', fixes: [{ title: '', edits: [{ start, end, newText }], preferred: true }] });
  const text = 'a -> b\nc -> d\n';
  const r = applyPreferredFixes(text, [
    d('missing-transpose', 6, 6, ' | transpose'), d('missing-transpose', 6, 6, ' | transpose'),   // the same insertion twice
    d('unknown-target-key', 12, 13, 'e'),                                                          // a guess: left alone
    d('suspicious-pairing', 13, 13, ' | permute(0, 2, 1, 3)'),
  ]);
  assert.equal(r.text, 'a -> b | transpose\nc -> d | permute(0, 2, 1, 3)\n');
  assert.equal(r.applied, 2);
});
