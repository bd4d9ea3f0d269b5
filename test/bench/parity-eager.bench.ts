/**
 * Eager parity's cost on a ViT-Base-size model (12 layers, 768 wide, 224×224 images, batch 1) on the CPU:
 * the HF-style PyTorch ViT against the seed-style Paddle ViT (ViT-Base is its default), both in one
 * Python. The probe times two bare forward passes of each model (no hooks, best of --reps) and then the
 * probed pass (hooks on every module, outputs kept, pairing, comparison); the overhead is
 * (probed passes + comparison) / (bare passes) − 1, target ≤ 20%, in wall time and in the probe's CPU time
 * (user + system, all threads: steadier than wall time on a shared machine). Memory: the probe's peak RSS against
 * its RSS with both models loaded (frameworks included) and the two models' parameter bytes, target
 * (peak − loaded) ≤ 0.2 × the models. The weights are the reference's seeded initial ones, saved here as
 * safetensors and pushed through a ViT-Base mapping, as a user's run would. With --torch-candidate the
 * candidate is the same PyTorch ViT (its own seeded weights, modules paired by name, Paddle not imported):
 * both passes on torch's threads, where the comparison cannot hide in a core the candidate leaves free.
 * Run: node --import tsx test/bench/parity-eager.bench.ts [--reps N] [--torch-candidate]
 * (TENSORPORT_BENCH_TINY=1: the ViT at the fixtures' tiny size, 32 wide, 2 layers, 32×32 images, one run, for the smoke test)
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runEagerParity } from '../../server/src/parity/eager/eagerMode';
import { runPython, testPython } from '../support/python';
import { TINY, benchFooter, benchHeader, loadavg, size } from './benchEnv';

const py = testPython();
if (py.skip) { console.log(`skipped: ${py.skip}`); process.exit(0); }
const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
const reps = size(Number(arg('--reps', '3')), 1);
// ViT-Base, or in tiny mode the fixtures' ViT (the sizes of ports/eager/vit_paddle.tpmap's `set` lines).
const [HIDDEN, PATCH, IMAGE, HEADS, FF, DEPTH] = size([768, 16, 224, 12, 3072, 12], [32, 8, 32, 4, 64, 2]);
const torchCandidate = process.argv.includes('--torch-candidate');
const TMP = path.join(__dirname, 'tmp', 'parity-eager');
const PORTS = path.join(__dirname, '..', 'fixtures', 'ports');
rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });
const vitBase = `
import sys
sys.path.insert(0, ${JSON.stringify(PORTS)})
sys.path.insert(0, ${JSON.stringify(path.join(PORTS, 'eager'))})
import numpy as np
from hf_style_vit import ViTModel

def reference():
    return ViTModel({"num_channels": 3, "hidden_size": ${HIDDEN}, "patch_size": ${PATCH}, "image_size": ${IMAGE}, "hidden_dropout_prob": 0.0,
                     "attention_probs_dropout_prob": 0.0, "num_attention_heads": ${HEADS}, "intermediate_size": ${FF},
                     "layer_norm_eps": 1e-6, "num_hidden_layers": ${DEPTH}})

def example_inputs():
    return {"pixel_values": np.random.default_rng(0).standard_normal((1, 3, ${IMAGE}, ${IMAGE})).astype("float32")}
`;
writeFileSync(path.join(TMP, 'base_torch.py'), vitBase);
writeFileSync(path.join(TMP, 'base.py'), `${vitBase}
from paddle_vit import VisionTransformer

def candidate():
    return VisionTransformer(${TINY ? `image_size=${IMAGE}, patch_size=${PATCH}, embed_dim=${HIDDEN}, depth=${DEPTH}, num_heads=${HEADS}, mlp_ratio=${FF / HIDDEN}` : ''})
`);

// A ViT-Base checkpoint in the reference's names (its seeded initial weights) and the mapping to the port.
runPython(py.python!, ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(TMP)}); import base, torch
from safetensors.torch import save_file
save_file({k: v.contiguous() for k, v in base.reference().state_dict().items()}, ${JSON.stringify(path.join(TMP, 'base.safetensors'))})`]);
writeFileSync(path.join(TMP, 'base.tpmap'), readFileSync(path.join(PORTS, 'eager', 'vit_paddle.tpmap'), 'utf8')
  .replace('source ../vit_tiny/model.safetensors', 'source base.safetensors').replace('target ../paddle_vit.py', `target ${path.join(PORTS, 'paddle_vit.py')}`).replace(/^set .*\n/gm, (line) => (TINY ? line : '')));

void (async () => {
  console.log(benchHeader());
  const r = await runEagerParity(torchCandidate
    ? { reference: 'base_torch.py::reference', candidate: 'base_torch.py::reference', python: py.python, cwd: TMP, trusted: true, device: 'cpu', benchRuns: reps }
    : { reference: 'base.py::reference', candidate: 'base.py::candidate', weights: 'base.tpmap', python: py.python, cwd: TMP, trusted: true, device: 'cpu', benchRuns: reps });
  const t = r.timings;
  const bare = t.bareMs!.reference + t.bareMs!.candidate;
  const probed = t.referenceMs! + t.candidateMs! + (t.compareMs ?? 0);
  const cpu = t.cpuMs!;
  const bareCpu = cpu.bare!.reference + cpu.bare!.candidate;
  const probedCpu = cpu.reference + cpu.candidate + cpu.compare;
  const params = 2 * 86.4e6 * 4 / 2 ** 20; // ViT-Base without head: 86.4 M fp32 parameters, twice
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  console.log(`ViT-Base eager parity, CPU, batch 1, ${torchCandidate ? 'PyTorch against itself' : 'PyTorch against Paddle'}, ${r.layers!.length} module pairs (best of ${reps} runs; load average ${loadavg()})`);
  console.log(`bare forward passes      wall ${t.bareMs!.reference.toFixed(0)} + ${t.bareMs!.candidate.toFixed(0)} = ${bare.toFixed(0)} ms   CPU ${cpu.bare!.reference.toFixed(0)} + ${cpu.bare!.candidate.toFixed(0)} = ${bareCpu.toFixed(0)} ms`);
  console.log(`probed passes            wall ${t.referenceMs!.toFixed(0)} + ${t.candidateMs!.toFixed(0)} ms, comparison after them ${t.compareMs!.toFixed(0)} ms (worker during the candidate's pass ${(t.earlyCompareMs ?? 0).toFixed(0)} ms) → overhead ${pct(probed / bare - 1)}`);
  console.log(`                         CPU  ${cpu.reference.toFixed(0)} + ${cpu.candidate.toFixed(0)} ms, comparison after them ${cpu.compare.toFixed(0)} ms (worker ${cpu.earlyCompare.toFixed(0)} ms, inside the candidate's) → overhead ${pct(probedCpu / bareCpu - 1)}`);
  console.log(`memory                   loaded ${r.memory!.afterLoadMB!.toFixed(0)} MiB, peak ${r.memory!.peakMB!.toFixed(0)} MiB; two models' parameters ${params.toFixed(0)} MiB → extra ${(((r.memory!.peakMB! - r.memory!.afterLoadMB!) / params) * 100).toFixed(1)}% of them`);
  console.log(`pass ${r.pass}, first divergence ${r.firstDivergence ? r.firstDivergence.module : 'none'}`);
  console.log(`whole run (weights through the mapping, Python start, imports, build)  ${t.totalMs!.toFixed(0)} ms, of which load ${t.loadMs.toFixed(0)} ms`);
  console.log(benchFooter());
})();
