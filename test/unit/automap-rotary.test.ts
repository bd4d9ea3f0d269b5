/**
 * LLaMA HF ↔ Meta: the auto-mapper pairs q_proj with wq by role, and with the head count beside a
 * checkpoint adds the rotary row permutation — so converting with the proposed mapping gives back the
 * other layout's tensors byte for byte (fixtures permuted as HF's conversion script does). llama.cpp's
 * GGUF (Meta's row order, its own names, the head count in its metadata) pairs the same way.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { generateMapping, generateMappingFile } from '../../server/src/mapping/automap/generate';
import { checkMappingFile } from '../../server/src/mapping/checkFile';
import { convertMapping } from '../../server/src/mapping/convert/convertMapping';
import { assertSameTensors } from '../support/tensorBytes';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'rotary');
const HF = path.join(DIR, 'hf', 'model.safetensors');
const META = path.join(DIR, 'meta', 'consolidated.00.pth');
const GGUF = path.join(DIR, 'gguf', 'model.gguf');
const tmp = scratchDir('rotary');


for (const [name, source, target] of [['HF → Meta', HF, META], ['Meta → HF', META, HF]] as const) {
  test(`${name}: the proposed mapping converts to the other layout byte for byte`, async () => {
    const mapping = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.tpmap`);
    const g = await generateMappingFile(source, target, mapping);
    assert.match(g.text, /self_attn\.q_proj\.weight.*\| reshape\(2, \d, \d, 16\) \| permute\(0, 2, 1, 3\) \| reshape\(16, 16\)/);
    assert.match(g.text, /k_proj\.weight.*\| reshape\(1, \d, \d, 16\) \| permute\(0, 2, 1, 3\) \| reshape\(8, 16\)/);
    const out = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.safetensors`);
    await convertMapping(mapping, out);
    await assertSameTensors(out, target);
  });
}

// llama.cpp's GGUF keeps Meta's interleaved rows: HF ↔ GGUF needs the permutation, Meta ↔ GGUF none.
for (const [name, source, target, permuted] of [['HF → GGUF', HF, GGUF, true], ['GGUF → HF', GGUF, HF, true], ['Meta → GGUF', META, GGUF, false]] as const) {
  test(`${name}: llama.cpp's names pair by role and the proposed mapping converts byte for byte`, async () => {
    const mapping = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.tpmap`);
    const g = await generateMappingFile(source, target, mapping);
    assert.equal(g.proposal.unmappedTarget.length, 0, g.text);
    assert.equal(g.proposal.rules.every((r) => r.confidence >= 0.8), true, g.text);
    assert.equal(/permute\(0, 2, 1, 3\)/.test(g.text), permuted, g.text);
    const out = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.safetensors`);
    await convertMapping(mapping, out);
    await assertSameTensors(out, target);
  });
}

test('a GGUF states its own head count: GGUF → HF needs no config.json', async () => {
  copyFileSync(GGUF, path.join(tmp.dir, 'model.gguf'));
  copyFileSync(HF, path.join(tmp.dir, 'hf.safetensors'));
  const g = await generateMapping(path.join(tmp.dir, 'model.gguf'), path.join(tmp.dir, 'hf.safetensors'));
  assert.match(g.text, /blk\.\{i\}\.attn_k\.weight +-> model\.layers\.\{i\}\.self_attn\.k_proj\.weight \| reshape\(1, 4, 2, 16\) \| permute\(0, 2, 1, 3\) \| reshape\(8, 16\) {2}# rotary permutation of LLaMA's k rows \(1 head, from model\.gguf metadata\)/);
});

test('a config.json that is not an object (`null`) counts as none: the pairing stays, marked as needing the head count', async () => {
  const dir = path.join(tmp.dir, 'nullconfig');
  mkdirSync(dir, { recursive: true });
  copyFileSync(HF, path.join(dir, 'model.safetensors'));
  writeFileSync(path.join(dir, 'config.json'), 'null');
  copyFileSync(META, path.join(dir, 'consolidated.00.pth'));
  const g = await generateMapping(path.join(dir, 'model.safetensors'), path.join(dir, 'consolidated.00.pth'));
  assert.match(g.text, /wq\.weight.*# low confidence \(0\.50\); LLaMA q\/k rows need the rotary permutation/);
});

test('without config.json or params.json the pairing stays, marked as needing the head count', async () => {
  copyFileSync(HF, path.join(tmp.dir, 'model.safetensors'));
  copyFileSync(META, path.join(tmp.dir, 'consolidated.00.pth'));
  const g = await generateMapping(path.join(tmp.dir, 'model.safetensors'), path.join(tmp.dir, 'consolidated.00.pth'));
  const q = g.proposal.rules.find((r) => r.target === 'layers.0.attention.wq.weight')!;
  assert.deepEqual(q.sources, ['model.layers.0.self_attn.q_proj.weight']);
  assert.ok(q.confidence < 0.8);
  assert.match(g.text, /wq\.weight.*# low confidence \(0\.50\); LLaMA q\/k rows need the rotary permutation: put config\.json \(HF\) or params\.json \(Meta\)/);
});

test('a hand-written HF → Meta mapping without the permutation is flagged on q and k, and its quick fixes convert right', async () => {
  const g = await generateMapping(HF, META);
  // The auto-mapper's own rules, the permutation taken out again: what a hand-written port looks like.
  let text = g.text.replace(/ \| reshape\([^)]*\) \| permute\(0, 2, 1, 3\) \| reshape\([^)]*\)/g, '').replace(/ {2}# rotary permutation[^\n]*/g, '')
    .replace(/^source .*$/m, `source ${HF}`).replace(/^target .*$/m, `target ${META}`);
  const file = path.join(tmp.dir, 'hand.tpmap');
  const index = new CheckpointIndex();
  const check = async () => {
    writeFileSync(file, text);
    return (await checkMappingFile(file, index)).analysis.diagnostics;
  };
  const flagged = (await check()).filter((d) => d.code === 'suspicious-pairing');
  assert.equal(flagged.length, 2, JSON.stringify(flagged.map((d) => d.message)));
  assert.match(flagged[0].message, /`model\.layers\.0\.self_attn\.q_proj\.weight` → `layers\.0\.attention\.wq\.weight`: LLaMA's q rows need the rotary permutation \(HF orders them for rotate_half, the target interleaves them\); without it every shape fits and the attention is scrambled: add `reshape\(2, 2, 4, 16\) \| permute\(0, 2, 1, 3\) \| reshape\(16, 16\)` \(hf\/config\.json\)/);
  for (const d of [...flagged].sort((a, b) => b.start - a.start)) {
    const e = d.fixes![0].edits[0];
    text = text.slice(0, e.start) + e.newText + text.slice(e.end);
  }
  assert.deepEqual((await check()).filter((d) => d.severity !== 'information'), []);
  const out = path.join(tmp.dir, 'hand.pth.safetensors');
  await convertMapping(file, out);
  await assertSameTensors(out, META);
});