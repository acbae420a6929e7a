// UTF-8 validation of string column bytes (host side: src/engine/io/utf8-kernel.ts). The readers
// (Parquet kernel path, CSV) call these once per decoded column / window; arrow-rs, DuckDB and
// Polars reject invalid UTF-8 in a string column, and so do we.
//
// Valid = RFC 3629 (Unicode 3.2+ "well-formed UTF-8", table 3-7):
//
//   first byte   second    third     fourth    code points
//   00..7F                                      U+0000..007F
//   C2..DF       80..BF                         U+0080..07FF      (C0, C1: overlong 2-byte forms)
//   E0           A0..BF    80..BF               U+0800..0FFF      (E0 80..9F: overlong)
//   E1..EC EE EF 80..BF    80..BF               U+1000..FFFF
//   ED           80..9F    80..BF               U+D000..D7FF      (ED A0..BF: surrogates)
//   F0           90..BF    80..BF    80..BF     U+10000..3FFFF    (F0 80..8F: overlong)
//   F1..F3       80..BF    80..BF    80..BF     U+40000..FFFFF
//   F4           80..8F    80..BF    80..BF     U+100000..10FFFF  (F4 90..: above U+10FFFF)
//   F5..FF, 80..BF as a first byte: never
//
// Both kernels only read, and only inside the ranges they are given: [data, data + len) and
// offsets[0 .. n).

// @ts-ignore: decorator
@inline const CONT_LO: u32 = 0x80;
// @ts-ignore: decorator
@inline const CONT_HI: u32 = 0xbf;

/** Whether b is a continuation byte 10xxxxxx. */
// @ts-ignore: decorator
@inline function isCont(b: u32): bool {
  return (b & 0xc0) == 0x80;
}

/**
 * The length of the well-formed sequence at p (first byte b0 ≥ 0x80), or 0 when it is not one
 * (a bad first byte, a bad later byte, or cut off by `end`).
 */
// @ts-ignore: decorator
@inline function sequence(p: usize, end: usize, b0: u32): usize {
  if (b0 < 0xc2) return 0; // continuation byte, or C0 / C1 (overlong)
  const left = end - p;
  if (b0 < 0xe0) return left >= 2 && isCont(<u32>load<u8>(p, 1)) ? 2 : 0;
  if (b0 < 0xf0) {
    if (left < 3) return 0;
    const b1 = <u32>load<u8>(p, 1);
    // The second byte's range depends on the first: E0 excludes overlongs, ED surrogates.
    const lo = b0 == 0xe0 ? <u32>0xa0 : CONT_LO;
    const hi = b0 == 0xed ? <u32>0x9f : CONT_HI;
    return b1 >= lo && b1 <= hi && isCont(<u32>load<u8>(p, 2)) ? 3 : 0;
  }
  if (b0 < 0xf5) {
    if (left < 4) return 0;
    const b1 = <u32>load<u8>(p, 1);
    // F0 excludes overlongs, F4 everything above U+10FFFF.
    const lo = b0 == 0xf0 ? <u32>0x90 : CONT_LO;
    const hi = b0 == 0xf4 ? <u32>0x8f : CONT_HI;
    return b1 >= lo && b1 <= hi && isCont(<u32>load<u8>(p, 2)) && isCont(<u32>load<u8>(p, 3)) ? 4 : 0;
  }
  return 0; // F5..FF
}

// The block check (Keiser & Lemire, "Validating UTF-8 in less than one instruction per byte",
// 2021): every 2-byte window (previous byte, byte) is classified by three 16-entry lookups — the
// previous byte's high and low nibble, the byte's high nibble — whose AND is non-zero exactly for
// the ill-formed pairs; 3rd / 4th bytes of a sequence are then checked by comparing "must be a
// continuation" (a lead ≥ E0 two back, ≥ F0 three back) with the TWO_CONTS bit. Bit meanings:
const TOO_SHORT: u8 = 1 << 0; // lead or ASCII after a lead: 11______ 0_______ / 11______ 11______
const TOO_LONG: u8 = 1 << 1; // continuation after ASCII: 0_______ 10______
const OVERLONG_3: u8 = 1 << 2; // 11100000 100_____
const TOO_LARGE: u8 = 1 << 3; // 11110100 1001____, 11110100 101_____, 11110101.. 10______
const SURROGATE: u8 = 1 << 4; // 11101101 101_____
const OVERLONG_2: u8 = 1 << 5; // 1100000_ 10______
const OVERLONG_4: u8 = 1 << 6; // 11110000 1000____ (shares its bit with TOO_LARGE_1000)
const TOO_LARGE_1000: u8 = 1 << 6; // 11110101.. 1000____
const TWO_CONTS: u8 = 1 << 7; // continuation after continuation: fine only inside a 3/4-byte sequence
const CARRY: u8 = TOO_SHORT | TOO_LONG | TWO_CONTS;

const BYTE1_HIGH = memory.data<u8>([
  TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, // 0___ ASCII
  TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS, // 10__ continuation
  TOO_SHORT | OVERLONG_2, // 1100
  TOO_SHORT, // 1101
  TOO_SHORT | OVERLONG_3 | SURROGATE, // 1110
  TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4, // 1111
]);
const BYTE1_LOW = memory.data<u8>([
  CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, // ____0000
  CARRY | OVERLONG_2, // ____0001
  CARRY, CARRY, // ____001_
  CARRY | TOO_LARGE, // ____0100
  CARRY | TOO_LARGE | TOO_LARGE_1000, // ____0101
  CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000, // ____011_
  CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000, // ____1___
  CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
  CARRY | TOO_LARGE | TOO_LARGE_1000,
  CARRY | TOO_LARGE | TOO_LARGE_1000 | SURROGATE, // ____1101
  CARRY | TOO_LARGE | TOO_LARGE_1000, CARRY | TOO_LARGE | TOO_LARGE_1000,
]);
const BYTE2_HIGH = memory.data<u8>([
  TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, // 0___ ASCII
  TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4, // 1000
  TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE, // 1001
  TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, // 101_
  TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,
  TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, // 11__ lead
]);

/**
 * −1 valid and all ASCII, −2 valid with some non-ASCII byte, else the offset of the first byte of
 * the first invalid sequence.
 *
 * Whole 16-byte blocks go through the SIMD block check (above), with the previous block's bytes
 * for the pairs that straddle blocks; runs of ASCII 64 bytes a step (four loads OR-ed, one
 * any_true of the high bits). The scalar `sequence` check takes over where the SIMD check flags a
 * block, and for the last < 16 bytes: it restarts at the sequence boundary at or before the block
 * (the bytes before were found well-formed, so it is at most 3 bytes back), finds the exact
 * offset — or, past the block, hands back to the SIMD loop at a boundary. A sequence cut by the end
 * is therefore found by the scalar tail, never by the SIMD loop. Every load stays inside
 * [data, data + len): blocks only while 16 (64) bytes are left.
 */
function validate(data: usize, len: usize): i32 {
  const end = data + len;
  const high = i8x16.splat(-128);
  const nib = i8x16.splat(0x0f);
  const t1h = v128.load(BYTE1_HIGH), t1l = v128.load(BYTE1_LOW), t2h = v128.load(BYTE2_HIGH);
  // A lead byte in the last lanes that needs more bytes than the block has left (≥ C0 in lane 15,
  // ≥ E0 in 14, ≥ F0 in 13): then the next block must continue it.
  const maxv = i8x16(-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, <i8>0xef, <i8>0xdf, <i8>0xbf);
  let ascii = true;
  let p = data; // a sequence boundary; the SIMD loop starts here with prev = ASCII
  for (;;) {
    let prev = i8x16.splat(0);
    let incomplete = i8x16.splat(0);
    let q = p;
    while (end - q >= 16) {
      if (i8x16.bitmask(prev) == 0) {
        // ASCII runs, tried only after an ASCII block (mixed text would pay four loads a block for
        // nothing); then nothing is incomplete, and prev stays "ASCII", which zero means to the lookups.
        while (end - q >= 64) {
          const v = v128.or(v128.or(v128.load(q), v128.load(q, 16)), v128.or(v128.load(q, 32), v128.load(q, 48)));
          if (v128.any_true(v128.and(v, high))) break;
          q += 64;
          prev = i8x16.splat(0);
        }
        if (end - q < 16) break;
      }
      const v = v128.load(q);
      if (i8x16.bitmask(v) == 0) {
        if (v128.any_true(incomplete)) break; // a sequence cut short by ASCII: the scalar check finds it
        prev = v;
        q += 16;
        continue;
      }
      ascii = false;
      const prev1 = i8x16.shuffle(prev, v, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30);
      const sc = v128.and(
        v128.and(i8x16.swizzle(t1h, i8x16.shr_u(prev1, 4)), i8x16.swizzle(t1l, v128.and(prev1, nib))),
        i8x16.swizzle(t2h, i8x16.shr_u(v, 4)),
      );
      const prev2 = i8x16.shuffle(prev, v, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29);
      const prev3 = i8x16.shuffle(prev, v, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28);
      // 0x80 where this byte must be a 3rd / 4th byte (lead ≥ E0 two back, ≥ F0 three back).
      const must = v128.and(v128.or(i8x16.sub_sat_u(prev2, i8x16.splat(<i8>0x60)), i8x16.sub_sat_u(prev3, i8x16.splat(<i8>0x70))), high);
      if (v128.any_true(v128.xor(must, sc))) break;
      incomplete = i8x16.sub_sat_u(v, maxv);
      prev = v;
      q += 16;
    }
    // Scalar from the boundary at or before q (the bytes in [p, q) are well-formed: continuation
    // bytes just before q belong to a sequence whose lead is at most 3 back, or to one ending there).
    let r = q - min<usize>(3, q - p);
    while (r < q && isCont(<u32>load<u8>(r))) r++;
    const stop = q + 16;
    p = r;
    while (p < end && p < stop) {
      const b0 = <u32>load<u8>(p);
      if (b0 < 0x80) {
        p++;
        continue;
      }
      ascii = false;
      const n = sequence(p, end, b0);
      if (n == 0) return <i32>(p - data);
      p += n;
    }
    if (p >= end) return ascii ? -1 : -2;
    // Past the flagged block, at a boundary: back to the SIMD loop.
  }
  return -1; // (not reached: the loop returns)
}

/**
 * utf8Valid(data, len) → −1 when the len bytes at data are well-formed UTF-8, else the offset of
 * the first byte of the first ill-formed sequence (a lone or unexpected continuation byte, an
 * overlong form, a surrogate, a code point above U+10FFFF, a sequence cut by the end). −3 if len < 0.
 */
export function utf8Valid(data: usize, len: i32): i32 {
  if (len < 0) return -3;
  const r = validate(data, <usize>len);
  return r == -2 ? -1 : r;
}

/**
 * utf8Values(offsets, n, data, len) → −1 when every value is well-formed UTF-8, else the offset in
 * data of an ill-formed sequence. The values are the int32 offsets[0 .. n) (value i starts at
 * offsets[i]) over data[0, len), len = where the last value ends — an Arrow utf8 column's buffers
 * with n = rows.
 *
 * Why the concatenation is enough: if it is well-formed, a value can only be ill-formed by starting
 * inside a sequence, i.e. at a continuation byte — checked for every offset < len (one byte load per
 * value, skipped entirely when the bytes are all ASCII). If the concatenation is ill-formed at q,
 * the value holding q is. An offset outside [0, len) is not read (an empty value at the end points
 * at len). Returns the first ill-formed sequence of the concatenation, or, when there is none, the
 * start of the first value that begins with a continuation byte. −3 if n or len < 0.
 */
export function utf8Values(offsets: usize, n: i32, data: usize, len: i32): i32 {
  if (n < 0 || len < 0) return -3;
  const r = validate(data, <usize>len);
  if (r != -2) return r; // ASCII (no continuation bytes anywhere) or ill-formed
  const l = <u32>len;
  for (let i: usize = 0; i < <usize>n; i++) {
    const o = load<u32>(offsets + (i << 2));
    if (o < l && isCont(<u32>load<u8>(data + <usize>o))) return <i32>o;
  }
  return -1;
}
