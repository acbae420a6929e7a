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
// MAX only need rows > 0 and valid > 0, so they write the new value and 1s for both flags in one
// 16-byte store (see `put`).
//
// Two entry points share the driver: `groupAccumulate` trusts its caller that every valid key lies
// in [min, min + nslots − 2] (the host took min and max from the column, or wrote the ids itself);
// `denseAccumulate` checks each 64-row block against that window before touching the table and stops
// at the first block that leaves it, so the host can widen or move the window and go on from there —
// no separate key-range pass over the column (see README, "Fused window"). Its tables are the
// standard records above, or compact 8-byte ones for float SUM (see `compact`); `denseTable`
// converts. Both fold the rows as two ranges, a block of each in turn (see `drive`).
//
// One table, no partial tables: splitting rows over 4 tables (to break the store→load chain of
// rows hitting the same slot) measured slower here — the 4 live base pointers spilled registers
// in V8's code, and 4 × 1000 slots × 16 B no longer fit L1 — while with random keys the chain is
// rare anyway (1 row in 1000 for the benchmark's 1000 groups).
//
// Float MIN/MAX follow assembly/aggregate: NaN is the largest value; MAX is NaN if any value is NaN,
// MIN skips NaN unless every valid value is NaN (MIN starts at NaN and any non-NaN replaces it).

import { AggOp } from '../shared/codes';
import { DType, TableOp } from '../shared/codes';
import { at, word, tailWord } from '../util';

const REC_SHIFT: usize = 4; // 16-byte records
const VALID_AND_ROW: i64 = (1 << 32) | 1;
const ROW: i64 = 1;
const ALL: u64 = <u64>-1;
/** The identity of a compact record: the bits of −0.0. */
const NEG_ZERO: u64 = 0x8000000000000000;

/**
 * Compact records (the dense window path, float SUM): the f64 sum alone, 8 bytes per slot, identity
 * −0.0, and a byte per slot after the sums (at acc + nslots·8) that only rows with a null value set.
 * Half the table of 16-byte records: 1000 groups take 8 KB of L1 beside the key and value streams,
 * and a row is one 8-byte store with no flags (README: 9.3 → 7.9 ms at 10 M rows). Why no flag is
 * needed: each fold adds x + 0.0, which is never −0.0, and in round-to-nearest a sum is −0.0 only
 * when both addends are; so the sum's bits differ from −0.0 exactly when the slot got a valid value.
 * The sums equal the standard records' bit for bit: +0.0 + x₁ + … and −0.0 + (x₁ + 0.0) + … agree
 * at every step, since neither running sum is ever −0.0.
 */
// @ts-ignore: decorator
@inline function compact<V>(op: i32, checked: bool): bool {
  return checked && op == AggOp.SUM && isFloat<V>();
}

/** Record size (log2) of a table: 8-byte compact records or the standard 16. */
// @ts-ignore: decorator
@inline function recShift<V>(op: i32, checked: bool): usize {
  return compact<V>(op, checked) ? 3 : REC_SHIFT;
}

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

/** The record of a SUM/MIN/MAX row after a valid value: value bits in lane 0, rows = valid = 1. */
// @ts-ignore: decorator
@inline function flagged(): v128 {
  return i64x2(0, VALID_AND_ROW);
}

/**
 * Writes a SUM/MIN/MAX record: the new value and both flags in one 16-byte store. Zen 3 retires at
 * most 2 stores a cycle and the fast path's row is otherwise 3 loads + 1 store, so the separate flag
 * store was a fifth memory op per row (README: 9.8 → 8.6 ms over 10 M rows). Records are 16-byte
 * aligned (the arena aligns tables to 64), and the next 8-byte load of the value is forwarded
 * from this store.
 */
// @ts-ignore: decorator
@inline function put<V>(rec: usize, f: f64, w: i64): void {
  if (isFloat<V>()) v128.store(rec, f64x2.replace_lane(flagged(), 0, f));
  else v128.store(rec, i64x2.replace_lane(flagged(), 0, w));
}

/** Folds one valid value into a record (value and both counters). */
// @ts-ignore: decorator
@inline function step<V>(op: i32, rec: usize, x: V): void {
  if (op == AggOp.MEAN) {
    if (isFloat<V>() || meanInF64<V>(op)) store<f64>(rec, load<f64>(rec) + <f64>x);
    else if (isSigned<V>()) store<i64>(rec, load<i64>(rec) + <i64>x);
    else store<u64>(rec, load<u64>(rec) + <u64>x);
    count(op, rec);
  } else if (op == AggOp.SUM) {
    if (isFloat<V>()) put<V>(rec, load<f64>(rec) + <f64>x, 0);
    else if (isSigned<V>()) put<V>(rec, 0, load<i64>(rec) + <i64>x);
    else put<V>(rec, 0, <i64>(load<u64>(rec) + <u64>x));
  } else if (op == AggOp.MIN || op == AggOp.MAX) {
    if (isFloat<V>()) {
      const m = load<f64>(rec);
      const f = <f64>x;
      put<V>(rec, (op == AggOp.MIN ? f < m || m != m : f > m || f != f) ? f : m, 0);
    } else if (isSigned<V>()) {
      const m = load<i64>(rec);
      const w = <i64>x;
      put<V>(rec, 0, (op == AggOp.MIN ? w < m : w > m) ? w : m);
    } else {
      const m = load<u64>(rec);
      const w = <u64>x;
      put<V>(rec, 0, <i64>((op == AggOp.MIN ? w < m : w > m) ? w : m));
    }
  }
}

/**
 * Counts one row with a valid value, for COUNT and MEAN (exact counts, a read–modify–write of both
 * counters at once). SUM, MIN and MAX set their flags in `put`.
 */
// @ts-ignore: decorator
@inline function count(op: i32, rec: usize): void {
  store<i64>(rec, load<i64>(rec, 8) + VALID_AND_ROW, 8);
}

/** Counts one row whose value is null (it still makes its group exist). */
// @ts-ignore: decorator
@inline function countNull(op: i32, rec: usize): void {
  if (op == AggOp.COUNT || op == AggOp.MEAN) store<i64>(rec, load<i64>(rec, 8) + ROW, 8);
  else store<i32>(rec, 1, 8);
}

/**
 * One row of a fully valid block: row k of the 8 at vp (values), whose key (as a u32: the address
 * arithmetic wraps like the i32 key would) the caller read. Unchecked: the slot
 * address is bp + key·16 with bp = table − min·16, and min ≤ key ≤ min + nslots − 2 holds for every
 * valid key — `groupAccumulate`'s caller guarantees it, `denseAccumulate` checked this block first
 * (`blockLeaves`). The debug build asserts the record lies in [lo, hi).
 */
// @ts-ignore: decorator
@inline function rowAt<V>(op: i32, checked: bool, bp: usize, key: usize, vp: usize, k: usize, lo: usize, hi: usize): void {
  const rec = bp + (key << recShift<V>(op, checked));
  assert(rec >= lo && rec < hi, 'groupAccumulate: slot out of range');
  if (op == AggOp.COUNT) count(op, rec);
  else if (compact<V>(op, checked)) stepCompact(rec, <f64>load<V>(vp + (k << alignof<V>())));
  else step<V>(op, rec, load<V>(vp + (k << alignof<V>())));
}

/** Folds one valid value into a compact record (see `compact`). */
// @ts-ignore: decorator
@inline function stepCompact(rec: usize, x: f64): void {
  store<f64>(rec, load<f64>(rec) + (x + 0.0));
}

/**
 * Whether any of the 64 keys at kp lies outside [lo, hi] (both splatted): SIMD min/max over the
 * block with two accumulator pairs, one compare at the end. It also pulls the block's 4 cache lines
 * of keys into L1 just before the scatter reads them again, so the window check costs no extra
 * pass over memory (≈ 0.3 ms per 10 M rows).
 */
// @ts-ignore: decorator
@inline function blockLeaves(kp: usize, lo: v128, hi: v128): bool {
  let a = v128.load(kp);
  let b = v128.load(kp, 16);
  let mn0 = a, mx0 = a, mn1 = b, mx1 = b;
  for (let o: usize = 32; o < 256; o += 32) {
    a = v128.load(kp + o);
    b = v128.load(kp + o, 16);
    mn0 = i32x4.min_s(mn0, a);
    mx0 = i32x4.max_s(mx0, a);
    mn1 = i32x4.min_s(mn1, b);
    mx1 = i32x4.max_s(mx1, b);
  }
  return v128.any_true(v128.or(i32x4.lt_s(i32x4.min_s(mn0, mn1), lo), i32x4.gt_s(i32x4.max_s(mx0, mx1), hi)));
}

/**
 * The fast path: the 64 rows at kp / vp, every key and value valid, every key in the window. No
 * bitmap tests; pointers are bumped so that the loads use immediate offsets, and the loop body
 * stays small (few live values: no register spills). Keys are read two at a time as one u64 and
 * split: in V8's code that ran faster than one i32 load per key (README, "Paired key loads").
 */
// @ts-ignore: decorator
@inline function foldBlock<V>(op: i32, checked: bool, bp: usize, kp: usize, vp: usize, acc: usize, end: usize): void {
  const kend = kp + 256;
  for (; kp < kend; kp += 16, vp += 4 << alignof<V>()) {
    const w0 = load<u64>(kp), w1 = load<u64>(kp, 8);
    rowAt<V>(op, checked, bp, <usize>w0, vp, 0, acc, end);
    rowAt<V>(op, checked, bp, <usize>(w0 >>> 32), vp, 1, acc, end);
    rowAt<V>(op, checked, bp, <usize>w1, vp, 2, acc, end);
    rowAt<V>(op, checked, bp, <usize>(w1 >>> 32), vp, 3, acc, end);
  }
}

/**
 * Whole-block pairs of `drive`'s two ranges when neither column has a bitmap: block a, then block
 * b, while a < aEnd and b's block is whole. A function of its own (per value type and op, see
 * `pairRun`), not inlined into `drive`: inside drive's large body V8 kept fewer of the loop's
 * values in registers and the same row loop ran ~20 % slower (README, "Paired key loads").
 * Returns 2·pairs, + 1 when block a of the last pair was folded and its block b left the window
 * (checked only; a block that leaves is not folded).
 */
// @ts-ignore: decorator
@inline function pairs<V>(op: i32, checked: bool, keys: usize, vals: usize, bp: usize, acc: usize, end: usize, lo: v128, hi: v128, a: i32, aEnd: i32, b: i32, n: i32): i32 {
  let p = 0;
  while (a < aEnd && b + 64 <= n) {
    const ka = keys + (<usize>a << 2), kb = keys + (<usize>b << 2);
    if (checked && blockLeaves(ka, lo, hi)) return p << 1;
    foldBlock<V>(op, checked, bp, ka, vals + (<usize>a << alignof<V>()), acc, end);
    if (checked && blockLeaves(kb, lo, hi)) return (p << 1) | 1;
    foldBlock<V>(op, checked, bp, kb, vals + (<usize>b << alignof<V>()), acc, end);
    a += 64;
    b += 64;
    p++;
  }
  return p << 1;
}

// `pairs` as a function of its own per (value type, op); checked is a run-time flag here, tested
// once outside the loops.
function pairsCount(checked: bool, keys: usize, vals: usize, bp: usize, acc: usize, end: usize, lo: v128, hi: v128, a: i32, aEnd: i32, b: i32, n: i32): i32 {
  return checked ? pairs<u8>(AggOp.COUNT, true, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n) : pairs<u8>(AggOp.COUNT, false, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
}
function pairsSum<V>(checked: bool, keys: usize, vals: usize, bp: usize, acc: usize, end: usize, lo: v128, hi: v128, a: i32, aEnd: i32, b: i32, n: i32): i32 {
  return checked ? pairs<V>(AggOp.SUM, true, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n) : pairs<V>(AggOp.SUM, false, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
}
function pairsMean<V>(checked: bool, keys: usize, vals: usize, bp: usize, acc: usize, end: usize, lo: v128, hi: v128, a: i32, aEnd: i32, b: i32, n: i32): i32 {
  return checked ? pairs<V>(AggOp.MEAN, true, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n) : pairs<V>(AggOp.MEAN, false, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
}
function pairsMin<V>(checked: bool, keys: usize, vals: usize, bp: usize, acc: usize, end: usize, lo: v128, hi: v128, a: i32, aEnd: i32, b: i32, n: i32): i32 {
  return checked ? pairs<V>(AggOp.MIN, true, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n) : pairs<V>(AggOp.MIN, false, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
}
function pairsMax<V>(checked: bool, keys: usize, vals: usize, bp: usize, acc: usize, end: usize, lo: v128, hi: v128, a: i32, aEnd: i32, b: i32, n: i32): i32 {
  return checked ? pairs<V>(AggOp.MAX, true, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n) : pairs<V>(AggOp.MAX, false, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
}

/** The `pairs` function of (V, op); op is a constant wherever `drive` is inlined. */
// @ts-ignore: decorator
@inline function pairRun<V>(op: i32, checked: bool, keys: usize, vals: usize, bp: usize, acc: usize, end: usize, lo: v128, hi: v128, a: i32, aEnd: i32, b: i32, n: i32): i32 {
  if (op == AggOp.COUNT) return pairsCount(checked, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
  if (op == AggOp.SUM) return pairsSum<V>(checked, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
  if (op == AggOp.MEAN) return pairsMean<V>(checked, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
  if (op == AggOp.MIN) return pairsMin<V>(checked, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
  return pairsMax<V>(checked, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
}

/** Whether a valid key (bits) of the block at row `base` lies outside [min, min + width). */
// @ts-ignore: decorator
@inline function bitsLeave(keys: usize, bits: u64, base: i32, min: i32, width: i32): bool {
  let rest = bits;
  while (rest != 0) {
    const i = base + <i32>ctz(rest);
    rest &= rest - 1;
    if (<u32>(load<i32>(at<i32>(keys, i)) - min) >= <u32>width) return true;
  }
  return false;
}

/**
 * One 64-row block (index b) into the table; checked: returns true, folding nothing, when a valid
 * key of the block lies outside the window [min, min + width). The rest are `drive`'s constants.
 */
// @ts-ignore: decorator
@inline function blockAt<V>(op: i32, checked: bool, b: i32, keys: usize, kvalid: usize, vals: usize, vvalid: usize, n: i32, acc: usize, end: usize, bp: usize, nullRec: usize, min: i32, width: i32, lo: v128, hi: v128): bool {
  const sh = recShift<V>(op, checked);
  // Compact tables: the null-value row flags follow the sums (one byte per slot).
  const rowFlags = end;
  const whole = b < (n >>> 6);
  const kb = whole ? word(kvalid, b) : tailWord(kvalid, n);
  const vb = whole ? word(vvalid, b) : tailWord(vvalid, n);
  const base = b << 6;
  if (checked) {
    if (whole && kb == ALL ? blockLeaves(keys + (<usize>base << 2), lo, hi) : bitsLeave(keys, kb, base, min, width)) return true;
  }
  if (whole && (kb & vb) == ALL) {
    foldBlock<V>(op, checked, bp, keys + (<usize>base << 2), vals + (<usize>base << alignof<V>()), acc, end);
    return false;
  }
  let rest = whole ? ALL : tailWord(0, n);
  while (rest != 0) {
    const r = <i32>ctz(rest);
    rest &= rest - 1;
    const i = base + r;
    const rec = ((kb >>> <u64>r) & 1) != 0 ? bp + (<usize>load<i32>(at<i32>(keys, i)) << sh) : nullRec;
    assert(rec >= acc && rec < end, 'groupAccumulate: slot out of range');
    if (((vb >>> <u64>r) & 1) == 0) {
      if (compact<V>(op, checked)) store<u8>(rowFlags + ((rec - acc) >>> sh), 1);
      else countNull(op, rec);
    } else if (op == AggOp.COUNT) count(op, rec);
    else if (compact<V>(op, checked)) stepCompact(rec, <f64>load<V>(at<V>(vals, i)));
    else step<V>(op, rec, load<V>(at<V>(vals, i)));
  }
  return false;
}

/**
 * Folds two row ranges, [a, aEnd) and [b, n), into the nslots records at acc, a 64-row block of
 * each in turn: two streams of keys and values through memory keep more cache misses in flight than
 * one (README: 7.9 → 7.3 ms at 10 M rows; three or four streams were slower, and turns of 1024 rows
 * through the dispatch lost the gain to the calls). a, aEnd and b are multiples of 64.
 *
 * checked: before a block touches the table, its valid keys are compared with the window
 * [min, min + nslots − 2]; the first block with a key outside stops the fold (returns 1) with none
 * of it folded, and the cursors at `cur` say where each range got to (its block is the next).
 */
// @ts-ignore: decorator
@inline function drive<V>(op: i32, checked: bool, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, a: i32, aEnd: i32, b: i32, n: i32, acc: usize, cur: usize): i32 {
  const sh = recShift<V>(op, checked);
  const end = acc + (<usize>nslots << sh);
  // usize arithmetic wraps mod 2^32 like the addresses themselves, so a negative min works too.
  const bp = acc - (<usize>min << sh);
  const nullRec = end - (<usize>1 << sh);
  const width = nslots - 1;
  // The host keeps the window inside i32 (min + width − 1 ≤ i32.MAX). An empty window (width 0)
  // gets hi < lo: every valid key leaves it.
  assert(!checked || <i64>min + <i64>width - 1 <= <i64>i32.MAX_VALUE, 'denseAccumulate: window past i32.MAX');
  const lo = i32x4.splat(width == 0 ? 1 : min);
  const hi = i32x4.splat(width == 0 ? 0 : min + width - 1);
  // COUNT never reads the values: a missing value bitmap means every value counts.
  if (op == AggOp.COUNT) vals = 0;
  let stopped = false;
  if (kvalid == 0 && vvalid == 0) {
    const r = pairRun<V>(op, checked, keys, vals, bp, acc, end, lo, hi, a, aEnd, b, n);
    a += ((r >> 1) + (r & 1)) << 6;
    b += (r >> 1) << 6;
  }
  while (a < aEnd || b < n) {
    if (a < aEnd) {
      if (blockAt<V>(op, checked, a >>> 6, keys, kvalid, vals, vvalid, n, acc, end, bp, nullRec, min, width, lo, hi)) {
        stopped = true;
        break;
      }
      a += 64;
    }
    if (b < n) {
      if (blockAt<V>(op, checked, b >>> 6, keys, kvalid, vals, vvalid, n, acc, end, bp, nullRec, min, width, lo, hi)) {
        stopped = true;
        break;
      }
      b += 64;
    }
  }
  if (cur != 0) {
    store<i32>(cur, a);
    store<i32>(cur, b < n ? b : n, 8);
  }
  return stopped ? 1 : 0;
}

/** Writes the identity record of op into each of the nslots records at acc (and clears a compact table's row flags). */
// @ts-ignore: decorator
@inline function init<V>(op: i32, checked: bool, nslots: i32, acc: usize): void {
  if (compact<V>(op, checked)) {
    const end = acc + (<usize>nslots << 3);
    for (let r = acc; r < end; r += 8) store<u64>(r, NEG_ZERO);
    memory.fill(end, 0, <usize>nslots);
    return;
  }
  const end = acc + (<usize>nslots << REC_SHIFT);
  for (let r = acc; r < end; r += 1 << REC_SHIFT) initRecord<V>(op, r);
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

// What a dispatch call does: write the results; initialize the records and fold every row
// (trusted); fold on under the window check (checked); initialize a window table (window).
const FINISH = 0, TRUSTED = 1, CHECKED = 2, WINDOW = 3;

/**
 * One fold of rows into the records at acc. TRUSTED (`groupAccumulate`): writes the identity
 * records first, then folds every row, as two ranges split half-way. CHECKED (`denseAccumulate`):
 * folds on from the cursors at `cur` into a window table, under the window check; 0 done, 1
 * stopped. WINDOW: writes the identity of a window table (compact for float SUM).
 */
// @ts-ignore: decorator
@inline function fold<V>(op: i32, mode: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  if (mode == CHECKED) return drive<V>(op, true, keys, kvalid, min, nslots, vals, vvalid, load<i32>(cur), load<i32>(cur, 4), load<i32>(cur, 8), n, acc, cur);
  if (mode == WINDOW) {
    init<V>(op, true, nslots, acc);
    return 0;
  }
  init<V>(op, false, nslots, acc);
  const mid = midRow(n);
  return drive<V>(op, false, keys, kvalid, min, nslots, vals, vvalid, 0, mid, mid, n, acc, 0);
}

/** Where the second of two ranges over rows [0, n) starts: half-way, on a block boundary. */
// @ts-ignore: decorator
@inline function midRow(n: i32): i32 {
  const m = ((n >>> 1) + 63) & ~63;
  return m < n ? m : n & ~63;
}

// One function per (value type, op), with its trusted and its checked loop: small enough for the
// engine's optimizing compiler to give it its full attention (one giant function with every
// instantiation inlined ran ~1.6× slower in V8).
function countRows(mode: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  return fold<u8>(AggOp.COUNT, mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
}
function sumRows<V>(mode: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  return fold<V>(AggOp.SUM, mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
}
function meanRows<V>(mode: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  return fold<V>(AggOp.MEAN, mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
}
function minRows<V>(mode: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  return fold<V>(AggOp.MIN, mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
}
function maxRows<V>(mode: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  return fold<V>(AggOp.MAX, mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
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

function perOp<V>(mode: i32, op: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  // FINISH: keys = map, n = groups, vals = out, vvalid = outValidity (one type switch for all calls)
  if (mode == FINISH) return finishAs<V>(op, acc, keys, n, vals, vvalid);
  switch (op) {
    case AggOp.SUM: return sumRows<V>(mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case AggOp.MEAN: return meanRows<V>(mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case AggOp.MIN: return minRows<V>(mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case AggOp.MAX: return maxRows<V>(mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    default: return -1;
  }
}

function dispatch(mode: i32, op: i32, dtype: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, cur: usize, n: i32, acc: usize): i32 {
  if (op == AggOp.COUNT) {
    // COUNT reads no values: one instantiation serves every value type.
    if (mode == FINISH) return finishAs<u8>(op, acc, keys, n, vals, vvalid);
    return countRows(mode, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
  }
  switch (dtype) {
    case DType.I8: return perOp<i8>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.I16: return perOp<i16>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.I32: return perOp<i32>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.I64: return perOp<i64>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.U8: return perOp<u8>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.U16: return perOp<u16>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.U32: return perOp<u32>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.U64: return perOp<u64>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.F32: return perOp<f32>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    case DType.F64: return perOp<f64>(mode, op, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
    default: return -1;
  }
}

/**
 * groupAccumulate(op, dtype, keys, kvalid, min, nslots, parts, vals, vvalid, n, acc) → 0 (−1: bad
 * op/type). Initializes nslots records at acc and folds rows 0..n−1 in (n = 0: just the identity
 * records). keys: i32 per row (slot = key − min); kvalid: key bitmap or 0 (null keys go to slot
 * nslots − 1). The caller guarantees min ≤ key ≤ min + nslots − 2 for every valid key (asserted in
 * the debug build only). `parts` is the number of tables the caller allocated at acc (an earlier
 * version split rows over 4 partial tables); only the first is used, so pass 1 and allocate
 * nslots × 16 bytes.
 */
export function groupAccumulate(op: i32, dtype: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, parts: i32, vals: usize, vvalid: usize, n: i32, acc: usize): i32 {
  assert(parts >= 1, 'groupAccumulate: parts must be ≥ 1');
  const r = dispatch(TRUSTED, op, dtype, keys, kvalid, min, nslots, vals, vvalid, 0, n, acc);
  return r < 0 ? r : 0;
}

/**
 * denseAccumulate(op, dtype, keys, kvalid, min, nslots, vals, vvalid, n, acc, cur) → 0 done, 1
 * stopped, −1 bad op/type. The checked fold of the dense path: folds rows into the window table at
 * acc (`denseTable`: initialized there, and maybe holding earlier rows). The window is
 * [min, min + nslots − 2]; slot nslots − 1 is the null key's. Each 64-row block is checked against
 * the window before it touches the table.
 *
 * cur: the two row ranges of `drive`, 3 × i32 (the host starts them at 0, mid, mid; see midRow):
 *
 *   +0 a    next row of the first range      (a multiple of 64)
 *   +4 aEnd end of the first range           (a multiple of 64, ≤ b)
 *   +8 b    next row of the second range, which ends at n
 *
 * On return a and b say where each range got to. Stopped (1): the block at a (if a < aEnd) or the
 * one at b holds a valid key outside the window; nothing of it is folded. The host then moves the
 * table into a wider (or shifted) window (`denseTable` MOVE) and calls again with the same cursors.
 */
export function denseAccumulate(op: i32, dtype: i32, keys: usize, kvalid: usize, min: i32, nslots: i32, vals: usize, vvalid: usize, n: i32, acc: usize, cur: usize): i32 {
  const a = load<i32>(cur), aEnd = load<i32>(cur, 4), b = load<i32>(cur, 8);
  assert(((a | aEnd | b) & 63) == 0 && 0 <= a && aEnd <= b && nslots >= 1, 'denseAccumulate: bad cursors');
  return dispatch(CHECKED, op, dtype, keys, kvalid, min, nslots, vals, vvalid, cur, n, acc);
}

/** Whether the window table of (op, dtype) has compact records: `compact<V>(op, true)` at run time. */
// @ts-ignore: decorator
@inline function isCompact(op: i32, dtype: i32): bool {
  return op == AggOp.SUM && (dtype == DType.F32 || dtype == DType.F64);
}

/** Whether slot s of a window table got a row (its group exists). */
// @ts-ignore: decorator
@inline function used(c: bool, acc: usize, nslots: i32, s: i32): bool {
  if (c) return load<u64>(acc + (<usize>s << 3)) != NEG_ZERO || load<u8>(acc + (<usize>nslots << 3) + <usize>s) != 0;
  return load<i32>(acc + (<usize>s << REC_SHIFT), 8) != 0;
}

/**
 * denseTable(what, op, dtype, acc, min, nslots, dst, dstMin, dstSlots) → ≥ 0 (−1: bad op/type).
 * The window table of `denseAccumulate` for aggregate (op, dtype): nslots slots for the keys
 * [min, min + nslots − 2] and the null key. Float SUM keeps compact 8-byte records plus a byte of
 * row flags per slot (see `compact`), every other aggregate the standard 16-byte records.
 *
 *   BYTES   bytes of a table of nslots slots
 *   INIT    writes the identity table at acc
 *   USED    the first and last key slot (< nslots − 1) that got a row → i32 at dst, dst + 4;
 *           returns 1, or 0 when none did
 *   MOVE    writes the identity table of the window (dstMin, dstSlots) at dst and moves every slot
 *           of acc that got a row there (key slot s → s + min − dstMin; null slot → null slot).
 *           The host made the new window hold every such key
 *   EXPAND  the standard 16-byte records (`groupFinish`, `denseMap`) of the nslots slots at dst
 */
export function denseTable(what: i32, op: i32, dtype: i32, acc: usize, min: i32, nslots: i32, dst: usize, dstMin: i32, dstSlots: i32): i32 {
  if (op < AggOp.COUNT || op > AggOp.MEAN) return -1;
  const c = isCompact(op, dtype);
  const sh: usize = c ? 3 : REC_SHIFT;
  if (what == TableOp.BYTES) return (nslots << <i32>sh) + (c ? nslots : 0);
  if (what == TableOp.INIT) return dispatch(WINDOW, op, dtype, 0, 0, min, nslots, 0, 0, 0, 0, acc);
  if (what == TableOp.USED) {
    let first = -1;
    let last = -1;
    for (let s = 0; s < nslots - 1; s++) {
      if (!used(c, acc, nslots, s)) continue;
      if (first < 0) first = s;
      last = s;
    }
    store<i32>(dst, first);
    store<i32>(dst, last, 4);
    return first < 0 ? 0 : 1;
  }
  if (what == TableOp.MOVE) {
    if (dispatch(WINDOW, op, dtype, 0, 0, dstMin, dstSlots, 0, 0, 0, 0, dst) < 0) return -1;
    const shift = min - dstMin;
    for (let s = 0; s < nslots; s++) {
      if (!used(c, acc, nslots, s)) continue;
      const to = s == nslots - 1 ? dstSlots - 1 : s + shift;
      assert(<u32>to < <u32>dstSlots, 'denseTable: a used slot falls outside the new window');
      memory.copy(dst + (<usize>to << sh), acc + (<usize>s << sh), <usize>1 << sh);
      if (c) store<u8>(dst + (<usize>dstSlots << 3) + <usize>to, load<u8>(acc + (<usize>nslots << 3) + <usize>s));
    }
    return 0;
  }
  if (what == TableOp.EXPAND) {
    if (!c) {
      memory.copy(dst, acc, <usize>nslots << REC_SHIFT);
      return 0;
    }
    for (let s = 0; s < nslots; s++) {
      const sum = load<u64>(acc + (<usize>s << 3));
      const valid = sum != NEG_ZERO;
      const rec = dst + (<usize>s << REC_SHIFT);
      store<u64>(rec, sum);
      store<i32>(rec, valid || load<u8>(acc + (<usize>nslots << 3) + <usize>s) != 0 ? 1 : 0, 8);
      store<i32>(rec, valid ? 1 : 0, 12);
    }
    return 0;
  }
  return -1;
}

/**
 * groupFinish(op, dtype, acc, map, groups, out, outValidity) → null count. Writes one result per
 * group from the records: group g reads slot map[g] (map = 0: slot g). Output types: COUNT
 * i64; SUM i64 / u64 bits / f64; MEAN f64; MIN/MAX the value type. outValidity (zeroed by the host,
 * or 0 to skip) gets a bit per group with at least one valid value; COUNT is never null.
 */
export function groupFinish(op: i32, dtype: i32, acc: usize, map: usize, groups: i32, out: usize, outValidity: usize): i32 {
  return dispatch(FINISH, op, dtype, map, 0, 0, 0, out, outValidity, 0, groups, acc);
}

/** denseMap(acc, nslots, map) → groups: the slots that saw a row (rows > 0), ascending, into map. */
export function denseMap(acc: usize, nslots: i32, map: usize): i32 {
  let groups = 0;
  for (let s = 0; s < nslots; s++) {
    if (load<i32>(acc + (<usize>s << REC_SHIFT), 8) > 0) store<i32>(at<i32>(map, groups++), s);
  }
  return groups;
}
