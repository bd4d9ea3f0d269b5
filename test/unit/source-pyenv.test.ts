/**
 * Model source through the user's Python environment: a user class built on layers the table does not
 * know (torch's and Paddle's TransformerEncoder, paddle.vision's ResNet, timm's Block) is read from the
 * installed packages' real source, found through the interpreter given (`--python`) or a `.venv` above
 * the file, and must come out as the real state_dict() (test/python/pyenv_truth.py builds each with
 * the test environment's torch 2.13 / paddle 3.3.1 / timm). Also: the import resolver on its own
 * (re-exports, star imports, `import x.y as z`, namespace packages, stubs, cycles), and an interpreter
 * that is missing, broken or hangs — one note, and the model read as without an environment, in bounded time.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ImportResolver } from '../../server/src/source/importResolver';
import { PYTHON_TIMEOUT_MS, setPythonInterpreter } from '../../server/src/source/pythonEnv';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const env = testPython();
const TRUTH = path.join(__dirname, '..', 'python', 'pyenv_truth.py');
const SITE = path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages');
const ws = scratchDir('pyenv');

after(() => setPythonInterpreter(undefined));

const MODELS: Record<string, string> = {
  'paddle_encoder.py': `import paddle
import paddle.nn as nn


class M(paddle.nn.Layer):
    def __init__(self, d_model=32, nhead=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(100, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model))
        self.attn = nn.MultiHeadAttention(d_model, nhead, kdim=16, vdim=16)
        self.head = nn.Linear(d_model, 10)
`,
  'torch_encoder.py': `import torch
from torch import nn


class M(nn.Module):
    def __init__(self, d_model=32, nhead=4, layers=2):
        super().__init__()
        self.embed = nn.Embedding(100, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False)
        self.attn = nn.MultiheadAttention(d_model, nhead, kdim=16, vdim=16)
        self.head = nn.Linear(d_model, 10)
`,
  'paddle_zoo.py': `import paddle
from paddle.vision.models import ResNet
from paddle.vision.models.resnet import BasicBlock


class Res(ResNet):
    def __init__(self):
        super().__init__(BasicBlock, 18, num_classes=10)


def resnet():
    return paddle.vision.models.resnet18(num_classes=5)
`,
  'timm_blocks.py': `from torch import nn
from timm.models.vision_transformer import Block
from timm.layers import Mlp


class M(nn.Module):
    def __init__(self, dim=64, depth=2):
        super().__init__()
        self.blocks = nn.Sequential(*[Block(dim, 4, qkv_bias=True) for _ in range(depth)])
        self.mlp = Mlp(dim, 128)
`,
};
const CASES: [file: string, name: string, framework: string][] = [
  ['paddle_encoder.py', 'M', 'paddle'], ['torch_encoder.py', 'M', 'torch'],
  ['paddle_zoo.py', 'Res', 'paddle'], ['paddle_zoo.py', 'resnet', 'paddle'], ['timm_blocks.py', 'M', 'torch'],
];
for (const [name, text] of Object.entries(MODELS)) writeFileSync(path.join(ws.dir, name), text);

async function ours(spec: string): Promise<{ keys: [string, number[]][]; notes: string[] }> {
  const info = await readModelSource(spec);
  return { keys: info.tensors.map((t) => [t.key, t.shape]), notes: info.notes };
}

test('layers from installed source: torch\'s and Paddle\'s TransformerEncoder, paddle.vision\'s ResNet (a base class and a factory), timm\'s Block — exactly the real state_dict()', { skip: env.skip, timeout: 300_000 }, async () => {
  const specs = CASES.map(([f, n, fw]) => `${path.join(ws.dir, f)}::${n}::${fw}`);
  const truth = JSON.parse(runPython(env.python!, [TRUTH, ...specs])) as Record<string, [string, number[]][]>;
  setPythonInterpreter(env.python!);
  for (const [f, n] of CASES) {
    const spec = `${path.join(ws.dir, f)}::${n}`;
    const got = await ours(spec);
    assert.ok(truth[spec].length > 20, `${spec}: ${truth[spec].length} keys`);
    assert.deepEqual(got.keys, truth[spec], spec);
    assert.ok(got.notes.some((x) => x.includes(`resolved through ${env.python}`)), got.notes.join('\n'));
    // The frameworks' own undecided checks register nothing here, so they are not the user's notes.
    assert.ok(!got.notes.some((x) => /could not be decided/.test(x) && !/resnet\.py/.test(x)), got.notes.join('\n'));
  }
});

test('without an environment the same file is read as before: the unknown layers are gaps whose notes say how to give one', { skip: env.skip }, async () => {
  setPythonInterpreter(undefined); // the scratch folder has no .venv above it
  const got = await ours(`${path.join(ws.dir, 'torch_encoder.py')}::M`);
  assert.deepEqual(got.keys.map(([k]) => k.split('.')[0]).filter((k, i, a) => a.indexOf(k) === i), ['embed', 'attn', 'head']);
  assert.ok(got.notes.some((x) => /^`encoder` is incomplete \(torch_encoder\.py:\d+\): `torch\.nn\.TransformerEncoder` is not a layer Tensor Port knows.*--python PATH/.test(x)), got.notes.join('\n'));
});

test('a .venv above the model file is found and read from its layout, never run', async () => {
  const dir = scratchDir('pyenv-venv').dir;
  const venv = path.join(dir, '.venv');
  const site = path.join(venv, 'lib', 'python3.11', 'site-packages');
  mkdirSync(path.join(venv, 'bin'), { recursive: true });
  mkdirSync(path.join(site, 'blocks'), { recursive: true });
  const ran = path.join(dir, 'ran');
  writeFileSync(path.join(venv, 'bin', 'python'), `#!/bin/sh\ntouch ${JSON.stringify(ran)}\n`);
  chmodSync(path.join(venv, 'bin', 'python'), 0o755);
  writeFileSync(path.join(venv, 'pyvenv.cfg'), 'home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n');
  writeFileSync(path.join(site, 'blocks', '__init__.py'), 'from .mlp import Mlp\n');
  writeFileSync(path.join(site, 'blocks', 'mlp.py'), 'import torch.nn as nn\n\n\nclass Mlp(nn.Module):\n    def __init__(self, d, h):\n        super().__init__()\n        self.fc1 = nn.Linear(d, h)\n        self.fc2 = nn.Linear(h, d)\n');
  // An editable install: a .pth line naming a folder adds it (an `import` line is code, and is not run).
  const src = path.join(dir, 'src');
  mkdirSync(path.join(src, 'extra'), { recursive: true });
  writeFileSync(path.join(src, 'extra', '__init__.py'), 'import torch.nn as nn\n\n\nclass Head(nn.Module):\n    def __init__(self, d):\n        super().__init__()\n        self.proj = nn.Linear(d, 2)\n');
  writeFileSync(path.join(site, 'extra.pth'), `${src}\nimport os; open(${JSON.stringify(ran)}, "w")\n`);
  mkdirSync(path.join(dir, 'project', 'models'), { recursive: true });
  const model = path.join(dir, 'project', 'models', 'net.py');
  writeFileSync(model, 'from torch import nn\nfrom blocks import Mlp\nimport extra\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.mlp = Mlp(8, 16)\n        self.head = extra.Head(8)\n');
  setPythonInterpreter(undefined);
  const got = await ours(`${model}::Net`);
  assert.deepEqual(got.keys, [['mlp.fc1.weight', [16, 8]], ['mlp.fc1.bias', [16]], ['mlp.fc2.weight', [8, 16]], ['mlp.fc2.bias', [8]], ['head.proj.weight', [2, 8]], ['head.proj.bias', [2]]]);
  assert.ok(got.notes.some((x) => x.includes(`.venv at ${dir} (read, not run)`)), got.notes.join('\n'));
  assert.equal(existsSync(ran), false, 'the venv\'s python and the .pth file\'s code were not run');
});

test('an interpreter that is missing, broken or hangs: one note, the model as without an environment, within the timeout', async () => {
  const dir = scratchDir('pyenv-bad').dir;
  const broken = path.join(dir, 'broken');
  writeFileSync(broken, '#!/bin/sh\necho "no such module" >&2\nexit 3\n');
  const hangs = path.join(dir, 'hangs');
  writeFileSync(hangs, '#!/bin/sh\nexec sleep 60\n');
  const prints = path.join(dir, 'prints');
  writeFileSync(prints, '#!/bin/sh\necho hello\n');
  for (const f of [broken, hangs, prints]) chmodSync(f, 0o755);
  const model = path.join(dir, 'm.py');
  writeFileSync(model, 'from torch import nn\n\n\nclass M(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.enc = nn.TransformerEncoderLayer(8, 2)\n        self.fc = nn.Linear(8, 4)\n');
  const cases: [string, RegExp][] = [
    [path.join(dir, 'missing'), /does not exist/], [broken, /could not be run/], [hangs, /did not answer within 5 s/], [prints, /printed no search path/],
  ];
  for (const [python, why] of cases) {
    setPythonInterpreter(python);
    const t0 = Date.now();
    const got = await ours(`${model}::M`);
    assert.ok(Date.now() - t0 < PYTHON_TIMEOUT_MS + 3_000, `${python}: ${Date.now() - t0} ms`);
    assert.deepEqual(got.keys.map(([k]) => k), ['fc.weight', 'fc.bias']);
    const notes = got.notes.filter((n) => n.startsWith('the Python environment was not used'));
    assert.equal(notes.length, 1, got.notes.join('\n'));
    assert.match(notes[0], why);
    assert.ok(notes[0].includes(python));
  }
  setPythonInterpreter(undefined);
});

test('the resolver: __init__ re-exports, star imports, `import x.y as z`, namespace packages, stubs beside sources, cycles', () => {
  const root = scratchDir('pyenv-resolver').dir;
  const put = (rel: string, text: string) => { mkdirSync(path.dirname(path.join(root, rel)), { recursive: true }); writeFileSync(path.join(root, rel), text); };
  put('pkg/__init__.py', 'from .layer.transformer import Encoder\nfrom pkg.star import *\nimport pkg.sub.deep as deep\nfrom . import functional as F\n');
  put('pkg/layer/__init__.py', '');
  put('pkg/layer/transformer.py', 'class Encoder:\n    pass\n');
  put('pkg/star.py', 'from ._private import Hidden, Shown\n');
  put('pkg/_private.py', 'class Hidden:\n    pass\n\n\nclass Shown:\n    pass\n');
  put('pkg/sub/deep.py', 'def make():\n    return 1\n');
  put('pkg/functional.py', 'def relu(x):\n    return x\n');
  put('ns/part/mod.py', 'class InNamespace:\n    pass\n');
  put('stubbed/__init__.py', 'class Real:\n    pass\n');
  put('stubbed/__init__.pyi', 'class Stub: ...\n');
  put('onlystub/__init__.pyi', 'class Stub: ...\n');
  put('cyc/__init__.py', 'from .a import X\n');
  put('cyc/a.py', 'from .b import X\n');
  put('cyc/b.py', 'from .a import X\n');
  const r = new ImportResolver([root]);
  const where = (q: string) => { const v = r.resolveQualified(q); return v?.t === 'module' ? `module ${v.name}` : v ? `${v.t} ${path.relative(root, v.file.path)}` : undefined; };
  assert.equal(where('pkg.Encoder'), 'class pkg/layer/transformer.py');
  assert.equal(where('pkg.Shown'), 'class pkg/_private.py', 'through the star import');
  assert.equal(where('pkg.Hidden'), 'class pkg/_private.py', 'the star module re-exports it');
  assert.equal(where('pkg.deep.make'), 'func pkg/sub/deep.py', '`import pkg.sub.deep as deep`');
  assert.equal(where('pkg.F.relu'), 'func pkg/functional.py', '`from . import functional as F`');
  assert.equal(where('pkg.layer.transformer.Encoder'), 'class pkg/layer/transformer.py');
  assert.equal(where('ns.part.mod.InNamespace'), 'class ns/part/mod.py', 'a namespace package');
  assert.equal(where('ns.part'), 'module ns.part');
  assert.equal(where('stubbed.Real'), 'class stubbed/__init__.py', 'the .py, not the stub beside it');
  assert.equal(where('stubbed.Stub'), undefined);
  assert.equal(where('onlystub.Stub'), 'class onlystub/__init__.pyi', 'a stub where no source exists');
  assert.equal(where('cyc.X'), undefined, 'a cycle of imports ends');
  assert.equal(where('pkg.Missing'), undefined);
  assert.equal(r.moduleOf(path.join(root, 'pkg', 'layer', '__init__.py')), 'pkg.layer');
});

test('the resolver on the real frameworks: paddle.nn re-exports its layers from paddle/nn/layer/, torch.nn through `from torch.nn.modules import *`', { skip: env.skip }, () => {
  const r = new ImportResolver([SITE]);
  const file = (q: string) => { const v = r.resolveQualified(q); return v && v.t !== 'module' ? path.relative(SITE, v.file.path) : undefined; };
  assert.equal(file('paddle.nn.TransformerEncoder'), path.join('paddle', 'nn', 'layer', 'transformer.py'));
  assert.equal(file('paddle.nn.MultiHeadAttention'), path.join('paddle', 'nn', 'layer', 'transformer.py'));
  assert.equal(file('torch.nn.TransformerEncoderLayer'), path.join('torch', 'nn', 'modules', 'transformer.py'));
  assert.equal(file('torch.nn.MultiheadAttention'), path.join('torch', 'nn', 'modules', 'activation.py'));
  assert.equal(file('paddle.vision.models.resnet50'), path.join('paddle', 'vision', 'models', 'resnet.py'));
  assert.ok(r.read.size < 40, `${r.read.size} files read`);
});

test('keys --python --json: the notes name the interpreter and its search path', { skip: env.skip, timeout: 120_000 }, () => {
  const r = runCli(['keys', `${path.join(ws.dir, 'paddle_encoder.py')}::M`, '--json', '--python', env.python!]);
  assert.equal(r.code, 0, r.err);
  const doc = JSON.parse(r.out) as { tensors: { key: string }[]; notes: string[] };
  assert.ok(doc.tensors.some((t) => t.key === 'encoder.layers.1.linear2.weight'));
  const note = doc.notes.find((n) => n.includes(`resolved through ${env.python} (--python)`));
  assert.ok(note?.includes(SITE), doc.notes.join('\n'));
  const bad = runCli(['keys', `${path.join(ws.dir, 'paddle_encoder.py')}::M`, '--python', '']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--python takes the path of a Python interpreter/);
});

test('a .venv that is a link to an environment (as a workspace often has it) resolves the same', { skip: env.skip }, async () => {
  const dir = scratchDir('pyenv-link').dir;
  symlinkSync(path.join(__dirname, '..', 'python', '.venv'), path.join(dir, '.venv'));
  writeFileSync(path.join(dir, 'enc.py'), MODELS['paddle_encoder.py']);
  setPythonInterpreter(undefined);
  const got = await ours(`${path.join(dir, 'enc.py')}::M`);
  assert.ok(got.keys.some(([k]) => k === 'encoder.layers.1.self_attn.q_proj.weight'), got.notes.join('\n'));
  assert.ok(got.notes.some((n) => n.includes(`.venv at ${dir} (read, not run)`)));
});
