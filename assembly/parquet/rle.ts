// Parquet's RLE / bit-packed hybrid (definition levels, dictionary indices, booleans in RLE).
//
// The stream is a sequence of runs, each a ULEB128 header:
//
//   header & 1 = 0   RLE run:        header >> 1 copies of one value, stored in ceil(w / 8) bytes LE
//   header & 1 = 1   bit-packed run: (header >> 1) groups of 8 values, w bits each, LSB first;
//                                    a group is exactly w bytes
//
// The caller knows how many values it wants (`count`); the last bit-packed run may hold more (up to
// 7 of padding, or more from writers that round differently): only `count` are written. A last
// bit-packed run whose padding bytes are missing from src is accepted as long as the values that
// are needed are there — the bytes consumed then stop at the end of src.
//
// Bit-packed groups decode 8 values per step. For w ≤ 25 a group is two SIMD half-steps: a swizzle
// moves the 4 bytes that hold value j into lane j, a multiply by 2^(7 − s_j) (s_j = the value's bit
// offset in its first byte) lines every lane up on bit 7 — wasm has no per-lane variable shift,
// a multiply is one — then a uniform right shift by 7 and the width mask. s_j + w ≤ 32 keeps the
// value inside the lane's 4 bytes before the multiply (7 − s_j + s_j + w − 1 ≤ 31 after it).
// Wider values (26..32 bits) take the scalar step (u64 load, shift, mask per value).

import { bitsAt, lowMask, varint, VARINT_BAD } from './bits';

const MALFORMED: i32 = -1;
const BAD_WIDTH: i32 = -3;

/** Widest bit width the SIMD unpack takes (see the header). */
const SIMD_MAX_WIDTH: u32 = 25;

/** out[0 .. m) = v (u32 each; 16-byte stores, then the exact tail). */
// @ts-ignore: decorator
@inline function fill(out: usize, v: u32, m: usize): void {
  const splat = i32x4.splat(v);
  const end = out + (m << 2);
  let p = out;
  for (; p + 16 <= end; p += 16) v128.store(p, splat);
  for (; p < end; p += 4) store<u32>(p, v);
}

// Swizzle and multiplier vectors for the SIMD unpack of the current bit width (built per run of
// the width that needs them; module globals so the step below reads them without parameters).
let shufLo: v128 = i32x4.splat(0);
let shufHi: v128 = i32x4.splat(0);
let mulLo: v128 = i32x4.splat(0);
let mulHi: v128 = i32x4.splat(0);
let builtFor: u32 = 0;

/**
 * Lane j of a half-group starting at bit `base` (0 or 4w): swizzle bytes b .. b + 3 and the factor
 * 2^(7 − s), where b, s are value j's first byte (relative to the half's load) and bit in it.
 */
function buildTables(w: u32): void {
  let sLo: u64 = 0, sHi: u64 = 0, mLo: u64 = 0, mHi: u64 = 0, tLo: u64 = 0, tHi: u64 = 0, nLo: u64 = 0, nHi: u64 = 0;
  const second = (4 * w) >>> 3; // byte where the second half's load starts
  for (let j: u32 = 0; j < 8; j++) {
    const bit = j * w;
    const b = <u64>((bit >>> 3) - (j < 4 ? 0 : second));
    const bytes = b | ((b + 1) << 8) | ((b + 2) << 16) | ((b + 3) << 24);
    const factor = <u64>(1 << (7 - (bit & 7)));
    const lane = <u64>((j & 1) << 5);
    if (j == 0 || j == 1) { sLo |= bytes << lane; mLo |= factor << lane; }
    else if (j == 2 || j == 3) { sHi |= bytes << lane; mHi |= factor << lane; }
    else if (j == 4 || j == 5) { tLo |= bytes << lane; nLo |= factor << lane; }
    else { tHi |= bytes << lane; nHi |= factor << lane; }
  }
  shufLo = i64x2.replace_lane(i64x2.replace_lane(i64x2.splat(0), 0, sLo), 1, sHi);
  mulLo = i64x2.replace_lane(i64x2.replace_lane(i64x2.splat(0), 0, mLo), 1, mHi);
  shufHi = i64x2.replace_lane(i64x2.replace_lane(i64x2.splat(0), 0, tLo), 1, tHi);
  mulHi = i64x2.replace_lane(i64x2.replace_lane(i64x2.splat(0), 0, nLo), 1, nHi);
  builtFor = w;
}

/**
 * Unpacks m values of w bits from the bit-packed bytes at p (src ends at `end`) to out. Whole groups
 * whose reads stay below `end` go 8 at a time; the rest (the last group, or the last few groups when
 * fewer than 16 bytes of src follow) value by value through bitsAt, which never reads past `end`.
 */
function unpack(p: usize, end: usize, w: u32, out: usize, m: usize): void {
  let i: usize = 0;
  const step = <usize>w; // bytes per group of 8
  if (w == 0) {
    fill(out, 0, m);
    return;
  }
  if (w <= SIMD_MAX_WIDTH) {
    if (builtFor != w) buildTables(w);
    const mask = i32x4.splat(<i32>lowMask(w));
    const second = <usize>((4 * w) >>> 3);
    // Reads: 16 bytes at p and at p + second (≤ p + 12): p + 28 ≤ end covers both for any w ≤ 25.
    while (i + 8 <= m && p + 28 <= end) {
      const lo = i8x16.swizzle(v128.load(p), shufLo);
      const hi = i8x16.swizzle(v128.load(p + second), shufHi);
      v128.store(out + (i << 2), v128.and(i32x4.shr_u(i32x4.mul(lo, mulLo), 7), mask));
      v128.store(out + (i << 2), v128.and(i32x4.shr_u(i32x4.mul(hi, mulHi), 7), mask), 16);
      p += step;
      i += 8;
    }
  } else {
    const mask = lowMask(w);
    // The last value of a group reads 8 bytes from byte (7w) >> 3 < w: p + w + 8 ≤ end covers it.
    while (i + 8 <= m && p + step + 8 <= end) {
      for (let j: u32 = 0; j < 8; j++) {
        const bit = j * w;
        store<u32>(out + ((i + <usize>j) << 2), <u32>((load<u64>(p + <usize>(bit >>> 3)) >>> <u64>(bit & 7)) & mask));
      }
      p += step;
      i += 8;
    }
  }
  // Tail: value by value from the current group start (bit offsets relative to p).
  const mask = lowMask(w);
  for (let j: usize = 0; i < m; i++, j++) {
    store<u32>(out + (i << 2), <u32>(bitsAt(p, j * <usize>w, end) & mask));
  }
}

/**
 * pqRle(src, srcLen, bitWidth, out, count) → bytes of src consumed; −1 src ends before `count`
 * values (or a run header is longer than 5 bytes, or an RLE run's value does not fit in bitWidth
 * bits); −3 bitWidth outside 0..32.
 */
export function pqRle(src: usize, srcLen: i32, bitWidth: i32, out: usize, count: i32): i32 {
  if (<u32>bitWidth > 32) return BAD_WIDTH;
  if (srcLen < 0 || count < 0) return MALFORMED;
  const w = <u32>bitWidth;
  const end = src + <usize>srcLen;
  const valueBytes = <usize>((w + 7) >>> 3);
  let ip = src;
  let k: usize = 0;
  const want = <usize>count;
  while (k < want) {
    // Run header: ULEB128, ≤ 5 bytes (the run length is ≤ 2^31 groups).
    const vh = varint(ip, end);
    if (vh == VARINT_BAD) return MALFORMED;
    ip += <usize>(vh >>> 40);
    const h = vh & 0xffffffffff;
    const left = <u64>(want - k);
    if ((h & 1) == 0) {
      if (valueBytes > end - ip) return MALFORMED;
      let v: u32 = 0;
      for (let q: usize = 0; q < valueBytes; q++) v |= <u32>load<u8>(ip + q) << (<u32>q << 3);
      ip += valueBytes;
      // A value wider than w bits is corrupt (a level above its maximum, a boolean that is not 0 / 1):
      // decoders disagree on what it means (arrow-rs reads any non-zero level as present), so it is
      // an error rather than one reading of it.
      if (w < 32 && (v >>> w) != 0) return MALFORMED;
      const m = <usize>min(h >>> 1, left);
      fill(out + (k << 2), v, m);
      k += m;
    } else {
      const groups = h >>> 1;
      const m = <usize>min(groups << 3, left);
      const need = (<u64>m * <u64>w + 7) >>> 3;
      const avail = <u64>(end - ip);
      if (need > avail) return MALFORMED;
      unpack(ip, end, w, out + (k << 2), m);
      k += m;
      // The run's full length (padding included) when src has it; else what is there (see the header).
      ip += <usize>min(groups * <u64>w, avail);
    }
  }
  return <i32>(ip - src);
}
