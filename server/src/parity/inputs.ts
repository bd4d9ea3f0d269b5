/**
 * The inputs both models run on: `.npy` files, `random:SHAPE` requests, or values generated from the
 * graph's input types and shapes. Generation is deterministic in the seed and the input's name (adding
 * an input does not change the others), and symbolic dimensions take the size a given input bound them
 * to, else 1. Generated values by kind: floats ~N(0, 1); integer inputs named like a mask are ones,
 * `token_type_ids`/segment ids zeros, `position_ids` 0…n−1 along the last axis, other integers (token
 * ids) uniform in [0, 10); booleans true.
 */
import { HostDtype, HostTensor, allocate, castTensor, elementCount, floatToFp16 } from './hostTensor';
import { readNpyFile } from './npy';
import { ParityError } from './parityError';

export type InputSpec = { name: string; file: string } | { name: string; random: number[] };

/** An input as onnxruntime describes it: symbolic dimensions are strings. */
export interface InputMeta { name: string; type: string; shape: (number | string)[] }

export interface InputReport {
  name: string;
  dtype: string;
  shape: number[];
  source: 'file' | 'random' | 'generated';
  file?: string;
}

export function parseInputSpec(text: string): InputSpec {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ParityError(`--input ${text}: expected NAME=FILE.npy or NAME=random:SHAPE`);
  const name = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (value.startsWith('random:')) {
    const dims = value.slice(7).split(/[x,×]/).map((s) => s.trim());
    const shape = dims.map(Number);
    if (dims.length === 0 || dims.some((d) => !/^\d+$/.test(d)) || shape.some((d) => !Number.isSafeInteger(d))) {
      throw new ParityError(`--input ${text}: SHAPE is sizes separated by x, e.g. random:1x17x32`);
    }
    return { name, random: shape };
  }
  if (value === '') throw new ParityError(`--input ${text}: no file after =`);
  return { name, file: value };
}

const SUPPORTED: ReadonlySet<string> = new Set(['float32', 'float64', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool']);

export function buildInputs(metas: InputMeta[], specs: InputSpec[], seed: number): { feeds: Map<string, HostTensor>; report: InputReport[]; notes: string[] } {
  const names = new Set(metas.map((m) => m.name));
  const byName = new Map<string, InputSpec>();
  for (const s of specs) {
    if (!names.has(s.name)) throw new ParityError(`--input ${s.name}: the reference model has no input "${s.name}" (its inputs: ${[...names].join(', ') || 'none'})`);
    if (byName.has(s.name)) throw new ParityError(`--input ${s.name} is given twice`);
    byName.set(s.name, s);
  }
  const feeds = new Map<string, HostTensor>();
  const report: InputReport[] = [];
  const notes: string[] = [];
  const bound = new Map<string, number>();
  const bind = (meta: InputMeta, dims: number[], what: string): void => {
    if (meta.shape.length !== dims.length) throw new ParityError(`${what}: shape [${dims.join(', ')}] has ${dims.length} dimensions, input "${meta.name}" has ${meta.shape.length} (${fmtMeta(meta.shape)})`);
    meta.shape.forEach((d, i) => {
      if (typeof d === 'number' && d >= 0 && d !== dims[i]) throw new ParityError(`${what}: dimension ${i} is ${dims[i]}, input "${meta.name}" needs ${d} (${fmtMeta(meta.shape)})`);
      if (typeof d === 'string' && d !== '' && d !== '?') {
        const prev = bound.get(d);
        if (prev !== undefined && prev !== dims[i]) notes.push(`dimension "${d}" is ${prev} in one input and ${dims[i]} in "${meta.name}"`);
        else bound.set(d, dims[i]);
      }
    });
  };
  // Given inputs first: they bind the symbolic dimensions the generated ones then follow.
  for (const meta of metas) {
    const s = byName.get(meta.name);
    if (!s) continue;
    const dtype = hostType(meta);
    if ('file' in s) {
      let t = readNpyFile(s.file);
      bind(meta, t.dims, s.file);
      if (t.dtype !== dtype) {
        notes.push(`${s.file} holds ${t.dtype}; converted to ${dtype} for input "${meta.name}"`);
        t = castTensor(t, dtype);
      }
      feeds.set(meta.name, t);
      report.push({ name: meta.name, dtype, shape: t.dims, source: 'file', file: s.file });
    } else {
      bind(meta, s.random, `--input ${meta.name}=random:${s.random.join('x')}`);
      feeds.set(meta.name, generate(meta.name, dtype, s.random, seed));
      report.push({ name: meta.name, dtype, shape: s.random, source: 'random' });
    }
  }
  for (const meta of metas) {
    if (byName.has(meta.name)) continue;
    const dtype = hostType(meta);
    const unbound: string[] = [];
    const dims = meta.shape.map((d) => {
      if (typeof d === 'number' && d >= 0) return d;
      const b = bound.get(String(d));
      if (b === undefined) unbound.push(String(d));
      return b ?? 1;
    });
    if (unbound.length) notes.push(`input "${meta.name}": symbolic dimension${unbound.length > 1 ? 's' : ''} ${unbound.map((d) => `"${d}"`).join(', ')} set to 1; give --input ${meta.name}=random:SHAPE for other sizes (a sequence of one hides attention faults)`);
    feeds.set(meta.name, generate(meta.name, dtype, dims, seed));
    report.push({ name: meta.name, dtype, shape: dims, source: 'generated' });
  }
  // Keep the graph's input order in the report.
  const order = new Map(metas.map((m, i) => [m.name, i]));
  report.sort((a, b) => order.get(a.name)! - order.get(b.name)!);
  return { feeds, report, notes };
}

function fmtMeta(shape: (number | string)[]): string {
  return `[${shape.join(', ')}]`;
}

function hostType(meta: InputMeta): HostDtype {
  if (!SUPPORTED.has(meta.type)) throw new ParityError(`input "${meta.name}" has type ${meta.type}, which the parity runner cannot feed`);
  return meta.type as HostDtype;
}

/** mulberry32: small, fast and the same on every platform. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hash(seed: number, name: string): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), 16777619) >>> 0;
  return h;
}

export function generate(name: string, dtype: HostDtype, dims: number[], seed: number): HostTensor {
  const n = elementCount(dims);
  const rand = prng(hash(seed, name));
  const data = allocate(dtype, n);
  const lower = name.toLowerCase();
  if (dtype === 'float32' || dtype === 'float64' || dtype === 'float16') {
    for (let i = 0; i < n; i += 2) {
      // Box–Muller: two normals per pair of uniforms.
      const u = 1 - rand();
      const v = rand();
      const r = Math.sqrt(-2 * Math.log(u));
      const pair = [r * Math.cos(2 * Math.PI * v), r * Math.sin(2 * Math.PI * v)];
      for (let k = 0; k < 2 && i + k < n; k++) {
        if (dtype === 'float16') (data as Uint16Array)[i + k] = floatToFp16(pair[k]);
        else (data as Float64Array)[i + k] = pair[k];
      }
    }
  } else if (dtype === 'bool') {
    (data as Uint8Array).fill(1);
  } else {
    const last = dims.length ? dims[dims.length - 1] : 1;
    for (let i = 0; i < n; i++) {
      let v: number;
      if (/mask/.test(lower)) v = 1;
      else if (/token_type|segment/.test(lower)) v = 0;
      else if (/position/.test(lower)) v = i % Math.max(1, last);
      else v = Math.floor(rand() * 10);
      if (data instanceof BigInt64Array) data[i] = BigInt(v);
      else (data as Int32Array)[i] = v;
    }
  }
  return { dtype, dims, data };
}
