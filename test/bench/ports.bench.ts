/**
 * Porting into a model class (not a timed test: numbers go into docs/benchmarks.md). For each
 * hand-written port in test/fixtures/ports (classes with base-size defaults) and the real PaddleClas ViT:
 * `tensorport map` of the tiny HF checkpoint onto the class (both proposals and the binding between
 * them) and `tensorport convert` into it, each a cold CLI process as a user runs it, median of 5 — beside
 * what a user otherwise runs to get a target checkpoint to map and convert into: Python importing the
 * framework, building the class at the checkpoint's sizes and saving its random `state_dict()`.
 * Run: npm run build && node --import tsx test/bench/ports.bench.ts (TENSORPORT_BENCH_TINY=1: one class, one run, for the smoke test)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { BIN } from '../support/cli';
import { testPython } from '../support/python';
import { TINY, benchFooter, benchHeader, size } from './benchEnv';

const PORTS = path.join(__dirname, '..', 'fixtures', 'ports');
const TMP = path.join(__dirname, 'tmp', 'ports');
const RUNS = size(5, 1);
const PPCLS = path.join(__dirname, '..', 'python', '.venv', 'lib', 'python3.11', 'site-packages', 'paddleclas', 'ppcls', 'arch', 'backbone', 'model_zoo', 'vision_transformer.py');

const ALL_CASES: [string, string, string][] = [
  ['vit_tiny', `${PORTS}/paddle_vit.py::VisionTransformer`, 'pdparams'],
  ['vit_tiny', `${PORTS}/torch_vit_plinear.py::ViT`, 'pt'],
  ['vit_tiny', `${PORTS}/torch_vit_flax.py::ViT`, 'safetensors'],
  ['bert_tiny', `${PORTS}/paddle_bert.py::BertModel`, 'pdparams'],
  ['vit_tiny', `${PPCLS}::VisionTransformer`, 'pdparams'],
];
const CASES = size(ALL_CASES, [ALL_CASES[1]]);

function timed(cmd: string, args: string[]): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, GLOG_minloglevel: '3', PYTHONDONTWRITEBYTECODE: '1' } });
  if (r.status !== 0 && !(r.status === 1 && args.includes('check'))) throw new Error(`${path.basename(cmd)} ${args.join(' ')}: ${r.stderr.slice(-800)}`);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Python: import the framework, build the class at the bound sizes, save its state_dict — what `convert` into the class stands in for. */
function pythonSave(spec: string, mapping: string, hf: string, out: string): string {
  const [file, cls] = spec.split('::');
  const paddle = readFileSync(file, 'utf8').includes('import paddle');
  return [
    'import importlib.util, inspect, json, re, sys',
    `spec = importlib.util.spec_from_file_location("m", ${JSON.stringify(file)}); m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)`,
    `cls = m.${cls}; params = inspect.signature(cls.__init__).parameters; kw = {}`,
    `cfg = json.load(open(${JSON.stringify(path.join(PORTS, hf, 'config.json'))}))`,
    'kw.update({k: v for k, v in cfg.items() if k in params and isinstance(v, int) and not isinstance(v, bool)})',
    `kw.update({a: int(b) for a, b in re.findall(r"^set (\\w+) = (\\d+)", open(${JSON.stringify(mapping)}).read(), re.M) if a in params})`,
    paddle ? `import paddle; paddle.save(cls(**kw).state_dict(), ${JSON.stringify(out)})` : `import torch; torch.save(cls(**kw).state_dict(), ${JSON.stringify(out)})`,
  ].join('\n');
}

function main(): void {
  const env = testPython();
  console.log(benchHeader());
  if (env.skip) console.log(`Python build+save: skipped (${env.skip})`);
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  console.log(`class                                           map (ms)  convert (ms)  Python build+save (ms)`);
  for (const [hf, spec, ext] of CASES) {
    const mapping = path.join(TMP, 'port.tpmap');
    const out = path.join(TMP, `port.${ext}`);
    const map: number[] = [];
    const conv: number[] = [];
    const py: number[] = [];
    for (let i = TINY ? 1 : 0; i <= RUNS; i++) {
      const m = timed(process.execPath, [BIN, 'map', path.join(PORTS, hf, 'model.safetensors'), spec, '-o', mapping, '--force']);
      const c = spec.startsWith(PPCLS) ? NaN : timed(process.execPath, [BIN, 'convert', mapping, '-o', out, '--force']);
      // PaddleClas's file imports its package relatively: building it by path is not what its users do.
      const p = env.python && !spec.startsWith(PPCLS) ? timed(env.python, ['-c', pythonSave(spec, mapping, hf, path.join(TMP, `py.${ext}`))]) : NaN;
      if (i === 0) continue; // warm-up: the OS file cache, Python's bytecode
      map.push(m); conv.push(c); py.push(p);
    }
    const name = `${path.basename(spec.split('::')[0])}::${spec.split('::')[1]}`;
    console.log(`${name.padEnd(46)} ${median(map).toFixed(0).padStart(9)} ${Number.isNaN(median(conv)) ? '            —' : median(conv).toFixed(0).padStart(13)} ${Number.isNaN(median(py)) ? '                      —' : median(py).toFixed(0).padStart(23)}`);
  }
  rmSync(TMP, { recursive: true, force: true });
  console.log(benchFooter());
}

main();
