/**
 * llama.cpp runs what `convert` writes (issue 16): a tiny LLaMA built by transformers, mapped by
 * `tensorport map` onto a GGUF template whose metadata (architecture keys and tokenizer) gguf-py wrote —
 * the rotary permutation of q/k included — converted to GGUF (F32, and Q8_0), then run by
 * llama-cpp-python: the logits are HF's. llama-cpp-python has no wheel on PyPI and its build takes
 * minutes, too long for every CI run, so this test needs TENSORPORT_LLAMA_CPP_PYTHON, a Python with
 * `llama_cpp` installed (`pip install llama-cpp-python==0.3.36`); docs/reference.md has the numbers.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { runCli } from '../support/cli';
import { runPython, testPython } from '../support/python';
import { FIXTURES, scratchDir } from '../support/tmp';

const env = testPython();
const llamaPython = process.env.TENSORPORT_LLAMA_CPP_PYTHON;
const skip = env.skip || (!llamaPython || !existsSync(llamaPython) ? 'TENSORPORT_LLAMA_CPP_PYTHON (a Python with llama_cpp) is not set' : false);
const SCRIPT = path.join(FIXTURES, 'ports', 'llamacpp_check.py');

test('llama.cpp runs the GGUF convert writes from a transformers LLaMA (F32 and Q8_0), with HF\'s logits', { skip, timeout: 600_000 }, () => {
  const d = scratchDir('llamacpp').dir;
  runPython(env.python!, [SCRIPT, 'make', d]);
  const map = runCli(['map', path.join(d, 'hf', 'model.safetensors'), path.join(d, 'template.gguf'), '-o', path.join(d, 'port.tpmap')]);
  assert.equal(map.code, 0, map.err);
  assert.match(map.out, /21 target tensors mapped \(0 with low confidence\), 0 source tensors dropped, 0 target tensors unmapped/);
  for (const [out, args, tol] of [['out.gguf', [], 1e-3], ['out_q8.gguf', ['--quantize', 'q8_0'], 0.05]] as const) {
    const c = runCli(['convert', path.join(d, 'port.tpmap'), '-o', path.join(d, out), ...args]);
    assert.equal(c.code, 0, c.err);
    const r = JSON.parse(runPython(llamaPython!, [SCRIPT, 'llama', d, path.join(d, out)]).trim().split('\n').pop()!) as { maxAbs: number; scale: number; argmaxSame: boolean };
    assert.ok(r.maxAbs < tol * Math.max(1, r.scale), `${out}: llama.cpp's logits within ${tol} of HF's (max |Δ| ${r.maxAbs}, logits up to ${r.scale})`);
    if (!args.length) assert.equal(r.argmaxSame, true);
  }
});
