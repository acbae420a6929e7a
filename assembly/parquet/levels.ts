// Bitmaps of a Parquet page: validity from definition levels, and boolean values (bit-packed LSB
// first, the same layout as Arrow's) appended at any bit offset. Pages append to one column bitmap,
// so both write from an arbitrary bit through the bit writer (bits.ts): bits below the start in
// the first byte are kept, bits after the end in the last byte are zeroed.

import { bitsAt, lowMask, writerBegin, writerFinish, writerPush } from './bits';

const MALFORMED: i32 = -1;

/**
 * pqDefLevels(levels, n, maxDef, validity, bitOffset) → the count of non-null values: validity bit
 * (bitOffset + i) = (levels[i] == maxDef), levels i32 × n.
 */
export function pqDefLevels(levels: usize, n: i32, maxDef: i32, validity: usize, bitOffset: i32): i32 {
  if (n < 0 || bitOffset < 0) return MALFORMED;
  const m = <usize>n;
  writerBegin(validity, <usize>bitOffset);
  const want = i32x4.splat(maxDef);
  let ones: u32 = 0;
  let i: usize = 0;
  // 16 levels per step: four lane compares narrowed (−1 / 0 survive saturation) to one byte mask.
  for (; i + 16 <= m; i += 16) {
    const p = levels + (i << 2);
    const a = i16x8.narrow_i32x4_s(i32x4.eq(v128.load(p), want), i32x4.eq(v128.load(p, 16), want));
    const b = i16x8.narrow_i32x4_s(i32x4.eq(v128.load(p, 32), want), i32x4.eq(v128.load(p, 48), want));
    const bits = <u64>i8x16.bitmask(i8x16.narrow_i16x8_s(a, b));
    ones += <u32>popcnt(bits);
    writerPush(bits, 16);
  }
  for (; i < m; i++) {
    const bit = <u64>(load<i32>(levels + (i << 2)) == maxDef);
    ones += <u32>bit;
    writerPush(bit, 1);
  }
  writerFinish();
  return <i32>ones;
}

/**
 * pqBits(src, srcBit, n, dst, dstBit) → 0: copies bits [srcBit, srcBit + n) of src to
 * [dstBit, dstBit + n) of dst, 48 at a time (bitsAt reads only src's bytes of that range).
 */
export function pqBits(src: usize, srcBit: i32, n: i32, dst: usize, dstBit: i32): i32 {
  if (n < 0 || srcBit < 0 || dstBit < 0) return MALFORMED;
  const s0 = <usize>srcBit;
  const m = <usize>n;
  const sEnd = src + ((s0 + m + 7) >>> 3);
  writerBegin(dst, <usize>dstBit);
  for (let i: usize = 0; i < m; i += 48) {
    const cnt = <u32>min<usize>(48, m - i);
    writerPush(bitsAt(src, s0 + i, sEnd) & lowMask(cnt), cnt);
  }
  writerFinish();
  return 0;
}
