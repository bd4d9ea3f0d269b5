/**
 * A Flax checkpoint written by `flax.serialization.to_bytes` (HF's `flax_model.msgpack` too): msgpack
 * of nested maps whose leaves are numpy arrays as ext type 1 (a msgpack `(shape, dtype name, buffer)`),
 * numpy scalars as ext 3 (the same), complex numbers as ext 2. Lists arrive as maps keyed `0`, `1`, …
 * (`flax.serialization.to_state_dict`). Arrays over 2^30 bytes are split by flax into
 * `{__msgpack_chunked_array__: true, shape, chunks: {0: …}}`, which `msgpack_restore` joins: listed whole.
 *
 * Keys are the map path joined with `.` (`params.Dense_0.kernel`), as HF's Flax↔PyTorch converters join
 * them. Only headers are read: each buffer is stepped over by offset and becomes the tensor's location.
 */
import { resolve } from 'node:path';
import type { ByteSource } from '../byteSource';
import { unreadable } from '../readerError';
import { type CheckpointInfo, DTYPE_SIZE, type TensorInfo, numel } from '../tensorInfo';
import { type Head, MsgpackCursor } from './msgpackCursor';

/** Flax nests a module per level; a deeper file is a nesting bomb, not a model. */
const MAX_DEPTH = 64;
const MAX_KEY = 64 * 1024;

const EXT_NDARRAY = 1;
const EXT_NPSCALAR = 3;
const CHUNKED = '__msgpack_chunked_array__';

/** numpy / ml_dtypes names → safetensors' (`np.dtype(x).name`, as flax writes it). */
const DTYPES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  bool: 'BOOL', int8: 'I8', uint8: 'U8', int16: 'I16', uint16: 'U16', int32: 'I32', uint32: 'U32', int64: 'I64', uint64: 'U64',
  float16: 'F16', bfloat16: 'BF16', float32: 'F32', float64: 'F64', complex64: 'C64', complex128: 'C128',
  float8_e4m3fn: 'F8_E4M3', float8_e5m2: 'F8_E5M2', float8_e4m3fnuz: 'F8_E4M3FNUZ', float8_e5m2fnuz: 'F8_E5M2FNUZ', float8_e8m0fnu: 'F8_E8M0',
});

interface Walk {
  cur: MsgpackCursor;
  file: string;
  tensors: TensorInfo[];
  others: number;
  dotted: string[];
  problems: string[];
  chunked: number;
}

export async function readFlaxMsgpack(src: ByteSource): Promise<CheckpointInfo> {
  if (src.size === 0) throw unreadable(src.displayName, 'file is empty');
  const cur = new MsgpackCursor(src, 0, src.size);
  const w: Walk = { cur, file: resolve(src.path), tensors: [], others: 0, dotted: [], problems: [], chunked: 0 };
  const top = await cur.head();
  if (top.kind !== 'map') throw unreadable(src.displayName, `a msgpack ${top.kind} at the top, not the map of arrays flax.serialization.to_bytes writes`, 0);
  await walkMap(w, top.count, '', 1);
  if (cur.pos !== src.size) throw unreadable(src.displayName, `${src.size - cur.pos} bytes follow the msgpack value: not one flax.serialization.to_bytes file`, cur.pos);
  const notes: string[] = [];
  if (w.tensors.length === 0) notes.push('no arrays in this msgpack file');
  if (w.others > 0) notes.push(`${w.others} value${w.others === 1 ? ' is' : 's are'} not an array (numbers, strings, lists) and ${w.others === 1 ? 'is' : 'are'} not listed`);
  if (w.chunked > 0) notes.push(`${w.chunked} array${w.chunked === 1 ? ' was' : 's were'} split by flax into chunks (over 2^30 bytes each) and ${w.chunked === 1 ? 'is' : 'are'} listed whole, with no byte location`);
  if (w.dotted.length > 0) notes.push(`${w.dotted.length} map key${w.dotted.length === 1 ? ' contains' : 's contain'} \`.\`, the separator keys are joined with (first: \`${w.dotted[0]}\`): such keys read ambiguously`);
  if (w.problems.length > 0) notes.push(`no byte location for ${w.problems.length} array${w.problems.length === 1 ? '' : 's'}: ${w.problems.slice(0, 3).join('; ')}${w.problems.length > 3 ? '; …' : ''}`);
  return { file: src.displayName, format: 'flax-msgpack', framework: 'jax', tensors: w.tensors, notes };
}

async function walkMap(w: Walk, count: number, prefix: string, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw unreadable(w.cur.displayName(), `maps nest more than ${MAX_DEPTH} deep: not a model's parameters`, w.cur.pos);
  for (let i = 0; i < count; i++) {
    const keyHead = await w.cur.head();
    const key = await keyText(w, keyHead);
    if (key.includes('.') && w.dotted.length < 3) w.dotted.push(key);
    const path = prefix ? `${prefix}.${key}` : key;
    await walkValue(w, await w.cur.head(), path, depth);
  }
}

async function keyText(w: Walk, h: Head): Promise<string> {
  if (h.kind === 'str') return w.cur.text(h, MAX_KEY, 'a map key');
  if (h.kind === 'int') return String(h.value);
  throw unreadable(w.cur.displayName(), `a map key that is a msgpack ${h.kind}, not a string`, w.cur.pos);
}

async function walkValue(w: Walk, h: Head, path: string, depth: number): Promise<void> {
  if (h.kind === 'map') {
    if (await readChunkedArray(w, h.count, path, depth)) return;
    await walkMap(w, h.count, path, depth + 1);
    return;
  }
  if (h.kind === 'ext' && (h.type === EXT_NDARRAY || h.type === EXT_NPSCALAR)) {
    w.tensors.push(await ndarray(w, h, path));
    return;
  }
  // Numbers, strings, lists, complex numbers (ext 2): no tensors.
  w.others++;
  await skipValue(w, h, depth);
}

/**
 * A map flax wrote for one array too large for msgpack (`_chunk_array_leaves_in_place`): listed as the
 * array `msgpack_restore` rebuilds. Returns false when the map is not one (and has not been consumed).
 * Peeking needs the first key: flax writes the marker first, so only that position is checked.
 */
async function readChunkedArray(w: Walk, count: number, path: string, depth: number): Promise<boolean> {
  if (count !== 3) return false;
  const mark = w.cur.pos;
  const first = await w.cur.head();
  const isChunked = first.kind === 'str' && first.length === CHUNKED.length && (await w.cur.text(first, MAX_KEY, 'a map key')) === CHUNKED;
  w.cur.pos = mark;
  if (!isChunked) return false;
  let shape: number[] | undefined;
  let dtype: string | undefined;
  for (let i = 0; i < count; i++) {
    const key = await keyText(w, await w.cur.head());
    const v = await w.cur.head();
    if (key === 'shape' && v.kind === 'array') shape = await intList(w, v.count);
    else if (key === 'chunks' && v.kind === 'map') {
      for (let j = 0; j < v.count; j++) {
        await keyText(w, await w.cur.head());
        const c = await w.cur.head();
        if (c.kind === 'ext' && c.type === EXT_NDARRAY) dtype ??= (await ndarray(w, c, path)).dtype;
        else await skipValue(w, c, depth + 1);
      }
    } else await skipValue(w, v, depth + 1);
  }
  if (!shape || !dtype) throw unreadable(w.cur.displayName(), `\`${path}\`: a chunked array without its shape or chunks`, mark);
  w.chunked++;
  w.tensors.push({ key: path, dtype, shape });
  return true;
}

/** Ext 1/3: `(shape, dtype name, buffer)` packed inside the ext's payload. */
async function ndarray(w: Walk, h: { start: number; length: number }, key: string): Promise<TensorInfo> {
  const cur = w.cur;
  const outer = cur.end;
  cur.end = h.start + h.length;
  try {
    const tuple = await cur.head();
    if (tuple.kind !== 'array' || tuple.count !== 3) throw unreadable(cur.displayName(), `\`${key}\`: an array ext that is not (shape, dtype, buffer)`, h.start);
    const shapeHead = await cur.head();
    if (shapeHead.kind !== 'array') throw unreadable(cur.displayName(), `\`${key}\`: the array's shape is not a list`, h.start);
    const shape = await intList(w, shapeHead.count);
    const dtHead = await cur.head();
    if (dtHead.kind !== 'str') throw unreadable(cur.displayName(), `\`${key}\`: the array's dtype is not a name`, h.start);
    const name = await cur.text(dtHead, 64, 'a dtype name');
    const buf = await cur.head();
    if (buf.kind !== 'bin') throw unreadable(cur.displayName(), `\`${key}\`: the array's data is not bytes`, h.start);
    cur.skip(buf.length);
    if (cur.pos !== cur.end) throw unreadable(cur.displayName(), `\`${key}\`: bytes left over in the array ext`, cur.pos);
    const dtype = DTYPES[name];
    const info: TensorInfo = { key, dtype: dtype ?? name, shape };
    const size = dtype ? DTYPE_SIZE[dtype] : undefined;
    if (size === undefined) w.problems.push(`\`${key}\`: dtype \`${name}\` has no safetensors name`);
    else if (numel(shape) * size !== buf.length) w.problems.push(`\`${key}\`: ${buf.length} bytes of data for ${numel(shape) * size} declared`);
    else info.location = { file: w.file, offset: buf.start, length: buf.length };
    return info;
  } finally {
    cur.end = outer;
  }
}

async function intList(w: Walk, count: number): Promise<number[]> {
  if (count > 64) throw unreadable(w.cur.displayName(), `a shape of ${count} dimensions`, w.cur.pos);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const d = await w.cur.head();
    if (d.kind !== 'int' || d.value < 0 || !Number.isSafeInteger(d.value)) throw unreadable(w.cur.displayName(), 'a shape dimension that is not a non-negative integer', w.cur.pos);
    out.push(d.value);
  }
  return out;
}

/** Steps over a value that is no array (and everything inside it), bounded by depth; payloads by offset. */
async function skipValue(w: Walk, h: Head, depth: number): Promise<void> {
  if (depth > MAX_DEPTH) throw unreadable(w.cur.displayName(), `values nest more than ${MAX_DEPTH} deep: not a model's parameters`, w.cur.pos);
  if (h.kind === 'str' || h.kind === 'bin' || h.kind === 'ext') { w.cur.skip(h.length); return; }
  if (h.kind === 'map' || h.kind === 'array') {
    const n = h.kind === 'map' ? h.count * 2 : h.count;
    for (let i = 0; i < n; i++) await skipValue(w, await w.cur.head(), depth + 1);
  }
}
