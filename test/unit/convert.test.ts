/**
 * The checkpoint converter on real files (test/fixtures/gen/convert_models.py): every streamable source
 * format, every transform and cast, compared with what torch computed; the written file's header; the
 * round trip; and the guarantees — a mapping with errors or a result that does not match the target
 * is refused before anything is written, and a run that fails or is aborted midway leaves no output,
 * no temporary file, and an existing output untouched.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { castData } from '../../server/src/mapping/convert/cast';
import { ConvertError } from '../../server/src/mapping/convert/errors';
import { f32BitsToBf16, f32BitsToHalf, halfToNumber, numberToBf16, numberToHalf } from '../../server/src/mapping/convert/floatBits';
import { gatherInto } from '../../server/src/mapping/convert/gather';
import { convertMapping } from '../../server/src/mapping/convert/convertMapping';
import { FIXTURES, scratchDir } from '../support/tmp';
import { RT_FUSED_RULES, T5_TIED_RULES, VIT_TO_PADDLE_RULES } from '../support/mappings';

const DIR = path.join(FIXTURES, 'convert');
const MAPPING = path.join(FIXTURES, 'mapping');
const tmp = scratchDir('convert');
const pkgVersion: string = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).version;

// ---- helpers ----------------------------------------------------------------------------------

interface StTensor { dtype: string; shape: number[]; bytes: Buffer }
interface StFile { headerLength: number; json: string; metadata: Record<string, string>; order: string[]; tensors: Map<string, StTensor> }

/** A safetensors file parsed here, independently of the readers under test. */
function readSt(file: string): StFile {
  const raw = readFileSync(file);
  const n = Number(raw.readBigUInt64LE(0));
  const json = raw.subarray(8, 8 + n).toString('utf8');
  const header = JSON.parse(json) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> & { __metadata__?: Record<string, string> };
  const { __metadata__: metadata = {}, ...entries } = header;
  const order = Object.entries(entries).sort((a, b) => a[1].data_offsets[0] - b[1].data_offsets[0]).map(([k]) => k);
  const tensors = new Map<string, StTensor>();
  for (const k of order) {
    const e = entries[k];
    tensors.set(k, { dtype: e.dtype, shape: e.shape, bytes: raw.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) });
  }
  return { headerLength: n, json, metadata, order, tensors };
}

const NAN_BITS: Record<string, { size: number; exp: bigint; mant: bigint }> = {
  F16: { size: 2, exp: 0x7c00n, mant: 0x3ffn }, BF16: { size: 2, exp: 0x7f80n, mant: 0x7fn },
  F32: { size: 4, exp: 0x7f800000n, mant: 0x7fffffn }, F64: { size: 8, exp: 0x7ff0000000000000n, mant: 0xfffffffffffffn },
};

function isNaNAt(b: Buffer, i: number, dtype: string): boolean {
  const f = NAN_BITS[dtype];
  let v = 0n;
  for (let j = f.size - 1; j >= 0; j--) v = (v << 8n) | BigInt(b[i * f.size + j]);
  return (v & f.exp) === f.exp && (v & f.mant) !== 0n;
}

/**
 * Byte-for-byte equality, except that a NaN may be any NaN: torch itself writes different NaN bits
 * depending on the code path (bfloat16: 0x7FC0 scalar, 0xFFFF vectorised).
 */
function assertSameTensor(actual: StTensor | undefined, expected: StTensor, key: string): void {
  assert.ok(actual, `\`${key}\` is missing from the output`);
  assert.equal(actual.dtype, expected.dtype, `${key} dtype`);
  assert.deepEqual(actual.shape, expected.shape, `${key} shape`);
  if (actual.bytes.equals(expected.bytes)) return;
  const f = NAN_BITS[expected.dtype];
  assert.ok(f, `${key}: bytes differ (${expected.dtype})`);
  for (let i = 0; i < expected.bytes.length / f.size; i++) {
    const a = actual.bytes.subarray(i * f.size, (i + 1) * f.size);
    const e = expected.bytes.subarray(i * f.size, (i + 1) * f.size);
    if (a.equals(e)) continue;
    assert.ok(isNaNAt(actual.bytes, i, expected.dtype) && isNaNAt(expected.bytes, i, expected.dtype),
      `${key}[${i}]: ${a.toString('hex')} but torch wrote ${e.toString('hex')}`);
  }
}

/** The output holds exactly the expected file's tensors, in its order, with its values. */
function assertSameFile(out: string, expectedFile: string, skip: string[] = []): StFile {
  const got = readSt(out);
  const want = readSt(expectedFile);
  const keys = want.order.filter((k) => !skip.includes(k));
  assert.deepEqual(got.order, keys, 'keys, in the target\'s order');
  for (const k of keys) assertSameTensor(got.tensors.get(k), want.tensors.get(k)!, k);
  return got;
}

function writeMapping(name: string, source: string, target: string, rules: string): string {
  return tmp.file(name, `source ${JSON.stringify(source)}\ntarget ${JSON.stringify(target)}\n${rules}`);
}

async function refusal(p: Promise<unknown>): Promise<ConvertError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ConvertError, `expected a ConvertError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected the conversion to be refused');
}

/** Files in a folder other than the ones named: a leftover temporary file shows up here. */
function strays(dir: string, known: string[]): string[] {
  return readdirSync(dir).filter((f) => !known.includes(f));
}

const VIT_RULES = VIT_TO_PADDLE_RULES;

/** Every transform and cast over the `ops` sources; `bf` (bfloat16) exists only in the torch files. */
const OPS_RULES = `
w -> lin.w_T | transpose
w_t -> lin.wt
w_t -> lin.wt_T | transpose
w_t -> lin.wt_half | cast(F16)
k_view -> k_part
qkv -> k_chunk | chunk(3, 1)
qkv -> qkv_col1 | chunk(2, 1, 1)
qkv -> qkv_v_T | chunk(3, 2) | transpose
conv -> conv_hwio | permute(2, 3, 1, 0)
conv -> conv_flat | reshape(8, -1)
conv -> conv_hwio_flat | permute(2, 3, 1, 0) | reshape(-1, 8)
cls -> cls_sq | squeeze(0) | squeeze(0)
cls -> cls_unsq | squeeze(0) | unsqueeze(-1)
[w, w_t] -> fused0 | cat(0)
[w, w_t] -> fused1 | cat(1)
[w, w_t] -> fused_T_bf16 | cat(0) | transpose | cast(BF16)
big -> big_T | transpose
specials -> specials.f16 | cast(F16)
specials -> specials.bf16 | cast(BF16)
specials -> specials.f64 | cast(F64)
ids -> ids.i32 | cast(I32)
ids -> ids.u8 | cast(U8)
ids -> ids.f32 | cast(F32)
ids -> ids.f64 | cast(F64)
ids -> ids.bool | cast(BOOL)
mask -> mask.f32 | cast(F32)
mask -> mask.i64 | cast(I64)
f16 -> f16.f32 | cast(F32)
f16 -> f16.f64 | cast(F64)
f64 -> f64.f32 | cast(F32)
f64 -> f64.f16 | cast(F16)
ints -> ints.i8 | cast(I8)
ints -> ints.f16 | cast(F16)
ints -> ints.bool | cast(BOOL)
ints -> ints.i64 | cast(I64)
fl -> fl.i64 | cast(I64)
fl -> fl.i16 | cast(I16)
fl -> fl.i8 | cast(I8)
f16 -> f16.bf16 | cast(BF16)
f64 -> f64.bf16 | cast(F32) | cast(BF16)
`;
const BF_RULES = `bf -> bf.f32 | cast(F32)
bf -> bf.f16 | cast(F16)
`;

// ---- conversions compared with torch ------------------------------------------------------------

test('HF ViT (safetensors, torch) → Paddle layout: torch.cat([q, k, v]).T and W.T exactly; header, metadata, progress', async () => {
  const source = path.join(MAPPING, 'vit_hf.safetensors');
  const before = readFileSync(source);
  const m = writeMapping('vit.tpmap', source, path.join(MAPPING, 'vit_paddle.pdparams'), VIT_RULES);
  const out = path.join(tmp.dir, 'vit_paddle.safetensors');
  const progress: [number, number, string][] = [];
  const summary = await convertMapping(m, out, { onProgress: (d, t, k) => progress.push([d, t, k]) });

  const got = assertSameFile(out, path.join(DIR, 'vit_paddle.expected.safetensors'));
  assert.equal(summary.tensors, 30);
  assert.equal(summary.bytes, readFileSync(out).length);
  assert.deepEqual(summary.unwritten, []);
  assert.equal(summary.output, out);
  assert.deepEqual(progress.map((p) => p[0]), Array.from({ length: 30 }, (_, i) => i + 1));
  assert.ok(progress.every((p) => p[1] === 30));
  assert.deepEqual(progress.map((p) => p[2]), got.order);
  // The header: 8-byte LE length, JSON padded with spaces to a multiple of 8, the metadata first.
  assert.equal(got.headerLength % 8, 0);
  assert.match(got.json, /^\{"__metadata__":\{.*\} *$/);
  assert.deepEqual(got.metadata, { format: 'paddle', 'tensorport.source': source, 'tensorport.mapping': m, 'tensorport.version': pkgVersion });
  // The repo's own reader accepts it (offsets tile the data exactly) and sees Paddle's layout.
  const info = await readCheckpoint(out);
  assert.equal(info.framework, 'paddle');
  assert.deepEqual(readFileSync(source), before, 'the source is untouched');
  assert.deepEqual(readdirSync(tmp.dir).filter((f) => f.includes('tensorport-tmp')), [], 'no temporary file left');
});

test('torch zip source: a transposed (non-contiguous) view, a view at a storage offset, every transform and cast', async () => {
  const source = path.join(DIR, 'ops.pt');
  const info = await readCheckpoint(source);
  const wt = info.tensors.find((t) => t.key === 'w_t')!;
  assert.deepEqual(wt.location?.stride, [1, 6], 'the fixture really has a strided view');
  assert.ok(info.tensors.find((t) => t.key === 'k_view')!.location!.offset > info.tensors.find((t) => t.key === 'qkv')!.location!.offset);
  const m = writeMapping('ops_zip.tpmap', source, path.join(DIR, 'ops.expected.safetensors'), OPS_RULES + BF_RULES);
  const out = path.join(tmp.dir, 'ops_zip.safetensors');
  const summary = await convertMapping(m, out);
  assert.deepEqual(summary.warnings, []);
  const got = assertSameFile(out, path.join(DIR, 'ops.expected.safetensors'));
  assert.equal(got.metadata.format, 'pt');
});

test('legacy torch.save source: the same results', async () => {
  const m = writeMapping('ops_legacy.tpmap', path.join(DIR, 'ops_legacy.pt'), path.join(DIR, 'ops.expected.safetensors'), OPS_RULES + BF_RULES);
  const out = path.join(tmp.dir, 'ops_legacy.safetensors');
  await convertMapping(m, out);
  assertSameFile(out, path.join(DIR, 'ops.expected.safetensors'));
});

test('Paddle .pdparams, pickle protocol 4: the same results (a Fortran-order array as the strided one)', async () => {
  const source = path.join(DIR, 'ops_p4.pdparams');
  assert.deepEqual((await readCheckpoint(source)).tensors.find((t) => t.key === 'w_t')!.location?.stride, [1, 6]);
  const m = writeMapping('ops_p4.tpmap', source, path.join(DIR, 'ops_np.expected.safetensors'), OPS_RULES);
  const out = path.join(tmp.dir, 'ops_p4.safetensors');
  await convertMapping(m, out);
  assertSameFile(out, path.join(DIR, 'ops_np.expected.safetensors'));
});

test('Paddle .pdparams, pickle protocol 2: latin-1 text decoded while streaming, inline and skipped payloads alike', async () => {
  const source = path.join(DIR, 'ops_p2.pdparams');
  const info = await readCheckpoint(source);
  const enc = (k: string) => info.tensors.find((t) => t.key === k)!.location!;
  assert.equal(enc('big').encoding, 'latin1-from-utf8', 'a payload the reader skipped');
  assert.equal(enc('w').encoding, 'latin1-from-utf8', 'a payload small enough to be read inline');
  assert.deepEqual(enc('w_t').stride, [1, 6]);
  assert.equal(enc('mask').encoding, undefined, 'pure ASCII text is its own bytes');
  const m = writeMapping('ops_p2.tpmap', source, path.join(DIR, 'ops_np.expected.safetensors'), OPS_RULES);
  const out = path.join(tmp.dir, 'ops_p2.safetensors');
  await convertMapping(m, out);
  assertSameFile(out, path.join(DIR, 'ops_np.expected.safetensors'));
});

test('ONNX source: external data, inline raw_data and float_data; MatMul [in, out] transposed to torch', async () => {
  const m = writeMapping('onnx.tpmap', path.join(DIR, 'onnx_ext', 'model.onnx'), path.join(DIR, 'onnx.expected.safetensors'), `
W1 -> fc1.weight | transpose
W2 -> fc2.weight
B2 -> fc2.bias
scale -> scale | cast(F32)
tiny -> tiny
typed -> typed
`);
  const out = path.join(tmp.dir, 'onnx.safetensors');
  await convertMapping(m, out);
  assertSameFile(out, path.join(DIR, 'onnx.expected.safetensors'));
});

test('sharded safetensors source (an index over two shards): the tensors come from each shard', async () => {
  const dir = path.join(FIXTURES, 'safetensors');
  const m = writeMapping('sharded.tpmap', path.join(dir, 'sharded', 'model.safetensors.index.json'), path.join(dir, 'vit_tiny.safetensors'), '* -> *\n');
  const out = path.join(tmp.dir, 'sharded.safetensors');
  const info = await readCheckpoint(path.join(dir, 'sharded', 'model.safetensors.index.json'));
  assert.equal(new Set(info.tensors.map((t) => t.location!.file)).size, 2);
  await convertMapping(m, out);
  assertSameFile(out, path.join(dir, 'vit_tiny.safetensors'));
});

const GGUF_RULES = `
token_embd.weight -> embed.weight
blk.0.attn_q.weight -> q.weight | cast(F32)
blk.0.ffn_gate.weight -> gate.weight | cast(F32)
output_norm.weight -> norm.weight
pos_ids -> pos_ids | cast(I64)
blk.0.ffn_up.weight -> drop
`;

test('GGUF source: F32/F16/BF16/I32 tensors in row-major order (GGML dims reversed, bytes unchanged)', async () => {
  const m = writeMapping('gguf.tpmap', path.join(FIXTURES, 'gguf', 'tiny.gguf'), path.join(DIR, 'gguf.expected.safetensors'), GGUF_RULES);
  const out = path.join(tmp.dir, 'gguf.safetensors');
  await convertMapping(m, out);
  const got = assertSameFile(out, path.join(DIR, 'gguf.expected.safetensors'));
  assert.deepEqual(got.tensors.get('embed.weight')!.shape, [5, 8]);
});

test('GGUF quantised tensor: refused, naming the tensor and its type; nothing written', async () => {
  const m = writeMapping('gguf_q.tpmap', path.join(FIXTURES, 'gguf', 'tiny.gguf'), path.join(DIR, 'gguf_q.target.safetensors'), 'blk.0.ffn_up.weight -> up.weight | cast(F32)\n');
  const out = path.join(tmp.dir, 'gguf_q.safetensors');
  const e = await refusal(convertMapping(m, out));
  assert.equal(e.kind, 'input');
  assert.deepEqual(e.problems, [`${m}:3: source \`blk.0.ffn_up.weight\` is Q8_0, a quantised GGUF type: convert copies and casts plain types (F32, F16, BF16, integers) and does not dequantise; map a source with unquantised weights`]);
  assert.equal(existsSync(out), false);
});

test('T5: the tied shared.weight written to both embeddings, everything cast to fp16', async () => {
  const m = writeMapping('t5.tpmap', path.join(MAPPING, 't5_hf.safetensors'), path.join(MAPPING, 't5_port_fp16.safetensors'), T5_TIED_RULES);
  const out = path.join(tmp.dir, 't5.safetensors');
  await convertMapping(m, out);
  assertSameFile(out, path.join(DIR, 't5_port.expected.safetensors'));
});

// ---- the round trip -----------------------------------------------------------------------------

test('round trip: torch → fused Paddle layout → torch gives byte-identical tensors; an unwritten buffer is reported', async () => {
  const there = writeMapping('rt_there.tpmap', path.join(DIR, 'rt_src.safetensors'), path.join(DIR, 'rt_fused.expected.safetensors'), RT_FUSED_RULES);
  const fused = path.join(tmp.dir, 'rt_fused.safetensors');
  const s1 = await convertMapping(there, fused);
  assert.deepEqual(s1.unwritten, ['position_ids']);
  assertSameFile(fused, path.join(DIR, 'rt_fused.expected.safetensors'), ['position_ids']);

  const back = writeMapping('rt_back.tpmap', fused, path.join(DIR, 'rt_src.safetensors'), `
qkv.weight -> enc.q.weight | transpose | chunk(3, 0)
qkv.weight -> enc.k.weight | transpose | chunk(3, 1)
qkv.weight -> enc.v.weight | transpose | chunk(3, 2)
qkv.bias -> enc.q.bias | chunk(3, 0)
qkv.bias -> enc.k.bias | chunk(3, 1)
qkv.bias -> enc.v.bias | chunk(3, 2)
conv.weight -> conv.weight | permute(3, 2, 0, 1)
cls -> cls | unsqueeze(0) | unsqueeze(0)
fc.weight -> fc.weight | transpose | cast(F16)
ids -> ids
`);
  const again = path.join(tmp.dir, 'rt_again.safetensors');
  await convertMapping(back, again);
  const a = readSt(again);
  const src = readSt(path.join(DIR, 'rt_src.safetensors'));
  assert.deepEqual(a.order, src.order);
  for (const k of src.order) {
    assert.ok(a.tensors.get(k)!.bytes.equals(src.tensors.get(k)!.bytes), `${k} is not byte-identical after the round trip`);
    assert.deepEqual(a.tensors.get(k)!.shape, src.tensors.get(k)!.shape);
  }
  assert.equal(a.metadata.format, 'pt');
  assert.equal(a.metadata['tensorport.source'], fused);
});

// ---- refusals: nothing is written ---------------------------------------------------------------

test('a mapping with an error is refused, naming file:line: code: message, and writes nothing', async () => {
  const rules = VIT_RULES.replace('blocks.{i}.attn.proj.weight | transpose', 'blocks.{i}.attn.proj.weight');
  const m = writeMapping('vit_bad.tpmap', path.join(MAPPING, 'vit_hf.safetensors'), path.join(MAPPING, 'vit_paddle.pdparams'), rules);
  const out = path.join(tmp.dir, 'refused', 'vit.safetensors');
  cpSync(path.join(MAPPING, 'vit_hf.safetensors'), path.join(tmp.dir, 'refused', 'keep.safetensors'));
  const e = await refusal(convertMapping(m, out));
  assert.equal(e.kind, 'mapping');
  assert.equal(e.problems.length, 1);
  assert.match(e.problems[0], new RegExp(`^${m.replace(/[.]/g, '\\.')}:10:1: missing-transpose: torch stores this Linear weight as \\[out, in\\], paddle as \\[in, out\\]: add \`\\| transpose\` \\(the square shape \\[8, 8\\] hides it\\)`));
  assert.match(e.message, /the mapping has 1 error; nothing was written/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(strays(path.join(tmp.dir, 'refused'), ['keep.safetensors']), []);
});

test('more than ten errors: the message lists ten and counts the rest', async () => {
  const m = writeMapping('vit_many.tpmap', path.join(MAPPING, 'vit_hf.safetensors'), path.join(MAPPING, 'vit_paddle.pdparams'), 'pooler.* -> drop\n');
  const e = await refusal(convertMapping(m, path.join(tmp.dir, 'many.safetensors')));
  assert.ok(e.problems.length > 10);
  assert.equal(e.message.split('\n').length, 1 + 10 + 1);
  assert.match(e.message, new RegExp(`… and ${e.problems.length - 10} more$`));
});

test('a float the target stores narrower, with no cast (a warning while editing), is written as the target\'s dtype: the bytes an explicit cast writes', async () => {
  const m = writeMapping('t5_nocast.tpmap', path.join(MAPPING, 't5_hf.safetensors'), path.join(MAPPING, 't5_port_fp16.safetensors'), T5_TIED_RULES.replace('shared.weight -> encoder.embed_tokens.weight | cast(F16)', 'shared.weight -> encoder.embed_tokens.weight'));
  const out = path.join(tmp.dir, 't5_nocast.safetensors');
  const r = await convertMapping(m, out);
  assert.deepEqual(r.warnings.map((w) => w.replace(/^.*?: /, '')), ['dtype-mismatch: source is F32, target is F16: convert writes it as F16, the target\'s dtype; add `| cast(F16)` to say so']);
  const explicit = path.join(tmp.dir, 't5_cast.safetensors');
  await convertMapping(writeMapping('t5_cast.tpmap', path.join(MAPPING, 't5_hf.safetensors'), path.join(MAPPING, 't5_port_fp16.safetensors'), T5_TIED_RULES), explicit);
  assert.equal((await readCheckpoint(out)).tensors.find((t) => t.key === 'encoder.embed_tokens.weight')!.dtype, 'F16');
  // The metadata names each mapping; the tensors' bytes are the same as with `| cast(F16)` written out.
  const data = (f: string) => { const b = readFileSync(f); return b.subarray(8 + Number(b.readBigUInt64LE(0))); };
  assert.ok(data(out).equals(data(explicit)), 'the same tensor bytes as with `| cast(F16)` written out');
});

test('a source tensor without a byte location (a deflated torch zip) is refused, naming it and why', async () => {
  const m = writeMapping('deflated.tpmap', path.join(FIXTURES, 'torch', 'vit_tiny_deflated.pt'), path.join(FIXTURES, 'torch', 'vit_tiny.pt'), '* -> *\n');
  const out = path.join(tmp.dir, 'deflated.safetensors');
  const e = await refusal(convertMapping(m, out));
  assert.equal(e.kind, 'input');
  assert.match(e.problems[0], new RegExp(`^${m.replace(/[.]/g, '\\.')}:3: source \`cls_token\` \\(.*vit_tiny_deflated\\.pt\\) has no byte location to stream from: .*compressed`));
  assert.equal(existsSync(out), false);
});

test('the output may not replace an input', async () => {
  const dir = path.join(tmp.dir, 'self');
  cpSync(path.join(DIR, 'rt_src.safetensors'), path.join(dir, 'rt_src.safetensors'));
  const before = readFileSync(path.join(dir, 'rt_src.safetensors'));
  const m = writeMapping('self.tpmap', path.join(dir, 'rt_src.safetensors'), path.join(DIR, 'rt_src.safetensors'), '* -> *\n');
  const e = await refusal(convertMapping(m, path.join(dir, 'rt_src.safetensors')));
  assert.equal(e.kind, 'io');
  assert.match(e.message, /is one of the conversion's inputs/);
  assert.deepEqual(readFileSync(path.join(dir, 'rt_src.safetensors')), before);
});

// ---- failures midway and aborts -------------------------------------------------------------------

test('atomicity: external data truncated after the header was read → fails at a later tensor; the old output stays byte-identical, no temp file', async () => {
  const dir = path.join(tmp.dir, 'trunc_onnx');
  cpSync(path.join(DIR, 'onnx_ext'), dir, { recursive: true });
  truncateSync(path.join(dir, 'weights.data'), 100); // W1 (96 bytes) stays whole, W2 is cut
  const out = path.join(dir, 'out.safetensors');
  const old = Buffer.from('the previous conversion, which must survive');
  writeFileSync(out, old);
  const m = writeMapping('trunc_onnx.tpmap', path.join(dir, 'model.onnx'), path.join(DIR, 'onnx.expected.safetensors'),
    'W1 -> fc1.weight | transpose\nW2 -> fc2.weight\nB2 -> fc2.bias\nscale -> scale | cast(F32)\ntiny -> tiny\ntyped -> typed\n');
  const progress: string[] = [];
  const e = await refusal(convertMapping(m, out, { force: true, onProgress: (_d, _t, k) => progress.push(k) }));
  // The first tensor's write may still be in flight when the second fails to read: at most it is reported.
  assert.ok(progress.length <= 1 && progress.every((k) => k === 'fc1.weight'), progress.join());
  assert.equal(e.kind, 'input');
  assert.equal(e.message, `${path.join(dir, 'weights.data')}: the file is 100 bytes, too short for the bytes of \`W2\` needed for \`fc2.weight\` (${m}:4) (bytes 96–168): truncated, or changed since its header was read?`);
  assert.deepEqual(readFileSync(out), old);
  assert.deepEqual(strays(dir, ['model.onnx', 'weights.data', 'out.safetensors']), []);
});

test('atomicity: a source truncated while converting → the read of a later tensor fails; nothing left behind', async () => {
  const dir = path.join(tmp.dir, 'trunc_st');
  cpSync(path.join(MAPPING, 'vit_hf.safetensors'), path.join(dir, 'vit_hf.safetensors'));
  copyFileSync(path.join(MAPPING, 'vit_paddle.pdparams'), path.join(dir, 'vit_paddle.pdparams'));
  const out = path.join(dir, 'out.safetensors');
  const m = writeMapping('trunc_st.tpmap', path.join(dir, 'vit_hf.safetensors'), path.join(dir, 'vit_paddle.pdparams'), VIT_RULES);
  const e = await refusal(convertMapping(m, out, {
    force: true,
    onProgress: (done) => { if (done === 3) truncateSync(path.join(dir, 'vit_hf.safetensors'), 2048); },
  }));
  assert.equal(e.kind, 'input');
  assert.match(e.message, /vit_hf\.safetensors: the file is 2048 bytes, too short for the bytes of `[^`]+` needed for .*truncated, or changed since its header was read\?$/);
  assert.equal(existsSync(out), false);
  assert.deepEqual(strays(dir, ['vit_hf.safetensors', 'vit_paddle.pdparams']), []);
});

test('abort via AbortSignal: rejects with the abort, leaves no output and no temp file, keeps an existing output', async () => {
  const dir = path.join(tmp.dir, 'abort');
  const out = path.join(dir, 'out.safetensors');
  cpSync(path.join(DIR, 'rt_src.safetensors'), out);
  const old = readFileSync(out);
  const m = writeMapping('abort.tpmap', path.join(MAPPING, 'vit_hf.safetensors'), path.join(MAPPING, 'vit_paddle.pdparams'), VIT_RULES);
  const controller = new AbortController();
  let seen = 0;
  await assert.rejects(
    convertMapping(m, out, { force: true, signal: controller.signal, onProgress: (done) => { seen = done; if (done === 2) controller.abort(); } }),
    (e: Error) => e.name === 'AbortError',
  );
  assert.equal(seen, 2);
  assert.deepEqual(readFileSync(out), old);
  assert.deepEqual(strays(dir, ['out.safetensors']), []);
  // Aborted before it starts: nothing is read or written at all.
  const fresh = path.join(dir, 'fresh.safetensors');
  await assert.rejects(convertMapping(m, fresh, { signal: AbortSignal.abort() }), (e: Error) => e.name === 'AbortError');
  assert.equal(existsSync(fresh), false);
});

// ---- the numeric core ---------------------------------------------------------------------------

test('half: every finite half value converts back to itself; float32 bits and numbers round alike', () => {
  for (let h = 0; h < 0x10000; h++) {
    if ((h & 0x7c00) === 0x7c00 && h & 0x3ff) continue; // NaN
    assert.equal(numberToHalf(halfToNumber(h)), h, `half 0x${h.toString(16)}`);
  }
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  let x = 12345;
  for (let i = 0; i < 200_000; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    u[0] = x;
    if (Number.isNaN(f[0])) continue;
    assert.equal(f32BitsToHalf(u[0]), numberToHalf(f[0]), `f32 0x${u[0].toString(16)} → half`);
    assert.equal(f32BitsToBf16(u[0]), numberToBf16(f[0]), `f32 0x${u[0].toString(16)} → bf16`);
  }
});

test('casts to the same type keep the bytes; 8-byte elements move as words, NaN payloads intact', () => {
  const data = Buffer.alloc(48);
  for (let i = 0; i < 6; i++) data.writeBigUInt64LE(0x7ff0000000000001n + BigInt(i) * 0x1111n, i * 8);
  assert.equal(castData(data, 'F64', 'F64'), data);
  // A [2, 3] F64 tensor transposed: element (i, j) of the result is element (j, i) of the source.
  const t = Buffer.alloc(48);
  gatherInto(data, 0, 8, [3, 2], [1, 3], t);
  for (let i = 0; i < 3; i++) for (let j = 0; j < 2; j++) {
    assert.ok(t.subarray((i * 2 + j) * 8, (i * 2 + j + 1) * 8).equals(data.subarray((j * 3 + i) * 8, (j * 3 + i + 1) * 8)));
  }
});
