/**
 * Editor features as plain functions of the core (completion, hover, code actions, outline), asked at
 * markers in a tpmap text (test/support/fourslash.ts) against the worked example's real checkpoints:
 * HF BERT (torch, [out, in]) → PaddleNLP BERT (Paddle, [in, out]). The server tests keep a few of these
 * end to end; here each feature's answers are pinned down fast, one case at a time.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { codeActionsAt } from '../../server/src/mapping/codeActions';
import { completeAt } from '../../server/src/mapping/completion';
import { hoverAt } from '../../server/src/mapping/hover';
import { outline } from '../../server/src/mapping/symbols';
import { fourslash } from '../support/fourslash';
import { EXAMPLES } from '../support/tmp';

const DIR = path.join(EXAMPLES, 'bert-to-paddlenlp');
const HEAD = 'source hf_bert_tiny.safetensors\ntarget paddlenlp_bert_tiny.pdparams\n\n';
const complete = (f: Awaited<ReturnType<typeof fourslash>>, marker: string) =>
  completeAt(f.file, f.at(marker), { sides: f.sides, mappingPath: path.join(DIR, 'fourslash.tpmap'), files: [], classesOf: () => [] }).items;

test('completion, left of ->: source keys under the typed prefix, folded over layers, with dtype and shape', async () => {
  const f = await fourslash(`${HEAD}bert.encoder.layer./*a*/\n`, DIR);
  const q = complete(f, 'a').find((i) => i.label === 'bert.encoder.layer.{i}.attention.self.query.weight');
  assert.ok(q);
  assert.equal(q!.detail, 'F32 [16, 16] × 2');
});

test('completion, right of ->: the target key whose role and shape fit ranks first', async () => {
  const f = await fourslash(`${HEAD}bert.encoder.layer.{i}.intermediate.dense.weight -> /*b*/\n`, DIR);
  const items = [...complete(f, 'b')].sort((x, y) => (x.sortText ?? x.label).localeCompare(y.sortText ?? y.label));
  assert.equal(items[0].label, 'bert.encoder.layers.{i}.linear1.weight');
});

test('completion after |: the transforms; inside cast( the dtypes', async () => {
  const f = await fourslash(`${HEAD}bert.pooler.dense.bias -> bert.pooler.dense.bias | /*t*/\nbert.pooler.dense.bias -> bert.pooler.dense.bias | cast(/*d*/\n`, DIR);
  assert.deepEqual(complete(f, 't').map((i) => i.label).sort(), ['cast', 'cat', 'chunk', 'permute', 'reshape', 'squeeze', 'transpose', 'unsqueeze']);
  assert.ok(complete(f, 'd').some((i) => i.label === 'BF16'));
});

test('hover on a rule shows each shape through its transforms against the target', async () => {
  const f = await fourslash(`${HEAD}bert.encoder.layer.{i}.attention.self.key.weight -> bert.encoder.layers.{i}.self_attn.k_proj.weight | /*x*/transpose\nbe/*k*/rt.encoder.layer.{i}.attention.self.key.weight -> bert.encoder.layers.{i}.self_attn.k_proj.weight | transpose\n`, DIR);
  assert.match(hoverAt(f.file, f.at('x'), f.sides)!.markdown, /Swaps the two dimensions/);
  assert.match(hoverAt(f.file, f.at('k'), f.sides)!.markdown, /F32 \[16, 16\] → transpose → F32 \[16, 16\] — target `bert\.encoder\.layers\.0\.self_attn\.k_proj\.weight` F32 \[16, 16\] ✓/);
});

test('code action on a square Linear weight without a transpose: `Add | transpose`, preferred', async () => {
  const f = await fourslash(`${HEAD}/*s*/bert.encoder.layer.{i}.attention.self.query.weight -> bert.encoder.layers.{i}.self_attn.q_proj.weight/*e*/\n`, DIR);
  const d = f.analysis.diagnostics.find((x) => x.code === 'missing-transpose');
  assert.ok(d, f.analysis.diagnostics.map((x) => x.code).join(', '));
  const actions = codeActionsAt(f.file, f.analysis, { start: f.at('s'), end: f.at('e') }, f.sides);
  const fix = actions.find((a) => a.title === 'Add `| transpose`');
  assert.ok(fix?.preferred, actions.map((a) => a.title).join(', '));
  assert.deepEqual(fix!.edits.map((e) => e.newText), [' | transpose']);
});

test('code action on a typo: the closest real key', async () => {
  const f = await fourslash(`${HEAD}/*s*/bert.pooler.dense.wieght -> bert.pooler.dense.weight | transpose/*e*/\n`, DIR);
  const actions = codeActionsAt(f.file, f.analysis, { start: f.at('s'), end: f.at('e') }, f.sides);
  assert.ok(actions.some((a) => a.edits.some((e) => e.newText === 'bert.pooler.dense.weight')), actions.map((a) => a.title).join(', '));
});

test('outline: directives, then rules grouped by block', async () => {
  const f = await fourslash(`${HEAD}bert.encoder.layer.{i}.attention.self.query.weight -> bert.encoder.layers.{i}.self_attn.q_proj.weight | transpose\nbert.encoder.layer.{i}.attention.self.key.weight -> bert.encoder.layers.{i}.self_attn.k_proj.weight | transpose\nbert.pooler.dense.bias -> bert.pooler.dense.bias\n`, DIR);
  const o = outline(f.file);
  assert.deepEqual(o.map((s) => s.kind), ['directive', 'directive', 'block', 'block']);
  assert.equal(o[2].name, 'bert.encoder.layer.{i}');
  assert.equal(o[2].children.length, 2);
});
