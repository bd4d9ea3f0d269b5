/**
 * The index's cache identity: size and mtime first, then the bytes the reader looked at. A touched
 * file or one whose tensor data changed in place keeps its entry (no parse); a changed header, even
 * with the same size and mtime, is read again once the watcher reports it.
 */
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { DEFAULT_READ_LIMITS } from '../../server/src/formats/readLimits';
import { DEFAULT_SETTINGS } from '../../server/src/lsp/protocol';
import { CheckpointIndex, IndexEntry } from '../../server/src/index/checkpointIndex';
import { pooledReader, ReadPool } from '../../server/src/index/readPool';
import { sparseSafetensors } from '../support/sparse';
import { FIXTURES, scratchDir } from '../support/tmp';

const tmp = scratchDir('index-cache');

function info(e: IndexEntry) {
  assert.ok(e.ok, e.ok ? '' : e.error.message);
  return e.info;
}

function later(file: string, seconds = 10): void {
  const st = statSync(file);
  utimesSync(file, st.atime, new Date(st.mtimeMs + seconds * 1000));
}

test('asked to, every single-file format records what its reader looked at; a sharded index does not', async () => {
  for (const rel of ['safetensors/vit_tiny.safetensors', 'torch/vit_tiny.pt', 'torch/vit_tiny_legacy.pt', 'paddle/linear_p4.pdparams', 'onnx/tiny_attn.onnx', 'gguf/tiny.gguf']) {
    assert.equal((await readCheckpoint(path.join(FIXTURES, rel))).identity, undefined, `${rel}: only when asked (the CLI does not hash)`);
    const read = await readCheckpoint(path.join(FIXTURES, rel), { identity: true });
    assert.ok(read.identity && read.identity.ranges.length > 0 && /^[0-9a-f]{40}$/.test(read.identity.digest), rel);
    assert.equal(read.identity.size, statSync(path.join(FIXTURES, rel)).size, rel);
  }
  assert.equal((await readCheckpoint(path.join(FIXTURES, 'safetensors/sharded/model.safetensors.index.json'), { identity: true })).identity, undefined);
});

test('a touched file and tensor data rewritten in place keep the same entry', async () => {
  for (const rel of ['safetensors/vit_tiny.safetensors', 'torch/vit_tiny.pt', 'gguf/tiny.gguf']) {
    const file = path.join(tmp.dir, path.basename(rel));
    copyFileSync(path.join(FIXTURES, rel), file);
    const index = new CheckpointIndex();
    const first = info(await index.get(file));
    later(file);
    assert.equal(info(await index.get(file)), first, `${rel}: touched`);
    // Overwrite a tensor's bytes that the reader never looked at and move the mtime again. (These small
    // torch zip and GGUF files are read whole by the zip directory search and GGUF's read window.)
    const ranges = first.identity!.ranges;
    const t = first.tensors.find((x) => x.location && ranges.every(([o, n]) => x.location!.offset >= o + n || x.location!.offset + x.location!.length <= o));
    if (!rel.endsWith('.safetensors')) continue;
    assert.ok(t, rel);
    const bytes = readFileSync(file);
    bytes.fill(0x3f, t.location!.offset, t.location!.offset + t.location!.length);
    writeFileSync(file, bytes);
    later(file, 20);
    assert.equal(info(await index.get(file)), first, `${rel}: data rewritten`);
  }
});

test('a changed header is read again, even at the same size and mtime once the watcher reports it', async () => {
  const file = path.join(tmp.dir, 'swap.safetensors');
  copyFileSync(path.join(FIXTURES, 'safetensors/vit_tiny.safetensors'), file);
  utimesSync(file, 1_700_000_000, 1_700_000_000);   // whole seconds: restorable exactly below
  const index = new CheckpointIndex();
  const first = info(await index.get(file));
  const bytes = readFileSync(file);
  const at = bytes.indexOf('"pooler.dense.weight"');
  assert.ok(at > 0);
  bytes.write('"pooler.dense.WEIGHT"', at);   // same length: same size, different header
  writeFileSync(file, bytes);
  utimesSync(file, 1_700_000_000, 1_700_000_000);
  assert.equal(info(await index.get(file)), first, 'same size and mtime, no watcher event: the cached entry stands');
  index.invalidate(file);
  const second = info(await index.get(file));
  assert.notEqual(second, first);
  assert.ok(second.tensors.some((t) => t.key === 'pooler.dense.WEIGHT'));
  // A new size is always a fresh read.
  writeFileSync(file, Buffer.concat([bytes, Buffer.alloc(1)]));
  const third = await index.get(file);
  assert.equal(third.ok, false);
});

test('a shard that changes makes the index beside it read again; a deleted file is forgotten', async () => {
  const dir = path.join(tmp.dir, 'sharded');
  cpSync(path.join(FIXTURES, 'safetensors/sharded'), dir, { recursive: true });
  const indexFile = path.join(dir, 'model.safetensors.index.json');
  const index = new CheckpointIndex();
  const first = info(await index.get(indexFile));
  const shard = path.join(dir, 'model-00002-of-00002.safetensors');
  index.invalidate(shard);
  const second = info(await index.get(indexFile));
  assert.notEqual(second, first);
  assert.deepEqual(second, first);
  writeFileSync(shard, 'gone');
  index.forget(shard);
  const third = await index.get(indexFile);
  assert.equal(third.ok, false);
});

test('a file deleted or cut short while its header is being read: the result or a reason naming it, never a crash', async () => {
  const pool = new ReadPool({ size: 1 });
  try {
    for (const [what, spoil] of [['deleted', (f: string) => unlinkSync(f)], ['cut short', (f: string) => truncateSync(f, 1000)]] as const) {
      for (const via of ['in thread', 'pool'] as const) {
        const file = path.join(tmp.dir, `spoilt-${via.replace(' ', '-')}.safetensors`);
        sparseSafetensors(file, (function* () { for (let i = 0; i < 50_000; i++) yield [`layers.${i}.weight`, [4]] as [string, number[]]; })());
        const index = new CheckpointIndex({ displayName: (p) => path.basename(p), reader: via === 'pool' ? pooledReader(pool) : undefined });
        const reading = index.get(file);
        spoil(file);
        const entry = await reading;
        if (entry.ok) assert.equal(entry.info.tensors.length, 50_000, `${what}, ${via}: a read that won the race is whole`);
        else assert.match(entry.error.message, /^spoilt-[a-z-]+\.safetensors: (no such file|.*truncated\?|file shrank while reading .*)( \(at byte \d+\))?$/, `${what}, ${via}`);
        // Afterwards the index says what the file is now.
        const now = await index.get(file);
        assert.equal(now.ok, false, `${what}, ${via}: the next get sees the change`);
      }
    }
  } finally {
    await pool.close();
  }
});

test('every face reads within the same budgets: an index made without options (the CLI\'s check, convert, parity) bounds time and bytes', async () => {
  const seen: { timeoutMs?: number; maxHeaderBytes?: number }[] = [];
  const file = path.join(FIXTURES, 'safetensors', readdirSync(path.join(FIXTURES, 'safetensors')).find((f) => f.endsWith('.safetensors'))!);
  const index = new CheckpointIndex({ reader: async (p, opts) => { seen.push(opts); return readCheckpoint(p, opts); } });
  await index.get(file);
  assert.deepEqual(seen.map((o) => [o.timeoutMs, o.maxHeaderBytes]), [[DEFAULT_READ_LIMITS.timeoutMs, DEFAULT_READ_LIMITS.maxHeaderBytes]]);
  // The editor's defaults are the same budgets: the server's (derived) and the settings VS Code shows (package.json).
  const settings = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')).contributes.configuration.properties;
  assert.equal(DEFAULT_READ_LIMITS.maxHeaderBytes, DEFAULT_SETTINGS.maxHeaderMB * 2 ** 20);
  assert.equal(DEFAULT_READ_LIMITS.timeoutMs, DEFAULT_SETTINGS.readTimeoutMs);
  assert.equal(settings['tensorport.index.maxHeaderMB'].default * 2 ** 20, DEFAULT_READ_LIMITS.maxHeaderBytes);
  assert.equal(settings['tensorport.index.eagerLimit'].default, DEFAULT_SETTINGS.eagerLimit);
  assert.equal(settings['tensorport.index.readTimeoutMs'].default, DEFAULT_READ_LIMITS.timeoutMs);
});
