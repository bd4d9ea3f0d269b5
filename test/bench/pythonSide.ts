/**
 * What the loader benches share: running a snippet in the bench's Python and timing its listing alone
 * there, and our own listing alone in process (the median of warm reads), so the two columns are measured
 * the same way in every bench.
 */
import { spawnSync } from 'node:child_process';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { size } from './benchEnv';

/** A runner for `python -c CODE` that throws with the end of stderr when it fails. */
export function pythonRunner(python: string, env: NodeJS.ProcessEnv): (code: string) => string {
  return (code) => {
    const r = spawnSync(python, ['-c', code], { encoding: 'utf8', maxBuffer: 1 << 28, env });
    if (r.status !== 0) throw new Error(r.stderr.slice(-3000));
    return r.stdout;
  };
}

/** The listing alone in Python: `setup` imports, `list` leaves `rows`; prints count and ms. */
export function pyListing(setup: string, list: string): string {
  return `${setup}\nimport time\nt = time.perf_counter()\n${list}\nprint(len(rows), (time.perf_counter() - t) * 1000)`;
}

/** Our listing alone, in process: the median of 5 warm reads (tiny mode: one) after a first one. */
export async function ours(file: string): Promise<{ count: number; ms: number }> {
  await readCheckpoint(file);
  const times: number[] = [];
  let count = 0;
  for (let i = 0; i < size(5, 1); i++) {
    const t = performance.now();
    count = (await readCheckpoint(file)).tensors.length;
    times.push(performance.now() - t);
  }
  return { count, ms: times.sort((a, b) => a - b)[times.length >> 1] };
}
