/**
 * LLaMA HF ↔ Meta: the auto-mapper pairs q_proj with wq by role, and with the head count beside a
 * checkpoint adds the rotary row permutation — so converting with the proposed mapping gives back the
 * other layout's tensors byte for byte (fixtures permuted as HF's conversion script does).
 */
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { generateMapping, generateMappingFile } from '../../server/src/mapping/automap/generate';
import { convertMapping } from '../../server/src/mapping/convert/convertMapping';
import { assertSameTensors } from '../support/tensorBytes';
import { FIXTURES, scratchDir } from '../support/tmp';

const DIR = path.join(FIXTURES, 'rotary');
const HF = path.join(DIR, 'hf', 'model.safetensors');
const META = path.join(DIR, 'meta', 'consolidated.00.pth');
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

test('without config.json or params.json the pairing stays, marked as needing the head count', async () => {
  copyFileSync(HF, path.join(tmp.dir, 'model.safetensors'));
  copyFileSync(META, path.join(tmp.dir, 'consolidated.00.pth'));
  const g = await generateMapping(path.join(tmp.dir, 'model.safetensors'), path.join(tmp.dir, 'consolidated.00.pth'));
  const q = g.proposal.rules.find((r) => r.target === 'layers.0.attention.wq.weight')!;
  assert.deepEqual(q.sources, ['model.layers.0.self_attn.q_proj.weight']);
  assert.ok(q.confidence < 0.8);
  assert.match(g.text, /wq\.weight.*# low confidence \(0\.50\); LLaMA q\/k rows need the rotary permutation: put config\.json \(HF\) or params\.json \(Meta\)/);
});
