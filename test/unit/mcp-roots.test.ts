/**
 * `tensorport mcp` confined to its roots, as an agent's client meets it: the SDK's own Client over
 * stdio spawning the built CLI (`node esbuild.mjs` first), on real files and symlinks. Reads and writes
 * through `../`, absolute paths, a symlinked file and a symlinked folder are refused in one line naming
 * the roots, and nothing outside is written (not even with force); a mapping's side outside, a resource
 * through a symlink, ONNX external data symlinked outside (CLI too); `--allow` and the client's
 * announced roots (then changed) widen and narrow what is reachable. Answers stay bounded: a 6 MiB path
 * is refused in one short line and the connection stays up; a 100k-tensor keys comes in pages.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResult, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { len, onnxModel, pstr, vint } from '../hostile/builders';
import { BIN, runCli } from '../support/cli';
import { VIT_TO_PADDLE_RULES } from '../support/mappings';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';

const tmp = scratchDir('mcp-roots');
const WS = path.join(tmp.dir, 'ws');
const OUT = path.join(tmp.dir, 'outside');
mkdirSync(WS);
mkdirSync(OUT);
const tensor = (key: string) => safetensorsBytes({ [key]: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, Buffer.from([1, 2, 3, 4]));
writeFileSync(path.join(OUT, 'secret.safetensors'), tensor('secret'));
writeFileSync(path.join(OUT, 'secret.bin'), Buffer.from([9, 9, 9, 9]));
const NOTE = 'an unrelated file, not to be touched\n';
writeFileSync(path.join(OUT, 'notes.safetensors'), NOTE);
for (const f of ['vit_hf.safetensors', 'vit_paddle.pdparams']) copyFileSync(path.join(FIXTURES, 'mapping', f), path.join(WS, f));
writeFileSync(path.join(WS, 'vit.tpmap'), `source "vit_hf.safetensors"\ntarget "vit_paddle.pdparams"\n${VIT_TO_PADDLE_RULES}`);
writeFileSync(path.join(WS, 'escape.tpmap'), `source "../outside/secret.safetensors"\ntarget "t.safetensors"\nsecret -> w\n`);
writeFileSync(path.join(WS, 't.safetensors'), tensor('w'));
writeFileSync(path.join(OUT, 'real.tpmap'), `source "secret.safetensors"\ntarget "secret.safetensors"\nsecret -> secret\n`);
symlinkSync(path.join(OUT, 'secret.safetensors'), path.join(WS, 'link.safetensors'));
symlinkSync(OUT, path.join(WS, 'outdir'));
symlinkSync(path.join(OUT, 'real.tpmap'), path.join(WS, 'link.tpmap'));
// An ONNX model whose external data file is a symlink to a file outside (CVE-2024-27318 class).
symlinkSync(path.join(OUT, 'secret.bin'), path.join(WS, 'weights.bin'));
const externalTensor = (location: string) => onnxModel(len(5, [...vint(1, 1), ...vint(2, 1), ...pstr(8, 'w'), ...len(13, [...pstr(1, 'location'), ...pstr(2, location)]), ...vint(14, 1)]));
writeFileSync(path.join(WS, 'ext.onnx'), externalTensor('weights.bin'));
writeFileSync(path.join(WS, 'ext.tpmap'), 'source "ext.onnx"\ntarget "t.safetensors"\nw -> w\n');
// 100k tensors, for paging.
const MANY = 100_000;
const manyHeader: Record<string, unknown> = {};
for (let i = 0; i < MANY; i++) manyHeader[`layer.${i}.weight`] = { dtype: 'F32', shape: [1], data_offsets: [4 * i, 4 * i + 4] };
writeFileSync(path.join(WS, 'many.safetensors'), safetensorsBytes(manyHeader, MANY * 4));

let client: Client;
let stderr = '';

async function connect(args: string[] = [], roots?: { uri: string }[]): Promise<{ c: Client; setRoots(r: { uri: string }[]): Promise<void> }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], cwd: WS, stderr: 'pipe' });
  transport.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  let current = roots ?? [];
  const c = new Client({ name: 'tensorport-roots-test', version: '1.0.0' }, roots ? { capabilities: { roots: { listChanged: true } } } : {});
  if (roots) c.setRequestHandler(ListRootsRequestSchema, () => ({ roots: current }));
  await c.connect(transport);
  return { c, setRoots: async (r) => { current = r; await c.sendRootsListChanged(); } };
}

before(async () => {
  client = (await connect()).c;
});
after(async () => {
  await client?.close();
});

async function answer(name: string, args: Record<string, unknown>, c = client): Promise<CallToolResult> {
  return (await c.callTool({ name, arguments: args })) as CallToolResult;
}

/** A refusal: a tool error of one line saying the path is outside the roots and naming them. */
async function outside(name: string, args: Record<string, unknown>, c = client): Promise<string> {
  const r = await answer(name, args, c);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should be refused: ${JSON.stringify(r.structuredContent)?.slice(0, 300)}`);
  const text = (r.content as { text: string }[])[0].text;
  assert.doesNotMatch(text, /\n/);
  assert.match(text, /outside the server's roots \(/);
  assert.ok(text.includes(path.basename(WS)), `names the roots: ${text}`);
  return text;
}

test('reads outside the roots are refused: ../, absolute, a symlinked file, a symlinked folder', async () => {
  for (const file of ['../outside/secret.safetensors', path.join(OUT, 'secret.safetensors'), 'link.safetensors', 'outdir/secret.safetensors']) {
    await outside('keys', { file });
  }
  await outside('diff', { a: 'vit_hf.safetensors', b: 'link.safetensors' });
  await outside('check', { files: ['outdir/real.tpmap'] });
  // Inside, the same tools work.
  const r = await answer('keys', { file: 'vit_hf.safetensors' });
  assert.ok(!r.isError, JSON.stringify(r.content));
});

test('writes outside the roots are refused and nothing is written, force or not', async () => {
  for (const output of ['../outside/x.safetensors', path.join(OUT, 'y.safetensors'), 'outdir/z.safetensors']) {
    await outside('convert', { mapping: 'vit.tpmap', output });
    await outside('map', { source: 'vit_hf.safetensors', target: 'vit_paddle.pdparams', output: output.replace('.safetensors', '.tpmap') });
  }
  // `..` after a symlinked folder goes up from its target, as the kernel resolves it: outside too.
  await outside('map', { source: 'vit_hf.safetensors', target: 'vit_paddle.pdparams', output: 'outdir/../up.tpmap' });
  assert.ok(!existsSync(path.join(tmp.dir, 'up.tpmap')));
  await outside('convert', { mapping: 'vit.tpmap', output: '../outside/notes.safetensors', force: true });
  await outside('convert', { mapping: 'vit.tpmap', output: 'outdir/notes.safetensors', force: true });
  assert.equal(readFileSync(path.join(OUT, 'notes.safetensors'), 'utf8'), NOTE, 'the file outside is untouched');
  for (const f of ['x.safetensors', 'y.safetensors', 'z.safetensors', 'x.tpmap', 'y.tpmap', 'z.tpmap']) assert.ok(!existsSync(path.join(OUT, f)), f);
  // A mapping inside whose source line names a checkpoint outside: nothing is read from it, nothing written.
  const r = await answer('convert', { mapping: 'escape.tpmap', output: 'escaped.safetensors' });
  assert.equal(r.isError, true);
  assert.match((r.content as { text: string }[])[0].text, /outside the server's roots/);
  assert.ok(!existsSync(path.join(WS, 'escaped.safetensors')));
  // Inside, convert writes.
  const ok = await answer('convert', { mapping: 'vit.tpmap', output: 'vit.safetensors' });
  assert.ok(!ok.isError, JSON.stringify(ok.content));
});

test('resources: a .tpmap symlinked to one outside is neither listed nor read', async () => {
  const { resources } = await client.listResources();
  assert.ok(resources.some((r) => r.name === 'vit.tpmap'));
  assert.ok(!resources.some((r) => r.name === 'link.tpmap'), resources.map((r) => r.name).join(', '));
  await assert.rejects(client.readResource({ uri: 'tensorport://mapping/link.tpmap' }), /outside the server's roots/);
});

test('ONNX external data symlinked outside the model\'s folder: refused by the CLI (keys, convert) and over MCP', async () => {
  const keys = runCli(['keys', 'ext.onnx'], { cwd: WS });
  assert.equal(keys.code, 2, keys.out);
  assert.match(keys.err, /^tensorport: ext\.onnx: initializer "w": external data location "weights\.bin" resolves outside the model's folder/);
  assert.equal(keys.err.trim().split('\n').length, 1);
  const convert = runCli(['convert', 'ext.tpmap', '-o', 'ext-out.safetensors'], { cwd: WS });
  assert.equal(convert.code, 2, convert.out);
  assert.match(convert.err, /external data location "weights\.bin" resolves outside the model's folder/);
  assert.ok(!existsSync(path.join(WS, 'ext-out.safetensors')), 'nothing written, the outside bytes copied nowhere');
  // Even with the outside folder allowed as a root: external data stays with its model.
  const { c } = await connect(['--allow', OUT]);
  try {
    const r = await answer('keys', { file: 'ext.onnx' }, c);
    assert.equal(r.isError, true);
    assert.match((r.content as { text: string }[])[0].text, /^ext\.onnx: initializer "w": external data location "weights\.bin" resolves outside the model's folder/);
  } finally {
    await c.close();
  }
});

test('--allow DIR adds a root; a missing --allow folder is a usage error', async () => {
  const { c } = await connect(['--allow', OUT]);
  try {
    for (const file of ['../outside/secret.safetensors', 'link.safetensors', 'outdir/secret.safetensors']) {
      const r = await answer('keys', { file }, c);
      assert.ok(!r.isError, `${file}: ${JSON.stringify(r.content)}`);
      assert.equal((r.structuredContent as { tensors: { key: string }[] }).tensors[0].key, 'secret');
    }
  } finally {
    await c.close();
  }
  const bad = runCli(['mcp', '--allow', path.join(tmp.dir, 'nope')], { cwd: WS });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--allow .*nope: no such folder/);
});

test('the client\'s roots: announced ones are reachable, and a change is followed', async () => {
  const { c, setRoots } = await connect([], [{ uri: `file://${OUT}` }]);
  try {
    const r = await answer('keys', { file: '../outside/secret.safetensors' }, c);
    assert.ok(!r.isError, JSON.stringify(r.content));
    await setRoots([]);
    await outside('keys', { file: '../outside/secret.safetensors' }, c);
    await setRoots([{ uri: `file://${OUT}` }]);
    assert.ok(!(await answer('keys', { file: 'link.safetensors' }, c)).isError);
  } finally {
    await c.close();
  }
});

test('a 6 MiB path argument: one short line back, and the connection stays up', async () => {
  for (const args of [{ file: 'a'.repeat(6 * 2 ** 20) }, { file: `${'dir/'.repeat(1.5 * 2 ** 20)}x.safetensors` }]) {
    const r = await answer('keys', args);
    assert.equal(r.isError, true);
    const text = (r.content as { text: string }[])[0].text;
    assert.doesNotMatch(text, /\n/);
    assert.ok(text.length < 1000, `${text.length} characters`);
    assert.match(text, /…/);
  }
  const unknown = await client.callTool({ name: 'x'.repeat(6 * 2 ** 20), arguments: {} }).then(() => '', (e: Error) => e.message);
  assert.ok(unknown.length > 0 && unknown.length < 1000, `${unknown.length}`);
  assert.ok(!(await answer('keys', { file: 'vit_hf.safetensors' })).isError, 'still answering');
});

test('a 100k-tensor keys comes in pages of 1000 with the total, offset/limit page on, filter narrows', async () => {
  const first = await answer('keys', { file: 'many.safetensors' });
  assert.ok(!first.isError, JSON.stringify(first.content).slice(0, 300));
  const doc = first.structuredContent as { tensors: { key: string }[]; page: Record<string, number> };
  assert.equal(doc.tensors.length, 1000);
  assert.deepEqual(doc.page, { total: MANY, offset: 0, count: 1000, next: 1000 });
  assert.ok(JSON.stringify(first).length < 2 ** 20, 'well under a client\'s buffer');
  const last = (await answer('keys', { file: 'many.safetensors', offset: MANY - 10, limit: 50 })).structuredContent as typeof doc;
  assert.deepEqual(last.page, { total: MANY, offset: MANY - 10, count: 10 });
  assert.equal(last.tensors[9].key, `layer.${MANY - 1}.weight`);
  const filtered = (await answer('keys', { file: 'many.safetensors', filter: 'layer.9999*weight' })).structuredContent as typeof doc;
  assert.deepEqual(filtered.tensors.map((t) => t.key).slice(0, 2), ['layer.9999.weight', 'layer.99990.weight']);
  assert.deepEqual(filtered.page, { total: 11, offset: 0, count: 11 });
  const tooMany = await answer('keys', { file: 'many.safetensors', limit: 5000 });
  assert.equal(tooMany.isError, true);
  // A short listing is the CLI's document as it is: no page.
  assert.equal((await answer('keys', { file: 't.safetensors' })).structuredContent?.page, undefined);
});

test('no stack or internal error on stderr', () => {
  assert.doesNotMatch(stderr, /\n\s+at |internal error/);
});
