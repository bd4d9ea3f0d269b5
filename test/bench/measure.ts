/** Bench support: a command's best wall time over some runs, and its peak RSS (GNU time, where installed). */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Measure { wallMs: number; peakRssMiB: number }

/** `discard`: the command's stdout goes to /dev/null rather than through a pipe into this process. */
export function measure(cmd: string, args: string[], runs = 3, opts: { discard?: boolean } = {}): Measure {
  const stdio: ('pipe' | 'ignore')[] = ['pipe', opts.discard ? 'ignore' : 'pipe', 'pipe'];
  const haveTime = existsSync('/usr/bin/time');
  let best: Measure = { wallMs: Infinity, peakRssMiB: NaN };
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    const r = haveTime
      ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, stdio })
      : spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, stdio });
    const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    const rssKiB = haveTime ? Number(r.stderr.trim().split('\n').pop()) : NaN;
    if (wallMs < best.wallMs) best = { wallMs, peakRssMiB: rssKiB / 1024 };
  }
  return best;
}

export function report(name: string, m: Measure, width = 58): void {
  console.log(`${name.padEnd(width)} ${m.wallMs.toFixed(0).padStart(7)} ms  ${Number.isNaN(m.peakRssMiB) ? '   n/a' : m.peakRssMiB.toFixed(0).padStart(6)} MiB`);
}
