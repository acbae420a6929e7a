// BYTE_ARRAY values of a Parquet page into an Arrow utf8/binary column (int32 offsets + bytes).
//
// Offsets/data convention (all three kernels): `offsets` points at offsets[k] of the column's
// offsets array, already written (0 for the first page, the previous page's end otherwise); a call
// writes offsets[k + 1 .. k + n] and the value bytes at data + offset, where data is the column's
// byte buffer base and data + dataCap the end of what may be written.
//
//   data:    | earlier pages | v0 | v1 | ... | v(n−1) | (scratch up to dataCap) |
//            ^data           ^offsets[k]                                       ^data + dataCap
//
// Short values are moved with 16-byte (or 32-byte) overcopies when 16 bytes of slack remain on
// both sides: the bytes past a value's end are overwritten by the next value, and those past the
// last value's end are scratch — inside [data, data + dataCap), but not zeroed. Longer values and
// values near either end go through memory.copy (exact).

import { bitsAt, lowMask } from './bits';

const MALFORMED: i32 = -1;
const CAPACITY: i32 = -2;

/**
 * Copies len bytes s → d; `room` = bytes that may be read from s and written at d (the smaller of
 * both sides' remaining space). Values of ≤ 48 bytes with 48 of room (TPC-H comments are 10..43):
 * three 16-byte moves, no branch on the length; longer ones with room: 16-byte chunks; the rest
 * (values near either end, very long values) memory.copy, exact.
 */
// @ts-ignore: decorator
@inline function copyValue(d: usize, s: usize, len: u32, room: usize): void {
  if (len <= 48 && room >= 48) {
    v128.store(d, v128.load(s));
    v128.store(d, v128.load(s, 16), 16);
    v128.store(d, v128.load(s, 32), 32);
  } else if (len <= 512 && room >= <usize>len + 15) {
    // (A while, not a do-while: an empty value must not store 16 bytes where 15 may be all the room.)
    const e = d + <usize>len;
    while (d < e) {
      v128.store(d, v128.load(s));
      d += 16;
      s += 16;
    }
  } else {
    memory.copy(d, s, <usize>len);
  }
}

/** Lane i = i: added to a splatted shift it makes a swizzle that moves bytes down by the shift. */
const IOTA = memory.data<u8>([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);

/**
 * pqByteArrayPlain(src, srcLen, n, offsets, data, dataCap) → bytes of src consumed; −1 src ends
 * inside a length or a value; −2 a value would end past dataCap (or offsets[k] is outside it).
 */
export function pqByteArrayPlain(src: usize, srcLen: i32, n: i32, offsets: usize, data: usize, dataCap: i32): i32 {
  if (srcLen < 0 || n < 0 || dataCap < 0) return MALFORMED;
  const end = src + <usize>srcLen;
  let pos = load<i32>(offsets);
  if (pos < 0 || pos > dataCap) return CAPACITY;
  let p = <u32>pos;
  const cap = <u32>dataCap;
  let ip = src;
  for (let i: usize = 1; i <= <usize>n; i++) {
    if (end - ip < 4) return MALFORMED;
    const len = load<u32>(ip);
    ip += 4;
    if (<usize>len > end - ip) return MALFORMED;
    if (len > cap - p) return CAPACITY;
    copyValue(data + <usize>p, ip, len, min(end - ip, <usize>(cap - p)));
    ip += <usize>len;
    p += len;
    store<u32>(offsets + (i << 2), p);
  }
  return <i32>(ip - src);
}

/**
 * pqByteArrayDict(idx, n, dictOffsets, dictData, dictLen, offsets, data, dataCap) → 0; −1 an index
 * ≥ dictLen (unsigned) or a dictionary value whose offsets run backwards; −2 past dataCap.
 *
 * Precondition (not re-checked): dictOffsets[0 .. dictLen] are in [0, dictOffsets[dictLen]] and
 * dictData holds dictOffsets[dictLen] bytes — true of what pqByteArrayPlain wrote for the
 * dictionary page from offsets[0] = 0. Debug builds assert each value's end against the last offset.
 */
export function pqByteArrayDict(idx: usize, n: i32, dictOffsets: usize, dictData: usize, dictLen: i32, offsets: usize, data: usize, dataCap: i32): i32 {
  if (n < 0 || dictLen < 0 || dataCap < 0) return MALFORMED;
  let pos = load<i32>(offsets);
  if (pos < 0 || pos > dataCap) return CAPACITY;
  let p = <u32>pos;
  const cap = <u32>dataCap;
  const len = <u32>dictLen;
  const total = load<u32>(dictOffsets + (<usize>len << 2));
  // Values of ≤ 16 bytes (the usual low-cardinality column) are one 16-byte store each, read
  // through a window that never leaves dictData: the 16 bytes at min(s, total − 16), shifted down
  // by a swizzle (lanes past 15 come out 0). A dictionary of < 16 bytes in all (flags) is loaded
  // once, exactly, into a register and every value is swizzled out of it.
  const big = total >= 16;
  let lo: u64 = 0;
  let hi: u64 = 0;
  if (!big) {
    for (let q: u32 = 0; q < total; q++) {
      const b = <u64>load<u8>(dictData + <usize>q);
      if (q < 8) lo |= b << (<u64>q << 3);
      else hi |= b << (<u64>(q - 8) << 3);
    }
  }
  const whole = i64x2.replace_lane(i64x2.splat(lo), 1, hi);
  const iota = v128.load(IOTA);
  for (let i: usize = 0; i < <usize>n; i++) {
    const j = load<u32>(idx + (i << 2));
    if (j >= len) return MALFORMED;
    const s = load<u32>(dictOffsets + (<usize>j << 2));
    const e = load<u32>(dictOffsets + (<usize>j << 2), 4);
    if (e < s) return MALFORMED;
    assert(e <= total);
    const l = e - s;
    if (l > cap - p) return CAPACITY;
    const d = data + <usize>p;
    if (l <= 16 && cap - p >= 16) {
      const base = big ? min(s, total - 16) : 0;
      const raw = big ? v128.load(dictData + <usize>base) : whole;
      v128.store(d, i8x16.swizzle(raw, i8x16.add(iota, i8x16.splat(<u8>(s - base)))));
    } else {
      copyValue(d, dictData + <usize>s, l, <usize>min(total - s, cap - p));
    }
    p += l;
    store<u32>(offsets + ((i + 1) << 2), p);
  }
  return 0;
}

/**
 * pqSpreadOffsets(validity, bitOffset, n, dense, out) → dense values consumed. out[i + 1] = the next
 * dense offset when row i is valid, else out[i] (a null row is an empty value). dense[0] == out[0]
 * on entry; dense is read at positions 1 .. popcount only.
 */
export function pqSpreadOffsets(validity: usize, bitOffset: i32, n: i32, dense: usize, out: usize): i32 {
  if (n < 0 || bitOffset < 0) return MALFORMED;
  const b0 = <usize>bitOffset;
  const m = <usize>n;
  const vEnd = validity + ((b0 + m + 7) >>> 3);
  let k: usize = 0;
  let prev = load<u32>(out);
  for (let r: usize = 0; r < m; r += 64) {
    const cnt = <u32>min<usize>(64, m - r);
    const all = lowMask(cnt);
    const bits = bitsAt(validity, b0 + r, vEnd) & all;
    const o = out + ((r + 1) << 2);
    if (bits == all) {
      memory.copy(o, dense + ((k + 1) << 2), <usize>cnt << 2);
      k += cnt;
      prev = load<u32>(o + ((<usize>cnt - 1) << 2));
      continue;
    }
    for (let j: u32 = 0; j < cnt; j++) {
      if (((bits >>> <u64>j) & 1) != 0) prev = load<u32>(dense + ((++k) << 2));
      store<u32>(o + (<usize>j << 2), prev);
    }
  }
  return <i32>k;
}
