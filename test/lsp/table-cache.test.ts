/**
 * The table cache as an editor meets it, through the real server (dist/server.js) over stdio: a mapping
 * over two 12,000-tensor checkpoints gets the same diagnostics and completions in a second session, which
 * takes both headers from the cache (its log says so), and a third session, after one key of a checkpoint
 * was renamed in place, sees the rename — that side is read again.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { LspClient, PushedDiagnostic } from '../support/lspClient';
import { sparseSafetensors } from '../support/sparse';
import { scratchDir } from '../support/tmp';

const ws = scratchDir('lsp-table-cache');
const cacheDir = path.join(ws.dir, '.cache-outside-the-scan');
const LAYERS = 120, PER_LAYER = 100;

function side(file: string, prefix: string, seg: string, renamed?: string): void {
  sparseSafetensors(path.join(ws.dir, file), (function* (): Generator<[string, number[]]> {
    for (let l = 0; l < LAYERS; l++) for (let k = 0; k < PER_LAYER; k++) {
      const key = `${prefix}.${l}.${seg}${k}.weight`;
      yield [renamed && key === `${prefix}.3.${seg}7.weight` ? renamed : key, [8, 8]];
    }
  })());
}

const MAPPING = [
  'source src.safetensors',
  'target tgt.safetensors',
  'encoder.layer.{i}.tensor{k}.weight -> blocks.{i}.param{k}.weight',
  'encoder.layer.3.tensor7.weight -> blocks.3.param7.weight',
  'encoder.layer.5.tensor1.weight -> blocks.5.nothing.weight',
].join('\n') + '\n';

interface Seen { diagnostics: string[]; completions: string[]; log: string[] }

async function sessionSees(): Promise<Seen> {
  const { client } = await LspClient.start(ws.dir, { tableCacheDir: cacheDir });
  try {
    const uri = await client.open(path.join(ws.dir, 'a.tpmap'), MAPPING);
    const d = await client.until(uri, (x: PushedDiagnostic[]) => x.length > 0, 60_000);
    const completion = await client.request('textDocument/completion', { textDocument: { uri }, position: { line: 3, character: 'encoder.layer.3.tensor7.weight -> blocks.3.'.length } }) as { items?: { label: string }[] } | { label: string }[];
    const items = Array.isArray(completion) ? completion : completion.items ?? [];
    return {
      diagnostics: d.map((x) => `${x.range.start.line}: ${x.code}: ${x.message}`).sort(),
      completions: items.map((i) => i.label).sort(),
      log: client.log.filter((l) => l.startsWith('table cache')).sort(),
    };
  } finally {
    await client.stop();
  }
}

async function entriesKept(want: number): Promise<number> {
  for (let i = 0; i < 400; i++) {
    const n = readdirSync(cacheDir, { withFileTypes: true }).filter((e) => e.name.endsWith('.tptc')).length;
    if (n >= want) return n;
    await new Promise((r) => setTimeout(r, 25));
  }
  return 0;
}

test('a later session takes both headers from the cache and sees what the first saw; a renamed key is seen', async () => {
  side('src.safetensors', 'encoder.layer', 'tensor');
  side('tgt.safetensors', 'blocks', 'param');
  const first = await sessionSees();
  assert.deepEqual(first.log, []);
  assert.ok(first.diagnostics.some((d) => d.startsWith('4: ') && d.includes('blocks.5.nothing.weight')), first.diagnostics.join('\n'));
  assert.ok(first.completions.includes('blocks.3.param7.weight'), first.completions.slice(0, 5).join(', '));
  assert.equal(await entriesKept(2), 2, 'both headers were kept');

  const second = await sessionSees();
  assert.deepEqual(second.log, [
    'table cache: src.safetensors (12000 tensors) unchanged since it was last read',
    'table cache: tgt.safetensors (12000 tensors) unchanged since it was last read',
  ]);
  assert.deepEqual(second.diagnostics, first.diagnostics);
  assert.deepEqual(second.completions, first.completions);

  // Renamed in place, the same length: the file's size does not change, its header does.
  side('tgt.safetensors', 'blocks', 'param', 'blocks.3.paraX7.weight');
  const third = await sessionSees();
  assert.deepEqual(third.log, ['table cache: src.safetensors (12000 tensors) unchanged since it was last read']);
  assert.ok(third.diagnostics.some((d) => d.startsWith('3: ') && d.includes('blocks.3.param7.weight')), third.diagnostics.join('\n'));
  assert.ok(third.completions.includes('blocks.3.paraX7.weight') && !third.completions.includes('blocks.3.param7.weight'), third.completions.slice(0, 5).join(', '));
});

test('a cache folder option that is not an absolute path is ignored: the server reads as it would without one', async () => {
  side('src.safetensors', 'encoder.layer', 'tensor');
  side('tgt.safetensors', 'blocks', 'param');
  for (const tableCacheDir of [42, 'relative/cache']) {
    const { client } = await LspClient.start(ws.dir, { tableCacheDir });
    try {
      const uri = await client.open(path.join(ws.dir, 'b.tpmap'), MAPPING);
      const d = await client.until(uri, (x: PushedDiagnostic[]) => x.length > 0, 60_000);
      assert.ok(d.some((x) => x.range.start.line === 4 && x.message.includes('blocks.5.nothing.weight')), String(tableCacheDir));
      assert.deepEqual(client.log.filter((l) => l.startsWith('table cache')), []);
    } finally {
      await client.stop();
    }
  }
  assert.ok(!existsSync(path.join(ws.dir, 'relative')) && !existsSync(path.resolve('relative')), 'no folder made for a relative path');
});
