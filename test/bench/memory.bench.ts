/**
 * Memory at scale (not a timed test: numbers go into docs/benchmarks.md).
 *  1. The real language server over stdio: its RSS after opening a mapping whose sides are tiny (10
 *     tensors), one side of 100,000 tensors, and both — read from /proc once the diagnostics are in and
 *     the read workers have gone idle. The goal: both large ≤ both tiny + 3× the two headers' bytes. Both
 *     large again in a second session, the headers taken from the table cache (VS Code's default).
 *  2. `tensorport keys --json` peak RSS on the 100,000-tensor safetensors file, beside `safe_open`, and on
 *     a GGUF beside gguf-py's GGUFReader (both from test/python/.venv, where it is made).
 * Servers run one after another, interleaved over rounds; medians are reported.
 * Run: npm run build && node --import tsx test/bench/memory.bench.ts [rounds] (TENSORPORT_BENCH_TINY=1: 200-tensor sides, one round, for the smoke test)
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { LspClient } from '../support/lspClient';
import { runPython, testPython } from '../support/python';
import { sparseSafetensors } from '../support/sparse';
import { llamaGgufScript } from './llamaGguf';
import { benchFooter, benchHeader, size } from './benchEnv';
import { measure } from './measure';

const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'tensorport.js');
const PY = testPython().python;
const TMP = path.join(__dirname, 'tmp-memory');
const ROUNDS = Number(process.argv[2] ?? size(3, 1));
/** Layers of 100 tensors on a large side (tiny mode: 2). */
const BIG = size(1000, 2);

function* keys(prefix: string, layers: number, perLayer: number): Generator<[string, number[]]> {
  for (let l = 0; l < layers; l++) for (let k = 0; k < perLayer; k++) yield [`${prefix}.${l}.block${k}.weight`, [64, 64]];
}

/** The header's byte count (the 8-byte length prefix says it). */
const headerBytes = (file: string) => Number(readFileSync(file).subarray(0, 8).readBigUInt64LE());

/** VmRSS and VmHWM of a process, in MiB. */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1]);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** One server: open the mapping, wait for its diagnostics and for the workers to go idle, read /proc. */
async function serverRss(ws: string, bare = false, tableCacheDir?: string): Promise<{ rss: number; peak: number }> {
  const { client } = await LspClient.start(ws, tableCacheDir ? { tableCacheDir } : undefined, bare);
  const text = `source src.safetensors\ntarget tgt.safetensors\nencoder.layer.{i}.block{k}.weight -> blocks.{i}.block{k}.weight\nno.such.key -> blocks.0.block0.weight\n`;
  const uri = await client.open(path.join(ws, 'm.tpmap'), text);
  // The rule that reads a missing key makes a diagnostic once both sides are read and analysed.
  await client.until(uri, (d) => d.some((x) => x.message.includes('no.such.key')), 120_000);
  await sleep(3000);
  const m = rssOf(client.proc.pid!);
  await client.stop();
  return m;
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  console.log(benchHeader());
  // One workspace per case: the server indexes every checkpoint in its workspace, not only the mapping's.
  const cases: [string, number, number, boolean?][] = [
    ['both sides 10 tensors', 1, 1],
    [`source ${(BIG * 100).toLocaleString('en-US')} tensors, target 10`, BIG, 1],
    [`both sides ${(BIG * 100).toLocaleString('en-US')} tensors`, BIG, BIG],
    [`the same, from the table cache`, BIG, BIG, true],
  ];
  const cacheDir = path.join(TMP, 'table-cache');
  const dirs = cases.map(([, s, t], i) => {
    const ws = path.join(TMP, `case${i}`);
    mkdirSync(ws);
    sparseSafetensors(path.join(ws, 'src.safetensors'), keys('encoder.layer', s, s === 1 ? 10 : 100));
    sparseSafetensors(path.join(ws, 'tgt.safetensors'), keys('blocks', t, t === 1 ? 10 : 100));
    return ws;
  });
  const hb = (ws: string) => (headerBytes(path.join(ws, 'src.safetensors')) + headerBytes(path.join(ws, 'tgt.safetensors'))) / 2 ** 20;
  const got = cases.map(() => ({ rss: [] as number[], peak: [] as number[] }));
  // A first session keeps the last case's headers (tiny mode: under the cache's 10,000-tensor floor, so none).
  await serverRss(dirs[3], false, cacheDir);
  const load: string[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    load.push(readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '));
    for (const i of cases.keys()) {
      const m = await serverRss(dirs[i], false, cases[i][3] ? cacheDir : undefined);
      got[i].rss.push(m.rss);
      got[i].peak.push(m.peak);
    }
  }
  console.log(`node ${process.version}; median of ${ROUNDS} interleaved rounds; load average at each round: ${load.join(' | ')}`);
  console.log(`header bytes of both sides: ${dirs.map((d) => `${hb(d).toFixed(1)} MiB`).join(', ')}`);
  const base = median(got[0].rss);
  for (const [i, [name]] of cases.entries()) {
    const budget = base + 3 * hb(dirs[i]);
    const rss = median(got[i].rss);
    console.log(`server: ${name.padEnd(36)} RSS ${rss.toFixed(0).padStart(4)} MiB  peak ${median(got[i].peak).toFixed(0).padStart(4)} MiB  (goal ≤ ${budget.toFixed(0)} MiB)`);
  }
  // The same server started bare (`node dist/server.js --stdio`, as another editor may): what the launch settings save.
  const bare = [await serverRss(dirs[0], true), await serverRss(dirs[2], true)];
  console.log(`server started bare (no SERVER_PROCESS settings): both sides 10 tensors RSS ${bare[0].rss.toFixed(0)} MiB, both sides ${(BIG * 100).toLocaleString('en-US')} RSS ${bare[1].rss.toFixed(0)} MiB (one round)`);

  const big = path.join(dirs[2], 'src.safetensors');
  const keysBig = measure(process.execPath, [BIN, 'keys', big, '--json'], ROUNDS);
  console.log(`keys --json, ${(BIG * 100).toLocaleString('en-US')} tensors: peak RSS ${keysBig.peakRssMiB.toFixed(0)} MiB (${keysBig.wallMs.toFixed(0)} ms)`);
  if (PY) {
    const so = measure(PY, ['-c', `from safetensors import safe_open\nf = safe_open(${JSON.stringify(big)}, 'numpy')\nfor k in f.keys():\n  s = f.get_slice(k); (k, s.get_dtype(), s.get_shape())`], ROUNDS);
    console.log(`safe_open listing the same file: peak RSS ${so.peakRssMiB.toFixed(0)} MiB (${so.wallMs.toFixed(0)} ms)`);
    const gguf = path.join(TMP, 'llama.gguf');
    runPython(PY, ['-c', llamaGgufScript(gguf)]);
    {
      const ours = measure(process.execPath, [BIN, 'keys', gguf, '--json'], ROUNDS);
      const theirs = measure(PY, ['-c', `import gguf\nr = gguf.GGUFReader(${JSON.stringify(gguf)})\nfor t in r.tensors: (t.name, t.tensor_type, t.shape)`], ROUNDS);
      console.log(`GGUF (${(statSync(gguf).size / 2 ** 20).toFixed(0)} MiB, LLaMA-shaped): keys --json peak ${ours.peakRssMiB.toFixed(0)} MiB (${ours.wallMs.toFixed(0)} ms), gguf.GGUFReader ${theirs.peakRssMiB.toFixed(0)} MiB (${theirs.wallMs.toFixed(0)} ms)`);
    }
  } else {
    console.log(`safe_open and gguf-py: skipped (${testPython().skip})`);
  }
  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}


void main();
