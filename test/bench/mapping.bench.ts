/**
 * The mapping language server under load, measured through the real server over stdio
 * (not a timed test: numbers go into docs/benchmarks.md). A 5,000-line mapping between two checkpoints of
 * 100,000 tensors each:
 *  - first open (reads both headers, then analyses),
 *  - full analysis (a second document with the same text: headers cached, no rule cached),
 *  - re-analysis after a one-line edit,
 *  - completion latency (p50/p95) on both sides of `->`, and hover latency.
 * Run: npm run build && node --import tsx test/bench/mapping.bench.ts
 */
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { LspClient } from '../support/lspClient';
import { sparseSafetensors } from '../support/sparse';

const TMP = path.join(__dirname, 'tmp-mapping');
const LAYERS = 1000;
const PER_LAYER = 100;
const RULE_LAYERS = 50; // 50 layers × 100 tensors = 5,000 rule lines

function* keys(prefix: string, seg: string): Generator<[string, number[]]> {
  for (let l = 0; l < LAYERS; l++) for (let k = 0; k < PER_LAYER; k++) yield [`${prefix}.${l}.${seg}${k}.weight`, [64, 64]];
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main(): Promise<void> {
  rmSync(TMP, { recursive: true, force: true });
  mkdirSync(TMP, { recursive: true });
  sparseSafetensors(path.join(TMP, 'src.safetensors'), keys('encoder.layer', 'tensor'));
  sparseSafetensors(path.join(TMP, 'tgt.safetensors'), keys('blocks', 'param'));
  const lines = ['source src.safetensors', 'target tgt.safetensors'];
  for (let l = 0; l < RULE_LAYERS; l++) for (let k = 0; k < PER_LAYER; k++) lines.push(`encoder.layer.${l}.tensor${k}.weight -> blocks.${l}.param${k}.weight`);
  const text = lines.join('\n') + '\n';

  const { client } = await LspClient.start(TMP);
  let t0 = process.hrtime.bigint();
  const uri = await client.open(path.join(TMP, 'a.tpmap'), text);
  await client.until(uri, (d) => d.length > 0, 120_000);
  const firstOpen = ms(t0);

  const full: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = process.hrtime.bigint();
    const u = await client.open(path.join(TMP, `full${i}.tpmap`), text);
    await client.until(u, (d) => d.length > 0, 60_000);
    full.push(ms(t0));
  }

  const inServer = () => Number(/in ([\d.]+) ms$/.exec(client.log[client.log.length - 1] ?? '')?.[1]);
  const edit: number[] = [];
  const editServer: number[] = [];
  for (let i = 0; i < 30; i++) {
    const line = 2 + ((i * 97) % 5000);
    const before = client.diagnostics.get(uri);
    t0 = process.hrtime.bigint();
    await client.edit(uri, { start: { line, character: 0 }, end: { line, character: lines[line].length } },
      i % 2 ? lines[line] : lines[line].replace('.weight ->', '.weigh ->'));
    await client.until(uri, (d) => d !== before, 10_000);
    edit.push(ms(t0));
    editServer.push(inServer());
  }

  const completeLeft: number[] = [];
  const completeRight: number[] = [];
  const hover: number[] = [];
  for (let i = 0; i < 200; i++) {
    const line = 2 + ((i * 31) % 5000);
    const arrow = lines[line].indexOf('->');
    t0 = process.hrtime.bigint();
    await client.request('textDocument/completion', { textDocument: { uri }, position: { line, character: 'encoder.layer.'.length + 2 } });
    completeLeft.push(ms(t0));
    t0 = process.hrtime.bigint();
    await client.request('textDocument/completion', { textDocument: { uri }, position: { line, character: arrow + 3 + 'blocks.'.length } });
    completeRight.push(ms(t0));
    t0 = process.hrtime.bigint();
    await client.request('textDocument/hover', { textDocument: { uri }, position: { line, character: 3 } });
    hover.push(ms(t0));
  }
  await client.stop();
  rmSync(TMP, { recursive: true, force: true });

  const row = (name: string, xs: number[]) => console.log(`${name.padEnd(46)} p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms   p95 ${pct(xs, 95).toFixed(1).padStart(7)} ms`);
  console.log(`node ${process.version}; 5,000-line mapping, two checkpoints of ${(LAYERS * PER_LAYER).toLocaleString('en-US')} tensors each`);
  console.log(`${'first open (reads both headers + analysis)'.padEnd(46)} ${firstOpen.toFixed(0)} ms`);
  row('full analysis (headers cached)', full);
  row('re-analysis after a one-line edit (round trip)', edit);
  row('  of which parse + analysis in the server', editServer);
  row('completion, left of ->', completeLeft);
  row('completion, right of -> (ranked)', completeRight);
  row('hover', hover);
}

void main();
