// Snappy raw-block decompression (Parquet's SNAPPY codec: one block per page, no framing).
//
// The stream: a varint preamble (the uncompressed length, ≤ 32 bits), then elements, each a tag
// byte whose low 2 bits say the kind:
//
//   tag & 3 = 0  literal     length − 1 = tag >> 2 when < 60, else the next (tag >> 2) − 59 bytes
//                            (1..4, LE) hold length − 1; the literal's bytes follow
//   tag & 3 = 1  copy        length = 4 + ((tag >> 2) & 7), offset = (tag >> 5) << 8 | next byte
//   tag & 3 = 2  copy        length = 1 + (tag >> 2),       offset = next 2 bytes LE
//   tag & 3 = 3  copy        length = 1 + (tag >> 2),       offset = next 4 bytes LE
//
// A copy repeats `length` bytes starting `offset` bytes back in the output; offset < length
// overlaps (offset 1 = run of one byte).
//
// Two loops. The fast loop runs while ≥ SRC_SLACK input bytes and ≥ DST_SLACK output bytes remain:
// then every tag's extra bytes and a whole 16-byte literal load are inside src, and every copy
// (≤ 64 bytes) may be written in 16-byte stores that run up to 15 bytes past its end — still
// inside dst, and those bytes are rewritten by the elements that follow (or the stream is
// rejected: its length must come out exactly). The careful loop does one element with every bound
// checked and exact-length copies; it finishes the last bytes of each side.
//
// Safety: every read is below srcEnd and every write below dstEnd = dst + preamble ≤ dst + dstCap,
// by the slack conditions above or by explicit checks; a copy's source is checked to start at or
// after dst (offset − 1 < op − dst, one unsigned compare that also rejects offset 0).

import { varint, VARINT_BAD } from './bits';

/** Input bytes the fast loop needs left: tag + 16-byte literal load (17), tag + 4-byte offset (5). */
const SRC_SLACK: usize = 17;
/** Output bytes the fast loop needs left: a 64-byte copy + 15 bytes of 16-byte-store overrun. */
const DST_SLACK: usize = 80;
/** Literals at least this long go to memory.copy (a call into the runtime: worth it for long ones only). */
const LONG_LITERAL: usize = 256;

const MALFORMED: i32 = -1;
const CAPACITY: i32 = -2;

/**
 * Swizzle masks: row o (1..15) = i mod o for i in 0..15 — repeats the o bytes before a copy to a
 * 16-byte pattern (read-only static data).
 */
const PATTERN = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,
  0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0,
  0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3,
  0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 0,
  0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5, 0, 1, 2, 3,
  0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5, 6, 0, 1,
  0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 1, 2, 3, 4, 5, 6,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0, 1, 2, 3,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0, 1, 2,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 0, 1,
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0,
]);

/** Row o: the largest multiple of o ≤ 16 — how far a pattern store may advance and stay in phase. */
const STEP = memory.data<u8>([0, 16, 16, 15, 16, 15, 12, 14, 16, 9, 10, 11, 12, 13, 14, 15]);

/** 16-byte chunks from s to d covering n ≥ 1 bytes (may write up to 15 past d + n; s ≥ d + 16 or s + 16 ≤ d). */
// @ts-ignore: decorator
@inline function chunks(d: usize, s: usize, n: usize): void {
  const end = d + n;
  do {
    v128.store(d, v128.load(s));
    d += 16;
    s += 16;
  } while (d < end);
}

/**
 * pqSnappy(src, srcLen, dst, dstCap) → bytes written (= the preamble), −1 malformed or truncated,
 * −2 the preamble exceeds dstCap.
 */
export function pqSnappy(src: usize, srcLen: i32, dst: usize, dstCap: i32): i32 {
  if (srcLen < 0 || dstCap < 0) return MALFORMED;
  const srcEnd = src + <usize>srcLen;
  let ip = src;

  // Preamble: ≤ 5 varint bytes, the value must fit 32 bits.
  const vt = varint(ip, srcEnd);
  if (vt == VARINT_BAD) return MALFORMED;
  ip += <usize>(vt >>> 40);
  const total = vt & 0xffffffffff;
  if (total > 0xffffffff) return MALFORMED;
  if (total > <u64>dstCap) return CAPACITY;
  const dstEnd = dst + <usize>total;
  let op = dst;

  // The fast loop's bounds: ip < ipStop ⇔ ≥ SRC_SLACK bytes left (ipStop = src, never reached
  // again, when src is shorter than that), likewise for op.
  const ipStop = srcLen >= <i32>SRC_SLACK ? srcEnd - SRC_SLACK + 1 : src;
  const opStop = total >= <u64>DST_SLACK ? dstEnd - DST_SLACK + 1 : dst;

  for (;;) {
    // ---- fast loop ------------------------------------------------------------------------------
    while (ip < ipStop && op < opStop) {
      const tag = <u32>load<u8>(ip);
      const kind = tag & 3;
      if (kind == 0) {
        let n = <usize>(tag >>> 2) + 1;
        if (n <= 16) {
          // Short literal (most of them): one 16-byte move, src and dst slack make the overrun safe.
          assert(ip + 17 <= srcEnd && op + 16 <= dstEnd);
          v128.store(op, v128.load(ip, 1));
          ip += 1 + n;
          op += n;
          continue;
        }
        ip++;
        if (n > 60) {
          const bytes = n - 60;
          n = <usize>(<u64>load<u32>(ip) & ((<u64>1 << <u64>(bytes << 3)) - 1));
          ip += bytes;
          // n is length − 1 here (may be 0xffffffff: compare before adding 1).
          if (n >= srcEnd - ip || n >= dstEnd - op) return MALFORMED;
          n++;
        } else if (n > srcEnd - ip) {
          return MALFORMED;
        }
        if (n >= LONG_LITERAL || n + 15 > srcEnd - ip || n + 15 > dstEnd - op) {
          memory.copy(op, ip, n);
        } else {
          chunks(op, ip, n);
        }
        ip += n;
        op += n;
        continue;
      }
      // Copies, without a branch on the form (forms 1 and 2 alternate unpredictably in text, and
      // a mispredicted branch costs about as much as a whole element): 1, 2 or 4 offset bytes
      // after the tag, read as one u32 and masked.
      const extra = (0x04020100 >>> (kind << 3)) & 0xff;
      const trailer = load<u32>(ip, 1) & (<u32>-1 >>> ((4 - extra) << 3));
      const form1 = kind == 1;
      const n = <usize>select<u32>(((tag >>> 2) & 7) + 4, (tag >>> 2) + 1, form1);
      const off = <usize>select<u32>(((tag >>> 5) << 8) | trailer, trailer, form1);
      ip += 1 + <usize>extra;
      if (off - 1 >= op - dst) return MALFORMED; // offset 0 wraps to the largest usize
      const from = op - off;
      // The slack covers a 64-byte copy's last 16-byte store (debug builds check the claim).
      assert(from >= dst && op + n + 15 < dstEnd);
      if (off >= 16) {
        // Each 16-byte load ends at or before the store it feeds: only bytes already written are read.
        v128.store(op, v128.load(from));
        if (n > 16) chunks(op + 16, from + 16, n - 16);
      } else {
        // Overlapping: the `off` bytes before op, repeated. Stores advance by a multiple of off so
        // one pattern serves them all. The load reads up to 15 bytes past op (inside dst: slack).
        const pat = i8x16.swizzle(v128.load(from), v128.load(PATTERN + (off << 4)));
        const step = <usize>load<u8>(STEP + off);
        const end = op + n;
        let d = op;
        do {
          v128.store(d, pat);
          d += step;
        } while (d < end);
      }
      op += n;
    }

    // ---- careful loop: one element, every bound checked, exact copies ---------------------------
    if (ip >= srcEnd) break;
    const tag = <u32>load<u8>(ip++);
    if ((tag & 3) == 0) {
      let n = <usize>(tag >>> 2);
      if (n >= 60) {
        const extra = n - 59;
        if (extra > srcEnd - ip) return MALFORMED;
        n = 0;
        for (let k: usize = 0; k < extra; k++) n |= <usize>load<u8>(ip + k) << (k << 3);
        ip += extra;
      }
      // n is length − 1.
      if (n >= srcEnd - ip || n >= dstEnd - op) return MALFORMED;
      n++;
      memory.copy(op, ip, n);
      ip += n;
      op += n;
      continue;
    }
    let n: usize;
    let off: usize;
    const kind = tag & 3;
    const extra: usize = kind == 1 ? 1 : kind == 2 ? 2 : 4;
    if (extra > srcEnd - ip) return MALFORMED;
    if (kind == 1) {
      n = <usize>((tag >>> 2) & 7) + 4;
      off = <usize>((tag >>> 5) << 8) | <usize>load<u8>(ip);
    } else {
      n = <usize>(tag >>> 2) + 1;
      off = 0;
      for (let k: usize = 0; k < extra; k++) off |= <usize>load<u8>(ip + k) << (k << 3);
    }
    ip += extra;
    if (off - 1 >= op - dst || n > dstEnd - op) return MALFORMED;
    if (off >= n) {
      memory.copy(op, op - off, n);
    } else {
      // Overlapping: byte by byte, each byte read was written by this loop or before.
      for (let k: usize = 0; k < n; k++) store<u8>(op + k, load<u8>(op + k - off));
    }
    op += n;
  }
  if (op != dstEnd) return MALFORMED;
  return <i32>total;
}
