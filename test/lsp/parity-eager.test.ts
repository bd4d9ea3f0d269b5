/**
 * The parity panel's eager mode through the real server over stdio: `tensorport/pythonModels` lists
 * what the pickers offer, and `tensorport/parity` with `kind: 'eager'` runs the probe in the venv's
 * Python on the PyTorch ViT fixtures (the correct port, a planted missing transpose), with progress
 * notifications carrying the run's id, cancellation, and the refusals a user can meet. The panel's newer
 * fields: a launcher (plain `torchrun`, found beside the chosen interpreter), a candidate checkpoint in
 * place of the mapping's targets, and "Save tensors" (saveTensors: the pair written in full as .npy).
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { CancellationTokenSource } from 'vscode-languageserver/node';
import type { ConvertParams, ConvertResult, ParityParams, ParityProgressParams, ParityResult, PythonModelsResult } from '../../server/src/lsp/protocol';
import { LspClient } from '../support/lspClient';
import { testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const py = testPython();
const PORTS = path.join(FIXTURES, 'ports');
const ws = scratchDir('lsp-eager');
let client: LspClient;
const progress: ParityProgressParams[] = [];

before(async () => {
  for (const f of ['eager', 'vit_tiny', 'torch_vit_plinear.py']) cpSync(path.join(PORTS, f), path.join(ws.dir, f), { recursive: true });
  const map = readFileSync(path.join(ws.dir, 'eager', 'vit_torch.tpmap'), 'utf8');
  const fault = map.replace(/(attention\.query\.weight -> \S+) \| transpose/, '$1');
  assert.notEqual(fault, map, 'the missing transpose was planted');
  writeFileSync(path.join(ws.dir, 'eager', 'no_transpose.tpmap'), fault);
  ({ client } = await LspClient.start(ws.dir));
  client.conn.onNotification('tensorport/parityProgress', (p: ParityProgressParams) => { progress.push(p); });
});

after(() => client.stop());

const eager = (id: string, request: Partial<Extract<ParityParams, { kind: 'eager' }>['request']>) => client.request<ParityResult>('tensorport/parity', {
  id, kind: 'eager', request: {
    reference: 'eager/hf_style_vit.py::reference', candidate: 'eager/torch_port.py::candidate', weights: path.join(ws.dir, 'eager', 'vit_torch.tpmap'),
    cwd: ws.dir, python: py.python, trusted: true, ...request,
  },
} satisfies ParityParams);

test('tensorport/pythonModels lists the top-level classes and functions of the workspace\'s Python files, with their lines', async () => {
  const { models } = await client.request<PythonModelsResult>('tensorport/pythonModels', {});
  const spec = (m: PythonModelsResult['models'][number]) => `${m.relative}::${m.name}`;
  const ref = models.find((m) => spec(m) === 'eager/hf_style_vit.py::reference');
  assert.deepEqual(ref && { kind: ref.kind, line: ref.line, file: ref.file }, { kind: 'def', line: 139, file: path.join(ws.dir, 'eager', 'hf_style_vit.py') });
  assert.equal(models.find((m) => spec(m) === 'eager/hf_style_vit.py::ViTModel')?.kind, 'class');
  assert.ok(models.some((m) => spec(m) === 'eager/torch_port.py::candidate'));
  assert.ok(models.some((m) => spec(m) === 'torch_vit_plinear.py::ViT'));
  // Nested definitions (methods) are not models to build.
  assert.ok(!models.some((m) => m.name === 'forward'), 'no methods');
});

test('the correct PyTorch port passes in eager mode, every module paired, progress and the log tagged with the run\'s id', { skip: py.skip }, async () => {
  const r = await eager('ok-run', {});
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.report.mode, 'eager');
  assert.equal(r.report.pass, true);
  assert.equal(r.report.firstDivergence, null);
  assert.ok(r.report.layers!.length >= 20 && r.report.layers!.every((l) => l.pass));
  assert.ok(progress.some((p) => p.id === 'ok-run' && p.phase === 'weights'), JSON.stringify(progress));
  assert.ok(progress.filter((p) => p.id === 'ok-run').length >= 2);
});

test('a planted missing transpose: the first diverging module, its mapping lines and classes, and backward\'s gradients', { skip: py.skip }, async () => {
  const r = await eager('fault-run', { weights: 'eager/no_transpose.tpmap', backward: true });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.report.pass, false);
  const d = r.report.firstDivergence!;
  assert.equal(d.module, 'blocks.0.attn.q');
  assert.equal(d.reference, 'encoder.layer.0.attention.attention.query');
  assert.deepEqual(d.mappingLines!.map((m) => m.line), [9, 10]);
  assert.equal(d.sources?.candidate?.class, 'PLinear');
  assert.equal(path.resolve(d.sources!.candidate!.file!), path.join(ws.dir, 'torch_vit_plinear.py'));
  assert.equal(r.report.backward?.pass, false);
  assert.ok(r.report.backward!.gradients.some((g) => g.candidate === 'blocks.0.attn.q.weight' && !g.pass));
});

test('refusals are one line: untrusted, an interpreter that is not there, a spec that is not FILE.py::NAME', async () => {
  const untrusted = await eager('untrusted', { trusted: false });
  assert.deepEqual(untrusted, { ok: false, message: 'eager mode runs your own model code: it is only available in a trusted workspace' });
  const noPython = await eager('no-python', { python: path.join(ws.dir, 'no-such-python') });
  assert.ok(!noPython.ok);
  assert.match(noPython.message, /^cannot run .*no-such-python \(not found: give --python PATH or set tensorport\.python\)/);
  assert.ok(!noPython.message.includes('\n'));
  const bad = await eager('bad-spec', { reference: 'eager/hf_style_vit.py' });
  assert.ok(!bad.ok && /expected FILE\.py::NAME/.test(bad.message), JSON.stringify(bad));
});

test('cancelling the request stops the probe and answers at once', { skip: py.skip }, async () => {
  const cts = new CancellationTokenSource();
  const t0 = Date.now();
  const pending = client.conn.sendRequest<ParityResult>('tensorport/parity', {
    id: 'cancel-run', kind: 'eager', request: { reference: 'eager/hf_style_vit.py::reference', candidate: 'eager/torch_port.py::candidate', weights: 'eager/vit_torch.tpmap', cwd: ws.dir, python: py.python, trusted: true },
  } satisfies ParityParams, cts.token);
  // Cancelled while the probe builds the models (its process is running).
  while (!progress.some((p) => p.id === 'cancel-run' && p.phase === 'loading')) await new Promise((r) => setTimeout(r, 20));
  cts.cancel();
  const r = await pending.catch((e: Error) => ({ ok: false as const, message: e.message }));
  assert.equal(r.ok, false);
  assert.match(r.message, /cancel/i);
  assert.ok(Date.now() - t0 < 60_000);
});

test('launcher, candidate weights and Save tensors: torchrun beside the interpreter runs two ranks on a converted checkpoint, and the module\'s pair is written', { skip: py.skip, timeout: 180_000 }, async () => {
  // The candidate's checkpoint converted through the right mapping, then block 0's q and k weights swapped in
  // the file (a q/k swap in a mapping is an error convert refuses): the run's mapping is the right one, so only
  // a candidate that really loads this file diverges.
  const converted = path.join(ws.dir, 'eager', 'converted.safetensors');
  const conv = await client.request<ConvertResult>('tensorport/convert', {
    id: 'conv', mapping: path.join(ws.dir, 'eager', 'vit_torch.tpmap'), output: converted, format: 'safetensors',
  } satisfies ConvertParams);
  assert.ok(conv.ok, JSON.stringify(conv));
  swapTensors(converted, 'blocks.0.attn.q.weight', 'blocks.0.attn.k.weight');
  const module = 'encoder.layer.0.attention.attention.query';
  const r = await eager('launcher-run', {
    candidateWeights: path.join(ws.dir, 'eager', 'converted.safetensors'), launcher: 'torchrun --standalone --nproc-per-node 2', saveTensors: [module],
  });
  assert.ok(r.ok, JSON.stringify(r));
  assert.equal(r.report.firstDivergence?.module, 'blocks.0.attn.q');
  assert.deepEqual(r.report.ranks?.map((k) => [k.rank, k.outputsPass, k.failing > 0]), [[0, false, true], [1, false, true]]);
  const saved = r.report.savedTensors!;
  assert.equal(saved.dir, path.join(realpathSync(ws.dir), 'tensorport-parity-tensors'));
  assert.deepEqual(saved.files.map((f) => [f.reference, f.candidate, f.shape.candidate]), [[module, 'blocks.0.attn.q', [2, 17, 32]]]);
  assert.ok(existsSync(saved.files[0].referenceFile) && existsSync(saved.files[0].candidateFile));
});

test('the new fields are checked by the server too: one line naming the field, before anything runs', async () => {
  const cases: [Partial<Extract<ParityParams, { kind: 'eager' }>['request']>, string][] = [
    [{ referenceWeights: ' ' }, '--reference-weights: expected a path'],
    [{ launcher: 'torchrun --nproc-per-node 2\nrm -rf ~' }, '--launcher: one command line (it has a line break)'],
    [{ saveTensors: [] }, '--save-tensors: expected MODULE[,MODULE…]'],
    [{ saveTensors: ['layernorm', ''] }, '--save-tensors: a module name is empty'],
    [{ saveDir: 'out' }, '--save-dir applies with --save-tensors MODULE[,MODULE…] only'],
  ];
  for (const [request, message] of cases) assert.deepEqual(await eager('bad-field', request), { ok: false, message });
});

/** Swaps two same-sized tensors' bytes in a safetensors file, in place. */
function swapTensors(file: string, a: string, b: string): void {
  const bytes = readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const [a0, a1] = header[a].data_offsets.map((x) => x + 8 + n);
  const [b0, b1] = header[b].data_offsets.map((x) => x + 8 + n);
  assert.equal(a1 - a0, b1 - b0);
  const tmp = Buffer.from(bytes.subarray(a0, a1));
  bytes.copy(bytes, a0, b0, b1);
  tmp.copy(bytes, b0);
  writeFileSync(file, bytes);
}
