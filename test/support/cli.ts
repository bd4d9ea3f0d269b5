/** Test support: the built CLI (bin/tensorport.js → dist/cli.js, so `node esbuild.mjs` first), run as a user runs it. */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

export const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');

export function runCli(args: string[], opts: { cwd?: string } = {}): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: opts.cwd });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A diagnostic of `check --json`, as the port tests compare it. */
export interface CheckDiag { line: number; severity: string; code: string; message: string }

/** `tensorport check FILE --json`'s diagnostics (exit 0 or 1: the check ran). */
export function checkDiagnostics(mappingPath: string): CheckDiag[] {
  const r = runCli(['check', mappingPath, '--json']);
  if (r.code !== 0 && r.code !== 1) throw new Error(`check exited ${r.code}: ${r.err}`);
  return (JSON.parse(r.out) as { diagnostics: CheckDiag[] }).diagnostics.map((d) => ({ line: d.line, severity: d.severity, code: d.code, message: d.message }));
}
