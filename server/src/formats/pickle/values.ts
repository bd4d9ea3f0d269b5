/**
 * The plain-data values the pickle interpreter builds. Python objects are never created: containers
 * are JS arrays and maps, allow-listed constructors become tagged records (a torch tensor, a numpy
 * array), and payloads too big to copy stay in the file as `{offset, length}` references.
 */
import { createHash } from 'node:crypto';

export type PyValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | PyBytes
  | PyLazy
  | PyList
  | PyTuple
  | PyDict
  | PySet
  | PyGlobal
  | PyTensor
  | PyStorage
  | PyNdarray
  | PyNpDtype
  | PyOpaque;

export interface PyBytes {
  kind: 'bytes';
  data: Buffer;
  /** File offset of these exact bytes, when they were stored raw (BINBYTES and kin), not re-encoded. */
  offset?: number;
  /** Bytes protocol 2 wrote as `_codecs.encode(str, 'latin1')`: where that str's UTF-8 lies in the file. */
  utf8?: { offset: number; length: number };
}

/**
 * A string or bytes payload left in the file. `encoding` says how the stored bytes relate to the
 * value: `raw` (the bytes themselves), `utf8` (a str's UTF-8), or `latin1-from-utf8` (bytes that
 * protocol 2 wrote as `_codecs.encode(str, 'latin1')`: each UTF-8 code point is one byte).
 */
export interface PyLazy {
  kind: 'lazy';
  of: 'str' | 'bytes';
  offset: number;
  length: number;
  encoding: 'raw' | 'utf8' | 'latin1-from-utf8';
}

export interface PyList {
  kind: 'list';
  items: PyValue[];
}

export interface PyTuple {
  kind: 'tuple';
  items: PyValue[];
}

/** Insertion-ordered, like Python 3.7+ dicts; `entries` is keyed by `hashKey` of the Python key. */
export interface PyDict {
  kind: 'dict';
  entries: Map<string, [PyValue, PyValue]>;
  /** BUILD state on a dict (torch's `OrderedDict._metadata`), kept but not interpreted. */
  attrs?: PyValue;
}

export interface PySet {
  kind: 'set';
  items: PyValue[];
  frozen: boolean;
}

/** An allow-listed global, by its canonical dotted name (after Python 2 module renames). */
export interface PyGlobal {
  kind: 'global';
  name: string;
}

/** A torch storage as a persistent id names it; the bytes stay wherever the container keeps them. */
export interface PyStorage {
  kind: 'storage';
  key: string;
  /** safetensors dtype name, or `torch.<name>` for types safetensors lacks, or `U8` for untyped storage. */
  dtype: string;
  typeName: string;
  /** Elements of `dtype` (bytes for untyped storage). */
  numel: number;
  /** Legacy storage views: element offset into the root storage `key`. */
  viewOffset: number;
  device: string;
}

export interface PyTensor {
  kind: 'tensor';
  dtype: string;
  shape: number[];
  stride: number[];
  storageOffset: number;
  /** Null for meta tensors, which have a shape but no data. */
  storage: PyStorage | null;
}

export interface PyNpDtype {
  kind: 'npdtype';
  /** numpy's type string as pickled: `f4`, `i8`, `b1`, `U8`, `O8`, … */
  code: string;
  byteorder: string;
  structured: boolean;
}

export interface PyNdarray {
  kind: 'ndarray';
  shape: number[];
  dtype: PyNpDtype | null;
  fortran: boolean;
  data: PyBytes | PyLazy | null;
  /** True when the array's data was a list of objects (dtype `O`), not bytes. */
  objects: boolean;
}

/** The result of an allow-listed callable this interpreter does not model further (a complex, a qtensor). */
export interface PyOpaque {
  kind: 'object';
  type: string;
}

export function isObj(v: PyValue): v is Exclude<PyValue, null | boolean | number | bigint | string> {
  return typeof v === 'object' && v !== null;
}

export function kindOf(v: PyValue): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean': return 'bool';
    case 'number': return Number.isInteger(v) ? 'int' : 'float';
    case 'bigint': return 'int';
    case 'string': return 'str';
    default: return v.kind === 'global' ? `\`${v.name}\`` : v.kind;
  }
}

export function isTuple(v: PyValue): v is PyTuple {
  return isObj(v) && v.kind === 'tuple';
}

export function isDict(v: PyValue): v is PyDict {
  return isObj(v) && v.kind === 'dict';
}

export function newDict(): PyDict {
  return { kind: 'dict', entries: new Map() };
}

let identity = 0;
/** Each object's key, computed once: shared references are a DAG, and walking it as a tree is exponential. */
const objectKeys = new WeakMap<object, string>();
/** Longer keys are replaced by their digest, so a key built from keys stays small however deep it nests. */
const MAX_KEY = 64;
const MAX_TUPLE_DEPTH = 32;

/**
 * A Map key standing for Python's key equality where it is cheap to decide (numbers, strings,
 * bytes, tuples of those); anything else compares by identity, which only matters for files
 * that would not load in Python either. Linear in the distinct objects reached: a tuple's key is made
 * from its items' keys (memoised per object), and a long one is a SHA-1 of itself.
 */
export function hashKey(v: PyValue, depth = 0): string {
  if (v === null) return 'N';
  switch (typeof v) {
    case 'boolean': return v ? 'n:1' : 'n:0';
    case 'number': return `n:${v}`;
    case 'bigint': return `n:${v.toString()}`;
    case 'string': return `s:${v}`;
    default: {
      const known = objectKeys.get(v);
      if (known !== undefined) return known;
      let key: string;
      if (v.kind === 'bytes') key = short(`b:${v.data.toString('hex')}`);
      // Past MAX_TUPLE_DEPTH a tuple compares by identity: recursion stays bounded (TUPLE1 can nest a million deep).
      else if (v.kind === 'tuple' && depth < MAX_TUPLE_DEPTH) key = short(`t:[${v.items.map((x) => (typeof x === 'string' ? short(`s:${x}`) : hashKey(x, depth + 1))).join(',')}]`);
      else if (v.kind === 'global') key = `g:${v.name}`;
      else key = `#${++identity}`;
      objectKeys.set(v, key);
      return key;
    }
  }
}

function short(key: string): string {
  return key.length <= MAX_KEY ? key : `h:${createHash('sha1').update(key).digest('base64')}`;
}

export function dictSet(d: PyDict, k: PyValue, v: PyValue): void {
  d.entries.set(hashKey(k), [k, v]);
}

export function dictGet(d: PyDict, k: PyValue): PyValue | undefined {
  return d.entries.get(hashKey(k))?.[1];
}

/** A Python int as a JS number when it is exactly representable; otherwise undefined. */
export function asInt(v: PyValue): number | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(v);
  return undefined;
}

/** Items of a list/tuple/set, for the constructors that take any iterable. */
export function iterItems(v: PyValue): PyValue[] | undefined {
  if (!isObj(v)) return undefined;
  if (v.kind === 'list' || v.kind === 'tuple' || v.kind === 'set') return v.items;
  return undefined;
}
