/**
 * The auto-mapper under load (not a timed test: numbers go into docs/benchmarks.md). Two LLaMA-like
 * checkpoints, HF naming (keys sorted, as save_pretrained writes them) and Meta naming, as sparse
 * safetensors of 300 and 2,000 tensors: reading both headers, proposing the mapping, writing the folded
 * .tpmap, each timed (median of 5 runs after a warm-up), and every rule checked against the known pairing.
 * Run: node --import tsx test/bench/automap.bench.ts (TENSORPORT_BENCH_TINY=1: 30 tensors, for the smoke test)
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { proposeMapping } from '../../server/src/mapping/automap/propose';
import { writeTpmap } from '../../server/src/mapping/automap/write';
import { sideFromInfo } from '../../server/src/mapping/sideData';
import { sparseSafetensors } from '../support/sparse';
import { benchFooter, benchHeader, size } from './benchEnv';

const TMP = path.join(__dirname, 'tmp', 'automap');
const H = 1024;
const FF = 2816;
const V = 32000;

const LAYER: [string, string, number[]][] = [
  ['self_attn.q_proj', 'attention.wq', [H, H]], ['self_attn.k_proj', 'attention.wk', [H, H]],
  ['self_attn.v_proj', 'attention.wv', [H, H]], ['self_attn.o_proj', 'attention.wo', [H, H]],
  ['mlp.gate_proj', 'feed_forward.w1', [FF, H]], ['mlp.down_proj', 'feed_forward.w2', [H, FF]],
  ['mlp.up_proj', 'feed_forward.w3', [FF, H]], ['input_layernorm', 'attention_norm', [H]],
  ['post_attention_layernorm', 'ffn_norm', [H]],
];

/** HF and Meta key lists with `total` tensors (9 per layer; embeddings, final norm and, if room, the head). */
function llama(total: number): { hf: [string, number[]][]; meta: [string, number[]][]; truth: Map<string, string> } {
  const layers = Math.floor((total - 2) / 9);
  const head = total - 2 - 9 * layers >= 1;
  const pairs: [string, string, number[]][] = [['model.embed_tokens.weight', 'tok_embeddings.weight', [V, H]]];
  for (let l = 0; l < layers; l++) for (const [a, b, s] of LAYER) pairs.push([`model.layers.${l}.${a}.weight`, `layers.${l}.${b}.weight`, s]);
  pairs.push(['model.norm.weight', 'norm.weight', [H]]);
  if (head) pairs.push(['lm_head.weight', 'output.weight', [V, H]]);
  const hf = pairs.map(([a, , s]): [string, number[]] => [a, s]).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  const meta = pairs.map(([, b, s]): [string, number[]] => [b, s]);
  return { hf, meta, truth: new Map(pairs.map(([a, b]) => [b, a])) };
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function bench(total: number): Promise<void> {
  const { hf, meta, truth } = llama(total);
  const a = path.join(TMP, `hf-${total}.safetensors`);
  const b = path.join(TMP, `meta-${total}.safetensors`);
  sparseSafetensors(a, hf, 'F16', 2);
  sparseSafetensors(b, meta, 'BF16', 2);
  const times = { read: [] as number[], propose: [] as number[], write: [] as number[] };
  let rules = 0;
  let right = 0;
  let lines = 0;
  for (let run = 0; run < size(6, 2); run++) {
    let t0 = process.hrtime.bigint();
    const src = sideFromInfo(await readCheckpoint(a), a, path.basename(a));
    const tgt = sideFromInfo(await readCheckpoint(b), b, path.basename(b));
    const read = ms(t0);
    t0 = process.hrtime.bigint();
    const p = proposeMapping(src, tgt);
    const propose = ms(t0);
    t0 = process.hrtime.bigint();
    const text = writeTpmap(p, { sourcePath: path.basename(a), targetPath: path.basename(b) });
    const write = ms(t0);
    if (run === 0) continue; // warm-up
    times.read.push(read);
    times.propose.push(propose);
    times.write.push(write);
    rules = p.rules.length;
    right = p.rules.filter((r) => r.sources.length === 1 && truth.get(r.target) === r.sources[0] && r.transforms.join() === 'cast(BF16)').length;
    lines = text.split('\n').filter((l) => l.includes('->')).length;
  }
  console.log(`${String(total).padStart(5)} tensors per side (${hf.length} / ${meta.length}): ` +
    `read both headers ${median(times.read).toFixed(1)} ms, propose ${median(times.propose).toFixed(1)} ms, write .tpmap ${median(times.write).toFixed(1)} ms; ` +
    `${right}/${truth.size} pairs right, ${rules} rules folded into ${lines} lines`);
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  console.log(benchHeader());
  console.log(`node ${process.version}; LLaMA-like HF → Meta key sets (sparse safetensors), median of ${size(5, 1)} runs`);
  for (const total of size([300, 2000], [30])) await bench(total);
  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

void main();
