/**
 * Convolution weights between layout conventions: torch [out, in, kh, kw] → MLX [out, kh, kw, in]. The
 * auto-mapper writes the permute from the sides' conventions — also for a 3×3 convolution over 3
 * channels, whose shape is the same in both — and converting gives MLX's tensors byte for byte; a rule
 * without the permute is `missing-transpose` with the permute as the fix.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { generateMappingFile } from '../../server/src/mapping/automap/generate';
import { checkMappingFile } from '../../server/src/mapping/checkFile';
import { convertMapping } from '../../server/src/mapping/convert/convertMapping';
import { convLayout, convPermutation } from '../../server/src/mapping/layout';
import { assertSameTensors } from '../support/tensorBytes';
import { FIXTURES, scratchDir } from '../support/tmp';

const TORCH = path.join(FIXTURES, 'conv', 'torch.safetensors');
const MLX = path.join(FIXTURES, 'conv', 'mlx.safetensors');
const tmp = scratchDir('conv');

test('layouts by framework, and the permutations between them', () => {
  const t = (key: string, shape: number[]) => ({ key, dtype: 'F32', shape });
  assert.equal(convLayout(t('stem.weight', [8, 3, 3, 3]), 'torch'), 'OIHW');
  assert.equal(convLayout(t('stem.weight', [8, 3, 3, 3]), 'mlx'), 'OHWI');
  assert.equal(convLayout(t('Conv_0.kernel', [3, 3, 3, 8]), undefined), 'HWIO');
  assert.equal(convLayout(t('temporal.weight', [6, 4, 3]), 'mlx'), 'OWI');
  assert.equal(convLayout(t('stem.bias', [8]), 'torch'), undefined);
  assert.equal(convLayout(t('blocks.0.norm.weight', [8, 3, 3, 3]), 'torch'), undefined);
  assert.equal(convLayout(t('stem.weight', [8, 3, 3, 3]), undefined), undefined, 'a side that does not say has no convention');
  assert.equal(convLayout(t('switch_mlp.gate_proj.weight', [8, 1024, 512]), 'mlx'), undefined, 'stacked MoE experts are no 1-D convolution');
  assert.equal(convLayout(t('experts.w1.weight', [8, 1024, 512]), 'torch'), undefined);
  assert.deepEqual(convPermutation('OIHW', 'OHWI'), [0, 2, 3, 1]);
  assert.deepEqual(convPermutation('OHWI', 'OIHW'), [0, 3, 1, 2]);
  assert.deepEqual(convPermutation('OIHW', 'HWIO'), [2, 3, 1, 0]);
  assert.deepEqual(convPermutation('OIW', 'OWI'), [0, 2, 1]);
});

for (const [name, source, target] of [['torch → MLX', TORCH, MLX], ['MLX → torch', MLX, TORCH]] as const) {
  test(`${name}: every convolution gets its permute, the square-shaped stem too, and the conversion is byte for byte`, async () => {
    const mapping = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.tpmap`);
    const g = await generateMappingFile(source, target, mapping);
    assert.equal(g.proposal.unmappedTarget.length, 0, g.text);
    const perm = source === TORCH ? 'permute(0, 2, 3, 1)' : 'permute(0, 3, 1, 2)';
    assert.match(g.text, new RegExp(`^stem\\.weight +-> stem\\.weight \\| ${perm.replace(/[()]/g, '\\$&')}$`, 'm'));
    assert.match(g.text, /^temporal\.weight +-> temporal\.weight \| permute\(0, 2, 1\)$/m);
    assert.match(g.text, /^head\.\* +-> head\.\*$/m, 'MLX Linear is [out, in] like torch: no transpose');
    const out = path.join(tmp.dir, `${name.replace(/\W+/g, '_')}.safetensors`);
    await convertMapping(mapping, out);
    await assertSameTensors(out, target);
  });
}

test('a rule without the permute is missing-transpose — on the stem too, where the shapes agree — and the fixes convert right', async () => {
  let text = `source ${TORCH}\ntarget ${MLX}\n${['stem', 'conv', 'temporal', 'head'].map((m) => `${m}.weight -> ${m}.weight\n${m}.bias -> ${m}.bias`).join('\n')}\n`;
  const file = path.join(tmp.dir, 'hand.tpmap');
  const index = new CheckpointIndex();
  const check = async () => {
    tmp.file('hand.tpmap', text);
    return (await checkMappingFile(file, index)).analysis.diagnostics.filter((d) => d.severity !== 'information');
  };
  const ds = await check();
  assert.deepEqual(ds.map((d) => d.code), ['missing-transpose', 'missing-transpose', 'missing-transpose']);
  assert.equal(ds[0].message, 'torch stores this convolution as [out, in, kh, kw], mlx as [out, kh, kw, in]: add `| permute(0, 2, 3, 1)` (the shape [8, 3, 3, 3] is the same in both layouts and hides it)');
  assert.equal(ds[2].message, 'torch stores this convolution as [out, in, k], mlx as [out, k, in]: add `| permute(0, 2, 1)`');
  for (const d of [...ds].sort((a, b) => b.start - a.start)) {
    const e = d.fixes![0].edits[0];
    text = text.slice(0, e.start) + e.newText + text.slice(e.end);
  }
  assert.deepEqual(await check(), []);
  const out = path.join(tmp.dir, 'hand.safetensors');
  await convertMapping(file, out);
  await assertSameTensors(out, MLX);
});

test('a Flax `kernel` [kh, kw, in, out] in a torch-saved checkpoint against torch: the message names why each side is as it is, not "torch … torch"', async () => {
  const { safetensorsBytes } = await import('../support/tmp');
  tmp.file('flax.safetensors', safetensorsBytes({ __metadata__: { format: 'pt' }, 'stem.kernel': { dtype: 'F32', shape: [3, 3, 3, 3], data_offsets: [0, 324] } }, 324));
  tmp.file('torch_stem.safetensors', safetensorsBytes({ __metadata__: { format: 'pt' }, 'stem.weight': { dtype: 'F32', shape: [3, 3, 3, 3], data_offsets: [0, 324] } }, 324));
  const file = tmp.file('flax.tpmap', `source ${path.join(tmp.dir, 'flax.safetensors')}\ntarget ${path.join(tmp.dir, 'torch_stem.safetensors')}\nstem.kernel -> stem.weight\n`);
  const ds = (await checkMappingFile(file, new CheckpointIndex())).analysis.diagnostics.filter((d) => d.code === 'missing-transpose');
  assert.equal(ds.length, 1);
  assert.equal(ds[0].message, 'the source stores this convolution as [kh, kw, in, out] (a Flax kernel), the target as [out, in, kh, kw] (torch): add `| permute(3, 2, 0, 1)` (the shape [3, 3, 3, 3] is the same in both layouts and hides it)');
  assert.doesNotMatch(ds[0].message, /torch stores .* torch as/);
});
