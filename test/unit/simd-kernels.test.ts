/**
 * The converter's SIMD kernels (simd.wat) against the JavaScript they replace: the casts float32 →
 * float16/bfloat16 (castKernel.ts) on 2^25 bit patterns spread over all 2^32 and every special case;
 * the transposes (transposeKernel.ts) against the JavaScript gather, on buffers of the pool's WebAssembly arena: every bit pattern (NaN payloads
 * included) lands where the JavaScript loop puts it, for 32- and 16-bit elements, shapes with and
 * without the kernels' block multiples, offsets into the source, a row-stride other than the width.
 * The arena itself: best fit, coalescing, its limit. And the compiled module in the repository is the
 * one the .wat makes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { gatherInto } from '../../server/src/mapping/convert/gather';
import { arenaCast } from '../../server/src/mapping/convert/castKernel';
import { f32BitsToBf16, f32BitsToHalf } from '../../server/src/mapping/convert/floatBits';
import { arenaTranspose } from '../../server/src/mapping/convert/transposeKernel';
import { WasmArena } from '../../server/src/mapping/convert/wasmArena';

const ROOT = path.join(__dirname, '..', '..');

function random(buf: Buffer, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < buf.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; buf[i] = x & 0xff; }
}

test('the SIMD transposes match the JavaScript gather bit for bit (F32, F16, edges, offsets, NaN payloads)', () => {
  const arena = new WasmArena();
  const kernel = arenaTranspose(arena.memory!);
  assert.ok(kernel, 'this Node has WebAssembly SIMD');
  const cases: [number, number, number][] = [[4, 64, 48], [4, 1027, 515], [4, 3, 9], [4, 5, 4], [2, 64, 40], [2, 1030, 517], [2, 7, 13], [2, 8, 9]];
  for (const [size, rows, cols] of cases) {
    for (const lead of [0, 3]) { // the view starting `lead` elements into its buffer
      const src = arena.alloc((rows * cols + lead) * size)!;
      random(src, rows * 31 + cols + lead);
      if (size === 4) src.writeUInt32LE(0x7fc01234, lead * size); // a NaN with a payload
      // The source [rows, cols] transposed: shape [cols, rows], strides [1, cols].
      const want = Buffer.alloc(rows * cols * size);
      gatherInto(src, lead, size, [cols, rows], [1, cols], want);
      const got = arena.alloc(rows * cols * size)!;
      got.fill(0xee);
      let used = false;
      gatherInto(src, lead, size, [cols, rows], [1, cols], got, (...a) => (used = kernel(...a)));
      assert.ok(used || rows < 8 || cols < 8, `the kernel took [${rows}, ${cols}]×${size}`);
      assert.ok(got.equals(want), `${size * 8}-bit [${rows}, ${cols}] from element ${lead}: the kernel's bytes differ`);
      arena.release(src);
      arena.release(got);
    }
  }
  // A row stride other than the width: columns 2..9 of a wider source (a chunk, then transposed).
  const src = arena.alloc(40 * 24 * 4)!;
  random(src, 7);
  const want = Buffer.alloc(8 * 40 * 4);
  gatherInto(src, 2, 4, [8, 40], [1, 24], want);
  const got = arena.alloc(8 * 40 * 4)!;
  gatherInto(src, 2, 4, [8, 40], [1, 24], got, kernel);
  assert.ok(got.equals(want));
});

test('the SIMD casts float32 → float16 / bfloat16 round every bit pattern as floatBits.ts does (NaN, infinity, overflow, subnormals, ties)', () => {
  const arena = new WasmArena();
  const cast = arenaCast(arena);
  const n = 1 << 20;
  const src = arena.alloc(n * 4)!;
  const out = arena.alloc(n * 2)!;
  const u32 = new Uint32Array(src.buffer, src.byteOffset, n);
  const u16 = new Uint16Array(out.buffer, out.byteOffset, n);
  const specials = [0, 0x80000000, 0x477fe000, 0x477fefff, 0x477ff000, 0x47800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffffffff,
    0x387fc000, 0x38800000, 0x33000000, 0x33000001, 0x32ffffff, 0x00000001, 0x3f801000, 0x3f803000, 0x3f808000, 0x3f818000];
  for (const to of ['F16', 'BF16'] as const) {
    const f = to === 'F16' ? f32BitsToHalf : f32BitsToBf16;
    let bad = 0;
    for (let round = 0; round < 32; round++) {
      // 2^20 patterns a round, strided over all 2^32 (a different phase each round), the specials first.
      for (let i = 0; i < n; i++) u32[i] = i < specials.length ? specials[i] : (round + i * 4093 * 0x100 + i) >>> 0;
      assert.ok(cast(src, 'F32', out, to, n - 3), 'the kernel takes arena buffers'); // n − 3: the tail loop too
      for (let i = 0; i < n - 3; i++) if (u16[i] !== f(u32[i])) bad++;
    }
    assert.equal(bad, 0, `${to}: patterns the kernel rounds differently`);
  }
  assert.equal(cast(Buffer.alloc(64), 'F32', out, 'F16', 16), false, 'ordinary memory: not the kernel\'s');
});

test('the arena: best fit, freed neighbours merge, the top comes back, and past its limit it says no', () => {
  const a = new WasmArena(32); // 2 MiB
  const x = a.alloc(100_000)!;
  const y = a.alloc(200_000)!;
  const z = a.alloc(100_000)!;
  assert.ok(a.owns(x) && a.owns(y) && a.owns(z) && !a.owns(Buffer.alloc(10)));
  assert.equal(y.byteOffset, x.byteOffset + 100_032); // 64-byte aligned extents, one after another
  a.release(x);
  a.release(y); // x and y merge into one 300 KB hole
  const w = a.alloc(250_000)!;
  assert.equal(w.byteOffset, x.byteOffset, 'the merged hole is reused');
  a.release(w);
  a.release(z); // everything free: the next allocation starts at the bottom again
  assert.equal(a.alloc(1_900_000)!.byteOffset, 0);
  assert.equal(a.alloc(300_000), undefined, 'beyond 2 MiB: no');
  assert.ok(a.size <= 2 * 1024 * 1024);
});

test('simdWasm.ts is what simd.wat compiles to', async () => {
  const { simdWasmSource, OUT } = await import(path.join(ROOT, '.ci', 'simd-wasm.mjs')) as { simdWasmSource(root: string): Promise<string>; OUT: string };
  assert.equal(readFileSync(path.join(ROOT, OUT), 'utf8'), await simdWasmSource(ROOT), 'run `npm run build` to regenerate it');
});
