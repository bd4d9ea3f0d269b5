/**
 * TF.js model source: Tensor Port's static read against building the model with TF.js, per model of
 * test/fixtures/tfjs-source (the models source-tfjs.test.ts checks against TF.js):
 *  (1) in this process, cold — model and lowered-file caches reset (the TypeScript parser stays loaded):
 *      median of 3, wall time;
 *  (2) `tensorport keys FILE::fn --json` in a fresh process (Node start and loading the compiler included), best of 3;
 *  (3) TF.js building the same model in a fresh Node process (`require('@tensorflow/tfjs')`, the function
 *      called, `model.weights` printed; the CPU backend initialises every weight), best of 3.
 * A last row builds the ViT at ViT-Base sizes (224/16, 768 wide, 12 blocks: 86M weights) once each way:
 * the static read does not depend on the weights' size, TF.js initialises all of them.
 * Prints a table, the medians of the fixture rows, the date and /proc/loadavg before and after (the cores are shared).
 * Run: npm run build && node --import tsx test/bench/tfjs-source.bench.ts (TENSORPORT_BENCH_TINY=1: two models, one run
 * each, ViT at its small defaults, for the smoke test)
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { resetSourceCaches } from '../../server/src/source/loadModel';
import { inferModelInfo } from '../../server/src/source/readModelSource';
import { TFJS_SOURCE, tfjsBuildCommand } from '../support/tfjsTruth';
import { TINY, benchFooter, benchHeader, size } from './benchEnv';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const MODELS: [string, string][] = [
  ['mlp.ts', 'buildMlp'], ['cnn.ts', 'buildCnn'], ['branches.ts', 'buildBranches'], ['customLayer.ts', 'buildWithCustom'],
  ['transformer.ts', 'buildEncoder'], ['loopBlocks.ts', 'buildResidualStack'], ['embeddingLstm.ts', 'buildTextModel'],
  ['importer.ts', 'buildFromBlocks'], ['named.ts', 'buildNamed'], ['separable.ts', 'buildMobile'], ['autoencoder.ts', 'buildDecoder'],
  ['autoencoder.ts', 'buildSignal'], ['plain.js', 'buildJs'], ['vit.ts', 'buildVit'],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function bestOf(runs: number, argv: string[], env?: NodeJS.ProcessEnv): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', env, maxBuffer: 1 << 26 });
    const ms = performance.now() - t;
    if (r.status !== 0) throw new Error(`${argv.join(' ').slice(0, 80)} failed: ${r.stderr}`);
    best = Math.min(best, ms);
  }
  return best;
}

async function main(): Promise<void> {
  console.log(benchHeader());
  // The compiler's first load is not a model's cost: done once before timing (the CLI column includes it).
  await inferModelInfo(path.join(TFJS_SOURCE, 'mlp.ts'), 'buildMlp');
  const rows: { name: string; tensors: number; inProc: number; cli: number; tfjs: number }[] = [];
  for (const [file, fn] of TINY ? MODELS.slice(0, 2) : MODELS) {
    const times: number[] = [];
    let tensors = 0;
    for (let i = 0; i < size(3, 1); i++) {
      resetSourceCaches();
      const t = performance.now();
      tensors = (await inferModelInfo(path.join(TFJS_SOURCE, file), fn)).tensors.length;
      times.push(performance.now() - t);
    }
    const cli = bestOf(size(3, 1), [CLI, 'keys', path.join(TFJS_SOURCE, `${file}::${fn}`), '--json']);
    const { argv, env } = tfjsBuildCommand(file, fn);
    const tfjs = bestOf(size(3, 1), argv, env);
    rows.push({ name: `${file}::${fn}`, tensors, inProc: median(times), cli, tfjs });
  }
  console.log(`${'model'.padEnd(34)} ${'tensors'.padStart(7)} ${'static, in-process'.padStart(19)} ${'keys CLI'.padStart(9)} ${'TF.js build'.padStart(12)}`);
  for (const r of rows) console.log(`${r.name.padEnd(34)} ${String(r.tensors).padStart(7)} ${`${r.inProc.toFixed(1)} ms`.padStart(19)} ${`${r.cli.toFixed(0)} ms`.padStart(9)} ${`${r.tfjs.toFixed(0)} ms`.padStart(12)}`);
  const m = (k: 'inProc' | 'cli' | 'tfjs') => median(rows.map((r) => r[k]));
  console.log(`${'median'.padEnd(34)} ${''.padStart(7)} ${`${m('inProc').toFixed(1)} ms`.padStart(19)} ${`${m('cli').toFixed(0)} ms`.padStart(9)} ${`${m('tfjs').toFixed(0)} ms`.padStart(12)}`);
  // ViT-Base sizes: bound as `set` or a config.json would bind them, and passed to the function for TF.js.
  const base: [string, number][] = size([['imageSize', 224], ['patchSize', 16], ['hidden', 768], ['depth', 12], ['mlpRatio', 4]], [['imageSize', 32], ['patchSize', 16], ['hidden', 32], ['depth', 1], ['mlpRatio', 2]]);
  resetSourceCaches();
  const t = performance.now();
  const big = await inferModelInfo(path.join(TFJS_SOURCE, 'vit.ts'), 'buildVit', { bindings: new Map(base) });
  const bigMs = performance.now() - t;
  const params = big.tensors.reduce((n, x) => n + x.shape.reduce((a, b) => a * b, 1), 0);
  const cmd = tfjsBuildCommand('vit.ts', 'buildVit', base.map(([, v]) => v));
  const tfjsBig = bestOf(1, cmd.argv, cmd.env);
  console.log(`${`vit.ts::buildVit at ${TINY ? 'tiny' : 'ViT-Base'} sizes`.padEnd(34)} ${String(big.tensors.length).padStart(7)} ${`${bigMs.toFixed(1)} ms`.padStart(19)} ${''.padStart(9)} ${`${tfjsBig.toFixed(0)} ms`.padStart(12)}  (${(params / 1e6).toFixed(1)}M weights)`);
  console.log(benchFooter());
}

void main();
