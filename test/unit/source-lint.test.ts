/**
 * The `fp16-mask-float32` lint on model source: HF CLIP's float32 causal mask (built in one method,
 * passed down as `causal_attention_mask`, added to the attention weights three modules away) is
 * found, at the `torch.empty` that builds it; its fixed twin is clean; and every way of building a
 * float32 mask has a positive and a clean case.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SourceDiagnostic, lintMaskDtypes } from '../../server/src/source/maskLint';
import { testPython } from '../support/python';

// The real CLIP before and after the fix, installed apart by test/python/ensure-venv.mjs (read, never imported).
const CORPUS = path.join(__dirname, '..', 'python', '.venv');
const CLIP_4_20 = path.join(CORPUS, 'corpus-4.20', 'transformers', 'models', 'clip', 'modeling_clip.py');
const CLIP_4_21 = path.join(CORPUS, 'corpus-4.21', 'transformers', 'models', 'clip', 'modeling_clip.py');
const env = testPython();

const lint = (text: string) => lintMaskDtypes('model.py', text);
const at = (text: string, d: SourceDiagnostic) => text.split('\n')[d.line].slice(d.column, d.endColumn);

test('HF CLIP (transformers 4.20.1, read in place): the float32 causal mask is reported where it is built, with where it is added', { skip: env.skip }, async () => {
  const text = readFileSync(CLIP_4_20, 'utf8');
  const ds = await lintMaskDtypes(CLIP_4_20, text);
  assert.equal(ds.length, 1);
  const d = ds[0];
  assert.equal(d.code, 'fp16-mask-float32');
  assert.equal(d.severity, 'warning');
  assert.equal(at(text, d), 'torch.empty(bsz, seq_len, seq_len)');
  assert.match(d.message, /float32 \(`torch\.empty` without `dtype=` makes float32, filled with `torch\.tensor\(float\("-inf"\)\)`\)/);
  assert.match(d.message, /`torch\.finfo\(dtype\)\.min`/);
  const sink = d.related![0];
  assert.match(text.split('\n')[sink.line], /attn_weights = attn_weights\.view\(bsz, self\.num_heads, tgt_len, src_len\) \+ causal_attention_mask/);
  assert.match(sink.message, /passed on as `causal_attention_mask` \(line \d+\), which is added to the attention scores/);
});

test('the fixed CLIP (transformers 4.21.3: mask in the activations\' dtype, filled with finfo.min) is clean', { skip: env.skip }, async () => {
  assert.deepEqual(await lintMaskDtypes(CLIP_4_21, readFileSync(CLIP_4_21, 'utf8')), []);
});

const cases: { name: string; positive: string; clean: string; site: string }[] = [
  {
    name: 'a default-dtype torch.full with -inf, added in the same function',
    positive: `import torch
def attend(scores, n):
    causal_mask = torch.full((n, n), float("-inf")).triu(1)
    return scores + causal_mask
`,
    clean: `import torch
def attend(scores, n):
    causal_mask = torch.full((n, n), torch.finfo(scores.dtype).min, dtype=scores.dtype).triu(1)
    return scores + causal_mask
`,
    site: 'torch.full((n, n), float("-inf"))',
  },
  {
    name: 'an explicit dtype=torch.float32',
    positive: `import torch
def attend(attn, b, n):
    mask = torch.zeros(b, 1, n, n, dtype=torch.float32)
    attn = attn + mask
    return attn
`,
    clean: `import torch
def attend(attn, b, n):
    mask = torch.zeros(b, 1, n, n, dtype=attn.dtype)
    attn = attn + mask
    return attn
`,
    site: 'torch.zeros(b, 1, n, n, dtype=torch.float32)',
  },
  {
    name: 'a cast to the device only (still float32) versus a cast to the scores\' dtype',
    positive: `import torch
def attend(scores, n):
    mask = torch.empty(n, n).fill_(float("-inf")).triu_(1)
    mask = mask.to(scores.device)
    scores += mask
    return scores
`,
    clean: `import torch
def attend(scores, n):
    mask = torch.empty(n, n).fill_(float("-inf")).triu_(1)
    mask = mask.to(scores.dtype)
    scores += mask
    return scores
`,
    site: 'torch.empty(n, n)',
  },
  {
    name: '`.float()` on a mask before the additive form',
    positive: `import torch
def extend(scores, attention_mask):
    extended = attention_mask[:, None, None, :].float()
    extended = (1.0 - extended) * -10000.0
    return scores + extended
`,
    clean: `import torch
def extend(scores, attention_mask):
    extended = attention_mask[:, None, None, :].to(scores.dtype)
    extended = (1.0 - extended) * torch.finfo(scores.dtype).min
    return scores + extended
`,
    site: 'attention_mask[:, None, None, :].float()',
  },
  {
    name: 'paddle.full and torch.where',
    positive: `import paddle
def attend(scores, keep, n):
    mask = paddle.full([n, n], float("-inf"))
    return paddle.where(keep, scores, mask)
`,
    clean: `import paddle
def attend(scores, keep, n):
    mask = paddle.full([n, n], float("-inf"), dtype=scores.dtype)
    return paddle.where(keep, scores, mask)
`,
    site: 'paddle.full([n, n], float("-inf"))',
  },
  {
    name: 'a builder method whose mask is passed down by keyword',
    positive: `import torch
from torch import nn
class Attn(nn.Module):
    def forward(self, x, causal_mask=None):
        w = x @ x.transpose(-1, -2)
        if causal_mask is not None:
            w = w + causal_mask
        return w
class Model(nn.Module):
    def make_mask(self, n):
        m = torch.ones(n, n).triu(1) * -1e4
        return m
    def forward(self, x):
        return self.attn(x, causal_mask=self.make_mask(x.shape[1]))
`,
    clean: `import torch
from torch import nn
class Attn(nn.Module):
    def forward(self, x, causal_mask=None):
        w = x @ x.transpose(-1, -2)
        if causal_mask is not None:
            w = w + causal_mask
        return w
class Model(nn.Module):
    def make_mask(self, n, dtype):
        m = torch.ones(n, n, dtype=dtype).triu(1) * -1e4
        return m
    def forward(self, x):
        return self.attn(x, causal_mask=self.make_mask(x.shape[1], x.dtype))
`,
    site: 'torch.ones(n, n)',
  },
];

for (const c of cases) {
  test(`fp16-mask-float32: ${c.name}`, async () => {
    const ds = await lint(c.positive);
    assert.equal(ds.length, 1, JSON.stringify(ds));
    assert.equal(at(c.positive, ds[0]), c.site);
    assert.deepEqual(await lint(c.clean), []);
  });
}

test('the fix is said in the file\'s framework: Paddle\'s `paddle.full(..., dtype=x.dtype)` and `.astype`, torch\'s `.to`', async () => {
  const paddle = (await lint(cases.find((c) => c.name.startsWith('paddle.full'))!.positive))[0].message;
  assert.match(paddle, /`paddle\.full\(shape, paddle\.finfo\(x\.dtype\)\.min, dtype=x\.dtype\)`/);
  assert.match(paddle, /`\.astype\(x\.dtype\)`/);
  assert.doesNotMatch(paddle, /torch|\.to\(/);
  const torch = (await lint(cases[0].positive))[0].message;
  assert.match(torch, /`\.to\(hidden_states\.dtype\)`/);
  assert.doesNotMatch(torch, /paddle|astype/);
});

test('float32 tensors that are not masks, integer fills and boolean masked_fill are left alone', async () => {
  const text = `import torch
def f(x, scores, mask, n):
    scale = torch.ones(n)
    x = x + scale
    bias = torch.full((n, n), 0)
    scores = scores + bias
    scores = scores.masked_fill(mask == 0, float("-inf"))
    return x, scores
`;
  assert.deepEqual(await lint(text), []);
});

test('TypeScript files and files that are not Python are not linted here', async () => {
  assert.deepEqual(await lintMaskDtypes('model.ts', 'const mask = zeros([4, 4]);'), []);
});
