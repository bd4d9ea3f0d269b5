/**
 * The hostile corpus: files built the way an attacker (or a broken writer) would, across every reader.
 * Each case is made into a folder at test time (nothing binary is committed) and then read by the
 * real CLI: it must end within a second and 256 MB, with exit 2 and one line on stderr, or exit 0
 * and a correct listing — never a hang, a crash, an internal error, or raw control bytes on the
 * terminal. Classes: amplification (shared references, memo floods, one tensor many times, one shard
 * under many spellings, inputs repeated), depth, lengths that lie, ambiguous archives, dangerous
 * globals, names that are escape sequences or Object's own keys, tiny and empty files.
 */
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { safetensorsBytes } from '../support/tmp';
import {
  P, ascii, ggufHeader, ggufString, ggufTensorInfo, legacyTorch, len, onnxInit, onnxModel, pickle, pstr, u32, u64, varint, vint, zip,
} from './builders';
import { orbaxCases } from './orbaxCases';

export type Expect = 'refused' | 'listed' | 'either';

export interface HostileCase {
  name: string;
  /** Writes the case under `dir` and returns the path to read. */
  make(dir: string): string;
  expect: Expect;
  /** What stderr (refused) or stdout (listed) must say. */
  says?: RegExp;
}

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const cases: HostileCase[] = [];
const add = (name: string, expect: Expect, make: (dir: string) => string, says?: RegExp) => cases.push({ name, expect, make, says });
const write = (dir: string, name: string, bytes: Buffer | string) => { const p = path.join(dir, name); writeFileSync(p, bytes); return p; };

/** A torch.save zip around a data.pkl (and any other entries). */
const torchZip = (pkl: Buffer, extra: { name: string; data: Buffer }[] = []) => zip([{ name: 'archive/data.pkl', data: pkl }, ...extra]);
/** The three pickle containers: legacy .pt, zip .pt, .pdparams. */
const PICKLE_FORMATS: [string, (p: Buffer) => Buffer, string][] = [
  ['legacy .pt', legacyTorch, '.pt'], ['zip .pt', (p) => torchZip(p), '.pt'], ['.pdparams', (p) => p, '.pdparams'],
];

// 1. Shared references walked as a tree: a dict key that is a tuple of tuples, W wide and D deep,
//    each level W references to the one below (4 × 16 hashed as a tree is 4^16 strings).
function sharedTuple(width: number, depth: number): Buffer {
  const body: number[][] = [P.EMPTY_DICT, P.str('x'), P.BINPUT(0), P.POP];
  for (let d = 1; d <= depth; d++) body.push(P.MARK, ...Array.from({ length: width }, () => P.BINGET(d - 1)), P.TUPLE, P.BINPUT(d), P.POP);
  body.push(P.BINGET(depth), P.NONE, P.SETITEM);
  return pickle(...body);
}
for (const [w, d] of [[2, 20], [4, 16], [4, 24], [8, 12], [16, 8], [3, 30]]) {
  for (const [fmt, wrap, ext] of PICKLE_FORMATS) add(`shared tuple key ${w}×${d} (${fmt})`, 'either', (dir) => write(dir, `dag${ext}`, wrap(sharedTuple(w, d))));
}

// 2. One object referenced very many times from a small file.
function manyRefs(n: number, inner: number): Buffer {
  const body: number[][] = [P.EMPTY_LIST, P.BINPUT(0), P.MARK, ...Array.from({ length: inner }, (_, i) => P.BININT1(i & 0xff)), P.APPENDS, P.POP];
  const refs: number[] = new Array(2 * n);
  for (let i = 0; i < n; i++) { refs[2 * i] = 0x68; refs[2 * i + 1] = 0; }   // BINGET 0, n times, as one run
  body.push(P.EMPTY_DICT, P.str('w'), P.EMPTY_LIST, P.MARK, refs, P.APPENDS, P.SETITEM);
  return pickle(...body);
}
for (const [n, inner] of [[4000, 1000], [100_000, 40], [1_000_000, 4], [20_000, 1000]]) {
  for (const [fmt, wrap, ext] of PICKLE_FORMATS) add(`one list referenced ${n} times (${fmt})`, 'either', (dir) => write(dir, `refs${ext}`, wrap(manyRefs(n, inner))));
}

// 3. Memo floods and memo slots far away.
for (const [fmt, wrap, ext] of PICKLE_FORMATS) {
  add(`16 MiB of MEMOIZE (${fmt})`, 'refused', (dir) => write(dir, `flood${ext}`, wrap(Buffer.concat([Buffer.from([...P.PROTO(4), ...P.EMPTY_DICT]), Buffer.alloc(16 * 2 ** 20, 0x94), Buffer.from(P.STOP)]))), /memo/);
  add(`LONG_BINPUT at 2^32-1 then read back (${fmt})`, 'either', (dir) => write(dir, `far${ext}`, wrap(pickle(P.EMPTY_DICT, P.LONG_BINPUT(0xffffffff), P.POP, P.LONG_BINGET(0xffffffff)))));
  add(`BINGET of a slot never written (${fmt})`, 'refused', (dir) => write(dir, `unset${ext}`, wrap(pickle(P.BINGET(7)))), /memo slot 7/);
  add(`100,000 scattered LONG_BINPUT slots (${fmt})`, 'either', (dir) => write(dir, `scatter${ext}`, wrap(pickle(P.EMPTY_DICT, ...Array.from({ length: 100_000 }, (_, i) => P.LONG_BINPUT((i * 2654435761) >>> 0))))));
}

// 4. Depth: nested marks, tuples, lists, dicts.
for (const [fmt, wrap, ext] of PICKLE_FORMATS) {
  add(`1,000,000 nested MARKs (${fmt})`, 'refused', (dir) => write(dir, `marks${ext}`, wrap(pickle(Array(1_000_000).fill(0x28)))), /MARK/);
  add(`1,000,000 nested TUPLE1 as a dict key (${fmt})`, 'either', (dir) => write(dir, `t1${ext}`, wrap(pickle(P.EMPTY_DICT, P.str('x'), Array(1_000_000).fill(0x85), P.NONE, P.SETITEM))));
  add(`100,000 nested lists (${fmt})`, 'either', (dir) => write(dir, `lists${ext}`, wrap(pickle(Array(100_000).fill(0x5d), Array(99_999).fill(0x61)))));
  add(`100,000 nested dicts (${fmt})`, 'either', (dir) => write(dir, `dicts${ext}`, wrap(pickle(P.EMPTY_DICT, ...Array.from({ length: 99_999 }, () => [...P.str('k'), ...P.EMPTY_DICT]), Array(99_999).fill(0x73)))));
}

// 5. Dangerous globals, by every spelling: none is ever called, every one is refused.
const DANGEROUS = [
  ['os', 'system'], ['posix', 'system'], ['nt', 'system'], ['subprocess', 'Popen'], ['subprocess', 'check_output'], ['builtins', 'exec'],
  ['builtins', 'eval'], ['__builtin__', 'eval'], ['builtins', 'getattr'], ['builtins', '__import__'], ['importlib', 'import_module'],
  ['torch', 'load'], ['numpy', 'load'], ['copyreg', '_reconstructor'], ['functools', 'partial'], ['pickle', 'loads'], ['runpy', '_run_code'],
  ['code', 'InteractiveInterpreter'], ['webbrowser', 'open'], ['shutil', 'rmtree'],
];
for (const [m, n] of DANGEROUS) {
  for (const [fmt, wrap, ext] of PICKLE_FORMATS) {
    add(`${m}.${n} called (${fmt})`, 'refused', (dir) => write(dir, `evil${ext}`, wrap(pickle(P.global(m, n), P.str('touch /tmp/tensorport-pwned'), P.TUPLE1, P.REDUCE))), /unsafe|not on the allow-list|nothing was executed/);
  }
}
add('STACK_GLOBAL os.system (.pdparams)', 'refused', (dir) => write(dir, 'sg.pdparams', Buffer.from([...P.PROTO(4), ...P.stackGlobal('os', 'system'), ...P.str('id'), ...P.TUPLE1, ...P.REDUCE, ...P.STOP])), /os\.system/);
add('INST os.system (legacy .pt, protocol 0)', 'refused', (dir) => write(dir, 'inst.pt', legacyTorch(Buffer.from("(S'id'\nios\nsystem\n.", 'latin1'))));
add('INST os.system (.pdparams after a protocol header)', 'refused', (dir) => write(dir, 'inst.pdparams', Buffer.from("\x80\x02(S'id'\nios\nsystem\n.", 'latin1')), /os\.system/);
add('EXT1 code (.pdparams)', 'refused', (dir) => write(dir, 'ext.pdparams', pickle([0x82, 1])), /extension code/);
add('a global whose name has a newline and ANSI (.pdparams)', 'refused', (dir) => write(dir, 'g.pdparams', Buffer.from([...P.PROTO(4), ...P.str('os\x1b[2J'), ...P.str('sys\ntem'), 0x93, ...P.STOP])));

// 6. Lengths that lie.
for (const [fmt, wrap, ext] of PICKLE_FORMATS) {
  add(`BINUNICODE8 of 2^60 bytes (${fmt})`, 'refused', (dir) => write(dir, `len${ext}`, wrap(Buffer.from([...P.PROTO(4), 0x8d, ...u64(1n << 60n), ...ascii('abc'), ...P.STOP]))));
  add(`BINBYTES8 of 2^62 bytes (${fmt})`, 'refused', (dir) => write(dir, `bb${ext}`, wrap(Buffer.from([...P.PROTO(4), 0x8e, ...u64(1n << 62n), ...P.STOP]))));
  add(`LONG4 of 2^31 bytes (${fmt})`, 'refused', (dir) => write(dir, `l4${ext}`, wrap(Buffer.from([...P.PROTO(2), 0x8b, ...u32(0x7fffffff), 1, 2, ...P.STOP]))));
  add(`FRAME of 2^63 bytes (${fmt})`, 'refused', (dir) => write(dir, `fr${ext}`, wrap(Buffer.from([...P.PROTO(4), 0x95, ...u64(1n << 63n), ...P.STOP]))));
}

// 7. Keys that are Object's own names, and names that are escape sequences: listed, as they are.
const REAL_P4 = path.join(FIXTURES, 'real', 'paddle3', 'tiny_p4.pdparams');
const REAL_ZIP = path.join(FIXTURES, 'real', 'torch2', 'state_dict.pt');
/** A real file with some of its key strings replaced by others of the same byte length. */
function patched(src: string, swaps: [string, string][]): Buffer {
  let b = readFileSync(src);
  for (const [from, to] of swaps) {
    const a = Buffer.from(from, 'utf8'), c = Buffer.from(to, 'utf8');
    if (a.length !== c.length) throw new Error(`${from} → ${to}: lengths differ`);
    const at = b.indexOf(a);
    if (at < 0) throw new Error(`${from} not in ${src}`);
    b = Buffer.concat([b.subarray(0, at), c, b.subarray(at + a.length)]);
  }
  return b;
}
const PROTO_KEYS: [string, string][] = [['fc.weight', '__proto__'], ['bn._mean', 'toString'], ['ln.weight', 'valueOf.x']];
const ESC_KEYS: [string, string][] = [['bn.bias', '\x1b[31mAB'], ['ln.bias', 'a\u202ebcd'], ['fc.bias', 'x\ny\rz\u0007!']];
add('Paddle keys __proto__, toString, valueOf.x', 'listed', (dir) => write(dir, 'proto.pdparams', patched(REAL_P4, PROTO_KEYS)), /__proto__[\s\S]*toString/);
add('Paddle keys that are ANSI, bidi and newline', 'listed', (dir) => write(dir, 'esc.pdparams', patched(REAL_P4, ESC_KEYS)), /\\x1b\[31mAB/);
add('torch zip keys __proto__, toString', 'listed', (dir) => write(dir, 'proto.pt', patched(REAL_ZIP, [['fc.weight', '__proto__'], ['bn.bias', 'toStrin']])), /__proto__/);
add('torch zip keys that are ANSI and bidi', 'listed', (dir) => write(dir, 'esc.pt', patched(REAL_ZIP, [['bn.bias', '\x1b[2J\x1b[H'.slice(0, 7)], ['fc.bias', 'a\u202ebcd']])), /\\x1b\[2J/);

// 8. safetensors.
const st = (header: unknown, data: number | Buffer = 0, lengthOverride?: bigint) => safetensorsBytes(header, data, lengthOverride);
const ok = (dtype = 'F32') => ({ dtype, shape: [1], data_offsets: [0, 4] });
for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
  add(`safetensors dtype "${name}"`, 'refused', (dir) => write(dir, 'd.safetensors', st({ x: ok(name) }, 4)), /unknown dtype/);
  add(`safetensors key "${name}"`, 'listed', (dir) => write(dir, 'k.safetensors', st(`{"${name}":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4)), new RegExp(name));
  add(`safetensors metadata key "${name}"`, 'listed', (dir) => write(dir, 'm.safetensors', st(`{"__metadata__":{"${name}":"x"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 4)));
}
for (const [label, key] of [['ANSI', '\x1b[2J\x1b[1;1Hpwned'], ['newline', 'a\nb'], ['bidi', 'gnp.\u202etxt'], ['C1 CSI', '\u009b31m'], ['NUL', 'a\u0000b']]) {
  add(`safetensors key with ${label}`, 'listed', (dir) => write(dir, 'e.safetensors', st({ [key]: ok() }, 4)));
  add(`safetensors bad dtype on a key with ${label}`, 'refused', (dir) => write(dir, 'eb.safetensors', st({ [key]: ok('BAD') }, 4)));
}
add('safetensors header length 2^63', 'refused', (dir) => write(dir, 'h.safetensors', st({}, 0, 1n << 63n)));
add('safetensors header 100 MB claimed in a 1 KB file', 'refused', (dir) => write(dir, 'h2.safetensors', st({ x: ok() }, 4, 100_000_000n)));
// A header of the largest length the format allows, that stops being JSON right after `{` (NULs: a
// sparse file, no disk used): refused at its first piece, not read, copied and parsed whole (was 343 MB).
const nulHeader = (dir: string, name: string, start: string) => {
  const p = write(dir, name, Buffer.concat([Buffer.from(u64(100_000_000n)), Buffer.from(start, 'latin1')]));
  truncateSync(p, 8 + 100_000_000);
  return p;
};
add('safetensors header of 100,000,000 bytes, NUL after {', 'refused', (dir) => nulHeader(dir, 'nul.safetensors', '{'), /not valid JSON \(unexpected byte 0x00 .*at position 1\)/);
add('safetensors header of 100,000,000 bytes, NUL after a first tensor', 'refused', (dir) => nulHeader(dir, 'nul2.safetensors', '{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'), /not valid JSON/);
add('safetensors header of 100,000 nested arrays', 'refused', (dir) => write(dir, 'n.safetensors', st(`{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`)));
add('safetensors header of 100,000 nested objects', 'refused', (dir) => write(dir, 'o.safetensors', st(`{"x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`)));
add('safetensors 50,000 duplicate keys', 'either', (dir) => write(dir, 'dup.safetensors', st(`{${Array.from({ length: 50_000 }, () => '"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}').join(',')}}`, 4)));
add('safetensors shape [2^53]', 'refused', (dir) => write(dir, 's.safetensors', st({ x: { dtype: 'F32', shape: [2 ** 53], data_offsets: [0, 4] } }, 4)));
add('safetensors shape of 10,000 dims', 'refused', (dir) => write(dir, 's2.safetensors', st({ x: { dtype: 'F32', shape: Array(10_000).fill(2), data_offsets: [0, 4] } }, 4)));
add('safetensors offsets past 2^53', 'refused', (dir) => write(dir, 'off.safetensors', st(`{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,18014398509481988]}}`, 4)));
add('safetensors F4 ending mid-byte', 'refused', (dir) => write(dir, 'f4.safetensors', st({ x: { dtype: 'F4', shape: [3], data_offsets: [0, 2] } }, 2)), /whole number of bytes/);
add('safetensors 100,000 tensors of 0 bytes', 'listed', (dir) => write(dir, 'many.safetensors', st(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`t${i}`, { dtype: 'F32', shape: [0], data_offsets: [0, 0] }])))), /100000 tensors/);

// 9. Shard indexes.
function shardIndex(dir: string, weightMap: Record<string, string> | string, shards: Record<string, Buffer> = {}): string {
  for (const [n, b] of Object.entries(shards)) write(dir, n, b);
  return write(dir, 'model.safetensors.index.json', typeof weightMap === 'string' ? weightMap : JSON.stringify({ weight_map: weightMap }));
}
const oneShard = () => st({ w: ok() }, 4);
add('one shard under 30,000 spellings', 'listed', (dir) => shardIndex(dir, Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, i % 50 === 0 ? 'x.safetensors' : `${'./'.repeat(i % 50)}${'/'.repeat(i % 7)}x.safetensors`])), { 'x.safetensors': oneShard() }), /\b1 tensor\b/);
add('shard index key "toString" missing from the shards', 'listed', (dir) => shardIndex(dir, '{"weight_map":{"toString":"x.safetensors","w":"x.safetensors"}}', { 'x.safetensors': oneShard() }));
add('shard index key "__proto__"', 'listed', (dir) => shardIndex(dir, '{"weight_map":{"__proto__":"x.safetensors","w":"x.safetensors"}}', { 'x.safetensors': oneShard() }));
add('shard named ../x', 'refused', (dir) => shardIndex(dir, { w: '../x.safetensors' }), /outside the index's folder/);
add('shard named /etc/passwd', 'refused', (dir) => shardIndex(dir, { w: '/etc/passwd' }), /outside the index's folder/);
add('shard that does not exist', 'refused', (dir) => shardIndex(dir, { w: 'nope.safetensors' }));
add('index whose weight_map is an array', 'refused', (dir) => shardIndex(dir, '{"weight_map":[1,2]}'));
add('index that is 1,000 levels of JSON', 'refused', (dir) => shardIndex(dir, '['.repeat(1000)));
add('index naming 100,000 keys a shard does not hold', 'listed', (dir) => shardIndex(dir, Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, 'x.safetensors'])), { 'x.safetensors': oneShard() }));

// 10. ONNX.
add('ONNX node with 200,000 inputs of one name', 'listed', (dir) => write(dir, 'fan.onnx', onnxModel([
  ...len(1, [...Array.from({ length: 200_000 }, () => pstr(1, 'w')).flat(), ...pstr(2, 'y'), ...pstr(4, 'Sum')]),
  ...onnxInit('w', [1], Buffer.alloc(4)),
])), /\b1 tensor\b/);
// 50,000, not 100,000: listing 100,000 ONNX initializers takes the CLI ~1.1 s and ~240 MB here (see the note in README).
add('ONNX 50,000 initializers of one name', 'listed', (dir) => write(dir, 'dups.onnx', onnxModel(Array.from({ length: 50_000 }, () => onnxInit('w', [1], Buffer.alloc(4))).flat())), /repeat a name/);
for (const depth of [40, 1000]) {
  add(`ONNX If nested ${depth} deep`, 'refused', (dir) => {
    let graph: number[] = [];
    for (let i = 0; i < depth; i++) graph = len(1, [...pstr(4, 'If'), ...len(5, [...pstr(1, 'then_branch'), ...len(6, graph)])]);
    return write(dir, 'deep.onnx', onnxModel(graph));
  });
}
add('ONNX initializer with dims 2^62 × 2^62', 'refused', (dir) => write(dir, 'dims.onnx', onnxModel(onnxInit('w', [2 ** 52, 2 ** 52], Buffer.alloc(4)))));
add('ONNX initializer with 1,000,000 dims', 'either', (dir) => write(dir, 'ndim.onnx', onnxModel(len(5, [...Array.from({ length: 1_000_000 }, () => vint(1, 1)).flat(), ...vint(2, 1), ...pstr(8, 'w'), ...len(9, Buffer.alloc(4))]))));
add('ONNX field claiming 2^60 bytes', 'refused', (dir) => write(dir, 'len.onnx', Buffer.from([...vint(1, 8), ...varint((7 << 3) | 2), ...varint(1n << 60n), 1, 2, 3])));
add('ONNX names with ANSI and bidi', 'listed', (dir) => write(dir, 'esc.onnx', onnxModel([...onnxInit('\x1b[2Jw', [1], Buffer.alloc(4)), ...onnxInit('a\u202eb', [1], Buffer.alloc(4))])), /\\x1b\[2Jw/);
add('ONNX Constant value_floats claiming 2^40 floats', 'refused', (dir) => write(dir, 'cf.onnx', onnxModel(len(1, [...pstr(2, 'c'), ...pstr(4, 'Constant'), ...len(5, [...pstr(1, 'value_floats'), ...varint((7 << 3) | 2), ...varint(1n << 40n)])]))));
add('ONNX external data named ../../etc/passwd', 'refused', (dir) => write(dir, 'ext.onnx', onnxModel(len(5, [...vint(1, 1), ...vint(2, 1), ...pstr(8, 'w'), ...len(13, [...pstr(1, 'location'), ...pstr(2, '../../etc/passwd')]), ...vint(14, 1)]))), /ext\.onnx: initializer "w": external data location "\.\.\/\.\.\/etc\/passwd" resolves outside the model's folder/);
add('ONNX external data through a symlink to a file outside the model\'s folder', 'refused', (dir) => {
  symlinkSync(path.join(FIXTURES, 'mapping', 'vit_hf.safetensors'), path.join(dir, 'w.bin'));
  return write(dir, 'ext.onnx', onnxModel(len(5, [...vint(1, 1), ...vint(2, 1), ...pstr(8, 'w'), ...len(13, [...pstr(1, 'location'), ...pstr(2, 'w.bin')]), ...vint(14, 1)])));
}, /ext\.onnx: initializer "w": external data location "w\.bin" resolves outside the model's folder/);

// 11. GGUF.
add('GGUF claiming 2^63 tensors', 'refused', (dir) => write(dir, 'n.gguf', ggufHeader(1n << 63n, 0n)));
add('GGUF claiming 2^40 key/values', 'refused', (dir) => write(dir, 'kv.gguf', ggufHeader(0n, 1n << 40n)));
add('GGUF key of 2^62 bytes', 'refused', (dir) => write(dir, 'k.gguf', Buffer.concat([ggufHeader(0n, 1n), Buffer.from(u64(1n << 62n))])));
add('GGUF array of 2^50 strings', 'refused', (dir) => write(dir, 'a.gguf', Buffer.concat([ggufHeader(0n, 1n), ggufString('k'), Buffer.from(u32(9)), Buffer.from(u32(8)), Buffer.from(u64(1n << 50n))])));
add('GGUF arrays nested 100,000 deep', 'refused', (dir) => write(dir, 'na.gguf', Buffer.concat([ggufHeader(0n, 1n), ggufString('k'), Buffer.from(u32(9)), ...Array.from({ length: 100_000 }, () => Buffer.from([...u32(9), ...u64(1n)]))])));
add('GGUF tensor with 2^32-1 dims', 'refused', (dir) => write(dir, 'd.gguf', Buffer.concat([ggufHeader(1n, 0n), ggufString('w'), Buffer.from(u32(0xffffffff))])));
add('GGUF tensor with dims 2^40 × 2^40', 'refused', (dir) => write(dir, 'dd.gguf', Buffer.concat([ggufHeader(1n, 0n), ggufTensorInfo('w', [1n << 40n, 1n << 40n], 0, 0n)])));
add('GGUF tensor of unknown type 999', 'either', (dir) => write(dir, 't.gguf', Buffer.concat([ggufHeader(1n, 0n), ggufTensorInfo('w', [1n], 999, 0n)])));
add('GGUF names with ANSI and a bidi override', 'listed', (dir) => write(dir, 'e.gguf', Buffer.concat([ggufHeader(1n, 1n), ggufString('\x1b]0;pwn\x07k'), Buffer.from(u32(8)), ggufString('v\x1b[2J'), ggufTensorInfo('w\u202e', [1n], 0, 0n), Buffer.alloc(32 + 4)])), /w\\u\{202e\}/);
add('GGUF tensor named toString, metadata __proto__', 'listed', (dir) => write(dir, 'p.gguf', Buffer.concat([ggufHeader(1n, 1n), ggufString('__proto__'), Buffer.from(u32(8)), ggufString('x'), ggufTensorInfo('toString', [1n], 0, 0n), Buffer.alloc(64)])), /toString/);
add('GGUF 100,000 tensor names of 1 MB claimed', 'refused', (dir) => write(dir, 'big.gguf', Buffer.concat([ggufHeader(100_000n, 0n), Buffer.from(u64(1n << 20n)), Buffer.alloc(16)])));

// 12. torch zips.
const pklOf = (p: string) => readFileSync(p);
add('zip with two data.pkl', 'refused', (dir) => write(dir, 'two.pt', zip([{ name: 'a/data.pkl', data: pickle(P.EMPTY_DICT) }, { name: 'b/data.pkl', data: pickle(P.EMPTY_DICT) }])), /ambiguous/);
add('zip with one data.pkl and a second top folder', 'refused', (dir) => write(dir, 'tops.pt', zip([{ name: 'a/data.pkl', data: pickle(P.EMPTY_DICT) }, { name: 'b/data/0', data: Buffer.alloc(4) }])), /ambiguous/);
add('zip with two entries of one name', 'refused', (dir) => write(dir, 'dupe.pt', zip([{ name: 'a/data.pkl', data: pickle(P.global('os', 'system')) }, { name: 'a/data.pkl', data: pickle(P.EMPTY_DICT) }])), /ambiguous/);
add('zip with a deflated 500 MiB data.pkl', 'refused', (dir) => write(dir, 'bomb.pt', zip([{ name: 'a/data.pkl', data: Buffer.alloc(500 * 2 ** 20), deflate: true }])), /64|limit|compressed/);
add('zip whose deflated data.pkl lies about its size', 'refused', (dir) => write(dir, 'lie.pt', zip([{ name: 'a/data.pkl', data: Buffer.concat([pickle(P.EMPTY_DICT), Buffer.alloc(1 << 20)]), deflate: true, size: 10 }])));
add('zip of a malicious data.pkl', 'refused', (dir) => write(dir, 'evil.pt', torchZip(pickle(P.global('os', 'system'), P.str('id'), P.TUPLE1, P.REDUCE))), /os\.system/);
add('zip of a data.pkl naming a storage record that is missing', 'listed', (dir) => {
  const b = readFileSync(REAL_ZIP);
  // Rename the record of storage 0 so the pickle's reference finds nothing.
  const at = b.indexOf(Buffer.from('state_dict/data/0'));
  const c = Buffer.from(b);
  c.write('state_dict/data/X', at);
  c.write('state_dict/data/X', b.indexOf(Buffer.from('state_dict/data/0'), at + 1));
  return write(dir, 'missing.pt', c);
}, /missing from the archive/);
void pklOf;

// 13. Paddle inference models.
add('.pdiparams claiming 2^62 LoD levels', 'refused', (dir) => {
  write(dir, 'model.json', JSON.stringify({ program: { regions: [{ blocks: [{ ops: [{ '#': 'p', A: [0, 1, 1, 'w'], O: { TT: { D: [{ '#': '0.t_f32' }, [1]] } } }] }] }] } }));
  return write(dir, 'model.pdiparams', Buffer.from([...u32(0), ...u64(1n << 62n)]));
});
add('.pdiparams with a 2 GB tensor description', 'refused', (dir) => {
  write(dir, 'model.json', JSON.stringify({ program: { regions: [{ blocks: [{ ops: [{ '#': 'p', A: ['w'] }] }] }] } }));
  return write(dir, 'model.pdiparams', Buffer.from([...u32(0), ...u64(0n), ...u32(0), ...u32(0x7fffffff)]));
});
add('.pdiparams beside a program of 100,000 nested arrays', 'refused', (dir) => {
  write(dir, 'model.json', '['.repeat(100_000));
  return write(dir, 'model.pdiparams', Buffer.alloc(16));
});
add('.pdiparams without a program', 'refused', (dir) => write(dir, 'model.pdiparams', Buffer.alloc(16)), /put the program beside it/);
add('.pdiparams whose program names 100,000 parameters', 'refused', (dir) => {
  write(dir, 'model.json', JSON.stringify({ program: { regions: [{ blocks: [{ ops: Array.from({ length: 100_000 }, (_, i) => ({ '#': 'p', A: [`p${i}`] })) }] }] } }));
  return write(dir, 'model.pdiparams', Buffer.alloc(16));
});
add('.pdiparams named by a real program, bytes of another file', 'refused', (dir) => {
  copyFileSync(path.join(FIXTURES, 'real', 'paddle3', 'inference_pir', 'model.json'), path.join(dir, 'model.json'));
  return write(dir, 'model.pdiparams', readFileSync(REAL_P4));
});

// 14. Tiny and empty files of every kind.
for (const ext of ['.safetensors', '.pt', '.bin', '.pth', '.ckpt', '.pdparams', '.onnx', '.gguf', '.npy', '.npz', '.msgpack', '.index', '.h5', '.keras']) {
  // 0x80 alone is msgpack's empty map: an empty Flax state, listed with no tensors.
  for (const n of [0, 1, 2, 3, 7, 8]) add(`${n}-byte ${ext}`, n === 1 && ext === '.msgpack' ? 'either' : 'refused', (dir) => write(dir, `tiny${ext}`, Buffer.alloc(n, n === 1 ? 0x80 : 0x50)));
}

// 15. NumPy, Flax msgpack, TensorFlow and HDF5/Keras: nesting bombs, counts and offsets that lie, cycles.
const FW = path.join(FIXTURES, 'frameworks');
const mp = (...parts: (number[] | Buffer)[]) => Buffer.concat(parts.map((p) => Buffer.from(p)));
add('msgpack: 1,000,000 nested maps', 'refused', (dir) => write(dir, 'bomb.msgpack', mp(Buffer.alloc(3_000_000).fill(Buffer.from([0x81, 0xa1, 0x6b])), [0xc0])), /nest/);
add('msgpack: 1,000,000 nested arrays under one key', 'refused', (dir) => write(dir, 'arrays.msgpack', mp([0x81, 0xa1, 0x6b], Buffer.alloc(1_000_000, 0x91), [0xc0])), /nest/);
add('msgpack: a map claiming 2^32-1 entries', 'refused', (dir) => write(dir, 'count.msgpack', mp([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x6b, 0xc0])), /cannot fit/);
add('msgpack: an array ext whose buffer claims 4 GiB', 'refused', (dir) => write(dir, 'ext.msgpack', mp([0x81, 0xa1, 0x6b, 0xc9, 0, 0, 0, 20, 1, 0x93, 0x91, 4, 0xa7, ...ascii('float32'), 0xc6, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])), /runs past/);
add('msgpack: an array of 2^40 elements in 8 bytes', 'either', (dir) => write(dir, 'shape.msgpack', mp([0x81, 0xa1, 0x6b, 0xc7, 21, 1, 0x93, 0x91, 0xcf, 0, 0, 1, 0, 0, 0, 0, 0, 0xa7, ...ascii('float32'), 0xc4, 0])), /no byte location/);
add('.npy whose header length runs past the file', 'refused', (dir) => write(dir, 'long.npy', mp(ascii('\x93NUMPY'), [1, 0, 0xff, 0xff], ascii('{'))), /truncated|limit/);
add('.npy of shape (2^40,) in 100 bytes', 'refused', (dir) => write(dir, 'huge.npy', mp(ascii('\x93NUMPY'), [1, 0, 70, 0], ascii(`{'descr': '<f4', 'fortran_order': False, 'shape': (${2 ** 40},), }`.padEnd(69) + '\n'))), /truncated/);
add('.npy header nested 100,000 tuples deep', 'refused', (dir) => write(dir, 'deep.npy', mp(ascii('\x93NUMPY'), [1, 0, 0x10, 0x27], ascii('('.repeat(9999) + '\n'))), /nested too deeply|not the dict/);
add('.npz member that is no .npy', 'refused', (dir) => write(dir, 'junk.npz', zip([{ name: 'w.npy', data: Buffer.from('not an array') }])), /magic/);
add('.npz deflated member whose header inflates from a bomb', 'refused', (dir) => write(dir, 'bomb.npz', zip([{ name: 'w.npy', data: Buffer.alloc(64 * 2 ** 20, 0x20), deflate: true }])), /magic/);
add('TF index whose data shard is shorter than its offsets say', 'either', (dir) => {
  copyFileSync(path.join(FW, 'tf1', 'bert_model.ckpt.index'), path.join(dir, 'm.ckpt.index'));
  write(dir, 'm.ckpt.data-00000-of-00001', Buffer.alloc(10));
  return path.join(dir, 'm.ckpt.index');
}, /run past the end of its/);
add('TF index whose footer points past the file', 'refused', (dir) => {
  const b = readFileSync(path.join(FW, 'tf1', 'bert_model.ckpt.index'));
  b.fill(0x7f, b.length - 48, b.length - 8);
  return write(dir, 'lie.index', b);
}, /past|varint/);
add('TF index truncated by one byte', 'refused', (dir) => write(dir, 'cut.index', readFileSync(path.join(FW, 'tf2', 'ckpt.index')).subarray(1)), /magic|past|not a TensorFlow/);
add('HDF5 truncated after its superblock', 'refused', (dir) => write(dir, 'cut.h5', readFileSync(path.join(FW, 'keras', 'model.weights.h5')).subarray(0, 200)), /outside the file|truncated/);
add('HDF5 whose root object header address points at the superblock', 'refused', (dir) => {
  const b = readFileSync(path.join(FW, 'hdf5', 'earliest.h5'));
  b.writeBigUInt64LE(0n, 64);
  return write(dir, 'self.h5', b);
}, /object header/);
add('HDF5 with a hard link back to the root (a cycle)', 'listed', (dir) => { copyFileSync(path.join(FW, 'hdf5', 'latest.h5'), path.join(dir, 'cycle.h5')); return path.join(dir, 'cycle.h5'); }, /encoder\/block_0\/kernel/);
add('.keras whose model.weights.h5 is no HDF5', 'refused', (dir) => write(dir, 'm.keras', zip([{ name: 'model.weights.h5', data: Buffer.alloc(4096) }])), /HDF5/);

// TF.js model.json: only the JSON is read and the shards stat'ed; every lie in the manifest is one line.
const tfjsModel = (dir: string, manifest: unknown, shards: Record<string, Buffer | number> = {}, name = 'model.json') => {
  for (const [f, b] of Object.entries(shards)) write(dir, f, typeof b === 'number' ? Buffer.alloc(b) : b);
  return write(dir, name, typeof manifest === 'string' ? manifest : JSON.stringify({ format: 'layers-model', weightsManifest: manifest }));
};
const w = (name: string, shape: unknown, dtype: unknown = 'float32', extra: Record<string, unknown> = {}) => ({ name, shape, dtype, ...extra });
add('TF.js shard shorter than the manifest says', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [4, 3])] }], { 'g.bin': 40 }), /holds 40 bytes.*take 48/);
add('TF.js shard longer than the manifest says', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [4, 3])] }], { 'g.bin': 100 }), /holds 100 bytes/);
add('TF.js shard path with ..', 'refused', (dir) => tfjsModel(dir, [{ paths: ['../g.bin'], weights: [w('d/kernel', [1])] }]), /outside the model.json's folder/);
add('TF.js absolute shard path', 'refused', (dir) => tfjsModel(dir, [{ paths: ['/etc/passwd'], weights: [w('d/kernel', [1])] }]), /absolute path/);
add('TF.js shard given as a URL', 'refused', (dir) => tfjsModel(dir, [{ paths: ['https://example.com/g.bin'], weights: [w('d/kernel', [1])] }]), /URL/);
add('TF.js shard that is a folder', 'refused', (dir) => { mkdirSync(path.join(dir, 'g.bin')); return tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [1])] }]); }, /directory/);
add('TF.js shard missing', 'refused', (dir) => tfjsModel(dir, [{ paths: ['nope.bin'], weights: [w('d/kernel', [1])] }]), /nope\.bin/);
add('TF.js huge shape (element count past 2^53)', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [2 ** 30, 2 ** 30, 2 ** 30])] }], { 'g.bin': 4 }), /elements/);
add('TF.js shape with 1e999 (Infinity)', 'refused', (dir) => tfjsModel(dir, '{"weightsManifest":[{"paths":["g.bin"],"weights":[{"name":"d/kernel","shape":[1e999],"dtype":"float32"}]}]}', { 'g.bin': 4 }), /dimension Infinity/);
add('TF.js negative and fractional dimensions', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [-1, 2.5])] }], { 'g.bin': 4 }), /not a non-negative integer/);
add('TF.js quantization scale that is not finite', 'refused', (dir) => tfjsModel(dir, '{"weightsManifest":[{"paths":["g.bin"],"weights":[{"name":"d/kernel","shape":[4],"dtype":"float32","quantization":{"dtype":"uint8","scale":1e999,"min":0}}]}]}', { 'g.bin': 4 }), /not a finite number/);
add('TF.js uint8 quantization without min', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [4], 'float32', { quantization: { dtype: 'uint8', scale: 0.1 } })] }], { 'g.bin': 4 }), /min is missing/);
add('TF.js duplicated weight names', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [1]), w('d/kernel', [1])] }], { 'g.bin': 8 }), /listed twice/);
add('TF.js unknown dtype', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [1], 'float64')] }], { 'g.bin': 8 }), /unknown dtype "float64"/);
add('TF.js unknown quantization dtype', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('d/kernel', [1], 'float32', { quantization: { dtype: 'int4' } })] }], { 'g.bin': 1 }), /unknown quantization dtype "int4"/);
add('TF.js string weight (variable length)', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('vocab', [3], 'string')] }], { 'g.bin': 12 }), /string tensor/);
add('TF.js weightsManifest that is not a list', 'refused', (dir) => tfjsModel(dir, '{"weightsManifest":{"paths":[]}}'), /not a list of groups/);
add('TF.js one shard named in two groups', 'refused', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('a', [1])] }, { paths: ['g.bin'], weights: [w('b', [1])] }], { 'g.bin': 4 }), /named twice/);
add('TF.js weight names that are escape sequences and Object keys', 'listed', (dir) => tfjsModel(dir, [{ paths: ['g.bin'], weights: [w('\u001b[31mred', [1]), w('__proto__', [1]), w('constructor', [1])] }], { 'g.bin': 12 }), /__proto__/);
add('TF.js JSON without weightsManifest', 'refused', (dir) => write(dir, 'config.json', '{"hidden_size": 8}'), /not a TF\.js model\.json/);
add('TF.js model.json that is not JSON', 'refused', (dir) => write(dir, 'model.json', '{"weightsManifest": [' + '['.repeat(100_000)), /not valid JSON/);
add('TF.js weights-only manifest, a weight spanning two shards', 'listed', (dir) => tfjsModel(dir, JSON.stringify([{ paths: ['a.bin', 'b.bin'], weights: [w('x', [3]), w('y', [2])] }]), { 'a.bin': 6, 'b.bin': 14 }, 'weights_manifest.json'), /2 tensors/);

orbaxCases(add);

export function hostileCases(): HostileCase[] {
  return cases;
}

export function prepare(c: HostileCase, root: string, i: number): string {
  const dir = path.join(root, String(i));
  mkdirSync(dir, { recursive: true });
  return c.make(dir);
}
