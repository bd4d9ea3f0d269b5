/**
 * The per-platform VSIXes as users get them: `.ci/package-vsix.mjs` (what `npm run package` runs)
 * builds all five once, from the built dist/ (`node esbuild.mjs` first). Each must hold exactly its
 * own platform's onnxruntime-node binaries (darwin-x64: none, onnxruntime-node ships none) and no
 * other native file, declare its target, and ship every JS entry point (each parses under Node).
 * The linux-x64 one, whose binaries run here, is unpacked and started: the language server answers
 * initialize, the CLI lists a checkpoint, onnxruntime runs a parity check, and the MCP server lists
 * its tools — all from the package, not the source tree.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { before, test } from 'node:test';
import yauzl from 'yauzl';
import { FIXTURES, scratchDir } from '../support/tmp';

const ROOT = path.join(__dirname, '..', '..');
const ORT_BIN = path.join(ROOT, 'node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
const TARGETS: Record<string, string> = { 'linux-x64': 'linux/x64', 'linux-arm64': 'linux/arm64', 'darwin-x64': 'darwin/x64', 'darwin-arm64': 'darwin/arm64', 'win32-x64': 'win32/x64' };
const ENTRY_POINTS = ['client.js', 'server.js', 'cli.js', 'mcp.js', 'readWorker.js', 'parityWorker.js', 'kernelWorker.js'];
const NATIVE = /\.(node|so(\.\d+)*|dylib|dll)$/;
const tmp = scratchDir('vsix');
const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
const vsixOf = (target: string) => path.join(tmp.dir, `tensor-port-${target}-${version}.vsix`);
const entries = new Map<string, Map<string, number>>();

function zipEntries(file: string): Promise<Map<string, number>> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out = new Map<string, number>();
      zip.on('entry', (e: yauzl.Entry) => { out.set(e.fileName, e.uncompressedSize); zip.readEntry(); });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

function unzip(file: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName.endsWith('/')) { zip.readEntry(); return; }
        const dest = path.join(dir, e.fileName);
        mkdirSync(path.dirname(dest), { recursive: true });
        zip.openReadStream(e, (err2, stream) => {
          if (err2) return reject(err2);
          pipeline(stream, createWriteStream(dest)).then(() => zip.readEntry(), reject);
        });
      });
      zip.on('end', resolve);
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

before(async () => {
  execFileSync(process.execPath, [path.join(ROOT, '.ci', 'package-vsix.mjs'), '--out', tmp.dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
  for (const target of Object.keys(TARGETS)) entries.set(target, await zipEntries(vsixOf(target)));
});

test('each VSIX holds exactly its own platform\'s onnxruntime binaries and no other native file', () => {
  for (const [target, folder] of Object.entries(TARGETS)) {
    const files = entries.get(target)!;
    const dir = path.join(ORT_BIN, ...folder.split('/'));
    const expected = existsSync(dir) ? readdirSync(dir).map((f) => [`extension/node_modules/onnxruntime-node/bin/napi-v6/${folder}/${f}`, statSync(path.join(dir, f)).size] as const) : [];
    if (target !== 'darwin-x64') assert.ok(expected.length >= 2, `${target}: onnxruntime-node ships its binaries`);
    const native = [...files].filter(([name]) => NATIVE.test(name) || name.includes('/onnxruntime-node/bin/'));
    assert.deepEqual(native.sort(), [...expected].sort(), target);
  }
});

test('each VSIX ships every JS entry point (the same bytes in every target), the grammar, the wasm and the runtime dependencies, and nothing of the sources', () => {
  for (const target of Object.keys(TARGETS)) {
    const files = entries.get(target)!;
    assert.ok(files.has('extension.vsixmanifest'), target);
    for (const e of ENTRY_POINTS) assert.equal(files.get(`extension/dist/${e}`), entries.get('linux-x64')!.get(`extension/dist/${e}`), `${target}: dist/${e} is the one started below`);
    for (const f of [...ENTRY_POINTS.map((e) => `extension/dist/${e}`), 'extension/dist/tree-sitter.wasm', 'extension/dist/tree-sitter-python.wasm',
      'extension/syntaxes/tpmap.tmLanguage.json', 'extension/node_modules/onnxruntime-node/dist/index.js', 'extension/node_modules/onnxruntime-common/package.json',
      'extension/node_modules/typescript/lib/typescript.js', 'extension/package.json', 'extension/dist/python/tensorport_probe.py', 'extension/dist/python/tensorport_channel.py']) {
      assert.ok(files.has(f), `${target}: ${f}`);
    }
    // Sources, tests and the source tree's node_modules stay out.
    assert.deepEqual([...files.keys()].filter((f) => /^extension\/(server|client|test)\//.test(f) || /node_modules\/(@modelcontextprotocol|zod|express)\//.test(f)), [], target);
  }
});

test('linux-x64 from the unpacked VSIX: every entry point parses, the server answers initialize, the CLI and onnxruntime run, the MCP server lists its tools', async () => {
  const dir = path.join(tmp.dir, 'linux-x64');
  await unzip(vsixOf('linux-x64'), dir);
  const ext = path.join(dir, 'extension');
  assert.match(readFileSync(path.join(dir, 'extension.vsixmanifest'), 'utf8'), /TargetPlatform="linux-x64"/);
  for (const e of ENTRY_POINTS) {
    const r = spawnSync(process.execPath, ['--check', path.join(ext, 'dist', e)], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${e}: ${r.stderr}`);
  }
  // The language server over stdio: an initialize request, the server's answer.
  const server = spawn(process.execPath, [path.join(ext, 'dist', 'server.js'), '--stdio'], { cwd: tmp.dir });
  try {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: process.pid, rootUri: null, capabilities: {}, workspaceFolders: null } });
    server.stdin.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    const reply = await new Promise<string>((resolve, reject) => {
      let got = '';
      server.stdout.on('data', (d: Buffer) => { got += d.toString(); if (/"serverInfo"/.test(got)) resolve(got); });
      server.on('exit', (code) => reject(new Error(`the server exited (${code})`)));
      setTimeout(() => reject(new Error(`no initialize response: ${got}`)), 20_000);
    });
    assert.match(reply, /"id":1,"result":\{"capabilities":/);
    assert.match(reply, /"serverInfo":\{"name":"tensorport"\}/);
  } finally {
    server.kill();
  }
  const cli = (args: string[], cwd = tmp.dir) => spawnSync(process.execPath, [path.join(ext, 'dist', 'cli.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  const keys = cli(['keys', path.join(ROOT, 'examples', 'vit-tiny.safetensors'), '--json']);
  assert.equal(keys.status, 0, keys.stderr);
  assert.equal(JSON.parse(keys.stdout).format, 'safetensors');
  // onnxruntime's native binding, loaded from the package's own node_modules.
  const parity = cli(['parity', '--reference', 'ref.onnx', '--candidate', 'port.onnx', '--weights', 'port_correct.tpmap', '--input', 'input_ids=input_ids.npy', '--device', 'cpu', '--json'], path.join(FIXTURES, 'parity'));
  assert.equal(parity.status, 0, parity.stderr);
  assert.equal(JSON.parse(parity.stdout).pass, true);
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } });
  const list = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
  const mcp = spawnSync(process.execPath, [path.join(ext, 'dist', 'cli.js'), 'mcp'], { input: `${init}\n${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n${list}\n`, encoding: 'utf8', timeout: 20_000 });
  assert.equal(mcp.status, 0, mcp.stderr);
  const tools = mcp.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: number; result: { tools?: { name: string }[] } }).find((m) => m.id === 2);
  assert.deepEqual(tools?.result.tools?.map((t) => t.name), ['keys', 'check', 'map', 'convert', 'parity', 'diff']);
});
