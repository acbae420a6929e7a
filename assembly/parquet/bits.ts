// Bit-level helpers of the Parquet kernels: reading 64 bits at any bit position without leaving a
// byte range, writing a bitmap that starts at any bit position, and reading a ULEB128 varint (the
// RLE run headers and the snappy preamble). The kernels' bitmaps come from
// other pages or other buffers of the caller, so — unlike the engine's own bitmaps (assembly/util
// `word`) — nothing may be assumed about padding after them: reads stop at the range's last byte.

/**
 * 64 bits of bitmap p starting at bit `bit` (LSB first), reading only bytes below `end` (an
 * address); bits whose byte is at or past `end` come back 0. Fast when 9 bytes remain: one u64
 * load plus the byte that holds the high bits of an unaligned window.
 */
// @ts-ignore: decorator
@inline export function bitsAt(p: usize, bit: usize, end: usize): u64 {
  const b = p + (bit >>> 3);
  const s = <u64>(bit & 7);
  if (b + 9 <= end) {
    const lo = load<u64>(b) >>> s;
    // s = 0: the 9th byte is not needed (and a shift by 64 would be a shift by 0 in wasm).
    return s == 0 ? lo : lo | (<u64>load<u8>(b, 8) << (64 - s));
  }
  let v: u64 = 0;
  let k: u64 = 0;
  for (let q = b; q < end && k < 64 + s; q++, k += 8) {
    const byte = <u64>load<u8>(q);
    // Byte 0 contributes from bit s up; byte k/8 lands at k − s.
    v |= k >= s ? byte << (k - s) : byte >>> (s - k);
  }
  return v;
}

/**
 * A bitmap writer that starts at any bit: bits below the start bit in its first byte are kept,
 * whole bytes are stored as they fill, and `finish` stores the last partial byte with its bits past
 * the end zeroed. Writes only bytes [start >> 3, ceil(end / 8)).
 *
 *   byte:   |  first (kept low bits + new)  |  whole  |  whole  | ... | last (new, high bits 0) |
 *
 * State lives in module globals (one writer at a time per instance, i.e. per thread: kernels never
 * nest), so the kernels allocate nothing.
 */
let wOut: usize = 0; // next byte to store
let wAcc: u64 = 0; // pending bits, LSB = the next unstored bit
let wHave: u32 = 0; // pending bit count (< 8 between calls of push)

// @ts-ignore: decorator
@inline export function writerBegin(bitmap: usize, startBit: usize): void {
  wOut = bitmap + (startBit >>> 3);
  const s = <u32>(startBit & 7);
  wHave = s;
  wAcc = s == 0 ? 0 : <u64>load<u8>(wOut) & ((<u64>1 << <u64>s) - 1);
}

/** Appends cnt (≤ 56) bits: the low cnt bits of v (higher bits must be 0). */
// @ts-ignore: decorator
@inline export function writerPush(v: u64, cnt: u32): void {
  wAcc |= v << <u64>wHave;
  wHave += cnt;
  // wHave ≤ 7 + 56 = 63: every pending bit fits the accumulator.
  while (wHave >= 8) {
    store<u8>(wOut++, <u8>wAcc);
    wAcc >>>= 8;
    wHave -= 8;
  }
}

/** Stores a trailing partial byte (its bits past the end 0). */
// @ts-ignore: decorator
@inline export function writerFinish(): void {
  if (wHave > 0) store<u8>(wOut, <u8>wAcc);
}

/** The low cnt bits set (cnt ≤ 64). */
// @ts-ignore: decorator
@inline export function lowMask(cnt: u32): u64 {
  return cnt >= 64 ? <u64>-1 : (<u64>1 << <u64>cnt) - 1;
}

/** What `varint` returns for a varint that runs past its range or past 5 bytes. */
export const VARINT_BAD: u64 = <u64>-1;

/**
 * The ULEB128 varint at ip (bytes below `end` only), at most 5 bytes: its value (≤ 35 bits) in the
 * low 40 bits and the number of bytes it took in the bits above; VARINT_BAD when it is cut off by
 * `end` or longer than 5 bytes.
 */
// @ts-ignore: decorator
@inline export function varint(ip: usize, end: usize): u64 {
  let v: u64 = 0;
  let shift: u64 = 0;
  let q = ip;
  for (;;) {
    if (q >= end || shift > 28) return VARINT_BAD;
    const b = load<u8>(q++);
    v |= <u64>(b & 0x7f) << shift;
    if (b < 0x80) break;
    shift += 7;
  }
  return v | (<u64>(q - ip) << 40);
}
