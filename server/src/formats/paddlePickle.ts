/**
 * Reads a Paddle `.pdparams` / `.pdopt` file: one pickle (protocol 2–4) of `{structured name:
 * numpy array}`, with tensor bytes inline. The pickle VM skips every large payload, so the file is
 * walked, never loaded; arrays whose bytes sit raw in the file (protocol ≥ 3 BINBYTES) get their
 * byte range as location.
 *
 * Protocol 2 writes bytes as `_codecs.encode(<latin-1 text>, 'latin1')`, i.e. the array data is
 * stored as the UTF-8 encoding of one code point per byte. That is not a raw byte range, and
 * TensorLocation has no way to say "decode first", so such arrays get no location and a note says
 * why (re-saving with protocol 4, Paddle's default, fixes it).
 */
import { resolve as resolvePath } from 'node:path';
import type { ByteSource } from './byteSource';
import { numpyDtype } from './pickle/dtypes';
import { flattenTensors } from './pickle/flatten';
import { type PyDict, type PyNdarray, type PyValue, dictGet, hashKey, isObj, iterItems, newDict } from './pickle/values';
import { runPickle } from './pickle/vm';
import { ReaderError, unreadable } from './readerError';
import { type CheckpointInfo, DTYPE_SIZE, type TensorInfo, numel } from './tensorInfo';

const NAME_TABLE = 'StructuredToParameterName@@';
const BIG_PARAMS = 'UnpackBigParamInfor@@';

interface PaddleLeaf {
  array: PyNdarray;
  /** The internal parameter name, when the value was a `(name, ndarray)` tuple. */
  paramName?: string;
}

export async function readPaddlePickle(src: ByteSource): Promise<CheckpointInfo> {
  try {
    return await read(src);
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    throw unreadable(src.displayName, `internal error while reading the Paddle checkpoint: ${e instanceof Error ? e.message : String(e)}`);
  }
}

async function read(src: ByteSource): Promise<CheckpointInfo> {
  const name = src.displayName;
  const { value, protocol } = await runPickle(src, 0, src.size, { requireProto: true });
  const notes: string[] = [];
  let root: PyValue = value;
  let parameterNames: Record<string, string> | undefined;

  if (isObj(root) && root.kind === 'dict') {
    const table = dictGet(root, NAME_TABLE);
    if (table !== undefined) parameterNames = nameTable(table);
    root = withoutSpecialKeys(root, notes);
  }

  const flat = flattenTensors<PaddleLeaf>(name, root, classifyPaddle);
  notes.push(...flat.notes);
  const abs = resolvePath(src.path);
  const noLocation = { text: 0, bigEndian: 0, fortran: 0, other: [] as string[] };
  const skipped: string[] = [];
  const tensors: TensorInfo[] = [];
  for (const leaf of flat.leaves) {
    const key = leaf.key || 'array';
    const { array, paramName } = leaf.value;
    const dtype = array.dtype && !array.dtype.structured && !array.objects ? numpyDtype(array.dtype.code) : undefined;
    if (!dtype) {
      skipped.push(`\`${key}\` (${array.objects ? 'object array' : `numpy dtype ${array.dtype?.code ?? '?'}`})`);
      continue;
    }
    if (paramName !== undefined) (parameterNames ??= {})[key] ??= paramName;
    const info: TensorInfo = { key, dtype, shape: array.shape };
    tensors.push(info);
    const data = array.data;
    if (!data) continue;
    if (array.dtype?.byteorder === '>') { noLocation.bigEndian++; continue; }
    const offset = data.kind === 'lazy' ? (data.encoding === 'raw' ? data.offset : undefined) : data.offset;
    if (offset === undefined) { noLocation.text++; continue; }
    const length = data.kind === 'lazy' ? data.length : data.data.length;
    const expected = numel(array.shape) * (DTYPE_SIZE[dtype] ?? NaN);
    if (length !== expected) { noLocation.other.push(`\`${key}\` holds ${length} bytes, expected ${expected}`); continue; }
    info.location = { file: abs, offset, length };
    if (array.fortran && array.shape.length > 1) {
      noLocation.fortran++;
      info.location.stride = fortranStrides(array.shape);
    }
  }

  if (noLocation.text > 0) {
    notes.push(`pickle protocol ${protocol} stores array bytes as latin-1 text, so ${noLocation.text} tensor${noLocation.text === 1 ? ' has' : 's have'} no byte location; re-save with protocol 4 (paddle.save's default) to get them`);
  }
  if (noLocation.bigEndian > 0) notes.push(`${noLocation.bigEndian} array${noLocation.bigEndian === 1 ? ' is' : 's are'} big-endian: no byte location given`);
  if (noLocation.fortran > 0) notes.push(`${noLocation.fortran} array${noLocation.fortran === 1 ? ' is' : 's are'} in Fortran (column-major) order: ${noLocation.fortran === 1 ? 'its location carries' : 'their locations carry'} strides`);
  if (noLocation.other.length > 0) notes.push(`no byte location for ${noLocation.other.length} array${noLocation.other.length === 1 ? '' : 's'}: ${noLocation.other.slice(0, 3).join('; ')}`);
  if (skipped.length > 0) notes.push(`skipped ${skipped.length} array${skipped.length === 1 ? '' : 's'} with no tensor dtype: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);
  if (tensors.some((t) => t.dtype === 'U16')) notes.push('U16 arrays may be bfloat16: Paddle saves bfloat16 parameters as uint16');

  const info: CheckpointInfo = { file: name, format: 'paddle-pickle', framework: 'paddle', tensors, notes };
  if (parameterNames) info.parameterNames = parameterNames;
  return info;
}

function classifyPaddle(v: PyValue): PaddleLeaf | 'descend' | 'ignore' {
  if (!isObj(v)) return 'ignore';
  if (v.kind === 'ndarray') return { array: v };
  if (v.kind === 'tuple' && v.items.length === 2 && typeof v.items[0] === 'string') {
    const a = v.items[1];
    if (isObj(a) && a.kind === 'ndarray') return { array: a, paramName: v.items[0] };
  }
  return v.kind === 'dict' || v.kind === 'list' || v.kind === 'tuple' ? 'descend' : 'ignore';
}

function nameTable(v: PyValue): Record<string, string> | undefined {
  if (!isObj(v) || v.kind !== 'dict') return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of v.entries.values()) if (typeof k === 'string' && typeof x === 'string') out[k] = x;
  return out;
}

/**
 * Drops the name table and, where Paddle split arrays over 2^30 bytes into `key@@.N` slices
 * (protocols 2–3), replaces the slices by one array of the original shape at the first slice's
 * place. The slices are separate payloads, so the whole has no single byte range.
 */
function withoutSpecialKeys(d: PyDict, notes: string[]): PyDict {
  const out = newDict();
  const big = dictGet(d, BIG_PARAMS) ?? null;
  const sliceOwner = new Map<string, string>();
  const merged = new Map<string, PyNdarray>();
  if (isObj(big) && big.kind === 'dict') {
    for (const [k, info] of big.entries.values()) {
      if (typeof k !== 'string' || !isObj(info) || info.kind !== 'dict') continue;
      const slices = iterItems(dictGet(info, 'slices') ?? null)?.filter((s): s is string => typeof s === 'string') ?? [];
      const shape = iterItems(dictGet(info, 'OriginShape') ?? null)?.map((x) => (typeof x === 'number' ? x : NaN));
      const first = slices.length > 0 ? dictGet(d, slices[0]) ?? null : null;
      if (!shape || shape.some((x) => !Number.isSafeInteger(x) || x < 0) || !isObj(first) || first.kind !== 'ndarray') continue;
      merged.set(k, { kind: 'ndarray', shape, dtype: first.dtype, fortran: false, data: null, objects: false });
      for (const s of slices) sliceOwner.set(s, k);
    }
    if (merged.size > 0) notes.push(`${merged.size} array${merged.size === 1 ? ' was' : 's were'} saved in slices (\`UnpackBigParamInfor@@\`) and ${merged.size === 1 ? 'is' : 'are'} listed whole, without a byte location`);
  }
  const placed = new Set<string>();
  for (const [h, [k, v]] of d.entries) {
    if (k === NAME_TABLE || k === BIG_PARAMS) continue;
    const owner = typeof k === 'string' ? sliceOwner.get(k) : undefined;
    if (owner !== undefined) {
      if (!placed.has(owner)) {
        placed.add(owner);
        out.entries.set(hashKey(owner), [owner, merged.get(owner) as PyNdarray]);
      }
      continue;
    }
    out.entries.set(h, [k, v]);
  }
  return out;
}

function fortranStrides(shape: readonly number[]): number[] {
  const stride: number[] = [];
  let s = 1;
  for (const d of shape) { stride.push(s); s *= d; }
  return stride;
}
