/**
 * The globals a checkpoint pickle may name, each modelled as a plain-data constructor. Nothing here
 * imports or runs Python: a name maps to a small TS function that builds a tagged record from its
 * arguments. The list follows torch's own `weights_only` unpickler (torch/_weights_only_unpickler.py)
 * plus the numpy pieces Paddle's `.pdparams` need; every other name is refused by the interpreter.
 */
import { table } from '../table';
import { OTHER_TORCH_DTYPES, TORCH_DTYPES, TORCH_STORAGE_DTYPES, UNTYPED_STORAGES } from './dtypes';
import {
  PyDict, PyGlobal, PyNdarray, PyNpDtype, PyTensor, PyValue,
  asInt, dictGet, dictSet, isObj, isTuple, iterItems, kindOf, newDict,
} from './values';

export interface CallContext {
  /** Ends the read as an unreadable checkpoint, at the current opcode. */
  fail(reason: string): never;
  /** Ends the read as an unsafe pickle (a call that could run code), at the current opcode. */
  refuse(reason: string): never;
  /** Where an inline str's UTF-8 lies in the file, when the VM was asked to remember (`recordStrOffsets`). */
  strAt?(s: string): { offset: number; length: number } | undefined;
}

interface Model {
  /** Applied by REDUCE (and by NEWOBJ/INST/OBJ when `isClass`). Absent: a constant that may only be passed around. */
  call?: (args: PyValue[], ctx: CallContext, self: PyGlobal) => PyValue;
  /** Classes may be instantiated with NEWOBJ; functions may not. */
  isClass?: boolean;
}

/** Python 2 module names that pickle protocol ≤ 2 writes, as Python 3 (and torch) maps them. */
const MODULE_RENAMES: Readonly<Record<string, string>> = table({
  __builtin__: 'builtins',
  copy_reg: 'copyreg',
});

const MODELS = new Map<string, Model>();

/** The canonical allow-listed name, or undefined when the global is not allowed. */
export function resolveGlobal(module: string, name: string): PyGlobal | undefined {
  const full = `${MODULE_RENAMES[module] ?? module}.${name}`;
  if (MODELS.has(full)) return { kind: 'global', name: full };
  return undefined;
}

/**
 * Globals that can act — run a command, import or evaluate code, load another file, reach the network
 * or the file system — by module, and by name wherever they live. A pickle naming one is unsafe; a
 * pickle naming only other unknown classes (a dataclass of settings, an nn.Module, an enum) is simply
 * not a tensor checkpoint. Nothing is executed either way: the tiers only decide what the user is told.
 */
const ACTING_MODULES = new Set([
  'os', 'posix', 'nt', 'subprocess', 'sys', 'builtins', '__builtin__', 'importlib', 'runpy', 'code', 'codeop', 'pickle', '_pickle',
  'marshal', 'shutil', 'socket', 'ctypes', 'webbrowser', 'pty', 'commands', 'multiprocessing', 'threading', 'signal', 'types',
  'functools', 'operator', 'io', '_io', 'tempfile', 'pathlib', 'glob', 'urllib', 'http', 'requests', 'asyncio', 'inspect', 'dill',
  'cloudpickle', 'joblib', 'collections', 'numpy', 'torch', 'paddle', 'tensorflow', 'jax', 'copyreg', 'copy_reg', 'site', 'platform', 'zipimport',
]);
const ACTING_NAMES = /^(eval|exec|compile|getattr|setattr|delattr|__import__|import_module|system|popen|spawn\w*|exec\w*|call|check_call|check_output|run|load|loads|open|remove|unlink|rmtree|apply|partial|methodcaller|attrgetter|itemgetter)$/;

export type Refusal = { code: 'unsafe-pickle' | 'not-a-checkpoint'; reason: string };

/**
 * Why a global that is not on the allow-list stops the read, and how severe that is. A pickled
 * `nn.Module` (`torch.save(model)`) and Trainer's settings are the common honest cases, each with its
 * own advice. `following` is the pickle's next bytes, read as text only to word the refusal.
 */
export function refusedGlobal(module: string, name: string, following = ''): Refusal {
  const full = `${module}.${name}`;
  const root = module.split('.')[0];
  const named = `pickle names \`${full}\`, which is not on the allow-list; nothing was executed`;
  // torch.nn.modules.* are classes of layers (a pickled model), not torch functions that act.
  const layerClass = full.startsWith('torch.nn.modules.');
  if (!layerClass && (ACTING_MODULES.has(root) || ACTING_NAMES.test(name))) return { code: 'unsafe-pickle', reason: named };
  // nn.Module's own attributes, as pickled keys: `_parameters` and `_modules` as whole strings (a
  // settings object has fields that merely end so, like `optim_target_modules`).
  // eslint-disable-next-line no-control-regex -- pickle length bytes are exactly what this matches
  const moduleState = /(?:X\x0b\x00\x00\x00|\x8c\x0b)_parameters/.test(following) && /(?:X\x08\x00\x00\x00|\x8c\x08)_modules/.test(following);
  if (layerClass || following.includes('torch.nn.modules.') || moduleState) {
    return { code: 'not-a-checkpoint', reason: `not a tensor checkpoint: ${named}: this is a whole torch.nn.Module saved with torch.save(model), which pickles its classes (code), not a state dict; save model.state_dict() instead` };
  }
  if (full === 'transformers.training_args.TrainingArguments' || /\.TrainingArguments$/.test(full)) {
    return { code: 'not-a-checkpoint', reason: `not a tensor checkpoint: Trainer settings (\`${full}\`, what Trainer saves as training_args.bin); nothing was executed` };
  }
  return { code: 'not-a-checkpoint', reason: `not a tensor checkpoint: it pickles \`${full}\` objects, which this reader does not build; nothing was executed` };
}

export function callGlobal(fn: PyValue, args: PyValue[], ctx: CallContext): PyValue {
  if (!isObj(fn) || fn.kind !== 'global') return ctx.fail(`REDUCE calls a ${kindOf(fn)}, not an allow-listed global`);
  const model = MODELS.get(fn.name);
  if (!model?.call) return ctx.fail(`\`${fn.name}\` is a constant, not something a checkpoint calls`);
  return model.call(args, ctx, fn);
}

export function newObject(cls: PyValue, args: PyValue[], ctx: CallContext): PyValue {
  if (!isObj(cls) || cls.kind !== 'global') return ctx.fail(`NEWOBJ instantiates a ${kindOf(cls)}, not an allow-listed class`);
  const model = MODELS.get(cls.name);
  if (!model?.isClass || !model.call) return ctx.fail(`NEWOBJ on \`${cls.name}\`, which is not a class`);
  return model.call(args, ctx, cls);
}

/**
 * BUILD: sets an object's state. Modelled for numpy arrays and dtypes (their state is the data),
 * kept on dicts, ignored on tensors and opaque objects (Parameter hooks, subclass attributes).
 */
export function buildObject(obj: PyValue, state: PyValue, ctx: CallContext): void {
  if (!isObj(obj)) return ctx.fail(`BUILD on a ${kindOf(obj)}`);
  switch (obj.kind) {
    case 'ndarray': return buildNdarray(obj, state, ctx);
    case 'npdtype': return buildNpDtype(obj, state, ctx);
    case 'dict': obj.attrs = state; return;
    case 'tensor': case 'object': return;
    default: return ctx.fail(`BUILD on a ${kindOf(obj)}`);
  }
}

// ---- helpers ------------------------------------------------------------------------------

function arg(args: PyValue[], i: number, ctx: CallContext, fn: string): PyValue {
  if (i >= args.length) return ctx.fail(`\`${fn}\` called with ${args.length} arguments, expected at least ${i + 1}`);
  return args[i];
}

const MAX_DIMS = 64;

function intList(v: PyValue, ctx: CallContext, what: string): number[] {
  const items = iterItems(v);
  if (!items) return ctx.fail(`${what} is a ${kindOf(v)}, expected a tuple of integers`);
  if (items.length > MAX_DIMS) return ctx.fail(`${what} has ${items.length} dimensions (more than ${MAX_DIMS})`);
  return items.map((x) => {
    const n = asInt(x);
    if (n === undefined) return ctx.fail(`${what} holds a ${kindOf(x)}, expected an integer`);
    return n;
  });
}

function nonNegInt(v: PyValue, ctx: CallContext, what: string): number {
  const n = asInt(v);
  if (n === undefined || n < 0) return ctx.fail(`${what} is ${kindOf(v)} ${String(v)}, expected a non-negative integer`);
  return n;
}

function latin1Bytes(v: PyValue, enc: PyValue, ctx: CallContext): PyValue {
  const e = typeof enc === 'string' ? enc.toLowerCase().replace(/[-_]/g, '') : '';
  if (!['latin1', 'iso88591', 'l1'].includes(e)) return ctx.fail(`\`_codecs.encode\` with encoding ${JSON.stringify(enc)}: only latin1 (what pickle writes) is supported`);
  if (typeof v === 'string') {
    for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 0xff) return ctx.fail('`_codecs.encode` of a string with characters outside latin1');
    const at = ctx.strAt?.(v);
    return at ? { kind: 'bytes', data: Buffer.from(v, 'latin1'), utf8: at } : { kind: 'bytes', data: Buffer.from(v, 'latin1') };
  }
  if (isObj(v) && v.kind === 'lazy' && v.of === 'str' && v.encoding === 'utf8') {
    return { ...v, of: 'bytes', encoding: 'latin1-from-utf8' };
  }
  return ctx.fail(`\`_codecs.encode\` of a ${kindOf(v)}`);
}

function toBytes(args: PyValue[], ctx: CallContext, fn: string): PyValue {
  if (args.length === 0) return { kind: 'bytes', data: Buffer.alloc(0) };
  const v = args[0];
  if (args.length >= 2) return latin1Bytes(v, args[1], ctx);
  if (isObj(v) && (v.kind === 'bytes' || (v.kind === 'lazy' && v.of === 'bytes'))) return v;
  const items = iterItems(v);
  if (items && items.length <= 1 << 16) {
    return { kind: 'bytes', data: Buffer.from(items.map((x) => { const n = asInt(x); return n !== undefined && n >= 0 && n < 256 ? n : ctx.fail(`\`${fn}\` of a list holding ${kindOf(x)}`); })) };
  }
  return ctx.fail(`\`${fn}\` of a ${kindOf(v)}`);
}

function dictFrom(args: PyValue[], ctx: CallContext, fn: string): PyDict {
  const d = newDict();
  if (args.length === 0 || args[0] === null) return d;
  const src = args[0];
  if (isObj(src) && src.kind === 'dict') {
    for (const [k, v] of src.entries.values()) dictSet(d, k, v);
    return d;
  }
  const items = iterItems(src);
  if (!items) return ctx.fail(`\`${fn}\` of a ${kindOf(src)}`);
  for (const pair of items) {
    const kv = iterItems(pair);
    if (!kv || kv.length !== 2) return ctx.fail(`\`${fn}\` of an item that is not a (key, value) pair`);
    dictSet(d, kv[0], kv[1]);
  }
  return d;
}

function storageArg(v: PyValue, ctx: CallContext, fn: string) {
  if (!isObj(v) || v.kind !== 'storage') return ctx.fail(`\`${fn}\` expects a storage (a persistent id), got a ${kindOf(v)}`);
  return v;
}

function rebuildTensor(args: PyValue[], ctx: CallContext, fn: string, dtypeArg?: number): PyTensor {
  const storage = storageArg(arg(args, 0, ctx, fn), ctx, fn);
  const storageOffset = nonNegInt(arg(args, 1, ctx, fn), ctx, `\`${fn}\` storage offset`);
  const shape = intList(arg(args, 2, ctx, fn), ctx, `\`${fn}\` size`);
  const stride = intList(arg(args, 3, ctx, fn), ctx, `\`${fn}\` stride`);
  if (stride.length !== shape.length) return ctx.fail(`\`${fn}\` size has ${shape.length} dimensions but stride has ${stride.length}`);
  if (shape.some((d) => d < 0) || stride.some((s) => s < 0)) return ctx.fail(`\`${fn}\` with a negative size or stride`);
  let dtype = storage.dtype;
  if (dtypeArg !== undefined) dtype = torchDtypeArg(arg(args, dtypeArg, ctx, fn), ctx, fn);
  return { kind: 'tensor', dtype, shape, stride, storageOffset, storage };
}

function torchDtypeArg(v: PyValue, ctx: CallContext, fn: string): string {
  if (!isObj(v) || v.kind !== 'global' || !v.name.startsWith('torch.')) return ctx.fail(`\`${fn}\` expects a torch dtype, got a ${kindOf(v)}`);
  return TORCH_DTYPES[v.name] ?? v.name;
}

function passTensor(args: PyValue[], ctx: CallContext, fn: string): PyValue {
  const data = arg(args, 0, ctx, fn);
  if (!isObj(data) || data.kind !== 'tensor') return ctx.fail(`\`${fn}\` wraps a ${kindOf(data)}, expected a tensor`);
  return data;
}

function buildNdarray(a: PyNdarray, state: PyValue, ctx: CallContext): void {
  const s = iterItems(state);
  if (!isTuple(state) || !s || (s.length !== 5 && s.length !== 4)) return ctx.fail('numpy array state is not a (version, shape, dtype, is_fortran, data) tuple');
  const [shape, dtype, fortran, raw] = s.length === 5 ? s.slice(1) : s;
  a.shape = intList(shape, ctx, 'numpy array shape');
  if (!isObj(dtype) || dtype.kind !== 'npdtype') return ctx.fail(`numpy array dtype is a ${kindOf(dtype)}`);
  a.dtype = dtype;
  a.fortran = fortran === true || fortran === 1;
  a.data = null;
  a.objects = false;
  if (typeof raw === 'string') a.data = { kind: 'bytes', data: Buffer.from(raw, 'latin1') };
  else if (isObj(raw) && raw.kind === 'bytes') a.data = raw;
  else if (isObj(raw) && raw.kind === 'lazy') a.data = raw.of === 'bytes' || raw.encoding === 'raw' ? { ...raw, of: 'bytes' } : ctx.fail('numpy array data is a text string, not bytes');
  else if (isObj(raw) && raw.kind === 'list') a.objects = true;
  else return ctx.fail(`numpy array data is a ${kindOf(raw)}`);
}

function buildNpDtype(d: PyNpDtype, state: PyValue, ctx: CallContext): void {
  const s = iterItems(state);
  if (!isTuple(state) || !s || s.length < 2) return ctx.fail('numpy dtype state is not a tuple');
  if (typeof s[1] === 'string') d.byteorder = s[1];
  // (version, byteorder, subarray, names, fields, ...): a subarray or names make it a record dtype.
  if ((s.length > 2 && s[2] !== null) || (s.length > 3 && s[3] !== null)) d.structured = true;
}

function newNdarray(): PyNdarray {
  return { kind: 'ndarray', shape: [], dtype: null, fortran: false, data: null, objects: false };
}

// ---- the list -----------------------------------------------------------------------------

function add(names: string[], model: Model): void {
  for (const n of names) MODELS.set(n, model);
}

const opaque = (type: string): Model => ({ call: () => ({ kind: 'object', type }), isClass: true });

add(['collections.OrderedDict', 'collections.Counter'], { call: (a, c, s) => dictFrom(a, c, s.name), isClass: true });
add(['builtins.set', 'builtins.frozenset'], {
  isClass: true,
  call: (a, c, s) => {
    const items = a.length === 0 ? [] : iterItems(a[0]) ?? c.fail(`\`${s.name}\` of a ${kindOf(a[0])}`);
    return { kind: 'set', items: [...items], frozen: s.name === 'builtins.frozenset' };
  },
});
add(['builtins.tuple'], {
  isClass: true,
  call: (a, c) => ({ kind: 'tuple', items: a.length === 0 ? [] : [...(iterItems(a[0]) ?? c.fail(`\`builtins.tuple\` of a ${kindOf(a[0])}`))] }),
});
add(['builtins.bytes', 'builtins.bytearray'], { isClass: true, call: (a, c, s) => toBytes(a, c, s.name) });
add(['_codecs.encode'], { call: (a, c) => latin1Bytes(arg(a, 0, c, '_codecs.encode'), a.length > 1 ? a[1] : 'utf-8', c) });
add(['builtins.complex'], opaque('complex'));
// Paddle pickles a DenseTensor (LoDTensor) as `eval('data', {'data': ndarray})`. Only that exact shape
// is modelled, by its arguments: nothing is evaluated, and any other use of eval stays unsafe.
add(['builtins.eval'], {
  call: (a, c) => {
    const env = a.length === 2 && a[0] === 'data' && isObj(a[1]) && a[1].kind === 'dict' && a[1].entries.size === 1 ? dictGet(a[1], 'data') : undefined;
    if (env !== undefined && isObj(env) && env.kind === 'ndarray') return env;
    return c.refuse('pickle calls `builtins.eval` with something other than Paddle\'s DenseTensor form (`\'data\'`, {\'data\': ndarray}); nothing was executed');
  },
});

add(['torch._utils._rebuild_tensor'], { call: (a, c) => rebuildTensor(a, c, 'torch._utils._rebuild_tensor') });
add(['torch._utils._rebuild_tensor_v2'], { call: (a, c) => rebuildTensor(a, c, 'torch._utils._rebuild_tensor_v2') });
add(['torch._utils._rebuild_tensor_v3'], { call: (a, c) => rebuildTensor(a, c, 'torch._utils._rebuild_tensor_v3', 6) });
add(['torch._utils._rebuild_parameter', 'torch._utils._rebuild_parameter_with_state'], { call: (a, c, s) => passTensor(a, c, s.name) });
add(['torch.nn.parameter.Parameter'], { isClass: true, call: (a, c, s) => passTensor(a, c, s.name) });
add(['torch._utils._rebuild_meta_tensor_no_storage'], {
  call: (a, c) => {
    const fn = 'torch._utils._rebuild_meta_tensor_no_storage';
    const dtype = torchDtypeArg(arg(a, 0, c, fn), c, fn);
    return { kind: 'tensor', dtype, shape: intList(arg(a, 1, c, fn), c, `\`${fn}\` size`), stride: intList(arg(a, 2, c, fn), c, `\`${fn}\` stride`), storageOffset: 0, storage: null };
  },
});
add(['torch._tensor._rebuild_from_type_v2'], {
  call: (a, c) => {
    const fn = 'torch._tensor._rebuild_from_type_v2';
    const inner = iterItems(arg(a, 2, c, fn)) ?? c.fail(`\`${fn}\` arguments are not a tuple`);
    const f = arg(a, 0, c, fn);
    if (isObj(f) && f.kind === 'global' && f.name === fn) return c.fail(`\`${fn}\` nested in itself`);
    return callGlobal(f, inner, c);
  },
});
for (const [fn, what] of [
  ['_rebuild_qtensor', 'quantized tensor'], ['_rebuild_sparse_tensor', 'sparse tensor'],
  ['_rebuild_wrapper_subclass', 'tensor subclass'], ['_rebuild_device_tensor_from_numpy', 'device tensor'],
  ['_rebuild_device_tensor_from_cpu_tensor', 'device tensor'], ['_rebuild_nested_tensor', 'nested tensor'],
]) add([`torch._utils.${fn}`], { call: () => ({ kind: 'object', type: what }) });

add(['torch.Size'], { isClass: true, call: (a, c) => ({ kind: 'tuple', items: a.length === 0 ? [] : intList(a[0], c, '`torch.Size`') }) });
add(['torch.device'], {
  isClass: true,
  call: (a) => (typeof a[0] === 'string' ? (typeof a[1] === 'number' ? `${a[0]}:${a[1]}` : a[0]) : { kind: 'object', type: 'torch.device' }),
});
add(['torch.serialization._get_layout'], opaque('torch.layout'));
add(['torch.Tensor'], opaque('torch.Tensor'));
add([...Object.keys(TORCH_DTYPES), ...OTHER_TORCH_DTYPES], {});
add(['torch.per_tensor_affine', 'torch.per_tensor_symmetric', 'torch.per_channel_affine', 'torch.per_channel_symmetric', 'torch.per_channel_affine_float_qparams'], {});
// Storage classes are only ever passed inside persistent ids; old CUDA checkpoints name torch.cuda.*.
add(Object.keys(TORCH_STORAGE_DTYPES).flatMap((s) => [`torch.${s}`, `torch.cuda.${s}`]), {});
add([...UNTYPED_STORAGES], {});

add(['numpy.ndarray'], {});
add(['numpy.core.multiarray._reconstruct', 'numpy._core.multiarray._reconstruct'], {
  call: (a, c, s) => {
    const cls = arg(a, 0, c, s.name);
    if (!isObj(cls) || cls.kind !== 'global' || cls.name !== 'numpy.ndarray') return c.fail(`\`${s.name}\` of a ${kindOf(cls)}, expected numpy.ndarray`);
    return newNdarray();
  },
});
add(['numpy.dtype'], {
  isClass: true,
  call: (a, c) => {
    const code = arg(a, 0, c, 'numpy.dtype');
    if (typeof code !== 'string') return c.fail(`\`numpy.dtype\` of a ${kindOf(code)}`);
    const m = /^([<>=|]?)(.*)$/.exec(code);
    return { kind: 'npdtype', code: m?.[2] ?? code, byteorder: m?.[1] || '=', structured: false };
  },
});
add(['numpy.core.numeric._frombuffer', 'numpy._core.numeric._frombuffer'], {
  call: (a, c, s) => {
    const buf = arg(a, 0, c, s.name);
    const dtype = arg(a, 1, c, s.name);
    if (!isObj(buf) || !(buf.kind === 'bytes' || (buf.kind === 'lazy' && buf.of === 'bytes'))) return c.fail(`\`${s.name}\` of a ${kindOf(buf)}`);
    if (!isObj(dtype) || dtype.kind !== 'npdtype') return c.fail(`\`${s.name}\` with a dtype that is a ${kindOf(dtype)}`);
    const order = a.length > 3 ? a[3] : 'C';
    return { kind: 'ndarray', shape: intList(arg(a, 2, c, s.name), c, 'numpy array shape'), dtype, fortran: order === 'F', data: buf, objects: false };
  },
});
add(['numpy.core.multiarray.scalar', 'numpy._core.multiarray.scalar'], { call: () => ({ kind: 'object', type: 'numpy scalar' }) });
