/**
 * Benchmarks for the language server's index (not a timed test: numbers go into docs/benchmarks.md).
 *  1. a 100,000-tensor safetensors read in the server's thread against the read pool: wall time and
 *     the longest the thread could not answer anything (the event loop's longest gap);
 *  2. a 30-shard index (3,000 tensors a shard) read in one thread against shards spread over the pool;
 *  3. a touched 100,000-tensor file: re-checking its header bytes against parsing it again.
 * Run: node --import tsx test/bench/index.bench.ts (TENSORPORT_BENCH_TINY=1: small files, one run, for the smoke test)
 */
import { mkdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { CheckpointIndex } from '../../server/src/index/checkpointIndex';
import { pooledReader, ReadPool } from '../../server/src/index/readPool';
import { sparseSafetensors } from '../support/sparse';
import { benchFooter, benchHeader, size } from './benchEnv';

const TMP = path.join(__dirname, 'tmp-index');
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });

function tensors(count: number, prefix: string): Iterable<[string, number[]]> {
  return (function* () { for (let i = 0; i < count; i++) yield [`${prefix}.layers.${Math.floor(i / 10)}.block.${i % 10}.weight`, [16]] as [string, number[]]; })();
}

/** Wall time of `fn` and the longest gap between 1 ms timer ticks meanwhile. */
async function timed(fn: () => Promise<unknown>): Promise<{ wall: number; stall: number }> {
  let last = performance.now(), stall = 0;
  const tick = setInterval(() => { const now = performance.now(); stall = Math.max(stall, now - last); last = now; }, 1);
  const start = performance.now();
  await fn();
  const wall = performance.now() - start;
  stall = Math.max(stall, performance.now() - last);
  clearInterval(tick);
  return { wall, stall };
}

async function median(requested: number, fn: () => Promise<unknown>): Promise<{ wall: number; stall: number }> {
  const all: { wall: number; stall: number }[] = [];
  const runs = size(requested, 1);
  for (let i = 0; i < runs; i++) all.push(await timed(fn));
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1];
  return { wall: mid(all.map((x) => x.wall)), stall: mid(all.map((x) => x.stall)) };
}

const line = (name: string, m: { wall: number; stall: number }) =>
  console.log(`${name.padEnd(52)} wall ${m.wall.toFixed(0).padStart(5)} ms   longest stall ${m.stall.toFixed(0).padStart(4)} ms`);

async function main(): Promise<void> {
  const pool = new ReadPool();
  console.log(benchHeader());
  console.log(`node ${process.version}; read pool of ${Math.min(4, Math.max(1, (await import('node:os')).availableParallelism() - 1))} thread(s); median of ${size(5, 1)}`);

  const many = path.join(TMP, 'many.safetensors');
  const MANY = size(100_000, 500);
  sparseSafetensors(many, tensors(MANY, 'model'));
  await pool.read(many);   // start the workers
  line(`${MANY.toLocaleString('en-US')} tensors, read in the server thread`, await median(5, () => readCheckpoint(many)));
  line(`${MANY.toLocaleString('en-US')} tensors, read by the pool`, await median(5, () => pool.read(many)));

  const shards = size(30, 3), perShard = size(3_000, 50);
  const dir = path.join(TMP, 'sharded');
  mkdirSync(dir);
  const weightMap: Record<string, string> = {};
  for (let s = 0; s < shards; s++) {
    const name = `model-${String(s + 1).padStart(5, '0')}-of-${shards}.safetensors`;
    sparseSafetensors(path.join(dir, name), tensors(perShard, `s${s}`));
    for (const [key] of tensors(perShard, `s${s}`)) weightMap[key] = name;
  }
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  writeFileSync(indexFile, JSON.stringify({ metadata: {}, weight_map: weightMap }));
  const viaPool = pooledReader(pool);
  line(`${shards}-shard index (${shards * perShard} tensors), one thread`, await median(5, () => readCheckpoint(indexFile)));
  line(`${shards}-shard index, shards over the pool`, await median(5, () => viaPool(indexFile, {})));
  // Two threads on this machine's two cores: what a bigger machine's pool does for an index, in miniature.
  const two = new ReadPool({ size: 2 });
  const viaTwo = pooledReader(two);
  await viaTwo(indexFile, {});
  line(`${shards}-shard index, a pool of 2 threads`, await median(5, () => viaTwo(indexFile, {})));
  await two.close();

  const index = new CheckpointIndex();
  await index.get(many);
  let n = 0;
  line(`${MANY.toLocaleString('en-US')} tensors touched: header bytes re-checked`, await median(5, async () => {
    const st = statSync(many);
    utimesSync(many, st.atime, new Date(st.mtimeMs + 1000 * ++n));
    await index.get(many);
  }));
  await pool.close();
  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

void main();
