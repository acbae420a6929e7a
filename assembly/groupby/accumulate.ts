// Per-group aggregates: count, sum, min, max, mean of a value column, null-aware.
//
// One driver serves both paths: every row has a *slot* — on the dense path slot = key − min read
// straight from an i32 key column (no ids materialized: this is the fused fast path of the
// `groupby_sum_1000_10M` benchmark), on the hash path (and for dense keys that are not i32) slot =
// the row's group id / dense slot read from an i32 column with min = 0. Null keys (only possible
// when the key column is read directly) go to the last slot, nslots − 1.
//
// Accumulator record per slot (16 bytes; the host allocates parts × nslots of them):
//
//   +0   value  8 bytes  SUM/MEAN: i64 (signed), u64 (unsigned, wrapping), f64 (floats; and
//                        MEAN of 64-bit ints, see meanInF64)
//                        MIN/MAX:  the value widened to i64 / u64 / f64
//   +8   rows   i32      rows whose key maps to this slot (a dense slot exists iff rows > 0)
//   +12  valid  i32      rows with a non-null value (the COUNT result; SUM/MIN/MAX/MEAN are null at 0)
//
// COUNT and MEAN keep exact counts, bumped together by one i64 add (VALID_AND_ROW). SUM, MIN and
// MAX only need rows > 0 and valid > 0, so they store 1s instead (see `count`).
//
// Partial tables: with parts = 4, row i updates table i & 3. A run of rows that hit the same slot
// then no longer waits on the previous row's store (a read–modify–write chain through memory, ~5
// cycles on x86 for store-to-load forwarding); the 4 tables are merged at the end. The host uses 4
// only while 4 tables stay in L2, else 1.
//
// Float MIN/MAX follow assembly/aggregate: NaN is the largest value; MAX is NaN if any value is NaN,
// MIN skips NaN unless every valid value is NaN (MIN starts at NaN and any non-NaN replaces it).

import { AggOp } from '../shared/codes';
import { DType } from '../shared/codes';
import { at, word, tailWord } from '../util';

const REC_SHIFT: usize = 4; // 16-byte records
const VALID_AND_ROW: i64 = (1 << 32) | 1;
const ROW: i64 = 1;
const ALL: u64 = <u64>-1;

// @ts-ignore: decorator
@inline function initRecord<V>(op: i32, rec: usize): void {
  if (op == AggOp.MIN || op == AggOp.MAX) {
    const max = op == AggOp.MAX;
    if (isFloat<V>()) store<f64>(rec, max ? -Infinity : NaN);
    else if (isSigned<V>()) store<i64>(rec, max ? i64.MIN_VALUE : i64.MAX_VALUE);
    else store<u64>(rec, max ? 0 : u64.MAX_VALUE);
  } else {
    store<u64>(rec, 0);
  }
  store<i64>(rec, 0, 8);
}

/**
 * MEAN of 64-bit ints sums in f64: an i64 sum could wrap (the mean of values near 2^63 is not),
 * while narrower ints cannot overflow i64 (n < 2^31 values below 2^32) and stay exact.
 */
// @ts-ignore: decorator
@inline function meanInF64<V>(op: i32): bool {
  return op == AggOp.MEAN && !isFloat<V>() && sizeof<V>() == 8;
}

/** Folds one valid value into a record (value and both counters). */
// @ts-ignore: decorator
@inline function step<V>(op: i32, rec: usize, x: V): void {
  if (op == AggOp.SUM || op == AggOp.MEAN) {
    if (isFloat<V>() || meanInF64<V>(op)) store<f64>(rec, load<f64>(rec) + <f64>x);
    else if (isSigned<V>()) store<i64>(rec, load<i64>(rec) + <i64>x);
    else store<u64>(rec, load<u64>(rec) + <u64>x);
  } else if (op == AggOp.MIN || op == AggOp.MAX) {
    if (isFloat<V>()) {
      const m = load<f64>(rec);
      const f = <f64>x;
      store<f64>(rec, (op == AggOp.MIN ? f < m || m != m : f > m || f != f) ? f : m);
    } else if (isSigned<V>()) {
      const m = load<i64>(rec);
      const w = <i64>x;
      store<i64>(rec, (op == AggOp.MIN ? w < m : w > m) ? w : m);
    } else {
      const m = load<u64>(rec);
      const w = <u64>x;
      store<u64>(rec, (op == AggOp.MIN ? w < m : w > m) ? w : m);
    }
  }
  count(op, rec);
}

/**
 * Counts one row with a valid value. COUNT and MEAN need the exact count; SUM, MIN and MAX only
 * need "some row" / "some valid value", so they store the flags instead of adding: a plain store
 * does not wait for the load before it (no read–modify–write chain), which is most of the cost of a
 * row on the fast path.
 */
// @ts-ignore: decorator
@inline function count(op: i32, rec: usize): void {
  if (op == AggOp.COUNT || op == AggOp.MEAN) store<i64>(rec, load<i64>(rec, 8) + VALID_AND_ROW, 8);
  else store<i64>(rec, VALID_AND_ROW, 8);
}

/** Counts one row whose value is null (it still makes its group exist). */
// @ts-ignore: decorator
@inline function countNull(op: i32, rec: usize): void {
  if (op == AggOp.COUNT || op == AggOp.MEAN) store<i64>(rec, load<i64>(rec, 8) + ROW, 8);
  else store<i32>(rec, 1, 8);
}

/** Merges record src into dst (partial tables → table 0). */
// @ts-ignore: decorator
@inline function merge<V>(op: i32, dst: usize, src: usize): void {
  if (op == AggOp.SUM || op == AggOp.MEAN) {
    if (isFloat<V>() || meanInF64<V>(op)) store<f64>(dst, load<f64>(dst) + load<f64>(src));
    else store<u64>(dst, load<u64>(dst) + load<u64>(src)); // same bits for i64 and u64
  } else if (op == AggOp.MIN || op == AggOp.MAX) {
    if (isFloat<V>()) {
      const a = load<f64>(dst);
      const b = load<f64>(src);
      let r: f64;
      if (op == AggOp.MIN) r = a != a ? b : b != b ? a : (b < a ? b : a); // NaN = "nothing but NaN so far"
      else r = a != a || b != b ? NaN : (b > a ? b : a);
      store<f64>(dst, r);
    } else if (isSigned<V>()) {
      // The widened identities (i64.MIN/MAX) stay identities, so an empty partial merges as a no-op.
      const a = load<i64>(dst);
      const b = load<i64>(src);
      store<i64>(dst, (op == AggOp.MIN ? b < a : b > a) ? b : a);
    } else {
      const a = load<u64>(dst);
      const b = load<u64>(src);
      store<u64>(dst, (op == AggOp.MIN ? b < a : b > a) ? b : a);
    }
  }
  store<i64>(dst, load<i64>(dst, 8) + load<i64>(src, 8), 8);
}

/**
 * One row of a fully valid block (key and value both valid). Unchecked: the slot address is
 * bp + key·16 with bp = table − min·16, and min ≤ key ≤ max holds for every valid key because the
 * host took min and max from this very column (keyRange) or wrote the ids itself; the debug build
 * asserts the record lies in [lo, hi).
 */
// @ts-ignore: decorator
@inline function row<V>(op: i32, bp: usize, keys: usize, vals: usize, i: i32, lo: usize, hi: usize): void {
  const rec = bp + (<usize>load<i32>(at<i32>(keys, i)) << REC_SHIFT);
  assert(rec >= lo && rec < hi, 'groupAccumulate: slot out of range');
  if (op == AggOp.COUNT) count(op, rec);
  else step<V>(op, rec, load<V>(at<V>(vals, i)));
}

// @ts-ignore: decorator
@inline function drive<V>(op: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, parts: i32, vals: usize, vvalid: usize, n: i32, acc: usize): void {
  const stride = <usize>nslots << REC_SHIFT;
  const end = acc + stride * <usize>parts;
  for (let r = acc; r < end; r += 1 << REC_SHIFT) initRecord<V>(op, r);
  // usize arithmetic wraps mod 2^32 like the addresses themselves, so a negative min works too.
  const b0 = acc - (<usize>min << REC_SHIFT);
  const b1 = parts == 4 ? b0 + stride : b0;
  const b2 = parts == 4 ? b1 + stride : b0;
  const b3 = parts == 4 ? b2 + stride : b0;
  const nullRec = acc + stride - (1 << REC_SHIFT);
  // COUNT never reads the values: a missing value bitmap means every value counts.
  if (op == AggOp.COUNT) vals = 0;
  const blocks = n >>> 6;
  for (let b = 0; b <= blocks; b++) {
    const whole = b < blocks;
    const kb = whole ? word(kvalid, b) : tailWord(kvalid, n);
    const vb = whole ? word(vvalid, b) : tailWord(vvalid, n);
    const base = b << 6;
    if (whole && (kb & vb) == ALL) {
      // The fast path: 64 rows, no bitmap tests, 4 rows per step, one to each partial table.
      for (let j = 0; j < 64; j += 4) {
        const i = base + j;
        row<V>(op, b0, keys, vals, i, acc, end);
        row<V>(op, b1, keys, vals, i + 1, acc, end);
        row<V>(op, b2, keys, vals, i + 2, acc, end);
        row<V>(op, b3, keys, vals, i + 3, acc, end);
      }
      continue;
    }
    let rest = whole ? ALL : tailWord(0, n);
    while (rest != 0) {
      const r = <i32>ctz(rest);
      rest &= rest - 1;
      const i = base + r;
      const rec = ((kb >>> <u64>r) & 1) != 0 ? b0 + (<usize>load<i32>(at<i32>(keys, i)) << REC_SHIFT) : nullRec;
      assert(rec >= acc && rec < acc + stride, 'groupAccumulate: slot out of range');
      if (((vb >>> <u64>r) & 1) == 0) countNull(op, rec);
      else if (op == AggOp.COUNT) count(op, rec);
      else step<V>(op, rec, load<V>(at<V>(vals, i)));
    }
  }
  for (let p = 1; p < parts; p++) {
    const src = acc + stride * <usize>p;
    for (let s: usize = 0; s < stride; s += 1 << REC_SHIFT) merge<V>(op, acc + s, src + s);
  }
}

// @ts-ignore: decorator
@inline function finish<V>(op: i32, acc: usize, map: usize, groups: i32, out: usize, outValidity: usize): i32 {
  let nulls = 0;
  for (let g = 0; g < groups; g++) {
    const slot = map == 0 ? g : load<i32>(at<i32>(map, g));
    const rec = acc + (<usize>slot << REC_SHIFT);
    const valid = load<i32>(rec, 12);
    if (op == AggOp.COUNT) {
      store<i64>(at<i64>(out, g), <i64>valid);
      continue;
    }
    if (valid == 0) {
      nulls++;
      if (op == AggOp.MIN || op == AggOp.MAX) store<V>(at<V>(out, g), <V>0);
      else store<u64>(at<u64>(out, g), 0);
      continue;
    }
    if (outValidity != 0) {
      const vb = outValidity + (<usize>g >>> 3);
      store<u8>(vb, <u8>(<i32>load<u8>(vb) | (1 << (g & 7))));
    }
    if (op == AggOp.SUM) {
      store<u64>(at<u64>(out, g), load<u64>(rec));
    } else if (op == AggOp.MEAN) {
      const s = isFloat<V>() || meanInF64<V>(op) ? load<f64>(rec) : isSigned<V>() ? <f64>load<i64>(rec) : <f64>load<u64>(rec);
      store<f64>(at<f64>(out, g), s / <f64>valid);
    } else if (isFloat<V>()) {
      store<V>(at<V>(out, g), <V>load<f64>(rec));
    } else {
      store<V>(at<V>(out, g), <V>load<u64>(rec));
    }
  }
  return nulls;
}

// @ts-ignore: decorator
@inline function perOp<V>(finishing: bool, op: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, parts: i32, vals: usize, vvalid: usize, n: i32, acc: usize): i32 {
  // finishing: keys = map, n = groups, vals = out, vvalid = outValidity (one switch for both calls)
  switch (op) {
    case AggOp.SUM:
      if (finishing) return finish<V>(AggOp.SUM, acc, keys, n, vals, vvalid);
      drive<V>(AggOp.SUM, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc); return 0;
    case AggOp.MEAN:
      if (finishing) return finish<V>(AggOp.MEAN, acc, keys, n, vals, vvalid);
      drive<V>(AggOp.MEAN, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc); return 0;
    case AggOp.MIN:
      if (finishing) return finish<V>(AggOp.MIN, acc, keys, n, vals, vvalid);
      drive<V>(AggOp.MIN, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc); return 0;
    case AggOp.MAX:
      if (finishing) return finish<V>(AggOp.MAX, acc, keys, n, vals, vvalid);
      drive<V>(AggOp.MAX, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc); return 0;
    default: return -1;
  }
}

function dispatch(finishing: bool, op: i32, dtype: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, parts: i32, vals: usize, vvalid: usize, n: i32, acc: usize): i32 {
  if (op == AggOp.COUNT) {
    // COUNT reads no values: one instantiation serves every value type.
    if (finishing) return finish<u8>(AggOp.COUNT, acc, keys, n, vals, vvalid);
    drive<u8>(AggOp.COUNT, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    return 0;
  }
  switch (dtype) {
    case DType.I8: return perOp<i8>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.I16: return perOp<i16>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.I32: return perOp<i32>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.I64: return perOp<i64>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.U8: return perOp<u8>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.U16: return perOp<u16>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.U32: return perOp<u32>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.U64: return perOp<u64>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.F32: return perOp<f32>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    case DType.F64: return perOp<f64>(finishing, op, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
    default: return -1;
  }
}

/**
 * groupAccumulate(op, dtype, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc) → 0 (−1: bad
 * op/type). Initializes parts × nslots records at acc, folds rows 0..n−1 in, merges the partial
 * tables into the first. keys: i32 per row (slot = key − min); kvalid: key bitmap or 0; parts: 1 or 4.
 */
export function groupAccumulate(op: i32, dtype: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, parts: i32, vals: usize, vvalid: usize, n: i32, acc: usize): i32 {
  assert(parts == 1 || parts == 4, 'groupAccumulate: parts must be 1 or 4');
  return dispatch(false, op, dtype, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc);
}

/**
 * groupFinish(op, dtype, acc, map, groups, out, outValidity) → null count. Writes one result per
 * group from the merged records: group g reads slot map[g] (map = 0: slot g). Output types: COUNT
 * i64; SUM i64 / u64 bits / f64; MEAN f64; MIN/MAX the value type. outValidity (zeroed by the host,
 * or 0 to skip) gets a bit per group with at least one valid value; COUNT is never null.
 */
export function groupFinish(op: i32, dtype: i32, acc: usize, map: usize, groups: i32, out: usize, outValidity: usize): i32 {
  return dispatch(true, op, dtype, map, 0, 0, 0, 1, out, outValidity, groups, acc);
}

/** denseMap(acc, nslots, map) → groups: the slots that saw a row (rows > 0), ascending, into map. */
export function denseMap(acc: usize, nslots: i32, map: usize): i32 {
  let groups = 0;
  for (let s = 0; s < nslots; s++) {
    if (load<i32>(acc + (<usize>s << REC_SHIFT), 8) > 0) store<i32>(at<i32>(map, groups++), s);
  }
  return groups;
}
