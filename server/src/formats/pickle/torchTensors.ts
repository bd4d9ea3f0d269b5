/**
 * What the two torch readers share: turning a persistent id into a storage record, and a rebuilt
 * tensor plus where its storage's bytes begin into a TensorInfo with a byte location.
 */
import { DTYPE_SIZE, type TensorInfo, isContiguous, spanOf } from '../tensorInfo';
import type { CallContext } from './allowList';
import { TORCH_STORAGE_DTYPES, UNTYPED_STORAGES } from './dtypes';
import { type PyStorage, type PyTensor, type PyValue, asInt, isObj, isTuple, kindOf } from './values';

/**
 * `('storage', torch.FloatStorage, key, location, numel)` — and the legacy format's sixth element,
 * `view_metadata`: `None`, or `(view_key, element_offset, view_size)` for a view of `key`.
 */
export function storageFromPid(pid: PyValue, ctx: CallContext): PyStorage {
  if (!isTuple(pid) || pid.items.length < 5) return ctx.fail(`persistent id is a ${kindOf(pid)}, not torch's ('storage', type, key, location, numel) tuple`);
  const [tag, type, key, location, n, view] = pid.items;
  if (tag !== 'storage') return ctx.fail(`persistent id of kind ${JSON.stringify(typeof tag === 'string' ? tag : kindOf(tag))}; only torch storages are supported`);
  if (!isObj(type) || type.kind !== 'global') return ctx.fail(`storage type is a ${kindOf(type)}`);
  const short = type.name.replace(/^torch\.(cuda\.)?/, '');
  const dtype = UNTYPED_STORAGES.has(type.name) ? 'U8' : TORCH_STORAGE_DTYPES[short];
  if (!dtype) return ctx.fail(`\`${type.name}\` is not a storage type`);
  if (typeof key !== 'string' && typeof key !== 'number') return ctx.fail(`storage key is a ${kindOf(key)}`);
  const count = asInt(n);
  if (count === undefined || count < 0) return ctx.fail(`storage size is ${kindOf(n)}, expected a non-negative integer`);
  let viewOffset = 0;
  if (view !== undefined && view !== null) {
    const off = isTuple(view) && view.items.length === 3 ? asInt(view.items[1]) : undefined;
    if (off === undefined || off < 0) return ctx.fail('storage view metadata is not (view_key, offset, size)');
    viewOffset = off;
  }
  return {
    kind: 'storage', key: String(key), dtype, typeName: type.name, numel: count, viewOffset,
    device: typeof location === 'string' ? location : 'cpu',
  };
}

/** Where one storage's bytes lie in a file. */
export interface StorageBytes {
  file: string;
  offset: number;
  length: number;
}

/**
 * A tensor's key, dtype, shape and byte location. `location.length` is the span from the first to
 * the last element the view touches, which equals numel × element size when the tensor is
 * contiguous; `stride` is given only when it is not. Returns a reason instead of a location when
 * the bytes cannot be pinned down (unknown element size, a view running past its storage).
 */
export function tensorInfo(key: string, t: PyTensor, bytes: StorageBytes | undefined): { info: TensorInfo; problem?: string } {
  const info: TensorInfo = { key, dtype: t.dtype, shape: t.shape };
  if (!t.storage) return { info, problem: 'meta tensor: it has a shape but no data' };
  if (!bytes) return { info };
  const size = DTYPE_SIZE[t.dtype];
  if (size === undefined) return { info, problem: `dtype ${t.dtype} has no fixed element size` };
  const contiguous = isContiguous(t.shape, t.stride);
  const span = spanOf(t.shape, t.stride);
  const offset = bytes.offset + (t.storage.viewOffset + t.storageOffset) * size;
  const length = span * size;
  if (!Number.isSafeInteger(offset + length) || offset + length > bytes.offset + bytes.length) {
    return { info, problem: `the view (offset ${t.storageOffset}, ${span} elements) runs past its storage (${bytes.length} bytes)` };
  }
  info.location = { file: bytes.file, offset, length };
  if (!contiguous) info.location.stride = [...t.stride];
  return { info };
}

/** Tensors are leaves; dicts, lists and tuples are walked; anything else is a non-tensor value. */
export function classifyTorch(v: PyValue): PyTensor | 'descend' | 'ignore' {
  if (!isObj(v)) return 'ignore';
  if (v.kind === 'tensor') return v;
  return v.kind === 'dict' || v.kind === 'list' || v.kind === 'tuple' ? 'descend' : 'ignore';
}
