/**
 * `tensorport keys` side by side with the real loaders a user would otherwise call, on the same files
 * in one run, from the project's Python test environment (test/python/.venv):
 *  1. safetensors' `safe_open` listing keys, dtypes and shapes of a 100,000-tensor file;
 *  2. `torch.load(mmap=True, weights_only=True)` of a 1 GiB torch 2.13 zip, and of 3,000 small tensors;
 *  3. `paddle.load` of a 1 GiB `.pdparams` (Paddle 3.3, protocol 4), and of 3,000 small tensors;
 *  4. gguf-py's `GGUFReader` on a LLaMA-shaped GGUF (291 tensors, a 32,000-token vocabulary).
 * Each side is timed three ways: the whole command (start-up and imports included: what a user waits
 * for); the first read in a fresh process after its imports (firstRead.ts, bundled as shipped; rounds
 * interleaved with Python's, medians); and, for us, the read warm (median of 5 after a warm-up in one
 * process). Both sides must list the same number of tensors. Not a timed test: numbers go into
 * docs/benchmarks.md. Run: npm run bench:loaders (TENSORPORT_BENCH_TINY=1: small files, one run each,
 * for the smoke test; TENSORPORT_BENCH_BASELINE=<commit>: the first read of that commit's readers too)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { testPython } from '../support/python';
import { sparseSafetensors } from '../support/sparse';
import { TINY, benchFooter, benchHeader, size } from './benchEnv';
import { llamaGgufScript } from './llamaGguf';
import { type FirstReadBundle, firstRead, firstReadBundles, median } from './firstReadBundle';
import { ours, pyListing, pythonRunner } from './pythonSide';
import { measure as measureRuns, report } from './measure';

const measure = (cmd: string, args: string[]) => measureRuns(cmd, args, size(3, 1));

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'tensorport.js');
const TMP = path.join(__dirname, 'tmp-loaders');

const env = testPython();
if (env.skip !== false) {
  console.log(`loaders bench skipped: ${env.skip}`);
  process.exit(0);
}
const PY: string = env.python;
let bundles: FirstReadBundle[] = [];

const py = pythonRunner(PY, { ...process.env, GLOG_minloglevel: '3' });

async function compare(title: string, file: string, loader: string, setup: string, list: string): Promise<void> {
  console.log(`\n${title}`);
  const cli = measure(process.execPath, [BIN, 'keys', file, '--json']);
  const code = pyListing(setup, list);
  // Tiny mode starts Python once per format (the listing below), not for the whole-command timing too.
  // Tiny mode skips the Python side's whole-command runs (its first read is still timed below).
  const them = TINY ? { wallMs: NaN, peakRssMiB: NaN } : measure(PY, ['-c', code]);
  report('  tensorport keys --json (whole command)', cli);
  report(`  ${loader} (whole command)`, them);
  const inner = await ours(file);
  // The first read in a fresh process (each side's imports done), rounds interleaved so load swings hit all sides alike.
  const firsts = bundles.map(() => [] as number[]);
  const pyRuns: number[][] = [];
  for (let round = 0; round < size(5, 1); round++) {
    bundles.forEach((b, i) => {
      const r = firstRead(b.js, file);
      if (r.count !== inner.count) throw new Error(`${title}: ${b.label} lists ${r.count} tensors, in process ${inner.count}`);
      firsts[i].push(r.ms);
    });
    pyRuns.push(py(code).trim().split(/\s+/).map(Number));
  }
  const pyFirst = median(pyRuns.map((r) => r[1]));
  if (pyRuns[0][0] !== inner.count) throw new Error(`${title}: tensorport lists ${inner.count} tensors, ${loader} ${pyRuns[0][0]}`);
  const ourFirst = median(firsts[firsts.length - 1]);
  console.log(`  first read, fresh process (median of ${pyRuns.length}, interleaved): ${bundles.map((b, i) => `${b.label} ${median(firsts[i]).toFixed(1)} ms`).join(', ')}, ${loader} ${pyFirst.toFixed(1)} ms (${(pyFirst / ourFirst).toFixed(1)}×)`);
  console.log(`  listing alone, warm: tensorport ${inner.ms.toFixed(1)} ms (${inner.count} tensors; ${(pyFirst / inner.ms).toFixed(1)}× ${loader}'s first read); whole command ${(them.wallMs / cli.wallMs).toFixed(1)}×, memory ${(them.peakRssMiB / cli.peakRssMiB).toFixed(1)}×`);
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  console.log(benchHeader());
  bundles = firstReadBundles(TMP);
  console.log(`node ${process.version}; ${py('import sys, torch, paddle, safetensors, gguf; print(sys.version.split()[0], "torch", torch.__version__, "paddle", paddle.__version__, "safetensors", safetensors.__version__, "gguf", gguf.__version__ if hasattr(gguf, "__version__") else "0.19")').trim()}`);
  console.log('whole command: best of 3, peak RSS of the process; first read: the read alone in a fresh process after its imports (tensorport bundled as shipped, Python after `import`), median of 5 rounds, the sides interleaved; listing alone, warm: median of 5 in one process after a warm-up (tensorport)');

  const many = path.join(TMP, 'many.safetensors');
  sparseSafetensors(many, (function* () {
    for (let i = 0; i < size(100_000, 200); i++) yield [`model.layers.${Math.floor(i / 10)}.block.${i % 10}.weight`, [16]] as [string, number[]];
  })());
  await compare(`safetensors, ${size(100_000, 200).toLocaleString('en-US')} tensors`, many, 'safe_open', 'from safetensors import safe_open',
    `with safe_open(${JSON.stringify(many)}, "numpy") as h:\n    rows = [(k, h.get_slice(k).get_dtype(), h.get_slice(k).get_shape()) for k in h.keys()]`);

  const pt = path.join(TMP, 'big.pt');
  py(`import torch\ntorch.save({f"layers.{i}.weight": torch.zeros(${size(4096, 4)}, 1024) for i in range(${size(64, 2)})}, ${JSON.stringify(pt)})`);
  spawnSync('sync');
  await compare('torch 2.13 zip, 1 GiB (64 tensors)', pt, 'torch.load(mmap=True, weights_only=True)', 'import torch',
    `sd = torch.load(${JSON.stringify(pt)}, mmap=True, weights_only=True)\nrows = [(k, v.dtype, tuple(v.shape)) for k, v in sd.items()]`);

  const manyPt = path.join(TMP, 'many.pt');
  py(`import torch\ntorch.save({f"layers.{i // 10}.block.{i % 10}.weight": torch.zeros(64) for i in range(${size(3000, 20)})}, ${JSON.stringify(manyPt)})`);
  await compare(`torch 2.13 zip, ${size(3000, 20).toLocaleString('en-US')} small tensors`, manyPt, 'torch.load(mmap=True, weights_only=True)', 'import torch',
    `sd = torch.load(${JSON.stringify(manyPt)}, mmap=True, weights_only=True)\nrows = [(k, v.dtype, tuple(v.shape)) for k, v in sd.items()]`);

  const pd = path.join(TMP, 'big.pdparams');
  py(`import paddle\npaddle.save({f"layers.{i}.weight": paddle.zeros([1024, ${size(4096, 4)}]) for i in range(${size(64, 2)})}, ${JSON.stringify(pd)})`);
  spawnSync('sync');
  await compare('Paddle 3.3 .pdparams, 1 GiB (64 tensors)', pd, 'paddle.load', 'import paddle',
    `sd = paddle.load(${JSON.stringify(pd)})\nrows = [(k, v.dtype, tuple(v.shape)) for k, v in sd.items()]`);

  const manyPd = path.join(TMP, 'many.pdparams');
  py(`import paddle\npaddle.save({f"layers.{i // 10}.block.{i % 10}.weight": paddle.zeros([64]) for i in range(${size(3000, 20)})}, ${JSON.stringify(manyPd)})`);
  await compare(`Paddle 3.3 .pdparams, ${size(3000, 20).toLocaleString('en-US')} small tensors`, manyPd, 'paddle.load', 'import paddle',
    `sd = paddle.load(${JSON.stringify(manyPd)})\nrows = [(k, v.dtype, tuple(v.shape)) for k, v in sd.items()]`);

  const gg = path.join(TMP, 'llama.gguf');
  py(llamaGgufScript(gg));
  await compare('GGUF, LLaMA-shaped (291 tensors, 32,000-token vocabulary)', gg, 'gguf.GGUFReader', 'import gguf',
    `r = gguf.GGUFReader(${JSON.stringify(gg)})\nrows = [(t.name, t.tensor_type, tuple(t.shape)) for t in r.tensors]`);

  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

void main();
