/**
 * Constructs real libraries build layers with, followed as general mechanisms and compared with the
 * real state_dict() (test/python/construct_truth.py: torch on the meta device, Paddle for real):
 * registries filled by decorators and class-level tables read through `cls`/`self`, `@classmethod`
 * constructors and `@staticmethod`s, `setattr`/`getattr` with f-string, `%` and `.format` names,
 * `add_module`/`add_sublayer` by keyword, loops over `dict.items()`/`enumerate`/`zip`/
 * `itertools.product`, dict comprehensions and `update`, the attributes torch and Paddle layers keep
 * (`fc.in_features`, `conv._out_channels`, `weight.shape[-1]`), and PaddleClas backbones that name
 * their blocks `'bb_%d_%d' % (block, i)` and `"res" + str(block + 2) + chr(97 + i)`. A loop inference
 * cannot list never gives a definite `len()` of what it would have filled: that is a gap.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runPython, testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const env = testPython();
const tmp = scratchDir('source-constructs-a');
const TRUTH = path.join(__dirname, '..', 'python', 'construct_truth.py');

interface Truth { file: string; name: string; keys: [string, number[]][] }

/** The real state_dict() of one case (one process each: Paddle refuses a parameter name used twice in a process). */
function truth(c: Record<string, string>): Truth {
  return (JSON.parse(runPython(env.python!, [TRUTH, JSON.stringify([c])])) as Truth[])[0];
}

async function assertExact(file: string, name: string, t: Truth): Promise<void> {
  const info = await readModelSource(`${file}::${name}`);
  assert.deepEqual(info.tensors.map((x) => [x.key, x.shape]), t.keys, `${name} in ${file}`);
  assert.deepEqual(info.incomplete ?? [], [], `${name}: no gaps`);
}

const REGISTRY = `import torch
import torch.nn as nn

MODELS = {}


def register(name):
    def deco(cls):
        MODELS[name] = cls
        return cls
    return deco


class Basic(nn.Module):
    expansion = 1

    def __init__(self, cin, cout):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout * self.expansion, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(self.conv.out_channels)


class Wide(Basic):
    expansion = 2


@register("tiny")
class Net(nn.Module):
    BLOCKS = {"basic": Basic, "wide": Wide}

    def __init__(self, block="basic", widths=(8, 16), num_classes=10):
        super().__init__()
        blk = self.BLOCKS[block]
        cin = 3
        for i, w in enumerate(widths):
            setattr(self, f"stage{i + 1}", blk(cin, w))
            cin = w * blk.expansion
        self.head = nn.Linear(getattr(self, f"stage{len(widths)}").bn.num_features, num_classes)

    @classmethod
    def from_config(cls, cfg):
        return cls(**cfg)

    @staticmethod
    def make_norm(c):
        return nn.LayerNorm(c)


def build(arch="tiny"):
    model = MODELS[arch].from_config({"block": "wide", "widths": [4, 8]})
    model.add_module(name="extra_norm", module=Net.make_norm(model.head.out_features))
    return model
`;

const ATTRS = `import torch.nn as nn


class Attrs(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 12, padding_idx=-1)
        self.norm = nn.LayerNorm(self.embed.embedding_dim)
        self.fc = nn.Linear(self.norm.normalized_shape[0], self.embed.num_embeddings // 5)
        self.conv = nn.Conv1d(self.fc.out_features, self.fc.in_features, kernel_size=3)
        self.proj = nn.Linear(self.conv.kernel_size[0] * self.conv.out_channels, self.fc.weight.shape[0])
        self.attn = nn.MultiheadAttention(self.fc.weight.shape[-1], 3)
        self.head = nn.Linear(self.attn.head_dim, self.embed.padding_idx)
`;

const DICTS = `import torch.nn as nn


class Dicts(nn.Module):
    def __init__(self, widths=(4, 8, 16)):
        super().__init__()
        cfg = {f"s{i}": w for i, w in enumerate(widths)}
        cfg.update({"extra": 3})
        groups = {"a": [], "b": []}
        for i, (k, w) in enumerate(cfg.items()):
            groups["a" if i % 2 == 0 else "b"].append(nn.Linear(w, w))
        self.a = nn.ModuleList(groups["a"])
        self.b = nn.Sequential(*groups["b"])
        self.count = nn.Linear(len(cfg), len(groups["a"]))
        self.heads = nn.ModuleDict({"%s_%02d" % (k, w): nn.Linear(w, 2) for k, w in cfg.items() if w > 4})
`;

const PADDLE = `import itertools
import paddle
import paddle.nn as nn


class Branches(nn.Layer):
    def __init__(self, dims={"a": 4, "b": 6}, depth=2):
        super().__init__()
        self.names = []
        for name, d in dims.items():
            self.add_sublayer(name="proj_%s" % name, sublayer=nn.Conv2D(3, d, 3))
            self.names.append(name)
        for (i, j) in itertools.product(range(depth), range(2)):
            self.add_sublayer("cell_{}_{}".format(i, j), nn.Linear(4, 4))
        for k, (name, d) in zip(range(len(dims)), dims.items()):
            conv = getattr(self, "proj_" + name)
            self.add_sublayer(f"norm{k}", nn.BatchNorm2D(conv._out_channels))
        emb = nn.Embedding(10, 5)
        self.emb = emb
        self.out = nn.Linear(emb._embedding_dim, self.emb.weight.shape[-1] * 2)
`;

const SKIPPED = `import json
import torch.nn as nn


class Skipped(nn.Module):
    def __init__(self):
        super().__init__()
        layers = {}
        for name, width in json.load(open("arch.json")).items():
            layers[name] = nn.Linear(width, width)
        self.fc = nn.Linear(len(layers), 4)
        self.blocks = nn.ModuleDict(layers)
`;

test('registries, @classmethod/@staticmethod, class tables, setattr/getattr with f-strings, add_module by keyword: exact', { skip: env.skip, timeout: 120_000 }, async () => {
  const file = tmp.file('registry_net.py', REGISTRY);
  const t = truth({ file, name: 'build' });
  assert.ok(t.keys.some(([k]) => k === 'stage2.conv.weight') && t.keys.some(([k]) => k === 'extra_norm.weight'));
  await assertExact(file, 'build', t);
});

test('attributes torch layers keep (in_features, normalized_shape, kernel_size, head_dim, padding_idx, weight.shape[-1]): exact', { skip: env.skip, timeout: 120_000 }, async () => {
  const file = tmp.file('attrs_net.py', ATTRS);
  await assertExact(file, 'Attrs', truth({ file, name: 'Attrs' }));
});

test('dict comprehensions, update, items(), enumerate, % formatting and len() of what loops filled: exact', { skip: env.skip, timeout: 120_000 }, async () => {
  const file = tmp.file('dicts_net.py', DICTS);
  await assertExact(file, 'Dicts', truth({ file, name: 'Dicts' }));
});

test('Paddle: add_sublayer by keyword, itertools.product, zip over a range and dict items, .format, conv._out_channels, emb._embedding_dim: exact', { skip: env.skip, timeout: 120_000 }, async () => {
  const file = tmp.file('paddle_branches.py', PADDLE);
  await assertExact(file, 'Branches', truth({ file, name: 'Branches', framework: 'paddle' }));
});

test('a loop inference cannot list: len() of the dict it fills is not a definite 0, and the ModuleDict built from it is a gap', async () => {
  const file = tmp.file('skipped_net.py', SKIPPED);
  const info = await readModelSource(`${file}::Skipped`);
  const fc = info.tensors.find((x) => x.key === 'fc.weight');
  assert.ok(fc && !fc.shape.every(Number.isFinite), `fc.weight's size is open, not [4, 0]: ${JSON.stringify(fc?.shape)}`);
  const where = (info.incomplete ?? []).map((g) => g.module);
  assert.ok(where.includes('blocks'), `blocks is incomplete: ${where.join(', ')}`);
  assert.ok(where.some((m) => m.startsWith('fc')), `fc is incomplete: ${where.join(', ')}`);
});

const ZOO = 'paddleclas.ppcls.arch.backbone.model_zoo.';
const BACKBONES: [string, string][] = [
  ['res2net', 'Res2Net50_26w_4s'], ['resnext', 'ResNeXt50_32x4d'], ['densenet', 'DenseNet121'], ['shufflenet_v2', 'ShuffleNetV2_x1_0'],
  ['ghostnet', 'GhostNet_x1_0'], ['mobilenet_v2', 'MobileNetV2'], ['se_resnext_vd', 'SE_ResNeXt50_vd_32x4d'], ['cspnet', 'CSPDarkNet53'],
];

test(`${BACKBONES.length} PaddleClas backbones naming blocks with % / str() / chr() and add_sublayer: state_dict() exact, no gaps`, { skip: env.skip, timeout: 600_000 }, async () => {
  for (const [module, name] of BACKBONES) {
    const t = truth({ module: ZOO + module, name, framework: 'paddle' });
    await assertExact(t.file, name, t);
  }
});
