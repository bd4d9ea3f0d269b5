/**
 * Reads a Paddle inference model's parameters (`paddle.jit.save`, `save_inference_model`): the
 * `.pdiparams` file is the program's persistable tensors serialised back to back with no names, in
 * the order of their names sorted (Paddle's `save_combine`: `for name in sorted(save_var_map)`), so the
 * names come from the program beside it — `X.json` (PIR, Paddle ≥ 3) or `X.pdmodel` (a ProgramDesc
 * protobuf). Each tensor record is: u32 version, u64 LoD level count and the levels, u32 tensor
 * version, i32 TensorDesc length, the TensorDesc protobuf (data_type, dims), then the raw data, which
 * is skipped. The program's own shapes are checked against the records, so names never slide.
 */
import { table } from './table';
import { promises as fs } from 'node:fs';
import * as nodePath from 'node:path';
import { ByteSource, withSource } from './byteSource';
import { absoluteName } from './remote/remoteName';
import { Field, LEN, VARINT, WireCursor } from './protobufWire';
import { ReaderError, unreadable } from './readerError';
import { CheckpointInfo, TensorInfo, dtypeBits, numel } from './tensorInfo';

/** Paddle's VarType.Type → safetensors' dtype names (paddle/fluid/framework/framework.proto). */
const PADDLE_DTYPES: Readonly<Record<number, string>> = {
  0: 'BOOL', 1: 'I16', 2: 'I32', 3: 'I64', 4: 'F16', 5: 'F32', 6: 'F64', 20: 'U8', 21: 'I8', 22: 'BF16',
  23: 'C64', 24: 'C128', 32: 'F8_E4M3', 33: 'F8_E5M2', 36: 'U16', 37: 'U32', 38: 'U64',
};
/** PIR's type names in the `.json` program (`0.t_f32`) → the same names. */
const PIR_DTYPES: Readonly<Record<string, string>> = table({
  t_bool: 'BOOL', t_i8: 'I8', t_ui8: 'U8', t_i16: 'I16', t_i32: 'I32', t_i64: 'I64', t_f16: 'F16', t_bf16: 'BF16',
  t_f32: 'F32', t_f64: 'F64', t_c64: 'C64', t_c128: 'C128', t_f8e4m3fn: 'F8_E4M3', t_f8e5m2: 'F8_E5M2',
  t_ui16: 'U16', t_ui32: 'U32', t_ui64: 'U64',
});
/** VarType.Type values that are not saved tensors: feed/fetch lists, raw and reader variables. */
const NOT_SAVED = new Set([9, 10, 11, 12, 13, 14, 15, 17, 18, 28]);
const DENSE_TENSOR = 7;
/** A JSON program larger than this is not a real model's (PaddleOCR's largest are a few MB). */
const MAX_PROGRAM_JSON = 256 * 1024 * 1024;
const MAX_DIMS = 64;

interface ProgramVar { name: string; dtype?: string; shape?: number[] }


export async function readPaddleInference(file: string, display: string): Promise<CheckpointInfo> {
  const stem = file.slice(0, -'.pdiparams'.length);
  const program = await findProgram(stem);
  if (!program) {
    throw unreadable(display, `a .pdiparams file holds its tensors without names, in the order of the program's: put the program beside it (${nodePath.basename(stem)}.json or ${nodePath.basename(stem)}.pdmodel)`);
  }
  const programDisplay = nodePath.join(nodePath.dirname(display), nodePath.basename(program));
  const vars = program.endsWith('.json')
    ? await withSource(program, programDisplay, (src) => pirParameters(src))
    : await withSource(program, programDisplay, (src) => programDescVars(src));
  const names = [...vars].sort((a, b) => compareCodePoints(a.name, b.name));
  const tensors = await withSource(file, display, (src) => records(src, names));
  return {
    file: display, format: 'paddle-inference', framework: 'paddle', tensors,
    notes: [`names from ${nodePath.basename(program)} (the program beside it)`],
  };
}

async function findProgram(stem: string): Promise<string | undefined> {
  for (const ext of ['.json', '.pdmodel']) {
    const p = stem + ext;
    const st = await fs.stat(p).catch(() => undefined);
    if (st?.isFile()) return p;
  }
  return undefined;
}

/** Python sorts str by code point; JavaScript's default sort compares UTF-16 units, which differs past U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  const x = [...a], y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** The tensor records, one per program name, each checked against the program's dtype and shape. */
async function records(src: ByteSource, vars: ProgramVar[]): Promise<TensorInfo[]> {
  const name = src.displayName;
  const abs = absoluteName(src.path, nodePath.resolve);
  const tensors: TensorInfo[] = [];
  const cur = new WireCursor(src);
  let pos = 0;
  const need = (n: number, what: string): void => {
    if (pos + n > src.size) throw unreadable(name, `${what} needs ${n} bytes but the file ends after ${src.size - pos}: truncated, or not the parameters of this program`, pos);
  };
  for (const v of vars) {
    if (pos === src.size) {
      throw unreadable(name, `the program names ${vars.length} persistable tensors but the file ends after ${tensors.length}: not the parameters of this program`, pos);
    }
    need(12, `tensor ${tensors.length} (\`${v.name}\`) header`);
    const head = await src.read(pos, 12, 'tensor header');
    const version = head.readUInt32LE(0);
    if (version !== 0) throw unreadable(name, `tensor record ${tensors.length} has version ${version} (expected 0): not a .pdiparams file`, pos);
    const levels = Number(head.readBigUInt64LE(4));
    if (levels > 16) throw unreadable(name, `tensor record ${tensors.length} claims ${levels} LoD levels: corrupt`, pos + 4);
    pos += 12;
    for (let l = 0; l < levels; l++) {
      need(8, 'LoD level size');
      const size = Number((await src.read(pos, 8, 'LoD level')).readBigUInt64LE(0));
      pos += 8;
      need(size, 'LoD level');
      pos += size;
    }
    need(8, 'tensor description');
    const desc = await src.read(pos, 8, 'tensor description');
    const tensorVersion = desc.readUInt32LE(0);
    const descLen = desc.readInt32LE(4);
    if (tensorVersion !== 0 || descLen <= 0 || descLen > 4096) {
      throw unreadable(name, `tensor record ${tensors.length} has a tensor description of version ${tensorVersion} and ${descLen} bytes: corrupt`, pos);
    }
    pos += 8;
    need(descLen, 'tensor description');
    const { dataType, dims } = await tensorDescAt(cur, pos, pos + descLen, name);
    pos += descLen;
    const dtype = PADDLE_DTYPES[dataType];
    if (!dtype) throw unreadable(name, `tensor \`${v.name}\` has Paddle data type ${dataType}, which this reader does not know`, pos);
    if (v.shape && (v.shape.length !== dims.length || v.shape.some((d, i) => d >= 0 && d !== dims[i]))) {
      throw unreadable(name, `tensor \`${v.name}\` is [${dims.join(', ')}] in the file but [${v.shape.join(', ')}] in the program: not the parameters of this program`, pos);
    }
    if (v.dtype && v.dtype !== dtype) {
      throw unreadable(name, `tensor \`${v.name}\` is ${dtype} in the file but ${v.dtype} in the program: not the parameters of this program`, pos);
    }
    const length = numel(dims) * (dtypeBits(dtype)! / 8);
    need(length, `tensor \`${v.name}\` data`);
    tensors.push({ key: v.name, dtype, shape: dims, location: { file: abs, offset: pos, length } });
    pos += length;
  }
  if (pos !== src.size) throw unreadable(name, `the program names ${vars.length} persistable tensors but the file holds ${src.size - pos} more bytes after them: not the parameters of this program`, pos);
  return tensors;
}

/**
 * A TensorDesc (data_type 1, dims 2, packed or not) in [start, end) of the file, walked with the same
 * protobuf cursor as the program. `declared`: a program's own description, where -1 marks a dimension
 * fixed only at run time.
 */
async function tensorDescAt(cur: WireCursor, start: number, end: number, file: string, declared = false): Promise<{ dataType: number; dims: number[] }> {
  let dataType = -1;
  const dims: number[] = [];
  cur.pos = start;
  for (let f = await cur.next(end); f; f = await cur.next(end)) {
    if (f.field === 1 && f.wire === VARINT) dataType = f.value;
    else if (f.field === 2 && (f.wire === VARINT || f.wire === LEN)) await cur.varints(f, (d) => dims.push(d));
    cur.pos = f.end;
  }
  if (dataType < 0 || dims.length > MAX_DIMS || dims.some((d) => d < (declared ? -1 : 0) || !Number.isSafeInteger(d))) {
    throw unreadable(file, `tensor description with data type ${dataType} and dims [${dims.slice(0, MAX_DIMS).join(', ')}]: corrupt`, start);
  }
  return { dataType, dims };
}

/** PIR (`.json`): every `builtin.parameter` op ("p") names a tensor; its result type gives dtype and shape. */
async function pirParameters(src: ByteSource): Promise<ProgramVar[]> {
  const name = src.displayName;
  if (src.size > MAX_PROGRAM_JSON) throw unreadable(name, `the program is ${src.size} bytes, more than this reader accepts`);
  let doc: unknown;
  try {
    doc = JSON.parse((await src.read(0, src.size, 'program')).toString('utf8'));
  } catch (e) {
    if (e instanceof ReaderError) throw e;
    throw unreadable(name, 'the program is not JSON: not a Paddle PIR program');
  }
  const out: ProgramVar[] = [];
  const seen = new Set<string>();
  const visit = (ops: unknown): void => {
    if (!Array.isArray(ops)) return;
    for (const op of ops) {
      if (!isRecord(op)) continue;
      if (op['#'] === 'p' || op['#'] === '0.parameter' || op['#'] === 'builtin.parameter') {
        const attrs = Array.isArray(op.A) ? op.A : [];
        const pname = [...attrs].reverse().find((a) => typeof a === 'string');
        if (typeof pname !== 'string' || seen.has(pname)) continue;
        seen.add(pname);
        out.push({ name: pname, ...pirType(op.O) });
      }
      // Control flow nests regions → blocks → ops; parameters are in the top block, but look everywhere.
      for (const r of Array.isArray(op.regions) ? op.regions : []) for (const b of isRecord(r) && Array.isArray(r.blocks) ? r.blocks : []) visit(isRecord(b) ? b.ops : undefined);
    }
  };
  const program = isRecord(doc) ? doc.program : undefined;
  const regions = isRecord(program) && Array.isArray(program.regions) ? program.regions : undefined;
  if (!regions) throw unreadable(name, 'no "program.regions" in the JSON: not a Paddle PIR program');
  for (const r of regions) for (const b of isRecord(r) && Array.isArray(r.blocks) ? r.blocks : []) visit(isRecord(b) ? b.ops : undefined);
  return out;
}

/** `{"%": id, "TT": {"#": "0.t_dtensor", "D": [{"#": "0.t_f32"}, [4, 3], layout, lod, offset]}}` → dtype, shape. */
function pirType(o: unknown): Pick<ProgramVar, 'dtype' | 'shape'> {
  const tt = isRecord(o) && isRecord(o.TT) ? o.TT : undefined;
  const d = tt && Array.isArray(tt.D) ? tt.D : undefined;
  if (!d) return {};
  const typeName = isRecord(d[0]) && typeof d[0]['#'] === 'string' ? d[0]['#'].replace(/^\d+\./, '') : undefined;
  const shape = Array.isArray(d[1]) && d[1].every((x) => Number.isSafeInteger(x)) ? (d[1] as number[]) : undefined;
  return { dtype: typeName ? PIR_DTYPES[typeName] : undefined, shape };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** ProgramDesc (`.pdmodel`): the persistable variables of block 0 that save_combine writes, with their declared types. */
async function programDescVars(src: ByteSource): Promise<ProgramVar[]> {
  const cur = new WireCursor(src);
  const out: ProgramVar[] = [];
  const fail = (what: string, f: Field): never => { throw cur.malformed(`${what} has wire type ${f.wire}: not a Paddle program`, f.at); };
  let blocks = 0;
  for (let f = await cur.next(src.size); f; f = await cur.next(src.size)) {
    if (f.field === 1) {
      if (f.wire !== LEN) fail('ProgramDesc.blocks', f);
      // Only the first (global) block holds parameters; sub-blocks of control flow refer to them.
      if (blocks++ === 0) await blockVars(cur, f, out, src.displayName);
    }
    cur.pos = f.end;
  }
  if (blocks === 0) throw unreadable(src.displayName, 'the program has no blocks: not a Paddle .pdmodel');
  return out;
}

async function blockVars(cur: WireCursor, block: Field, out: ProgramVar[], display: string): Promise<void> {
  for (let f = await cur.next(block.end); f; f = await cur.next(block.end)) {
    if (f.field === 3 && f.wire === LEN) {
      const v = await varDesc(cur, f, display);
      if (v) out.push(v);
    }
    cur.pos = f.end;
  }
}

async function varDesc(cur: WireCursor, v: Field, display: string): Promise<ProgramVar | undefined> {
  let name = '';
  let persistable = false;
  let type = -1;
  let dtype: string | undefined;
  let shape: number[] | undefined;
  for (let f = await cur.next(v.end); f; f = await cur.next(v.end)) {
    if (f.field === 1 && f.wire === LEN) name = await cur.string(f, 4096, 'VarDesc.name');
    else if (f.field === 3 && f.wire === VARINT) persistable = f.value !== 0;
    else if (f.field === 2 && f.wire === LEN) {
      // VarType: type (1), dense_tensor (3) → tensor (1) → data_type (1), dims (2).
      for (let t = await cur.next(f.end); t; t = await cur.next(f.end)) {
        if (t.field === 1 && t.wire === VARINT) type = t.value;
        else if (t.field === 3 && t.wire === LEN) {
          for (let d = await cur.next(t.end); d; d = await cur.next(t.end)) {
            if (d.field === 1 && d.wire === LEN) {
              const desc = await tensorDescAt(cur, d.start, d.end, display, true);
              dtype = PADDLE_DTYPES[desc.dataType];
              shape = desc.dims;
            }
            cur.pos = d.end;
          }
        }
        cur.pos = t.end;
      }
    }
    cur.pos = f.end;
  }
  if (!persistable || NOT_SAVED.has(type) || name === 'feed' || name === 'fetch') return undefined;
  return type === DENSE_TENSOR || type === -1 ? { name, dtype, shape } : undefined;
}
