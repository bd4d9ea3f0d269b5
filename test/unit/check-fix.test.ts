/**
 * `tensorport check --fix` as a user runs it (the built CLI): the preferred quick fixes — the ones that
 * follow from the layout conventions — are applied pass after pass and written once; what cannot be
 * fixed that way is still reported, and the exit code is about the fixed file.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { applyPreferredFixes, fixByConvention } from '../../server/src/mapping/applyFixes';
import { CheckedFile } from '../../server/src/mapping/checkFile';
import { parseMapping } from '../../server/src/mapping/parse';
import { sparseSafetensors } from '../support/sparse';
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

test('a transpose a `*` rule needs for its 2-D weight splits the rule (the bias is not transposed), and a fix pass never raises the errors', async () => {
  // The seed-style Paddle ViT port with its fc1 pair written as one `*` rule (next to the fixture, so its paths hold).
  const ports = path.join(FIXTURES, 'ports');
  const text = readFileSync(path.join(ports, 'vit_paddle.tpmap'), 'utf8')
    .replace('encoder.layer.{i}.intermediate.dense.weight -> layers.{i}.mlp.fc1.weight | transpose\nencoder.layer.{i}.intermediate.dense.bias -> layers.{i}.mlp.fc1.bias', 'encoder.layer.{i}.intermediate.dense.* -> layers.{i}.mlp.fc1.*');
  const file = path.join(ports, `.star-${process.pid}.tpmap`);
  writeFileSync(file, text);
  process.on('exit', () => rmSync(file, { force: true }));
  const before = JSON.parse(run('check', file, '--json').out) as { diagnostics: { line: number; code: string; severity: string }[] };
  assert.deepEqual(before.diagnostics.map((x) => x.code), ['missing-transpose']);
  const r = run('check', file, '--fix', '--json');
  assert.equal(r.code, 0, r.out);
  const after = JSON.parse(r.out) as { diagnostics: unknown[] };
  assert.deepEqual(after.diagnostics, []);
  const fixed = readFileSync(file, 'utf8');
  assert.match(fixed, /^encoder\.layer\.\{i\}\.intermediate\.dense\.weight -> layers\.\{i\}\.mlp\.fc1\.weight \| transpose$/m);
  assert.match(fixed, /^encoder\.layer\.\{i\}\.intermediate\.dense\.bias -> layers\.\{i\}\.mlp\.fc1\.bias$/m);

  // A pass whose edits raise the errors is refused: the file keeps what it had.
  const { fixByConvention } = await import('../../server/src/mapping/applyFixes');
  const fake = (t: string, errs: number, fixes: MappingDiagnostic[] = []) => ({ file: { text: t }, analysis: { diagnostics: [...fixes, ...Array.from({ length: errs }, () => ({ start: 0, end: 0, severity: 'error', code: 'shape-mismatch', message: '' }))] } });
  const d: MappingDiagnostic = { start: 0, end: 1, severity: 'error', code: 'missing-transpose', message: '', fixes: [{ title: 't', preferred: true, edits: [{ start: 1, end: 1, newText: ' | transpose' }] }] };
  const res = await fixByConvention(fake('ab', 1, [d]) as never, async (t) => fake(t, 3) as never);
  assert.equal(res.applied, 0);
  assert.equal(res.refused, 1);
  assert.equal((res.checked as unknown as { file: { text: string } }).file.text, 'ab');
});

/** torch q, k, v ([out, in], 4×4) and a Paddle class whose fused qkv Linear is [in, out] = [4, 12]. */
function fusedQkv(rule: string): string {
  const s = scratchDir('check-fix-cat');
  sparseSafetensors(path.join(s.dir, 'qkv.safetensors'), [['attn.q.weight', [4, 4]], ['attn.k.weight', [4, 4]], ['attn.v.weight', [4, 4]]]);
  s.file('port.py', ['import paddle.nn as nn', '', 'class Port(nn.Layer):', '    def __init__(self):', '        super().__init__()',
    '        self.qkv = nn.Linear(4, 12, bias_attr=False)', ''].join('\n'));
  return s.file('port.tpmap', `source qkv.safetensors\ntarget port.py::Port\n[attn.q.weight, attn.k.weight, attn.v.weight] -> qkv.weight | ${rule}\n`);
}

for (const written of ['cat(1)', 'cat(1) | transpose']) {
  test(`\`${written}\` of torch [out, in] parts into Paddle's fused qkv: the message names the axis, and --fix writes \`cat(0) | transpose\`, never \`cat(1) | transpose\``, () => {
    const file = fusedQkv(written);
    const before = JSON.parse(run('check', file, '--json').out) as { diagnostics: { line: number; code: string; message: string }[] };
    assert.deepEqual(before.diagnostics.map((d) => [d.line, d.code]), [[3, written === 'cat(1)' ? 'missing-transpose' : 'shape-mismatch']]);
    assert.match(before.diagnostics[0].message, /`cat\(1\)` joins the source weights' input dimension/);
    const r = run('check', file, '--fix', '--json');
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(r.err, `${file}: 1 fix applied\n`);
    assert.match(readFileSync(file, 'utf8'), /-> qkv\.weight \| cat\(0\) \| transpose\n$/);
  });
}

test('a fix pass that trades one error for another on the same rule is refused, though the count stays', async () => {
  const text = 'source a.safetensors\ntarget b.safetensors\nx.weight -> y.weight\n';
  const rule = text.indexOf('x.weight');
  const diag = (code: MappingDiagnostic['code'], fixed: boolean): MappingDiagnostic => ({ start: rule, end: text.length - 1, severity: 'error', code, message: code,
    ...(fixed ? {} : { fixes: [{ title: 'Add `| transpose`', edits: [{ start: text.length - 1, end: text.length - 1, newText: ' | transpose' }], preferred: true }] }) });
  const checked = (t: string, d: MappingDiagnostic): CheckedFile => ({ file: parseMapping(t), analysis: { diagnostics: [d], rules: [], models: [] } });
  const seen: string[] = [];
  const result = await fixByConvention(checked(text, diag('missing-transpose', false)), async (t) => { seen.push(t); return checked(t, diag('shape-mismatch', true)); });
  // The pass, then its one edit alone: both analysed, both refused.
  assert.deepEqual([...new Set(seen)], [text.replace('y.weight\n', 'y.weight | transpose\n')]);
  assert.equal(result.applied, 0);
  assert.equal(result.refused, 1);
  assert.equal(result.checked.file.text, text);
});
