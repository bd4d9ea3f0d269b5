/**
 * Benchmarks for `tensorport keys` (not a timed test: numbers go into docs/benchmarks.md).
 *  1. a synthetic safetensors with 100,000 tensors;
 *  2. a sparse 10 GB safetensors (made with truncate: no disk used) against a 10 MB one — header
 *     reading must not grow with the data;
 *     beside safetensors' `safe_open` listing the same file (test/python/.venv), runs interleaved;
 *  3. a ~1 GB torch zip against `python3 -c 'torch.load(...)'` where Debian's torch is installed.
 * Each run is the real CLI in a child process; we report wall time and peak RSS (from /usr/bin/time
 * where present, else process.resourceUsage of the child via a wrapper).
 * Run: npm run bench (TENSORPORT_BENCH_TINY=1: small files, one run each, for the smoke test)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { withSource } from '../../server/src/formats/byteSource';
import { readSafetensors } from '../../server/src/formats/safetensors';
import { sparseSafetensors as writeSparse } from '../support/sparse';
import { testPython } from '../support/python';
import { benchFooter, benchHeader, size } from './benchEnv';
import { Measure, measure as measureRuns, report } from './measure';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'tensorport.js');
const TMP = path.join(__dirname, 'tmp');
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });

/** `count` F32 tensors of `perTensor` elements each, the data a sparse hole. */
function sparseSafetensors(file: string, count: number, perTensor: number): void {
  writeSparse(file, (function* () {
    for (let i = 0; i < count; i++) yield [`model.layers.${Math.floor(i / 10)}.block.${i % 10}.weight`, [perTensor]] as [string, number[]];
  })());
}


const keys = (file: string) => [BIN, 'keys', file, '--json'];
const RUNS = size(3, 1);
const measure = (cmd: string, args: string[]) => measureRuns(cmd, args, RUNS);
console.log(benchHeader());
console.log(`node ${process.version}, ${process.platform}; best of ${RUNS} runs; peak RSS of the whole process`);

const many = path.join(TMP, 'many.safetensors');
const MANY = size(100_000, 200);
sparseSafetensors(many, MANY, 16);
// Side by side with safetensors' own listing (name, dtype, shape) from the Python test environment,
// interleaved run by run so both see the same machine load; medians of 5 (tiny mode: one).
const venv = testPython();
if (venv.python) {
  const listing = `from safetensors import safe_open\nwith safe_open(${JSON.stringify(many)}, "numpy") as h:\n    rows = [(k, h.get_slice(k).get_dtype(), h.get_slice(k).get_shape()) for k in h.keys()]`;
  // The listing prints nothing; `keys --json` prints 7 MB, through a pipe into this process and, the
  // same run beside it, to /dev/null (what the pipe costs is the reader's as much as the writer's).
  // And the listing printing a JSON document of the same tensors, through the same pipe: the same job
  // end to end (a script's `json.dumps` of what it listed, written at once: `json.dump` to stdout writes
  // piece by piece and took 3.5 s).
  const printed = `import json, sys\n${listing}\nsys.stdout.write(json.dumps({"tensors": [{"key": k, "dtype": d, "shape": s} for k, d, s in rows]}, separators=(",", ":")))`;
  const ours: Measure[] = [], discarded: Measure[] = [], theirs: Measure[] = [], theirsPrinted: Measure[] = [];
  const rounds = size(5, 1);
  for (let i = 0; i < rounds; i++) {
    ours.push(measureRuns(process.execPath, keys(many), 1));
    discarded.push(measureRuns(process.execPath, keys(many), 1, { discard: true }));
    theirs.push(measureRuns(venv.python, ['-c', listing], 1));
    theirsPrinted.push(measureRuns(venv.python, ['-c', printed], 1));
  }
  const med = (ms: Measure[]) => [...ms].sort((a, b) => a.wallMs - b.wallMs)[Math.floor(rounds / 2)];
  report(`keys --json: ${MANY.toLocaleString('en-US')} tensors (safetensors), median of ${rounds}`, med(ours));
  report('keys --json > /dev/null, the same file', med(discarded));
  report('safe_open listing the same file (name, dtype, shape)', med(theirs));
  report('safe_open listing, printed as JSON through the pipe', med(theirsPrinted));
  console.log(`  whole process: tensorport / safe_open = ${(med(ours).wallMs / med(theirs).wallMs).toFixed(2)} (to /dev/null ${(med(discarded).wallMs / med(theirs).wallMs).toFixed(2)}; both printing JSON through the pipe ${(med(ours).wallMs / med(theirsPrinted).wallMs).toFixed(2)}); load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
} else {
  report(`keys: ${MANY.toLocaleString('en-US')} tensors (safetensors)`, measure(process.execPath, keys(many)));
  console.log(`safe_open side by side: not measured (${venv.skip})`);
}

// In process, the reader alone: the byte scanner (into objects, and into columns as `keys` reads) against
// the general JSON.parse path on the same file.
async function readMedian(general: boolean, runs = size(9, 1), table = false): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 2; i++) await withSource(many, 'many.safetensors', (src) => readSafetensors(src, { general, table }));   // warm-up (JIT)
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await withSource(many, 'many.safetensors', (src) => readSafetensors(src, { general, table }));
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[runs >> 1];
}

const small = path.join(TMP, 'small.safetensors');
const big = path.join(TMP, 'big.safetensors');
sparseSafetensors(small, 100, size(25_000, 25));           // 100 × 100 KB = 10 MB
sparseSafetensors(big, 100, size(25_000_000, 25_000));     // 100 × 100 MB = 10 GB, sparse
report('keys: 10 MB safetensors (100 tensors)', measure(process.execPath, keys(small)));
report('keys: 10 GB sparse safetensors (100 tensors)', measure(process.execPath, keys(big)));

async function main(): Promise<void> {
  const fast = await readMedian(false), general = await readMedian(true), columns = await readMedian(false, size(9, 1), true);
  console.log(`read header in process, ${MANY.toLocaleString('en-US')} tensors: scanner ${fast.toFixed(0)} ms (into columns ${columns.toFixed(0)} ms), JSON.parse path ${general.toFixed(0)} ms (median of ${size(9, 1)} after 2 warm-ups; ${(general / fast).toFixed(1)}×)`);

  const python = '/usr/bin/python3';
  const haveTorch = existsSync(python) && spawnSync(python, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;
  if (!haveTorch) {
    console.log('torch zip vs torch.load: skipped (Debian python3-torch is not installed: apt-get install python3-torch)');
  } else {
    const pt = path.join(TMP, 'big.pt');
    const made = spawnSync(python, ['-c', [
      'import torch',
      'sd = {f"layers.{i}.weight": torch.zeros(${size(4096, 4)}, 1024) for i in range(${size(64, 2)})}  # 64 × 16 MiB = 1 GiB',
      `torch.save(sd, ${JSON.stringify(pt)})`,
    ].join('\n')], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(made.stderr);
    spawnSync('sync');   // the 1 GiB just written is flushed first: writeback would slow whichever runs next
    report('keys: 1 GiB torch zip (64 tensors)', measure(process.execPath, keys(pt)));
    report('python3 -c "torch.load(...)" on the same file', measure(python, ['-c', `import torch; torch.load(${JSON.stringify(pt)})`]));
    report('python3 -c "torch.load(..., weights_only=True)"', measure(python, ['-c', `import torch; torch.load(${JSON.stringify(pt)}, weights_only=True)`]));
    // Many entries: yauzl's per-record reads are what cost here, not bytes.
    const small = path.join(TMP, 'many.pt');
    const made2 = spawnSync(python, ['-c', `import torch; torch.save({f"l.{i}.w": torch.zeros(4) for i in range(${size(5000, 20)})}, ${JSON.stringify(small)})`], { encoding: 'utf8' });
    if (made2.status !== 0) throw new Error(made2.stderr);
    report('keys: torch zip of 5,000 small tensors', measure(process.execPath, keys(small)));
    report('python3 -c "torch.load(...)" on the same file', measure(python, ['-c', `import torch; torch.load(${JSON.stringify(small)})`]));
  }
  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

void main();
