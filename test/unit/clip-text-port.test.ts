/**
 * The seed's port end to end on a second family (issue 30): a CLIP text encoder saved by transformers'
 * `save_pretrained` (test/fixtures/ports/make_ports.py) mapped onto PaddleNLP 2.8.1's own `CLIPTextModel`,
 * read in place from site-packages — `map` pairs its `position_embedding` with PaddleNLP's
 * `positional_embedding`, `check` finds no error, `convert` writes a .pdparams that Paddle loads with no
 * missing or unexpected key and that computes what the HF model computes (≤ 1e-5 in float32). The same
 * tensors saved by `safetensors.torch.save_file` (no `format` in the metadata, no config.json beside
 * them) get their layout from evidence, said as a note; where no evidence decides, check asks for the
 * `framework` line.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckDiag, checkDiagnostics, runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';

const PORTS = path.join(FIXTURES, 'ports');
const CLIP_TEXT = `${path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'paddlenlp', 'transformers', 'clip', 'modeling.py')}::CLIPTextModel`;
const env = testPython();

type Diag = CheckDiag;
const check = checkDiagnostics;

/**
 * PaddleNLP's PretrainedModel sets `generation_config` from a call into its generation package, which
 * model-source inference does not follow: a warning on the target line that names it (no tensor lives there).
 */
const generationConfigOnly = (ds: Diag[]) => ds.filter((d) => !(d.code === 'incomplete-model-source' && /`generation_config`/.test(d.message)));

/** map → check → convert → Paddle loads it and compares with HF; returns the mapping's text and check's diagnostics. */
function portClipText(checkpoint: string): { text: string; ds: Diag[] } {
  const s = scratchDir('clip-text');
  const mapping = path.join(s.dir, 'port.tpmap');
  const r = runCli(['map', path.join(PORTS, checkpoint, 'model.safetensors'), CLIP_TEXT, '-o', mapping]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /36 target tensors mapped \(0 with low confidence\), 0 source tensors dropped, 0 target tensors unmapped/);
  const text = readFileSync(mapping, 'utf8');
  assert.match(text, /^embeddings\.position_embedding\.weight +-> text_model\.positional_embedding\.weight$/m);
  const ds = check(mapping);
  assert.deepEqual(ds.filter((d) => d.severity === 'error'), []);
  if (!env.skip) {
    const out = path.join(s.dir, 'port.pdparams');
    const c = runCli(['convert', mapping, '-o', out]);
    assert.equal(c.code, 0, c.err);
    const result = JSON.parse(runPython(env.python!, [path.join(PORTS, 'run_port.py'), path.join(PORTS, 'clip_text_tiny'), CLIP_TEXT, mapping, out]).trim().split('\n').pop()!) as
      { missing: string[]; unexpected: string[]; maxAbs: number };
    assert.deepEqual(result.missing, []);
    assert.deepEqual(result.unexpected, []);
    assert.ok(result.maxAbs <= 1e-5, `the port computes what HF computes in float32 (max |Δ| ${result.maxAbs})`);
  }
  return { text, ds };
}

test('HF CLIP text (save_pretrained) → PaddleNLP CLIPTextModel: map pairs every tensor, check finds no error, convert, Paddle matches HF ≤ 1e-5', () => {
  const { text, ds } = portClipText('clip_text_tiny');
  assert.match(text, /-> text_model\.transformer\.layers\.\{i\}\.self_attn\.q_proj\.weight \| transpose$/m);
  assert.doesNotMatch(text, /does not say its framework/, 'save_pretrained writes `format: pt`: nothing to infer');
  assert.deepEqual(generationConfigOnly(ds), []);
});

test('the same tensors by safetensors.torch.save_file (no format, no config.json): the layout comes from the biases, said as a note; the square transposes are there', () => {
  const { text, ds } = portClipText('clip_text_bare');
  assert.match(text, /^# The source file does not say its framework: read as torch \(\[out, in\] Linear weights\) because its Linear weights are stored \[out, in\]: `encoder\.layers\.0\.mlp\.fc1\.bias` has 64 values, the first dimension of `encoder\.layers\.0\.mlp\.fc1\.weight` \[64, 32\] \(and 3 more agree\)\.$/m);
  for (const m of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) assert.match(text, new RegExp(`-> text_model\\.transformer\\.layers\\.\\{i\\}\\.self_attn\\.${m}\\.weight \\| transpose$`, 'm'));
  assert.match(text, /^set intermediate_size = 64 /m);
  assert.deepEqual(generationConfigOnly(ds).map((d) => [d.line, d.severity, d.code]), [[2, 'information', 'framework-inferred']]);
  assert.match(ds[0].message, /^source `.*clip_text_bare\/model\.safetensors` does not say its framework; read as torch \(\[out, in\] Linear weights\) because its Linear weights are stored \[out, in\]/);
});

/** A folder with a bare square, bias-less q weight and a Paddle class whose Linear is [in, out]. */
function squarePort(config?: object): string {
  const s = scratchDir('clip-bare-square');
  s.file('q.safetensors', safetensorsBytes({ 'layers.0.self_attn.q_proj.weight': { dtype: 'F32', shape: [8, 8], data_offsets: [0, 256] } }, 256));
  if (config) s.file('config.json', JSON.stringify(config));
  s.file('port.py', ['import paddle.nn as nn', '', 'class Port(nn.Layer):', '    def __init__(self):', '        super().__init__()',
    '        self.q_proj = nn.Linear(8, 8, bias_attr=False)', ''].join('\n'));
  return s.file('port.tpmap', 'source q.safetensors\ntarget port.py::Port\nlayers.0.self_attn.q_proj.weight -> q_proj.weight\n');
}

test('a bare checkpoint nothing decides (square weights, no bias, no config.json): a warning asks for the framework line; with it the missing transpose is found', () => {
  const mapping = squarePort();
  const ds = check(mapping);
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [[1, 'warning', 'framework-unknown']]);
  assert.match(ds[0].message, /^source `q\.safetensors` does not say its framework and nothing else does .*: its Linear weights' transposes cannot be checked; add `framework source torch` for \[out, in\] weights \(torch, MLX\) or `framework source paddle` for \[in, out\] \(Paddle, JAX\)$/);
  const text = readFileSync(mapping, 'utf8');
  const declared = `${mapping}.torch.tpmap`;
  writeFileSync(declared, text.replace('target port.py::Port\n', 'target port.py::Port\nframework source torch\n'));
  assert.deepEqual(check(declared).map((d) => [d.line, d.code]), [[4, 'missing-transpose']]);
});

test('a config.json beside a bare checkpoint saying `transformers_version` decides torch, with that as the note', () => {
  const ds = check(squarePort({ architectures: ['CLIPTextModel'], transformers_version: '5.24.0' }));
  assert.deepEqual(ds.map((d) => [d.line, d.severity, d.code]), [[1, 'information', 'framework-inferred'], [3, 'error', 'missing-transpose']]);
  assert.match(ds[0].message, /read as torch \(\[out, in\] Linear weights\) because config\.json beside it has `transformers_version` 5\.24\.0$/);
});
