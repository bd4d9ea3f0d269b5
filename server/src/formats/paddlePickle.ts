/**
 * Reads a Paddle `.pdparams` / `.pdopt` file: one pickle (protocol 2–4) of `{structured name:
 * numpy array}`, with tensor bytes inline. The pickle VM skips every large payload, so the file is
 * walked, never loaded; arrays whose bytes sit raw in the file (protocol ≥ 3 BINBYTES) get their
 * byte range as location.
 *
 * Protocol 2 writes bytes as `_codecs.encode(<latin-1 text>, 'latin1')`, i.e. the array data is
 * stored as the UTF-8 encoding of one code point per byte. Such arrays get the text's range with
 * `encoding: 'latin1-from-utf8'` (the converter decodes it while streaming) — or a plain location
 * when the text is pure ASCII, whose UTF-8 is the bytes themselves.
 */
import { setOwn } from './table';
import { resolve as resolvePath } from 'node:path';
import type { ByteSource } from './byteSource';
import { numpyDtype } from './pickle/dtypes';
import { flattenTensors } from './pickle/flatten';
import { type PyBytes, type PyDict, type PyLazy, type PyNdarray, type PyValue, dictGet, hashKey, isObj, iterItems, newDict } from './pickle/values';
import { runPickle } from './pickle/vm';
import { internalError, ReaderError } from './readerError';
import { type CheckpointInfo, DTYPE_SIZE, type TensorInfo, numel } from './tensorInfo';
import { absoluteName } from './remote/remoteName';

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
    throw internalError(src.displayName, 'the Paddle checkpoint', e);
  }
}

async function read(src: ByteSource): Promise<CheckpointInfo> {
  const name = src.displayName;
  const { value, protocol } = await runPickle(src, 0, src.size, { requireProto: true, recordStrOffsets: true, paddleDenseTensors: true });
  const notes: string[] = [];
  let root: PyValue = value;
  let parameterNames: Record<string, string> | undefined;

  if (isObj(root) && root.kind === 'dict') {
    const table = dictGet(root, NAME_TABLE);
    if (table !== undefined) parameterNames = nameTable(table);
    root = withoutSpecialKeys(root, notes);
  }

  const flat = flattenTensors<PaddleLeaf>(name, root, classifyPaddle, src.size);
  notes.push(...flat.notes);
  const abs = absoluteName(src.path, resolvePath);
  const noLocation = { text: 0, bigEndian: 0, fortran: 0, other: [] as string[] };
  let textLocated = 0;
  const skipped: string[] = [];
  const tensors: TensorInfo[] = [];
  for (const leaf of flat.leaves) {
    const key = leaf.key || 'array';
    const { array, paramName } = leaf.value;
    const npType = array.dtype && !array.dtype.structured && !array.objects ? numpyDtype(array.dtype.code) : undefined;
    // Paddle has no uint16 tensors: it stores bfloat16 as numpy uint16, and paddle.load returns bfloat16.
    const dtype = npType === 'U16' ? 'BF16' : npType;
    if (!dtype) {
      skipped.push(`\`${key}\` (${array.objects ? 'object array' : `numpy dtype ${array.dtype?.code ?? '?'}`})`);
      continue;
    }
    if (paramName !== undefined && !Object.hasOwn((parameterNames ??= {}), key)) setOwn(parameterNames, key, paramName);
    const info: TensorInfo = { key, dtype, shape: array.shape };
    tensors.push(info);
    const data = array.data;
    if (!data) continue;
    if (array.dtype?.byteorder === '>') { noLocation.bigEndian++; continue; }
    const stored = storedRange(data);
    if (!stored) { noLocation.text++; continue; }
    const { offset, length } = stored;
    const expected = numel(array.shape) * (DTYPE_SIZE[dtype] ?? NaN);
    // Latin-1 text in UTF-8 takes one or two bytes per data byte; exactly one each means pure ASCII, i.e. raw.
    const encoded = stored.text && length !== expected;
    const fits = encoded ? length > expected && length <= 2 * expected && (data.kind === 'lazy' || data.data.length === expected) : length === expected;
    if (!fits) { noLocation.other.push(`\`${key}\` holds ${encoded ? `${length} bytes of latin-1 text` : `${length} bytes`}, expected ${expected}`); continue; }
    info.location = { file: abs, offset, length };
    if (encoded) { info.location.encoding = 'latin1-from-utf8'; textLocated++; }
    if (array.fortran && array.shape.length > 1) {
      noLocation.fortran++;
      info.location.stride = fortranStrides(array.shape);
    }
  }

  if (textLocated > 0) {
    notes.push(`pickle protocol ${protocol} stores array bytes as latin-1 text: ${textLocated} tensor${textLocated === 1 ? '\'s location is' : 's\' locations are'} UTF-8 text to decode, not raw bytes (re-saving with protocol 4, paddle.save's default, stores them raw)`);
  }
  if (noLocation.text > 0) {
    notes.push(`${noLocation.text} array${noLocation.text === 1 ? '\'s bytes are' : 's\' bytes are'} stored as text this reader cannot place: no byte location`);
  }
  if (noLocation.bigEndian > 0) notes.push(`${noLocation.bigEndian} array${noLocation.bigEndian === 1 ? ' is' : 's are'} big-endian: no byte location given`);
  if (noLocation.fortran > 0) notes.push(`${noLocation.fortran} array${noLocation.fortran === 1 ? ' is' : 's are'} in Fortran (column-major) order: ${noLocation.fortran === 1 ? 'its location carries' : 'their locations carry'} strides`);
  if (noLocation.other.length > 0) notes.push(`no byte location for ${noLocation.other.length} array${noLocation.other.length === 1 ? '' : 's'}: ${noLocation.other.slice(0, 3).join('; ')}`);
  if (skipped.length > 0) notes.push(`skipped ${skipped.length} array${skipped.length === 1 ? '' : 's'} with no tensor dtype: ${skipped.slice(0, 5).join(', ')}${skipped.length > 5 ? ', …' : ''}`);

  const info: CheckpointInfo = { file: name, format: 'paddle-pickle', framework: 'paddle', tensors, notes };
  if (parameterNames) info.parameterNames = parameterNames;
  return info;
}

/** Where an array's bytes lie in the file, and whether they are protocol 2's latin-1 text (UTF-8). */
function storedRange(data: PyBytes | PyLazy): { offset: number; length: number; text: boolean } | undefined {
  if (data.kind === 'lazy') {
    if (data.encoding === 'raw') return { offset: data.offset, length: data.length, text: false };
    if (data.encoding === 'latin1-from-utf8') return { offset: data.offset, length: data.length, text: true };
    return undefined;
  }
  if (data.offset !== undefined) return { offset: data.offset, length: data.data.length, text: false };
  if (data.utf8) return { ...data.utf8, text: true };
  return undefined;
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
  for (const [k, x] of v.entries.values()) if (typeof k === 'string' && typeof x === 'string') setOwn(out, k, x);
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
