/**
 * The auto-mapper on real checkpoints made by torch (test/fixtures/gen/automap_models.py): every pairing
 * of expected.json must be proposed exactly right — sources, order of fused sources, transforms — and
 * the written `.tpmap` must check clean with the analysis, apart from target tensors that genuinely
 * have no source. Also: the Hungarian algorithm against brute force, the squeeze steps against the
 * analysis' own transform semantics, low confidence, and stacks with different layer counts.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { analyzeMapping } from '../../server/src/mapping/analyze';
import { squeezeOps } from '../../server/src/mapping/automap/fit';
import { hungarian, maxWeightMatching } from '../../server/src/mapping/automap/hungarian';
import { MappingProposal, proposeMapping } from '../../server/src/mapping/automap/propose';
import { writeTpmap } from '../../server/src/mapping/automap/write';
import { MappingDiagnostic } from '../../server/src/mapping/diagnostics';
import { parseMapping } from '../../server/src/mapping/parse';
import { loadSides } from '../../server/src/mapping/sides';
import { SideData } from '../../server/src/mapping/sideData';
import { applyTransform } from '../../server/src/mapping/transforms';
import { FIXTURES, safetensorsBytes, scratchDir } from '../support/tmp';
import { rng } from '../support/rng';

const DIR = path.join(FIXTURES, 'automap');
const index = new CheckpointIndex();
const tmp = scratchDir('automap');

interface Expected {
  source: string;
  target: string;
  rules: Record<string, { sources: string[]; transforms: string[][] }>;
  unmappedSource: string[];
  unmappedTarget: string[];
}

/** Both sides as the analysis loads them: through `source`/`target` lines of a mapping at `mappingPath`. */
async function sides(mappingPath: string, source: string, target: string): Promise<{ src: SideData; tgt: SideData }> {
  const file = parseMapping(`source ${source}\ntarget ${target}\n`);
  const s = await loadSides(mappingPath, file, index);
  assert.ok(s.source?.ok && s.target?.ok, 'both fixtures load');
  return { src: s.source.side, tgt: s.target.side };
}

/** Diagnostics of a written mapping, checked the way the editor and `tensorport check` do. */
async function analyse(mappingPath: string, text: string): Promise<MappingDiagnostic[]> {
  const file = parseMapping(text);
  assert.deepEqual(file.errors, [], 'the written mapping parses');
  return analyzeMapping(file, await loadSides(mappingPath, file, index)).diagnostics;
}

function accuracy(p: MappingProposal, e: Expected): { right: number; total: number; wrong: string[] } {
  const got = new Map(p.rules.map((r) => [r.target, r]));
  const wrong: string[] = [];
  let right = 0;
  for (const [target, want] of Object.entries(e.rules)) {
    const r = got.get(target);
    const ok = r !== undefined && JSON.stringify(r.sources) === JSON.stringify(want.sources)
      && want.transforms.some((t) => JSON.stringify(t) === JSON.stringify(r.transforms));
    if (ok) right++;
    else wrong.push(`${target}: got ${r ? `${r.sources.join(', ')} | ${r.transforms.join(' | ')}` : 'nothing'}, want ${want.sources.join(', ')} | ${want.transforms[0].join(' | ')}`);
  }
  // Leaving a target unmapped that should stay unmapped is right too; writing it is not.
  for (const k of e.unmappedTarget) {
    if (got.has(k)) wrong.push(`${k}: should stay unmapped, got ${got.get(k)!.sources.join(', ')}`);
    else right++;
  }
  const extra = p.rules.filter((r) => !(r.target in e.rules) && !e.unmappedTarget.includes(r.target));
  for (const r of extra) wrong.push(`${r.target}: unexpected rule from ${r.sources.join(', ')}`);
  return { right, total: Object.keys(e.rules).length + e.unmappedTarget.length, wrong };
}

const pairings = readdirSync(DIR, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();

test('the fixture folder has every pairing the auto-mapper must get right', () => {
  assert.deepEqual(pairings, ['bert-add-prefix', 'bert-strip-prefix', 'gpt2-to-opt', 'llama-hf-to-meta', 'llama-meta-to-hf',
    'paddle-to-vit', 't5-tied', 'vit-to-clip', 'vit-to-paddle']);
});

for (const name of pairings) {
  test(`${name}: every target key paired right, and the written .tpmap checks clean`, async () => {
    const e = JSON.parse(readFileSync(path.join(DIR, name, 'expected.json'), 'utf8')) as Expected;
    const mappingPath = path.join(DIR, name, 'proposed.tpmap');
    const { src, tgt } = await sides(mappingPath, e.source, e.target);
    const p = proposeMapping(src, tgt);
    const acc = accuracy(p, e);
    console.log(`${name}: ${acc.right}/${acc.total} target keys right (${((100 * acc.right) / acc.total).toFixed(1)}%)`);
    assert.deepEqual(acc.wrong, []);
    assert.equal(acc.right, acc.total);
    assert.deepEqual(p.unmappedSource, e.unmappedSource);
    assert.deepEqual(p.unmappedTarget, e.unmappedTarget);
    for (const r of p.rules) assert.ok(r.confidence >= 0 && r.confidence <= 1, `${r.target}: confidence ${r.confidence}`);

    const text = writeTpmap(p, { sourcePath: e.source, targetPath: e.target });
    const ds = await analyse(mappingPath, text);
    // These LLaMA folders have no config.json: the q/k rules cannot get the rotary permutation, and the
    // analysis says so (automap-rotary.test.ts covers the folders that have it).
    const rotary = ds.filter((d) => d.code === 'suspicious-pairing' && /rotary permutation.*put config\.json/.test(d.message));
    assert.equal(rotary.length > 0, name.startsWith('llama'), `${name}: ${rotary.length} rotary warnings`);
    const bad = ds.filter((d) => d.severity !== 'information' && !rotary.includes(d) && !(d.code === 'unmapped-target-key' && e.unmappedTarget.includes(d.key!)));
    assert.deepEqual(bad.map((d) => `${d.code}: ${d.message}`), [], text);
    // The genuinely unmapped parameters are still reported, one each; buffers only as information.
    const unmapped = ds.filter((d) => d.code === 'unmapped-target-key').map((d) => d.key).sort();
    assert.deepEqual(unmapped, [...e.unmappedTarget].sort());
    for (const k of e.unmappedTarget) assert.match(text, new RegExp(`^#   ${k.replace(/\./g, '\\.')} `, 'm'), `${k} is listed as unmapped`);
    for (const k of e.unmappedSource) assert.ok(!p.rules.some((r) => r.sources.includes(k)));
  });
}

const folded = (text: string, left: string, right: string) => new RegExp(`^${esc(left)}\\s+-> ${esc(right)}$`, 'm').test(text);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function writtenFor(name: string): Promise<string> {
  const e = JSON.parse(readFileSync(path.join(DIR, name, 'expected.json'), 'utf8')) as Expected;
  const { src, tgt } = await sides(path.join(DIR, name, 'proposed.tpmap'), e.source, e.target);
  return writeTpmap(proposeMapping(src, tgt), { sourcePath: e.source, targetPath: e.target });
}

test('the written mapping folds layers into {i}, whole modules into *, and explains what it drops', async () => {
  const clip = await writtenFor('vit-to-clip');
  assert.ok(folded(clip, 'encoder.layer.{i}.layernorm_before.*', 'vision_model.encoder.layers.{i}.layer_norm1.*'), clip);
  assert.ok(folded(clip, 'embeddings.cls_token', 'vision_model.embeddings.class_embedding | squeeze(0) | squeeze(0)'), clip);
  assert.match(clip, /^pooler\.\*\s+-> drop {2}# no counterpart in the target$/m);
  assert.match(clip, /^embeddings\.patch_embeddings\.projection\.bias -> drop {2}# no counterpart in the target$/m);
  assert.doesNotMatch(clip, /encoder\.layer\.0\./, 'no per-layer rule left when every layer is the same');
  // Blocks are separated by blank lines: the embeddings, the layers, the final norm.
  assert.match(clip, /squeeze\(0\)\n\nencoder\.layer\.\{i\}/);

  const paddle = await writtenFor('vit-to-paddle');
  assert.ok(folded(paddle, '[encoder.layer.{i}.attention.attention.query.weight, encoder.layer.{i}.attention.attention.key.weight, encoder.layer.{i}.attention.attention.value.weight]',
    'blocks.{i}.attn.qkv.weight | cat(0) | transpose'), paddle);

  const t5 = await writtenFor('t5-tied');
  assert.ok(folded(t5, 'shared.weight', 'encoder.embed_tokens.weight | cast(F16)'), t5);
  assert.ok(folded(t5, 'shared.weight', 'decoder.embed_tokens.weight | cast(F16)'), t5);
  assert.ok(folded(t5, 'encoder.block.{i}.*', 'encoder.block.{i}.* | cast(F16)'), t5);

  const gpt2 = await writtenFor('gpt2-to-opt');
  assert.ok(folded(gpt2, 'transformer.h.{i}.attn.c_attn.weight', 'decoder.layers.{i}.self_attn.q_proj.weight | chunk(3, 0, 1) | transpose'), gpt2);
  assert.match(gpt2, /^transformer\.h\.\{i\}\.attn\.bias -> drop {2}# a buffer with no counterpart in the target$/m);

  const bert = await writtenFor('bert-strip-prefix');
  assert.ok(folded(bert, 'bert.encoder.layer.{i}.*', 'encoder.layer.{i}.*'), bert);
  assert.match(bert, /^classifier\.\* -> drop/m);
});

/** A safetensors file in the scratch folder with these keys (F32, zero data). */
function st(name: string, tensors: Record<string, number[]>): string {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [k, shape] of Object.entries(tensors)) {
    const len = shape.reduce((a, b) => a * b, 1) * 4;
    header[k] = { dtype: 'F32', shape, data_offsets: [off, off + len] };
    off += len;
  }
  return tmp.file(name, safetensorsBytes(header, off));
}

test('a near tie is written with a low-confidence comment, and still checks clean', async () => {
  st('tie_src.safetensors', { 'enc.mix_a.weight': [4, 4] });
  st('tie_tgt.safetensors', { 'dec.mix_a_left.weight': [4, 4], 'dec.mix_a_right.weight': [4, 4] });
  const at = path.join(tmp.dir, 'tie.tpmap');
  const { src, tgt } = await sides(at, 'tie_src.safetensors', 'tie_tgt.safetensors');
  const p = proposeMapping(src, tgt);
  assert.equal(p.rules.length, 1);
  assert.ok(p.rules[0].confidence < 0.8, `confidence ${p.rules[0].confidence}`);
  const text = writeTpmap(p, { sourcePath: 'tie_src.safetensors', targetPath: 'tie_tgt.safetensors' });
  assert.match(text, new RegExp(`^enc\\.mix_a\\.weight -> dec\\.mix_a_left\\.weight {2}# low confidence \\(${p.rules[0].confidence.toFixed(2)}\\)$`, 'm'), text);
  assert.match(text, /1 with low confidence/);
  const ds = await analyse(at, text);
  assert.deepEqual(ds.map((d) => `${d.code} ${d.key}`), ['unmapped-target-key dec.mix_a_right.weight']);
});

test('stacks with different layer counts map the common layers one by one and report the rest', async () => {
  const layer = (pre: string, n: number, names: Record<string, number[]>) => Object.fromEntries(
    Array.from({ length: n }, (_, i) => Object.entries(names).map(([k, s]) => [`${pre}.${i}.${k}`, s] as const)).flat());
  st('deep.safetensors', layer('encoder.layer', 3, { 'attention.self.query.weight': [4, 4], 'attention.self.key.weight': [4, 4], 'output.LayerNorm.weight': [4] }));
  st('shallow.safetensors', layer('blocks', 2, { 'attn.k.weight': [4, 4], 'attn.q.weight': [4, 4], 'norm2.weight': [4] }));
  const at = path.join(tmp.dir, 'layers.tpmap');
  const { src, tgt } = await sides(at, 'deep.safetensors', 'shallow.safetensors');
  const p = proposeMapping(src, tgt);
  assert.equal(p.rules.length, 6);
  for (const r of p.rules) {
    const l = r.target.split('.')[1];
    assert.equal(r.sources[0].split('.')[2], l, `${r.sources[0]} -> ${r.target} keeps its layer`);
    assert.equal(r.sources[0].endsWith('query.weight'), r.target.endsWith('q.weight'));
  }
  assert.deepEqual(p.unmappedSource, ['encoder.layer.2.attention.self.query.weight', 'encoder.layer.2.attention.self.key.weight', 'encoder.layer.2.output.LayerNorm.weight']);
  const text = writeTpmap(p, { sourcePath: 'deep.safetensors', targetPath: 'shallow.safetensors' });
  assert.doesNotMatch(text, /\{i\}/, 'no {i} rule across different layer counts');
  assert.match(text, /# Layer counts differ: `encoder\.layer` has 3 layers in the source, `blocks` 2 in the target/);
  assert.match(text, /^encoder\.layer\.2\.\* -> drop {2}# layer 2: `blocks` in the target has 2 layers$/m);
  assert.deepEqual(await analyse(at, text), []);
});

test('a pooler and a projection of the same shape are not paired on shape alone', async () => {
  st('pool_src.safetensors', { 'pooler.dense.weight': [4, 4], 'final.norm.weight': [4] });
  st('pool_tgt.safetensors', { 'visual_projection.weight': [4, 4], 'final.norm.weight': [4] });
  const { src, tgt } = await sides(path.join(tmp.dir, 'pool.tpmap'), 'pool_src.safetensors', 'pool_tgt.safetensors');
  const p = proposeMapping(src, tgt);
  assert.deepEqual(p.rules.map((r) => `${r.sources[0]} -> ${r.target}`), ['final.norm.weight -> final.norm.weight']);
  assert.deepEqual(p.unmappedSource, ['pooler.dense.weight']);
  assert.deepEqual(p.unmappedTarget, ['visual_projection.weight']);
});

test('embedding tables under other spellings play their role: `positional_embedding` takes `position_embedding` (PaddleNLP CLIP)', async () => {
  st('spell_src.safetensors', { 'embeddings.token_embedding.weight': [10, 4], 'embeddings.position_embedding.weight': [6, 4], 'final_layer_norm.weight': [4] });
  st('spell_tgt.safetensors', { 'text_model.token_embedding.weight': [10, 4], 'text_model.positional_embedding.weight': [6, 4], 'text_model.ln_final.weight': [4] });
  const { src, tgt } = await sides(path.join(tmp.dir, 'spell.tpmap'), 'spell_src.safetensors', 'spell_tgt.safetensors');
  const p = proposeMapping(src, tgt);
  assert.deepEqual(p.rules.map((r) => `${r.sources[0]} -> ${r.target}`), [
    'embeddings.token_embedding.weight -> text_model.token_embedding.weight',
    'embeddings.position_embedding.weight -> text_model.positional_embedding.weight',
    'final_layer_norm.weight -> text_model.ln_final.weight',
  ]);
  assert.ok(p.rules.every((r) => r.confidence >= 0.8), JSON.stringify(p.rules));
});

test('DeiT\'s second token: HF\'s `distillation_token` takes PaddleClas\'s `dist_token`, and the class token stays with the class token', async () => {
  st('deit_src.safetensors', { 'embeddings.cls_token': [1, 1, 4], 'embeddings.distillation_token': [1, 1, 4], 'embeddings.position_embeddings': [1, 6, 4], 'layernorm.weight': [4] });
  st('deit_tgt.safetensors', { 'cls_token': [1, 1, 4], 'dist_token': [1, 1, 4], 'pos_embed': [1, 6, 4], 'norm.weight': [4] });
  const { src, tgt } = await sides(path.join(tmp.dir, 'deit.tpmap'), 'deit_src.safetensors', 'deit_tgt.safetensors');
  const p = proposeMapping(src, tgt);
  assert.deepEqual(p.rules.map((r) => `${r.sources[0]} -> ${r.target}`).sort(), [
    'embeddings.cls_token -> cls_token', 'embeddings.distillation_token -> dist_token', 'embeddings.position_embeddings -> pos_embed', 'layernorm.weight -> norm.weight']);
  assert.deepEqual(p.unmappedTarget, []);
  // Crossed by hand, the two tokens' roles disagree.
  const m = path.join(tmp.dir, 'deit-crossed.tpmap');
  const file = parseMapping('source deit_src.safetensors\ntarget deit_tgt.safetensors\nembeddings.distillation_token -> cls_token\nembeddings.cls_token -> dist_token\n');
  const ds = analyzeMapping(file, await loadSides(m, file, index)).diagnostics.filter((d) => d.code === 'suspicious-pairing');
  assert.deepEqual(ds.map((d) => d.message), [
    '`embeddings.distillation_token` → `cls_token`: the distillation token is mapped to the class token',
    '`embeddings.cls_token` → `dist_token`: the class token is mapped to the distillation token']);
});

test('a target left over beside a source of a fitting shape says so instead of "no source tensor fits"', async () => {
  st('pool_src.safetensors', { 'pooler.dense.weight': [4, 4], 'final.norm.weight': [4] });
  st('pool_tgt.safetensors', { 'visual_projection.weight': [4, 4], 'final.norm.weight': [4] });
  const { src, tgt } = await sides(path.join(tmp.dir, 'pool.tpmap'), 'pool_src.safetensors', 'pool_tgt.safetensors');
  const text = writeTpmap(proposeMapping(src, tgt), { sourcePath: 'pool_src.safetensors', targetPath: 'pool_tgt.safetensors' });
  assert.match(text, /^# {3}visual_projection\.weight {2}F32 \[4, 4\]: not paired on shape alone: source `pooler\.dense\.weight` is left with a fitting shape, but no name or role ties it to this one \(map it by hand if that is the counterpart\)$/m);
});

test('a tensor left over says which tensor plays its role and why it does not fit', async () => {
  // vit_tiny has 17 positions (16 patches + cls); the Paddle ViT fixture has 5.
  const at = path.join(FIXTURES, 'safetensors', 'proposed.tpmap');
  const { src, tgt } = await sides(at, 'vit_tiny.safetensors', '../mapping/vit_paddle.pdparams');
  const p = proposeMapping(src, tgt);
  assert.deepEqual(p.unmappedTarget, ['pos_embed']);
  assert.ok(p.unmappedSource.includes('embeddings.position_embeddings'));
  const text = writeTpmap(p, { sourcePath: 'vit_tiny.safetensors', targetPath: '../mapping/vit_paddle.pdparams' });
  assert.match(text, /^# {3}pos_embed {2}F32 \[1, 5, 8\]: no source tensor fits \(`embeddings\.position_embeddings` plays that role but is F32 \[1, 17, 8\]\)$/m);
  assert.match(text, /^embeddings\.position_embeddings -> drop {2}# no counterpart in the target \(`pos_embed` plays that role but is F32 \[1, 5, 8\]\)$/m);
  const ds = await analyse(at, text);
  assert.deepEqual(ds.filter((d) => d.severity !== 'information').map((d) => `${d.code} ${d.key}`), ['unmapped-target-key pos_embed']);
});

// --- the assignment solver -------------------------------------------------------------------------

/** The best assignment cost by trying every injective map of the smaller side into the larger. */
function bruteForce(cost: number[][]): number {
  const n = cost.length;
  const m = cost[0].length;
  const rows = n <= m;
  const k = Math.min(n, m);
  const big = Math.max(n, m);
  let best = Infinity;
  const used = new Array<boolean>(big).fill(false);
  const go = (i: number, acc: number) => {
    if (i === k) { best = Math.min(best, acc); return; }
    for (let j = 0; j < big; j++) {
      if (used[j]) continue;
      used[j] = true;
      go(i + 1, acc + (rows ? cost[i][j] : cost[j][i]));
      used[j] = false;
    }
  };
  go(0, 0);
  return best;
}

test('the Hungarian algorithm finds the optimal assignment (against brute force, square and rectangular)', () => {
  const rand = rng(42);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(rand() * 6);
    const m = 1 + Math.floor(rand() * 6);
    // Integer costs with many ties, and some negative ones.
    const cost = Array.from({ length: n }, () => Array.from({ length: m }, () => Math.floor(rand() * 10) - 3));
    const a = hungarian(cost);
    assert.equal(a.length, n);
    const assigned = a.filter((j) => j >= 0);
    assert.equal(assigned.length, Math.min(n, m), 'every row of the smaller side is assigned');
    assert.equal(new Set(assigned).size, assigned.length, 'no column twice');
    const total = a.reduce((s, j, i) => s + (j >= 0 ? cost[i][j] : 0), 0);
    assert.equal(total, bruteForce(cost), JSON.stringify(cost));
  }
});

test('the Hungarian algorithm beats greedy where greedy is wrong', () => {
  // Greedy takes the single best cell (0,0)=1 and is then forced into (1,1)=100; optimal is 2 + 3.
  assert.deepEqual(hungarian([[1, 2], [3, 100]]), [1, 0]);
  assert.deepEqual(hungarian([]), []);
  assert.deepEqual(hungarian([[5], [1], [3]]), [-1, 0, -1]);
});

test('max-weight matching leaves infeasible pairs unmatched rather than forcing them', () => {
  // Row 1 fits nothing; row 0's best is column 1, which row 2 needs more.
  const m = maxWeightMatching([[2, 3], [undefined, undefined], [undefined, 5]]);
  assert.deepEqual(m, [[0, 0], [2, 1]]);
  assert.deepEqual(maxWeightMatching([[undefined]]), []);
});

// --- squeeze / unsqueeze ---------------------------------------------------------------------------

test('squeeze steps turn the source shape into the target shape under the analysis semantics', () => {
  const apply = (shape: number[], ops: string[]) => {
    let types = [{ shape, dtype: 'F32' }];
    const rule = parseMapping(`source a\ntarget b\nx -> y${ops.map((o) => ` | ${o}`).join('')}\n`).items.find((i) => i.kind === 'rule');
    for (const t of rule!.kind === 'rule' ? rule!.transforms : []) {
      const r = applyTransform(t, types);
      assert.ok(r.ok, `${ops.join(' | ')} on [${shape}]`);
      types = r.types;
    }
    return types[0].shape;
  };
  assert.deepEqual(squeezeOps([1, 1, 768], [768]), ['squeeze(0)', 'squeeze(0)']);
  assert.deepEqual(squeezeOps([1, 5, 8], [5, 8]), ['squeeze(0)']);
  assert.deepEqual(squeezeOps([768], [1, 1, 768]), ['unsqueeze(0)', 'unsqueeze(1)']);
  assert.equal(squeezeOps([5, 8], [8, 5]), undefined);
  const rand = rng(7);
  for (let trial = 0; trial < 200; trial++) {
    const core = Array.from({ length: Math.floor(rand() * 3) }, () => 2 + Math.floor(rand() * 4));
    const sprinkle = () => core.flatMap((d) => (rand() < 0.4 ? [1, d] : [d])).concat(rand() < 0.3 ? [1] : []);
    const s = sprinkle();
    const t = sprinkle();
    const ops = squeezeOps(s, t);
    assert.ok(ops, `[${s}] → [${t}]`);
    assert.deepEqual(apply(s, ops), t, `[${s}] → [${t}] via ${ops.join(' | ')}`);
  }
});
