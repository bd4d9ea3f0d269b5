/**
 * Layouts from use (server/src/source/useLayout.ts): each way code reads a bare parameter as a matrix
 * says which way round it is stored; aliases, transposes and helpers are followed; uses that disagree
 * or say nothing leave it unknown.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lowerPython } from '../../server/src/source/pyLower';
import { layoutsFromUse } from '../../server/src/source/useLayout';

async function layouts(body: string, imports = 'import torch\nimport torch.nn.functional as F\n'): Promise<Record<string, string>> {
  const file = await lowerPython('/tmp/port.py', `${imports}\ndef helper(x, w):\n    return x @ w\n\nclass P:\n${body}`);
  const out: Record<string, string> = {};
  for (const [k, v] of layoutsFromUse([{ def: file.classes.get('P')!, file }])) out[k] = v.layout;
  return out;
}

test('matmul forms: x @ W and matmul/mm/addmm are [in, out]; x @ W.T, W.t(), transpose(0, 1), F.linear and W @ x are [out, in]', async () => {
  assert.deepEqual(await layouts([
    '    def forward(self, x):',
    '        a = x @ self.a',
    '        b = x @ self.b.T',
    '        c = torch.matmul(x, self.c)',
    '        d = torch.mm(x, self.d.t())',
    '        e = torch.addmm(self.bias, x, self.e)',
    '        f = F.linear(x, self.f)',
    '        g = self.g @ x',
    '        h = x @ self.h.transpose(0, 1)',
    '        return a',
  ].join('\n')), { a: 'in_out', b: 'out_in', c: 'in_out', d: 'out_in', e: 'in_out', f: 'out_in', g: 'out_in', h: 'out_in' });
});

test('Paddle: matmul with transpose_y is [out, in], without [in, out]; Paddle\'s F.linear weight is [in, out]', async () => {
  assert.deepEqual(await layouts([
    '    def forward(self, x):',
    '        a = paddle.matmul(x, self.a, transpose_y=True)',
    '        b = paddle.matmul(x, self.b)',
    '        c = F.linear(x, self.c)',
    '        return a',
  ].join('\n'), 'import paddle\nimport paddle.nn.functional as F\n'), { a: 'out_in', b: 'in_out', c: 'in_out' });
});

test('einsum by its subscripts, convolutions as OIHW, through aliases and helpers of the class and the file', async () => {
  assert.deepEqual(await layouts([
    '    def forward(self, x):',
    '        a = torch.einsum("bsi,oi->bso", x, self.a)',
    '        b = torch.einsum("...i,io->...o", x, self.b)',
    '        w = self.c',
    '        c = x @ w',
    '        d = helper(x, self.d)',
    '        e = self.project(x, self.e.T)',
    '        f = F.conv2d(x, self.f)',
    '        return a',
    '    def project(self, x, weight):',
    '        return torch.matmul(x, weight)',
  ].join('\n')), { a: 'out_in', b: 'in_out', c: 'in_out', d: 'in_out', e: 'out_in', f: 'OIHW' });
});

test('uses that disagree, and elementwise uses, say nothing', async () => {
  assert.deepEqual(await layouts([
    '    def forward(self, x):',
    '        a = x @ self.a + F.linear(x, self.a)',
    '        b = x * self.b + self.b.sum()',
    '        return a',
  ].join('\n')), {});
});
