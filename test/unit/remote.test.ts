/**
 * Remote checkpoints as a user meets them: the built CLI against a local server that behaves like the
 * Hub (test/support/fakeHub.ts) — resolve URLs redirected to a second port, X-Repo-Commit, ETag,
 * Range, gated repos — and against hostile servers, each failure one line in bounded time.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { BIN } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { FakeHub, startFakeHub } from '../support/fakeHub';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';

const tmp = scratchDir('remote');
const fixture = (...p: string[]) => readFileSync(path.join(FIXTURES, ...p));
const VIT = fixture('safetensors', 'vit_tiny.safetensors');
const SHARDS = path.join(FIXTURES, 'safetensors', 'sharded');
let hub: FakeHub;

before(async () => {
  hub = await startFakeHub({
    'org/vit': { files: { 'model.safetensors': VIT, 'config.json': Buffer.from('{}') }, branches: ['refs/pr/1'] },
    'org/sharded': {
      files: {
        'model.safetensors.index.json': readFileSync(path.join(SHARDS, 'model.safetensors.index.json')),
        'model-00001-of-00002.safetensors': readFileSync(path.join(SHARDS, 'model-00001-of-00002.safetensors')),
        'model-00002-of-00002.safetensors': readFileSync(path.join(SHARDS, 'model-00002-of-00002.safetensors')),
      },
    },
    'org/torch': { files: { 'pytorch_model.bin': fixture('real', 'torch2', 'state_dict.pt'), 'tiny.gguf': fixture('gguf', 'tiny.gguf') } },
    'org/both': { files: { 'model.safetensors': VIT, 'model.safetensors.index.json': readFileSync(path.join(SHARDS, 'model.safetensors.index.json')) } },
    'org/binshards': { files: { 'pytorch_model.bin.index.json': Buffer.from('{"weight_map": {}}') } },
    'org/gated': { files: { 'model.safetensors': VIT }, gatedToken: 'hf_secret' },
    'org/huge': { files: { 'model.safetensors': safetensorsBytes({}, 0, 10_000_000_000n) } },
    'org/cfgdown': { files: { 'model.safetensors': VIT, 'config.json': Buffer.from('{}') } },
  });
});
after(() => hub.close());

interface Run { code: number; out: string; err: string; ms: number }

/** The CLI in a child process (asynchronously: the fake Hub answers from this process). */
function cli(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], {
      encoding: 'utf8', timeout: 60_000,
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_HOME: path.join(tmp.dir, 'hf-home'), HF_TOKEN: '', HF_HUB_OFFLINE: '',
        TENSORPORT_CACHE_DIR: path.join(tmp.dir, 'cache'), TENSORPORT_HTTP_RETRY_MS: '5', ...env },
    }, (error, out, err) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, out, err, ms: Date.now() - started }));
  });
}

const keysJson = async (name: string, env?: Record<string, string>) => {
  const r = await cli(['keys', name, '--json'], env);
  assert.equal(r.code, 0, r.err);
  return JSON.parse(r.out);
};

const oneLine = (r: Run, pattern: RegExp) => {
  assert.equal(r.code, 2, r.out);
  assert.equal(r.err.trim().split('\n').length, 1, r.err);
  assert.match(r.err, pattern);
};

test('keys hf://OWNER/REPO/PATH lists what the local file lists, header-only, and says the commit and the cost', async () => {
  const local = await keysJson(path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors'));
  const before = hub.served.bytes;
  const doc = await keysJson('hf://org/vit/model.safetensors', { TENSORPORT_CACHE_DIR: path.join(tmp.dir, 'cache-a') });
  assert.deepEqual(doc.tensors, local.tensors);
  assert.equal(doc.file, 'hf://org/vit/model.safetensors');
  const commit = hub.repos.get('org/vit')!.commit;
  assert.deepEqual(doc.remote, { url: `${hub.endpoint}/org/vit/resolve/${commit}/model.safetensors`, commit, requests: 2, bytes: VIT.length < 65536 ? VIT.length : 65536 });
  assert.equal(hub.served.bytes - before, doc.remote.bytes, 'what the server sent is what keys counted');
});

test('a revision: a branch (URL-encoded), or the commit itself; a missing one is one line', async () => {
  const commit = hub.repos.get('org/vit')!.commit;
  assert.equal((await keysJson('hf://org/vit@refs%2Fpr%2F1/model.safetensors')).remote.commit, commit);
  assert.equal((await keysJson(`hf://org/vit@${commit}/model.safetensors`)).tensors.length, 41);
  oneLine(await cli(['keys', 'hf://org/vit@v9/model.safetensors']), /org\/vit has no revision v9/);
  oneLine(await cli(['keys', 'hf://org/vit/nope.safetensors']), /org\/vit has no file nope\.safetensors at main/);
  oneLine(await cli(['keys', 'hf://nobody/nothing/model.safetensors']), /nobody\/nothing does not exist, or is private or gated \(HTTP 401\): log in/);
});

test('hf://OWNER/REPO picks the weights as transformers does, and says which', async () => {
  const one = await keysJson('hf://org/vit');
  assert.equal(one.tensors.length, 41);
  assert.match(one.notes[0], /org\/vit holds its weights as model\.safetensors/);
  const sharded = await keysJson('hf://org/sharded');
  assert.equal(sharded.format, 'safetensors-index');
  assert.match(sharded.notes[0], /as model\.safetensors\.index\.json/);
  const bin = await keysJson('hf://org/torch');
  assert.equal(bin.format, 'torch-zip');
  // Both: transformers (5.24, _get_resolved_checkpoint_files) asks for model.safetensors first, the index only without it.
  const both = await keysJson('hf://org/both');
  assert.equal(both.format, 'safetensors');
  assert.match(both.notes[0], /org\/both holds its weights as model\.safetensors \(what transformers loads\)/);
  oneLine(await cli(['keys', 'hf://org/binshards']), /org\/binshards holds its weights as pytorch_model\.bin\.index\.json .*not read here: name one shard/);
  oneLine(await cli(['keys', 'hf://org/absent']), /org\/absent does not exist, or is private or gated/);
});

test('a sharded checkpoint is named by its index; every shard comes from the commit the index came from', async () => {
  const local = await keysJson(path.join(SHARDS, 'model.safetensors.index.json'));
  const mark = hub.served.log.length;
  const doc = await keysJson('hf://org/sharded/model.safetensors.index.json', { TENSORPORT_CACHE_DIR: path.join(tmp.dir, 'cache-shards') });
  assert.deepEqual(doc.tensors, local.tensors);
  const commit = hub.repos.get('org/sharded')!.commit;
  const shardAsks = hub.served.log.slice(mark).filter((l) => l.includes('/resolve/') && l.includes('model-0000'));
  assert.equal(shardAsks.length, 2);
  for (const l of shardAsks) assert.ok(l.includes(`/resolve/${commit}/`), l);
  assert.equal(doc.remote.requests, 1 + 2 * 2, 'the index once, each shard a redirect and one range');
});

test('torch zips and GGUF read remotely as they do locally', async () => {
  for (const [name, file] of [['pytorch_model.bin', path.join(FIXTURES, 'real', 'torch2', 'state_dict.pt')], ['tiny.gguf', path.join(FIXTURES, 'gguf', 'tiny.gguf')]]) {
    const local = await keysJson(file);
    const doc = await keysJson(`hf://org/torch/${name}`);
    assert.deepEqual(doc.tensors, local.tensors, name);
    assert.ok(doc.remote.requests <= 6, `${name}: ${doc.remote.requests} requests`);
  }
});

test('a plain https-style URL (http only to this machine) reads like a Hub file', async () => {
  const blobUrl = `${hub.endpoint}/org/vit/resolve/main/model.safetensors`;
  const doc = await keysJson(blobUrl);
  assert.equal(doc.tensors.length, 41);
  assert.equal(doc.remote.url, blobUrl);
  oneLine(await cli(['keys', 'http://example.com/model.safetensors']), /plain http:\/\/ is allowed only to this machine/);
});

test('gated: one line naming the repo and how to log in; HF_TOKEN or the token file opens it', async () => {
  oneLine(await cli(['keys', 'hf://org/gated/model.safetensors']), /org\/gated is gated: accept its conditions at .*then log in \(`hf auth login` or set HF_TOKEN\)/);
  assert.equal((await keysJson('hf://org/gated/model.safetensors', { HF_TOKEN: 'hf_secret' })).tensors.length, 41);
  const home = path.join(tmp.dir, 'home-with-token');
  mkdirSync(home);
  tmp.file('home-with-token/token', 'hf_secret\n');
  assert.equal((await keysJson('hf://org/gated/model.safetensors', { HF_HOME: home, TENSORPORT_CACHE_DIR: path.join(tmp.dir, 'cache-token') })).tensors.length, 41);
});

test('the header cache: a commit-pinned name costs no request the second time; offline answers from it', async () => {
  const cache = { TENSORPORT_CACHE_DIR: path.join(tmp.dir, 'cache-offline') };
  const online = await keysJson('hf://org/sharded/model.safetensors.index.json', cache);
  const pinned = await keysJson(`hf://org/sharded@${online.remote.commit}/model.safetensors.index.json`, cache);
  assert.equal(pinned.remote.requests, 0);
  const mark = hub.served.requests;
  const offline = await keysJson('hf://org/sharded/model.safetensors.index.json', { ...cache, HF_HUB_OFFLINE: '1' });
  assert.deepEqual(offline.tensors, online.tensors);
  assert.equal(offline.remote.requests, 0);
  const flag = await cli(['keys', 'hf://org/sharded/model.safetensors.index.json', '--json', '--offline'], cache);
  assert.equal(flag.code, 0, flag.err);
  assert.equal(hub.served.requests, mark, 'offline sent nothing');
  oneLine(await cli(['keys', 'hf://org/vit/model.safetensors', '--offline'], cache), /not in the header cache, and offline/);
});

test('429 and 5xx are retried with backoff; a server that keeps failing is one line', async () => {
  let calls = 0;
  hub.override('/flaky/', (req, res) => {
    if (++calls <= 2) { res.writeHead(calls === 1 ? 429 : 503, { 'Retry-After': '0' }).end(); return; }
    const range = /bytes=(\d+)-(\d+)/.exec(req.headers.range!)!;
    const end = Math.min(Number(range[2]), VIT.length - 1);
    res.writeHead(206, { 'Content-Range': `bytes ${range[1]}-${end}/${VIT.length}` }).end(VIT.subarray(Number(range[1]), end + 1));
  });
  assert.equal((await keysJson(`${hub.endpoint}/flaky/model.safetensors`)).tensors.length, 41);
  hub.override('/down/', (_req, res) => res.writeHead(503).end());
  const r = await cli(['keys', `${hub.endpoint}/down/model.safetensors`]);
  oneLine(r, /kept answering HTTP 503, retried with backoff/);
});

test('hostile servers: each one line, in bounded time', async () => {
  hub.override('/liar/', (_req, res) => { res.writeHead(206, { 'Content-Range': `bytes 100-199/${VIT.length}` }).end(VIT.subarray(100, 200)); });
  hub.override('/endless/', (_req, res) => {
    res.writeHead(206, { 'Content-Range': `bytes 0-65535/${VIT.length}` });
    const chunk = Buffer.alloc(16384, 7);
    const pump = () => { while (res.write(chunk)) { /* until the socket pushes back */ } };
    res.on('drain', pump);
    res.on('close', () => res.off('drain', pump));
    pump();
  });
  hub.override('/loop/', (req, res) => { res.writeHead(302, { Location: req.url!.includes('a.') ? '/loop/b.safetensors' : '/loop/a.safetensors' }).end(); });
  hub.override('/far/', (req, res) => { const n = Number(/(\d+)/.exec(req.url!)![1]); res.writeHead(302, { Location: `/far/${n + 1}.safetensors` }).end(); });
  const cases: [string, RegExp][] = [
    ['/liar/model.safetensors', /answered bytes 100-199\/\d+ with 100 bytes of body for bytes 0-65535: refused/],
    ['/endless/model.safetensors', /sent more than the 65536 bytes asked for.*cut off/],
    ['/loop/a.safetensors', /redirect loop/],
    ['/far/0.safetensors', /more than 10 redirects/],
  ];
  for (const [p, pattern] of cases) {
    const r = await cli(['keys', `${hub.endpoint}${p}`]);
    oneLine(r, pattern);
    assert.ok(r.ms < 20_000, `${p}: ${r.ms} ms`);
  }
  const huge = await cli(['keys', 'hf://org/huge/model.safetensors', '--json']);
  oneLine(huge, /header length 10000000000/);
  assert.ok(huge.ms < 20_000);
});

test('map and diff take remote checkpoints; a mapping names one on its source line', async () => {
  const local = path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors');
  const d = await cli(['diff', 'hf://org/vit/model.safetensors', local, '--json']);
  assert.equal(d.code, 0, d.err);
  const out = path.join(tmp.dir, 'remote.tpmap');
  const m = await cli(['map', 'hf://org/vit/model.safetensors', local, '-o', out]);
  assert.equal(m.code, 0, m.err);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^source hf:\/\/org\/vit\/model\.safetensors$/m);
  const c = await cli(['check', out, '--json']);
  assert.equal(c.code, 0, c.out + c.err);
  assert.equal(JSON.parse(c.out).summary.errors, 0);
});

test('the same answers as huggingface_hub pointed at the same server (get_safetensors_metadata, hf_hub_download)', async (t) => {
  const py = testPython();
  const python = py.python;
  if (!python) { t.skip(String(py.skip)); return; }
  const truth = await new Promise<string>((resolve, reject) => {
    execFile(python, [path.join(__dirname, '..', 'python', 'hub_truth.py'), 'org/sharded', 'model-00002-of-00002.safetensors', path.join(tmp.dir, 'hf-cache')], {
      encoding: 'utf8', timeout: 120_000,
      env: { ...process.env, HF_ENDPOINT: hub.endpoint, HF_HOME: path.join(tmp.dir, 'hf-home-py'), HF_HUB_OFFLINE: '0', HF_HUB_DISABLE_TELEMETRY: '1', HF_TOKEN: '', PYTHONDONTWRITEBYTECODE: '1' },
    }, (e: Error | null, out: string, err: string) => (e ? reject(new Error(`${e.message}\n${err}`)) : resolve(out)));
  });
  const hf = JSON.parse(truth) as { files: Record<string, Record<string, [string, number[]]>>; weight_map: Record<string, string>; download: string };
  const ours = await keysJson('hf://org/sharded/model.safetensors.index.json');
  const theirs = Object.assign({}, ...Object.values(hf.files)) as Record<string, [string, number[]]>;
  assert.deepEqual(Object.fromEntries(ours.tensors.map((x: { key: string; dtype: string; shape: number[] }) => [x.key, [x.dtype, x.shape]])), theirs);
  // The file huggingface_hub downloaded sits under the commit our read reported, and lists the same.
  assert.ok(hf.download.includes(`/snapshots/${ours.remote.commit}/`), hf.download);
  const downloaded = await keysJson(hf.download);
  const remoteShard = await keysJson('hf://org/sharded/model-00002-of-00002.safetensors');
  assert.deepEqual(remoteShard.tensors, downloaded.tensors);
});

test('MCP: hf:// and https:// names are allowed beside the roots; http:// and other schemes are refused', async () => {
  const transport = new StdioClientTransport({
    command: process.execPath, args: [BIN, 'mcp'], cwd: tmp.dir, stderr: 'pipe',
    env: { ...process.env as Record<string, string>, HF_ENDPOINT: hub.endpoint, HF_HOME: path.join(tmp.dir, 'hf-home'), TENSORPORT_CACHE_DIR: path.join(tmp.dir, 'cache-mcp') },
  });
  const c = new Client({ name: 'tensorport-remote-test', version: '1.0.0' });
  await c.connect(transport);
  try {
    const ok = (await c.callTool({ name: 'keys', arguments: { file: 'hf://org/vit/model.safetensors' } })) as CallToolResult;
    assert.ok(!ok.isError, JSON.stringify(ok.content));
    assert.equal((ok.structuredContent as { remote: { commit: string } }).remote.commit, hub.repos.get('org/vit')!.commit);
    for (const file of [`${hub.endpoint}/org/vit/resolve/main/model.safetensors`, 'file:///etc/passwd']) {
      const r = (await c.callTool({ name: 'keys', arguments: { file } })) as CallToolResult;
      assert.equal(r.isError, true, file);
      assert.match(JSON.stringify(r.content), /only hf:\/\/ and https:\/\/ remote names are allowed here/);
    }
  } finally {
    await c.close();
  }
});

test('convert from a remote source streams its tensors with range requests: the same output as from the local file', async () => {
  const local = path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors');
  const remoteMap = path.join(tmp.dir, 'from-remote.tpmap');
  const localMap = path.join(tmp.dir, 'from-local.tpmap');
  assert.equal((await cli(['map', 'hf://org/vit/model.safetensors', local, '-o', remoteMap])).code, 0);
  assert.equal((await cli(['map', local, local, '-o', localMap])).code, 0);
  const mark = hub.served.log.length;
  const a = await cli(['convert', remoteMap, '-o', path.join(tmp.dir, 'a.safetensors')]);
  assert.equal(a.code, 0, a.err);
  const b = await cli(['convert', localMap, '-o', path.join(tmp.dir, 'b.safetensors')]);
  assert.equal(b.code, 0, b.err);
  // The same tensors and the same data; the headers differ only in the metadata naming the source.
  const data = (f: string) => { const bytes = readFileSync(path.join(tmp.dir, f)); return bytes.subarray(8 + Number(bytes.readBigUInt64LE(0))); };
  assert.ok(data('a.safetensors').equals(data('b.safetensors')));
  // Header byte for byte the same JSON, but for the metadata naming the source and the mapping file.
  const header = (f: string) => {
    const bytes = readFileSync(path.join(tmp.dir, f));
    const h = JSON.parse(bytes.toString('utf8', 8, 8 + Number(bytes.readBigUInt64LE(0))));
    assert.equal(typeof h.__metadata__['tensorport.source'], 'string');
    delete h.__metadata__['tensorport.source'];
    delete h.__metadata__['tensorport.mapping'];
    return h;
  };
  assert.deepEqual(header('a.safetensors'), header('b.safetensors'));
  assert.deepEqual((await keysJson(path.join(tmp.dir, 'a.safetensors'))).tensors, (await keysJson(path.join(tmp.dir, 'b.safetensors'))).tensors);
  const commit = hub.repos.get('org/vit')!.commit;
  const asked = hub.served.log.slice(mark);
  // The header read resolves `main` once; everything after asks for the commit it reported.
  const resolves = asked.filter((l) => l.includes('/resolve/'));
  assert.match(resolves[0], /\/resolve\/main\//);
  assert.ok(resolves.slice(1).every((l) => l.includes(`/resolve/${commit}/`)), resolves.join('\n'));
  assert.ok(asked.filter((l) => l.startsWith('GET /blob/')).length >= 2, 'tensor data in range requests');
});

// The server keeps sockets alive; make sure the test process itself never waits on one.
http.globalAgent.destroy();

test('a torch zip whose records lie far apart: their headers are fetched together (bounded, in parallel), not one round trip each', async (t) => {
  const py = testPython();
  if (!py.python) { t.skip(String(py.skip)); return; }
  // torch.save itself: 24 storages of 384 KiB, so every record header sits in a 64 KiB block of its own.
  const file = path.join(tmp.dir, 'far.pt');
  runPython(py.python, ['-c', `import torch; torch.manual_seed(0); torch.save({f"layer{i}.weight": torch.randn(384, 256) for i in range(24)}, ${JSON.stringify(file)})`], { timeoutMs: 120_000 });
  const bytes = readFileSync(file);
  hub.repos.set('org/far', { files: { 'pytorch_model.bin': bytes }, commit: 'f'.repeat(40) });
  const local = await keysJson(file);
  const before = { ...hub.served, maxInFlight: 0 };
  hub.served.maxInFlight = 0;
  hub.latencyMs = 20;
  const doc = await keysJson('hf://org/far/pytorch_model.bin', { TENSORPORT_CACHE_DIR: path.join(tmp.dir, 'cache-far') }).finally(() => { hub.latencyMs = 0; });
  assert.deepEqual(doc.tensors, local.tensors);
  assert.ok(hub.served.maxInFlight > 1 && hub.served.maxInFlight <= 8, `${hub.served.maxInFlight} requests at once`);
  assert.ok(hub.served.bytes - before.bytes < bytes.length / 4, `${hub.served.bytes - before.bytes} of ${bytes.length} bytes`);
  assert.equal(doc.remote.requests, hub.served.requests - before.requests);
});

test('a config.json beside a remote checkpoint that cannot be fetched is a warning on the side, not checks quietly skipped', async () => {
  hub.override(`/org/cfgdown/resolve/${hub.repos.get('org/cfgdown')!.commit}/config.json`, (_req, res) => res.writeHead(503).end());
  const local = path.join(FIXTURES, 'safetensors', 'vit_tiny.safetensors');
  const diagnosticsOf = async (remote: string, cache: string) => {
    const mapping = path.join(tmp.dir, `${cache}.tpmap`);
    writeFileSync(mapping, `source ${remote}\ntarget ${local}\n\nembeddings.cls_token -> embeddings.cls_token\n`);
    const r = await cli(['check', mapping, '--json'], { TENSORPORT_CACHE_DIR: path.join(tmp.dir, cache) });
    return (JSON.parse(r.out).diagnostics as { line: number; code: string; severity: string; message: string }[]);
  };
  const down = (await diagnosticsOf('hf://org/cfgdown/model.safetensors', 'cache-cfgdown')).filter((d) => d.code === 'remote-config-unavailable');
  assert.deepEqual(down.map((d) => [d.line, d.severity]), [[1, 'warning']]);
  assert.match(down[0].message, /config\.json: .*the checks that read the files beside a checkpoint/);
  assert.equal((await diagnosticsOf('hf://org/vit/model.safetensors', 'cache-cfgfine')).filter((d) => d.code === 'remote-config-unavailable').length, 0);
});
