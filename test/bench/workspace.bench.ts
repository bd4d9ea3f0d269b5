/**
 * A long training run's workspace in the real language server (over stdio, as an editor starts it):
 * 400 `checkpoint-N/` folders of a real Trainer run's five files (2,000 checkpoint-named files) plus
 * the user's own checkpoint. Measured: the time until the index is ready and the slowest hover on
 * an open mapping answered meanwhile, with every header read up front against the default
 * `eagerLimit` (1,000) — and the Python way of listing the same run (torch.load of every file, what a
 * script that walks checkpoint folders does), side by side.
 * Run: node --import tsx test/bench/workspace.bench.ts (after npm run build; TENSORPORT_BENCH_TINY=1: 3 folders, for the smoke test).
 */
import { cpSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { LspClient } from '../support/lspClient';
import { runPython, testPython } from '../support/python';
import { FIXTURES } from '../support/tmp';
import { benchFooter, benchHeader, size } from './benchEnv';

const TMP = path.join(__dirname, 'tmp-workspace');
const STEPS = size(400, 3);

function makeWorkspace(): void {
  rmSync(TMP, { recursive: true, force: true });
  const src = path.join(FIXTURES, 'real', 'trainer_run', 'checkpoint-4');
  const files = readdirSync(src).filter((f) => !f.endsWith('.json'));
  for (let s = 1; s <= STEPS; s++) {
    const dir = path.join(TMP, 'out', `checkpoint-${s * 500}`);
    mkdirSync(dir, { recursive: true });
    for (const f of files) cpSync(path.join(src, f), path.join(dir, f));
  }
  cpSync(path.join(src, 'model.safetensors'), path.join(TMP, 'mine.safetensors'));
}

/** Index-ready time, and the slowest hover on an open mapping answered while the scan ran. */
async function serverRun(eagerLimit: number): Promise<{ readyMs: number; worstHoverMs: number; hovers: number; pending: number }> {
  const start = performance.now();
  const { client, ready } = await LspClient.launch(TMP, { eagerLimit });
  let scanning = true;
  const result = ready.then((r) => { scanning = false; return r; });
  const uri = await client.open(path.join(TMP, 'port.tpmap'), 'source mine.safetensors\ntarget mine.safetensors\n\nbert.embeddings.word_embeddings.weight -> bert.embeddings.word_embeddings.weight\n');
  let worst = 0, hovers = 0;
  while (scanning) {
    const t = performance.now();
    await client.request('textDocument/hover', { textDocument: { uri }, position: { line: 3, character: 6 } });
    worst = Math.max(worst, performance.now() - t);
    hovers++;
  }
  const r = await result;
  const readyMs = performance.now() - start;
  await client.stop();
  return { readyMs, worstHoverMs: worst, hovers, pending: r.pending };
}

async function main(): Promise<void> {
  console.log(benchHeader());
  makeWorkspace();
  console.log(`${STEPS} checkpoint folders × 5 files of a real Trainer run + 1 own file (${STEPS * 5 + 1} files); node ${process.version}`);
  for (const eagerLimit of [1_000_000, size(1_000, 5)]) {
    const r = await serverRun(eagerLimit);
    console.log(`server, eagerLimit ${String(eagerLimit).padEnd(9)} index ready ${r.readyMs.toFixed(0).padStart(6)} ms  (${r.pending} read on demand)  `
      + `hover during the scan: slowest of ${r.hovers} ${r.worstHoverMs.toFixed(0)} ms`);
  }
  const env = testPython();
  if (env.skip) console.log(`python: skipped (${env.skip})`);
  else {
    const out = runPython(env.python!, ['-c', [
      'import glob, sys, time, torch, safetensors.torch',
      't = time.perf_counter(); n = 0',
      'for f in sorted(glob.glob(sys.argv[1] + "/**/*", recursive=True)):',
      '    if f.endswith(".safetensors"): n += len(safetensors.torch.load_file(f))',
      '    elif f.endswith((".pt", ".pth", ".bin")):',
      '        try: n += len(torch.load(f, weights_only=True))',
      '        except Exception: pass',
      'print(f"{(time.perf_counter() - t) * 1000:.0f}")',
    ].join('\n'), TMP]);
    console.log(`python: torch.load / safetensors load_file of every file       ${out.trim().padStart(6)} ms`);
  }
  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

void main();
