/**
 * The parity runner's cost (not a timed test: numbers go into docs/benchmarks.md):
 *  - overhead: `runOnnxParity` (sessions, inputs, run, compare, report, in the worker) against calling
 *    onnxruntime-node directly in this process on the same models and inputs (create both sessions,
 *    run both, compare with a plain loop) — target < 5% — with the warm worker the engine keeps
 *    between runs, and with a new worker (a CLI run: thread start and onnxruntime's initialisation);
 *  - the cost of `--layers` (every intermediate value an output, pairing and comparing them);
 *  - the same on the tiny transformer fixtures, where fixed costs dominate.
 * The bench model is written here (an MLP of LAYERS × [HIDDEN, HIDDEN] MatMul + Add + Relu), so no
 * Python is needed. The worker is bundled with esbuild first, as the extension ships it.
 * Run: node --import tsx test/bench/parity.bench.ts [--size small|large] [--reps N] [--device cpu|cuda]
 * (TENSORPORT_BENCH_TINY=1: a 2-layer MLP of width 64, one repetition, for the smoke test)
 */
import { build } from 'esbuild';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { disposeParityWorkers, runOnnxParity } from '../../server/src/parity/engine';
import { generate } from '../../server/src/parity/inputs';
import { DT, GRAPH, nodeProto, tensorProto } from '../../server/src/parity/onnxModel';
import { lenField, stringField, varintField } from '../../server/src/parity/protobuf';
import { OnnxParityRequest } from '../../server/src/parity/types';
import { benchFooter, benchHeader, size } from './benchEnv';

const TMP = path.join(__dirname, 'tmp', 'parity');
const arg = (name: string, fallback: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : fallback);
/** `--size large` makes the model's own work dominate, as with real checkpoints. */
const LARGE = arg('--size', 'small') === 'large';
const HIDDEN = size(LARGE ? 2048 : 1024, 64);
const LAYERS = size(LARGE ? 16 : 12, 2);
const BATCH = size(LARGE ? 2048 : 512, 4);
const REPS = size(Number(arg('--reps', '5')), 1);
const device = arg('--device', 'cpu') as 'cpu' | 'cuda';

function valueInfoWithShape(name: string, dims: number[]): Buffer {
  const shape = lenField(2, dims.map((d) => lenField(1, varintField(1, d))));
  return Buffer.concat([stringField(1, name), lenField(2, lenField(1, Buffer.concat([varintField(1, DT.FLOAT), shape])))]);
}

/** An MLP whose weights come from `seed`: two seeds give a reference and a (wrong) candidate. */
function mlpModel(file: string, seed: number): void {
  let s = seed;
  const rand = () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 - 0.5; };
  const graph: Buffer[] = [];
  let x = 'x';
  for (let l = 0; l < LAYERS; l++) {
    const w = new Float32Array(HIDDEN * HIDDEN).map(() => rand() * 0.1);
    const b = new Float32Array(HIDDEN).map(() => rand() * 0.1);
    graph.push(lenField(GRAPH.initializer, tensorProto(`layers.${l}.weight`, DT.FLOAT, [HIDDEN, HIDDEN], new Uint8Array(w.buffer))));
    graph.push(lenField(GRAPH.initializer, tensorProto(`layers.${l}.bias`, DT.FLOAT, [HIDDEN], new Uint8Array(b.buffer))));
    const y = l === LAYERS - 1 ? 'y' : `/layers.${l}/Relu_output_0`;
    graph.push(lenField(GRAPH.node, nodeProto({ name: `/layers.${l}/MatMul`, op: 'MatMul', inputs: [x, `layers.${l}.weight`], outputs: [`/layers.${l}/MatMul_output_0`] })));
    graph.push(lenField(GRAPH.node, nodeProto({ name: `/layers.${l}/Add`, op: 'Add', inputs: [`/layers.${l}/MatMul_output_0`, `layers.${l}.bias`], outputs: [`/layers.${l}/Add_output_0`] })));
    graph.push(lenField(GRAPH.node, nodeProto({ name: `/layers.${l}/Relu`, op: 'Relu', inputs: [`/layers.${l}/Add_output_0`], outputs: [y] })));
    x = y;
  }
  graph.push(stringField(GRAPH.name, 'mlp'));
  graph.push(lenField(GRAPH.input, valueInfoWithShape('x', [BATCH, HIDDEN])));
  graph.push(lenField(GRAPH.output, valueInfoWithShape('y', [BATCH, HIDDEN])));
  const model = Buffer.concat([varintField(1, 8), lenField(8, Buffer.concat([stringField(1, ''), varintField(2, 14)])), lenField(7, graph)]);
  writeFileSync(file, model);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const now = () => performance.now();

/** What a user would write without the runner: the input, both sessions, both runs, a comparison loop. */
async function direct(ref: string, cand: string, inputName: string, dims: number[]): Promise<{ total: number; run: number }> {
  const t0 = now();
  const feed = generate(inputName, 'float32', dims, 0).data as Float32Array;
  const opts: ort.InferenceSession.SessionOptions = { executionProviders: [device], logSeverityLevel: 4 };
  const a = await ort.InferenceSession.create(ref, opts);
  const b = await ort.InferenceSession.create(cand, opts);
  const t1 = now();
  const ra = await a.run({ [a.inputNames[0]]: new ort.Tensor('float32', feed, dims) });
  const rb = await b.run({ [b.inputNames[0]]: new ort.Tensor('float32', feed, dims) });
  const run = now() - t1;
  const x = ra[a.outputNames[0]].data as Float32Array;
  const y = rb[b.outputNames[0]].data as Float32Array;
  let maxAbs = 0;
  let dot = 0;
  let nx = 0;
  let ny = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i] - y[i]);
    if (d > maxAbs) maxAbs = d;
    dot += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i];
  }
  if (!(maxAbs >= 0) || !(dot / Math.sqrt(nx * ny) <= 1.0001)) throw new Error('comparison went wrong');
  await a.release();
  await b.release();
  return { total: now() - t0, run };
}

async function runner(req: OnnxParityRequest, workerPath: string): Promise<{ total: number; run: number; load: number; pairs?: number }> {
  const t0 = now();
  const r = await runOnnxParity(req, { workerPath });
  return { total: now() - t0, run: r.timings.runMs, load: r.timings.loadMs, pairs: r.layers?.length };
}

async function measure(label: string, ref: string, cand: string, inputName: string, dims: number[], withDirect: boolean, workerPath: string, extra: Partial<OnnxParityRequest> = {}): Promise<void> {
  const d: { total: number; run: number }[] = [];
  const r: { total: number; run: number; load: number; pairs?: number }[] = [];
  const l: { total: number; run: number; load: number; pairs?: number }[] = [];
  const cold: number[] = [];
  const req: OnnxParityRequest = { reference: ref, candidate: cand, device, ...extra, inputs: extra.inputs ?? [{ name: inputName, random: dims }] };
  // Interleaved repetitions, so drift in a shared machine's load hits all three alike.
  for (let i = 0; i < REPS + 1; i++) {
    const dd = withDirect ? await direct(ref, cand, inputName, dims) : undefined;
    const rr = await runner(req, workerPath);
    const ll = await runner({ ...req, layers: true }, workerPath);
    disposeParityWorkers();
    const cc = await runner(req, workerPath);
    if (i === 0) continue; // warm-up: file cache, first ORT init
    if (dd) d.push(dd);
    r.push(rr);
    l.push(ll);
    cold.push(cc.total);
  }
  const row = (name: string, total: number, run: number, load?: number) => `  ${name.padEnd(34)} total ${total.toFixed(1).padStart(8)} ms   run ${run.toFixed(1).padStart(8)} ms${load !== undefined ? `   sessions ${load.toFixed(1).padStart(7)} ms` : ''}`;
  console.log(`${label} (device ${device}, median of ${REPS})`);
  const dt = d.length ? median(d.map((x) => x.total)) : NaN;
  if (d.length) console.log(row('onnxruntime-node directly', dt, median(d.map((x) => x.run))));
  const rt = median(r.map((x) => x.total));
  console.log(row('runOnnxParity, warm worker', rt, median(r.map((x) => x.run)), median(r.map((x) => x.load))));
  const ct = median(cold);
  console.log(`  ${'runOnnxParity, new worker'.padEnd(34)} total ${ct.toFixed(1).padStart(8)} ms`);
  const lt = median(l.map((x) => x.total));
  console.log(row(`runOnnxParity --layers (${l[0].pairs} pairs)`, lt, median(l.map((x) => x.run)), median(l.map((x) => x.load))));
  if (d.length) console.log(`  runner overhead: ${(((rt - dt) / dt) * 100).toFixed(1)}% warm (${(rt - dt).toFixed(1)} ms), ${(((ct - dt) / dt) * 100).toFixed(1)}% with a new worker (${(ct - dt).toFixed(1)} ms)`);
  console.log(`  --layers cost: ${(((lt - rt) / rt) * 100).toFixed(1)}% of a plain run (${(lt - rt).toFixed(1)} ms)\n`);
}

/**
 * Cold, as a user meets them: `tensorport parity` as a new process against a new `node` process that
 * does the same directly (load onnxruntime, both sessions, both runs, a comparison loop). Both pay
 * Node's start and onnxruntime's initialisation, so the difference is the runner's own cost.
 */
function coldProcesses(ref: string, cand: string, inputName: string, dims: number[]): void {
  const cli = path.join(__dirname, '..', '..', 'bin', 'tensorport.js');
  const script = path.join(TMP, 'direct.js');
  writeFileSync(script, `
const ort = require(${JSON.stringify(require.resolve('onnxruntime-node'))});
(async () => {
  const dims = ${JSON.stringify(dims)};
  const n = dims.reduce((a, b) => a * b, 1);
  const feed = new Float32Array(n).map((_, i) => Math.sin(i));
  const opts = { executionProviders: ['cpu'], logSeverityLevel: 4 };
  const a = await ort.InferenceSession.create(${JSON.stringify(ref)}, opts);
  const b = await ort.InferenceSession.create(${JSON.stringify(cand)}, opts);
  const ra = await a.run({ [a.inputNames[0]]: new ort.Tensor('float32', feed, dims) });
  const rb = await b.run({ [b.inputNames[0]]: new ort.Tensor('float32', feed, dims) });
  const x = ra[a.outputNames[0]].data, y = rb[b.outputNames[0]].data;
  let m = 0; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  process.stdout.write(String(m));
})();
`);
  const time = (args: string[]) => {
    const t = now();
    const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
    if (r.status !== 0 && r.status !== 1) throw new Error(`${args.join(' ')}: ${r.stderr}`);
    return now() - t;
  };
  const d: number[] = [];
  const c: number[] = [];
  for (let i = 0; i < REPS + 1; i++) {
    const dd = time([script]);
    const cc = time([cli, 'parity', '--reference', ref, '--candidate', cand, '--device', 'cpu', '--input', `${inputName}=random:${dims.join('x')}`, '--json']);
    if (i === 0) continue;
    d.push(dd);
    c.push(cc);
  }
  const dm = median(d);
  const cm = median(c);
  console.log(`  cold, new processes: node + onnxruntime directly ${dm.toFixed(0)} ms, tensorport parity ${cm.toFixed(0)} ms: overhead ${(((cm - dm) / dm) * 100).toFixed(1)}% (${(cm - dm).toFixed(0)} ms)\n`);
}

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  const workerPath = path.join(TMP, 'parityWorker.js');
  await build({ entryPoints: [path.join(__dirname, '..', '..', 'server', 'src', 'parity', 'parityWorker.ts')], outfile: workerPath, bundle: true, platform: 'node', target: 'node20', format: 'cjs', external: ['onnxruntime-node', 'typescript'], logLevel: 'warning' });
  console.log(benchHeader());
  console.log(`${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), Node ${process.version}, onnxruntime-node ${ort.env.versions.node}\n`);

  const ref = path.join(TMP, 'mlp_ref.onnx');
  const cand = path.join(TMP, 'mlp_cand.onnx');
  mlpModel(ref, 1);
  mlpModel(cand, 2);
  await measure(`MLP ${LAYERS} × [${HIDDEN}, ${HIDDEN}], batch ${BATCH} (${((LAYERS * HIDDEN * HIDDEN * 4) / 2 ** 20).toFixed(0)} MiB of weights per model)`,
    ref, cand, 'x', [BATCH, HIDDEN], true, workerPath);
  if (device === 'cpu') coldProcesses(ref, cand, 'x', [BATCH, HIDDEN]);

  const P = path.join(__dirname, '..', 'fixtures', 'parity');
  await measure('tiny transformer fixtures (ref.onnx vs port.onnx with port_correct.tpmap, input_ids [1, 7])',
    path.join(P, 'ref.onnx'), path.join(P, 'port.onnx'), 'input_ids', [1, 7], false, workerPath,
    { weights: path.join(P, 'port_correct.tpmap'), inputs: [{ name: 'input_ids', file: path.join(P, 'input_ids.npy') }] });
  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

main().catch((e) => { console.error(e); process.exitCode = 1; });
