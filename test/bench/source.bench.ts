/**
 * Model source on the installed libraries (the Python test environment): per class of
 * test/python/model_truth.py (28 transformers classes) and paddle_model_truth.py (8 PaddleClas roots),
 *  (1) cold inference in this process — every model and lowered-file cache reset first (the parser
 *      stays loaded): what `keys` does after Node's start; median of 3, wall and CPU time;
 *  (2) warm: the same class right after *another* class of the same file was inferred (library files
 *      lowered and cached, as when hover moves between classes or a second `check` side uses the package);
 *  (3) `tensorport keys FILE::Class` cold in a fresh process, best of 3 (Node start included);
 *  (4) Python building the class — torch on the meta device, Paddle under `paddle.LazyGuard()` — in a
 *      fresh process, once: what a porting engineer otherwise runs to see the same keys.
 * Prints a per-class table, p50/p90 per column, the date and /proc/loadavg before and after (this
 * machine's cores are shared: CPU time is the steadier number).
 * `--corpus`: instead, every class of the corpus (test/python/corpus_truth.py, 182 classes of transformers,
 * timm, open_clip, PaddleClas, PaddleFormers, PaddleNLP): in-process cold (caches reset) and "second class"
 * (right after another class of the same library, its files cached), p50/p90 overall and per library.
 * Run: npm run bench:source   (or node --import tsx test/bench/source.bench.ts [--corpus] after npm run build)
 * (TENSORPORT_BENCH_TINY=1: the first transformers class, one run each, PaddleClas not listed, for the smoke test)
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { resetSourceCaches } from '../../server/src/source/loadModel';
import { inferModelInfo } from '../../server/src/source/readModelSource';
import { corpusTruth } from '../support/corpus';
import { runPython, testPython } from '../support/python';
import { TINY, benchHeader, size } from './benchEnv';
import { measure } from './measure';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const PY_DIR = path.join(__dirname, '..', 'python');

interface Case { lib: 'transformers' | 'paddle'; file: string; class: string }
interface Row { c: Case; coldMs: number; coldCpuMs: number; warmMs: number; warmCpuMs: number; other?: string; cliMs: number; pyMs: number }

const loadavg = () => readFileSync('/proc/loadavg', 'utf8').trim();

async function timed(file: string, cls: string): Promise<{ ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  await inferModelInfo(file, cls);
  const ms = performance.now() - t;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]; };

/** Another root in the same file: a model class (`…Model`, `…For…`) or, for PaddleClas, another factory. */
function otherRoot(c: Case): string | undefined {
  const text = readFileSync(c.file, 'utf8');
  const re = c.lib === 'paddle' ? /^def ([A-Z]\w*)\(/gm : /^class (\w+(?:Model|For\w+))\(/gm;
  for (const m of text.matchAll(re)) if (m[1] !== c.class && !/PreTrained|Output$/.test(m[1])) return m[1];
  return undefined;
}

function pythonBuild(python: string, c: Case): number {
  const code = c.lib === 'transformers'
    ? [
      'import importlib, torch, warnings', 'warnings.filterwarnings("ignore")',
      `m = importlib.import_module("${c.file.split('site-packages/')[1].replace(/\.py$/, '').split('/').join('.')}")`,
      `cls = getattr(m, "${c.class}")`,
      'cfg = cls.config_class() if hasattr(cls, "config_class") and cls.config_class else None',
      'with torch.device("meta"): sd = cls(cfg).state_dict()',
      'print(len(sd))',
    ]
    : [
      'import sys, importlib, contextlib', `sys.path.insert(0, ${JSON.stringify(PY_DIR)})`,
      'import paddle_model_truth as t, paddle', // installs the stand-ins for the zoo's unused imports
      `m = importlib.import_module("paddleclas.${c.file.split('site-packages/paddleclas/')[1].replace(/\.py$/, '').split('/').join('.')}")`,
      // LazyGuard defers parameter memory; a constructor that computes on its weights (ConvNeXt's head scale) needs CPU.
      'try:',
      `    with (paddle.LazyGuard() if hasattr(paddle, "LazyGuard") else contextlib.nullcontext()): sd = getattr(m, "${c.class}")().state_dict()`,
      'except Exception:',
      `    sd = getattr(m, "${c.class}")().state_dict()`,
      'print(len(sd))',
    ];
  return measure(python, ['-c', code.join('\n')], 1).wallMs;
}

/** Every corpus class, cold and as a second class of its library: the issue's ≤ 300 ms / ≤ 100 ms targets. */
async function corpus(python: string): Promise<void> {
  const cases = corpusTruth(python).filter((c) => !c.error);
  console.log(`date ${new Date().toISOString()}  loadavg ${loadavg()}  node ${process.version}  ${cases.length} classes`);
  resetSourceCaches();
  await inferModelInfo(cases[0].file, cases[0].class).catch(() => undefined);
  const cold = new Map<string, number[]>();
  const second = new Map<string, number[]>();
  const add = (m: Map<string, number[]>, lib: string, ms: number) => { m.set(lib, [...(m.get(lib) ?? []), ms]); };
  for (const c of cases) {
    resetSourceCaches();
    const t = await timed(c.file, c.class).catch(() => undefined);
    if (t) add(cold, c.library, t.ms);
  }
  // Library by library without a reset: each class after the first finds the library's files read and parsed.
  for (const lib of new Set(cases.map((c) => c.library))) {
    resetSourceCaches();
    let first = true;
    for (const c of cases.filter((x) => x.library === lib)) {
      const t = await timed(c.file, c.class).catch(() => undefined);
      if (t && !first) add(second, lib, t.ms);
      first = false;
    }
  }
  const all = (m: Map<string, number[]>) => [...m.values()].flat();
  const line = (label: string, a: number[], b: number[]) => console.log(`${label.padEnd(14)} ${String(a.length).padStart(4)}  cold p50 ${pct(a, 0.5).toFixed(0).padStart(4)} p90 ${pct(a, 0.9).toFixed(0).padStart(4)} ms   second class p50 ${b.length ? pct(b, 0.5).toFixed(0).padStart(4) : '   -'} p90 ${b.length ? pct(b, 0.9).toFixed(0).padStart(4) : '   -'} ms`);
  for (const lib of cold.keys()) line(lib, cold.get(lib)!, second.get(lib) ?? []);
  line('all', all(cold), all(second));
  console.log(`date ${new Date().toISOString()}  loadavg ${loadavg()}`);
}

async function main(): Promise<void> {
  const env = testPython();
  if (env.python === undefined) { console.log(`skipped: ${env.skip}`); return; }
  const python = env.python;
  if (process.argv.includes('--corpus')) { await corpus(python); return; }
  if (TINY) console.log(benchHeader());
  console.log(`date ${new Date().toISOString()}  loadavg ${loadavg()}  node ${process.version}`);
  const all: Case[] = [
    ...(JSON.parse(runPython(python, [path.join(PY_DIR, 'model_truth.py')])) as { file: string; class: string }[]).map((c) => ({ lib: 'transformers' as const, file: c.file, class: c.class })),
    ...((TINY ? [] : JSON.parse(runPython(python, [path.join(PY_DIR, 'paddle_model_truth.py')]))) as { file: string; class: string }[]).map((c) => ({ lib: 'paddle' as const, file: c.file, class: c.class })),
  ];
  const cases = size(all, all.slice(0, 1));
  // JIT warm-up: the first inference in a process compiles the interpreter; "cold" here means cold caches.
  resetSourceCaches();
  await inferModelInfo(cases[0].file, cases[0].class);
  const rows: Row[] = [];
  const head = `${'class'.padEnd(40)} ${'cold ms'.padStart(8)} ${'cpu'.padStart(6)} ${'warm ms'.padStart(8)} ${'cpu'.padStart(6)} ${'CLI ms'.padStart(7)} ${'python ms'.padStart(10)}  warmed by`;
  console.log(head);
  for (const c of cases) {
    const cold: { ms: number; cpuMs: number }[] = [];
    for (let i = 0; i < size(3, 1); i++) { resetSourceCaches(); cold.push(await timed(c.file, c.class)); }
    resetSourceCaches();
    const other = otherRoot(c);
    if (other) await inferModelInfo(c.file, other).catch(() => undefined);
    const warm = await timed(c.file, c.class);
    const cliMs = measure(process.execPath, [CLI, 'keys', `${c.file}::${c.class}`], size(3, 1)).wallMs;
    const pyMs = pythonBuild(python, c);
    const r: Row = { c, coldMs: median(cold.map((x) => x.ms)), coldCpuMs: median(cold.map((x) => x.cpuMs)), warmMs: warm.ms, warmCpuMs: warm.cpuMs, other, cliMs, pyMs };
    rows.push(r);
    console.log(`${`${c.lib === 'paddle' ? 'paddle ' : ''}${c.class}`.padEnd(40)} ${r.coldMs.toFixed(0).padStart(8)} ${r.coldCpuMs.toFixed(0).padStart(6)} ${r.warmMs.toFixed(0).padStart(8)} ${r.warmCpuMs.toFixed(0).padStart(6)} ${r.cliMs.toFixed(0).padStart(7)} ${r.pyMs.toFixed(0).padStart(10)}  ${other ?? '-'}`);
  }
  for (const [label, p] of [['p50', 0.5], ['p90', 0.9]] as const) {
    const col = (f: (r: Row) => number) => pct(rows.map(f), p).toFixed(0);
    console.log(`${label.padEnd(40)} ${col((r) => r.coldMs).padStart(8)} ${col((r) => r.coldCpuMs).padStart(6)} ${col((r) => r.warmMs).padStart(8)} ${col((r) => r.warmCpuMs).padStart(6)} ${col((r) => r.cliMs).padStart(7)} ${col((r) => r.pyMs).padStart(10)}`);
  }
  console.log(`date ${new Date().toISOString()}  loadavg ${loadavg()}`);
}

void main();
