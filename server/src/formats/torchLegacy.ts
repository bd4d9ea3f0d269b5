/**
 * Reads a legacy `torch.save(..., _use_new_zipfile_serialization=False)` checkpoint: five pickles in
 * a row (magic number, protocol version, sys info, the object, the sorted storage keys) followed by
 * each storage as a u64 element count and its bytes. Only the 8-byte counts are read past the
 * pickles, to place every storage and so give each tensor a byte location.
 */
import { table } from './table';
import { resolve as resolvePath } from 'node:path';
import type { ByteSource } from './byteSource';
import { flattenTensors } from './pickle/flatten';
import { stateContent } from './pickle/stateKinds';
import { type StorageBytes, classifyTorch, storageFromPid, tensorInfo } from './pickle/torchTensors';
import { type PyStorage, dictGet, isDict, iterItems, kindOf } from './pickle/values';
import { runPickle } from './pickle/vm';
import { internalError, ReaderError, unreadable } from './readerError';
import { type CheckpointInfo, DTYPE_SIZE, type TensorInfo } from './tensorInfo';
import { absoluteName } from './remote/remoteName';

const MAGIC = 0x1950a86a20f9469cfc6cn;

/** Element sizes for walking storages, including the quantized ones safetensors has no name for. */
const STORAGE_ELEM: Readonly<Record<string, number>> = table({
  ...DTYPE_SIZE,
  'torch.qint8': 1, 'torch.quint8': 1, 'torch.qint32': 4, 'torch.quint4x2': 1, 'torch.quint2x4': 1,
});

export async function readTorchLegacy(src: ByteSource): Promise<CheckpointInfo> {
  try {
    return await read(src);
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    throw internalError(src.displayName, 'the legacy torch checkpoint', e);
  }
}

async function read(src: ByteSource): Promise<CheckpointInfo> {
  const name = src.displayName;
  if (src.size >= 4) {
    const head = await src.read(0, 4, 'file header');
    if (head.readUInt32LE(0) === 0x04034b50) throw unreadable(name, 'this is a zip archive (a torch.save checkpoint from PyTorch ≥ 1.6), not the legacy pickle format');
  }
  const opts = { requireProto: true };
  const magic = await runPickle(src, 0, src.size, opts);
  if (magic.value !== MAGIC) {
    throw unreadable(name, `the first pickle holds a ${kindOf(magic.value)}, not torch's magic number: not a legacy torch.save checkpoint`, 0);
  }
  const version = await runPickle(src, magic.end, src.size, opts);
  if (version.value !== 1001) throw unreadable(name, `legacy torch protocol version ${String(version.value)} is not 1001`, magic.end);
  const sysInfo = await runPickle(src, version.end, src.size, opts);
  const notes: string[] = [];
  const bigEndian = isDict(sysInfo.value) && dictGet(sysInfo.value, 'little_endian') === false;
  if (bigEndian) notes.push('written on a big-endian machine: storages hold big-endian values, so no byte locations are given');

  const storages = new Map<string, PyStorage>();
  const object = await runPickle(src, sysInfo.end, src.size, {
    ...opts,
    persistentLoad: (pid, ctx) => {
      const s = storageFromPid(pid, ctx);
      if (!storages.has(s.key)) storages.set(s.key, s);
      return s;
    },
  });
  const keyList = await runPickle(src, object.end, src.size, opts);
  const keys = iterItems(keyList.value);
  if (!keys || !keys.every((k) => typeof k === 'string' || typeof k === 'number')) {
    throw unreadable(name, `the storage key list is a ${kindOf(keyList.value)}, not a list of keys`, object.end);
  }

  const placed = await placeStorages(src, keys.map(String), storages, keyList.end, notes);

  const flat = flattenTensors(name, object.value, classifyTorch, object.end);
  notes.push(...flat.notes);
  const abs = absoluteName(src.path, resolvePath);
  const problems: string[] = [];
  const tensors: TensorInfo[] = flat.leaves.map((leaf) => {
    const t = leaf.value;
    const where = t.storage && !bigEndian ? placed.get(t.storage.key) : undefined;
    const bytes: StorageBytes | undefined = where ? { file: abs, ...where } : undefined;
    const { info, problem } = tensorInfo(leaf.key || 'tensor', t, bytes);
    if (problem) problems.push(`\`${info.key}\`: ${problem}`);
    return info;
  });
  if (flat.leaves.length === 1 && flat.leaves[0].key === '') notes.push('the file holds a single tensor, listed as `tensor`');
  if (problems.length > 0) notes.push(`no byte location for ${problems.length} tensor${problems.length === 1 ? '' : 's'}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; …' : ''}`);
  const state = stateContent(object.value);
  if (state) notes.unshift(state.note);
  return { file: name, format: 'torch-pickle', framework: 'torch', tensors, notes, ...(state ? { content: state.content } : {}) };
}

/**
 * Walks the storages after the pickles in key-list order. Each is a u64 element count and then
 * count × element-size bytes; the element size comes from the storage type its persistent id named.
 * A truncated file fails; a storage whose type is unknown stops the walk (later ones have no location).
 */
async function placeStorages(src: ByteSource, keys: string[], storages: Map<string, PyStorage>, start: number, notes: string[]): Promise<Map<string, { offset: number; length: number }>> {
  const placed = new Map<string, { offset: number; length: number }>();
  let pos = start;
  for (const key of keys) {
    const s = storages.get(key);
    const elem = s ? STORAGE_ELEM[s.dtype] : undefined;
    if (!s || elem === undefined) {
      notes.push(`storage \`${key}\` has ${s ? `type ${s.typeName} of unknown element size` : 'no tensor referring to it'}; storages from there on have no byte location`);
      break;
    }
    const header = await src.read(pos, 8, `size of storage ${key}`);
    const count = header.readBigUInt64LE(0);
    // Untyped storages count bytes in their persistent id but elements of some dtype in the header.
    const untyped = s.typeName.includes('Untyped');
    const length = untyped ? s.numel : Number(count) * elem;
    if (!untyped && count !== BigInt(s.numel)) {
      throw unreadable(src.displayName, `storage ${key} holds ${count} elements but its persistent id says ${s.numel}: corrupt checkpoint`, pos);
    }
    if (!Number.isSafeInteger(length) || pos + 8 + length > src.size) {
      throw unreadable(src.displayName, `storage ${key} (${length} bytes at byte ${pos + 8}) runs past the end of the file (${src.size} bytes): truncated?`, pos);
    }
    placed.set(key, { offset: pos + 8, length });
    pos += 8 + length;
  }
  return placed;
}

