/**
 * Full tensors on request (`--save-tensors`), with the real torch 2.13 of the Python test environment:
 * the CLI on the PyTorch ViT fixtures (test/fixtures/ports/eager/) with a planted missing transpose writes
 * both sides of the asked module as .npy files that NumPy loads and that are the very tensors the report
 * summarised; a module name chosen by hostile model code cannot leave the folder, and a link planted at a
 * file's name is replaced, not written through. The flag's refusals need no Python.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const py = testPython();
const skip = py.skip;
const tmp = scratchDir('eager-save');
for (const f of ['eager', 'vit_tiny', 'torch_vit_plinear.py']) cpSync(path.join(FIXTURES, 'ports', f), path.join(tmp.dir, f), { recursive: true });
const E = path.join(tmp.dir, 'eager');
const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, 'parity', ...args], { cwd: E, encoding: 'utf8', timeout: 120_000 });

test('--save-tensors writes both sides of the module as .npy: NumPy loads them and they are the tensors the report summarised', { skip }, () => {
  const map = readFileSync(path.join(E, 'vit_torch.tpmap'), 'utf8');
  const fault = map.replace(/(attention\.query\.weight -> \S+) \| transpose/, '$1');
  assert.notEqual(fault, map);
  writeFileSync(path.join(E, 'no_transpose.tpmap'), fault);
  const module = 'encoder.layer.0.attention.attention.query';
  const r = cli('--reference', 'hf_style_vit.py::reference', '--candidate', 'torch_port.py::candidate', '--weights', 'no_transpose.tpmap', '--python', py.python!,
    '--save-tensors', `${module},no.such.module`, '--save-dir', 'saved', '--json');
  assert.equal(r.status, 1, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.firstDivergence.module, 'blocks.0.attn.q');
  const dir = realpathSync(path.join(E, 'saved'));
  assert.equal(doc.savedTensors.dir, dir);
  assert.deepEqual(doc.savedTensors.missing, ['no.such.module']);
  assert.match(doc.notes.join('\n'), /--save-tensors no\.such\.module: nothing saved, no reference module has that name/);
  assert.equal(doc.savedTensors.files.length, 1);
  const saved = doc.savedTensors.files[0];
  assert.deepEqual([saved.reference, saved.candidate], [module, 'blocks.0.attn.q']);
  assert.equal(saved.referenceFile, path.join(dir, `${module}.reference.npy`));
  assert.equal(saved.candidateFile, path.join(dir, `${module}.candidate.npy`));
  assert.deepEqual(readdirSync(dir).sort(), [`${module}.candidate.npy`, `${module}.reference.npy`]);
  const row = doc.layers.find((l: { reference: string }) => l.reference === module);
  const script = `
import json, sys
import numpy as np
r = np.load(sys.argv[1], allow_pickle=False)
c = np.load(sys.argv[2], allow_pickle=False)
at = json.loads(sys.argv[3])
d = np.abs(c.astype(np.float64) - r.astype(np.float64))
print(json.dumps({"shape": [list(r.shape), list(c.shape)], "dtype": [str(r.dtype), str(c.dtype)], "maxAbsDiff": float(d.max()),
  "worst": [int(i) for i in np.unravel_index(int(d.argmax()), d.shape)], "min": float(c.min()), "max": float(c.max()),
  "mean": float(c.astype(np.float64).mean()), "sample": [float(c.ravel()[i]) for i in at]}))`;
  const got = JSON.parse(runPython(py.python!, ['-c', script, saved.referenceFile, saved.candidateFile, JSON.stringify(row.summary.candidate.sampleAt)]));
  assert.deepEqual(got.shape, [row.shape, row.shape]);
  assert.deepEqual(got.dtype, ['float32', 'float32']);
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));
  assert.ok(got.maxAbsDiff > 0.1 && close(got.maxAbsDiff, row.maxAbsDiff), `saved ${got.maxAbsDiff}, reported ${row.maxAbsDiff}`);
  assert.deepEqual(got.worst, row.worstIndex);
  const s = row.summary.candidate;
  assert.ok(close(got.min, s.min) && close(got.max, s.max) && close(got.mean, s.mean), JSON.stringify({ got, s }));
  assert.deepEqual(got.sample, s.sample, 'the saved array holds the sample the report sent, element for element');
  // The text report names the folder and the files.
  const text = cli('--reference', 'hf_style_vit.py::reference', '--candidate', 'torch_port.py::candidate', '--weights', 'vit_torch.tpmap', '--python', py.python!, '--save-tensors', 'layernorm');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, new RegExp(`saved tensors \\(\\.npy, 1 pair\\) in ${realpathSync(E).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}/tensorport-parity-tensors\\n {2}layernorm ↔ norm: layernorm\\.reference\\.npy, layernorm\\.candidate\\.npy\\n`));
});

test('a module name from hostile model code stays in the folder, and a link planted at a file name is replaced, not followed', { skip }, async () => {
  const models = tmp.file('hostile_names.py', [
    'import torch',
    'from torch import nn',
    'class Tiny(nn.Module):',
    '    def __init__(self):',
    '        super().__init__()',
    '        self.fc = nn.Linear(4, 4)',
    '        self._modules["../../escape"] = nn.Linear(4, 4)  # a name add_module would refuse',
    '    def forward(self, x):',
    '        return self._modules["../../escape"](self.fc(x))',
    'def example_inputs():',
    '    return (torch.ones(2, 4),)',
  ].join('\n'));
  const dir = path.join(tmp.dir, 'hostile', 'out', 'deep');
  mkdirSync(dir, { recursive: true });
  const victim = tmp.file('hostile/victim.txt', 'untouched');
  symlinkSync(victim, path.join(dir, 'fc.candidate.npy'));
  const spec = `${path.basename(models)}::Tiny`;
  const r = await runEagerParity({ reference: spec, candidate: spec, python: py.python, cwd: path.dirname(models), trusted: true, saveTensors: ['../../escape', 'fc'], saveDir: dir });
  assert.equal(r.pass, true);
  const real = realpathSync(dir);
  const files = r.savedTensors!.files.flatMap((f) => [f.referenceFile, f.candidateFile]);
  assert.equal(files.length, 4);
  for (const f of files) assert.equal(path.dirname(f), real, f);
  const names = readdirSync(dir).sort();
  assert.equal(names.length, 4, names.join(', '));
  assert.ok(names.some((n) => /^_\.\._escape-[0-9a-f]{8}\.reference\.npy$/.test(n)), names.join(', '));
  assert.ok(!existsSync(path.join(tmp.dir, 'hostile', 'escape.reference.npy')) && !existsSync(path.join(tmp.dir, 'escape.reference.npy')));
  assert.equal(readFileSync(victim, 'utf8'), 'untouched');
  assert.ok(lstatSync(path.join(dir, 'fc.candidate.npy')).isFile(), 'the link was replaced by the file');
});

test('--save-tensors and --save-dir refusals are one line, before anything runs', () => {
  const onnx = cli('--reference', 'a.onnx', '--candidate', 'b.onnx', '--save-tensors', 'x');
  assert.equal(onnx.status, 2);
  assert.equal(onnx.stderr, 'tensorport: --save-tensors applies to eager mode only (--reference FILE.py::NAME --candidate FILE.py::NAME)\n');
  const dirOnly = cli('--reference', 'hf_style_vit.py::reference', '--candidate', 'torch_port.py::candidate', '--save-dir', 'out');
  assert.equal(dirOnly.status, 2);
  assert.equal(dirOnly.stderr, 'tensorport: --save-dir applies with --save-tensors only\n');
  const empty = cli('--reference', 'hf_style_vit.py::reference', '--candidate', 'torch_port.py::candidate', '--save-tensors', 'layernorm,,norm');
  assert.equal(empty.status, 2);
  assert.equal(empty.stderr, 'tensorport: --save-tensors: a module name is empty\n');
});
