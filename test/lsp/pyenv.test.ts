/**
 * The real server over stdio, given the editor's chosen interpreter: a mapping whose target is a user
 * class built on torch's `nn.TransformerEncoder` sees the encoder's keys (read from torch's own source
 * in that interpreter's environment); when the editor says no interpreter is chosen any more, the open
 * mapping is checked again without the environment and the same key is unknown.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { LspClient } from '../support/lspClient';
import { testPython } from '../support/python';
import { safetensorsBytes, scratchDir } from '../support/tmp';

const env = testPython();
const ws = scratchDir('lsp-pyenv');
let client: LspClient | undefined;

const MODEL = `from torch import nn


class M(nn.Module):
    def __init__(self, d_model=32, nhead=4, layers=2):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=64)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
`;

before(async () => {
  if (env.skip) return;
  writeFileSync(path.join(ws.dir, 'enc.py'), MODEL);
  writeFileSync(path.join(ws.dir, 'ckpt.safetensors'), safetensorsBytes({
    'ff.weight': { dtype: 'F32', shape: [64, 32], data_offsets: [0, 8192] },
    'attn.weight': { dtype: 'F32', shape: [96, 32], data_offsets: [8192, 20480] },
  }, 20480));
  ({ client } = await LspClient.start(ws.dir, { python: env.python }));
});

after(() => client?.stop());

test('a mapping into a class built on nn.TransformerEncoder sees its keys through the chosen interpreter, and loses them when none is chosen', { skip: env.skip, timeout: 120_000 }, async () => {
  const text = 'source ckpt.safetensors\ntarget enc.py::M\n\nff.weight -> encoder.layers.0.linear1.weight\nattn.weight -> encoder.layers.0.self_attn.in_proj_weight\n';
  const uri = await client!.open(path.join(ws.dir, 'port.tpmap'), text);
  const unknown = (d: { code?: string | number }[]) => d.filter((x) => x.code === 'unknown-target-key');
  const withEnv = await client!.until(uri, (d) => d.length > 0, 60_000);
  assert.deepEqual(unknown(withEnv), [], JSON.stringify(withEnv.filter((x) => x.code !== "unmapped-target-key"), null, 1));
  assert.ok(withEnv.some((x) => x.code === 'unmapped-target-key' && /encoder\.layers\.1\.norm2\.bias/.test(x.message)), 'the rest of the encoder is there, unmapped');
  await client!.conn.sendNotification('tensorport/pythonInterpreter', {});
  const without = await client!.until(uri, (d) => unknown(d).length > 0, 60_000);
  assert.equal(unknown(without).length, 2);
});
