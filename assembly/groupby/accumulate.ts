// Per-group aggregates: count, sum, min, max, mean of a value column, null-aware.
//
// One driver serves both paths: every row has a *slot* — on the dense path slot = key − min read
// straight from an i32 key column (no ids materialized: this is the fused fast path of the
// `groupby_sum_1000_10M` benchmark), on the hash path (and for dense keys that are not i32) slot =
// the row's group id / dense slot read from an i32 column with min = 0. Null keys (only possible
// when the key column is read directly) go to the last slot, nslots − 1.
//
// Accumulator record per slot (16 bytes; the host allocates nslots of them):
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
// One table, no partial tables: splitting rows over 4 tables (to break the store→load chain of
// rows hitting the same slot) measured slower here — the 4 live base pointers spilled registers
// in V8's code, and 4 × 1000 slots × 16 B no longer fit L1 — while with random keys the chain is
// rare anyway (1 row in 1000 for the benchmark's 1000 groups).
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

/**
 * One row of a fully valid block: row k of the 4 at kp (keys) / vp (values). Unchecked: the slot
 * address is bp + key·16 with bp = table − min·16, and min ≤ key ≤ max holds for every valid key
 * because the host took min and max from this very column (keyRange) or wrote the ids itself; the
 * debug build asserts the record lies in [lo, hi).
 */
// @ts-ignore: decorator
@inline function rowAt<V>(op: i32, bp: usize, kp: usize, vp: usize, k: usize, lo: usize, hi: usize): void {
  const rec = bp + (<usize>load<i32>(kp + (k << 2)) << REC_SHIFT);
  assert(rec >= lo && rec < hi, 'groupAccumulate: slot out of range');
  if (op == AggOp.COUNT) count(op, rec);
  else step<V>(op, rec, load<V>(vp + (k << alignof<V>())));
}

// @ts-ignore: decorator
@inline function drive<V>(op: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): void {
  const stride = <usize>nslots << REC_SHIFT;
  const end = acc + stride;
  for (let r = acc; r < end; r += 1 << REC_SHIFT) initRecord<V>(op, r);
  // usize arithmetic wraps mod 2^32 like the addresses themselves, so a negative min works too.
  const bp = acc - (<usize>min << REC_SHIFT);
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
      // The fast path: 64 rows, no bitmap tests. Pointers are bumped so that the loads use
      // immediate offsets, and the loop body stays small (few live values: no register spills).
      let kp = keys + (<usize>base << 2);
      let vp = vals + (<usize>base << alignof<V>());
      const kend = kp + 256;
      for (; kp < kend; kp += 16, vp += 4 << alignof<V>()) {
        rowAt<V>(op, bp, kp, vp, 0, acc, end);
        rowAt<V>(op, bp, kp, vp, 1, acc, end);
        rowAt<V>(op, bp, kp, vp, 2, acc, end);
        rowAt<V>(op, bp, kp, vp, 3, acc, end);
      }
      continue;
    }
    let rest = whole ? ALL : tailWord(0, n);
    while (rest != 0) {
      const r = <i32>ctz(rest);
      rest &= rest - 1;
      const i = base + r;
      const rec = ((kb >>> <u64>r) & 1) != 0 ? bp + (<usize>load<i32>(at<i32>(keys, i)) << REC_SHIFT) : nullRec;
      assert(rec >= acc && rec < end, 'groupAccumulate: slot out of range');
      if (((vb >>> <u64>r) & 1) == 0) countNull(op, rec);
      else if (op == AggOp.COUNT) count(op, rec);
      else step<V>(op, rec, load<V>(at<V>(vals, i)));
    }
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

// One function per (value type, op): each holds one driver loop, small enough for the engine's
// optimizing compiler to give it its full attention (one giant function with every instantiation
// inlined ran ~1.6× slower in V8).
function countRows(keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): void {
  drive<u8>(AggOp.COUNT, keys, kvalid, min, nslots, vals, vvalid, n, acc);
}
function sumRows<V>(keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): void {
  drive<V>(AggOp.SUM, keys, kvalid, min, nslots, vals, vvalid, n, acc);
}
function meanRows<V>(keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): void {
  drive<V>(AggOp.MEAN, keys, kvalid, min, nslots, vals, vvalid, n, acc);
}
function minRows<V>(keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): void {
  drive<V>(AggOp.MIN, keys, kvalid, min, nslots, vals, vvalid, n, acc);
}
function maxRows<V>(keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): void {
  drive<V>(AggOp.MAX, keys, kvalid, min, nslots, vals, vvalid, n, acc);
}

function finishAs<V>(op: i32, acc: usize, map: usize, groups: i32, out: usize, outValidity: usize): i32 {
  switch (op) {
    case AggOp.COUNT: return finish<V>(AggOp.COUNT, acc, map, groups, out, outValidity);
    case AggOp.SUM: return finish<V>(AggOp.SUM, acc, map, groups, out, outValidity);
    case AggOp.MEAN: return finish<V>(AggOp.MEAN, acc, map, groups, out, outValidity);
    case AggOp.MIN: return finish<V>(AggOp.MIN, acc, map, groups, out, outValidity);
    case AggOp.MAX: return finish<V>(AggOp.MAX, acc, map, groups, out, outValidity);
    default: return -1;
  }
}

function perOp<V>(finishing: bool, op: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): i32 {
  // finishing: keys = map, n = groups, vals = out, vvalid = outValidity (one type switch for both calls)
  if (finishing) return finishAs<V>(op, acc, keys, n, vals, vvalid);
  switch (op) {
    case AggOp.SUM: sumRows<V>(keys, kvalid, min, nslots, vals, vvalid, n, acc); return 0;
    case AggOp.MEAN: meanRows<V>(keys, kvalid, min, nslots, vals, vvalid, n, acc); return 0;
    case AggOp.MIN: minRows<V>(keys, kvalid, min, nslots, vals, vvalid, n, acc); return 0;
    case AggOp.MAX: maxRows<V>(keys, kvalid, min, nslots, vals, vvalid, n, acc); return 0;
    default: return -1;
  }
}

function dispatch(finishing: bool, op: i32, dtype: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize): i32 {
  if (op == AggOp.COUNT) {
    // COUNT reads no values: one instantiation serves every value type.
    if (finishing) return finishAs<u8>(op, acc, keys, n, vals, vvalid);
    countRows(keys, kvalid, min, nslots, vals, vvalid, n, acc);
    return 0;
  }
  switch (dtype) {
    case DType.I8: return perOp<i8>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.I16: return perOp<i16>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.I32: return perOp<i32>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.I64: return perOp<i64>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.U8: return perOp<u8>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.U16: return perOp<u16>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.U32: return perOp<u32>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.U64: return perOp<u64>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.F32: return perOp<f32>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    case DType.F64: return perOp<f64>(finishing, op, keys, kvalid, min, nslots, vals, vvalid, n, acc);
    default: return -1;
  }
}

/**
 * groupAccumulate(op, dtype, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc) → 0 (−1: bad
 * op/type). Initializes nslots records at acc and folds rows 0..n−1 in. keys: i32 per row (slot =
 * key − min); kvalid: key bitmap or 0 (null keys go to slot nslots − 1). `parts` is the number of
 * tables the caller allocated at acc (an earlier version split rows over 4 partial tables); only the
 * first is used, so pass 1 and allocate nslots × 16 bytes.
 */
export function groupAccumulate(op: i32, dtype: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, parts: i32, vals: usize, vvalid: usize, n: i32, acc: usize): i32 {
  assert(parts >= 1, 'groupAccumulate: parts must be ≥ 1');
  return dispatch(false, op, dtype, keys, kvalid, min, nslots, vals, vvalid, n, acc);
}

/**
 * groupFinish(op, dtype, acc, map, groups, out, outValidity) → null count. Writes one result per
 * group from the records: group g reads slot map[g] (map = 0: slot g). Output types: COUNT
 * i64; SUM i64 / u64 bits / f64; MEAN f64; MIN/MAX the value type. outValidity (zeroed by the host,
 * or 0 to skip) gets a bit per group with at least one valid value; COUNT is never null.
 */
export function groupFinish(op: i32, dtype: i32, acc: usize, map: usize, groups: i32, out: usize, outValidity: usize): i32 {
  return dispatch(true, op, dtype, map, 0, 0, 0, out, outValidity, groups, acc);
}

/** denseMap(acc, nslots, map) → groups: the slots that saw a row (rows > 0), ascending, into map. */
export function denseMap(acc: usize, nslots: i32, map: usize): i32 {
  let groups = 0;
  for (let s = 0; s < nslots; s++) {
    if (load<i32>(acc + (<usize>s << REC_SHIFT), 8) > 0) store<i32>(at<i32>(map, groups++), s);
  }
  return groups;
}
