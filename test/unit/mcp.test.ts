/**
 * `tensorport mcp` as an agent's client sees it: the SDK's own Client over stdio, spawning the built
 * CLI (bin/tensorport.js → dist/mcp.js; `node esbuild.mjs` first). Every tool is called on fixtures
 * and its structured content checked against the output schema it lists (and against the CLI's
 * `--json` for the same call); bad arguments, an unknown tool and hostile files are tool errors of
 * one line, after which the server still answers; convert refuses to overwrite without `force`.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/sdk/validation/ajv';
import { BIN, runCli } from '../support/cli';
import { VIT_TO_PADDLE_RULES } from '../support/mappings';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';
import { P, legacyTorch, pickle } from '../hostile/builders';

const ROOT = path.join(__dirname, '..', '..');
const MAPPING = path.join(FIXTURES, 'mapping');
const PARITY = path.join(FIXTURES, 'parity');
const tmp = scratchDir('mcp');
const VIT_HF = path.join(MAPPING, 'vit_hf.safetensors');
const VIT_PADDLE = path.join(MAPPING, 'vit_paddle.pdparams');
const vitMapping = tmp.file('vit.tpmap', `source ${JSON.stringify(VIT_HF)}\ntarget ${JSON.stringify(VIT_PADDLE)}\n${VIT_TO_PADDLE_RULES}`);

let client: Client;
let tools: Tool[];
let stderr = '';
const validator = new AjvJsonSchemaValidator();

async function connect(cwd: string, args: string[] = []): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', ...args], cwd, stderr: 'pipe' });
  transport.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  const c = new Client({ name: 'tensorport-test', version: '1.0.0' });
  await c.connect(transport);
  return c;
}

before(async () => {
  // Fixtures and the scratch folder lie outside the start folder: allowed as roots (mcp-roots.test.ts tests the refusals).
  client = await connect(PARITY, ['--allow', FIXTURES, '--allow', tmp.dir]);
  tools = (await client.listTools()).tools;
});
after(async () => {
  await client?.close();
});

/** A successful call: its structured content, checked against the listed output schema by us (the SDK client checks too). */
async function call(name: string, args: Record<string, unknown>, c = client): Promise<Record<string, unknown>> {
  const r = (await c.callTool({ name, arguments: args })) as CallToolResult;
  assert.ok(!r.isError, `${name}: ${JSON.stringify(r.content)}`);
  const doc = r.structuredContent as Record<string, unknown>;
  const tool = tools.find((t) => t.name === name)!;
  const check = validator.getValidator(tool.outputSchema as never)(doc);
  assert.ok(check.valid, `${name}: ${check.errorMessage}`);
  // The text block is the same document, for clients that read only text.
  const [text] = r.content as { type: string; text: string }[];
  assert.equal(text.type, 'text');
  assert.deepEqual(JSON.parse(text.text), doc);
  return doc;
}

/** A failed call: a tool error whose text is one line. */
async function refused(name: string, args: unknown, c = client): Promise<string> {
  const r = (await c.callTool({ name, arguments: args as Record<string, unknown> })) as CallToolResult;
  assert.equal(r.isError, true, `${name} should fail: ${JSON.stringify(r.content)}`);
  const [text] = r.content as { type: string; text: string }[];
  assert.equal(text.type, 'text');
  assert.doesNotMatch(text.text, /\n/, 'one line');
  assert.doesNotMatch(text.text, /\n\s+at |internal error/, 'no stack, no internal error');
  return text.text;
}

const cliJson = (args: string[], cwd = PARITY) => {
  const r = runCli([...args, '--json'], { cwd });
  assert.ok(r.code === 0 || r.code === 1, r.err);
  return JSON.parse(r.out) as Record<string, unknown>;
};

test('tools/list: the six tools, each with an object input schema (strict) and an output schema', () => {
  assert.deepEqual(tools.map((t) => t.name).sort(), ['check', 'convert', 'diff', 'keys', 'map', 'parity']);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, 'object', t.name);
    assert.equal((t.inputSchema as { additionalProperties?: unknown }).additionalProperties, false, t.name);
    assert.equal(t.outputSchema?.type, 'object', t.name);
    assert.ok((t.description ?? '').length > 60, t.name);
    assert.equal(t.annotations?.readOnlyHint, ['keys', 'check', 'diff'].includes(t.name), t.name);
  }
  assert.deepEqual(tools.find((t) => t.name === 'keys')!.inputSchema.required, ['file']);
  assert.deepEqual(tools.find((t) => t.name === 'convert')!.inputSchema.required, ['mapping', 'output']);
});

test('keys: the CLI\'s keys --json document, for a checkpoint and for model source', async () => {
  assert.deepEqual(await call('keys', { file: 'ref.safetensors' }), cliJson(['keys', 'ref.safetensors']));
  const source = path.join(FIXTURES, 'source', 'paddle_vit.py') + '::VisionTransformer';
  const doc = await call('keys', { file: source });
  assert.equal(doc.format, 'python-source');
  assert.deepEqual(doc, cliJson(['keys', source]));
});

test('check: the diagnostics of a mapping (the planted missing transpose), as check --json gives them', async () => {
  const example = path.join(ROOT, 'media', 'example');
  const c = await connect(example);
  try {
    const doc = await call('check', { files: ['port.tpmap'] }, c);
    assert.deepEqual(doc, cliJson(['check', 'port.tpmap'], example));
    assert.deepEqual((doc.diagnostics as { line: number; code: string }[]).map((d) => [d.line, d.code]), [[13, 'missing-transpose']]);
    assert.deepEqual(doc.summary, { files: 1, errors: 1, warnings: 0, information: 0 });
  } finally {
    await c.close();
  }
});

test('map: proposes without writing; writes only with output, and not over an existing file without force', async () => {
  const doc = await call('map', { source: VIT_HF, target: VIT_PADDLE });
  assert.deepEqual(doc, cliJson(['map', VIT_HF, VIT_PADDLE]));
  assert.ok((doc.rules as unknown[]).length >= 20);
  const out = path.join(tmp.dir, 'proposed.tpmap');
  assert.ok(!existsSync(out));
  assert.deepEqual(await call('map', { source: VIT_HF, target: VIT_PADDLE, output: out }), doc);
  const text = readFileSync(out, 'utf8');
  assert.match(text, /^source /m);
  assert.match(await refused('map', { source: VIT_HF, target: VIT_PADDLE, output: out }), /proposed\.tpmap: already exists; pass "force" to replace it$/);
  await call('map', { source: VIT_HF, target: VIT_PADDLE, output: out, force: true });
});

test('convert: writes the target, says what the CLI says, and refuses to overwrite unless force is true', async () => {
  const out = path.join(tmp.dir, 'vit.safetensors');
  const doc = await call('convert', { mapping: vitMapping, output: out });
  assert.equal(doc.output, out);
  assert.equal(doc.tensors, 30);
  assert.equal(doc.bytes, statSync(out).size);
  const viaCli = cliJson(['convert', vitMapping, '-o', path.join(tmp.dir, 'vit-cli.safetensors')]);
  assert.deepEqual(Object.keys(doc), Object.keys(viaCli));
  assert.deepEqual({ ...doc, output: '', ms: 0 }, { ...viaCli, output: '', ms: 0 });
  const before = readFileSync(out);
  const mtime = statSync(out).mtimeMs;
  assert.match(await refused('convert', { mapping: vitMapping, output: out }), /vit\.safetensors: exists; convert replaces it only with "force" \(nothing was written\)$/);
  assert.deepEqual(readFileSync(out), before);
  assert.equal(statSync(out).mtimeMs, mtime, 'the existing file is untouched');
  assert.equal((await call('convert', { mapping: vitMapping, output: out, force: true })).tensors, 30);
  // An option for another format, named as the JSON field.
  assert.match(await refused('convert', { mapping: vitMapping, output: path.join(tmp.dir, 'x.safetensors'), protocol: 2 }), /^"protocol" applies to \.pdparams output$/);
});

test('parity: the ONNX check passes with the right mapping (as parity --json), command mode is refused unless allowed', async () => {
  const args = { reference: 'ref.onnx', candidate: 'port.onnx', weights: 'port_correct.tpmap', inputs: ['input_ids=input_ids.npy'], device: 'cpu' as const };
  const doc = await call('parity', args);
  assert.equal(doc.pass, true);
  assert.equal(doc.device, 'cpu');
  const viaCli = cliJson(['parity', '--reference', 'ref.onnx', '--candidate', 'port.onnx', '--weights', 'port_correct.tpmap', '--input', 'input_ids=input_ids.npy', '--device', 'cpu']);
  const stable = (d: Record<string, unknown>) => ({ ...d, timings: undefined });
  assert.deepEqual(stable(doc), stable(viaCli));
  const fault = await call('parity', { ...args, weights: 'port_transpose_fault.tpmap', layers: true });
  assert.equal(fault.pass, false);
  assert.ok(fault.firstDivergence, 'the first diverging layer is named');
  assert.match(await refused('parity', { command: 'echo hi' }), /--allow-commands/);
  assert.match(await refused('parity', { command: 'echo hi', reference: 'ref.onnx' }), /^"command" runs your script instead of ONNX models: "reference" does not apply$/);
  assert.match(await refused('parity', { reference: 'ref.onnx' }), /parity needs "reference" and "candidate"/);
});

test('diff: two checkpoints compared, as diff --json', async () => {
  const doc = await call('diff', { a: VIT_HF, b: path.join(MAPPING, 'clip_vision.safetensors') });
  assert.deepEqual(doc, cliJson(['diff', VIT_HF, path.join(MAPPING, 'clip_vision.safetensors')]));
  assert.ok((doc.onlyInA as unknown[]).length > 0);
});

test('bad arguments are tool errors of one line naming the field; an unknown tool is a protocol error; the server keeps answering', async () => {
  assert.match(await refused('keys', { file: 3 }), /^keys: file: .*expected string/);
  assert.match(await refused('keys', {}), /^keys: file: /);
  assert.match(await refused('keys', { file: 'ref.safetensors', path: 'x' }), /^keys: arguments: Unrecognized key: "path"$/);
  assert.match(await refused('convert', { mapping: vitMapping, output: 'out.safetensors', protocol: 5 }), /^convert: protocol: /);
  assert.match(await refused('keys', { file: 'ref.safetensors', config: 'config.json' }), /^"config" applies to model source/);
  assert.match(await refused('keys', { file: 'no-such.safetensors' }), /^no-such\.safetensors: no such file$/);
  assert.match(await refused('check', { files: ['ref.safetensors'] }), /check reads \.tpmap mapping files/);
  await assert.rejects(client.callTool({ name: 'rm', arguments: {} }), /no tool "rm": the tools are keys, check, map, convert, parity, diff/);
  assert.ok((await call('keys', { file: 'ref.safetensors' })).tensors);
});

test('hostile files: a pickle calling os.system is refused in one line and nothing runs; escape sequences in key names come back escaped in the text', async () => {
  const marker = path.join(tmp.dir, 'pwned');
  const evil = tmp.file('evil.pt', legacyTorch(pickle(P.global('os', 'system'), P.str(`touch ${marker}`), P.TUPLE1, P.REDUCE)));
  assert.match(await refused('keys', { file: evil }), /evil\.pt: .*(unsafe|allow-list|nothing was executed)/);
  assert.ok(!existsSync(marker), 'nothing was executed');
  const lying = tmp.file('lying.safetensors', safetensorsBytes({ w: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4, 2n ** 60n));
  assert.match(await refused('keys', { file: lying }), /lying\.safetensors: /);
  const key = 'w\x1b[31m\u202e';
  const escaped = tmp.file('escaped.safetensors', safetensorsBytes({ [key]: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, 4));
  const r = (await client.callTool({ name: 'keys', arguments: { file: escaped } })) as CallToolResult;
  assert.ok(!r.isError);
  assert.equal(((r.structuredContent as { tensors: { key: string }[] }).tensors[0]).key, key, 'the key itself, as JSON carries it');
  const text = (r.content as { text: string }[])[0].text;
  assert.ok(!text.includes('\x1b') && !text.includes('\u202e'), 'no raw escape or bidi control in the text block');
  assert.deepEqual(JSON.parse(text), r.structuredContent);
});

test('resources: each mapping of the workspace, read as its current diagnostics; nothing outside it', async () => {
  const example = path.join(ROOT, 'media', 'example');
  const c = await connect(example);
  try {
    const { resources } = await c.listResources();
    assert.deepEqual(resources.map((r) => [r.uri, r.name, r.mimeType]), [['tensorport://mapping/port.tpmap', 'port.tpmap', 'application/json']]);
    const { contents } = await c.readResource({ uri: resources[0].uri });
    const doc = JSON.parse((contents[0] as { text: string }).text);
    assert.deepEqual(doc, cliJson(['check', 'port.tpmap'], example));
    await assert.rejects(c.readResource({ uri: 'tensorport://mapping/../../etc/passwd.tpmap' }), /under the workspace/);
    await assert.rejects(c.readResource({ uri: 'tensorport://mapping/port.py' }), /under the workspace/);
    await assert.rejects(c.readResource({ uri: 'file:///etc/passwd' }), /not a Tensor Port mapping resource/);
  } finally {
    await c.close();
  }
});

test('the server wrote nothing but the protocol to stdout, and no stack to stderr', () => {
  assert.doesNotMatch(stderr, /\n\s+at |internal error/);
});
