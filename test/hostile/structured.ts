/**
 * Structure-aware fuzz generators (fast-check arbitraries): inputs that get past each format's first
 * checks and into the parts where the bugs live — pickle opcode streams built from the opcodes torch,
 * Paddle and numpy use (with memo slots, marks, globals good and bad, names that are prototype keys
 * or escape sequences); ONNX protobufs of graphs, nodes, attributes and tensors whose lengths and
 * wire types sometimes lie; GGUF headers, key/values and tensor infos with small and huge counts;
 * safetensors headers with plausible and implausible entries. Byte mutation of real files (fuzz.test.ts)
 * covers the rest.
 */
import fc from 'fast-check';
import { P, ggufString, legacyTorch, len, pickle, pstr, u32, u64, varint, vint, zip } from './builders';
import { safetensorsBytes } from '../support/tmp';

/** Names worth trying anywhere a file names something. */
const NAME = fc.oneof(
  fc.constantFrom('w', 'layer.0.weight', '__proto__', 'toString', 'constructor', 'hasOwnProperty', '', '\x1b[2J', 'a\nb', '\u202e', 'x'.repeat(300)),
  fc.string({ maxLength: 12 }),
);

// ---- pickle ---------------------------------------------------------------------------------------

const GLOBALS: [string, string][] = [
  ['collections', 'OrderedDict'], ['torch._utils', '_rebuild_tensor_v2'], ['torch._utils', '_rebuild_parameter'], ['torch', 'FloatStorage'],
  ['numpy.core.multiarray', '_reconstruct'], ['numpy._core.multiarray', '_reconstruct'], ['numpy', 'ndarray'], ['numpy', 'dtype'],
  ['_codecs', 'encode'], ['builtins', 'eval'], ['builtins', 'set'], ['torch', 'Size'], ['os', 'system'], ['builtins', 'getattr'],
];

const opcode: fc.Arbitrary<number[]> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 255 }).map((n) => P.BININT1(n)) },
  { weight: 1, arbitrary: fc.integer().map((n) => P.BININT(n)) },
  { weight: 3, arbitrary: NAME.map((s) => P.str(s)) },
  { weight: 3, arbitrary: fc.constantFrom(P.EMPTY_DICT, P.EMPTY_LIST, P.EMPTY_TUPLE, P.MARK, P.NONE, P.TUPLE, P.TUPLE1, P.TUPLE2, P.TUPLE3) },
  { weight: 3, arbitrary: fc.constantFrom(P.SETITEM, P.SETITEMS, P.APPEND, P.APPENDS, P.POP, P.MEMOIZE, P.REDUCE, P.BUILD, P.NEWOBJ) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((i) => P.BINPUT(i)) },
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 8 }).map((i) => P.BINGET(i)) },
  { weight: 1, arbitrary: fc.nat().map((i) => P.LONG_BINGET(i)) },
  { weight: 2, arbitrary: fc.constantFrom(...GLOBALS).map(([m, n]) => P.global(m, n)) },
  { weight: 1, arbitrary: fc.constantFrom(...GLOBALS).map(([m, n]) => P.stackGlobal(m, n)) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => [...b]) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0x42, 0x43, 0x8e, 0x8d, 0x58, 0x8c), fc.nat({ max: 2 ** 31 })).map(([op, n]) => [op, ...u32(n)]) },
  { weight: 1, arbitrary: fc.integer({ min: 2, max: 10 }).chain((n) => fc.constant(Array.from({ length: n * 10 }, (_, i) => (i % 2 ? 0x68 : 0x28)))) },
);

/** A pickle of 1–60 opcodes in one of the three containers a checkpoint pickle comes in. */
export const pickleFile: fc.Arbitrary<{ bytes: Buffer; ext: string }> = fc.tuple(fc.array(opcode, { minLength: 1, maxLength: 60 }), fc.constantFrom('pdparams', 'legacy', 'zip'))
  .map(([ops, how]) => {
    const p = pickle(...ops);
    if (how === 'pdparams') return { bytes: p, ext: '.pdparams' };
    if (how === 'legacy') return { bytes: legacyTorch(p), ext: '.pt' };
    return { bytes: zip([{ name: 'archive/data.pkl', data: p }, { name: 'archive/data/0', data: Buffer.alloc(16) }]), ext: '.pt' };
  });

// ---- ONNX -----------------------------------------------------------------------------------------

/** A length that usually tells the truth and sometimes does not. */
const lying = (payload: number[]) => fc.oneof({ weight: 9, arbitrary: fc.constant(payload.length) }, { weight: 1, arbitrary: fc.nat({ max: 1 << 30 }) })
  .map((n) => [...varint(n), ...payload]);

const tensorProto: fc.Arbitrary<number[]> = fc.tuple(NAME, fc.array(fc.oneof(fc.nat({ max: 8 }), fc.nat()), { maxLength: 5 }), fc.integer({ min: 0, max: 30 }), fc.uint8Array({ maxLength: 64 }), fc.boolean())
  .map(([name, dims, type, raw, external]) => [
    ...dims.flatMap((d) => vint(1, d)), ...vint(2, type), ...pstr(8, name),
    ...(external ? [...len(13, [...pstr(1, 'location'), ...pstr(2, 'w.bin')]), ...vint(14, 1)] : len(9, [...raw])),
  ]);

const attribute: fc.Arbitrary<number[]> = fc.letrec<{ attr: number[]; graph: number[] }>((tie) => ({
  attr: fc.oneof({ maxDepth: 4, depthIdentifier: 'onnx' },
    fc.tuple(fc.constantFrom('value', 'then_branch', 'body', 'transB', 'value_floats', 'value_ints'), tensorProto).map(([n, t]) => [...pstr(1, n), ...len(5, t)]),
    fc.tuple(fc.constantFrom('value_float', 'alpha'), fc.float()).map(([n, f]) => { const b = Buffer.alloc(4); b.writeFloatLE(Number.isFinite(f) ? f : 0); return [...pstr(1, n), 0x15, ...b]; }),
    fc.tuple(fc.constantFrom('value_ints', 'value_floats', 'perm'), fc.array(fc.nat(), { maxLength: 8 })).map(([n, xs]) => [...pstr(1, n), ...len(8, xs.flatMap((x) => varint(x)))]),
    fc.tuple(fc.constantFrom('then_branch', 'else_branch', 'body'), tie('graph')).map(([n, g]) => [...pstr(1, n), ...len(6, g)]),
  ),
  graph: fc.array(fc.oneof(
    { weight: 3, arbitrary: fc.tuple(fc.array(NAME, { maxLength: 4 }), NAME, fc.constantFrom('Constant', 'MatMul', 'Gemm', 'If', 'Loop', 'Conv', 'Add'), fc.array(tie('attr'), { maxLength: 3 }))
      .map(([ins, out, op, attrs]) => len(1, [...ins.flatMap((i) => pstr(1, i)), ...pstr(2, out), ...pstr(4, op), ...attrs.flatMap((a) => len(5, a))])) },
    { weight: 2, arbitrary: tensorProto.map((t) => len(5, t)) },
    { weight: 1, arbitrary: NAME.map((n) => len(11, pstr(1, n))) },
  ), { maxLength: 6 }).map((fields) => fields.flat()),
})).attr;

/** A ModelProto: the graph built from nodes, attributes (subgraphs included) and tensors; its length sometimes lies. */
export const onnxFile: fc.Arbitrary<{ bytes: Buffer; ext: string }> = fc.tuple(fc.array(attribute, { maxLength: 4 }), fc.array(tensorProto, { maxLength: 4 }), fc.boolean())
  .chain(([attrs, inits, lie]) => {
    const graph = [...len(1, [...pstr(2, 'y'), ...pstr(4, 'If'), ...attrs.flatMap((a) => len(5, a))]), ...inits.flatMap((t) => len(5, t))];
    return (lie ? lying(graph) : fc.constant([...varint(graph.length), ...graph])).map((g) => ({
      bytes: Buffer.from([...vint(1, 8), ...len(8, [...pstr(1, ''), ...vint(2, 17)]), ...varint((7 << 3) | 2), ...g]),
      ext: '.onnx',
    }));
  });

// ---- GGUF -----------------------------------------------------------------------------------------

const count = fc.oneof({ weight: 8, arbitrary: fc.nat({ max: 6 }).map(BigInt) }, { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) });
const ggufValue: fc.Arbitrary<Buffer> = fc.letrec<{ value: Buffer }>((tie) => ({
  value: fc.oneof({ maxDepth: 4, depthIdentifier: 'gguf' },
    fc.tuple(fc.integer({ min: 0, max: 13 }), fc.uint8Array({ minLength: 8, maxLength: 8 })).map(([t, b]) => Buffer.concat([Buffer.from(u32(t)), Buffer.from(b)])),
    NAME.map((s) => Buffer.concat([Buffer.from(u32(8)), ggufString(s)])),
    fc.tuple(count, fc.array(tie('value'), { maxLength: 3 })).map(([n, items]) => Buffer.concat([Buffer.from(u32(9)), Buffer.from(u32(9)), Buffer.from(u64(n)), ...items])),
    fc.tuple(fc.integer({ min: 0, max: 12 }), count).map(([t, n]) => Buffer.concat([Buffer.from(u32(9)), Buffer.from(u32(t)), Buffer.from(u64(n)), Buffer.alloc(16)])),
  ),
})).value;

const tensorInfo = fc.tuple(NAME, fc.array(fc.oneof(fc.bigInt({ min: 0n, max: 64n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })), { maxLength: 5 }), fc.integer({ min: 0, max: 40 }), fc.bigInt({ min: 0n, max: 1n << 20n }))
  .map(([name, dims, type, offset]) => Buffer.concat([ggufString(name), Buffer.from(u32(dims.length)), ...dims.map((d) => Buffer.from(u64(d))), Buffer.from(u32(type)), Buffer.from(u64(offset))]));

/** A GGUF file: version 2 or 3, counts that may lie, key/values, tensor infos, some data. */
const ggufVersion = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(3, 2) }, { weight: 1, arbitrary: fc.constantFrom(1, 4, 0xffffffff) });
export const ggufFile: fc.Arbitrary<{ bytes: Buffer; ext: string }> = fc.tuple(ggufVersion, count, count, fc.array(fc.tuple(NAME, ggufValue), { maxLength: 5 }), fc.array(tensorInfo, { maxLength: 5 }), fc.nat({ max: 256 }))
  .map(([version, nt, nkv, kvs, infos, pad]) => ({
    bytes: Buffer.concat([Buffer.from('GGUF'), Buffer.from(u32(version)), Buffer.from(u64(nt)), Buffer.from(u64(nkv)),
      ...kvs.flatMap(([k, v]) => [ggufString(k), v]), ...infos, Buffer.alloc(pad)]),
    ext: '.gguf',
  }));

// ---- safetensors ----------------------------------------------------------------------------------

const DTYPES = ['F32', 'F16', 'BF16', 'I64', 'U8', 'BOOL', 'F4', 'F6_E2M3', 'F8_E8M0', 'Q4_K', 'constructor', '', 'f32'];
const entry = fc.record({
  dtype: fc.oneof(fc.constantFrom(...DTYPES), fc.string({ maxLength: 6 })),
  shape: fc.oneof(fc.array(fc.nat({ max: 8 }), { maxLength: 4 }), fc.array(fc.integer(), { maxLength: 3 }), fc.constant([2 ** 53])),
  data_offsets: fc.oneof(fc.tuple(fc.nat({ max: 64 }), fc.nat({ max: 64 })), fc.tuple(fc.integer(), fc.integer())),
}, { requiredKeys: [] });

const BYTES: Readonly<Record<string, number>> = { F32: 4, F16: 2, BF16: 2, I64: 8, U8: 1, BOOL: 1, F8_E8M0: 1 };

/** A header whose offsets tile the data (valid but for what the names and metadata say), or one of plausible and implausible entries. */
export const safetensorsFile: fc.Arbitrary<{ bytes: Buffer; ext: string }> = fc.oneof(
  fc.tuple(fc.array(fc.tuple(NAME, fc.constantFrom(...Object.keys(BYTES)), fc.array(fc.nat({ max: 6 }), { maxLength: 3 })), { maxLength: 8 }), fc.option(fc.dictionary(NAME, fc.string({ maxLength: 4 }), { maxKeys: 3 })), fc.nat({ max: 2 }))
    .map(([ts, metadata, extra]) => {
      const header: Record<string, unknown> = {};
      if (metadata) Object.defineProperty(header, '__metadata__', { value: metadata, enumerable: true });
      let off = 0;
      for (const [name, dtype, shape] of ts) {
        const n = shape.reduce((a, b) => a * b, 1) * BYTES[dtype];
        Object.defineProperty(header, name, { value: { dtype, shape, data_offsets: [off, off + n] }, enumerable: true, configurable: true });
        off += n;
      }
      return { bytes: safetensorsBytes(header, off + (extra === 2 ? 1 : 0)), ext: '.safetensors' };
    }),
  fc.tuple(fc.dictionary(NAME, entry, { maxKeys: 6 }), fc.option(fc.dictionary(NAME, fc.string({ maxLength: 4 }), { maxKeys: 3 })), fc.nat({ max: 64 }))
    .map(([tensors, metadata, data]) => {
      const header: Record<string, unknown> = {};
      if (metadata) Object.defineProperty(header, '__metadata__', { value: metadata, enumerable: true });
      for (const [k, v] of Object.entries(tensors)) Object.defineProperty(header, k, { value: v, enumerable: true });
      return { bytes: safetensorsBytes(header, data), ext: '.safetensors' };
    }),
);

export const STRUCTURED: Readonly<Record<string, fc.Arbitrary<{ bytes: Buffer; ext: string }>>> = {
  pickle: pickleFile, onnx: onnxFile, gguf: ggufFile, safetensors: safetensorsFile,
};

