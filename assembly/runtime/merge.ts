// The merge half of the parallel sort (src/runtime plans: parallel argsort). Workers radix-sort
// runs of rows (assembly/sort radixPass, one run per morsel); then rounds of pairwise merges turn
// the sorted runs into one permutation. A merge of two runs is itself split over workers by merge
// path (Odeh et al. 2012; Green et al. "GPU merge path"): output position d of the merge of A and B
// takes the first `corank(d)` rows of A and the first d − corank(d) of B, found by a binary search —
// so any output range [d0, d1) is an independent piece of work with no shared writes.
//
// Stability: run A always holds lower row numbers than run B (runs are adjacent row ranges, and
// each merge joins neighbours), so a tie takes A first — in every direction, like the radix pass.
//
// Order (the same as assembly/sort/radix.ts): integers by value; floats −Inf < … < −0 = +0 < … <
// +Inf < NaN with every NaN equal; nulls last (or first with NULLS_FIRST), all nulls equal;
// DESCENDING reverses the values but not the ties. Floats are compared through the usual
// order-preserving unsigned key; integers compare as their own (sign- or zero-extended) value.

import { DType, SortFlag } from '../shared/codes';
import { at, bit } from '../util';

/** The comparable key of a valid row: K = i64 for signed ints, u64 for unsigned ints and floats. */
// @ts-ignore: decorator
@inline function keyOf<T, K>(values: usize, row: i32): K {
  const x = load<T>(at<T>(values, row));
  if (isFloat<T>()) {
    let b: u64;
    if (sizeof<T>() == 8) {
      b = reinterpret<u64>(<f64>x);
      b = select<u64>(0, b, <f64>x == 0); // −0 → +0
      b = select<u64>(0x7ff8000000000000, b, <f64>x != <f64>x); // every NaN → one positive NaN
    } else {
      // f32 widened exactly to f64 keeps its order (and −0 / NaN are normalized just the same).
      const f = <f64><f32>x;
      b = reinterpret<u64>(f);
      b = select<u64>(0, b, f == 0);
      b = select<u64>(0x7ff8000000000000, b, f != f);
    }
    return <K>(b ^ (<u64>(<i64>b >> 63) | 0x8000000000000000));
  }
  return <K>x;
}

/** Does row a come before row b, or tie with it? (a is from run A: ties go to A.) */
// @ts-ignore: decorator
@inline function before<T, K>(values: usize, validity: usize, flags: i32, a: i32, b: i32): bool {
  const va = bit(validity, a);
  const vb = bit(validity, b);
  if (!(va && vb)) {
    if (!va && !vb) return true;
    return (flags & SortFlag.NULLS_FIRST) != 0 ? !va : !vb;
  }
  const ka = keyOf<T, K>(values, a);
  const kb = keyOf<T, K>(values, b);
  return (flags & SortFlag.DESCENDING) != 0 ? ka >= kb : ka <= kb;
}

/** Rows of A among the first d outputs of merge(A, B): the smallest i with A[i] after B[d − i − 1]. */
// @ts-ignore: decorator
@inline function corank<T, K>(values: usize, validity: usize, flags: i32, a: usize, na: i32, b: usize, nb: i32, d: i32): i32 {
  let lo = d > nb ? d - nb : 0;
  let hi = d < na ? d : na;
  while (lo < hi) {
    const i = (lo + hi) >>> 1;
    // lo ≤ i < hi ≤ min(d, na): A[i] exists, and j = d − i ∈ [1, nb], so B[j − 1] exists.
    if (before<T, K>(values, validity, flags, load<i32>(at<i32>(a, i)), load<i32>(at<i32>(b, d - i - 1)))) lo = i + 1;
    else hi = i;
  }
  return lo;
}

// @ts-ignore: decorator
@inline function mergeDrive<T, K>(values: usize, validity: usize, src: usize, lo: i32, mid: i32, hi: i32, d0: i32, d1: i32, dst: usize, flags: i32): void {
  const a = at<i32>(src, lo);
  const b = at<i32>(src, mid);
  const na = mid - lo;
  const nb = hi - mid;
  let i = corank<T, K>(values, validity, flags, a, na, b, nb, d0);
  let j = d0 - i;
  const i1 = corank<T, K>(values, validity, flags, a, na, b, nb, d1);
  const j1 = d1 - i1;
  let out = at<i32>(dst, lo + d0);
  while (i < i1 && j < j1) {
    const ra = load<i32>(at<i32>(a, i));
    const rb = load<i32>(at<i32>(b, j));
    if (before<T, K>(values, validity, flags, ra, rb)) {
      store<i32>(out, ra);
      i++;
    } else {
      store<i32>(out, rb);
      j++;
    }
    out += 4;
  }
  // One side ran out: the rest of the other is already in order.
  if (i < i1) memory.copy(out, at<i32>(a, i), <usize>(i1 - i) << 2);
  else if (j < j1) memory.copy(out, at<i32>(b, j), <usize>(j1 - j) << 2);
}

/**
 * mergeRuns(dtype, values, validity, src, lo, mid, hi, d0, d1, dst, flags) → 0 (−1: dtype not
 * sortable here). src[lo, mid) and src[mid, hi) are sorted runs of row numbers into `values`
 * (A's rows all below B's); writes outputs [d0, d1) of their stable merge to dst[lo + d0, lo + d1).
 * 0 ≤ d0 ≤ d1 ≤ hi − lo. Pieces with disjoint [d0, d1) write disjoint parts of dst.
 */
export function mergeRuns(dtype: i32, values: usize, validity: usize, src: usize, lo: i32, mid: i32, hi: i32, d0: i32, d1: i32, dst: usize, flags: i32): i32 {
  assert(lo <= mid && mid <= hi && 0 <= d0 && d0 <= d1 && d1 <= hi - lo, 'mergeRuns: bad range');
  switch (dtype) {
    case DType.I8: mergeDrive<i8, i64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.I16: mergeDrive<i16, i64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.I32: mergeDrive<i32, i64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.I64: mergeDrive<i64, i64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.U8: mergeDrive<u8, u64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.U16: mergeDrive<u16, u64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.U32: mergeDrive<u32, u64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.U64: mergeDrive<u64, u64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.F32: mergeDrive<f32, u64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    case DType.F64: mergeDrive<f64, u64>(values, validity, src, lo, mid, hi, d0, d1, dst, flags); return 0;
    default: return -1;
  }
}
