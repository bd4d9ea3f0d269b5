/**
 * Hover and completion on `set` lines: the names are the model source's constructor parameters (with
 * their defaults, and the value the side was built with), then the config values its inference used.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { completeAt } from '../../server/src/mapping/completion';
import { hoverAt } from '../../server/src/mapping/hover';
import { parseMapping } from '../../server/src/mapping/parse';
import { loadSides } from '../../server/src/mapping/sides';
import { sparseSafetensors } from '../support/sparse';
import { scratchDir } from '../support/tmp';

const s = scratchDir('set-values');
sparseSafetensors(path.join(s.dir, 'ckpt.safetensors'), [['proj.weight', [16, 16]], ['proj.bias', [16]]]);
s.file('port.py', ['import torch.nn as nn', '', 'class Port(nn.Module):', '    def __init__(self, dim=8, qkv_bias=False, eps=1e-5, act=nn.GELU):', '        super().__init__()',
  '        self.proj = nn.Linear(dim, dim, bias=qkv_bias)', '        self.norm = nn.LayerNorm(dim, eps=eps)', ''].join('\n'));
const MAPPING = path.join(s.dir, 'port.tpmap');

async function at(text: string, marker: string) {
  const offset = text.indexOf(marker);
  const clean = text.replace(marker, '');
  const file = parseMapping(clean);
  return { file, offset, sides: await loadSides(MAPPING, file, new CheckpointIndex()) };
}

const HEAD = 'source ckpt.safetensors\ntarget port.py::Port\nset dim = 16\n';

test('completion after `set` offers the constructor parameters not set yet, each with its default', async () => {
  const { file, offset, sides } = await at(`${HEAD}set q|\nproj.* -> proj.*\n`, '|');
  const items = completeAt(file, offset, { sides, mappingPath: MAPPING, files: [] }).items;
  assert.deepEqual(items.map((i) => [i.label, i.detail, i.insertText]), [['qkv_bias', 'default False', 'qkv_bias = '], ['eps', 'default 1e-5', 'eps = '], ['act', 'default …', 'act = ']]);
  assert.equal(items[0].kind, 'parameter');
  assert.deepEqual(items[0].range, { start: offset - 1, end: offset });
});

test('hover on a `set` name says which parameter it binds, its default and the value the side was built with', async () => {
  const { file, offset, sides } = await at(`${HEAD.replace('set dim', 'set d|im')}proj.* -> proj.*\n`, '|');
  assert.equal(hoverAt(file, offset, sides)!.markdown, '`dim`: a parameter of `Port.__init__`; default `8`; built with 16 (`set dim = 16` (line 3))');
  const typo = await at(`${HEAD}set di|mm = 3\n`, '|');
  assert.equal(hoverAt(typo.file, typo.offset, typo.sides)!.markdown, '`dimm` is not a constructor parameter or config value the model source uses');
});
