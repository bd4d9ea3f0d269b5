/**
 * Hostile Orbax checkpoint folders: `_METADATA` plus a hand-built OCDBT database (tensorstore's format:
 * manifest.ocdbt, B+tree nodes in d/ files, CRC-32C footers), built uncompressed or with crafted zstd
 * frames, so each lie is exactly the one under test.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '../../server/src/formats/orbax/crc32c';
import type { Expect } from './corpus';
import { varint } from './builders';

type Add = (name: string, expect: Expect, make: (dir: string) => string, says?: RegExp) => void;

const MANIFEST = 0x0cdb3a2a;
const BTREE = 0x0cdb20de;

/** An OCDBT record: magic, length, version 0, compression, body, CRC-32C. */
function record(magic: number, body: Buffer, compression = 0, badCrc = false): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt32BE(magic, 0);
  const bytes = Buffer.concat([head, Buffer.from([0, compression]), body, Buffer.alloc(4)]);
  bytes.writeBigUInt64LE(BigInt(bytes.length), 4);
  bytes.writeUInt32LE((crc32c(bytes.subarray(0, bytes.length - 4)) ^ (badCrc ? 1 : 0)) >>> 0, bytes.length - 4);
  return bytes;
}

const v = (...ns: number[]) => Buffer.from(ns.flatMap((n) => varint(n)));
/** A data file table naming these paths (base path empty). */
const table = (paths: string[]) => Buffer.concat([v(paths.length), v(...paths.slice(1).map(() => 0)), v(...paths.map((p) => p.length)), v(...paths.map(() => 0)), Buffer.from(paths.join(''), 'latin1')]);

function manifestBody(root: { path: string; offset: number; length: number; height: number }, kind = 0): Buffer {
  const config = Buffer.concat([Buffer.alloc(16), v(kind, 100, 8 * 2 ** 20), Buffer.from([4]), v(0)]);
  if (kind === 1) return config;
  const commit = Buffer.alloc(8);
  return Buffer.concat([config, table([root.path]), v(1, 1), Buffer.from([root.height]), v(0, root.offset, root.length, 1, 0, 0), commit, v(0)]);
}

/** A leaf node with inline values. */
function leaf(entries: [string, string][], files: string[] = []): Buffer {
  const keys = entries.map(([k]) => Buffer.from(k));
  const values = entries.map(([, val]) => Buffer.from(val));
  return Buffer.concat([Buffer.from([0]), table(files), v(entries.length), v(...keys.slice(1).map(() => 0)), v(...keys.map((k) => k.length)), ...keys,
    v(...values.map((x) => x.length)), Buffer.from(values.map(() => 0)), ...values]);
}

/** An interior node (height 1) whose one child is `child` in `file`. */
function interior(file: string, child: { offset: number; length: number }, height = 1): Buffer {
  return Buffer.concat([Buffer.from([height]), table([file]), v(1), v(1), v(0), Buffer.from('a'), v(0, child.offset, child.length, 1, 0, 0)]);
}

const ZARRAY = '{"zarr_format":2,"dtype":"<f4","shape":[2,3],"chunks":[2,3]}';
const META = JSON.stringify({ use_ocdbt: true, tree_metadata: { "('w',)": { key_metadata: [{ key: 'w', key_type: 2 }], value_metadata: { value_type: 'jax.Array' } } } });

/** A checkpoint folder: `_METADATA`, the manifest whose root is `node` at offset 0 of d/n, and the node. */
function folder(dir: string, node: Buffer, opts: { height?: number; manifest?: Buffer; meta?: string; rootPath?: string; rootLength?: number } = {}): string {
  const root = path.join(dir, 'ckpt');
  mkdirSync(path.join(root, 'd'), { recursive: true });
  writeFileSync(path.join(root, '_METADATA'), opts.meta ?? META);
  writeFileSync(path.join(root, 'd', 'n'), node);
  writeFileSync(path.join(root, 'manifest.ocdbt'), opts.manifest ?? record(MANIFEST, manifestBody({ path: opts.rootPath ?? 'd/n', offset: 0, length: opts.rootLength ?? node.length, height: opts.height ?? 0 })));
  return root;
}

/** A zstd frame header declaring `size` decompressed bytes, then one raw block of `data`. */
function zstdFrame(size: bigint, data: Buffer): Buffer {
  const head = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0]);
  const fcs = Buffer.alloc(8);
  fcs.writeBigUInt64LE(size);
  const block = Buffer.alloc(3);
  block.writeUIntLE((data.length << 3) | 1, 0, 3);
  return Buffer.concat([head, fcs, block, data]);
}

/** A frame that declares no size (as tensorstore streams larger nodes): window descriptor, one raw last block. */
function zstdStreamed(windowDescriptor: number, data: Buffer): Buffer {
  const block = Buffer.alloc(3);
  block.writeUIntLE((data.length << 3) | 1, 0, 3);
  return Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, windowDescriptor]), block, data]);
}

export function orbaxCases(add: Add): void {
  const good = () => record(BTREE, leaf([['w/.zarray', ZARRAY]]));
  add('Orbax OCDBT, hand-built, one array', 'listed', (dir) => folder(dir, good()), /w\s+F32\s+\[2, 3\]/);
  add('Orbax OCDBT B+tree node that refers to itself (a cycle)', 'refused', (dir) => {
    // The root says height 1 and its one child is itself: heights must fall by one per level.
    const size = record(BTREE, interior('d/n', { offset: 0, length: 0 })).length;
    return folder(dir, record(BTREE, interior('d/n', { offset: 0, length: size })), { height: 1 });
  }, /height 1 where 0 was expected/);
  add('Orbax OCDBT zstd bomb (a node declaring 8 GiB decompressed)', 'refused', (dir) => folder(dir, record(BTREE, zstdFrame(8n * 2n ** 30n, Buffer.alloc(16)), 1)), /decompression bomb/);
  add('Orbax OCDBT zstd node without a declared size (streamed)', 'listed', (dir) => folder(dir, record(BTREE, zstdStreamed(0, leaf([['w/.zarray', ZARRAY]])), 1)), /w\s+F32\s+\[2, 3\]/);
  add('Orbax OCDBT zstd node asking for a 3.75 TiB window', 'refused', (dir) => folder(dir, record(BTREE, zstdStreamed(0xff, Buffer.alloc(8)), 1)), /window, over the/);
  add('Orbax OCDBT zstd frame decompressing past its declared size', 'refused', (dir) => folder(dir, record(BTREE, zstdFrame(4n, leaf([['w/.zarray', ZARRAY]])), 1)), /ckpt\/d\/n.*zstd/);
  add('Orbax OCDBT manifest root past the end of its data file', 'refused', (dir) => folder(dir, good(), { rootLength: 1_000_000 }), /runs past the end of the file/);
  add('Orbax OCDBT node length that lies', 'refused', (dir) => {
    const node = good();
    node.writeBigUInt64LE(1n << 40n, 4);
    return folder(dir, node);
  }, /says it is \d+ bytes/);
  add('Orbax OCDBT node failing its CRC-32C', 'refused', (dir) => folder(dir, record(BTREE, leaf([['w/.zarray', ZARRAY]]), 0, true)), /CRC-32C/);
  add('Orbax OCDBT data file path escaping the folder', 'refused', (dir) => folder(dir, good(), { rootPath: '../../../../etc/passwd' }), /not a path inside its folder/);
  add('Orbax OCDBT entry count that lies', 'refused', (dir) => folder(dir, record(BTREE, Buffer.concat([Buffer.from([0]), table([]), v(2 ** 40)]))), /more than the \d+ bytes left/);
  add('Orbax OCDBT numbered manifest', 'refused', (dir) => folder(dir, good(), { manifest: record(MANIFEST, manifestBody({ path: '', offset: 0, length: 0, height: 0 }, 1)) }), /numbered-manifest/);
  add('Orbax OCDBT manifest with bad magic', 'refused', (dir) => folder(dir, good(), { manifest: record(0x12345678, Buffer.alloc(20)) }), /manifest\.ocdbt.*magic/);
  add('Orbax OCDBT zarr metadata that is not JSON', 'listed', (dir) => folder(dir, record(BTREE, leaf([['w/.zarray', '{"zarr_format":2,']]))), /could not be read[^\n]*not JSON/);
  add('Orbax OCDBT array missing from the database', 'listed', (dir) => folder(dir, record(BTREE, leaf([['x/.zarray', ZARRAY]]))), /no zarr metadata[^\n]*`w`[\s\S]*not in _METADATA's tree[^\n]*`x`/);
  add('Orbax _METADATA that is not JSON', 'refused', (dir) => folder(dir, good(), { meta: '{"tree_metadata": ' + '['.repeat(100_000) }), /_METADATA: not JSON/);
  add('Orbax _METADATA without tree_metadata', 'refused', (dir) => folder(dir, good(), { meta: '{"use_ocdbt": true}' }), /no `tree_metadata`/);
  add('Orbax folder without _METADATA', 'refused', (dir) => { mkdirSync(path.join(dir, 'empty')); return path.join(dir, 'empty'); }, /no _METADATA in it/);
  add('Orbax zarr folders: a key naming a folder outside', 'listed', (dir) => {
    const root = path.join(dir, 'ckpt');
    mkdirSync(root);
    writeFileSync(path.join(root, '_METADATA'), JSON.stringify({ use_ocdbt: false, tree_metadata: { x: { key_metadata: [{ key: '../../outside', key_type: 2 }], value_metadata: { value_type: 'np.ndarray' } } } }));
    return root;
  }, /not a folder inside the checkpoint/);
}
