/**
 * `tensorport keys` on JAX and TensorFlow checkpoints side by side with the loaders a user would
 * otherwise call, from test/python/.venv-jax (requirements-jax.txt), on files this bench writes into a
 * scratch folder and removes:
 *  1. a 1 GiB `.npz` (np.savez, 64 float32 [4096, 1024] members) vs `np.load(mmap_mode='r')` — for an
 *     `.npz` numpy ignores mmap_mode, so every member it is asked for is read whole;
 *  2. a 300 MiB Flax msgpack (flax.serialization.to_bytes of a 3-level params tree) vs `msgpack_restore`;
 *  3. a 300 MiB TF2 checkpoint (tf.train.Checkpoint.write) vs `tf.train.list_variables`;
 *  4. a 300 MiB Orbax checkpoint (StandardCheckpointer, OCDBT: 64 float32 kernels, 64 bfloat16 biases) vs
 *     orbax's own `StandardCheckpointer().metadata()`.
 * Each side is timed as the whole command (start-up and imports included) and the listing alone (for us
 * readCheckpoint in process, median of 5 after a warm-up; Python best of 3); the whole command's peak RSS
 * comes from GNU time. Both sides must list the same number of tensors. Numbers go into
 * docs/benchmarks.md; no timed assertion anywhere. Run: npm run bench:frameworks
 * (TENSORPORT_BENCH_TINY=1: 2 small tensors per file, for the smoke test; TENSORPORT_BENCH_ONLY=npz|flax|tf2|orbax
 * runs that case alone)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { testJaxPython } from '../support/python';
import { benchFooter, benchHeader, size } from './benchEnv';
import { ours, pyListing, pythonRunner } from './pythonSide';
import { measure, report } from './measure';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'tensorport.js');
const TMP = path.join(__dirname, 'tmp-frameworks');

const env = testJaxPython();
if (env.skip !== false) {
  console.log(`frameworks bench skipped: ${env.skip}`);
  process.exit(0);
}
const PY: string = env.python;
const PYENV = { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3', JAX_PLATFORMS: 'cpu' };

const py = pythonRunner(PY, PYENV);

/** TENSORPORT_BENCH_ONLY=npz|flax|tf2|orbax runs that case alone. */
function wanted(name: string): boolean {
  const only = process.env.TENSORPORT_BENCH_ONLY;
  return !only || only.toLowerCase() === name.toLowerCase();
}

async function compare(title: string, file: string, loader: string, setup: string, list: string): Promise<void> {
  console.log(`\n${title}`);
  const cli = measure(process.execPath, [BIN, 'keys', file, '--json'], size(3, 1));
  const code = pyListing(setup, list);
  const them = measure('/usr/bin/env', [...Object.entries({ TF_CPP_MIN_LOG_LEVEL: '3', JAX_PLATFORMS: 'cpu' }).map(([k, v]) => `${k}=${v}`), PY, '-c', code], size(3, 1));
  report('  tensorport keys --json (whole command)', cli);
  report(`  ${loader} (whole command)`, them);
  const inner = await ours(file);
  const pyRuns = Array.from({ length: size(3, 1) }, () => py(code).trim().split(/\s+/).map(Number));
  const pyBest = Math.min(...pyRuns.map((r) => r[1]));
  if (pyRuns[0][0] !== inner.count) throw new Error(`${title}: tensorport lists ${inner.count} tensors, ${loader} ${pyRuns[0][0]}`);
  console.log(`  listing alone: tensorport ${inner.ms.toFixed(1)} ms, ${loader} ${pyBest.toFixed(1)} ms (${inner.count} tensors; ${(pyBest / inner.ms).toFixed(1)}×); whole command ${(them.wallMs / cli.wallMs).toFixed(1)}×, memory ${(them.peakRssMiB / cli.peakRssMiB).toFixed(1)}×`);
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  console.log(benchHeader());
  console.log(`node ${process.version}; ${py('import sys, numpy, flax, tensorflow as tf; print(sys.version.split()[0], "numpy", numpy.__version__, "flax", flax.__version__, "tensorflow", tf.__version__)').trim()}`);
  console.log('whole command: best of 3, peak RSS of the process; listing alone: median of 5 (tensorport, in process) vs best of 3 (Python)');

  const npz = path.join(TMP, 'big.npz');
  if (wanted('npz')) {
  py(`import numpy as np\nz = np.zeros(${size('(4096, 1024)', '(4, 4)')}, np.float32)\nnp.savez(${JSON.stringify(npz)}, **{f"Transformer/encoderblock_{i}/MlpBlock_0/Dense_0/kernel": z for i in range(${size(64, 2)})})`);
  spawnSync('sync');
  await compare('.npz (np.savez), 1 GiB (64 tensors)', npz, "np.load(mmap_mode='r')", 'import numpy as np',
    `z = np.load(${JSON.stringify(npz)}, mmap_mode="r")\nrows = [(k, z[k].dtype, z[k].shape) for k in z.files]`);
  }

  const mp = path.join(TMP, 'big.msgpack');
  if (wanted('flax')) {
  py(`import numpy as np\nfrom flax import serialization\nz = np.zeros(${size('(1024, 1200)', '(4, 12)')}, np.float32)\nt = {"params": {f"block_{i}": {"Dense_0": {"kernel": z, "bias": np.zeros(${size(1200, 12)}, np.float32)}} for i in range(${size(64, 2)})}}\nopen(${JSON.stringify(mp)}, "wb").write(serialization.to_bytes(t))`);
  spawnSync('sync');
  await compare('Flax msgpack (to_bytes), 300 MiB (128 tensors)', mp, 'flax.serialization.msgpack_restore',
    'from flax import serialization\nimport numpy as np',
    `tree = serialization.msgpack_restore(open(${JSON.stringify(mp)}, "rb").read())\nrows = []\ndef walk(p, v):\n    if isinstance(v, dict):\n        [walk(p + "." + k, x) for k, x in v.items()]\n    else:\n        rows.append((p, v.dtype, v.shape))\nwalk("", tree)`);
  }

  const prefix = path.join(TMP, 'tf2', 'ckpt');
  if (wanted('tf2')) {
  py(`import tensorflow as tf\nvs = [tf.Variable(tf.zeros(${size('(1024, 1200)', '(4, 12)')})) for _ in range(${size(64, 2)})]\nck = tf.train.Checkpoint(layers=vs)\nck.write(${JSON.stringify(prefix)})`);
  spawnSync('sync');
  await compare('TF2 checkpoint (tf.train.Checkpoint.write), 300 MiB (64 variables)', `${prefix}.index`, 'tf.train.list_variables', 'import tensorflow as tf',
    `rows = [r for r in tf.train.list_variables(${JSON.stringify(prefix)}) if r[0] != "_CHECKPOINTABLE_OBJECT_GRAPH"]`);
  }

  const orbax = path.join(TMP, 'orbax');
  if (wanted('orbax')) {
    py(`import numpy as np, orbax.checkpoint as ocp, ml_dtypes\nz = np.zeros(${size('(1024, 1200)', '(4, 12)')}, np.float32)\nb = np.zeros(${size(1200, 12)}, ml_dtypes.bfloat16)\nt = {"params": {f"block_{i}": {"Dense_0": {"kernel": z, "bias": b}} for i in range(${size(64, 2)})}}\nc = ocp.StandardCheckpointer()\nc.save(${JSON.stringify(orbax)}, t)\nc.wait_until_finished()`);
    spawnSync('sync');
    await compare('Orbax checkpoint (StandardCheckpointer, OCDBT), 300 MiB (128 arrays)', orbax, 'StandardCheckpointer().metadata', 'import orbax.checkpoint as ocp, jax',
      `m = ocp.StandardCheckpointer().metadata(${JSON.stringify(orbax)}).item_metadata.tree\nrows = [(l.dtype, l.shape) for l in jax.tree_util.tree_leaves(m)]`);
  }

  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

void main();
