/**
 * Large transposes and casts — the ones the converter hands to its kernel thread and SIMD kernels —
 * checked by torch itself: weights of F32, F16 and BF16, with sizes that are and are not multiples of
 * the kernels' blocks, transposed by `| transpose`, and float32 cast to F16 and (transposed) to BF16 —
 * ties, subnormals, overflow, NaN, random bit patterns — through the built CLI (dist/kernelWorker.js)
 * and in this process (the worker from source), read back by safetensors and compared bit for bit with
 * `w.T.contiguous()` and `w.to(torch.float16 / bfloat16)`.
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
# Cast sources: every kind of float32 a cast meets — ties, subnormals of both halves, overflow, NaNs.
c = torch.randn(1024, 701, generator=g) * torch.logspace(-30, 30, 701).float()
flat = c.view(-1)
flat[:8] = torch.tensor([0.0, -0.0, 65504.0, 65519.99, 65520.0, float("inf"), -float("inf"), float("nan")])
flat[8:4096] = torch.randint(0, 2 ** 31, (4088,), generator=g, dtype=torch.int64).to(torch.int32).view(torch.float32)
flat[4096:8192] = torch.arange(4096, dtype=torch.int32).mul(4096).add(0x33000000).view(torch.float32)  # around half subnormals
w["c.0.weight"], w["c.1.weight"] = c, c[:, :700].contiguous() * 3
save_file(w, d + "/src.safetensors")
tgt = {k: v.T.contiguous() for k, v in w.items() if k.startswith("l.")}
tgt["c.0.weight"] = w["c.0.weight"].to(torch.float16)
tgt["c.1.weight"] = w["c.1.weight"].T.contiguous().to(torch.bfloat16)
save_file(tgt, d + "/tgt.safetensors")
`;

const CHECK = `
import sys, json, torch
from safetensors.torch import load_file
d = sys.argv[1]
src = load_file(d + "/src.safetensors")
want = {k: v.T.contiguous() for k, v in src.items() if k.startswith("l.")}
want["c.0.weight"] = src["c.0.weight"].to(torch.float16)
want["c.1.weight"] = src["c.1.weight"].T.contiguous().to(torch.bfloat16)
res = {}
for name in sys.argv[2:]:
    out = load_file(d + "/" + name)
    bits = lambda t: t.view(torch.int16 if t.element_size() == 2 else torch.int32)
    # Bit for bit, except NaNs: any NaN stays a NaN, but the payload is canonical (torch's vectorised
    # F16C conversion keeps some payload bits; its scalar one does not): docs/reference.md says so.
    same = lambda a, b: bool(torch.equal(a.isnan(), b.isnan()) and torch.equal(bits(a)[~a.isnan()], bits(b)[~b.isnan()]))
    res[name] = {k: out[k].dtype == v.dtype and out[k].shape == v.shape and same(out[k], v) for k, v in want.items()}
print(json.dumps(res))
`;

test('large transposes (F32, F16, BF16, odd sizes) and casts to F16/BF16 come out as torch\'s bit for bit, from the CLI and in-process', { skip: env.skip, timeout: 300_000 }, async () => {
  const { dir, file } = scratchDir('convert-transpose');
  runPython(env.python!, ['-c', MAKE, dir]);
  const mapping = file('m.tpmap', 'source src.safetensors\ntarget tgt.safetensors\nl.{i}.weight -> l.{i}.weight | transpose\nc.0.weight -> c.0.weight | cast(F16)\nc.1.weight -> c.1.weight | transpose | cast(BF16)\n');
  const cli = runCli(['convert', mapping, '-o', `${dir}/cli.safetensors`, '--force']);
  assert.equal(cli.code, 0, cli.err);
  await convertMapping(mapping, `${dir}/lib.safetensors`, { force: true });
  writeFileSync(`${dir}/check.py`, CHECK);
  const res = JSON.parse(runPython(env.python!, [`${dir}/check.py`, dir, 'cli.safetensors', 'lib.safetensors'])) as Record<string, Record<string, boolean>>;
  for (const [out, keys] of Object.entries(res)) {
    assert.deepEqual(keys, { 'l.0.weight': true, 'l.1.weight': true, 'l.2.weight': true, 'l.3.weight': true, 'l.4.weight': true, 'c.0.weight': true, 'c.1.weight': true }, out);
  }
});
