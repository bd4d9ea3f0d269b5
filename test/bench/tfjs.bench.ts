/**
 * `tensorport keys` on a TF.js model.json against what loading it with @tensorflow/tfjs takes in Node
 * (not a timed test: numbers go into docs/benchmarks.md). The model: 10,000 float32 weights of [32, 32]
 * (40 MB) in 4 MiB shards, as the TF.js converter lays them out — keys reads the JSON and stats the
 * shards; tfjs reads and decodes every byte (tfjs-load.mjs).
 * Run: node --import tsx test/bench/tfjs.bench.ts (TENSORPORT_BENCH_TINY=1: 100 weights, for the smoke test)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { benchFooter, benchHeader, size } from './benchEnv';
import { measure, report } from './measure';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'tensorport.js');
const TMP = path.join(__dirname, 'tmp', 'tfjs');
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });

const COUNT = size(10_000, 100);
const SHARD = 4 * 1024 * 1024;
const weights = Array.from({ length: COUNT }, (_, i) => ({ name: `block_${Math.floor(i / 4)}/dense_Dense${i}/kernel`, shape: [32, 32], dtype: 'float32' }));
const total = COUNT * 32 * 32 * 4;
const paths: string[] = [];
const n = Math.ceil(total / SHARD);
for (let k = 0; k < n; k++) {
  const p = `group1-shard${k + 1}of${n}.bin`;
  writeFileSync(path.join(TMP, p), Buffer.alloc(Math.min(SHARD, total - k * SHARD), 1));
  paths.push(p);
}
const model = path.join(TMP, 'model.json');
writeFileSync(model, JSON.stringify({ format: 'layers-model', generatedBy: 'tfjs.bench.ts', convertedBy: null, weightsManifest: [{ paths, weights }] }));

console.log(benchHeader());
console.log('best of 3 runs; peak RSS of the whole process');
report(`keys --json: ${COUNT} weights, ${n} shards (model.json)`, measure(process.execPath, [BIN, 'keys', model, '--json']));
report('@tensorflow/tfjs: read shards + io.decodeWeights', measure(process.execPath, [path.join(__dirname, 'tfjs-load.mjs'), model]));
rmSync(TMP, { recursive: true, force: true });
console.log(benchFooter());
