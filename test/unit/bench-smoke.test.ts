/**
 * Every bench in test/bench runs once on tiny inputs (TENSORPORT_BENCH_TINY=1), so none rots between
 * the measurements docs/benchmarks.md publishes. No time is asserted: a bench passes when it exits 0
 * and prints its header line (benchEnv.ts). A bench that says it skipped something fails here, unless
 * that something is an optional tool docs/benchmarks.md names as such (OPTIONAL below); the Python parts
 * run in test/python/.venv, and TENSORPORT_PYTHON_TESTS=skip skips the benches that need it, saying so.
 * The benches run one after another, against the built bundle (dist/, bin/): `npm test` builds first.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const BENCH = path.join(__dirname, '..', 'bench');
const ROOT = path.join(__dirname, '..', '..');

/** Skips a bench may print and still pass: tools the project does not install (docs/benchmarks.md says so). */
const OPTIONAL: Record<string, RegExp> = {
  'keys.bench.ts': /^torch zip vs torch\.load: skipped \(Debian python3-torch is not installed/m,
  'parity-padiff.bench.ts': /^skipped: TENSORPORT_PADIFF_PYTHON is not set/m,
};

/** Benches that need test/python/.venv (skipped, visibly, under TENSORPORT_PYTHON_TESTS=skip). */
const PYTHON = new Set(['loaders.bench.ts', 'source.bench.ts', 'parity-eager.bench.ts', 'scripts-corpus.bench.ts', 'ports.bench.ts', 'convert.bench.ts', 'workspace.bench.ts', 'remote.bench.ts']);

const benches = readdirSync(BENCH).filter((f) => f.endsWith('.bench.ts')).sort();

test('the bench folder has benches to run', () => {
  assert.ok(benches.length >= 10, benches.join(', '));
});

for (const bench of benches) {
  const skip = PYTHON.has(bench) && process.env.TENSORPORT_PYTHON_TESTS === 'skip' ? 'TENSORPORT_PYTHON_TESTS=skip' : false;
  test(`${bench} runs in tiny mode`, { skip }, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(BENCH, bench)], {
      cwd: ROOT, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, TENSORPORT_BENCH_TINY: '1' },
    });
    const out = `${r.stdout}\n${r.stderr}`;
    assert.equal(r.status, 0, `${bench} exited ${r.status ?? r.signal}:\n${out.slice(-3000)}`);
    const optional = OPTIONAL[bench];
    const skipped = r.stdout.split('\n').filter((l) => /skipped/i.test(l) && !(optional && optional.test(l)));
    assert.deepEqual(skipped, [], `${bench} skipped something it needs`);
    // A bench that stops at an optional tool's absence prints nothing more; any other prints its header.
    if (!(optional && optional.test(r.stdout) && /^skipped/m.test(r.stdout))) {
      assert.match(r.stdout, /TINY MODE/, `${bench} printed no bench header (benchEnv.ts's benchHeader):\n${out.slice(-2000)}`);
    }
  });
}
