/**
 * Benchmark: a 100,000-tensor sharded safetensors checkpoint (10 shards) listed remotely from a local
 * Hub-like server (test/support/fakeHub.ts: resolve URLs redirected to a second port), beside
 * huggingface_hub's `get_safetensors_metadata` on the same server — requests and bytes as the server
 * counted them, wall time, and the bytes fetched against the bytes of the headers themselves (index +
 * each shard's 8-byte length and JSON header). Numbers go into docs/benchmarks.md.
 * Run: npm run bench:remote (TENSORPORT_BENCH_TINY=1: 2 shards × 50 tensors, for the smoke test)
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startFakeHub } from '../support/fakeHub';
import { testPython } from '../support/python';
import { safetensorsBytes } from '../support/tmp';
import { benchFooter, benchHeader, size } from './benchEnv';

const BIN = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
const SHARDS = size(10, 2);
const PER_SHARD = size(10_000, 50);

function run(cmd: string, args: string[], env: Record<string, string>): Promise<{ out: string; ms: number }> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => execFile(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, ...env } }, (e, out, err) => {
    if (e) reject(new Error(`${cmd} failed: ${err}`));
    else resolve({ out, ms: Number(process.hrtime.bigint() - start) / 1e6 });
  }));
}

async function main(): Promise<void> {
  const files: Record<string, Buffer> = {};
  const weightMap: Record<string, string> = {};
  let headerBytes = 0;
  for (let s = 0; s < SHARDS; s++) {
    const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(SHARDS).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = {};
    for (let i = 0; i < PER_SHARD; i++) {
      const key = `model.layers.${s * PER_SHARD + i}.weight`;
      header[key] = { dtype: 'F16', shape: [4], data_offsets: [8 * i, 8 * i + 8] };
      weightMap[key] = name;
    }
    files[name] = safetensorsBytes({ __metadata__: { format: 'pt' }, ...header }, 8 * PER_SHARD);
    headerBytes += 8 + Number(files[name].readBigUInt64LE(0));
  }
  files['model.safetensors.index.json'] = Buffer.from(JSON.stringify({ metadata: {}, weight_map: weightMap }));
  headerBytes += files['model.safetensors.index.json'].length;
  const hub = await startFakeHub({ 'bench/sharded': { files } });
  const cache = mkdtempSync(path.join(tmpdir(), 'tensorport-remote-bench-'));
  const env = { HF_ENDPOINT: hub.endpoint, HF_HOME: path.join(cache, 'hf'), HF_TOKEN: '', HF_HUB_OFFLINE: '0', HF_HUB_DISABLE_TELEMETRY: '1' };
  const row = (name: string, requests: number, bytes: number, ms: number) =>
    console.log(`${name.padEnd(44)} ${String(requests).padStart(8)} ${(bytes / 2 ** 20).toFixed(2).padStart(9)} MiB ${(bytes / headerBytes).toFixed(2).padStart(6)}× ${ms.toFixed(0).padStart(7)} ms`);
  console.log(benchHeader());
  console.log(`${SHARDS} shards × ${PER_SHARD} tensors; headers (index + shard headers) ${(headerBytes / 2 ** 20).toFixed(2)} MiB`);
  console.log(`${'reader'.padEnd(44)} requests     bytes  ×headers    wall`);
  try {
    for (const [label, extra] of [['tensorport keys (empty header cache)', {}], ['tensorport keys (header cache warm, main)', {}]] as const) {
      const before = { ...hub.served };
      const r = await run(process.execPath, [BIN, 'keys', 'hf://bench/sharded/model.safetensors.index.json', '--json'], { ...env, ...extra, TENSORPORT_CACHE_DIR: path.join(cache, 'tp') });
      const doc = JSON.parse(r.out) as { tensors: unknown[]; remote: { requests: number; bytes: number } };
      if (doc.tensors.length !== SHARDS * PER_SHARD) throw new Error(`listed ${doc.tensors.length} tensors`);
      row(label, hub.served.requests - before.requests, hub.served.bytes - before.bytes, r.ms);
    }
    const py = testPython();
    if (py.python) {
      const before = { ...hub.served };
      const script = 'import time,sys\nfrom huggingface_hub import get_safetensors_metadata\nt=time.perf_counter()\nm=get_safetensors_metadata("bench/sharded")\nprint(sum(len(f.tensors) for f in m.files_metadata.values()), (time.perf_counter()-t)*1000)';
      const r = await run(py.python, ['-c', script], env);
      const [count, ms] = r.out.trim().split(' ').map(Number);
      if (count !== SHARDS * PER_SHARD) throw new Error(`huggingface_hub listed ${count}`);
      row('huggingface_hub get_safetensors_metadata', hub.served.requests - before.requests, hub.served.bytes - before.bytes, ms);
      console.log(`  (huggingface_hub's time is inside Python, after imports; its process took ${r.ms.toFixed(0)} ms in all)`);
    } else {
      console.log(`huggingface_hub: skipped (${py.skip})`);
    }
  } finally {
    await hub.close();
    rmSync(cache, { recursive: true, force: true });
  }
  console.log(benchFooter());
}

void main();
