/**
 * `convert` into what the target framework loads, checked by the framework itself (the Python test
 * environment): a real torch model's weights ported into a real Paddle model's layout as `.pdparams`
 * (`paddle.load` + `Layer.set_state_dict`, no warning), and into torch's own layout as `.pt`
 * (`torch.load(weights_only=True)`, with `mmap=True` too, + `load_state_dict(strict=True)`); every
 * tensor bit-identical to the converter's safetensors result of the same mapping, bfloat16 included;
 * and each output read back by `tensorport keys` as the target it was made for.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { scratchDir } from '../support/tmp';

const env = testPython();

/** The two models, one per framework, with the same parameters: torch's Linear [out, in], Paddle's [in, out]. */
const MODELS = `
import torch, paddle
class T(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 6)
        self.fc = torch.nn.Linear(6, 6)
        self.head = torch.nn.Linear(6, 3).to(torch.bfloat16)
        self.norm = torch.nn.LayerNorm(3)
class P(paddle.nn.Layer):
    def __init__(self):
        super().__init__()
        self.emb = paddle.nn.Embedding(10, 6)
        self.fc = paddle.nn.Linear(6, 6)
        self.head = paddle.nn.Linear(6, 3)
        self.head.to(dtype="bfloat16")
        self.norm = paddle.nn.LayerNorm(3)
`;

const MAKE = `
import sys, warnings
warnings.filterwarnings("ignore")
${MODELS}
from safetensors.torch import save_file
d = sys.argv[1]
torch.manual_seed(0)
t = T()
save_file({k: v.contiguous() for k, v in t.state_dict().items()}, d + "/src.safetensors")
torch.save(t.state_dict(), d + "/tgt.pt")
paddle.save(P().state_dict(), d + "/tgt.pdparams")
`;

const CHECK = `
import sys, warnings, json
warnings.filterwarnings("ignore", message=".*ccache.*")
import numpy as np
${MODELS}
from safetensors.torch import load_file
d = sys.argv[1]
def raw(a):
    if isinstance(a, torch.Tensor): return a.contiguous().view(torch.uint8).numpy().tobytes() if a.dim() else a.reshape(1).view(torch.uint8).numpy().tobytes()
    return np.ascontiguousarray(a).view(np.uint8).tobytes()
out = {}
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    ref = load_file(d + "/paddle.safetensors")
    sd = paddle.load(d + "/out.pdparams")
    p = P()
    missing, unexpected = p.set_state_dict(sd)
    out["paddle"] = {"keys": list(sd) == list(ref), "missing": missing, "unexpected": unexpected,
        "identical": all(raw(p.state_dict()[k].numpy()) == raw(ref[k]) for k in ref),
        "types": sorted({str(v.dtype) for v in sd.values()}),
        "bf16": str(p.head.weight.dtype), "warnings": [str(x.message)[:120] for x in w]}
with warnings.catch_warnings(record=True) as w:
    warnings.simplefilter("always")
    ref = load_file(d + "/torch.safetensors")
    sd = torch.load(d + "/out.pt", weights_only=True)
    mm = torch.load(d + "/out.pt", weights_only=True, mmap=True)
    t = T()
    t.load_state_dict(sd, strict=True)
    out["torch"] = {"keys": list(sd) == list(ref), "identical": all(raw(t.state_dict()[k]) == raw(ref[k]) for k in ref),
        "mmap": all(torch.equal(sd[k], mm[k]) for k in sd), "bf16": str(t.head.weight.dtype), "warnings": [str(x.message)[:120] for x in w]}
print(json.dumps(out))
`;

test('.pdparams and .pt from one mapping load in Paddle and torch, bit-identical to the safetensors result, with no warning', { skip: env.skip, timeout: 300_000 }, async () => {
  const d = scratchDir('writers').dir;
  runPython(env.python!, ['-c', MAKE, d]);
  const rules = ['emb.weight -> emb.weight', 'fc.weight -> fc.weight | transpose', 'fc.bias -> fc.bias',
    'head.weight -> head.weight | transpose', 'head.bias -> head.bias', 'norm.* -> norm.*', ''].join('\n');
  writeFileSync(path.join(d, 'to_paddle.tpmap'), `source src.safetensors\ntarget tgt.pdparams\n\n${rules}`);
  writeFileSync(path.join(d, 'to_torch.tpmap'), `source src.safetensors\ntarget tgt.pt\n\n${rules.replace(/ \| transpose/g, '')}`);
  for (const [map, outs] of [['to_paddle.tpmap', ['paddle.safetensors', 'out.pdparams']], ['to_torch.tpmap', ['torch.safetensors', 'out.pt']]] as const) {
    for (const o of outs) {
      const r = runCli(['convert', path.join(d, map), '-o', path.join(d, o)]);
      assert.equal(r.code, 0, `${map} -> ${o}: ${r.err}`);
      assert.match(r.out, new RegExp(`^wrote .*${o.replace('.', '\\.')}: 7 tensors`));
    }
  }
  // Protocol 2 (old Paddle): bytes as latin-1 text; the same arrays come back.
  const p2 = runCli(['convert', path.join(d, 'to_paddle.tpmap'), '-o', path.join(d, 'out_p2.pdparams'), '--protocol', '2']);
  assert.equal(p2.code, 0, p2.err);
  const same = runPython(env.python!, ['-c', [
    'import sys, warnings', 'warnings.filterwarnings("ignore")', 'import numpy as np, paddle',
    'a, b = paddle.load(sys.argv[1] + "/out.pdparams", return_numpy=True), paddle.load(sys.argv[1] + "/out_p2.pdparams", return_numpy=True)',
    'print(list(a) == list(b) and all(a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes() for k in a))',
  ].join('\n'), d]);
  assert.equal(same.trim().split('\n').pop(), 'True');
  assert.equal((await readCheckpoint(path.join(d, 'out_p2.pdparams'))).tensors.length, 7);
  const got = JSON.parse(runPython(env.python!, ['-c', CHECK, d]).trim().split('\n').pop()!);
  assert.deepEqual(got.paddle, { keys: true, missing: [], unexpected: [], identical: true, types: ['paddle.bfloat16', 'paddle.float32'], bf16: 'paddle.bfloat16', warnings: [] });
  assert.deepEqual(got.torch, { keys: true, identical: true, mmap: true, bf16: 'torch.bfloat16', warnings: [] });
  // Read back by Tensor Port as what each target is: same keys, dtypes and shapes as the target checkpoint.
  for (const [out, tgt] of [['out.pdparams', 'tgt.pdparams'], ['out.pt', 'tgt.pt']]) {
    const [a, b] = await Promise.all([readCheckpoint(path.join(d, out)), readCheckpoint(path.join(d, tgt))]);
    assert.deepEqual(a.tensors.map((t) => [t.key, t.dtype, t.shape]), b.tensors.map((t) => [t.key, t.dtype, t.shape]), out);
  }
});

test('a format the output cannot be, or an existing output without --force, is one line and writes nothing', { skip: env.skip, timeout: 300_000 }, () => {
  const d = scratchDir('writers-usage').dir;
  runPython(env.python!, ['-c', MAKE, d]);
  writeFileSync(path.join(d, 'm.tpmap'), 'source src.safetensors\ntarget tgt.pt\n\nemb.weight -> emb.weight\nfc.* -> fc.*\nhead.* -> head.*\nnorm.* -> norm.*\n');
  for (const args of [['-o', path.join(d, 'x.npz')], ['-o', path.join(d, 'x.pt'), '--format', 'gguf2'], ['-o', path.join(d, 'x.pt'), '--protocol', '4'],
    ['-o', path.join(d, 'x.pdparams'), '--protocol', '5']]) {
    const r = runCli(['convert', path.join(d, 'm.tpmap'), ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, /^tensorport: [^\n]+\n$/, args.join(' '));
  }
  assert.equal(runCli(['convert', path.join(d, 'm.tpmap'), '-o', path.join(d, 'x.bin')]).code, 0);
  const again = runCli(['convert', path.join(d, 'm.tpmap'), '-o', path.join(d, 'x.bin')]);
  assert.equal(again.code, 2);
  assert.match(again.err, /x\.bin: exists; convert replaces it only with --force/);
});

test('--max-shard-size: shards and an index as save_pretrained writes them; transformers\' from_pretrained loads the set unchanged', { skip: env.skip, timeout: 300_000 }, () => {
  const d = scratchDir('writers-shards').dir;
  runPython(env.python!, ['-c', [
    'import sys, warnings', 'warnings.filterwarnings("ignore")', 'import torch',
    'from transformers import BertConfig, BertModel', 'torch.manual_seed(0)',
    'cfg = BertConfig(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, max_position_embeddings=32)',
    'BertModel(cfg).save_pretrained(sys.argv[1] + "/src")',
  ].join('\n'), d]);
  writeFileSync(path.join(d, 'same.tpmap'), 'source src/model.safetensors\ntarget src/model.safetensors\n\nembeddings.* -> embeddings.*\nencoder.layer.{i}.* -> encoder.layer.{i}.*\npooler.* -> pooler.*\n');
  const outDir = path.join(d, 'out');
  runPython(env.python!, ['-c', 'import os, shutil, sys; os.makedirs(sys.argv[2]); shutil.copy(sys.argv[1], sys.argv[2])', path.join(d, 'src', 'config.json'), outDir]);
  const r = runCli(['convert', path.join(d, 'same.tpmap'), '-o', path.join(outDir, 'model.safetensors'), '--max-shard-size', '10KB', '--json']);
  assert.equal(r.code, 0, r.err);
  const summary = JSON.parse(r.out);
  assert.ok(summary.shards >= 3, r.out);
  assert.equal(summary.output, path.join(outDir, 'model.safetensors.index.json'));
  const check = runPython(env.python!, ['-c', [
    'import sys, warnings, json', 'warnings.filterwarnings("ignore")', 'import torch', 'from transformers import BertModel',
    'a = BertModel.from_pretrained(sys.argv[1] + "/src").state_dict()',
    'b, info = BertModel.from_pretrained(sys.argv[2], output_loading_info=True)',
    'b = b.state_dict()',
    'print(json.dumps({"same": list(a) == list(b) and all(torch.equal(a[k], b[k]) for k in a), "missing": sorted(info["missing_keys"]), "unexpected": sorted(info["unexpected_keys"])}))',
  ].join('\n'), d, outDir]);
  assert.deepEqual(JSON.parse(check.trim().split('\n').pop()!), { same: true, missing: [], unexpected: [] });
});

test('.gguf: tensors in GGML order with the target\'s metadata carried over byte for byte; gguf-py\'s GGUFReader reads it as the original', { skip: env.skip, timeout: 300_000 }, () => {
  const d = scratchDir('writers-gguf').dir;
  runPython(env.python!, ['-c', [
    'import sys, warnings', 'warnings.filterwarnings("ignore")', 'import numpy as np, torch, gguf',
    'from safetensors.torch import save_file', 'd = sys.argv[1]', 'rng = np.random.default_rng(0)',
    'w = {"token_embd.weight": rng.standard_normal((10, 8)).astype(np.float32), "blk.0.attn_q.weight": rng.standard_normal((8, 8)).astype(np.float16),',
    '     "blk.0.ffn_up.weight": rng.standard_normal((16, 8)).astype(np.float32), "output_norm.weight": rng.standard_normal((8,)).astype(np.float32)}',
    'g = gguf.GGUFWriter(d + "/tgt.gguf", "llama")',
    'g.add_block_count(1); g.add_context_length(32); g.add_name("tiny")',
    'g.add_token_list(["<s>", "</s>", "a", "b"]); g.add_token_scores([0.0, 0.0, -1.5, -2.5])',
    'for k, v in w.items(): g.add_tensor(k, v)',
    'g.write_header_to_file(); g.write_kv_data_to_file(); g.write_tensors_to_file(); g.close()',
    'save_file({k: torch.from_numpy(v) for k, v in w.items()}, d + "/src.safetensors")',
  ].join('\n'), d]);
  writeFileSync(path.join(d, 'm.tpmap'), 'source src.safetensors\ntarget tgt.gguf\n\ntoken_embd.weight -> token_embd.weight\nblk.{i}.attn_q.weight -> blk.{i}.attn_q.weight\nblk.{i}.ffn_up.weight -> blk.{i}.ffn_up.weight\noutput_norm.weight -> output_norm.weight\n');
  const r = runCli(['convert', path.join(d, 'm.tpmap'), '-o', path.join(d, 'out.gguf')]);
  assert.equal(r.code, 0, r.err);
  const cmp = runPython(env.python!, ['-c', [
    'import sys, json, numpy as np, gguf',
    'a, b = gguf.GGUFReader(sys.argv[1] + "/tgt.gguf"), gguf.GGUFReader(sys.argv[1] + "/out.gguf")',
    'ta, tb = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}',
    'fa = {k: (f.types, [bytes(p) for p in f.parts]) for k, f in a.fields.items() if not k.startswith("GGUF.")}',
    'fb = {k: (f.types, [bytes(p) for p in f.parts]) for k, f in b.fields.items() if not k.startswith("GGUF.")}',
    'print(json.dumps({"names": list(ta) == list(tb), "types": all(ta[k].tensor_type == tb[k].tensor_type for k in ta),',
    '  "shapes": all(list(ta[k].shape) == list(tb[k].shape) for k in ta), "data": all(np.array_equal(np.asarray(ta[k].data), np.asarray(tb[k].data)) for k in ta),',
    '  "metadata": fa == fb, "fields": len(fb)}))',
  ].join('\n'), d]);
  assert.deepEqual(JSON.parse(cmp.trim().split('\n').pop()!), { names: true, types: true, shapes: true, data: true, metadata: true, fields: 6 });
});

test('.gguf --quantize q8_0: every float matrix with whole 32-value rows is Q8_0 byte for byte as gguf-py quantises it (ties, zero blocks, F16/BF16 sources); vectors and odd rows stay as they are', { skip: env.skip, timeout: 300_000 }, () => {
  const d = scratchDir('writers-q8').dir;
  runPython(env.python!, ['-c', [
    'import sys, warnings', 'warnings.filterwarnings("ignore")', 'import numpy as np, torch, gguf',
    'from safetensors.torch import save_file', 'd = sys.argv[1]', 'rng = np.random.default_rng(1)',
    'a = (rng.standard_normal((64, 96)) * 3).astype(np.float32)',
    'a[0, :8] = [127, 2.5, -2.5, 0.5, -0.5, 1.5, -1.5, 0]; a[1, :32] = 0; a[2, :32] = 1e-30',
    'w = {"blk.0.attn_q.weight": torch.from_numpy(a), "blk.0.ffn_up.weight": torch.from_numpy(rng.standard_normal((32, 64)).astype(np.float16)),',
    '     "blk.0.ffn_down.weight": torch.from_numpy(rng.standard_normal((16, 32)).astype(np.float32)).to(torch.bfloat16),',
    '     "output_norm.weight": torch.from_numpy(rng.standard_normal((64,)).astype(np.float32)), "blk.0.odd.weight": torch.from_numpy(rng.standard_normal((8, 40)).astype(np.float32))}',
    'save_file(w, d + "/src.safetensors")',
    'g = gguf.GGUFWriter(d + "/tgt.gguf", "llama")', 'g.add_block_count(1)',
    'for k, v in w.items():',
    '    if v.dtype == torch.bfloat16: g.add_tensor(k, v.view(torch.int16).numpy(), raw_shape=list(v.shape), raw_dtype=gguf.GGMLQuantizationType.BF16)',
    '    else: g.add_tensor(k, v.numpy())',
    'g.write_header_to_file(); g.write_kv_data_to_file(); g.write_tensors_to_file(); g.close()',
  ].join('\n'), d]);
  writeFileSync(path.join(d, 'm.tpmap'), 'source src.safetensors\ntarget tgt.gguf\n\nblk.{i}.* -> blk.{i}.*\noutput_norm.weight -> output_norm.weight\n');
  const r = runCli(['convert', path.join(d, 'm.tpmap'), '-o', path.join(d, 'out.gguf'), '--quantize', 'q8_0', '--json']);
  assert.equal(r.code, 0, r.err);
  assert.equal((JSON.parse(r.out) as { quantized: number }).quantized, 3);
  const cmp = runPython(env.python!, ['-c', [
    'import sys, json, numpy as np, torch, gguf', 'from safetensors.torch import load_file',
    'src = {k: v.float().numpy() for k, v in load_file(sys.argv[1] + "/src.safetensors").items()}',
    'raw = {k: v for k, v in load_file(sys.argv[1] + "/src.safetensors").items()}',
    'out = {}',
    'for t in gguf.GGUFReader(sys.argv[1] + "/out.gguf").tensors:',
    '    q = t.tensor_type == gguf.GGMLQuantizationType.Q8_0',
    '    want = gguf.quants.quantize(src[t.name], gguf.GGMLQuantizationType.Q8_0).tobytes() if q else raw[t.name].view(torch.uint8).numpy().tobytes() if raw[t.name].dtype == torch.bfloat16 else raw[t.name].numpy().tobytes()',
    '    out[t.name] = [t.tensor_type.name, bytes(np.asarray(t.data)) == want]',
    'print(json.dumps(out))',
  ].join('\n'), d]);
  assert.deepEqual(JSON.parse(cmp.trim().split('\n').pop()!), {
    'blk.0.attn_q.weight': ['Q8_0', true], 'blk.0.ffn_up.weight': ['Q8_0', true], 'blk.0.ffn_down.weight': ['Q8_0', true],
    'output_norm.weight': ['F32', true], 'blk.0.odd.weight': ['F32', true],
  });
  const bad = runCli(['convert', path.join(d, 'm.tpmap'), '-o', path.join(d, 'out.safetensors'), '--quantize', 'q8_0']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--quantize applies to \.gguf output/);
});

test('.gguf --metadata-from config.json: the architecture keys convert_hf_to_gguf writes for LLaMA, with gguf-py\'s own types and values; an unknown model_type is one line', { skip: env.skip, timeout: 300_000 }, () => {
  const d = scratchDir('writers-gguf-config').dir;
  runPython(env.python!, ['-c', [
    'import sys, os, warnings', 'warnings.filterwarnings("ignore")', 'import numpy as np, torch, gguf',
    'from transformers import LlamaConfig', 'from safetensors.torch import save_file', 'd = sys.argv[1]',
    'cfg = LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256, rope_theta=10000.0, rms_norm_eps=1e-5)',
    'cfg.save_pretrained(d + "/tiny-llama")',
    'w = {"token_embd.weight": np.ones((100, 64), np.float32)}',
    'save_file({k: torch.from_numpy(v) for k, v in w.items()}, d + "/src.safetensors")',
    'g = gguf.GGUFWriter(d + "/tgt.gguf", "llama"); g.add_tensor("token_embd.weight", w["token_embd.weight"])',
    'g.write_header_to_file(); g.write_kv_data_to_file(); g.write_tensors_to_file(); g.close()',
    'g = gguf.GGUFWriter(d + "/truth.gguf", "llama"); g.add_name("tiny-llama"); g.add_context_length(256); g.add_embedding_length(64)',
    'g.add_feed_forward_length(128); g.add_block_count(2); g.add_head_count(4); g.add_head_count_kv(2); g.add_rope_freq_base(10000.0)',
    'g.add_rope_dimension_count(16); g.add_layer_norm_rms_eps(1e-5); g.add_vocab_size(100); g.add_tensor("token_embd.weight", w["token_embd.weight"])',
    'g.write_header_to_file(); g.write_kv_data_to_file(); g.write_tensors_to_file(); g.close()',
  ].join('\n'), d]);
  writeFileSync(path.join(d, 'm.tpmap'), 'source src.safetensors\ntarget tgt.gguf\n\ntoken_embd.weight -> token_embd.weight\n');
  const r = runCli(['convert', path.join(d, 'm.tpmap'), '-o', path.join(d, 'out.gguf'), '--metadata-from', path.join(d, 'tiny-llama', 'config.json')]);
  assert.equal(r.code, 0, r.err);
  const cmp = runPython(env.python!, ['-c', [
    'import sys, json, gguf',
    'def fields(p):',
    '    r = gguf.GGUFReader(p)',
    '    return {k: [[int(t) for t in f.types], str(f.contents())] for k, f in r.fields.items() if not k.startswith("GGUF.")}',
    'a, b = fields(sys.argv[1] + "/truth.gguf"), fields(sys.argv[1] + "/out.gguf")',
    'print(json.dumps({"same": a == b, "keys": sorted(b), "diff": {k: [a.get(k), b.get(k)] for k in set(a) | set(b) if a.get(k) != b.get(k)}}))',
  ].join('\n'), d]);
  const result = JSON.parse(cmp.trim().split('\n').pop()!) as { same: boolean; keys: string[]; diff: object };
  assert.deepEqual(result.diff, {});
  assert.equal(result.same, true);
  assert.ok(result.keys.includes('llama.attention.head_count_kv') && result.keys.includes('llama.rope.dimension_count'));

  writeFileSync(path.join(d, 'bad.json'), JSON.stringify({ model_type: 'nonesuch', hidden_size: 8 }));
  const bad = runCli(['convert', path.join(d, 'm.tpmap'), '-o', path.join(d, 'bad.gguf'), '--metadata-from', path.join(d, 'bad.json')]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /^tensorport: --metadata-from .*bad\.json: model_type "nonesuch": architecture keys are built for llama, mistral/);
});
