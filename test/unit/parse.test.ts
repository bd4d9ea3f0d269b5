/** The tpmap parser: every form of the spec, exact ranges, and recovery from half-typed lines. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMapping } from '../../server/src/mapping/parse';
import { KeyPattern, Rule, SideDirective, isDrop } from '../../server/src/mapping/syntax';

const rules = (text: string) => parseMapping(text).items.filter((i): i is Rule => i.kind === 'rule');
const slice = (text: string, s: { start: number; end: number }) => text.slice(s.start, s.end);

test('directives: source/target paths (quoted, with ::Class), set, framework', () => {
  const text = 'source ckpt/vit.safetensors  # the HF side\ntarget "my model/paddle_vit.py"::VisionTransformer\nset hidden_size = 768\nframework target paddle\n';
  const f = parseMapping(text);
  assert.deepEqual(f.errors, []);
  const [src, tgt, set, fw] = f.items as [SideDirective, SideDirective, Extract<typeof f.items[number], { kind: 'set' }>, Extract<typeof f.items[number], { kind: 'framework' }>];
  assert.equal(src.path!.text, 'ckpt/vit.safetensors');
  assert.equal(slice(text, src.path!), 'ckpt/vit.safetensors');
  assert.equal(tgt.path!.text, 'my model/paddle_vit.py');
  assert.equal(slice(text, tgt.path!), 'my model/paddle_vit.py');
  assert.equal(tgt.className!.text, 'VisionTransformer');
  assert.equal(slice(text, tgt.className!), 'VisionTransformer');
  assert.equal(set.name!.text, 'hidden_size');
  assert.equal(set.value!.value, 768);
  assert.equal(fw.side!.text, 'target');
  assert.equal(fw.name!.text, 'paddle');
});

test('rules: captures, a trailing *, drop, a cat list and transforms with arguments', () => {
  const text = [
    'encoder.layer.{i}.attention.attention.query.weight -> blocks.{i}.attn.q.weight | transpose',
    '[a.{i}.key.weight, a.{i}.value.weight] -> b.{i}.kv.weight | cat(0) | transpose',
    'embeddings.patch_embeddings.projection.* -> patch_embed.proj.*',
    'pooler.dense.* -> drop',
    'x.qkv.weight -> y.q.weight | chunk(3, 0) | cast(F16) | reshape(-1, 4)',
  ].join('\n');
  const f = parseMapping(text);
  assert.deepEqual(f.errors, []);
  const [r1, r2, r3, r4, r5] = rules(text);
  assert.deepEqual(r1.sources[0].segments[2], { kind: 'capture', sep: '.', name: 'i' });
  assert.equal(slice(text, r1.target!), 'blocks.{i}.attn.q.weight');
  assert.equal(r1.transforms[0].name.text, 'transpose');
  assert.equal(r2.bracketed, true);
  assert.deepEqual(r2.sources.map((s) => s.text), ['a.{i}.key.weight', 'a.{i}.value.weight']);
  assert.deepEqual(r2.transforms.map((t) => t.name.text), ['cat', 'transpose']);
  assert.equal(r2.transforms[0].args[0].value, 0);
  assert.deepEqual(r3.sources[0].segments.at(-1), { kind: 'star', sep: '.' });
  assert.ok(isDrop(r4.target));
  assert.deepEqual(r5.transforms.map((t) => t.args.map((a) => a.value ?? a.text)), [[3, 0], ['F16'], [-1, 4]]);
  assert.equal(slice(text, r5.transforms[2]), 'reshape(-1, 4)');
});

test('`/` separates segments too: a capture inside a segment (`encoderblock_{i}`), a `*` after `/`, TF2\'s `/.ATTRIBUTES` tail', () => {
  const text = [
    'Transformer/encoderblock_{i}/MlpBlock_0/Dense_0/kernel -> encoder.layer.{i}.intermediate.dense.weight | transpose',
    'bert/encoder/layer_{i}/attention/* -> encoder.layer.{i}.attention.*',
    'enc/layers/{i}/kernel/.ATTRIBUTES/VARIABLE_VALUE -> l.{i}.weight',
  ].join('\n');
  assert.deepEqual(parseMapping(text).errors, []);
  const [r1, r2, r3] = rules(text);
  assert.deepEqual(r1.sources[0].segments.slice(0, 3), [
    { kind: 'literal', sep: '', text: 'Transformer' },
    { kind: 'capture', sep: '/', name: 'i', prefix: 'encoderblock_' },
    { kind: 'literal', sep: '/', text: 'MlpBlock_0' },
  ]);
  assert.deepEqual(r2.sources[0].segments.at(-1), { kind: 'star', sep: '/' });
  assert.deepEqual(r3.sources[0].segments.slice(3).map((s) => s.kind === 'literal' && s.sep + s.text), ['/kernel', '/.ATTRIBUTES', '/VARIABLE_VALUE']);
  const bad = parseMapping('a/b_{i}_{j}/c -> x.{i}\nTransformer/ -> x\n');
  assert.deepEqual(bad.errors.map((e) => e.message), [
    '`b_{i}_{j}`: a capture is written `{name}`, once a segment (`{i}`, `block_{i}`); `*` is a whole last segment',
    'expected a key segment after `/`',
  ]);
});

test('errors say what was expected, on the line at fault, and the other lines still parse', () => {
  const text = 'source a.safetensors\nencoder.layer.\nfoo -> \nbar -> baz | frobnicate\n[a, b] -> c\nok.key -> other.key\nset x = y\nsource\n';
  const f = parseMapping(text);
  const byLine = f.errors.map((e) => [text.slice(0, e.start).split('\n').length, e.message] as const);
  assert.deepEqual(byLine, [
    [2, 'expected a key segment after `.`'],
    [3, 'expected a target key or `drop` after `->`'],
    [4, 'unknown transform `frobnicate`: expected one of transpose, permute, reshape, squeeze, unsqueeze, chunk, cat, cast'],
    [5, 'a `[…]` list of source keys needs a `| cat(DIM)` transform'],
    [7, 'expected `set x = VALUE` (an integer, a float such as `1e-6`, `True`/`False` or a quoted string)'],
    [8, 'expected a path after `source` (a checkpoint, or FILE.py::Class)'],
  ]);
  const ok = rules(text).find((r) => r.sources[0]?.text === 'ok.key')!;
  assert.equal((ok.target as KeyPattern).text, 'other.key');
  // The half-typed key is still a node, so completion knows where it is.
  assert.equal(rules(text)[0].sources[0].text, 'encoder.layer.');
});

test('set takes what a constructor takes: integers, floats, booleans (Python and JSON spelling), quoted strings', () => {
  const text = 'set depth = 2\nset epsilon = 1e-6\nset ratio = 0.5\nset qkv_bias = True\nset flag = false\nset act = "gelu"  # comment\nset norm = \'nn.LayerNorm\'\nset bad = gelu\nset two = 1 2\n';
  const f = parseMapping(text);
  const values = f.items.map((i) => (i.kind === 'set' ? i.value?.value : undefined));
  assert.deepEqual(values, [2, 1e-6, 0.5, true, false, 'gelu', 'nn.LayerNorm', undefined, undefined]);
  assert.deepEqual(f.errors.map((e) => text.slice(0, e.start).split('\n').length), [8, 9]);
});

test('a key may start with a directive word; comments and CRLF are handled', () => {
  const text = 'source.weight -> target.weight # not directives\r\nsetting.bias -> x.bias\r\n';
  const f = parseMapping(text);
  assert.deepEqual(f.errors, []);
  assert.deepEqual(rules(text).map((r) => [r.sources[0].text, (r.target as KeyPattern).text]), [['source.weight', 'target.weight'], ['setting.bias', 'x.bias']]);
});

test('a `#` inside a quoted path is not a comment', () => {
  const f = parseMapping('source "runs/#3/model.safetensors"\n');
  assert.deepEqual(f.errors, []);
  assert.equal((f.items[0] as SideDirective).path!.text, 'runs/#3/model.safetensors');
});
