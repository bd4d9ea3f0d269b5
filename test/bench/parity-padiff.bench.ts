/**
 * PaDiff side by side with eager parity: the same pair (the HF-style PyTorch ViT-Tiny, trained weights, against
 * the seed-style Paddle ViT through vit_paddle.tpmap), the correct port and each planted fault of
 * test/unit/parity-eager.test.ts: what each reports (the module, or nothing) and how long each takes.
 * PaDiff runs in its own Python (TENSORPORT_PADIFF_PYTHON: a venv with padiff, torch, paddlepaddle, safetensors),
 * through padiff_side.py, which gives it the mapping's pairing as a LayerMap and the mapping's weights;
 * its time is auto_diff's alone (forward and backward: PaDiff always compares both), Tensor Port's the
 * whole `runEagerParity` (Python start, imports, weights through the converter, forward; backward for detach).
 * Run: TENSORPORT_PADIFF_PYTHON=/tmp/padiff-venv/bin/python node --import tsx test/bench/parity-padiff.bench.ts
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const padiff = process.env.TENSORPORT_PADIFF_PYTHON;
const py = testPython();
if (!padiff) { console.log('skipped: TENSORPORT_PADIFF_PYTHON is not set (a Python with padiff, torch, paddlepaddle and safetensors)'); process.exit(0); }
if (py.skip) { console.log(`skipped: ${py.skip}`); process.exit(0); }

const tmp = scratchDir('padiff');
const PORTS = path.join(FIXTURES, 'ports');
for (const f of ['eager', 'vit_tiny', 'paddle_vit.py']) cpSync(path.join(PORTS, f), path.join(tmp.dir, f), { recursive: true });
const E = path.join(tmp.dir, 'eager');
const edit = (from: string, to: string, f: (s: string) => string) => writeFileSync(path.join(tmp.dir, to), f(readFileSync(path.join(tmp.dir, from), 'utf8')));
const paddlePort = (name: string, f: (s: string) => string) => {
  edit('paddle_vit.py', `${name}.py`, f);
  edit('eager/paddle_port.py', `eager/${name}_port.py`, (s) => s.replace('from paddle_vit import', `from ${name} import`));
  return `${name}_port`;
};
edit('eager/vit_paddle.tpmap', 'eager/no_transpose.tpmap', (s) => s.replace(/(attention\.query\.weight -> \S+) \| transpose/, '$1'));
edit('eager/vit_paddle.tpmap', 'eager/swap.tpmap', (s) => s.replace(/attn\.q\./g, 'attn.TMP.').replace(/(key\.\w+ -> layers\.\{i\}\.attn\.)k\./g, '$1q.').replace(/attn\.TMP\./g, 'attn.k.'));

const cases: { name: string; candidate: string; map: string; backward?: boolean }[] = [
  { name: 'correct port', candidate: 'paddle_port', map: 'vit_paddle.tpmap' },
  { name: 'query weight not transposed (mapping)', candidate: 'paddle_port', map: 'no_transpose.tpmap' },
  { name: 'q and k swapped (mapping)', candidate: 'paddle_port', map: 'swap.tpmap' },
  { name: 'LayerNorm epsilon 1e-12 (port code)', candidate: paddlePort('paddle_vit_eps', (s) => s.replace(/epsilon=1e-6/g, 'epsilon=1e-12')), map: 'vit_paddle.tpmap' },
  { name: 'tanh-GELU (port code)', candidate: paddlePort('paddle_vit_tanh', (s) => s.replace('F.gelu(self.fc1(x))', 'F.gelu(self.fc1(x), approximate=True)')), map: 'vit_paddle.tpmap' },
  { name: 'detach in attention (backward)', candidate: paddlePort('paddle_vit_detach', (s) => s.replace('q, k, v = self.split(self.q(x))', 'q, k, v = self.split(self.q(x).detach())')), map: 'vit_paddle.tpmap', backward: true },
];

void (async () => {
  console.log('| case | PaDiff finds | PaDiff auto_diff | Tensor Port finds | Tensor Port run |');
  console.log('|---|---|---|---|---|');
  for (const c of cases) {
    const p = spawnSync(padiff, [path.join(__dirname, 'padiff_side.py'), tmp.dir, E, E, c.name, c.candidate, path.join(E, c.map)], { cwd: tmp.dir, encoding: 'utf8', timeout: 600_000 });
    const line = p.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    const pd = line ? JSON.parse(line) as { pass: boolean; module: string | null; stage: string | null; stopped: string | null; error: string | null; ms: number } : undefined;
    const padiffSays = !pd ? `did not run: ${(p.stderr.trim().split('\n').pop() ?? '').slice(0, 160)}`
      : pd.pass ? 'nothing (pass)' : `${pd.module ?? '?'}${pd.stage ? ` (${pd.stage})` : ''}${pd.stopped ? `; stops there: ${pd.stopped}` : ''}${pd.error ? ` — ${pd.error.slice(0, 120)}` : ''}`;
    const t0 = performance.now();
    const r = await runEagerParity({ reference: 'hf_style_vit.py::reference', candidate: `${c.candidate}.py::candidate`, weights: c.map, referenceWeights: 'vit_tiny_trained.safetensors', python: py.python, cwd: E, trusted: true, backward: c.backward });
    const ms = performance.now() - t0;
    const grad = r.backward?.firstDivergence;
    const ours = r.pass ? 'nothing (pass)' : r.firstDivergence ? r.firstDivergence.module ?? r.firstDivergence.candidate : grad ? `${grad.candidate} (gradient)` : 'outputs only';
    console.log(`| ${c.name} | ${padiffSays} | ${pd ? `${pd.ms.toFixed(0)} ms` : '—'} | ${ours} | ${ms.toFixed(0)} ms |`);
  }
})();
