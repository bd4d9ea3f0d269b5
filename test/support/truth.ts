/**
 * Test support: compares a reader's listing with the truth a real framework reported for the same file
 * (`<file>.truth.json`, written by test/fixtures/real/make_real.py): the same keys, dtypes and shapes,
 * and — where the reader gives a byte location — the bytes there hash to what the framework loaded.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { readCheckpoint } from '../../server/src/formats/readCheckpoint';
import { ReaderError } from '../../server/src/formats/readerError';
import type { TensorInfo } from '../../server/src/formats/tensorInfo';

export interface TruthRow {
  key: string;
  dtype: string;
  shape: number[];
  sha1: string;
  /** ONNX: the subgraph that holds the tensor ('' for the main graph). */
  graph?: string;
}

export interface Truth {
  format: string;
  tensors: TruthRow[];
  /** The file must be refused, with a reason matching this text. */
  refused?: string;
  /** A note the listing must carry (what the file is, when it is not a model). */
  note?: string;
  /**
   * `false`: the format gives these tensors no plain byte location to hash (deflated `.npz` members, a
   * Fortran-order `.npy`, whose location carries strides); `note` then says why.
   */
  located?: false;
  /** GGUF: scalar metadata as gguf-py reads it (float32 values widened to Python floats). */
  metadata?: Record<string, string | number>;
}

/** Every `*.truth.json` under `root`, as the checkpoint paths they describe. */
export function truthFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.truth.json')) out.push(p.slice(0, -'.truth.json'.length));
    }
  };
  walk(root);
  return out;
}

function bytesAt(t: TensorInfo): Buffer {
  const loc = t.location!;
  const buf = Buffer.alloc(loc.length);
  const fd = openSync(loc.file, 'r');
  try {
    readSync(fd, buf, 0, loc.length, loc.offset);
  } finally {
    closeSync(fd);
  }
  // Paddle protocol 2: the bytes are UTF-8 text of latin-1 code points, one per data byte.
  return loc.encoding === 'latin1-from-utf8' ? Buffer.from(buf.toString('utf8'), 'latin1') : buf;
}

/** Reads `file` with the product's reader and asserts it agrees with the framework's truth. */
export async function assertMatchesTruth(file: string): Promise<void> {
  const truth = JSON.parse(readFileSync(`${file}.truth.json`, 'utf8')) as Truth;
  if (truth.refused) {
    await assert.rejects(readCheckpoint(file), (e: unknown) => {
      assert.ok(e instanceof ReaderError, `expected a ReaderError, got ${String(e)}`);
      assert.ok(e.reason.includes(truth.refused!), `reason "${e.reason}" should say "${truth.refused}"`);
      return true;
    });
    return;
  }
  const info = await readCheckpoint(file);
  assert.equal(info.format, truth.format, 'format');
  const byKey = (a: { key: string }, b: { key: string }) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);
  const got = [...info.tensors].sort(byKey);
  const want = [...truth.tensors].sort(byKey);
  assert.deepEqual(got.map((t) => t.key), want.map((t) => t.key), 'keys');
  let hashed = 0;
  for (const [i, t] of got.entries()) {
    const w = want[i];
    assert.equal(t.dtype, w.dtype, `${t.key}: dtype`);
    assert.deepEqual(t.shape, w.shape, `${t.key}: shape`);
    if (w.graph !== undefined) assert.equal(t.graph ?? '', w.graph, `${t.key}: graph`);
    if (t.location && !t.location.stride) {
      assert.equal(createHash('sha1').update(bytesAt(t)).digest('hex'), w.sha1, `${t.key}: bytes at ${t.location.file}:${t.location.offset}`);
      hashed++;
    }
  }
  for (const [k, v] of Object.entries(truth.metadata ?? {})) {
    const ours = info.metadata?.[k];
    if (typeof v === 'number') assert.equal(Math.fround(Number(ours)), Math.fround(v), `metadata ${k}: ${ours}`);
    else assert.equal(ours, v, `metadata ${k}`);
  }
  if (truth.note) assert.ok(info.notes.some((n) => n.includes(truth.note!)), `a note saying "${truth.note}": ${info.notes.join(' | ')}`);
  // Every real format here places its tensors' bytes; a reader that stopped doing so must fail.
  if (truth.located === false) assert.equal(hashed, 0, 'the truth says no tensor has a plain byte location');
  else assert.ok(hashed > 0 || got.length === 0, 'no tensor had a byte location to check');
}
