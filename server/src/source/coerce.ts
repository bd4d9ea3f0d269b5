/** Reading interpreter values as the things layers and factories need: sizes, shapes, flags, dtypes. */
import { table } from '../formats/table';
import { Dim, symDim } from './dims';
import { CallArgs, Value } from './values';

export function asDim(v: Value | undefined): Dim | undefined {
  if (!v) return undefined;
  switch (v.t) {
    case 'num': return v.d;
    case 'bool': return v.v ? 1 : 0;
    case 'sym': return symDim(v.name);
    default: return undefined;
  }
}

/** An int or a tuple/list of ints (`kernel_size=3`, `normalized_shape=(768,)`), expanded to `rank` where given. */
export function asDims(v: Value | undefined, rank?: number): Dim[] | undefined {
  if (!v) return undefined;
  if (v.t === 'list') {
    const ds = v.items.map(asDim);
    return ds.every((d) => d !== undefined) ? (ds as Dim[]) : undefined;
  }
  const d = asDim(v);
  if (d === undefined) return undefined;
  return Array.from({ length: rank ?? 1 }, () => d);
}

/** Python truthiness; undefined when the value is not known here. */
export function truthy(v: Value | undefined): boolean | undefined {
  if (!v) return undefined;
  switch (v.t) {
    case 'bool': return v.v;
    case 'num': return typeof v.d === 'number' ? v.d !== 0 : undefined;
    case 'none': return false;
    case 'str': return v.v.length > 0;
    case 'list': return (v.count !== undefined && typeof v.count !== 'number') || (v.partial && !v.items.length) ? undefined : v.items.length > 0;
    case 'dict': return (v.count !== undefined && typeof v.count !== 'number') || (v.partial && !v.entries.size) ? undefined : v.entries.size > 0;
    case 'sym': return v.dflt ? truthy(v.dflt) : undefined;
    case 'unknown': return undefined;
    case 'alt': { const a = truthy(v.a); return a === truthy(v.b) ? a : undefined; }
    default: return true;
  }
}

const DTYPE_NAMES: Record<string, string> = table({
  float32: 'F32', float: 'F32', float16: 'F16', half: 'F16', bfloat16: 'BF16', float64: 'F64', double: 'F64',
  int64: 'I64', long: 'I64', int32: 'I32', int: 'I32', int16: 'I16', short: 'I16', int8: 'I8', uint8: 'U8',
  bool: 'BOOL', complex64: 'C64', complex128: 'C128',
});

/** `torch.float16`, `paddle.float32`, `'float32'` → safetensors' names. */
export function dtypeName(name: string): string | undefined {
  return DTYPE_NAMES[name.replace(/^(torch|paddle|np|numpy)\./, '')];
}

export function asDtype(v: Value | undefined): string | undefined {
  if (!v) return undefined;
  if (v.t === 'dtype') return v.dtype;
  if (v.t === 'str') return dtypeName(v.v);
  if (v.t === 'ref') return dtypeName(v.q);
  return undefined;
}

/** Arguments by parameter name, the way Python binds a call: positional first, then keywords. */
export function bindArgs(args: CallArgs, names: readonly string[]): Map<string, Value> {
  const out = new Map<string, Value>();
  args.pos.forEach((v, i) => { if (i < names.length) out.set(names[i], v); });
  for (const [k, v] of args.kw) out.set(k, v);
  return out;
}
