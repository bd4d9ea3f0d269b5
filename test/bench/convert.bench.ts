/**
 * Benchmark for `tensorport convert` (not a timed test: numbers go to docs/benchmarks.md). A ~1 GiB torch-layout
 * safetensors — 64 Linear weights of [4096, 1024] F32 (16 MiB each) — is converted to Paddle layout
 * (every weight transposed) by the real CLI in a child process under GNU time, which reports its peak
 * RSS: it must stay near one tensor, not the model — into each output format (.safetensors, .pt,
 * .pdparams), each beside the Python a user would otherwise run (safe_open, `.T`, the framework's save;
 * the project's Python test environment), the same weights cast to F16 beside `.half()` + save_file, and
 * `cat` of the same file (the I/O floor).
 * The output is spot-checked against the source. Files live in test/bench/tmp/convert and are removed.
 * Run: node esbuild.mjs && node --import tsx test/bench/convert.bench.ts (TENSORPORT_BENCH_TINY=1: 2 × [64, 32], one run,
 * Python for .pdparams only, for the smoke test)
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { testPython } from '../support/python';
import { TINY, benchFooter, benchHeader, size } from './benchEnv';
import { measure as measureRuns, report } from './measure';

const ROOT = path.join(__dirname, '..', '..');
const TMP = path.join(__dirname, 'tmp', 'convert');
const COUNT = size(64, 2);
const OUT_DIM = size(4096, 64);
const IN_DIM = size(1024, 32);
const measure = (cmd: string, args: string[], runs?: number) => measureRuns(cmd, args, size(runs ?? 3, 1));
const SIZE = `${COUNT} × ${(OUT_DIM * IN_DIM * 4 / 2 ** 20).toFixed(OUT_DIM * IN_DIM * 4 < 2 ** 20 ? 2 : 0)} MiB F32`;
const key = (i: number) => `model.layers.${i}.mlp.down_proj.weight`;

rmSync(TMP, { recursive: true, force: true });
mkdirSync(TMP, { recursive: true });


/** The source with real (non-zero, position-dependent) data, written one tensor at a time. */
function writeSource(file: string): number {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  const bytes = OUT_DIM * IN_DIM * 4;
  for (let i = 0; i < COUNT; i++) header[key(i)] = { dtype: 'F32', shape: [OUT_DIM, IN_DIM], data_offsets: [i * bytes, (i + 1) * bytes] };
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  const fd = openSync(file, 'w');
  writeSync(fd, Buffer.concat([len, Buffer.from(json)]));
  const a = new Float32Array(OUT_DIM * IN_DIM);
  for (let t = 0; t < COUNT; t++) {
    for (let j = 0; j < a.length; j++) a[j] = t + j * 1e-7;
    writeSync(fd, new Uint8Array(a.buffer));
  }
  closeSync(fd);
  return 8 + json.length;
}

/** The target only lends keys, shapes and dtypes: a header over a sparse hole — Paddle's layout by default, or torch's in F16. */
function writeSparseTarget(file: string, dtype: 'F32' | 'F16' = 'F32'): void {
  const header: Record<string, unknown> = { __metadata__: { format: dtype === 'F32' ? 'paddle' : 'pt' } };
  const bytes = OUT_DIM * IN_DIM * (dtype === 'F32' ? 4 : 2);
  const shape = dtype === 'F32' ? [IN_DIM, OUT_DIM] : [OUT_DIM, IN_DIM];
  for (let i = 0; i < COUNT; i++) header[key(i)] = { dtype, shape, data_offsets: [i * bytes, (i + 1) * bytes] };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(file, Buffer.concat([len, json]));
  const fd = openSync(file, 'r+');
  ftruncateSync(fd, 8 + json.length + COUNT * bytes);
  closeSync(fd);
}


/** A few elements of output tensor t, which must be the source's transposed. */
function spotCheck(out: string): void {
  const fd = openSync(out, 'r');
  const lenBuf = Buffer.alloc(8);
  readSync(fd, lenBuf, 0, 8, 0);
  const n = Number(lenBuf.readBigUInt64LE(0));
  const hdr = Buffer.alloc(n);
  readSync(fd, hdr, 0, n, 8);
  const header = JSON.parse(hdr.toString('utf8'));
  const v = Buffer.alloc(4);
  for (const t of [0, Math.min(17, COUNT - 1), COUNT - 1]) {
    const e = header[key(t)];
    if (e.shape[0] !== IN_DIM || e.shape[1] !== OUT_DIM) throw new Error(`${key(t)} has shape ${e.shape}`);
    for (const [i, j] of [[0, 0], [1, 0], [IN_DIM - 1, OUT_DIM - 1], [Math.min(513, IN_DIM - 2), Math.min(77, OUT_DIM - 2)]]) {
      readSync(fd, v, 0, 4, 8 + n + e.data_offsets[0] + (i * OUT_DIM + j) * 4);
      const want = Math.fround(t + (j * IN_DIM + i) * 1e-7);
      if (v.readFloatLE(0) !== want) throw new Error(`${key(t)}[${i}, ${j}] is ${v.readFloatLE(0)}, expected ${want}`);
    }
  }
  closeSync(fd);
}

const source = path.join(TMP, 'llm_torch.safetensors');
const target = path.join(TMP, 'llm_paddle.safetensors');
const mapping = path.join(TMP, 'to_paddle.tpmap');
writeSource(source);
writeSparseTarget(target);
writeFileSync(mapping, `source llm_torch.safetensors\ntarget llm_paddle.safetensors\nmodel.layers.{i}.mlp.down_proj.weight -> model.layers.{i}.mlp.down_proj.weight | transpose\n`);

console.log(benchHeader());
console.log(`node ${process.version}, ${process.platform}; best of ${size(2, 1)} runs; page cache warm; peak RSS of the whole process`);
const bin = path.join(ROOT, 'bin', 'tensorport.js');
// The same CLI on a 9 KiB model: its peak RSS is the process's baseline (code, heap), not data.
const fixtures = path.join(ROOT, 'test', 'fixtures', 'mapping');
const tiny = path.join(TMP, 'tiny.tpmap');
writeFileSync(tiny, `source ${JSON.stringify(path.join(fixtures, 'vit_hf.safetensors'))}\ntarget ${JSON.stringify(path.join(fixtures, 'vit_paddle.pdparams'))}\n` +
  '[encoder.layer.{i}.attention.attention.query.weight, encoder.layer.{i}.attention.attention.key.weight, encoder.layer.{i}.attention.attention.value.weight] -> blocks.{i}.attn.qkv.weight | cat(0) | transpose\n' +
  '[encoder.layer.{i}.attention.attention.query.bias, encoder.layer.{i}.attention.attention.key.bias, encoder.layer.{i}.attention.attention.value.bias] -> blocks.{i}.attn.qkv.bias | cat(0)\n' +
  'embeddings.cls_token -> cls_token\nembeddings.position_embeddings -> pos_embed\nembeddings.patch_embeddings.projection.* -> patch_embed.proj.*\n' +
  'encoder.layer.{i}.layernorm_before.* -> blocks.{i}.norm1.*\nencoder.layer.{i}.layernorm_after.* -> blocks.{i}.norm2.*\n' +
  'encoder.layer.{i}.attention.output.dense.weight -> blocks.{i}.attn.proj.weight | transpose\nencoder.layer.{i}.attention.output.dense.bias -> blocks.{i}.attn.proj.bias\n' +
  'encoder.layer.{i}.intermediate.dense.weight -> blocks.{i}.mlp.fc1.weight | transpose\nencoder.layer.{i}.intermediate.dense.bias -> blocks.{i}.mlp.fc1.bias\n' +
  'encoder.layer.{i}.output.dense.weight -> blocks.{i}.mlp.fc2.weight | transpose\nencoder.layer.{i}.output.dense.bias -> blocks.{i}.mlp.fc2.bias\n' +
  'layernorm.* -> norm.*\npooler.* -> drop\n');
report('convert: a 9 KiB ViT (the CLI\'s baseline RSS)', measure(process.execPath, [bin, 'convert', tiny, '-o', path.join(TMP, 'tiny.safetensors'), '--json', '--force'], 2), 62);
// Each output format against the Python a porting engineer would otherwise write: safe_open, .T, the
// framework's own save — in the project's Python test environment (the frameworks pinned there).
const env = testPython();
const PY_SAVE: Record<string, string> = {
  safetensors: 'from safetensors.torch import save_file\nsave_file(out, dst)',
  pt: 'torch.save(out, dst)',
  pdparams: 'import paddle\npaddle.save({k: paddle.to_tensor(v.numpy()) for k, v in out.items()}, dst)',
  gguf: 'import gguf\ng = gguf.GGUFWriter(dst, "llama")\nfor k, v in out.items(): g.add_tensor(k, v.numpy())\ng.write_header_to_file(); g.write_kv_data_to_file(); g.write_tensors_to_file(); g.close()',
};
for (const ext of ['safetensors', 'pt', 'pdparams', 'gguf']) {
  const o = path.join(TMP, `out.${ext}`);
  report(`convert → .${ext}: ${SIZE} transposed`, measure(process.execPath, [bin, 'convert', mapping, '-o', o, '--json', '--force'], 2), 62);
  if (ext === 'safetensors') spotCheck(o);
  rmSync(o, { force: true });
  // Tiny mode runs one Python save (paddle.save: torch, safetensors and Paddle imported), as the Python imports dominate it.
  if (env.skip || (TINY && ext !== 'pdparams')) continue;
  const script = [
    'import os, sys, warnings', 'warnings.filterwarnings("ignore")', 'import torch', 'from safetensors import safe_open',
    `src, dst = ${JSON.stringify(source)}, ${JSON.stringify(path.join(TMP, `py.${ext}`))}`,
    'out = {}', 'with safe_open(src, "pt") as f:', '    for k in f.keys(): out[k] = f.get_tensor(k).T.contiguous()',
    PY_SAVE[ext], 'fd = os.open(dst, os.O_RDONLY); os.fsync(fd); os.close(fd)',
  ].join('\n');
  report(`  python: safe_open, .T, ${{ safetensors: 'save_file', pt: 'torch.save', pdparams: 'paddle.save', gguf: 'GGUFWriter' }[ext]}`, measure(env.python!, ['-c', script], 1), 62);
  rmSync(path.join(TMP, `py.${ext}`), { force: true });
}
// The other conversion done by the gigabyte: an fp32 checkpoint written as fp16 (no transpose).
const half = path.join(TMP, 'llm_fp16.safetensors');
writeSparseTarget(half, 'F16');
const toHalf = path.join(TMP, 'to_fp16.tpmap');
writeFileSync(toHalf, `source llm_torch.safetensors\ntarget llm_fp16.safetensors\nmodel.layers.{i}.mlp.down_proj.weight -> model.layers.{i}.mlp.down_proj.weight | cast(F16)\n`);
report(`convert → .safetensors: ${SIZE} cast to F16`, measure(process.execPath, [bin, 'convert', toHalf, '-o', path.join(TMP, 'out16.safetensors'), '--json', '--force'], 2), 62);
rmSync(path.join(TMP, 'out16.safetensors'), { force: true });
if (!env.skip && !TINY) {
  const script = [
    'import os', 'import torch', 'from safetensors import safe_open', 'from safetensors.torch import save_file',
    `src, dst = ${JSON.stringify(source)}, ${JSON.stringify(path.join(TMP, 'py16.safetensors'))}`,
    'out = {}', 'with safe_open(src, "pt") as f:', '    for k in f.keys(): out[k] = f.get_tensor(k).half()',
    'save_file(out, dst)', 'fd = os.open(dst, os.O_RDONLY); os.fsync(fd); os.close(fd)',
  ].join('\n');
  report('  python: safe_open, .half(), save_file', measure(env.python!, ['-c', script], 1), 62);
  rmSync(path.join(TMP, 'py16.safetensors'), { force: true });
}
// cat, not cp: cp may clone or copy in the kernel; cat moves every byte through user space, as convert must.
report('cat + sync of the source (I/O floor: read, write, flush)', measure('/bin/sh', ['-c', `cat "${source}" > "${path.join(TMP, 'copy.safetensors')}" && sync "${path.join(TMP, 'copy.safetensors')}"`]), 62);
rmSync(path.join(TMP, 'copy.safetensors'), { force: true });
if (env.skip) console.log(`python: skipped (${env.skip})`);
if (!process.env.TENSORPORT_BENCH_KEEP) rmSync(TMP, { recursive: true, force: true });
console.log(benchFooter());
