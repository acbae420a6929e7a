// Stitching per-morsel outputs into one column (src/runtime filter): every morsel compacts its rows
// into its own place of the output, at a row offset from prefix sums. Two things do not land on
// byte or word boundaries there, and these kernels do them:
//
//   orBits   a morsel's compacted bitmap (validity, bool values) goes to bit offset `at` of the
//            output: the first and last 32-bit words it touches are shared with the neighbouring
//            morsels, which run on other threads at the same time.
//   rebase   a morsel's utf8 offsets (or sort run's row numbers) start at 0; they are copied out
//            with the morsel's byte (row) offset added.

import { at } from '../util';

/**
 * orBits(src, nbits, dst, bitOffset): dst bits [bitOffset, bitOffset + nbits) |= src bits
 * [0, nbits). dst must be zeroed and 4-byte aligned, and hold the 32-bit word of its last bit.
 *
 * Every store is an atomic OR of a 32-bit word: a word at either end of the range may hold bits of
 * a neighbouring morsel, written concurrently, and a plain read-modify-write would lose them.
 * The interior words are ours alone, but an atomic OR costs one locked op per 32 rows — next to
 * the filter that produced the bits it is noise (10M rows: ~0.3M ops), and one code path is
 * simpler to trust than two. Bits above nbits in src's last word are masked off, so a neighbour's
 * bits are never set by us. src is read a u32 at a time: the host allocates it 64-byte rounded.
 */
export function orBits(src: usize, nbits: i32, dst: usize, bitOffset: i32): void {
  if (nbits <= 0) return;
  const shift = <u32>bitOffset & 31;
  const base = dst + (<usize>(<u32>bitOffset >>> 5) << 2);
  const words = (nbits + 31) >>> 5;
  for (let i = 0; i < words; i++) {
    let s = load<u32>(at<u32>(src, i));
    const rem = nbits - (i << 5);
    if (rem < 32) s &= (<u32>1 << <u32>rem) - 1;
    if (s == 0) continue;
    const d = base + (<usize>i << 2);
    atomic.or<u32>(d, s << shift);
    // The bits that spill into the next word (none when the offset is word-aligned).
    if (shift != 0) {
      const hi = s >>> (32 - shift);
      if (hi != 0) atomic.or<u32>(d + 4, hi);
    }
  }
}

/** rebase(src, n, delta, dst): dst[i] = src[i] + delta for n i32s (dst may equal src). */
export function rebase(src: usize, n: i32, delta: i32, dst: usize): void {
  const d = i32x4.splat(delta);
  let i = 0;
  // 4 lanes at a time; unaligned v128 loads are fine in wasm (alignment is only a hint).
  for (; i + 4 <= n; i += 4) v128.store(at<i32>(dst, i), i32x4.add(v128.load(at<i32>(src, i)), d));
  for (; i < n; i++) store<i32>(at<i32>(dst, i), load<i32>(at<i32>(src, i)) + delta);
}
