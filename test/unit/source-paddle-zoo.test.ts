/**
 * Model source on Paddle's model zoo: PaddleClas's modeling files (pinned in
 * test/python/requirements-nodeps.txt), read in place from site-packages. The truth is the real
 * models' state_dict() built with their defaults (test/python/paddle_model_truth.py) — classes
 * (`VisionTransformer`) and the factory functions people name (`ResNet50`, `PPLCNet_x1_0`). Exact:
 * same keys, same order, same shapes.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runPython, testPython } from '../support/python';

const env = testPython();

test('8 PaddleClas models — ViT, ResNet50, PP-LCNet, VGG16, ConvNeXt, MobileNetV3, Swin — list their state_dict() exactly', { skip: env.skip, timeout: 300_000 }, async () => {
  const cases = JSON.parse(runPython(env.python!, [path.join(__dirname, '..', 'python', 'paddle_model_truth.py')])) as { name: string; file: string; class: string; default: Record<string, number[]> }[];
  assert.ok(cases.length >= 8);
  for (const c of cases) {
    const info = await readModelSource(`${c.file}::${c.class}`);
    assert.equal(info.framework, 'paddle', c.name);
    assert.deepEqual(info.tensors.map((t) => [t.key, t.shape]), Object.entries(c.default), `${c.name}: ${c.class} in ${c.file}`);
  }
});
