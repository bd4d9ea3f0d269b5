/**
 * Bench support: the first read of a checkpoint in a fresh process (firstRead.ts), through the code
 * esbuild ships — tsx's module wrappers would slow a cold pickle VM and say nothing about the product.
 * Bundled from this tree and, for a before/after on the same machine in the same run, from an earlier
 * commit's server/src (TENSORPORT_BENCH_BASELINE=<commit>).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';

const ROOT = path.join(__dirname, '..', '..');

export interface FirstReadBundle { label: string; js: string }

function bundle(root: string, out: string): string {
  buildSync({
    entryPoints: [path.join(root, 'test', 'bench', 'firstRead.ts')], outfile: out, bundle: true, platform: 'node', target: 'node20',
    format: 'cjs', logLevel: 'warning', nodePaths: [path.join(ROOT, 'node_modules')], external: ['onnxruntime-node', 'typescript'],
  });
  return out;
}

/** This tree's bundle, and the baseline commit's first when one is asked for. */
export function firstReadBundles(tmp: string): FirstReadBundle[] {
  const out: FirstReadBundle[] = [];
  const base = process.env.TENSORPORT_BENCH_BASELINE;
  if (base) {
    const dir = path.join(tmp, 'baseline');
    mkdirSync(path.join(dir, 'test', 'bench'), { recursive: true });
    const tar = spawnSync('sh', ['-c', `git -C "$1" archive "$2" server/src | tar -x -C "$3"`, 'sh', ROOT, base, dir], { encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`TENSORPORT_BENCH_BASELINE=${base}: ${tar.stderr}`);
    copyFileSync(path.join(__dirname, 'firstRead.ts'), path.join(dir, 'test', 'bench', 'firstRead.ts'));
    out.push({ label: `tensorport at ${base}`, js: bundle(dir, path.join(tmp, 'firstRead-baseline.js')) });
  }
  out.push({ label: 'tensorport', js: bundle(ROOT, path.join(tmp, 'firstRead.js')) });
  return out;
}

/** One first read in a fresh process: the tensor count and the read's milliseconds. */
export function firstRead(js: string, file: string): { count: number; ms: number } {
  const r = spawnSync(process.execPath, [js, file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`first read of ${file}: ${r.stderr.slice(-2000)}`);
  const [count, ms] = r.stdout.trim().split(/\s+/).map(Number);
  return { count, ms };
}

export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
