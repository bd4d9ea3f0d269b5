/**
 * IEEE half (F16) and bfloat16 (BF16) to and from JS numbers, bit-exact. Narrowing rounds to nearest,
 * ties to even, in one step from the exact value (no double rounding through float32); values past
 * the largest finite become ±inf. NaN becomes the quiet NaN torch writes: F16 `sign | 0x7E00`,
 * BF16 `0x7FC0` (c10's round_to_nearest_even drops the sign).
 */

const F16_NAN = 0x7e00;
const BF16_NAN = 0x7fc0;

/** Shared scratch for reinterpreting float32 bits. */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

let halfTable: Float32Array | undefined;

/** The value of every half bit pattern, built once (256 KiB) so decoding is one lookup. */
function table(): Float32Array {
  if (halfTable) return halfTable;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) t[h] = sign * mant * 2 ** -24;
    else if (exp === 31) t[h] = mant ? NaN : sign * Infinity;
    else t[h] = sign * (1024 + mant) * 2 ** (exp - 25);
  }
  return (halfTable = t);
}

export function halfToNumber(h: number): number {
  return table()[h & 0xffff];
}

export function halfTable32(): Float32Array {
  return table();
}

export function bf16ToNumber(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0];
}

/** Float32 bits → half bits, round to nearest even (the classic bit-level conversion). */
export function f32BitsToHalf(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) return mant ? sign | F16_NAN : sign | 0x7c00;
  if (exp > 142) return sign | 0x7c00; // ≥ 2^16: past 65504 + half an ulp
  if (exp <= 112) {
    // Half subnormal (or zero): value = M × 2^(exp − 150) = m × 2^−24 with m = M >> (126 − exp).
    if (exp < 101) return sign;
    const m = mant | 0x800000;
    const shift = 126 - exp;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = sign | ((exp - 112) << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent, and 0x7bff + 1 is infinity.
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return h;
}

/** Float32 bits → bfloat16 bits, round to nearest even. */
export function f32BitsToBf16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return BF16_NAN;
  return ((x >>> 0) + 0x7fff + ((x >>> 16) & 1)) >>> 16;
}

/** Round half to even of a non-negative number with few significant bits (exact in a double). */
function rne(r: number): number {
  const f = Math.floor(r);
  const d = r - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The exponent e with 2^e ≤ a < 2^(e+1), exactly (log2 alone can be off by one near powers of two). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** Any number → the bits of a binary float with `expBits`/`mantBits`, round to nearest even. */
function encode(x: number, expBits: number, mantBits: number, nan: (negative: boolean) => number): number {
  const signBit = 1 << (expBits + mantBits);
  if (Number.isNaN(x)) return nan(false);
  const negative = x < 0 || Object.is(x, -0);
  const sign = negative ? signBit : 0;
  const a = Math.abs(x);
  const expAll = (1 << expBits) - 1;
  if (a === Infinity) return sign | (expAll << mantBits);
  if (a === 0) return sign;
  const bias = (1 << (expBits - 1)) - 1;
  const minExp = 1 - bias;
  let e = exponentOf(a);
  if (e < minExp) {
    // Subnormal: a multiple of 2^(minExp − mantBits); rounding up to 2^mantBits gives the smallest normal's bits.
    return sign | rne(a * 2 ** (mantBits - minExp));
  }
  let m = rne(a * 2 ** (mantBits - e));
  if (m === 2 ** (mantBits + 1)) { m /= 2; e++; }
  if (e > bias) return sign | (expAll << mantBits);
  return sign | ((e + bias) << mantBits) | (m - 2 ** mantBits);
}

export function numberToHalf(x: number): number {
  return encode(x, 5, 10, (neg) => (neg ? 0x8000 : 0) | F16_NAN);
}

export function numberToBf16(x: number): number {
  return encode(x, 8, 7, () => BF16_NAN);
}

/**
 * A 64-bit integer rounded to `bits` significant bits, ties to even, as an exact number: converting
 * it to a float with that many significand bits is then exact, so I64 → F32/F16/BF16 rounds once.
 */
export function roundBigInt(v: bigint, bits: number): number {
  const neg = v < 0n;
  let a = neg ? -v : v;
  const len = a.toString(2).length;
  if (len > bits) {
    const shift = BigInt(len - bits);
    const q = a >> shift;
    const rem = a - (q << shift);
    const half = 1n << (shift - 1n);
    const up = rem > half || (rem === half && (q & 1n) === 1n);
    a = (q + (up ? 1n : 0n)) << shift;
  }
  return Number(neg ? -a : a);
}
