/**
 * Test support: what TF.js itself builds from a model source in test/fixtures/tfjs-source (or another
 * fixture folder). The folder's files are transpiled to CommonJS with the `typescript` package (ES-module
 * JavaScript too, as the tfjs-examples sources are) into a scratch folder, and each model is built by calling its function in a fresh Node process — TF.js's layer-name
 * counters are per process, so a fresh one gives the names a model's first build gets.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { FIXTURES, scratchDir } from './tmp';

export const TFJS_SOURCE = path.join(FIXTURES, 'tfjs-source');
/** Model-building code others wrote: excerpts of tensorflow/tfjs-examples. */
export const TFJS_WILD = path.join(FIXTURES, 'tfjs-wild');
const NODE_MODULES = path.join(__dirname, '..', '..', 'node_modules');

export interface TruthWeight { name: string; shape: number[]; dtype: string }

const built = new Map<string, string>();

/** A fixture folder as CommonJS, once per test process. */
function transpiled(folder: string): string {
  const done = built.get(folder);
  if (done) return done;
  const out = scratchDir('tfjs-truth').dir;
  for (const f of readdirSync(folder)) {
    if (!/\.(ts|js)$/.test(f)) continue;
    const text = readFileSync(path.join(folder, f), 'utf8');
    const js = ts.transpileModule(text, { fileName: f, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, allowJs: true } }).outputText;
    writeFileSync(path.join(out, f.replace(/\.ts$/, '.js')), js);
  }
  built.set(folder, out);
  return out;
}

/** The Node command that builds `file`'s `fn(...args)` with TF.js and prints its `model.weights` as JSON (names as saved: `originalName`). */
export function tfjsBuildCommand(file: string, fn: string, args: unknown[] = [], folder = TFJS_SOURCE): { argv: string[]; env: NodeJS.ProcessEnv } {
  const mod = path.join(transpiled(folder), file.replace(/\.ts$/, '.js'));
  // Code others wrote logs (`model.summary()`, `console.log`): stdout is kept for the JSON.
  const script = `console.log = (...a) => process.stderr.write(a.join(' ') + '\\n');
const m = require(${JSON.stringify(mod)})[${JSON.stringify(fn)}](...${JSON.stringify(args)});
process.stdout.write(JSON.stringify(m.weights.map((w) => ({ name: w.originalName, shape: w.shape, dtype: w.dtype }))));`;
  return { argv: ['-e', script], env: { ...process.env, NODE_PATH: NODE_MODULES } };
}

/** `model.weights` of `file`'s `fn()` built by TF.js in a new process: names as saved, shapes, dtypes. */
export function tfjsWeights(file: string, fn: string, args: unknown[] = [], folder = TFJS_SOURCE): TruthWeight[] {
  const { argv, env } = tfjsBuildCommand(file, fn, args, folder);
  const out = execFileSync(process.execPath, argv, { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out) as TruthWeight[];
}
