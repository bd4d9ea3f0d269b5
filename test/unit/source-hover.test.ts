/**
 * Hover in model source: on a line that defines tensors (`self.q = nn.Linear(…)`), the keys the root
 * model gets for it with layers folded, their shape and layout, and the same key in a checkpoint.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { hoverModelSource } from '../../server/src/source/hover';
import { FIXTURES } from '../support/tmp';

const DIR = path.join(FIXTURES, 'source');

test('hover on `self.q = nn.Linear(…)` in the Paddle ViT: every layer\'s key, the shape and the paddle layout', async () => {
  const h = await hoverModelSource(path.join(DIR, 'paddle_vit.py'), 60, 12);
  assert.ok(h);
  assert.match(h.markdown, /^\*\*VisionTransformer\*\*/);
  assert.match(h.markdown, /\| `encoder\.layers\.\{0–11\}\.attn\.q\.weight` \| F32 \| `\[768, 768\]` \| `\[in, out\]` \(paddle `nn\.Linear`/);
  assert.match(h.markdown, /\| `encoder\.layers\.\{0–11\}\.attn\.q\.bias` \| F32 \| `\[768\]` \|/);
  assert.deepEqual(h.range, { line: 60, column: 17, endLine: 60, endColumn: 95 });
});

test('hover on an HF layer with the checkpoint: open dimensions by name, and the checkpoint\'s own tensor', async () => {
  const ckpt = await readCheckpoint(path.join(DIR, 'ckpt', 'vit_hf.safetensors'));
  const h = await hoverModelSource(path.join(DIR, 'vitpkg', 'modeling_vit.py'), 53, 20, { checkpoints: [ckpt] });
  assert.ok(h);
  assert.match(h.markdown, /\| `layernorm\.weight` \| F32 \| `\[hidden_size\]` \|/);
  assert.match(h.markdown, /In `.*vit_hf\.safetensors`: `layernorm\.weight` F32 `\[8\]` \(and 1 more\)/);
});

test('no hover on lines that define no tensor', async () => {
  assert.equal(await hoverModelSource(path.join(DIR, 'paddle_vit.py'), 0, 0), undefined);
  assert.equal(await hoverModelSource(path.join(DIR, 'missing.py'), 3, 0), undefined);
});
