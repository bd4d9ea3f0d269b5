;; The converter's SIMD kernels (transposeKernel.ts, castKernel.ts). Transposes: a 2-D strided copy whose
;; source runs along the output's rows — out[i, j] = src[i + j·s1], what `| transpose` of a contiguous
;; matrix is — in square blocks of SIMD lanes: four 32-bit or eight 16-bit source lines loaded, shuffled,
;; stored as output rows. Casts: float32 to float16 and bfloat16, bit for bit floatBits.ts's. esbuild.mjs compiles it (with wabt) into simdWasm.ts; the memory is the
;; converter's scratch arena (wasmArena.ts), shared with the kernel thread (kernelWorker.ts).
(module
  (import "env" "memory" (memory 0 65536 shared))
  ;; out[i, j] = src[i + j*s1] for i < rows, j < cols (32-bit elements; rows and cols multiples of 4),
  ;; out row-major with rows of `ld` elements. Tiles of ti × tj keep both sides' lines cached.
  (func (export "t32") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $s1 i32) (param $ld i32) (param $ti i32) (param $tj i32)
    (local $ib i32) (local $jb i32) (local $i i32) (local $j i32) (local $ie i32) (local $je i32)
    (local $p i32) (local $q i32) (local $sb i32) (local $cb i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $r4 v128) (local $r5 v128) (local $r6 v128) (local $r7 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $sb (i32.shl (local.get $s1) (i32.const 2)))
    (local.set $cb (i32.shl (local.get $ld) (i32.const 2)))
    (local.set $ib (i32.const 0))
    (block $ibx (loop $ibl
      (br_if $ibx (i32.ge_u (local.get $ib) (local.get $rows)))
      (local.set $ie (select (i32.add (local.get $ib) (local.get $ti)) (local.get $rows)
        (i32.lt_u (i32.add (local.get $ib) (local.get $ti)) (local.get $rows))))
      (local.set $jb (i32.const 0))
      (block $jbx (loop $jbl
        (br_if $jbx (i32.ge_u (local.get $jb) (local.get $cols)))
        (local.set $je (select (i32.add (local.get $jb) (local.get $tj)) (local.get $cols)
          (i32.lt_u (i32.add (local.get $jb) (local.get $tj)) (local.get $cols))))
        (local.set $i (local.get $ib))
        (block $ix (loop $il
          (br_if $ix (i32.ge_u (local.get $i) (local.get $ie)))
          (local.set $j (local.get $jb))
          (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $i) (i32.mul (local.get $j) (local.get $s1))) (i32.const 2))))
          (local.set $q (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ld)) (local.get $j)) (i32.const 2))))
          (block $jx (loop $jl
            (br_if $jx (i32.ge_u (local.get $j) (local.get $je)))
            (local.set $r0 (v128.load (local.get $p)))
            (local.set $r1 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 1)))))
            (local.set $r2 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 2)))))
            (local.set $r3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 3)))))
            ;; four source lines (out columns j..j+3) → four output rows i..i+3
            (local.set $a0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r0) (local.get $r1)))
            (local.set $a1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r0) (local.get $r1)))
            (local.set $a2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $r2) (local.get $r3)))
            (local.set $a3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $r2) (local.get $r3)))
            (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $a2)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 1))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $a2)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 2))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a1) (local.get $a3)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a1) (local.get $a3)))
            (local.set $p (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 4))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $jl)))
          (local.set $i (i32.add (local.get $i) (i32.const 4)))
          (br $il)))
        (local.set $jb (i32.add (local.get $jb) (local.get $tj)))
        (br $jbl)))
      (local.set $ib (i32.add (local.get $ib) (local.get $ti)))
      (br $ibl)))
  )
  ;; out[i, j] = src[i + j*s1] for i < rows, j < cols (16-bit elements; rows and cols multiples of 8),
  ;; out row-major with rows of `ld` elements. Tiles of ti × tj keep both sides' lines cached.
  (func (export "t16") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32) (param $s1 i32) (param $ld i32) (param $ti i32) (param $tj i32)
    (local $ib i32) (local $jb i32) (local $i i32) (local $j i32) (local $ie i32) (local $je i32)
    (local $p i32) (local $q i32) (local $sb i32) (local $cb i32)
    (local $r0 v128) (local $r1 v128) (local $r2 v128) (local $r3 v128) (local $r4 v128) (local $r5 v128) (local $r6 v128) (local $r7 v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128) (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local.set $sb (i32.shl (local.get $s1) (i32.const 1)))
    (local.set $cb (i32.shl (local.get $ld) (i32.const 1)))
    (local.set $ib (i32.const 0))
    (block $ibx (loop $ibl
      (br_if $ibx (i32.ge_u (local.get $ib) (local.get $rows)))
      (local.set $ie (select (i32.add (local.get $ib) (local.get $ti)) (local.get $rows)
        (i32.lt_u (i32.add (local.get $ib) (local.get $ti)) (local.get $rows))))
      (local.set $jb (i32.const 0))
      (block $jbx (loop $jbl
        (br_if $jbx (i32.ge_u (local.get $jb) (local.get $cols)))
        (local.set $je (select (i32.add (local.get $jb) (local.get $tj)) (local.get $cols)
          (i32.lt_u (i32.add (local.get $jb) (local.get $tj)) (local.get $cols))))
        (local.set $i (local.get $ib))
        (block $ix (loop $il
          (br_if $ix (i32.ge_u (local.get $i) (local.get $ie)))
          (local.set $j (local.get $jb))
          (local.set $p (i32.add (local.get $src) (i32.shl (i32.add (local.get $i) (i32.mul (local.get $j) (local.get $s1))) (i32.const 1))))
          (local.set $q (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $ld)) (local.get $j)) (i32.const 1))))
          (block $jx (loop $jl
            (br_if $jx (i32.ge_u (local.get $j) (local.get $je)))
            (local.set $r0 (v128.load (local.get $p)))
            (local.set $r1 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 1)))))
            (local.set $r2 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 2)))))
            (local.set $r3 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 3)))))
            (local.set $r4 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 4)))))
            (local.set $r5 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 5)))))
            (local.set $r6 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 6)))))
            (local.set $r7 (v128.load (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 7)))))
            ;; eight source lines (out columns j..j+7) → eight output rows i..i+7: interleave 16-, 32-, then 64-bit
            (local.set $a0 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $r0) (local.get $r1)))
            (local.set $b0 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $r0) (local.get $r1)))
            (local.set $a1 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $r2) (local.get $r3)))
            (local.set $b1 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $r2) (local.get $r3)))
            (local.set $a2 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $r4) (local.get $r5)))
            (local.set $b2 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $r4) (local.get $r5)))
            (local.set $a3 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $r6) (local.get $r7)))
            (local.set $b3 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $r6) (local.get $r7)))
            (local.set $r0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a0) (local.get $a1)))
            (local.set $r1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a0) (local.get $a1)))
            (local.set $r2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a2) (local.get $a3)))
            (local.set $r3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a2) (local.get $a3)))
            (local.set $r4 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $b0) (local.get $b1)))
            (local.set $r5 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $b0) (local.get $b1)))
            (local.set $r6 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $b2) (local.get $b3)))
            (local.set $r7 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $b2) (local.get $b3)))
            (v128.store (local.get $q) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r0) (local.get $r2)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 1))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r0) (local.get $r2)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 2))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r1) (local.get $r3)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 3))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r1) (local.get $r3)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 4))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r4) (local.get $r6)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 5))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r4) (local.get $r6)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 6))) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $r5) (local.get $r7)))
            (v128.store (i32.add (local.get $q) (i32.mul (local.get $cb) (i32.const 7))) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $r5) (local.get $r7)))
            (local.set $p (i32.add (local.get $p) (i32.mul (local.get $sb) (i32.const 8))))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 8)))
            (br $jl)))
          (local.set $i (i32.add (local.get $i) (i32.const 8)))
          (br $il)))
        (local.set $jb (i32.add (local.get $jb) (local.get $tj)))
        (br $jbl)))
      (local.set $ib (i32.add (local.get $ib) (local.get $ti)))
      (br $ibl)))
  )

  ;; float32 → float16 bits, round to nearest even, as floatBits.ts's f32BitsToHalf: NaN → sign | 0x7e00,
  ;; ≥ 65520 → ±infinity, half subnormals by adding 0.5 as a float (the FPU rounds to nearest even),
  ;; normals by the rounding bias. n32 elements at src (a multiple of 8) to n32 halves at dst.
  ;; float32 → float16 bits, round to nearest even, as floatBits.ts's f32BitsToHalf: NaN → sign | 0x7e00,
  ;; ≥ 65520 → ±infinity, half subnormals by adding 0.5 as a float (the FPU rounds to nearest even),
  ;; normals by the rounding bias. n32 elements at src (a multiple of 8) to n32 halves at dst. The four-lane
  ;; step is written out twice (V8 does not inline a call), and the comparisons are signed — |x| is
  ;; non-negative either way, and SSE has no unsigned 32-bit compare: V8's emulation cost 2.5×.
  (func (export "f32_f16") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $x v128) (local $y v128) (local $a v128) (local $o v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (local.set $x (v128.load (local.get $src)))
      (local.set $y (v128.load offset=16 (local.get $src)))
      ;; x: four halves in the low 16 bits of each lane
      (local.set $a (v128.and (local.get $x) (i32x4.splat (i32.const 0x7fffffff))))
      ;; normal: (a − (112 << 23) + 0xfff + mantissa bit 13) >> 13
      (local.set $o (i32x4.shr_u
        (i32x4.add (i32x4.add (local.get $a) (i32x4.splat (i32.const 0xc8000fff)))
                   (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.splat (i32.const 1))))
        (i32.const 13)))
      ;; below 2^-14: a + 0.5 as floats leaves the rounded half subnormal in the low bits
      (local.set $o (v128.bitselect
        (i32x4.sub (f32x4.add (local.get $a) (f32x4.splat (f32.const 0.5))) (i32x4.splat (i32.const 0x3f000000)))
        (local.get $o)
        (i32x4.lt_s (local.get $a) (i32x4.splat (i32.const 0x38800000)))))
      (local.set $o (v128.bitselect (i32x4.splat (i32.const 0x7c00)) (local.get $o)
        (i32x4.ge_s (local.get $a) (i32x4.splat (i32.const 0x47800000)))))
      (local.set $o (v128.bitselect (i32x4.splat (i32.const 0x7e00)) (local.get $o)
        (i32x4.gt_s (local.get $a) (i32x4.splat (i32.const 0x7f800000)))))
      (local.set $x (v128.or (local.get $o) (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (i32x4.splat (i32.const 0x8000)))))
      ;; y: four halves in the low 16 bits of each lane
      (local.set $a (v128.and (local.get $y) (i32x4.splat (i32.const 0x7fffffff))))
      ;; normal: (a − (112 << 23) + 0xfff + mantissa bit 13) >> 13
      (local.set $o (i32x4.shr_u
        (i32x4.add (i32x4.add (local.get $a) (i32x4.splat (i32.const 0xc8000fff)))
                   (v128.and (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.splat (i32.const 1))))
        (i32.const 13)))
      ;; below 2^-14: a + 0.5 as floats leaves the rounded half subnormal in the low bits
      (local.set $o (v128.bitselect
        (i32x4.sub (f32x4.add (local.get $a) (f32x4.splat (f32.const 0.5))) (i32x4.splat (i32.const 0x3f000000)))
        (local.get $o)
        (i32x4.lt_s (local.get $a) (i32x4.splat (i32.const 0x38800000)))))
      (local.set $o (v128.bitselect (i32x4.splat (i32.const 0x7c00)) (local.get $o)
        (i32x4.ge_s (local.get $a) (i32x4.splat (i32.const 0x47800000)))))
      (local.set $o (v128.bitselect (i32x4.splat (i32.const 0x7e00)) (local.get $o)
        (i32x4.gt_s (local.get $a) (i32x4.splat (i32.const 0x7f800000)))))
      (local.set $y (v128.or (local.get $o) (v128.and (i32x4.shr_u (local.get $y) (i32.const 16)) (i32x4.splat (i32.const 0x8000)))))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 4 5 8 9 12 13 16 17 20 21 24 25 28 29 (local.get $x) (local.get $y)))
      (local.set $src (i32.add (local.get $src) (i32.const 32)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l)))
  )
  ;; float32 → bfloat16 bits, round to nearest even, as f32BitsToBf16: any NaN → 0x7fc0.
  (func (export "f32_bf16") (param $src i32) (param $dst i32) (param $n i32)
    (local $end i32) (local $x v128) (local $y v128)
    (local.set $end (i32.add (local.get $src) (i32.shl (local.get $n) (i32.const 2))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $src) (local.get $end)))
      (local.set $x (v128.load (local.get $src)))
      (local.set $y (v128.load offset=16 (local.get $src)))
      (local.set $x (v128.bitselect (i32x4.splat (i32.const 0x7fc0))
        (i32x4.shr_u (i32x4.add (i32x4.add (local.get $x) (i32x4.splat (i32.const 0x7fff)))
                                (v128.and (i32x4.shr_u (local.get $x) (i32.const 16)) (i32x4.splat (i32.const 1))))
                     (i32.const 16))
        (i32x4.gt_s (v128.and (local.get $x) (i32x4.splat (i32.const 0x7fffffff))) (i32x4.splat (i32.const 0x7f800000)))))
      (local.set $y (v128.bitselect (i32x4.splat (i32.const 0x7fc0))
        (i32x4.shr_u (i32x4.add (i32x4.add (local.get $y) (i32x4.splat (i32.const 0x7fff)))
                                (v128.and (i32x4.shr_u (local.get $y) (i32.const 16)) (i32x4.splat (i32.const 1))))
                     (i32.const 16))
        (i32x4.gt_s (v128.and (local.get $y) (i32x4.splat (i32.const 0x7fffffff))) (i32x4.splat (i32.const 0x7f800000)))))
      (v128.store (local.get $dst) (i8x16.shuffle 0 1 4 5 8 9 12 13 16 17 20 21 24 25 28 29 (local.get $x) (local.get $y)))
      (local.set $src (i32.add (local.get $src) (i32.const 32)))
      (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
      (br $l)))
  )
)
