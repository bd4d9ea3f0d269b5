/**
 * A tensor list packed into a few typed arrays and one string, for crossing from a read worker to the
 * server's thread. Structured clone of 100,000 TensorInfo objects costs the receiving thread ~200 ms
 * (as much as parsing the header there); decoding this table ~80 ms, and its arrays are transferred,
 * not copied. Tensors with anything beyond key, dtype, shape and a plain location (ONNX consumers,
 * torch strides, model-source fields) travel beside it as they are.
 */
import { CheckpointInfo, TensorInfo } from './tensorInfo';

export interface TensorTable {
  count: number;
  /** Every key, concatenated; `keyEnds[i]` is where key i ends. */
  keys: string;
  keyEnds: Uint32Array;
  dtypes: string[];
  dtype: Uint16Array;
  ndim: Uint8Array;
  /** Float64 as read; 32-bit where every value fits (compactTable), as the server keeps them. */
  dims: Float64Array | Uint32Array;
  files: string[];
  /** Index into `files`, or -1 for a tensor without a location. */
  file: Int32Array | Int16Array;
  offset: Float64Array | Uint32Array;
  length: Float64Array | Uint32Array;
  /** Tensors that do not fit the columns, by position. */
  extras: [number, TensorInfo][];
}

export function encodeTensors(tensors: readonly TensorInfo[]): TensorTable {
  const n = tensors.length;
  const keyEnds = new Uint32Array(n), dtype = new Uint16Array(n), ndim = new Uint8Array(n);
  const file = new Int32Array(n), offset = new Float64Array(n), length = new Float64Array(n);
  const dtypeIds = new Map<string, number>(), fileIds = new Map<string, number>();
  const keys: string[] = [], dims: number[] = [], extras: [number, TensorInfo][] = [];
  let end = 0;
  for (let i = 0; i < n; i++) {
    const t = tensors[i];
    if (!plain(t)) {
      extras.push([i, t]);
      keyEnds[i] = end;
      continue;
    }
    keys.push(t.key);
    end += t.key.length;
    keyEnds[i] = end;
    let d = dtypeIds.get(t.dtype);
    if (d === undefined) dtypeIds.set(t.dtype, d = dtypeIds.size);
    dtype[i] = d;
    ndim[i] = t.shape.length;
    for (const x of t.shape) dims.push(x);
    if (t.location) {
      let f = fileIds.get(t.location.file);
      if (f === undefined) fileIds.set(t.location.file, f = fileIds.size);
      file[i] = f;
      offset[i] = t.location.offset;
      length[i] = t.location.length;
    } else {
      file[i] = -1;
    }
  }
  return {
    count: n, keys: keys.join(''), keyEnds, dtypes: [...dtypeIds.keys()], dtype, ndim, dims: Float64Array.from(dims),
    files: [...fileIds.keys()], file, offset, length, extras,
  };
}

/**
 * The table with its number columns in 32 (file: 16) bits where every value fits — dimensions and byte
 * ranges of a file under 4 GiB — for a table kept for long (the server's): 100,000 tensors' columns go
 * from 4.4 to 2.6 MB. Columns that need 64-bit floats keep them.
 */
export function compactTable(t: TensorTable): TensorTable {
  const narrow = (a: Float64Array | Uint32Array): Float64Array | Uint32Array => {
    if (a instanceof Uint32Array) return a;
    for (let i = 0; i < a.length; i++) if (!(a[i] >= 0 && a[i] <= 0xffffffff && Number.isInteger(a[i]))) return a;
    return Uint32Array.from(a);
  };
  const file = t.file instanceof Int32Array && t.files.length < 0x7fff ? Int16Array.from(t.file) : t.file;
  return { ...t, dims: narrow(t.dims), offset: narrow(t.offset), length: narrow(t.length), file };
}

/** The table's typed arrays, to transfer (not copy) with postMessage. */
export function tableBuffers(t: TensorTable): ArrayBuffer[] {
  return [t.keyEnds, t.dtype, t.ndim, t.dims, t.file, t.offset, t.length].map((a) => a.buffer as ArrayBuffer);
}

export function decodeTensors(t: TensorTable): TensorInfo[] {
  const out = new Array<TensorInfo>(t.count);
  for (const [i, tensor] of t.extras) out[i] = tensor;
  let start = 0, q = 0;
  for (let i = 0; i < t.count; i++) {
    const end = t.keyEnds[i];
    if (out[i] !== undefined) continue;
    const k = t.ndim[i];
    const shape = new Array<number>(k);
    for (let j = 0; j < k; j++) shape[j] = t.dims[q++];
    const f = t.file[i];
    out[i] = f < 0
      ? { key: t.keys.slice(start, end), dtype: t.dtypes[t.dtype[i]], shape }
      : { key: t.keys.slice(start, end), dtype: t.dtypes[t.dtype[i]], shape, location: { file: t.files[f], offset: t.offset[i], length: t.length[i] } };
    start = end;
  }
  return out;
}

/** The table a reader filled instead of objects (readCheckpoint's `table` option); undefined for objects. */
const tables = new WeakMap<CheckpointInfo, TensorTable>();

export function tableOf(info: CheckpointInfo): TensorTable | undefined {
  return tables.get(info);
}

/**
 * A CheckpointInfo over a table: `tensors` is made (once, then kept) only if a caller reads it, so a
 * caller that writes from the table (`keys --json`) never makes an object per tensor. The property is
 * enumerable: a spread copy reads it and gets the objects, correct if not fast.
 */
export function tabledInfo(info: Omit<CheckpointInfo, 'tensors'>, table: TensorTable): CheckpointInfo {
  const out = { ...info } as CheckpointInfo;
  let made: TensorInfo[] | undefined;
  Object.defineProperty(out, 'tensors', {
    enumerable: true,
    configurable: true,
    get: (): TensorInfo[] => (made ??= decodeTensors(table)),
    set: (v: TensorInfo[]) => { made = v; tables.delete(out); },
  });
  tables.set(out, table);
  return out;
}

/** The info's fields but its tensors, read without making them (a spread would call the getter). */
export function fieldsOf(info: CheckpointInfo): Omit<CheckpointInfo, 'tensors'> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(info)) if (k !== 'tensors') out[k] = (info as unknown as Record<string, unknown>)[k];
  return out as unknown as Omit<CheckpointInfo, 'tensors'>;
}

/** `info` with `extra` fields added, keeping its table if it has one (`{ ...info, ...extra }` would make the objects). */
export function withFields(info: CheckpointInfo, extra: Partial<Omit<CheckpointInfo, 'tensors'>>): CheckpointInfo {
  const table = tableOf(info);
  return table ? tabledInfo({ ...fieldsOf(info), ...extra }, table) : { ...info, ...extra };
}

/** The tensors as a table: the one the reader filled, else packed from the objects. */
export function tableFor(info: CheckpointInfo): TensorTable {
  return tableOf(info) ?? encodeTensors(info.tensors);
}

/** Key, dtype, shape and at most a location of file, offset and length: nothing the columns would drop. */
function plain(t: TensorInfo): boolean {
  if (ownKeys(t) !== (t.location ? 4 : 3) || t.shape.length > 255) return false;
  return !t.location || ownKeys(t.location) === 3;
}

/** Counted without Object.keys: no array per tensor. */
function ownKeys(o: object): number {
  let n = 0;
  for (const k in o) if (Object.hasOwn(o, k)) n++;
  return n;
}
