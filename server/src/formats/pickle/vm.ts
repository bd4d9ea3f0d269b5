/**
 * A pickle interpreter that only ever builds data. It walks the opcodes of protocols 0–5 over a
 * byte range of a file, resolves GLOBAL against the allow-list (allowList.ts) and stops with
 * `unsafe-pickle` on any other name, before anything could have been called. Payloads above
 * `inlineLimit` stay in the file as lazy references, so a multi-GB `.pdparams` is walked, not loaded.
 */
import { ReaderError, unreadable } from '../readerError';
import { buildObject, callGlobal, newObject, refusedGlobal, resolveGlobal, type CallContext } from './allowList';
import { Cursor, type RandomAccess } from './cursor';
import { Op, opName } from './opcodes';
import { type PyDict, type PyValue, dictSet, isObj, iterItems, kindOf, newDict } from './values';

export interface PickleOptions {
  /** Turns a persistent id (torch's storage references) into a value; without it they are an error. */
  persistentLoad?: (pid: PyValue, ctx: CallContext) => PyValue;
  /** Payloads of at most this many bytes are copied into memory; larger ones become lazy references. */
  inlineLimit?: number;
  /** Require a PROTO opcode first (every torch and Paddle pickle has one), so random bytes fail fast. */
  requireProto?: boolean;
  maxMemo?: number;
  maxMarkDepth?: number;
  /**
   * Remember where each inline UTF-8 str lies in the file, so `_codecs.encode(str, 'latin1')` (how
   * protocol 2 writes bytes) can say where its data is. Equal strings share one entry: same bytes.
   */
  recordStrOffsets?: boolean;
  /** Accept `builtins.eval` in the one form Paddle pickles a DenseTensor with (allowList.ts); `.pdparams` only. */
  paddleDenseTensors?: boolean;
}

export interface PickleResult {
  value: PyValue;
  /** Offset just past the STOP opcode: where a following pickle (legacy torch) begins. */
  end: number;
  protocol: number;
}

const LINE_MAX = 1 << 12;
const LOOK_AHEAD = 1 << 16;
const MEMO_GAP = 1 << 16;
const TEXT_LINE_MAX = 1 << 26;
const LONG_MAX_BYTES = 1 << 16;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export async function runPickle(src: RandomAccess, start: number, end: number, opts: PickleOptions = {}): Promise<PickleResult> {
  const file = src.displayName;
  const inlineLimit = opts.inlineLimit ?? 1024;
  const maxMemo = opts.maxMemo ?? 1 << 22;
  const maxMarkDepth = opts.maxMarkDepth ?? 10_000;
  const cur = new Cursor(src, start, end);
  let stack: PyValue[] = [];
  const metastack: PyValue[][] = [];
  // Picklers number memo slots 0, 1, 2, …: a dense array is ~10× cheaper than a Map per slot, which is
  // what a memo-flooding file costs. A slot far past the end (never written by a pickler) goes to `far`.
  const memo: (PyValue | undefined)[] = [];
  const far = new Map<number, PyValue>();
  let memoCount = 0;
  let protocol = 0;
  let opAt = start;
  let first = true;
  let lastOp = 0;

  // Reads `stack` at call time: `stack.push(popMark())` would push onto the stack popMark just left.
  const push = (v: PyValue): void => {
    stack.push(v);
  };
  const fail: (reason: string) => never = (reason) => {
    throw unreadable(file, reason, opAt);
  };
  const refuse: (reason: string) => never = (reason) => {
    throw new ReaderError('unsafe-pickle', file, reason, opAt);
  };
  const strOffsets = opts.recordStrOffsets ? new Map<string, { offset: number; length: number }>() : undefined;
  const ctx: CallContext = strOffsets ? { fail, refuse, strAt: (s) => strOffsets.get(s) } : { fail, refuse };
  const pop = (): PyValue => (stack.length > 0 ? (stack.pop() as PyValue) : fail(`${opName(lastOp)} on an empty stack (stack underflow): corrupt pickle`));
  const top = (): PyValue => (stack.length > 0 ? stack[stack.length - 1] : fail(`${opName(lastOp)} on an empty stack (stack underflow): corrupt pickle`));
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) return fail(`${opName(lastOp)} without a MARK: corrupt pickle`);
    stack = prev;
    return items;
  };
  const put = (idx: number, v: PyValue) => {
    const dense = idx <= memo.length + MEMO_GAP;
    const fresh = dense ? memo[idx] === undefined : !far.has(idx);
    if (fresh && ++memoCount > maxMemo) fail(`pickle memo grows past ${maxMemo} entries: refusing to continue`);
    if (dense) memo[idx] = v;
    else far.set(idx, v);
  };
  const get = (idx: number): PyValue => {
    // A slot written far ahead lives in `far` even once the dense part has grown past it.
    const v = (idx < memo.length ? memo[idx] : undefined) ?? far.get(idx);
    return v === undefined ? fail(`memo slot ${idx} is read before it is written: corrupt pickle`) : v;
  };
  const resolve = async (module: string, name: string): Promise<PyValue> => {
    if (!IDENT.test(module) || !IDENT.test(name)) {
      return fail(`GLOBAL names ${JSON.stringify(`${module}.${name}`.slice(0, 80))}, which is not a Python name: corrupt pickle`);
    }
    const g = resolveGlobal(module, name);
    // eval is modelled for Paddle's DenseTensor form only; everywhere else naming it ends the read.
    if (g && (g.name !== 'builtins.eval' || opts.paddleDenseTensors)) return g;
    // The bytes that follow, read as text, only to word the refusal (a pickled nn.Module names its layer classes).
    const ahead = await src.read(opAt, Math.min(LOOK_AHEAD, end - opAt), 'pickle data').catch(() => Buffer.alloc(0));
    const refusal = refusedGlobal(module, name, ahead.toString('latin1'));
    throw new ReaderError(refusal.code, file, refusal.reason, opAt);
  };
  const lineText = async (what: string, max = LINE_MAX): Promise<string> => (await cur.line(max, what)).toString('latin1');
  const lineInt = async (what: string): Promise<number> => {
    const t = (await lineText(what)).trim();
    const n = /^-?\d+$/.test(t) ? Number(t) : NaN;
    return Number.isSafeInteger(n) ? n : fail(`${what} ${JSON.stringify(t.slice(0, 40))} is not an integer`);
  };
  const length = (n: number, what: string): number => {
    if (n < 0) return fail(`${what} has a negative length (${n}): corrupt pickle`);
    cur.check(n, what);
    return n;
  };
  /** A str/bytes payload: copied when small, else a reference into the file that is skipped. */
  const payload = async (n: number, of: 'str' | 'bytes', enc: 'raw' | 'utf8', what: string): Promise<PyValue> => {
    length(n, what);
    if (n > inlineLimit) {
      const lazy: PyValue = { kind: 'lazy', of, offset: cur.pos, length: n, encoding: enc };
      cur.skip(n, what);
      return lazy;
    }
    const at = cur.pos;
    const b = await cur.bytes(n, what);
    if (of === 'bytes') return { kind: 'bytes', data: b, offset: at };
    const s = b.toString(enc === 'utf8' ? 'utf8' : 'latin1');
    if (strOffsets && enc === 'utf8' && n > 0 && !strOffsets.has(s)) strOffsets.set(s, { offset: at, length: n });
    return s;
  };
  const call = (fn: PyValue, args: PyValue, how: string): PyValue => {
    const a = iterItems(args);
    if (!a) return fail(`${how} arguments are a ${kindOf(args)}, not a tuple`);
    return callGlobal(fn, a, ctx);
  };
  const persistent = (pid: PyValue): PyValue => {
    if (!opts.persistentLoad) return fail('pickle refers to external data (a persistent id), which this format does not have');
    return opts.persistentLoad(pid, ctx);
  };
  const asDict = (v: PyValue, what: string): PyDict => (isObj(v) && v.kind === 'dict' ? v : fail(`${what} on a ${kindOf(v)}, not a dict`));

  for (;;) {
    if (!cur.has(9)) await cur.fill(9);
    opAt = cur.pos;
    if (cur.remaining <= 0) fail('pickle data ends before its STOP opcode (truncated?)');
    const op = cur.u8();
    lastOp = op;
    if (first && opts.requireProto && op !== Op.PROTO) {
      fail('data does not start with a pickle protocol header (0x80): not a pickle this reader accepts');
    }
    first = false;
    switch (op) {
      case Op.PROTO:
        protocol = cur.u8();
        if (protocol > 5) fail(`pickle protocol ${protocol} is newer than this reader knows (0–5)`);
        break;
      case Op.FRAME:
        // Frames only group opcodes for buffered readers; the length is checked and otherwise ignored.
        length(cur.u64(), 'FRAME');
        break;
      case Op.STOP: {
        if (metastack.length > 0) fail('STOP inside an unclosed MARK: corrupt pickle');
        const value = pop();
        return { value, end: cur.pos, protocol };
      }
      case Op.MARK:
        if (metastack.length >= maxMarkDepth) fail(`MARKs nest deeper than ${maxMarkDepth}: refusing to continue`);
        metastack.push(stack);
        stack = [];
        break;
      case Op.POP:
        if (stack.length > 0) stack.pop();
        else popMark(); // CPython's POP of a bare MARK discards the mark.
        break;
      case Op.POP_MARK: popMark(); break;
      case Op.DUP: push(top()); break;

      case Op.NONE: push(null); break;
      case Op.NEWTRUE: push(true); break;
      case Op.NEWFALSE: push(false); break;
      case Op.BININT: push(cur.i32()); break;
      case Op.BININT1: push(cur.u8()); break;
      case Op.BININT2: push(cur.u16()); break;
      case Op.BINFLOAT: push(cur.f64be()); break;
      case Op.LONG1: push(decodeLong(await cur.bytes(length(cur.u8(), 'LONG1'), 'LONG1'))); break;
      case Op.LONG4: {
        const n = cur.i32();
        if (n > LONG_MAX_BYTES) fail(`LONG4 integer of ${n} bytes: too long for a checkpoint`);
        push(decodeLong(await cur.bytes(length(n, 'LONG4'), 'LONG4')));
        break;
      }
      case Op.INT: {
        const t = (await lineText('INT')).trim();
        if (t === '01') push(true);
        else if (t === '00') push(false);
        else push(parseIntText(t, fail));
        break;
      }
      case Op.LONG: push(parseIntText((await lineText('LONG')).trim().replace(/L$/, ''), fail)); break;
      case Op.FLOAT: {
        const t = (await lineText('FLOAT')).trim();
        const f = Number(t);
        push(Number.isNaN(f) && !/^[-+]?nan$/i.test(t) ? fail(`FLOAT ${JSON.stringify(t.slice(0, 40))} is not a number`) : f);
        break;
      }

      case Op.SHORT_BINUNICODE: push(await payload(cur.u8(), 'str', 'utf8', 'SHORT_BINUNICODE')); break;
      case Op.BINUNICODE: push(await payload(cur.u32(), 'str', 'utf8', 'BINUNICODE')); break;
      case Op.BINUNICODE8: push(await payload(cur.u64(), 'str', 'utf8', 'BINUNICODE8')); break;
      case Op.SHORT_BINSTRING: push(await payload(cur.u8(), 'str', 'raw', 'SHORT_BINSTRING')); break;
      case Op.BINSTRING: push(await payload(cur.i32(), 'str', 'raw', 'BINSTRING')); break;
      case Op.SHORT_BINBYTES: push(await payload(cur.u8(), 'bytes', 'raw', 'SHORT_BINBYTES')); break;
      case Op.BINBYTES: push(await payload(cur.u32(), 'bytes', 'raw', 'BINBYTES')); break;
      case Op.BINBYTES8: push(await payload(cur.u64(), 'bytes', 'raw', 'BINBYTES8')); break;
      case Op.BYTEARRAY8: push(await payload(cur.u64(), 'bytes', 'raw', 'BYTEARRAY8')); break;
      case Op.STRING: push(decodeStringRepr((await cur.line(TEXT_LINE_MAX, 'STRING')).toString('latin1'), fail)); break;
      case Op.UNICODE: push(decodeRawUnicodeEscape((await cur.line(TEXT_LINE_MAX, 'UNICODE')).toString('latin1'))); break;
      case Op.NEXT_BUFFER: fail('pickle uses out-of-band buffers (protocol 5 NEXT_BUFFER), which a file cannot supply'); break;
      case Op.READONLY_BUFFER: top(); break;

      case Op.EMPTY_LIST: push({ kind: 'list', items: [] }); break;
      case Op.EMPTY_TUPLE: push({ kind: 'tuple', items: [] }); break;
      case Op.EMPTY_DICT: push(newDict()); break;
      case Op.EMPTY_SET: push({ kind: 'set', items: [], frozen: false }); break;
      case Op.LIST: push({ kind: 'list', items: popMark() }); break;
      case Op.TUPLE: push({ kind: 'tuple', items: popMark() }); break;
      case Op.FROZENSET: push({ kind: 'set', items: popMark(), frozen: true }); break;
      case Op.TUPLE1: { const a = pop(); push({ kind: 'tuple', items: [a] }); break; }
      case Op.TUPLE2: { const b = pop(); const a = pop(); push({ kind: 'tuple', items: [a, b] }); break; }
      case Op.TUPLE3: { const c = pop(); const b = pop(); const a = pop(); push({ kind: 'tuple', items: [a, b, c] }); break; }
      case Op.DICT: {
        const items = popMark();
        if (items.length % 2) fail('DICT with an odd number of items: corrupt pickle');
        const d = newDict();
        for (let i = 0; i < items.length; i += 2) dictSet(d, items[i], items[i + 1]);
        push(d);
        break;
      }
      case Op.APPEND: {
        const v = pop();
        const l = top();
        if (!isObj(l) || l.kind !== 'list') fail(`APPEND to a ${kindOf(l)}, not a list`);
        else l.items.push(v);
        break;
      }
      case Op.APPENDS: {
        const items = popMark();
        const l = top();
        if (!isObj(l) || l.kind !== 'list') fail(`APPENDS to a ${kindOf(l)}, not a list`);
        else for (const v of items) l.items.push(v);
        break;
      }
      case Op.SETITEM: {
        const v = pop();
        const k = pop();
        dictSet(asDict(top(), 'SETITEM'), k, v);
        break;
      }
      case Op.SETITEMS: {
        const items = popMark();
        const d = asDict(top(), 'SETITEMS');
        if (items.length % 2) fail('SETITEMS with an odd number of items: corrupt pickle');
        for (let i = 0; i < items.length; i += 2) dictSet(d, items[i], items[i + 1]);
        break;
      }
      case Op.ADDITEMS: {
        const items = popMark();
        const s = top();
        if (!isObj(s) || s.kind !== 'set' || s.frozen) fail(`ADDITEMS to a ${kindOf(s)}, not a set`);
        else for (const v of items) s.items.push(v);
        break;
      }

      case Op.PUT: put(await lineInt('PUT'), top()); break;
      case Op.BINPUT: put(cur.u8(), top()); break;
      case Op.LONG_BINPUT: put(cur.u32(), top()); break;
      case Op.MEMOIZE: put(memoCount, top()); break;
      case Op.GET: push(get(await lineInt('GET'))); break;
      case Op.BINGET: push(get(cur.u8())); break;
      case Op.LONG_BINGET: push(get(cur.u32())); break;

      case Op.GLOBAL: {
        const module = await lineText('GLOBAL module');
        const name = await lineText('GLOBAL name');
        push(await resolve(module, name));
        break;
      }
      case Op.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail(`STACK_GLOBAL with a ${kindOf(module)} module and a ${kindOf(name)} name`);
        push(await resolve(module, name));
        break;
      }
      case Op.INST: {
        const module = await lineText('INST module');
        const name = await lineText('INST name');
        const cls = await resolve(module, name);
        push(newObject(cls, popMark(), ctx));
        break;
      }
      case Op.OBJ: {
        const items = popMark();
        if (items.length === 0) fail('OBJ without a class: corrupt pickle');
        push(newObject(items[0], items.slice(1), ctx));
        break;
      }
      case Op.EXT1: case Op.EXT2: case Op.EXT4: {
        const code = op === Op.EXT1 ? cur.u8() : op === Op.EXT2 ? cur.u16() : cur.i32();
        throw new ReaderError('unsafe-pickle', file, `pickle names extension code ${code} (a global registered with copyreg by the writer), which is not on the allow-list; nothing was executed`, opAt);
      }
      case Op.REDUCE: {
        const args = pop();
        const fn = pop();
        push(call(fn, args, 'REDUCE'));
        break;
      }
      case Op.NEWOBJ: {
        const args = pop();
        const cls = pop();
        push(newObject(cls, iterItems(args) ?? fail(`NEWOBJ arguments are a ${kindOf(args)}, not a tuple`), ctx));
        break;
      }
      case Op.NEWOBJ_EX: {
        pop(); // keyword arguments: none of the modelled classes take any that matter
        const args = pop();
        const cls = pop();
        push(newObject(cls, iterItems(args) ?? fail(`NEWOBJ_EX arguments are a ${kindOf(args)}, not a tuple`), ctx));
        break;
      }
      case Op.BUILD: {
        const state = pop();
        buildObject(top(), state, ctx);
        break;
      }
      case Op.BINPERSID: push(persistent(pop())); break;
      case Op.PERSID: push(persistent(await lineText('PERSID'))); break;

      default:
        fail(`unknown pickle opcode ${opName(op)}: not a pickle, or a corrupt one`);
    }
  }
}

/** Two's-complement little-endian, as LONG1/LONG4 store it; small values come back as numbers. */
export function decodeLong(b: Buffer): number | bigint {
  if (b.length === 0) return 0;
  let v = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
  if (b[b.length - 1] & 0x80) v -= 1n << BigInt(b.length * 8);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function parseIntText(t: string, fail: (r: string) => never): number | bigint {
  if (!/^[-+]?\d{1,4300}$/.test(t)) return fail(`integer ${JSON.stringify(t.slice(0, 40))} is not a number`);
  const v = BigInt(t);
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Protocol 0 STRING: a Python repr in quotes (`'abc\\x00'`), decoded to a latin-1 string. */
function decodeStringRepr(s: string, fail: (r: string) => never): string {
  const t = s.trimEnd();
  const q = t[0];
  if (t.length < 2 || (q !== "'" && q !== '"') || t[t.length - 1] !== q) return fail('STRING argument is not a quoted string: corrupt pickle');
  const body = t.slice(1, -1);
  const simple: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', a: '\x07', b: '\b', f: '\f', v: '\v', '\n': '' };
  return body.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{1,3}|.)/gs, (_m, e: string) => {
    if (e[0] === 'x') return String.fromCharCode(parseInt(e.slice(1), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8) & 0xff);
    return simple[e] ?? `\\${e}`;
  });
}

/** Protocol 0 UNICODE: raw-unicode-escape (`\\uXXXX`, `\\UXXXXXXXX`, other bytes as latin-1). */
function decodeRawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (m, u4: string | undefined, u8: string | undefined) => {
    const cp = parseInt(u4 ?? u8 ?? '', 16);
    return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
  });
}
