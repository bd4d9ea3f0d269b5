/**
 * A TF.js `model.json` (tfjs-core `io/types.ts` ModelJSON: `modelTopology`, `weightsManifest`, `format`,
 * `generatedBy`, `convertedBy`, …) or a weights-only manifest (a top-level array of groups), checked
 * field by field. A group is `{paths: [shard file…], weights: [{name, shape, dtype, quantization?}…]}`;
 * its weights are stored back to back, in manifest order, across its shards taken in order
 * (tfjs-core `io/weights_loader.ts`). Pure: no I/O. Every violation is one reason naming what is wrong.
 */
import { numel } from '../tensorInfo';
import { table } from '../table';

/** tfjs-core's weight dtypes → the names Tensor Port lists (safetensors'). `string` has no fixed size. */
export const TFJS_DTYPES: Readonly<Record<string, string>> = table({
  float32: 'F32', int32: 'I32', bool: 'BOOL', complex64: 'C64',
});

/** The dtypes quantized weights are stored as, and their element size (tfjs-core `DTYPE_VALUE_SIZE_MAP`). */
export const TFJS_QUANTIZED: Readonly<Record<string, { dtype: 'U8' | 'U16' | 'F16'; size: number }>> = table({
  uint8: { dtype: 'U8', size: 1 }, uint16: { dtype: 'U16', size: 2 }, float16: { dtype: 'F16', size: 2 },
});

export interface ManifestWeight {
  name: string;
  shape: number[];
  /** Tensor Port's dtype name of what loading yields (`F32` for a dequantized weight). */
  dtype: string;
  /** Stored quantized: the stored dtype and, for U8/U16, `value = stored × scale + min`. */
  quantization?: { dtype: 'U8' | 'U16' | 'F16'; scale?: number; min?: number };
  /** Bytes this weight takes in the group's data. */
  bytes: number;
}

export interface ManifestGroup { paths: string[]; weights: ManifestWeight[] }

export interface Manifest {
  groups: ManifestGroup[];
  /** The model.json's other top-level fields (`format`, `generatedBy`, …), absent for a weights-only manifest. */
  fields?: Record<string, unknown>;
}

/** Dimensions past this are no model's (tfjs itself stops at rank 6 for most ops). */
const MAX_RANK = 32;

/** Thrown with the reason; the reader turns it into a ReaderError naming the file. */
export class ManifestProblem extends Error {}

const fail = (why: string): never => { throw new ManifestProblem(why); };
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The manifest of a parsed model.json, or a ManifestProblem. `undefined` when the JSON is no TF.js model at all. */
export function parseManifest(doc: unknown): Manifest | undefined {
  let groups: unknown;
  let fields: Record<string, unknown> | undefined;
  if (Array.isArray(doc)) {
    groups = doc;
  } else if (isObject(doc) && Object.hasOwn(doc, 'weightsManifest')) {
    groups = doc.weightsManifest;
    fields = doc;
    if (!Array.isArray(groups)) fail('"weightsManifest" is not a list of groups');
  } else {
    return undefined;
  }
  const list = groups as unknown[];
  if (fields === undefined && !list.every((g) => isObject(g) && Object.hasOwn(g, 'paths') && Object.hasOwn(g, 'weights'))) return undefined;
  const names = new Set<string>();
  const shards = new Set<string>();
  return { groups: list.map((g, i) => parseGroup(g, i, names, shards)), ...(fields ? { fields } : {}) };
}

function parseGroup(g: unknown, i: number, names: Set<string>, shards: Set<string>): ManifestGroup {
  const at = `weightsManifest[${i}]`;
  if (!isObject(g)) return fail(`${at} is not an object`);
  if (!Array.isArray(g.paths)) return fail(`${at}.paths is not a list of shard files`);
  if (!Array.isArray(g.weights)) return fail(`${at}.weights is not a list`);
  const paths = g.paths.map((p, k) => {
    if (typeof p !== 'string') return fail(`${at}.paths[${k}] is not a file name`);
    const why = outsideFolder(p);
    if (why) fail(`${at} names shard "${p}", ${why}`);
    if (shards.has(p)) fail(`shard "${p}" is named twice`);
    shards.add(p);
    return p;
  });
  const weights = g.weights.map((w, k) => parseWeight(w, `${at}.weights[${k}]`, names));
  return { paths, weights };
}

/** Why a shard path does not name a file in the model.json's own folder, or undefined when it does. */
export function outsideFolder(p: string): string | undefined {
  if (p === '' || p.includes('\0')) return 'which is no file name';
  if (/^[a-zA-Z][a-zA-Z0-9+.-]*:/.test(p)) return 'a URL or drive path (shards are read from the model.json\'s folder only)';
  if (p.startsWith('/') || p.startsWith('\\')) return 'an absolute path outside the model.json\'s folder';
  if (p.split(/[\\/]/).includes('..')) return 'outside the model.json\'s folder';
  return undefined;
}

function parseWeight(w: unknown, at: string, names: Set<string>): ManifestWeight {
  if (!isObject(w)) return fail(`${at} is not an object`);
  const name = w.name;
  if (typeof name !== 'string') return fail(`${at} has no "name"`);
  const what = `weight "${name}"`;
  if (names.has(name)) fail(`${what} is listed twice (tfjs would load only one of them)`);
  names.add(name);
  const shape = parseShape(w.shape, what);
  if (typeof w.dtype !== 'string') return fail(`${what} has no "dtype"`);
  if (w.dtype === 'string') return fail(`${what} is a string tensor: its bytes have variable length, so where it and every later weight lie cannot be known without reading the shards`);
  const dtype = TFJS_DTYPES[w.dtype];
  if (dtype === undefined) return fail(`${what} has unknown dtype "${w.dtype}" (tfjs has float32, int32, bool, complex64, string)`);
  const n = numel(shape);
  if (w.quantization === undefined) return { name, shape, dtype, bytes: checkedBytes(n, dtype === 'C64' ? 8 : dtype === 'BOOL' ? 1 : 4, what) };
  const q = w.quantization;
  if (!isObject(q) || typeof q.dtype !== 'string') return fail(`${what} has a "quantization" without a "dtype"`);
  const stored = TFJS_QUANTIZED[q.dtype];
  if (!stored) return fail(`${what} has unknown quantization dtype "${q.dtype}" (tfjs has uint8, uint16, float16)`);
  if (stored.dtype === 'F16') {
    if (dtype !== 'F32') fail(`${what} is ${w.dtype} quantized to float16, which tfjs allows for float32 only`);
    return { name, shape, dtype, quantization: { dtype: 'F16' }, bytes: checkedBytes(n, 2, what) };
  }
  if (dtype !== 'F32' && dtype !== 'I32') fail(`${what} is ${w.dtype} quantized to ${q.dtype}, which tfjs allows for float32 and int32 only`);
  const scale = finite(q.scale, `${what}'s quantization scale`);
  const min = finite(q.min, `${what}'s quantization min`);
  return { name, shape, dtype, quantization: { dtype: stored.dtype, scale, min }, bytes: checkedBytes(n, stored.size, what) };
}

function parseShape(shape: unknown, what: string): number[] {
  if (!Array.isArray(shape)) return fail(`${what} has no "shape" list`);
  if (shape.length > MAX_RANK) fail(`${what} has ${shape.length} dimensions (more than ${MAX_RANK})`);
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) fail(`${what} has a dimension ${typeof d === 'number' ? String(d) : JSON.stringify(d)?.slice(0, 40) ?? typeof d} that is not a non-negative integer`);
  }
  return shape as number[];
}

function checkedBytes(n: number, size: number, what: string): number {
  const bytes = n * size;
  if (!Number.isSafeInteger(bytes)) fail(`${what} has ${n} elements, more than any file can hold`);
  return bytes;
}

function finite(v: unknown, what: string): number {
  if (typeof v !== 'number') return fail(`${what} is missing (tfjs needs scale and min for uint8/uint16)`);
  if (!Number.isFinite(v)) fail(`${what} is not a finite number (${v})`);
  return v;
}
