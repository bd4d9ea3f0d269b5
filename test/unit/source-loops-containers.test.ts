/**
 * `break`/`continue`/`for … else`, the standard containers timm's registries and builders fill (set,
 * deque, defaultdict, dataclass field factories, `{**kwargs}`, star targets) and classes deriving from
 * nn.Sequential: the real state_dict() of a scratch model (test/python/constructs_truth.py), and exits
 * under conditions nothing decides listed as conditional, never dropped or certain.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { readModelSource } from '../../server/src/source/readModelSource';
import { runPython, testPython } from '../support/python';
import { FIXTURES } from '../support/tmp';

const env = testPython();
const FILE = path.join(FIXTURES, 'source', 'constructs-c', 'loops.py');

test('loop control, set/deque/defaultdict, field(default_factory), asdict, {**kw}, star targets and nn.Sequential subclasses: the real state_dict()', { skip: env.skip, timeout: 300_000 }, async () => {
  const out = runPython(env.python!, [path.join(__dirname, '..', 'python', 'constructs_truth.py'), JSON.stringify([{ file: FILE, class: 'Net', framework: 'torch' }])], { timeoutMs: 240_000 });
  const [real] = JSON.parse(out) as { keys: [string, number[], string][] }[];
  const info = await readModelSource(`${FILE}::Net`);
  assert.deepEqual(info.tensors.map((t) => [t.key, t.shape, t.dtype]), real.keys);
  assert.equal(info.incomplete?.length ?? 0, 0);
});

test('continue and break under a condition nothing decides: what follows them is conditional on its negation', async () => {
  const info = await readModelSource(`${FILE}::Undecided`);
  const cond = new Map(info.tensors.map((t) => [t.key, t.conditional]));
  assert.deepEqual([...cond.keys()], ['kept0.weight', 'kept0.bias', 'kept1.weight', 'kept1.bias', 'until0.weight', 'until0.bias', 'until1.weight', 'until1.bias', 'always.weight', 'always.bias']);
  assert.equal(cond.get('kept1.weight'), 'not `skip`');
  assert.equal(cond.get('until0.weight'), 'not `stop`');
  assert.equal(cond.get('always.weight'), undefined);
});
