/**
 * Tensors as inference sees them: a shape (dimensions may be symbolic) and a dtype, from the torch and
 * paddle factories (`torch.zeros(1, 1, d)`, `paddle.full(shape=[…])`, `torch.arange(n)`) and the
 * methods that reshape them before they become a parameter or buffer (`.expand((1, -1))`,
 * `.unsqueeze(0)`, `.view(1, 1, n, n)`, `.to(torch.float16)`).
 */
import { table } from '../formats/table';
import { asDim, asDims, asDtype, bindArgs } from './coerce';
import { Dim, opDim } from './dims';
import { CallArgs, Framework, Site, TensorVal, Value, num } from './values';

const mk = (shape: Dim[] | undefined, dtype: string, site: Site): TensorVal => ({ t: 'tensor', shape, dtype, param: false, site });

/** torch takes sizes as varargs or one sequence (`zeros(1, 2)`, `zeros((1, 2))`, `size=`); paddle as `shape`. */
function sizes(args: CallArgs, fw: Framework): Dim[] | undefined {
  const kw = args.kw.get(fw === 'paddle' ? 'shape' : 'size') ?? args.kw.get('shape') ?? args.kw.get('size');
  if (kw) return asDims(kw);
  if (args.pos.length === 1 && args.pos[0].t === 'list') return asDims(args.pos[0]);
  const ds = args.pos.map(asDim);
  return ds.length > 0 && ds.every((d) => d !== undefined) ? (ds as Dim[]) : undefined;
}

function literalShape(v: Value): { shape: Dim[]; dtype: string } | undefined {
  if (v.t === 'list') {
    if (v.items.length === 0) return { shape: [0], dtype: 'F32' };
    const inner = literalShape(v.items[0]);
    return inner ? { shape: [v.items.length, ...inner.shape], dtype: inner.dtype } : undefined;
  }
  if (v.t === 'num') return { shape: [], dtype: v.float || (typeof v.d === 'number' && !Number.isInteger(v.d)) ? 'F32' : 'I64' };
  if (v.t === 'bool') return { shape: [], dtype: 'BOOL' };
  return undefined;
}

const isFloat = (v: Value | undefined) => v?.t === 'num' && (v.float === true || (typeof v.d === 'number' && !Number.isInteger(v.d)));

/** `torch.NAME(…)` / `paddle.NAME(…)` that make a tensor; undefined for anything else. */
export function tensorFactory(fw: Framework, name: string, args: CallArgs, site: Site): Value | undefined {
  const dtypeArg = asDtype(args.kw.get('dtype'));
  switch (name) {
    // `torch.Tensor(n)` / `torch.FloatTensor(a, b)`: the legacy constructors take sizes, like empty.
    case 'Tensor': case 'FloatTensor':
      if (fw !== 'torch' || !args.pos.length || args.pos.some((a) => a.t !== 'num' && a.t !== 'sym')) return undefined;
      return mk(sizes(args, fw), 'F32', site);
    case 'zeros': case 'ones': case 'empty': case 'randn': case 'rand': {
      // paddle.zeros(shape, dtype): a second positional is the dtype.
      const dt = dtypeArg ?? (fw === 'paddle' ? asDtype(args.pos[1]) : undefined);
      const a = fw === 'paddle' ? { pos: args.pos.slice(0, 1), kw: args.kw } : args;
      return mk(sizes(a, fw), dt ?? 'F32', site);
    }
    case 'full': {
      const a = bindArgs(args, fw === 'paddle' ? ['shape', 'fill_value', 'dtype'] : ['size', 'fill_value']);
      const fill = a.get('fill_value');
      const inferred = fw === 'torch' && fill?.t === 'num' && !isFloat(fill) ? 'I64' : fill?.t === 'bool' ? 'BOOL' : 'F32';
      return mk(asDims(a.get('size') ?? a.get('shape')), asDtype(a.get('dtype')) ?? inferred, site);
    }
    case 'zeros_like': case 'ones_like': case 'empty_like': case 'full_like': case 'randn_like': case 'rand_like': {
      const src = args.pos[0];
      return src?.t === 'tensor' ? mk(src.shape, dtypeArg ?? src.dtype, site) : undefined;
    }
    case 'arange': {
      const a = bindArgs(args, fw === 'paddle' ? ['start', 'end', 'step', 'dtype'] : ['start', 'end', 'step']);
      const start = a.get('end') ? asDim(a.get('start')) : 0;
      const end = asDim(a.get('end') ?? a.get('start'));
      const step = asDim(a.get('step')) ?? 1;
      const floaty = [a.get('start'), a.get('end'), a.get('step')].some(isFloat);
      // ceil((end - start) / step) elements, as `range` has; float bounds are not counted here.
      const n = start !== undefined && end !== undefined && !floaty ? (step === 1 ? opDim('-', end, start) : opDim('//', opDim('+', opDim('-', end, start), opDim('-', step, 1)), step)) : undefined;
      return mk(n !== undefined ? [n] : undefined, dtypeArg ?? asDtype(a.get('dtype')) ?? (floaty ? 'F32' : 'I64'), site);
    }
    case 'linspace': {
      const steps = asDim(args.kw.get('steps') ?? args.kw.get('num') ?? args.pos[2]);
      return mk(steps !== undefined ? [steps] : undefined, dtypeArg ?? 'F32', site);
    }
    case 'eye': {
      const n = asDim(args.pos[0] ?? args.kw.get('n') ?? args.kw.get('num_rows'));
      const m = asDim(args.pos[1] ?? args.kw.get('m') ?? args.kw.get('num_columns')) ?? n;
      return mk(n !== undefined && m !== undefined ? [n, m] : undefined, dtypeArg ?? 'F32', site);
    }
    case 'stack': {
      // torch.stack(ts, dim=0) / paddle.stack(ts, axis=0): a new dimension of len(ts).
      const list = args.pos[0];
      const axis = asDim(args.pos[1] ?? args.kw.get('dim') ?? args.kw.get('axis')) ?? 0;
      if (list?.t !== 'list' || !list.items.length || typeof axis !== 'number') return undefined;
      const first = list.items[0];
      if (first.t !== 'tensor' || !first.shape) return mk(undefined, 'F32', site);
      const out = [...first.shape];
      out.splice(axis < 0 ? axis + out.length + 1 : axis, 0, list.items.length);
      return mk(out, first.dtype, site);
    }
    case 'meshgrid': {
      // meshgrid([a, b]) or meshgrid(a, b) of 1-d tensors: each result has every input's length, in order ("ij").
      const ins = args.pos.length === 1 && args.pos[0].t === 'list' ? args.pos[0].items : args.pos;
      const lens = ins.map((v) => (v.t === 'tensor' && v.shape?.length === 1 ? v.shape[0] : undefined));
      if (!lens.length || lens.some((d) => d === undefined)) return undefined;
      const dtype = ins[0].t === 'tensor' ? ins[0].dtype : 'I64';
      // indexing="xy" (numpy's and Paddle's default is "ij" in torch and paddle alike) swaps the first two.
      const xy = args.kw.get('indexing')?.t === 'str' && (args.kw.get('indexing') as { v: string }).v === 'xy' && lens.length >= 2;
      const out = xy ? [lens[1], lens[0], ...lens.slice(2)] : lens;
      return { t: 'list', items: ins.map(() => mk(out as Dim[], dtype, site)), tuple: true };
    }
    case 'cat': case 'concat': case 'concatenate': {
      // torch.cat(ts, dim=0) / paddle.concat(x, axis=0): the sizes along the axis add up.
      const list = args.pos[0] ?? args.kw.get('tensors') ?? args.kw.get('x');
      const axis = asDim(args.pos[1] ?? args.kw.get('dim') ?? args.kw.get('axis')) ?? 0;
      if (list?.t !== 'list' || !list.items.length || typeof axis !== 'number') return undefined;
      const ts = list.items.filter((v): v is TensorVal => v.t === 'tensor');
      if (ts.length !== list.items.length) return undefined;
      const rank = ts[0].shape?.length;
      if (rank === undefined || ts.some((x) => x.shape?.length !== rank)) return mk(undefined, ts[0].dtype, site);
      const i = axis < 0 ? axis + rank : axis;
      const out = [...ts[0].shape!];
      out[i] = ts.slice(1).reduce<Dim>((acc, x) => opDim('+', acc, x.shape![i]), out[i]);
      return mk(out, promoted(ts), site);
    }
    case 'outer': case 'ger': {
      const [x, y] = args.pos;
      if (x?.t !== 'tensor' || y?.t !== 'tensor') return undefined;
      return mk(x.shape?.length === 1 && y.shape?.length === 1 ? [x.shape[0], y.shape[0]] : undefined, promoted([x, y]), site);
    }
    case 'flatten': {
      const src = args.pos[0];
      return src?.t === 'tensor' ? tensorMethod(src, 'flatten', { pos: args.pos.slice(1), kw: args.kw }) : undefined;
    }
    case 'tensor': case 'to_tensor': case 'as_tensor': {
      // A scalar, known or symbolic (`torch.tensor(config.logit_scale_init_value)`), is 0-d.
      const a0 = args.pos[0];
      const lit = a0?.t === 'num' || a0?.t === 'sym' ? { shape: [], dtype: a0.t === 'num' && !a0.float && typeof a0.d === 'number' && Number.isInteger(a0.d) ? 'I64' : 'F32' } : a0 ? literalShape(a0) : undefined;
      return mk(lit?.shape, dtypeArg ?? asDtype(args.pos[1]) ?? lit?.dtype ?? 'F32', site);
    }
    case 'tril': case 'triu': case 'clone': {
      const src = args.pos[0];
      return src?.t === 'tensor' ? mk(src.shape, src.dtype, site) : undefined;
    }
    default: {
      // torch.log2(x), torch.clamp(x, min=…), torch.cumsum(x, dim): the method of the same name on x.
      const src = args.pos[0];
      if (src?.t !== 'tensor' || !ELEMENTWISE.has(name)) return undefined;
      return tensorMethod(src, name, { pos: args.pos.slice(1), kw: args.kw });
    }
  }
}

/** Attributes of a tensor value (`x.shape`, `x.dtype`, `x.T`). */
export function tensorAttr(t: TensorVal, name: string): Value | undefined {
  switch (name) {
    case 'shape': return t.shape ? { t: 'list', items: t.shape.map(num), tuple: true } : undefined;
    case 'dtype': return { t: 'dtype', dtype: t.dtype };
    case 'ndim': return t.shape ? num(t.shape.length) : undefined;
    case 'T': return t.shape?.length === 2 ? { ...t, shape: [t.shape[1], t.shape[0]], param: false } : undefined;
    case 'data': return t;
    default: return undefined;
  }
}

/** Functions of a tensor that keep its shape (and, for integers, its dtype unless FLOAT_RESULT says otherwise). */
const ELEMENTWISE = new Set(['exp', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'reciprocal',
  'abs', 'sign', 'neg', 'floor', 'ceil', 'round', 'trunc', 'clamp', 'clip', 'clamp_min', 'clamp_max', 'pow', 'cumsum', 'cumprod', 'relu']);
/** On an integer tensor these give the default float dtype (torch's and Paddle's promotion). */
const FLOAT_RESULT = new Set(['exp', 'log', 'log2', 'log10', 'log1p', 'sqrt', 'rsqrt', 'sin', 'cos', 'tanh', 'sigmoid', 'reciprocal']);
const isFloatDtype = (d: string) => /^(F|BF)\d+$/.test(d);

/** The dtype two tensors combine to: a float one wins, else the first's. */
function promoted(ts: TensorVal[]): string {
  return ts.find((x) => isFloatDtype(x.dtype))?.dtype ?? ts[0].dtype;
}

/** Sizes broadcast right-aligned: a 1 takes the other's size (`x[:, :, None] - x[:, None, :]`). */
function broadcast(a: Dim[], b: Dim[]): Dim[] {
  const n = Math.max(a.length, b.length);
  const at = (sh: Dim[], i: number): Dim => sh[i - (n - sh.length)] ?? 1;
  return Array.from({ length: n }, (_, i) => { const x = at(a, i), y = at(b, i); return x === 1 ? y : x; });
}

/**
 * `a OP b` where one side is a tensor: the broadcast shape, and the dtype torch gives — true division
 * and a Python float make an integer tensor float, a comparison is bool.
 */
export function tensorBinop(op: string, a: Value, b: Value): TensorVal {
  const ts = [a, b].filter((v): v is TensorVal => v.t === 'tensor');
  const wide = ts.reduce((x, y) => ((y.shape?.length ?? 0) > (x.shape?.length ?? 0) ? y : x));
  const shapes = [a, b].map((v) => (v.t === 'tensor' ? v.shape : []));
  const shape = shapes[0] && shapes[1] ? broadcast(shapes[0], shapes[1]) : undefined;
  let dtype = promoted(ts);
  if (/^(<|<=|>|>=|==|!=)$/.test(op)) dtype = 'BOOL';
  else if (!isFloatDtype(dtype) && (op === '/' || [a, b].some(isFloat))) dtype = 'F32';
  return { ...wide, shape, dtype, param: false, buffer: undefined };
}

/** One position of a tensor index: `:`/`a:b:c`, `None`, `...`, an integer, an index tensor, or something not followed. */
export type IndexItem =
  | { k: 'slice'; start?: Dim; stop?: Dim; step?: Dim }
  | { k: 'none' } | { k: 'ellipsis' } | { k: 'int' } | { k: 'tensor'; t: TensorVal } | { k: 'unknown' };

/** A slice's length along a dimension of size `n`: exact when the numbers are known, or `n - a` for `[a:]` / `[:-a]`. */
function sliceLen(n: Dim, s: Extract<IndexItem, { k: 'slice' }>): Dim | undefined {
  const { start, stop } = s;
  const step = s.step ?? 1;
  if (typeof n === 'number' && [start, stop, step].every((x) => x === undefined || typeof x === 'number')) {
    const st = step as number;
    if (st <= 0) return undefined;
    const clamp = (x: number | undefined, dflt: number) => (x === undefined ? dflt : Math.min(Math.max(x < 0 ? x + n : x, 0), n));
    const lo = clamp(start as number | undefined, 0), hi = clamp(stop as number | undefined, n);
    return Math.max(0, Math.ceil((hi - lo) / st));
  }
  if (step !== 1) return undefined;
  if (stop === undefined && (start === undefined || (typeof start === 'number' && start >= 0))) return opDim('-', n, start ?? 0);
  if (start === undefined && typeof stop === 'number' && stop < 0) return opDim('-', n, -stop);
  return undefined;
}

/** `x[…]`: the shape numpy-style basic indexing gives, and one index tensor (a gather) in first place. */
export function tensorIndex(t: TensorVal, items: IndexItem[]): Value {
  const keep = (shape: Dim[] | undefined, dtype = t.dtype): TensorVal => ({ ...t, shape, dtype, param: false, buffer: undefined });
  const s = t.shape;
  if (!s || items.some((i) => i.k === 'unknown')) return keep(undefined);
  if (items.length === 1 && items[0].k === 'tensor') {
    const idx = items[0].t;
    // A bool mask selects a count inference does not know; integer indices gather whole rows.
    if (idx.dtype === 'BOOL' || !idx.shape) return keep(undefined);
    return keep([...idx.shape, ...s.slice(1)]);
  }
  if (items.some((i) => i.k === 'tensor') || items.filter((i) => i.k === 'ellipsis').length > 1) return keep(undefined);
  const used = items.filter((i) => i.k === 'slice' || i.k === 'int').length;
  if (used > s.length) return keep(undefined);
  const out: Dim[] = [];
  let d = 0;
  for (const it of items) {
    if (it.k === 'none') out.push(1);
    else if (it.k === 'ellipsis') { const n = s.length - used; out.push(...s.slice(d, d + n)); d += n; }
    else if (it.k === 'int') d++;
    else if (it.k === 'slice') { const n = sliceLen(s[d++], it); if (n === undefined) return keep(undefined); out.push(n); }
  }
  out.push(...s.slice(d));
  return keep(out);
}

const TO_DTYPE: Record<string, string> = table({ float: 'F32', half: 'F16', double: 'F64', long: 'I64', int: 'I32', bool: 'BOOL', bfloat16: 'BF16' });

/** Methods that keep a tensor a tensor; undefined when the method is not one inference follows. */
export function tensorMethod(t: TensorVal, name: string, args: CallArgs): Value | undefined {
  const keep = (shape: Dim[] | undefined, dtype = t.dtype): TensorVal => ({ ...t, shape, dtype, param: false });
  const s = t.shape;
  if (TO_DTYPE[name]) return keep(s, TO_DTYPE[name]);
  if (ELEMENTWISE.has(name) && name !== 'cumsum' && name !== 'cumprod') return keep(s, FLOAT_RESULT.has(name) && !isFloatDtype(t.dtype) ? 'F32' : t.dtype);
  switch (name) {
    case 'to': case 'type': case 'astype': case 'cast': {
      const dt = asDtype(args.kw.get('dtype') ?? args.pos.find((v) => asDtype(v) !== undefined));
      return keep(s, dt ?? t.dtype);
    }
    case 'unsqueeze': {
      const d = asDim(args.pos[0] ?? args.kw.get('dim') ?? args.kw.get('axis'));
      if (!s || typeof d !== 'number') return keep(undefined);
      const out = [...s];
      out.splice(d < 0 ? d + s.length + 1 : d, 0, 1);
      return keep(out);
    }
    case 'squeeze': {
      if (!s) return keep(undefined);
      const d = asDim(args.pos[0] ?? args.kw.get('dim') ?? args.kw.get('axis'));
      if (d === undefined) return keep(s.filter((x) => x !== 1));
      if (typeof d !== 'number') return keep(undefined);
      const i = d < 0 ? d + s.length : d;
      return keep(s[i] === 1 ? s.filter((_, j) => j !== i) : s);
    }
    case 'view': case 'reshape': {
      const shape = args.pos.length === 1 && args.pos[0].t === 'list' ? asDims(args.pos[0]) : args.kw.get('shape') ? asDims(args.kw.get('shape')) : sizes(args, 'torch');
      if (!shape) return keep(undefined);
      const minus = shape.findIndex((d) => d === -1);
      if (minus < 0) return keep(shape);
      const total = s ? s.reduce<Dim>((a, b) => opDim('*', a, b), 1) : undefined;
      const rest = shape.filter((_, i) => i !== minus).reduce<Dim>((a, b) => opDim('*', a, b), 1);
      if (total === undefined) return keep(undefined);
      const out = [...shape];
      out[minus] = opDim('//', total, rest);
      return keep(out);
    }
    case 'expand': case 'repeat': case 'tile': {
      const want = args.pos.length === 1 && args.pos[0].t === 'list' ? asDims(args.pos[0]) : sizes(args, 'torch');
      if (!want || !s) return keep(undefined);
      const lead = want.length - s.length;
      if (lead < 0) return keep(undefined);
      return keep(want.map((d, i) => {
        const old = i >= lead ? s[i - lead] : 1;
        if (name === 'expand') return d === -1 ? old : d;
        return opDim('*', old, d);
      }));
    }
    case 'size': {
      if (!s) return undefined;
      const d = asDim(args.pos[0]);
      if (typeof d === 'number') return num(s[d < 0 ? d + s.length : d]);
      return { t: 'list', items: s.map(num), tuple: true };
    }
    case 't': return s?.length === 2 ? keep([s[1], s[0]]) : keep(undefined);
    case 'transpose': {
      // paddle's transpose takes the whole permutation (`x.transpose([1, 2, 0])`), torch's two dims.
      const perm = args.pos.length === 1 && args.pos[0].t === 'list' ? args.pos[0] : args.kw.get('perm');
      if (perm?.t === 'list') return tensorMethod(t, 'permute', { pos: [perm], kw: new Map() });
      const [a, b] = [asDim(args.pos[0]), asDim(args.pos[1])];
      if (!s || typeof a !== 'number' || typeof b !== 'number') return keep(undefined);
      const out = [...s];
      const ia = a < 0 ? a + s.length : a;
      const ib = b < 0 ? b + s.length : b;
      [out[ia], out[ib]] = [out[ib], out[ia]];
      return keep(out);
    }
    case 'permute': {
      const p = args.pos.length === 1 && args.pos[0].t === 'list' ? asDims(args.pos[0]) : sizes(args, 'torch');
      if (!s || !p || p.some((d) => typeof d !== 'number')) return keep(undefined);
      return keep((p as number[]).map((d) => s[d < 0 ? d + s.length : d]));
    }
    case 'flatten': {
      // flatten(start_dim=0, end_dim=-1) (paddle: start_axis, stop_axis).
      if (!s) return keep(undefined);
      const a = asDim(args.pos[0] ?? args.kw.get('start_dim') ?? args.kw.get('start_axis')) ?? 0;
      const b = asDim(args.pos[1] ?? args.kw.get('end_dim') ?? args.kw.get('stop_axis')) ?? -1;
      if (typeof a !== 'number' || typeof b !== 'number') return keep(undefined);
      const [i, j] = [a < 0 ? a + s.length : a, b < 0 ? b + s.length : b];
      if (!s.length) return keep([1]);
      return keep([...s.slice(0, i), s.slice(i, j + 1).reduce<Dim>((x, y) => opDim('*', x, y), 1), ...s.slice(j + 1)]);
    }
    case 'sum': case 'mean': case 'amax': case 'amin': {
      const d = asDim(args.pos[0] ?? args.kw.get('dim') ?? args.kw.get('axis'));
      const keepdim = args.kw.get('keepdim');
      if (!s) return keep(undefined);
      if (d === undefined) return keep([]);
      if (typeof d !== 'number') return keep(undefined);
      const i = d < 0 ? d + s.length : d;
      return keep(keepdim?.t === 'bool' && keepdim.v ? s.map((x, j) => (j === i ? 1 : x)) : s.filter((_, j) => j !== i));
    }
    case 'cumsum': case 'cumprod': return keep(s, t.dtype === 'BOOL' ? 'I64' : t.dtype);
    case 'outer': case 'ger': {
      const o = args.pos[0];
      return o?.t === 'tensor' && s?.length === 1 && o.shape?.length === 1 ? keep([s[0], o.shape[0]], promoted([t, o])) : keep(undefined);
    }
    case 'type_as': return args.pos[0]?.t === 'tensor' ? keep(s, args.pos[0].dtype) : keep(s);
    case 'mul': case 'add': case 'sub': case 'div': {
      const o = args.pos[0];
      return o ? tensorBinop(name === 'div' ? '/' : '*', t, o) : keep(s);
    }
    // In place: the tensor keeps its shape and dtype.
    case 'mul_': case 'add_': case 'sub_': case 'div_':
    case 'numel': return s ? num(s.reduce<Dim>((a, b) => opDim('*', a, b), 1)) : undefined;
    case 'contiguous': case 'clone': case 'detach': case 'fill_': case 'zero_': case 'normal_': case 'uniform_':
    case 'triu_': case 'tril_': case 'triu': case 'tril': case 'masked_fill': case 'masked_fill_': case 'requires_grad_':
    case 'cpu': case 'cuda': case 'numpy': case 'copy_':
      return keep(s);
    default:
      return undefined;
  }
}
