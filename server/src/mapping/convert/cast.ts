/**
 * `cast(DTYPE)` on tensor data (little-endian, contiguous). What each conversion does:
 * - float → narrower float: round to nearest, ties to even, in one step (F64 → F16 does not go through
 *   F32); overflow → ±inf; NaN stays NaN (see floatBits.ts for the NaN bits); ±0 and ±inf are kept.
 * - wider float / integer → float: exact where representable, else rounded to nearest even
 *   (I64 beyond 2^53 included).
 * - float → integer: truncation toward zero as torch does; where torch's result is undefined (NaN,
 *   out of range) we saturate: NaN → 0, too large → the type's max, too small → its min.
 * - integer → integer: two's-complement wrap-around, as torch (`-1` → U8 255).
 * - → BOOL: non-zero (NaN included) → 1; BOOL → number: 0 or 1 (any non-zero byte is true).
 * Casting to the same type leaves the bytes untouched.
 */
import type { CastKernel } from './castKernel';
import { table } from '../../formats/table';
import { f32BitsToBf16, f32BitsToHalf, halfTable32, bf16ToNumber, numberToBf16, numberToHalf, roundBigInt } from './floatBits';

/** Element types cast reads and writes; the target list is tpmap.md's, plus the unsigned types Paddle uses for sources. */
const FLOATS = new Set(['F64', 'F32', 'F16', 'BF16']);
const INTS: Record<string, { bits: number; signed: boolean }> = table({
  I64: { bits: 64, signed: true }, I32: { bits: 32, signed: true }, I16: { bits: 16, signed: true }, I8: { bits: 8, signed: true },
  U64: { bits: 64, signed: false }, U32: { bits: 32, signed: false }, U16: { bits: 16, signed: false }, U8: { bits: 8, signed: false },
});

/**
 * A dtype difference a rule without `cast` may leave to the target: float to float, integer to integer
 * (the target's dtype is what it stores). Across kinds — float to integer, anything to BOOL — only an
 * explicit `cast` says the conversion is meant.
 */
export function sameKind(from: string, to: string): boolean {
  return (FLOATS.has(from) && FLOATS.has(to)) || (from in INTS && to in INTS);
}

export function canCast(from: string, to: string): boolean {
  const ok = (d: string) => FLOATS.has(d) || d in INTS || d === 'BOOL';
  return from === to || (ok(from) && ok(to));
}

const SIZE: Record<string, number> = table({ F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1 });

/** A zeroed buffer over its own ArrayBuffer, so every typed-array view of it is aligned. */
export function allocBytes(n: number): Buffer {
  return Buffer.from(new ArrayBuffer(n));
}

/**
 * An aligned buffer for data that will overwrite every byte of it. Not zeroed: fresh zeroed memory
 * is mapped in page by page on first write, which a transpose's scattered writes make ~5× slower;
 * recycled heap memory is not.
 */
export function allocFilled(n: number): Buffer {
  return Buffer.allocUnsafeSlow(n);
}

function view(buf: Buffer, dtype: string): ArrayLike<number> | BigInt64Array | BigUint64Array {
  const { buffer, byteOffset, length } = buf;
  const n = length / SIZE[dtype];
  switch (dtype) {
    case 'F64': return new Float64Array(buffer, byteOffset, n);
    case 'F32': return new Float32Array(buffer, byteOffset, n);
    case 'F16': case 'BF16': case 'U16': return new Uint16Array(buffer, byteOffset, n);
    case 'I64': return new BigInt64Array(buffer, byteOffset, n);
    case 'U64': return new BigUint64Array(buffer, byteOffset, n);
    case 'I32': return new Int32Array(buffer, byteOffset, n);
    case 'U32': return new Uint32Array(buffer, byteOffset, n);
    case 'I16': return new Int16Array(buffer, byteOffset, n);
    case 'I8': return new Int8Array(buffer, byteOffset, n);
    default: return new Uint8Array(buffer, byteOffset, n);
  }
}

/** Typed arrays need aligned offsets; a buffer that is not gets copied once. */
function aligned(buf: Buffer, size: number): Buffer {
  if (buf.byteOffset % size === 0) return buf;
  const copy = allocBytes(buf.length);
  buf.copy(copy);
  return copy;
}

/** Reads element i as a number (floats, ints up to 32 bits, BOOL as 0/1) or a bigint (64-bit ints). */
function reader(buf: Buffer, dtype: string): (i: number) => number | bigint {
  if (dtype === 'F16') { const a = view(buf, dtype) as Uint16Array; const t = halfTable32(); return (i) => t[a[i]]; }
  if (dtype === 'BF16') { const a = view(buf, dtype) as Uint16Array; return (i) => bf16ToNumber(a[i]); }
  if (dtype === 'BOOL') { const a = view(buf, dtype) as Uint8Array; return (i) => (a[i] ? 1 : 0); }
  const a = view(buf, dtype) as ArrayLike<number | bigint>;
  return (i) => a[i];
}

/** The largest/smallest value of an integer type, as numbers (exact for ≤ 32 bits, the nearest double for 64). */
function range(t: { bits: number; signed: boolean }): [number, number] {
  return t.signed ? [-(2 ** (t.bits - 1)), 2 ** (t.bits - 1) - 1] : [0, 2 ** t.bits - 1];
}

/** `alloc` gives the output buffer (aligned; every byte is written); `kernel`, a faster cast where one applies (castKernel.ts), is tried first. */
export function castData(src: Buffer, from: string, to: string, alloc: (n: number) => Buffer = allocFilled, kernel?: CastKernel): Buffer {
  if (from === to) return src;
  if (!canCast(from, to)) throw new Error(`cast from ${from} to ${to} is not supported`);
  src = aligned(src, SIZE[from]);
  const n = src.length / SIZE[from];
  const out = alloc(n * SIZE[to]);
  if (kernel?.(src, from, out, to, n) || fastPath(src, from, out, to, n)) return out;
  const get = reader(src, from);
  const dst = view(out, to);

  if (FLOATS.has(to)) {
    const sig = to === 'F64' ? 53 : to === 'F32' ? 24 : to === 'F16' ? 11 : 8;
    const toNumber = (v: number | bigint): number => {
      if (typeof v === 'number') return v;
      // Beyond 2^53 a bigint is rounded once to the target's precision, so the conversion below is exact.
      return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : roundBigInt(v, sig);
    };
    const put = to === 'F16' ? (i: number, x: number) => { (dst as Uint16Array)[i] = numberToHalf(x); }
      : to === 'BF16' ? (i: number, x: number) => { (dst as Uint16Array)[i] = numberToBf16(x); }
        : (i: number, x: number) => { (dst as Float64Array | Float32Array)[i] = x; };
    for (let i = 0; i < n; i++) put(i, toNumber(get(i)));
    return out;
  }
  if (to === 'BOOL') {
    const d = dst as Uint8Array;
    for (let i = 0; i < n; i++) { const v = get(i); d[i] = typeof v === 'bigint' ? (v !== 0n ? 1 : 0) : v !== 0 ? 1 : 0; }
    return out;
  }
  const t = INTS[to];
  const [lo, hi] = range(t);
  const fromFloat = FLOATS.has(from);
  if (t.bits === 64) {
    const d = dst as BigInt64Array | BigUint64Array;
    const wrap = t.signed ? (v: bigint) => BigInt.asIntN(64, v) : (v: bigint) => BigInt.asUintN(64, v);
    for (let i = 0; i < n; i++) {
      const v = get(i);
      if (typeof v === 'bigint') d[i] = wrap(v);
      else if (!fromFloat) d[i] = wrap(BigInt(v));
      else d[i] = Number.isNaN(v) ? 0n : v >= hi ? (t.signed ? 2n ** 63n - 1n : 2n ** 64n - 1n) : v <= lo ? (t.signed ? -(2n ** 63n) : 0n) : BigInt(Math.trunc(v));
    }
    return out;
  }
  // Typed-array stores of integers wrap modulo 2^bits, which is the integer → integer rule.
  const d = dst as Int32Array;
  for (let i = 0; i < n; i++) {
    const v = get(i);
    if (typeof v === 'bigint') d[i] = Number(BigInt.asIntN(32, v));
    else if (!fromFloat) d[i] = v;
    else d[i] = Number.isNaN(v) ? 0 : v >= hi ? hi : v <= lo ? lo : Math.trunc(v);
  }
  return out;
}

/** Word-level loops for the casts a model port does by the gigabyte (F32 ↔ F16/BF16, F32 ↔ F64). */
function fastPath(src: Buffer, from: string, out: Buffer, to: string, n: number): boolean {
  const key = `${from}>${to}`;
  switch (key) {
    case 'F32>F16': case 'F32>BF16': {
      const s = new Uint32Array(src.buffer, src.byteOffset, n);
      const d = new Uint16Array(out.buffer, out.byteOffset, n);
      const f = to === 'F16' ? f32BitsToHalf : f32BitsToBf16;
      for (let i = 0; i < n; i++) d[i] = f(s[i]);
      return true;
    }
    case 'BF16>F32': {
      const s = new Uint16Array(src.buffer, src.byteOffset, n);
      const d = new Uint32Array(out.buffer, out.byteOffset, n);
      for (let i = 0; i < n; i++) d[i] = s[i] << 16;
      return true;
    }
    case 'F16>F32': {
      const s = new Uint16Array(src.buffer, src.byteOffset, n);
      const d = new Float32Array(out.buffer, out.byteOffset, n);
      const t = halfTable32();
      for (let i = 0; i < n; i++) d[i] = t[s[i]];
      return true;
    }
    default:
      return false;
  }
}
