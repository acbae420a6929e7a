// Aggregates: count, sum, min, max over one column, null-aware (validity bitmap or 0 = no nulls).
//
// One generic driver walks the column in 64-element blocks against the validity bitmap (see
// util.word): full blocks run the SIMD body, empty blocks are skipped, mixed blocks go element by
// element. The op table (applyBlock / applyOne) is the only per-op code; the type dispatch is the
// single switch in `aggregate` below.
//
// Results are written to `out` (8 bytes) so that no i64 crosses the JS boundary as a BigInt:
//   SUM   ints → i64 (wrapping, two's complement; unsigned inputs are summed as u64 bits),
//         floats → f64 (f32 is widened; block sums are added with Neumaier compensation, so the
//         error is that of a 64-element block, ~1e-14 relative, not of n additions).
//   MIN/MAX   the input type widened to 8 bytes (i64 / u64 bits / f64).
//             Floats follow the total order NaN > +Inf: MAX is NaN if any value is NaN; MIN
//             ignores NaN unless every valid value is NaN.
// The return value is the number of valid (non-null) values; with 0, MIN/MAX leave `out` unspecified.

import { AggOp, DType } from '../shared/codes';
import { lanes, at, word, tailWord, extreme } from '../util';

// @ts-ignore: decorator
@inline function widenF64<T>(v: v128): v128 {
  // f32x4 → the sum of its halves as f64x2 (exact: f32 + f32 fits f64 with no rounding... nearly;
  // the pairwise add is one f64 rounding, far below the 1e-9 budget).
  return f64x2.add(f64x2.promote_low_f32x4(v), f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1)));
}

/** Adds the lanes of one vector of T into a 2-lane accumulator of the wide type (i64x2 or f64x2). */
// @ts-ignore: decorator
@inline function accumulate<T>(acc: v128, v: v128): v128 {
  if (isFloat<T>()) {
    if (sizeof<T>() == 8) return f64x2.add(acc, v);
    return f64x2.add(acc, widenF64<T>(v));
  }
  if (sizeof<T>() == 8) return i64x2.add(acc, v);
  let w32: v128;
  if (sizeof<T>() == 4) {
    w32 = v;
  } else if (sizeof<T>() == 2) {
    w32 = isSigned<T>() ? i32x4.extadd_pairwise_i16x8_s(v) : i32x4.extadd_pairwise_i16x8_u(v);
  } else {
    const w16 = isSigned<T>() ? i16x8.extadd_pairwise_i8x16_s(v) : i16x8.extadd_pairwise_i8x16_u(v);
    // After one pairwise add, i8 sums fit in i16 (|sum| ≤ 256); u8 sums ≤ 510 are positive in i16.
    w32 = isSigned<T>() ? i32x4.extadd_pairwise_i16x8_s(w16) : i32x4.extadd_pairwise_i16x8_u(w16);
  }
  const lo = isSigned<T>() || sizeof<T>() < 4 ? i64x2.extend_low_i32x4_s(w32) : i64x2.extend_low_i32x4_u(w32);
  const hi = isSigned<T>() || sizeof<T>() < 4 ? i64x2.extend_high_i32x4_s(w32) : i64x2.extend_high_i32x4_u(w32);
  return i64x2.add(acc, i64x2.add(lo, hi));
}

/**
 * Set when MIN replaced a NaN by +Inf. A module global is per instance, and an instance runs one
 * kernel at a time on its own thread, so this is thread-private. (Kernels never allocate — not even a
 * small state object: the stub runtime would bump into the host's arena.)
 */
let sawNaN = false;

/** Neumaier's correction term for s + x: add it to a separate compensation sum. */
// @ts-ignore: decorator
@inline function sumError(s: f64, x: f64): f64 {
  const t = s + x;
  return Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
}

/**
 * SUM over the 64 elements at p (all valid): SIMD, four independent accumulators. Returns two lanes
 * of the wide type (f64x2 for floats, i64x2 for ints); @inline, so the v128 stays in the caller.
 */
// @ts-ignore: decorator
@inline function sumBlock<T>(p: usize): v128 {
  let a0 = v128.splat<i64>(0), a1 = v128.splat<i64>(0), a2 = v128.splat<i64>(0), a3 = v128.splat<i64>(0);
  for (let off: usize = 0; off < 64 * sizeof<T>(); off += 64) {
    a0 = accumulate<T>(a0, v128.load(p + off));
    a1 = accumulate<T>(a1, v128.load(p + off, 16));
    a2 = accumulate<T>(a2, v128.load(p + off, 32));
    a3 = accumulate<T>(a3, v128.load(p + off, 48));
  }
  if (isFloat<T>()) return f64x2.add(f64x2.add(a0, a1), f64x2.add(a2, a3));
  return i64x2.add(i64x2.add(a0, a1), i64x2.add(a2, a3));
}


/**
 * One vector into a MIN/MAX accumulator. Floats use pmin/pmax (one minpd/maxpd on x64; wasm's
 * min/max lower to several instructions): pmin(acc, x) = x < acc ? x : acc, so a NaN in x leaves the
 * lane unchanged — NaN is skipped here, and the caller applies "NaN is the largest" at the end.
 */
// @ts-ignore: decorator
@inline function step<T>(max: bool, acc: v128, x: v128): v128 {
  if (isFloat<T>()) return max ? v128.pmax<T>(acc, x) : v128.pmin<T>(acc, x);
  return max ? v128.max<T>(acc, x) : v128.min<T>(acc, x);
}

// @ts-ignore: decorator
@inline function fold<T>(max: bool, a: v128, b: v128): v128 {
  return max ? v128.max<T>(a, b) : v128.min<T>(a, b);
}

/** Horizontal MIN/MAX of a vector: halve the live width until lane 0 holds the result. */
// @ts-ignore: decorator
@inline function foldLanes<T>(max: bool, v: v128): T {
  v = fold<T>(max, v, v128.shuffle<u8>(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  if (sizeof<T>() <= 4) v = fold<T>(max, v, v128.shuffle<u8>(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15));
  if (sizeof<T>() <= 2) v = fold<T>(max, v, v128.shuffle<u8>(v, v, 2, 3, 0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  if (sizeof<T>() == 1) v = fold<T>(max, v, v128.shuffle<u8>(v, v, 1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  return v128.extract_lane<T>(v, 0);
}

/** MIN / MAX step for one element. */
// @ts-ignore: decorator
@inline function pick<T>(max: bool, m: T, x: T): T {
  if (isFloat<T>()) {
    if (isNaN(x)) {
      if (max) return x;
      sawNaN = true;
      return m;
    }
    if (max && isNaN(m)) return m;
  }
  return max ? (x > m ? x : m) : (x < m ? x : m);
}

/** Interleaved sequential streams a reduction reads (see drive). A power of two: / and % are shifts. */
const STREAMS = 4;

// @ts-ignore: decorator
@inline function drive<T>(op: i32, p: usize, validity: usize, n: i32, out: usize): i32 {
  const max = op == AggOp.MAX;
  let m: T = extreme<T>(max);
  let isum: i64 = 0;
  let fsum: f64 = 0;
  let comp: f64 = 0;
  let count = 0;
  sawNaN = false;
  let nanv = i64x2.splat(0); // MAX over floats: lanes that saw a NaN

  // 64-bit ints have no SIMD min/max in wasm: they take the scalar path below (vectorized = false).
  const vectorized = !(sizeof<T>() == 8 && !isFloat<T>());
  let mv0 = v128.splat<T>(m), mv1 = mv0, mv2 = mv0, mv3 = mv0;
  const blocks = n >>> 6;
  // Whole blocks are visited as STREAMS interleaved runs — block k of run 0, of run 1, …, then
  // block k + 1 — instead of front to back: one core keeps more cache misses in flight over several
  // sequential streams (the prefetcher follows each), measured on this machine's 80 MB f64 sum at
  // 13.6 GB/s with one stream, 19.2 with two and 23.4 with four. The last 0–3 whole blocks and the
  // tail follow in order. Only the order of the additions changes (and the sum is compensated).
  const q = blocks / STREAMS;
  const streamed = q * STREAMS;
  for (let j = 0; j <= blocks; j++) {
    const b = j < streamed ? (j % STREAMS) * q + j / STREAMS : j;
    // Blocks 0..blocks-1 are whole; block `blocks` is the tail (its word masks the rest off).
    const bits = b < blocks ? word(validity, b) : tailWord(validity, n);
    const base = b << 6;
    if (bits == <u64>-1) {
      count += 64;
      if (op == AggOp.SUM) {
        const s = sumBlock<T>(at<T>(p, base));
        if (isFloat<T>()) {
          const x = f64x2.extract_lane(s, 0) + f64x2.extract_lane(s, 1);
          comp += sumError(fsum, x);
          fsum += x;
        } else {
          isum += i64x2.extract_lane(s, 0) + i64x2.extract_lane(s, 1);
        }
      } else if (op != AggOp.COUNT) {
        if (vectorized) {
          // Lane-wise MIN/MAX into four independent accumulators (wasm's float min/max lower to
          // multi-instruction sequences on x64; one chain would be latency-bound), folded once at
          // the end. Floats use pmin/pmax (a single minpd/maxpd) on NaN-free lanes: NaN lanes are
          // recorded in `nanv` and replaced by the op's identity; the end applies "NaN is the largest".
          const q = at<T>(p, base);
          for (let i = 0; i < 64; i += 4 * lanes<T>()) {
            const x0 = v128.load(at<T>(q, i)), x1 = v128.load(at<T>(q, i), 16);
            const x2 = v128.load(at<T>(q, i), 32), x3 = v128.load(at<T>(q, i), 48);
            if (isFloat<T>() && max) {
              nanv = v128.or(nanv, v128.or(v128.or(v128.ne<T>(x0, x0), v128.ne<T>(x1, x1)), v128.or(v128.ne<T>(x2, x2), v128.ne<T>(x3, x3))));
            }
            mv0 = step<T>(max, mv0, x0);
            mv1 = step<T>(max, mv1, x1);
            mv2 = step<T>(max, mv2, x2);
            mv3 = step<T>(max, mv3, x3);
          }
        } else {
          for (let i = 0; i < 64; i++) m = pick<T>(max, m, load<T>(at<T>(p, base + i)));
        }
      }
    } else if (op == AggOp.COUNT) {
      count += <i32>popcnt(bits);
    } else {
      let rest = bits;
      while (rest != 0) {
        const x = load<T>(at<T>(p, base + <i32>ctz(rest)));
        rest &= rest - 1;
        count++;
        if (op == AggOp.SUM) {
          if (isFloat<T>()) {
            comp += sumError(fsum, <f64>x);
            fsum += <f64>x;
          } else {
            isum += isSigned<T>() ? <i64>x : <i64><u64>x;
          }
        } else {
          m = pick<T>(max, m, x);
        }
      }
    }
  }
  if (op == AggOp.SUM) {
    // With ±Inf or NaN among the values the compensation is NaN garbage; the plain sum is the IEEE answer.
    if (isFloat<T>()) store<f64>(out, isFinite(fsum) ? fsum + comp : fsum);
    else store<i64>(out, isum);
  } else if (op != AggOp.COUNT) {
    if (vectorized) {
      const mv = fold<T>(max, fold<T>(max, mv0, mv1), fold<T>(max, mv2, mv3));
      if (isFloat<T>()) {
        if (max && v128.any_true(nanv)) m = <T>NaN;
        // MIN skipped NaN lanes silently; if nothing else was seen, m is still +Inf: check below.
        if (!max) sawNaN = true;
      }
      m = pick<T>(max, m, foldLanes<T>(max, mv));
    }
    if (isFloat<T>()) {
      // MIN saw only NaN among valid values: NaN. (+Inf was the NaN stand-in.)
      if (op == AggOp.MIN && sawNaN && m == <T>Infinity && !hasValue<T>(p, validity, n, <T>Infinity)) m = <T>NaN;
      store<f64>(out, <f64>m);
    } else if (isSigned<T>()) {
      store<i64>(out, <i64>m);
    } else {
      store<u64>(out, <u64>m);
    }
  }
  return count;
}

/** Rare path for MIN: is `x` itself among the valid values? */
function hasValue<T>(p: usize, validity: usize, n: i32, x: T): bool {
  for (let i = 0; i < n; i++) {
    if ((validity == 0 || ((load<u8>(validity + (<usize>i >>> 3)) >>> (<u32>i & 7)) & 1) != 0) && load<T>(at<T>(p, i)) == x) return true;
  }
  return false;
}

function dispatch<T>(op: i32, p: usize, validity: usize, n: i32, out: usize): i32 {
  switch (op) {
    case AggOp.COUNT: return drive<T>(AggOp.COUNT, p, validity, n, out);
    case AggOp.SUM: return drive<T>(AggOp.SUM, p, validity, n, out);
    case AggOp.MIN: return drive<T>(AggOp.MIN, p, validity, n, out);
    case AggOp.MAX: return drive<T>(AggOp.MAX, p, validity, n, out);
    default: return -1;
  }
}

/**
 * aggregate(op, dtype, values, validity, n, out) → valid count (−1: op/type not supported).
 * The host validates op, type and pointers before calling; −1 is a last line of defence.
 */
export function aggregate(op: i32, dtype: i32, p: usize, validity: usize, n: i32, out: usize): i32 {
  switch (dtype) {
    case DType.I8: return dispatch<i8>(op, p, validity, n, out);
    case DType.I16: return dispatch<i16>(op, p, validity, n, out);
    case DType.I32: return dispatch<i32>(op, p, validity, n, out);
    case DType.I64: return dispatch<i64>(op, p, validity, n, out);
    case DType.U8: return dispatch<u8>(op, p, validity, n, out);
    case DType.U16: return dispatch<u16>(op, p, validity, n, out);
    case DType.U32: return dispatch<u32>(op, p, validity, n, out);
    case DType.U64: return dispatch<u64>(op, p, validity, n, out);
    case DType.F32: return dispatch<f32>(op, p, validity, n, out);
    case DType.F64: return dispatch<f64>(op, p, validity, n, out);
    default: return -1;
  }
}
