/**
 * Model source on the installed transformers (the Python test environment): `tensorport keys
 * FILE.py::Class` cold in a fresh process for each of test/python/model_truth.py's 28 classes, against
 * what a porting engineer otherwise runs to see the same keys — Python importing transformers and
 * building the class on the meta device to print its state_dict(); and hover on a layer definition in
 * the modeling file, warm (the editor's case), in this process.
 * Run: node --import tsx test/bench/source.bench.ts (after npm run build and the Python environment).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { hoverModelSource } from '../../server/src/source/hover';
import { runPython, testPython } from '../support/python';
import { measure } from './measure';

const CLI = path.join(__dirname, '..', '..', 'dist', 'cli.js');

async function main(): Promise<void> {
  const env = testPython();
  if (env.skip) { console.log(`skipped: ${env.skip}`); return; }
  const cases = JSON.parse(runPython(env.python!, [path.join(__dirname, '..', 'python', 'model_truth.py')])) as { name: string; file: string; class: string }[];
  const cli: number[] = [], py: number[] = [], hover: number[] = [];
  console.log(`${'class'.padEnd(20)} ${'keys (CLI, cold)'.padStart(17)} ${'python, meta device'.padStart(20)} ${'hover, warm'.padStart(12)}`);
  for (const c of cases) {
    const k = measure(process.execPath, [CLI, 'keys', `${c.file}::${c.class}`], 3).wallMs;
    const p = measure(env.python!, ['-c', [
      'import importlib, torch, warnings', 'warnings.filterwarnings("ignore")',
      `m = importlib.import_module("${c.file.split('site-packages/')[1].replace(/\.py$/, '').split('/').join('.')}")`,
      `cls = getattr(m, "${c.class}")`,
      'cfg = cls.config_class() if hasattr(cls, "config_class") and cls.config_class else None',
      'with torch.device("meta"): sd = cls(cfg).state_dict()',
      'print(len(sd))',
    ].join('\n')], 1).wallMs;
    const lines = readFileSync(c.file, 'utf8').split('\n');
    const line = lines.findIndex((l) => /=\s*nn\.(Linear|Embedding|Conv2d|LayerNorm)\(/.test(l));
    const column = line >= 0 ? lines[line].indexOf('nn.') : 0;
    await hoverModelSource(c.file, line, column);
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await hoverModelSource(c.file, line, column);
      warm.push(performance.now() - t);
    }
    const h = warm.sort((a, b) => a - b)[2];
    cli.push(k); py.push(p); hover.push(h);
    console.log(`${c.class.padEnd(20)} ${k.toFixed(0).padStart(14)} ms ${p.toFixed(0).padStart(17)} ms ${h.toFixed(1).padStart(9)} ms`);
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const max = (xs: number[]) => Math.max(...xs);
  console.log(`${'median'.padEnd(20)} ${med(cli).toFixed(0).padStart(14)} ms ${med(py).toFixed(0).padStart(17)} ms ${med(hover).toFixed(1).padStart(9)} ms`);
  console.log(`${'slowest'.padEnd(20)} ${max(cli).toFixed(0).padStart(14)} ms ${max(py).toFixed(0).padStart(17)} ms ${max(hover).toFixed(1).padStart(9)} ms`);
}

void main();
