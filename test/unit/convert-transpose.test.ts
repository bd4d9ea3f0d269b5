/**
 * Large transposes — the ones the converter hands to its gathering thread and SIMD kernels — checked by
 * torch itself: weights of F32, F16 and BF16, with sizes that are and are not multiples of the kernels'
 * blocks, transposed by `| transpose` through the built CLI (dist/gatherWorker.js) and in this process
 * (the worker from source), read back by safetensors and compared bit for bit with `w.T.contiguous()`.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { convertMapping } from '../../server/src/mapping/convert/convertMapping';
import { runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const env = testPython();

const MAKE = `
import sys, torch
from safetensors.torch import save_file
d = sys.argv[1]
g = torch.Generator().manual_seed(0)
w = {
  "l.0.weight": torch.randn(1027, 515, generator=g),
  "l.1.weight": torch.randn(2048, 1030, generator=g).to(torch.bfloat16),
  "l.2.weight": torch.randn(1536, 768, generator=g).to(torch.float16),
  "l.3.weight": torch.randn(512, 2048, generator=g),
  "l.4.weight": torch.randn(6, 6, generator=g),
}
w["l.0.weight"][3, 7] = float("nan")
save_file(w, d + "/src.safetensors")
save_file({k: v.T.contiguous() for k, v in w.items()}, d + "/tgt.safetensors")
`;

const CHECK = `
import sys, json, torch
from safetensors.torch import load_file
d = sys.argv[1]
src = load_file(d + "/src.safetensors")
res = {}
for name in sys.argv[2:]:
    out = load_file(d + "/" + name)
    res[name] = {k: out[k].dtype == v.dtype and out[k].shape == v.T.shape and
                 torch.equal(out[k].view(torch.uint8 if v.element_size() == 1 else torch.int16 if v.element_size() == 2 else torch.int32),
                             v.T.contiguous().view(torch.uint8 if v.element_size() == 1 else torch.int16 if v.element_size() == 2 else torch.int32))
                 for k, v in src.items()}
print(json.dumps(res))
`;

test('large transposes (F32, F16, BF16, odd sizes) come out as torch\'s w.T bit for bit, from the CLI and in-process', { skip: env.skip, timeout: 300_000 }, async () => {
  const { dir, file } = scratchDir('convert-transpose');
  runPython(env.python!, ['-c', MAKE, dir]);
  const mapping = file('m.tpmap', 'source src.safetensors\ntarget tgt.safetensors\nl.{i}.weight -> l.{i}.weight | transpose\n');
  const cli = runCli(['convert', mapping, '-o', `${dir}/cli.safetensors`, '--force']);
  assert.equal(cli.code, 0, cli.err);
  await convertMapping(mapping, `${dir}/lib.safetensors`, { force: true });
  writeFileSync(`${dir}/check.py`, CHECK);
  const res = JSON.parse(runPython(env.python!, [`${dir}/check.py`, dir, 'cli.safetensors', 'lib.safetensors'])) as Record<string, Record<string, boolean>>;
  for (const [out, keys] of Object.entries(res)) {
    assert.deepEqual(keys, { 'l.0.weight': true, 'l.1.weight': true, 'l.2.weight': true, 'l.3.weight': true, 'l.4.weight': true }, out);
  }
});
