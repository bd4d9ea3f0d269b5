/**
 * The seed's port of a CLIP text encoder through eager parity, as a porter runs it (issue 30): transformers'
 * CLIPTextModel saved by `save_pretrained` with weights of a trained network's scale
 * (test/fixtures/ports/eager/hf_clip_text, made by make_hf_clip_text.py) → PaddleNLP 2.8.1's own
 * `CLIPTextModel`, read in place from site-packages. `map` writes the mapping, `check` finds no error,
 * `convert` writes a .pdparams, and eager parity runs the real HF model against the real PaddleNLP class —
 * with the mapping's transforms, and with the converted file loaded by Paddle's `set_state_dict` — within
 * 1e-5 in float32, no hand edit. Then each planted bug (a wrong key, a missing square transpose, a cast
 * into the class, swapped norms) is an error of `check` on its own line and eager parity's headline.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { EagerParityRequest, ParityReport } from '../../server/src/parity/types';
import { CheckDiag, checkDiagnostics, runCli } from '../support/cli';
import { testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const py = testPython();
const skip = py.skip;
const EAGER = path.join(FIXTURES, 'ports', 'eager');
const CLIP_TEXT = `${path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'paddlenlp', 'transformers', 'clip', 'modeling.py')}::CLIPTextModel`;

/** PaddleNLP's `generation_config` comes from a call model-source inference does not follow: a warning naming it, no tensor there. */
const errorsAndWarnings = (ds: CheckDiag[]) => ds.filter((d) => d.severity !== 'information' && !(d.code === 'incomplete-model-source' && /`generation_config`/.test(d.message)));

const s = scratchDir('clip-text-eager');
const mapping = path.join(s.dir, 'port.tpmap');
let text = '';

function parity(req: Partial<EagerParityRequest>): Promise<ParityReport> {
  return runEagerParity({
    reference: 'hf_clip_text.py::reference', candidate: 'paddlenlp_clip_text.py::candidate', weights: mapping,
    python: py.python, cwd: EAGER, trusted: true, ...req,
  });
}

const lineOf = (t: string, needle: string) => t.split('\n').findIndex((l) => l.includes(needle)) + 1;

/** The mapping `map` wrote with one edit, as a planted bug: the edited file and the line the edit is on. */
function plant(name: string, from: string | RegExp, to: string, needle: string): { file: string; line: number } {
  const edited = text.replace(from, to);
  assert.notEqual(edited, text, `${name} was planted`);
  const file = path.join(s.dir, `${name}.tpmap`);
  writeFileSync(file, edited);
  return { file, line: lineOf(edited, needle) };
}

test('map → check → convert onto PaddleNLP\'s CLIPTextModel with no hand edit; eager parity against transformers\' CLIPTextModel passes within 1e-5, from the mapping and from the converted file', { skip }, async () => {
  const r = runCli(['map', path.join(EAGER, 'hf_clip_text', 'model.safetensors'), CLIP_TEXT, '-o', mapping]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /36 target tensors mapped \(0 with low confidence\), 0 source tensors dropped, 0 target tensors unmapped/);
  text = readFileSync(mapping, 'utf8');
  assert.deepEqual(errorsAndWarnings(checkDiagnostics(mapping)), []);
  const out = path.join(s.dir, 'port.pdparams');
  const c = runCli(['convert', mapping, '-o', out]);
  assert.equal(c.code, 0, c.err);

  const viaMapping = await parity({});
  assert.equal(viaMapping.pass, true, JSON.stringify(viaMapping.firstDivergence));
  assert.deepEqual(viaMapping.outputs.map((o) => o.name), ['last_hidden_state', 'pooler_output']);
  for (const o of viaMapping.outputs) assert.ok(o.maxAbsDiff <= 1e-5, `${o.name}: max |Δ| ${o.maxAbsDiff}`);
  assert.equal(viaMapping.firstDivergence, null);
  assert.ok(viaMapping.layers!.length >= 20 && viaMapping.layers!.every((l) => l.pass));
  const pos = viaMapping.layers!.find((l) => l.reference === 'embeddings.position_embedding')!;
  assert.equal(pos.candidate, 'text_model.positional_embedding');

  // The file convert wrote, as Paddle's set_state_dict loads it; the reference from its save_pretrained folder.
  const viaFile = await parity({ weights: undefined, candidateWeights: out, referenceWeights: 'hf_clip_text' });
  assert.equal(viaFile.pass, true, JSON.stringify(viaFile.firstDivergence));
  for (const o of viaFile.outputs) assert.ok(o.maxAbsDiff <= 1e-5, `${o.name}: max |Δ| ${o.maxAbsDiff}`);
});

const BUGS: { name: string; from: string | RegExp; to: string; needle: string; code: string; module: RegExp }[] = [
  { name: 'missing-transpose', from: /(self_attn\.out_proj\.weight) \| transpose/, to: '$1', needle: 'self_attn.out_proj.weight', code: 'missing-transpose',
    module: /^text_model\.transformer\.layers\.0\.self_attn\.out_proj$/ },
  { name: 'cast', from: /(-> text_model\.transformer\.layers\.\{i\}\.linear1\.weight \| transpose)/, to: '$1 | cast(F16)', needle: 'cast(F16)', code: 'dtype-mismatch',
    module: /^text_model\.transformer\.layers\.0\.linear1$/ },
  { name: 'swapped-norms', from: /layers\.\{i\}\.norm1\.\*\n([^\n]*)layers\.\{i\}\.norm2\.\*/, to: 'layers.{i}.norm2.*\n$1layers.{i}.norm1.*', needle: 'layer_norm1.*', code: 'suspicious-pairing',
    module: /^text_model\.transformer\.layers\.0\.norm2$/ },
];

for (const bug of BUGS) {
  test(`planted ${bug.name}: an error of check on its own line, and eager parity's headline at its module with that line`, { skip }, async () => {
    assert.ok(text, 'the mapping of the first test');
    const { file, line } = plant(bug.name, bug.from, bug.to, bug.needle);
    const errors = checkDiagnostics(file).filter((d) => d.severity === 'error');
    assert.ok(errors.some((d) => d.line === line && d.code === bug.code), `${bug.code} on line ${line}: ${JSON.stringify(errors)}`);
    assert.ok(errors.every((d) => d.code === bug.code), JSON.stringify(errors));
    const r = await parity({ weights: file });
    assert.equal(r.pass, false);
    const d = r.firstDivergence!;
    assert.match(d.module!, bug.module);
    assert.ok(d.mappingLines!.some((m) => m.line === line), `the headline cites line ${line}: ${JSON.stringify(d.mappingLines)}`);
    assert.ok(d.maxAbsDiff > 1e-5, `above the tolerance: ${d.maxAbsDiff}`);
  });
}

test('planted wrong key: check\'s error on its line; eager parity refuses in one line naming the tensors no rule gives a value, then the line check blames first', { skip }, async () => {
  assert.ok(text, 'the mapping of the first test');
  const { file, line } = plant('wrong-key', 'encoder.layers.{i}.mlp.fc2.bias ', 'encoder.layers.{i}.mlp.fc2.bais ', 'fc2.bais');
  const errors = checkDiagnostics(file).filter((d) => d.severity === 'error');
  assert.ok(errors.some((d) => d.line === line && d.code === 'unknown-source-key'), JSON.stringify(errors));
  await assert.rejects(parity({ weights: file }), (e: Error) => {
    const lines = e.message.split('\n');
    assert.equal(lines.length, 2, e.message);
    assert.match(lines[0], /^2 of the candidate's tensors get no value from the mapping .*: text_model\.transformer\.layers\.0\.linear2\.bias, text_model\.transformer\.layers\.1\.linear2\.bias$/);
    // The rule's own error first, before the unmapped targets it leaves (which only repeat the refusal).
    assert.match(lines[1], new RegExp(`^the mapping check reports \\d+ errors: line ${line}: unknown-source-key: \`encoder\\.layers\\.\\{i\\}\\.mlp\\.fc2\\.bais\` matches no key`));
    return true;
  });
});
