// Casts between numeric types, and the rescaling step of temporal casts.
//
// castNumeric(from, to, …) converts every value of one physical type to another (10 × 10 pairs, one
// generic driver `convert<F, T>`). Rules (the host, src/kernels/cast.ts, documents them to users):
//   int → wider/equal int that holds every value     plain widening, never null
//   int → int that cannot hold every value           NULL-ON-OVERFLOW: a value outside the target's
//     (narrower, or signed ↔ unsigned)                 range becomes null (value 0, validity bit
//                                                      cleared). Arrow's "safe" cast raises instead;
//                                                      a null points at the offending row and lets the
//                                                      rest of the batch through.
//   float → int                                      truncation toward zero; NaN, ±Inf and values
//                                                    whose truncation is outside the range → null
//   int / float → float                              IEEE round-to-nearest (i64 → f64 may round;
//                                                    f64 → f32 may round, overflow to ±Inf), never null
//   same representation (e.g. i32 → i32)             a memcpy
//
// castScale(from, to, mode, …, factor) is the unit change of temporal casts over their physical
// integers (date32 days, date64 ms, timestamp s/ms/µs/ns): MULTIPLY by the factor (→ null when the
// product overflows i64), or DIVIDE by it rounding toward −∞ (a time maps to the day/second that
// contains it, also before 1970), → null when the quotient does not fit the target (i32 for date32).
//
// Nulls: like arith, values under nulls are converted like any other (and may come out null again);
// the host first writes the result bitmap (validityAnd with one input, i.e. a copy, or all ones)
// and the kernels clear the bits of values they could not represent, returning how many valid rows
// became null. The host skips the bitmap entirely when the pair cannot fail and the input has none.

import { DType, ScaleMode } from '../shared/codes';
import { at } from '../util';
import { clearBit } from '../arith/validity';

// @ts-ignore: decorator
@inline function bitsOf<T>(): u64 {
  return <u64>sizeof<T>() << 3;
}

/** Largest value of integer type T, as u64 bits. */
// @ts-ignore: decorator
@inline function maxOf<T>(): u64 {
  if (isSigned<T>()) return (<u64>1 << (bitsOf<T>() - 1)) - 1;
  if (sizeof<T>() == 8) return u64.MAX_VALUE;
  return (<u64>1 << bitsOf<T>()) - 1;
}

/** Smallest value of integer type T. */
// @ts-ignore: decorator
@inline function minOf<T>(): i64 {
  if (isSigned<T>()) return -(<i64>1 << <i64>(bitsOf<T>() - 1));
  return 0;
}

/** Same bits in, same bits out: the cast is a memcpy. */
// @ts-ignore: decorator
@inline function sameRepr<F, T>(): bool {
  return sizeof<F>() == sizeof<T>() && isFloat<F>() == isFloat<T>() && (isFloat<F>() || isSigned<F>() == isSigned<T>());
}

/** Can some value of F be unrepresentable in T (and so become null)? Resolved at compile time. */
// @ts-ignore: decorator
@inline function canFail<F, T>(): bool {
  if (isFloat<T>()) return false; // rounding (and f64 → f32 overflow to ±Inf) is IEEE conversion, not failure
  if (isFloat<F>()) return true; // NaN, ±Inf, out of range
  if (isSigned<F>() == isSigned<T>()) return sizeof<F>() > sizeof<T>();
  if (isSigned<F>()) return true; // negatives
  return sizeof<F>() >= sizeof<T>(); // unsigned → signed of the same or smaller width
}

/** Is x representable in integer type T (for floats: after truncation toward zero)? */
// @ts-ignore: decorator
@inline function fits<F, T>(x: F): bool {
  if (isFloat<F>()) {
    // Compare the truncated value against exact powers of two: 2^(bits-1) and 2^bits are exact in
    // f64 for every width, whereas e.g. i64.MAX_VALUE is not (it rounds up to 2^63). NaN fails both
    // comparisons; -0.5 truncates to -0, which is ≥ 0, so it fits u8 as 0.
    const t = Math.trunc(<f64>x);
    const half = <f64>(<u64>1 << (bitsOf<T>() - 1));
    if (isSigned<T>()) return t >= -half && t < half;
    return t >= 0 && t < half * 2;
  }
  if (isSigned<F>()) {
    const v = <i64>x;
    if (!isSigned<T>()) return v >= 0 && (sizeof<T>() == 8 || <u64>v <= maxOf<T>());
    return v >= minOf<T>() && v <= <i64>maxOf<T>();
  }
  // Unsigned source: only the upper bound matters (maxOf<T> < 2^63 here unless T is u64, which
  // never gets here: canFail<unsigned, u64> is false).
  return <u64>x <= maxOf<T>();
}

/**
 * Does `convert` have a SIMD body for F → T? The lossless widenings wasm does in one instruction
 * per half vector: int → int of twice the width that holds every value (extend_low/high), f32 → f64
 * (promote), i32/u32 → f64 (convert_low, exact). These are the casts a query plan inserts most
 * (widen before arithmetic). Float → int of at most 32 bits has its own SIMD body (simdTruncates);
 * the rest run the scalar loop, whose range check is the real work.
 */
// @ts-ignore: decorator
@inline function simdWidens<F, T>(): bool {
  if (sizeof<T>() != 2 * sizeof<F>()) return false;
  if (isFloat<T>()) return isFloat<F>() || sizeof<F>() == 4;
  return !isFloat<F>() && !canFail<F, T>();
}

/** The low (hi = false) or high half of v's lanes of F, widened to lanes of T. Only if simdWidens. */
// @ts-ignore: decorator
@inline function widenHalf<F, T>(v: v128, hi: bool): v128 {
  if (isFloat<T>()) {
    // promote/convert only read the low two lanes: move the high half down first.
    const w = hi ? v128.shuffle<u32>(v, v, 2, 3, 0, 1) : v;
    if (isFloat<F>()) return f64x2.promote_low_f32x4(w);
    return isSigned<F>() ? f64x2.convert_low_i32x4_s(w) : f64x2.convert_low_i32x4_u(w);
  }
  if (sizeof<F>() == 1) {
    if (isSigned<F>()) return hi ? i16x8.extend_high_i8x16_s(v) : i16x8.extend_low_i8x16_s(v);
    return hi ? i16x8.extend_high_i8x16_u(v) : i16x8.extend_low_i8x16_u(v);
  }
  if (sizeof<F>() == 2) {
    if (isSigned<F>()) return hi ? i32x4.extend_high_i16x8_s(v) : i32x4.extend_low_i16x8_s(v);
    return hi ? i32x4.extend_high_i16x8_u(v) : i32x4.extend_low_i16x8_u(v);
  }
  if (isSigned<F>()) return hi ? i64x2.extend_high_i32x4_s(v) : i64x2.extend_low_i32x4_s(v);
  return hi ? i64x2.extend_high_i32x4_u(v) : i64x2.extend_low_i32x4_u(v);
}

/**
 * Does `convert` have a SIMD body for float F → integer T? Every int of at most 32 bits: wasm's
 * saturating truncations give i32 lanes (u32 for T = u32), narrowed to T's width. 64-bit targets
 * have no SIMD truncation.
 */
// @ts-ignore: decorator
@inline function simdTruncates<F, T>(): bool {
  return isFloat<F>() && !isFloat<T>() && sizeof<T>() <= 4;
}

/**
 * Four values of F at a truncated toward zero into four i32 lanes, 0 where the value does not fit
 * T (NaN, ±Inf, out of range: the same test as `fits`, lane-wise), and the lanes that fit as a
 * 4-bit mask. f64 takes two vectors per four values.
 */
// @ts-ignore: decorator
@inline function truncLanes<F, T>(a: usize, i: i32): v128 {
  const half = <f64>(<u64>1 << (bitsOf<T>() - 1));
  const lo = isSigned<T>() ? -half : 0.0, hi = isSigned<T>() ? half : half * 2;
  let c: v128, ok: v128;
  if (sizeof<F>() == 8) {
    const v0 = v128.load(at<F>(a, i)), v1 = v128.load(at<F>(a, i), 16);
    const t0 = f64x2.trunc(v0), t1 = f64x2.trunc(v1);
    const ok0 = v128.and(f64x2.ge(t0, f64x2.splat(lo)), f64x2.lt(t0, f64x2.splat(hi)));
    const ok1 = v128.and(f64x2.ge(t1, f64x2.splat(lo)), f64x2.lt(t1, f64x2.splat(hi)));
    const c0 = isSigned<T>() || sizeof<T>() < 4 ? i32x4.trunc_sat_f64x2_s_zero(t0) : i32x4.trunc_sat_f64x2_u_zero(t0);
    const c1 = isSigned<T>() || sizeof<T>() < 4 ? i32x4.trunc_sat_f64x2_s_zero(t1) : i32x4.trunc_sat_f64x2_u_zero(t1);
    c = v128.shuffle<u32>(c0, c1, 0, 1, 4, 5);
    ok = v128.shuffle<u32>(ok0, ok1, 0, 2, 4, 6); // the low half of each 64-bit mask lane
  } else {
    const v = v128.load(at<F>(a, i));
    const t = f32x4.trunc(v);
    ok = v128.and(f32x4.ge(t, f32x4.splat(<f32>lo)), f32x4.lt(t, f32x4.splat(<f32>hi)));
    c = isSigned<T>() || sizeof<T>() < 4 ? i32x4.trunc_sat_f32x4_s(t) : i32x4.trunc_sat_f32x4_u(t);
  }
  truncOk = i32x4.bitmask(ok);
  return v128.and(c, ok);
}

/** The lanes of the last truncLanes that fit (module global: an @inline helper returns one value). */
let truncOk: i32 = 0;

/** Stores four i32 lanes (each in T's range) as four T at o. */
// @ts-ignore: decorator
@inline function storeNarrow<T>(o: usize, c: v128): void {
  if (sizeof<T>() == 4) {
    v128.store(o, c);
  } else if (sizeof<T>() == 2) {
    v128.store64_lane(o, isSigned<T>() ? i16x8.narrow_i32x4_s(c, c) : i16x8.narrow_i32x4_u(c, c), 0);
  } else {
    const h = isSigned<T>() ? i16x8.narrow_i32x4_s(c, c) : i16x8.narrow_i32x4_u(c, c);
    v128.store32_lane(o, isSigned<T>() ? i8x16.narrow_i16x8_s(h, h) : i8x16.narrow_i16x8_u(h, h), 0);
  }
}

/**
 * out[i] = (T) a[i]. Returns the number of rows nulled (0 if canFail<F, T> is false).
 * JUSTIFICATION for the unchecked accesses: the host proved [a, a + n·sizeof<F>), [out, out +
 * n·sizeof<T>) and, when the pair can fail, [validity, + ceil(n/8)) lie in memory, and that `out`
 * does not overlap `a` (a widening cast in place would overwrite values not yet read).
 */
// @ts-ignore: decorator
@inline function convert<F, T>(a: usize, out: usize, validity: usize, n: i32): i32 {
  if (sameRepr<F, T>()) {
    memory.copy(out, a, <usize>n << alignof<F>());
    return 0;
  }
  let nulled = 0;
  let i = 0;
  if (simdWidens<F, T>()) {
    // One vector of F in, two vectors of T out; the scalar loop below finishes the tail.
    const L = <i32>(16 / sizeof<F>());
    for (const n1 = n - L; i <= n1; i += L) {
      const v = v128.load(at<F>(a, i));
      const o = at<T>(out, i);
      v128.store(o, widenHalf<F, T>(v, false));
      v128.store(o, widenHalf<F, T>(v, true), 16);
    }
  }
  if (simdTruncates<F, T>()) {
    // Four values a step, branch-free; a lane that does not fit stores 0 and clears its validity
    // bit (rare in real data: the mask test skips the bit work otherwise).
    assert(validity != 0, 'a cast that can fail needs a validity bitmap');
    for (const n1 = n - 4; i <= n1; i += 4) {
      storeNarrow<T>(at<T>(out, i), truncLanes<F, T>(a, i));
      if (truncOk != 0xf) {
        for (let l = 0; l < 4; l++) if (((truncOk >>> l) & 1) == 0) nulled += clearBit(validity, i + l);
      }
    }
  }
  for (; i < n; i++) {
    const x = load<F>(at<F>(a, i));
    if (canFail<F, T>()) {
      assert(validity != 0, 'a cast that can fail needs a validity bitmap');
      const ok = fits<F, T>(x);
      // Convert 0 instead of an unrepresentable value: float → int conversion of NaN or an
      // out-of-range value traps in wasm (trunc_f64_s), and the row is null anyway.
      store<T>(at<T>(out, i), <T>(ok ? x : <F>0));
      if (!ok) nulled += clearBit(validity, i);
    } else {
      store<T>(at<T>(out, i), <T>x);
    }
  }
  return nulled;
}

function castTo<F>(to: i32, a: usize, out: usize, validity: usize, n: i32): i32 {
  switch (to) {
    case DType.I8: return convert<F, i8>(a, out, validity, n);
    case DType.I16: return convert<F, i16>(a, out, validity, n);
    case DType.I32: return convert<F, i32>(a, out, validity, n);
    case DType.I64: return convert<F, i64>(a, out, validity, n);
    case DType.U8: return convert<F, u8>(a, out, validity, n);
    case DType.U16: return convert<F, u16>(a, out, validity, n);
    case DType.U32: return convert<F, u32>(a, out, validity, n);
    case DType.U64: return convert<F, u64>(a, out, validity, n);
    case DType.F32: return convert<F, f32>(a, out, validity, n);
    case DType.F64: return convert<F, f64>(a, out, validity, n);
    default: return -1;
  }
}

/**
 * castNumeric(from, to, a, out, validity, n) → rows nulled, or −1 for an unsupported type code.
 * `validity`: the result bitmap, pre-filled by the host (validityAnd); may be 0 only when the pair
 * cannot fail.
 */
export function castNumeric(from: i32, to: i32, a: usize, out: usize, validity: usize, n: i32): i32 {
  switch (from) {
    case DType.I8: return castTo<i8>(to, a, out, validity, n);
    case DType.I16: return castTo<i16>(to, a, out, validity, n);
    case DType.I32: return castTo<i32>(to, a, out, validity, n);
    case DType.I64: return castTo<i64>(to, a, out, validity, n);
    case DType.U8: return castTo<u8>(to, a, out, validity, n);
    case DType.U16: return castTo<u16>(to, a, out, validity, n);
    case DType.U32: return castTo<u32>(to, a, out, validity, n);
    case DType.U64: return castTo<u64>(to, a, out, validity, n);
    case DType.F32: return castTo<f32>(to, a, out, validity, n);
    case DType.F64: return castTo<f64>(to, a, out, validity, n);
    default: return -1;
  }
}

/**
 * out[i] = a[i] · k (MULTIPLY) or ⌊a[i] / k⌋ (DIVIDE), F and T each i32 or i64, k > 1.
 * Overflow of the product, or a quotient outside T, → null (value 0).
 */
// @ts-ignore: decorator
@inline function scale<F, T>(mode: i32, a: usize, out: usize, validity: usize, n: i32, k: i64): i32 {
  assert(k > 1, 'castScale: factor must be > 1');
  assert(validity != 0, 'castScale needs a validity bitmap');
  let nulled = 0;
  if (mode == ScaleMode.MULTIPLY) {
    // x·k fits i64 exactly when lo ≤ x ≤ hi (k > 0; truncated division rounds both bounds toward 0,
    // which is the right side for each). T is i64 for every multiply the host asks for (a finer unit
    // of a timestamp/date64, or date32 → date64/timestamp): a narrowing check would be dead code.
    const hi = i64.MAX_VALUE / k;
    const lo = i64.MIN_VALUE / k;
    for (let i = 0; i < n; i++) {
      const x = <i64>load<F>(at<F>(a, i));
      const ok = x >= lo && x <= hi;
      store<T>(at<T>(out, i), <T>(ok ? x * k : 0));
      if (!ok) nulled += clearBit(validity, i);
    }
  } else {
    for (let i = 0; i < n; i++) {
      const x = <i64>load<F>(at<F>(a, i));
      let q = x / k; // k > 1: no trap, no overflow
      if (x - q * k < 0) q--; // truncated → floor: the remainder is negative only for x < 0
      const ok = sizeof<T>() == 8 || (q >= <i64>i32.MIN_VALUE && q <= <i64>i32.MAX_VALUE);
      store<T>(at<T>(out, i), <T>(ok ? q : 0));
      if (!ok) nulled += clearBit(validity, i);
    }
  }
  return nulled;
}

// @ts-ignore: decorator
@inline function scaleFrom<F>(to: i32, mode: i32, a: usize, out: usize, validity: usize, n: i32, k: i64): i32 {
  if (to == DType.I64) {
    return mode == ScaleMode.MULTIPLY
      ? scale<F, i64>(ScaleMode.MULTIPLY, a, out, validity, n, k)
      : scale<F, i64>(ScaleMode.DIVIDE, a, out, validity, n, k);
  }
  if (to == DType.I32 && mode == ScaleMode.DIVIDE) return scale<F, i32>(ScaleMode.DIVIDE, a, out, validity, n, k);
  return -1;
}

/**
 * castScale(from, to, mode, a, out, validity, n, factor) → rows nulled, or −1 for an unsupported
 * combination. from ∈ {I32, I64}; to = I64, or I32 with DIVIDE. `factor` is an integer > 1 passed
 * as f64 (exact: the largest, ns per day, is 8.64e13 < 2^53) so that no BigInt crosses the boundary.
 * `validity` is the result bitmap, pre-filled by the host, never 0.
 */
export function castScale(from: i32, to: i32, mode: i32, a: usize, out: usize, validity: usize, n: i32, factor: f64): i32 {
  // Range-check before converting: f64 → i64 of NaN or a huge value would trap.
  if (!(factor > 1 && factor < 4611686018427387904.0)) return -1;
  const k = <i64>factor;
  if (<f64>k != factor) return -1; // not an integer
  if (from == DType.I32) return scaleFrom<i32>(to, mode, a, out, validity, n, k);
  if (from == DType.I64) return scaleFrom<i64>(to, mode, a, out, validity, n, k);
  return -1;
}
