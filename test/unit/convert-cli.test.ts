/**
 * `tensorport convert` as a user runs it: the built CLI (bin/tensorport.js; `node esbuild.mjs` first,
 * as for cli.test.ts) in a child process — its stdout, stderr, exit code and the files it leaves.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FIXTURES, scratchDir } from '../support/tmp';
import { RT_FUSED_RULES, T5_TIED_RULES, VIT_TO_PADDLE_RULES } from '../support/mappings';
import { sparseSafetensors } from '../support/sparse';
import { BIN, runCli } from '../support/cli';

const MAPPING = path.join(FIXTURES, 'mapping');
const DIR = path.join(FIXTURES, 'convert');
const tmp = scratchDir('convert-cli');



const run = (...args: string[]) => runCli(args);

function writeMapping(name: string, source: string, target: string, rules: string): string {
  return tmp.file(name, `source ${JSON.stringify(source)}\ntarget ${JSON.stringify(target)}\n${rules}`);
}

const VIT_RULES = VIT_TO_PADDLE_RULES;
const vit = (name: string, rules = VIT_RULES) => writeMapping(name, path.join(MAPPING, 'vit_hf.safetensors'), path.join(MAPPING, 'vit_paddle.pdparams'), rules);

const noStack = (err: string) => assert.doesNotMatch(err, /\n\s+at /, 'no stack trace');

test('convert writes the file and prints a one-line summary; nothing on stderr off a terminal', () => {
  const m = vit('ok.tpmap');
  const out = path.join(tmp.dir, 'ok.safetensors');
  const r = run('convert', m, '-o', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^wrote ${out.replace(/[.]/g, '\\.')}: 30 tensors, [\\d.]+ KiB in \\d+\\.\\d s\\n$`));
  assert.equal(r.err, '');
  assert.ok(existsSync(out));
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.includes('tensorport-tmp')), []);
});

test('convert --json prints {output, tensors, bytes, unwritten, ms}', () => {
  const m = writeMapping('rt.tpmap', path.join(DIR, 'rt_src.safetensors'), path.join(DIR, 'rt_fused.expected.safetensors'), RT_FUSED_RULES);
  const out = path.join(tmp.dir, 'rt.safetensors');
  const r = run('convert', m, '-o', out, '--json');
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out);
  assert.deepEqual(Object.keys(doc), ['output', 'tensors', 'bytes', 'unwritten', 'ms']);
  assert.equal(doc.output, out);
  assert.equal(doc.tensors, 6);
  assert.equal(doc.bytes, readFileSync(out).length);
  assert.deepEqual(doc.unwritten, ['position_ids']);
  assert.ok(Number.isInteger(doc.ms) && doc.ms >= 0);
});

test('warnings of the analysis go to stderr; the conversion still succeeds', () => {
  const m = vit('warn.tpmap', VIT_RULES.replace('pooler.*    -> drop\n', ''));
  const r = run('convert', m, '-o', path.join(tmp.dir, 'warn.safetensors'));
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(r.err.split('\n').filter(Boolean), [
    `warning: ${m}:1:9: unmapped-source-key: source \`pooler.dense.weight\` (F32 [8, 8]) is neither mapped nor dropped`,
    `warning: ${m}:1:9: unmapped-source-key: source \`pooler.dense.bias\` (F32 [8]) is neither mapped nor dropped`,
  ]);
});

test('a mapping with errors exits 1, names each error on stderr, and writes nothing', () => {
  const m = vit('bad.tpmap', VIT_RULES.replace('blocks.{i}.attn.proj.weight | transpose', 'blocks.{i}.attn.proj.weight'));
  const out = path.join(tmp.dir, 'bad.safetensors');
  const r = run('convert', m, '-o', out);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  const lines = r.err.split('\n');
  assert.equal(lines[0], `tensorport: ${m}: the mapping has 1 error; nothing was written:`);
  assert.match(lines[1], new RegExp(`^  ${m.replace(/[.]/g, '\\.')}:10:1: missing-transpose: `));
  assert.equal(existsSync(out), false);
  noStack(r.err);
});

test('a float the target stores narrower, with no cast: check warns and convert agrees, writing the target\'s dtype and saying so', () => {
  const m = writeMapping('dtype.tpmap', path.join(MAPPING, 't5_hf.safetensors'), path.join(MAPPING, 't5_port_fp16.safetensors'), T5_TIED_RULES.replace('shared.weight -> encoder.embed_tokens.weight | cast(F16)', 'shared.weight -> encoder.embed_tokens.weight'));
  const r = run('convert', m, '-o', path.join(tmp.dir, 'dtype.safetensors'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`${m.replace(/[.]/g, '\\.')}:4:\\d+: dtype-mismatch: source is F32, target is F16: convert writes it as F16`));
});

test('unreadable or unconvertible inputs and I/O problems exit 2 with one line', () => {
  const missingSource = writeMapping('missing_src.tpmap', path.join(tmp.dir, 'nope.safetensors'), path.join(MAPPING, 'vit_paddle.pdparams'), VIT_RULES);
  const deflated = writeMapping('deflated.tpmap', path.join(FIXTURES, 'torch', 'vit_tiny_deflated.pt'), path.join(FIXTURES, 'torch', 'vit_tiny.pt'), '* -> *\n');
  const cases: [string[], RegExp][] = [
    [['convert', missingSource, '-o', path.join(tmp.dir, 'a.safetensors')], /^tensorport: .*missing_src\.tpmap:1:9: unreadable-checkpoint: source .*nope\.safetensors: no such file\n$/],
    [['convert', path.join(tmp.dir, 'absent.tpmap'), '-o', path.join(tmp.dir, 'b.safetensors')], /^tensorport: .*absent\.tpmap: no such file\n$/],
    [['convert', deflated, '-o', path.join(tmp.dir, 'c.safetensors')], /^tensorport: .*deflated\.tpmap:3: source `cls_token` .* has no byte location to stream from: .* \(and \d+ more problems\)\n$/],
    [['convert', vit('nodir.tpmap'), '-o', path.join(tmp.dir, 'no', 'such', 'dir.safetensors')], /^tensorport: .*dir\.safetensors: cannot create a file in .*: no such file\n$/],
  ];
  for (const [args, expected] of cases) {
    const r = run(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '');
    assert.match(r.err, expected);
  }
  for (const f of ['a', 'b', 'c']) assert.equal(existsSync(path.join(tmp.dir, `${f}.safetensors`)), false);
});

test('bad usage exits 2 with one line and no stack trace', () => {
  const m = vit('usage.tpmap');
  for (const args of [['convert'], ['convert', m], ['convert', m, '-o', path.join(tmp.dir, 'x.npz')], ['convert', path.join(tmp.dir, 'x.txt'), '-o', 'y.safetensors'],
    ['convert', m, m, '-o', path.join(tmp.dir, 'y.safetensors')], ['convert', m, '-o', path.join(tmp.dir, 'z.safetensors'), '--bogus']]) {
    const r = run(...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^tensorport: [^\n]+\n$/, args.join(' '));
    noStack(r.err);
  }
});

test('an existing output is replaced only by a complete new file', () => {
  const out = path.join(tmp.dir, 'replace.safetensors');
  writeFileSync(out, 'old');
  const bad = vit('replace_bad.tpmap', VIT_RULES.replace('blocks.{i}.attn.proj.weight | transpose', 'blocks.{i}.attn.proj.weight'));
  assert.equal(run('convert', bad, '-o', out, '--force').code, 1);
  assert.equal(readFileSync(out, 'utf8'), 'old');
  assert.equal(run('convert', vit('replace_ok.tpmap'), '-o', out).code, 2, 'an existing output needs --force');
  assert.equal(readFileSync(out, 'utf8'), 'old');
  assert.equal(run('convert', vit('replace_ok.tpmap'), '-o', out, '--force').code, 0);
  assert.equal(readFileSync(out).readBigUInt64LE(0) % 8n, 0n);
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`killed with ${signal} mid-write: exit 130, the old output untouched, no temporary file left`, async () => {
    const dir = path.join(tmp.dir, `kill-${signal}`);
    mkdirSync(dir);
    // 48 × 4 MiB square weights (sparse files: no disk used), transposed: long enough to be caught writing.
    const keys = Array.from({ length: 48 }, (_, i): [string, number[]] => [`layers.${i}.weight`, [1024, 1024]]);
    sparseSafetensors(path.join(dir, 'src.safetensors'), keys);
    sparseSafetensors(path.join(dir, 'tgt.safetensors'), keys);
    const mapping = writeMapping(`kill-${signal}.tpmap`, path.join(dir, 'src.safetensors'), path.join(dir, 'tgt.safetensors'), '\nlayers.{i}.weight -> layers.{i}.weight | transpose\n');
    const out = path.join(dir, 'out.safetensors');
    writeFileSync(out, 'the previous output');
    const child = spawn(process.execPath, [BIN, 'convert', mapping, '-o', out, '--force'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!readdirSync(dir).some((f) => f.endsWith('.tensorport-tmp'))) {
      if (Date.now() > deadline) throw new Error('the conversion never started writing');
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill(signal);
    const code = await exited;
    assert.equal(code, 130, err);
    assert.match(err, /interrupted; nothing was written/);
    assert.equal(readFileSync(out, 'utf8'), 'the previous output');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tensorport-tmp')), []);
  });
}
