/**
 * Test support: what TF.js itself builds from a model source in test/fixtures/tfjs-source. The folder's
 * files are transpiled to CommonJS with the `typescript` package (JavaScript copied as is) into a scratch
 * folder, and each model is built by calling its function in a fresh Node process — TF.js's layer-name
 * counters are per process, so a fresh one gives the names a model's first build gets.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { FIXTURES, scratchDir } from './tmp';

export const TFJS_SOURCE = path.join(FIXTURES, 'tfjs-source');
const NODE_MODULES = path.join(__dirname, '..', '..', 'node_modules');

export interface TruthWeight { name: string; shape: number[]; dtype: string }

let built: string | undefined;

/** The fixture folder as CommonJS, once per test process. */
function transpiled(): string {
  if (built) return built;
  const out = scratchDir('tfjs-truth').dir;
  for (const f of readdirSync(TFJS_SOURCE)) {
    const text = readFileSync(path.join(TFJS_SOURCE, f), 'utf8');
    if (f.endsWith('.ts')) {
      const js = ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText;
      writeFileSync(path.join(out, f.replace(/\.ts$/, '.js')), js);
    } else if (f.endsWith('.js')) writeFileSync(path.join(out, f), text);
  }
  return (built = out);
}

/** The Node command that builds `file`'s `fn(...args)` with TF.js and prints its `model.weights` as JSON (names as saved: `originalName`). */
export function tfjsBuildCommand(file: string, fn: string, args: unknown[] = []): { argv: string[]; env: NodeJS.ProcessEnv } {
  const mod = path.join(transpiled(), file.replace(/\.ts$/, '.js'));
  const script = `const m = require(${JSON.stringify(mod)})[${JSON.stringify(fn)}](...${JSON.stringify(args)});
process.stdout.write(JSON.stringify(m.weights.map((w) => ({ name: w.originalName, shape: w.shape, dtype: w.dtype }))));`;
  return { argv: ['-e', script], env: { ...process.env, NODE_PATH: NODE_MODULES } };
}

/** `model.weights` of `file`'s `fn()` built by TF.js in a new process: names as saved, shapes, dtypes. */
export function tfjsWeights(file: string, fn: string, args: unknown[] = []): TruthWeight[] {
  const { argv, env } = tfjsBuildCommand(file, fn, args);
  const out = execFileSync(process.execPath, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out) as TruthWeight[];
}
