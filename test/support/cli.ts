/** Test support: the built CLI (bin/tensorport.js → dist/cli.js, so `node esbuild.mjs` first), run as a user runs it. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');

export function runCli(args: string[], opts: { cwd?: string } = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: opts.cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
