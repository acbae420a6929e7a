// Comparisons and boolean logic: column ∘ column, column ∘ scalar, between, utf8 (all ops, byte-wise
// order), dictionary codes mapped through a per-entry bitmap (gatherBits), and the
// bitmap ops (and / or / andNot / not, popcount) that combine their results.
//
// Output is a selection bitmap (Arrow bool layout, LSB first), written 64 results at a time: a
// 64-element block is 64·width/16 vector compares, each packed to lanes-many bits with
// `<lane>.bitmask` and or-ed into one u64 word. The tail (n & 63 elements) runs the scalar op.
//
// Null semantics of every compare kernel: the result bit of a row whose input is null is 0. The
// host attaches the AND of the input validities to get SQL semantics (null in → null out), or
// attaches nothing to get a filter's selection (null counts as false) — same bits either way.
//
// Writes: exactly ceil(n/8) bytes of `out` (whole u64 words for whole blocks, then bytes), so a
// column pointed into the middle of a bigger buffer never spills; padding bits of the last byte are 0.
// Reads: whole u64 words of the validity bitmaps only for whole blocks (see util.word).
//
// Scalars come in through `scalars` (the context's scratch): the first operand at +0, BETWEEN's
// upper bound at +8, both in the column's physical type (the host converts and narrows them).

import { BoolOp, CmpOp, DType } from '../shared/codes';
import { lanes, at, word, tailWord, putWord } from '../util';

/**
 * Wasm SIMD has no unsigned i64x2 compares. Flipping the sign bit maps unsigned order onto signed
 * order (0 → MIN, 2^64-1 → MAX), so u64 vectors are biased once and compared as i64. Other types
 * pass through (the generic v128 compares pick the _u / _s / float instruction from T).
 */
// @ts-ignore: decorator
@inline function bias<T>(v: v128): v128 {
  if (sizeof<T>() == 8 && !isFloat<T>() && !isSigned<T>()) return v128.xor(v, i64x2.splat(i64.MIN_VALUE));
  return v;
}

/** Lane masks (all ones / zero) of `x op y` (`x op [y, z]` for BETWEEN); inputs already biased. */
// @ts-ignore: decorator
@inline function cmpVec<T>(op: i32, x: v128, y: v128, z: v128): v128 {
  if (sizeof<T>() == 8 && !isFloat<T>() && !isSigned<T>()) return cmpVec<i64>(op, x, y, z);
  if (op == CmpOp.EQ) return v128.eq<T>(x, y);
  if (op == CmpOp.NE) return v128.ne<T>(x, y); // IEEE: NaN ≠ anything, so NE is true on NaN lanes
  if (op == CmpOp.LT) return v128.lt<T>(x, y);
  if (op == CmpOp.LE) return v128.le<T>(x, y);
  if (op == CmpOp.GT) return v128.gt<T>(x, y);
  if (op == CmpOp.GE) return v128.ge<T>(x, y);
  return v128.and(v128.ge<T>(x, y), v128.le<T>(x, z));
}

/** The scalar op, same semantics as cmpVec (AS compares unsigned types unsigned). */
// @ts-ignore: decorator
@inline function cmpOne<T>(op: i32, x: T, y: T, z: T): bool {
  if (op == CmpOp.EQ) return x == y;
  if (op == CmpOp.NE) return x != y;
  if (op == CmpOp.LT) return x < y;
  if (op == CmpOp.LE) return x <= y;
  if (op == CmpOp.GT) return x > y;
  if (op == CmpOp.GE) return x >= y;
  return x >= y && x <= z;
}

/** High bit of each lane of a mask, as lanes<T>() bits. */
// @ts-ignore: decorator
@inline function packMask<T>(m: v128): u64 {
  if (sizeof<T>() == 1) return <u64><u32>i8x16.bitmask(m);
  if (sizeof<T>() == 2) return <u64><u32>i16x8.bitmask(m);
  if (sizeof<T>() == 4) return <u64><u32>i32x4.bitmask(m);
  return <u64><u32>i64x2.bitmask(m);
}

/**
 * The 64 results of block elements at pa (and pb, or the scalar vectors y/z), bit i = element i.
 * Four vectors per step: their masks are combined into 4·lanes bits before touching the u64, which
 * halves the shift/or work for wide types (f64 has only 2 lanes per vector).
 */
// @ts-ignore: decorator
@inline function blockWord<T>(op: i32, scalar: bool, pa: usize, pb: usize, y: v128, z: v128): u64 {
  const L = lanes<T>();
  let w: u64 = 0;
  for (let j = 0; j < 64 / L; j += 4) {
    const off = <usize>j << 4;
    const b0 = scalar ? y : bias<T>(v128.load(pb + off));
    const b1 = scalar ? y : bias<T>(v128.load(pb + off, 16));
    const b2 = scalar ? y : bias<T>(v128.load(pb + off, 32));
    const b3 = scalar ? y : bias<T>(v128.load(pb + off, 48));
    const m0 = packMask<T>(cmpVec<T>(op, bias<T>(v128.load(pa + off)), b0, z));
    const m1 = packMask<T>(cmpVec<T>(op, bias<T>(v128.load(pa + off, 16)), b1, z));
    const m2 = packMask<T>(cmpVec<T>(op, bias<T>(v128.load(pa + off, 32)), b2, z));
    const m3 = packMask<T>(cmpVec<T>(op, bias<T>(v128.load(pa + off, 48)), b3, z));
    w |= (m0 | (m1 << <u64>L) | (m2 << <u64>(2 * L)) | (m3 << <u64>(3 * L))) << <u64>(j * L);
  }
  return w;
}

/**
 * countCompare's body for a whole valid block of 4- or 8-byte lanes: the lane masks (−1 / 0) are
 * subtracted from per-lane counters, three ops per vector instead of packing bits that are only
 * going to be counted. (Narrow lanes would overflow their counters; they pack, 16 or 8 bits a mask.)
 */
// @ts-ignore: decorator
@inline function countBlock<T>(op: i32, pa: usize, y: v128, z: v128, acc: v128): v128 {
  for (let off: usize = 0; off < 64 * sizeof<T>(); off += 64) {
    const m0 = cmpVec<T>(op, bias<T>(v128.load(pa + off)), y, z);
    const m1 = cmpVec<T>(op, bias<T>(v128.load(pa + off, 16)), y, z);
    const m2 = cmpVec<T>(op, bias<T>(v128.load(pa + off, 32)), y, z);
    const m3 = cmpVec<T>(op, bias<T>(v128.load(pa + off, 48)), y, z);
    if (sizeof<T>() == 8) acc = i64x2.sub(acc, i64x2.add(i64x2.add(m0, m1), i64x2.add(m2, m3)));
    else acc = i32x4.sub(acc, i32x4.add(i32x4.add(m0, m1), i32x4.add(m2, m3)));
  }
  return acc;
}

/**
 * The generic compare driver. `scalar`: the second operand is the scalar(s) at `scalars`, else the
 * column at pb. `write`: store the bitmap at `out` (false: only count — the fused countCompare).
 * va / vb: validity bitmaps or 0; their AND masks the result. Returns the number of true results.
 */
// @ts-ignore: decorator
@inline function drive<T>(op: i32, scalar: bool, write: bool, pa: usize, va: usize, pb: usize, vb: usize, n: i32, scalars: usize, out: usize): i32 {
  let ys: T = 0;
  let zs: T = 0;
  let y = v128.splat<i64>(0);
  let z = v128.splat<i64>(0);
  if (scalar) {
    ys = load<T>(scalars);
    zs = load<T>(scalars, 8);
    y = bias<T>(v128.splat<T>(ys));
    z = bias<T>(v128.splat<T>(zs));
  }
  let count = 0;
  let acc = v128.splat<i64>(0); // countBlock's lane counters (i64x2 or i32x4: n < 2^31 fits either)
  const blocks = n >>> 6;
  for (let b = 0; b < blocks; b++) {
    const valid = word(va, b) & word(vb, b);
    if (!write && scalar && sizeof<T>() >= 4 && valid == <u64>-1) {
      acc = countBlock<T>(op, at<T>(pa, b << 6), y, z, acc);
      continue;
    }
    let w: u64 = 0;
    // An all-null block is skipped: its results are 0 whatever the values hold.
    if (valid != 0) {
      const base = b << 6;
      w = blockWord<T>(op, scalar, at<T>(pa, base), scalar ? 0 : at<T>(pb, base), y, z) & valid;
    }
    if (write) store<u64>(out + (<usize>b << 3), w);
    count += <i32>popcnt(w);
  }
  const rem = n & 63;
  if (rem != 0) {
    const base = blocks << 6;
    let w: u64 = 0;
    for (let i = 0; i < rem; i++) {
      const x = load<T>(at<T>(pa, base + i));
      const yi = scalar ? ys : load<T>(at<T>(pb, base + i));
      if (cmpOne<T>(op, x, yi, zs)) w |= <u64>1 << <u64>i;
    }
    w &= tailWord(va, n) & tailWord(vb, n);
    if (write) putWord(out, blocks, w, false, n);
    count += <i32>popcnt(w);
  }
  if (!write && scalar && sizeof<T>() >= 4) {
    if (sizeof<T>() == 8) count += <i32>(i64x2.extract_lane(acc, 0) + i64x2.extract_lane(acc, 1));
    else count += i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
  }
  return count;
}

/** Folds op into the driver (one instantiation per op; `mode` is 0 scalar, 1 columns, 2 count, 3 gatherBits). */
function byOp<T>(mode: i32, op: i32, pa: usize, va: usize, pb: usize, vb: usize, n: i32, scalars: usize, out: usize): i32 {
  if (mode == 3) return isInteger<T>() ? gatherDrive<T>(pa, va, n, pb, out) : -1;
  if (mode == 1) {
    switch (op) {
      case CmpOp.EQ: return drive<T>(CmpOp.EQ, false, true, pa, va, pb, vb, n, 0, out);
      case CmpOp.NE: return drive<T>(CmpOp.NE, false, true, pa, va, pb, vb, n, 0, out);
      case CmpOp.LT: return drive<T>(CmpOp.LT, false, true, pa, va, pb, vb, n, 0, out);
      case CmpOp.LE: return drive<T>(CmpOp.LE, false, true, pa, va, pb, vb, n, 0, out);
      case CmpOp.GT: return drive<T>(CmpOp.GT, false, true, pa, va, pb, vb, n, 0, out);
      case CmpOp.GE: return drive<T>(CmpOp.GE, false, true, pa, va, pb, vb, n, 0, out);
      default: return -1;
    }
  }
  const write = mode == 0;
  switch (op) {
    case CmpOp.EQ: return write ? drive<T>(CmpOp.EQ, true, true, pa, va, 0, 0, n, scalars, out) : drive<T>(CmpOp.EQ, true, false, pa, va, 0, 0, n, scalars, 0);
    case CmpOp.NE: return write ? drive<T>(CmpOp.NE, true, true, pa, va, 0, 0, n, scalars, out) : drive<T>(CmpOp.NE, true, false, pa, va, 0, 0, n, scalars, 0);
    case CmpOp.LT: return write ? drive<T>(CmpOp.LT, true, true, pa, va, 0, 0, n, scalars, out) : drive<T>(CmpOp.LT, true, false, pa, va, 0, 0, n, scalars, 0);
    case CmpOp.LE: return write ? drive<T>(CmpOp.LE, true, true, pa, va, 0, 0, n, scalars, out) : drive<T>(CmpOp.LE, true, false, pa, va, 0, 0, n, scalars, 0);
    case CmpOp.GT: return write ? drive<T>(CmpOp.GT, true, true, pa, va, 0, 0, n, scalars, out) : drive<T>(CmpOp.GT, true, false, pa, va, 0, 0, n, scalars, 0);
    case CmpOp.GE: return write ? drive<T>(CmpOp.GE, true, true, pa, va, 0, 0, n, scalars, out) : drive<T>(CmpOp.GE, true, false, pa, va, 0, 0, n, scalars, 0);
    case CmpOp.BETWEEN: return write ? drive<T>(CmpOp.BETWEEN, true, true, pa, va, 0, 0, n, scalars, out) : drive<T>(CmpOp.BETWEEN, true, false, pa, va, 0, 0, n, scalars, 0);
    default: return -1;
  }
}

/** The one type dispatch of the compare family. */
function byType(mode: i32, op: i32, dtype: i32, pa: usize, va: usize, pb: usize, vb: usize, n: i32, scalars: usize, out: usize): i32 {
  switch (dtype) {
    case DType.I8: return byOp<i8>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.I16: return byOp<i16>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.I32: return byOp<i32>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.I64: return byOp<i64>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.U8: return byOp<u8>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.U16: return byOp<u16>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.U32: return byOp<u32>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.U64: return byOp<u64>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.F32: return byOp<f32>(mode, op, pa, va, pb, vb, n, scalars, out);
    case DType.F64: return byOp<f64>(mode, op, pa, va, pb, vb, n, scalars, out);
    default: return -1;
  }
}

/**
 * compareScalar(op, dtype, a, va, n, scalars, out) → number of true results (−1: op/type not
 * supported). out[i] = a[i] op scalar (BETWEEN: lo ≤ a[i] ≤ hi), 0 where a[i] is null.
 */
export function compareScalar(op: i32, dtype: i32, a: usize, va: usize, n: i32, scalars: usize, out: usize): i32 {
  return byType(0, op, dtype, a, va, 0, 0, n, scalars, out);
}

/** compareColumns(op, dtype, a, va, b, vb, n, out) → true count. out[i] = a[i] op b[i], 0 where either is null. */
export function compareColumns(op: i32, dtype: i32, a: usize, va: usize, b: usize, vb: usize, n: i32, out: usize): i32 {
  return byType(1, op, dtype, a, va, b, vb, n, 0, out);
}

/**
 * gatherBits(dtype, codes, va, n, bits, out) → true count (−1: codes not an integer type).
 * out[i] = bits[codes[i]] (a bitmap indexed by code), 0 where codes[i] is null.
 */
export function gatherBits(dtype: i32, codes: usize, va: usize, n: i32, bits: usize, out: usize): i32 {
  return byType(3, 0, dtype, codes, va, bits, 0, n, 0, out);
}

/** countCompare(op, dtype, a, va, n, scalars) → how many valid a[i] satisfy `a[i] op scalar`; writes nothing. */
export function countCompare(op: i32, dtype: i32, a: usize, va: usize, n: i32, scalars: usize): i32 {
  return byType(2, op, dtype, a, va, 0, 0, n, scalars, 0);
}

// ---------------------------------------------------------------------------------------------
// utf8: every op, against a scalar string (BETWEEN: two) or another utf8 column
//
// Order is byte-wise (memcmp, then the shorter string first): for valid UTF-8 that is code point
// order, and it is DuckDB's default collation (and the order of the utf8 sort kernel). No
// locale, no case folding.

/** Are the `len` bytes at p and q equal? Eight at a time, then bytes. */
// @ts-ignore: decorator
@inline function bytesEqual(p: usize, q: usize, len: i32): bool {
  let i = 0;
  for (; i + 8 <= len; i += 8) if (load<u64>(p + <usize>i) != load<u64>(q + <usize>i)) return false;
  for (; i < len; i++) if (load<u8>(p + <usize>i) != load<u8>(q + <usize>i)) return false;
  return true;
}

/**
 * Three-way byte-wise comparison of [p, p + lp) and [q, q + lq): < 0, 0, > 0. Eight bytes a step: the
 * first differing word decides, compared after a byte swap (a little-endian load puts the first
 * byte lowest; swapped, unsigned word order is byte order). Every load stays inside both strings.
 */
// @ts-ignore: decorator
@inline function cmpBytes(p: usize, lp: i32, q: usize, lq: i32): i32 {
  const m = min(lp, lq);
  let i = 0;
  for (; i + 8 <= m; i += 8) {
    const a = load<u64>(p + <usize>i);
    const b = load<u64>(q + <usize>i);
    if (a != b) return bswap<u64>(a) < bswap<u64>(b) ? -1 : 1;
  }
  for (; i < m; i++) {
    const a = load<u8>(p + <usize>i);
    const b = load<u8>(q + <usize>i);
    if (a != b) return a < b ? -1 : 1;
  }
  return lp - lq;
}

/** `a op b` for the strings (pa, la) and (pb, lb); BETWEEN: lb ≤ a ≤ (pc, lc). EQ/NE look at lengths first. */
// @ts-ignore: decorator
@inline function cmpStr(op: i32, pa: usize, la: i32, pb: usize, lb: i32, pc: usize, lc: i32): bool {
  if (op == CmpOp.EQ) return la == lb && bytesEqual(pa, pb, la);
  if (op == CmpOp.NE) return la != lb || !bytesEqual(pa, pb, la);
  const c = cmpBytes(pa, la, pb, lb);
  if (op == CmpOp.LT) return c < 0;
  if (op == CmpOp.LE) return c <= 0;
  if (op == CmpOp.GT) return c > 0;
  if (op == CmpOp.GE) return c >= 0;
  return c >= 0 && cmpBytes(pa, la, pc, lc) <= 0;
}

/**
 * The utf8 compare driver. `scalar`: b is the string (lo, loLen) (BETWEEN: up to (hi, hiLen)), else
 * row i of the utf8 column (ob, bb). 64 rows a block: only rows valid on both sides are compared
 * (their bits are walked with ctz), so the cost of nulls is skipping them. Writes exactly
 * ceil(n/8) bytes, like the numeric driver.
 */
// @ts-ignore: decorator
@inline function utf8Drive(op: i32, scalar: bool, oa: usize, ba: usize, va: usize, ob: usize, bb: usize, vb: usize, n: i32, lo: usize, loLen: i32, hi: usize, hiLen: i32, out: usize): i32 {
  let count = 0;
  const blocks = (n + 63) >>> 6;
  for (let b = 0; b < blocks; b++) {
    const whole = b < (n >>> 6);
    let rest = whole ? word(va, b) & word(vb, b) : tailWord(va, n) & tailWord(vb, n);
    let w: u64 = 0;
    while (rest != 0) {
      const j = <i32>ctz(rest);
      rest &= rest - 1;
      const i = (b << 6) + j;
      const sa = load<i32>(at<i32>(oa, i));
      const la = load<i32>(at<i32>(oa, i + 1)) - sa;
      let pb = lo;
      let lb = loLen;
      if (!scalar) {
        const sb = load<i32>(at<i32>(ob, i));
        lb = load<i32>(at<i32>(ob, i + 1)) - sb;
        pb = bb + <usize>sb;
      }
      if (cmpStr(op, ba + <usize>sa, la, pb, lb, hi, hiLen)) w |= <u64>1 << <u64>j;
    }
    putWord(out, b, w, whole, n);
    count += <i32>popcnt(w);
  }
  return count;
}

/** Folds op (and the operand shape) into the utf8 driver: one instantiation each. */
function utf8ByOp(scalar: bool, op: i32, oa: usize, ba: usize, va: usize, ob: usize, bb: usize, vb: usize, n: i32, lo: usize, loLen: i32, hi: usize, hiLen: i32, out: usize): i32 {
  if (scalar) {
    switch (op) {
      case CmpOp.EQ: return utf8Drive(CmpOp.EQ, true, oa, ba, va, 0, 0, 0, n, lo, loLen, 0, 0, out);
      case CmpOp.NE: return utf8Drive(CmpOp.NE, true, oa, ba, va, 0, 0, 0, n, lo, loLen, 0, 0, out);
      case CmpOp.LT: return utf8Drive(CmpOp.LT, true, oa, ba, va, 0, 0, 0, n, lo, loLen, 0, 0, out);
      case CmpOp.LE: return utf8Drive(CmpOp.LE, true, oa, ba, va, 0, 0, 0, n, lo, loLen, 0, 0, out);
      case CmpOp.GT: return utf8Drive(CmpOp.GT, true, oa, ba, va, 0, 0, 0, n, lo, loLen, 0, 0, out);
      case CmpOp.GE: return utf8Drive(CmpOp.GE, true, oa, ba, va, 0, 0, 0, n, lo, loLen, 0, 0, out);
      case CmpOp.BETWEEN: return utf8Drive(CmpOp.BETWEEN, true, oa, ba, va, 0, 0, 0, n, lo, loLen, hi, hiLen, out);
      default: return -1;
    }
  }
  switch (op) {
    case CmpOp.EQ: return utf8Drive(CmpOp.EQ, false, oa, ba, va, ob, bb, vb, n, 0, 0, 0, 0, out);
    case CmpOp.NE: return utf8Drive(CmpOp.NE, false, oa, ba, va, ob, bb, vb, n, 0, 0, 0, 0, out);
    case CmpOp.LT: return utf8Drive(CmpOp.LT, false, oa, ba, va, ob, bb, vb, n, 0, 0, 0, 0, out);
    case CmpOp.LE: return utf8Drive(CmpOp.LE, false, oa, ba, va, ob, bb, vb, n, 0, 0, 0, 0, out);
    case CmpOp.GT: return utf8Drive(CmpOp.GT, false, oa, ba, va, ob, bb, vb, n, 0, 0, 0, 0, out);
    case CmpOp.GE: return utf8Drive(CmpOp.GE, false, oa, ba, va, ob, bb, vb, n, 0, 0, 0, 0, out);
    default: return -1;
  }
}

/**
 * compareUtf8Scalar(op, offsets, bytes, va, n, lo, loLen, hi, hiLen, out) → true count (−1: bad op).
 * out[i] = s[i] op (lo, loLen); BETWEEN: lo ≤ s[i] ≤ hi. 0 where s[i] is null.
 */
export function compareUtf8Scalar(op: i32, offsets: usize, bytes: usize, va: usize, n: i32, lo: usize, loLen: i32, hi: usize, hiLen: i32, out: usize): i32 {
  return utf8ByOp(true, op, offsets, bytes, va, 0, 0, 0, n, lo, loLen, hi, hiLen, out);
}

/** compareUtf8(op, offsets, bytes, va, n, needle, needleLen, out): compareUtf8Scalar without an upper bound. */
export function compareUtf8(op: i32, offsets: usize, bytes: usize, va: usize, n: i32, needle: usize, needleLen: i32, out: usize): i32 {
  if (op == CmpOp.BETWEEN) return -1;
  return utf8ByOp(true, op, offsets, bytes, va, 0, 0, 0, n, needle, needleLen, 0, 0, out);
}

/** compareUtf8Columns(op, oa, ba, va, ob, bb, vb, n, out) → true count. out[i] = a[i] op b[i], 0 where either is null. */
export function compareUtf8Columns(op: i32, oa: usize, ba: usize, va: usize, ob: usize, bb: usize, vb: usize, n: i32, out: usize): i32 {
  return utf8ByOp(false, op, oa, ba, va, ob, bb, vb, n, 0, 0, 0, 0, out);
}

/**
 * out[i] = bit(bits, codes[i]) where codes[i] is valid, else 0 (T: the code type). What a dictionary
 * comparison needs: the predicate is evaluated once per dictionary entry into `bits`, then mapped
 * through the codes. The host proves every valid code indexes the dictionary (or the dictionary is
 * trusted as imported: codes are checked against its length on import).
 */
// @ts-ignore: decorator
@inline function gatherDrive<T>(codes: usize, va: usize, n: i32, bits: usize, out: usize): i32 {
  let count = 0;
  const blocks = (n + 63) >>> 6;
  for (let b = 0; b < blocks; b++) {
    const whole = b < (n >>> 6);
    let rest = whole ? word(va, b) : tailWord(va, n);
    let w: u64 = 0;
    while (rest != 0) {
      const j = <i32>ctz(rest);
      rest &= rest - 1;
      const c = <usize>load<T>(at<T>(codes, (b << 6) + j));
      w |= <u64>((load<u8>(bits + (c >>> 3)) >>> <u8>(c & 7)) & 1) << <u64>j;
    }
    putWord(out, b, w, whole, n);
    count += <i32>popcnt(w);
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// Boolean logic over bitmaps

/** 16 bitmap bytes at p + off, or all ones for a null pointer (no validity = every row valid). */
// @ts-ignore: decorator
@inline function ld(p: usize, off: usize): v128 {
  return p == 0 ? i64x2.splat(-1) : v128.load(p + off);
}

/** One byte of a bitmap, or 0xff for a null pointer. */
// @ts-ignore: decorator
@inline function ldb(p: usize, off: usize): u32 {
  return p == 0 ? 0xff : <u32>load<u8>(p + off);
}

/**
 * Kleene logic (SQL three-valued) on values a, b with validities av, bv:
 *   AND: false if either side is a valid false, null if otherwise either is null, else a & b
 *   OR:  true if either side is a valid true, null if otherwise either is null, else a | b
 *   ANDNOT = a AND (NOT b); NOT a: null stays null.
 * Value bits of null results are 0 (like the compare kernels), so a result's values are also its
 * null-as-false selection. Written once over v128 and once over a byte, the same formulas.
 */
// @ts-ignore: decorator
@inline function logicValueV(op: i32, a: v128, av: v128, b: v128, bv: v128): v128 {
  const ta = v128.and(a, av); // valid true
  if (op == BoolOp.NOT) return v128.andnot(av, a);
  const tb = v128.and(b, bv);
  if (op == BoolOp.AND) return v128.and(ta, tb);
  if (op == BoolOp.OR) return v128.or(ta, tb);
  return v128.and(v128.andnot(ta, b), bv); // a true, b valid false
}

// @ts-ignore: decorator
@inline function logicValidV(op: i32, a: v128, av: v128, b: v128, bv: v128): v128 {
  if (op == BoolOp.NOT) return av;
  const both = v128.and(av, bv);
  if (op == BoolOp.AND) return v128.or(both, v128.or(v128.andnot(av, a), v128.andnot(bv, b)));
  if (op == BoolOp.OR) return v128.or(both, v128.or(v128.and(av, a), v128.and(bv, b)));
  return v128.or(both, v128.or(v128.andnot(av, a), v128.and(bv, b)));
}

// @ts-ignore: decorator
@inline function logicValueB(op: i32, a: u32, av: u32, b: u32, bv: u32): u32 {
  if (op == BoolOp.NOT) return ~a & av;
  if (op == BoolOp.AND) return a & av & b & bv;
  if (op == BoolOp.OR) return (a & av) | (b & bv);
  return a & av & ~b & bv;
}

// @ts-ignore: decorator
@inline function logicValidB(op: i32, a: u32, av: u32, b: u32, bv: u32): u32 {
  if (op == BoolOp.NOT) return av;
  const both = av & bv;
  if (op == BoolOp.AND) return both | (av & ~a) | (bv & ~b);
  if (op == BoolOp.OR) return both | (av & a) | (bv & b);
  return both | (av & ~a) | (bv & b);
}

/** Popcount of a v128 as two u64 halves. */
// @ts-ignore: decorator
@inline function popcnt128(v: v128): i32 {
  return <i32>(popcnt(i64x2.extract_lane(v, 0)) + popcnt(i64x2.extract_lane(v, 1)));
}

// @ts-ignore: decorator
@inline function logicDrive(op: i32, a: usize, av: usize, b: usize, bv: usize, n: i32, out: usize, outValid: usize, counts: usize): i32 {
  const nbytes = <usize>((n + 7) >>> 3);
  const full = <usize>(n >>> 3); // bytes with no padding bits
  let trues = 0;
  let valids = 0;
  let off: usize = 0;
  // 16 bytes (128 rows) per step over bytes wholly below n; the rest byte by byte.
  for (; off + 16 <= full; off += 16) {
    const x = v128.load(a + off);
    const xv = ld(av, off);
    const y = op == BoolOp.NOT ? x : v128.load(b + off);
    const yv = op == BoolOp.NOT ? xv : ld(bv, off);
    const v = logicValueV(op, x, xv, y, yv);
    v128.store(out + off, v);
    trues += popcnt128(v);
    if (outValid != 0) {
      const m = logicValidV(op, x, xv, y, yv);
      v128.store(outValid + off, m);
      valids += popcnt128(m);
    }
  }
  for (; off < nbytes; off++) {
    // The last byte keeps only the rows below n: padding bits are 0 (NOT would set them).
    const keep: u32 = off == nbytes - 1 && (n & 7) != 0 ? (1 << (<u32>n & 7)) - 1 : 0xff;
    const x = <u32>load<u8>(a + off);
    const xv = ldb(av, off);
    const y = op == BoolOp.NOT ? x : <u32>load<u8>(b + off);
    const yv = op == BoolOp.NOT ? xv : ldb(bv, off);
    const v = logicValueB(op, x, xv, y, yv) & keep;
    store<u8>(out + off, <u8>v);
    trues += <i32>popcnt(v);
    if (outValid != 0) {
      const m = logicValidB(op, x, xv, y, yv) & keep;
      store<u8>(outValid + off, <u8>m);
      valids += <i32>popcnt(m);
    }
  }
  if (counts != 0) store<i32>(counts, valids);
  return trues;
}

/**
 * bitmapLogic(op, a, av, b, bv, n, out, outValid, counts) → number of true results.
 * a, b: value bitmaps; av, bv: validity bitmaps or 0; outValid: where the result validity goes, or 0
 * when the caller knows it is all valid (no input validity). The count of valid results is stored
 * as an i32 at `counts` (if not 0). NOT ignores b / bv.
 */
export function bitmapLogic(op: i32, a: usize, av: usize, b: usize, bv: usize, n: i32, out: usize, outValid: usize, counts: usize): i32 {
  switch (op) {
    case BoolOp.AND: return logicDrive(BoolOp.AND, a, av, b, bv, n, out, outValid, counts);
    case BoolOp.OR: return logicDrive(BoolOp.OR, a, av, b, bv, n, out, outValid, counts);
    case BoolOp.ANDNOT: return logicDrive(BoolOp.ANDNOT, a, av, b, bv, n, out, outValid, counts);
    case BoolOp.NOT: return logicDrive(BoolOp.NOT, a, av, a, av, n, out, outValid, counts);
    default: return -1;
  }
}

/** popcount(bits, valid, n) → set bits of `bits & valid` among the first n (valid may be 0). */
export function popcount(bits: usize, valid: usize, n: i32): i32 {
  let count = 0;
  const blocks = n >>> 6;
  for (let b = 0; b < blocks; b++) count += <i32>popcnt(load<u64>(bits + (<usize>b << 3)) & word(valid, b));
  if ((n & 63) != 0) count += <i32>popcnt(tailWord(bits, n) & tailWord(valid, n));
  return count;
}
