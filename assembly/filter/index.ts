// Filter (compact by a selection bitmap) and take (gather by an index list), for every column layout:
// fixed-width values (dispatched by byte width: filtering moves bits, it never looks at the type),
// bit-packed bitmaps (bool values and every validity bitmap), and utf8 (offsets + bytes).
//
// Selection: `sel & selValid` (selValid may be 0): a null selection row is not kept.
// Filter walks the selection a 64-row word at a time (util.word): an all-ones word copies the whole
// block at once, a zero word is skipped, a mixed word visits its set bits with ctz — so a dense
// selection costs a memcpy and a sparse one costs its set bits, never n branches.
//
// Output sizes are the host's business: it counts the selection (compare/popcount) or checks the
// indices (takeCheck) first, allocates exactly, then calls these. Every kernel writes exactly its
// output's bytes (bitmaps: ceil(count/8), padding bits 0), never past them.

import { at, word, tailWord } from '../util';

/** The selection word of block b (the tail block masked to n). */
// @ts-ignore: decorator
@inline function selWord(sel: usize, selValid: usize, b: i32, blocks: i32, n: i32): u64 {
  return b < blocks ? word(sel, b) & word(selValid, b) : tailWord(sel, n) & tailWord(selValid, n);
}

// ---------------------------------------------------------------------------------------------
// Bit appender: packs a stream of bit groups into an output bitmap, one u64 store per 64 bits.
// Module globals are per instance (per thread) and a kernel call runs to completion, so this state
// is private to the call — the kernels may not allocate a state object.

let accBits: u64 = 0;
let accFill: i32 = 0;
let accOut: usize = 0;

// @ts-ignore: decorator
@inline function bitsBegin(out: usize): void {
  accBits = 0;
  accFill = 0;
  accOut = out;
}

/** Appends the low `count` bits of `bits` (count ≤ 64; bits above count must be 0). */
// @ts-ignore: decorator
@inline function bitsPush(bits: u64, count: i32): void {
  accBits |= bits << <u64>accFill;
  const total = accFill + count;
  if (total >= 64) {
    store<u64>(accOut, accBits);
    accOut += 8;
    // The bits that did not fit; with accFill = 0 all of them did (and a shift by 64 would be a no-op).
    accBits = accFill == 0 ? 0 : bits >>> <u64>(64 - accFill);
    accFill = total - 64;
  } else {
    accFill = total;
  }
}

/** Writes the pending partial word: only its ceil(fill/8) bytes, so the output is never overrun. */
// @ts-ignore: decorator
@inline function bitsEnd(): void {
  for (let k = 0; k < (accFill + 7) >>> 3; k++) store<u8>(accOut + <usize>k, <u8>(accBits >>> (<u64>k << 3)));
}

/** Bits of `src` at the set positions of `s`, packed low: a software pext (wasm has none). */
// @ts-ignore: decorator
@inline function gather(src: u64, s: u64): u64 {
  let g: u64 = 0;
  let j: u64 = 0;
  let rest = s;
  while (rest != 0) {
    g |= ((src >>> ctz(rest)) & 1) << j;
    j++;
    rest &= rest - 1;
  }
  return g;
}

/**
 * filterBits(bits, n, sel, selValid, out) → number of set bits written. Compacts a bitmap (bool
 * values or a validity bitmap) to the selected rows. bits = 0 means all set (no validity).
 */
export function filterBits(bits: usize, n: i32, sel: usize, selValid: usize, out: usize): i32 {
  bitsBegin(out);
  let ones = 0;
  const blocks = n >>> 6;
  for (let b = 0; b <= blocks; b++) {
    const s = selWord(sel, selValid, b, blocks, n);
    if (s == 0) continue;
    const src = b < blocks ? word(bits, b) : tailWord(bits, n); // bits = 0: all ones either way
    const g = s == <u64>-1 ? src : gather(src, s);
    ones += <i32>popcnt(g);
    bitsPush(g, <i32>popcnt(s));
  }
  bitsEnd();
  return ones;
}

// ---------------------------------------------------------------------------------------------
// Fixed-width values

// @ts-ignore: decorator
@inline function filterDrive<T>(p: usize, n: i32, sel: usize, selValid: usize, out: usize): i32 {
  let k = 0;
  const blocks = n >>> 6;
  for (let b = 0; b <= blocks; b++) {
    const s = selWord(sel, selValid, b, blocks, n);
    const base = b << 6;
    if (s == <u64>-1) {
      // Dense block: one bulk copy of 64 values (s is all ones only for whole blocks: tailWord masks).
      memory.copy(at<T>(out, k), at<T>(p, base), 64 * sizeof<T>());
      k += 64;
    } else {
      let rest = s;
      while (rest != 0) {
        store<T>(at<T>(out, k), load<T>(at<T>(p, base + <i32>ctz(rest))));
        k++;
        rest &= rest - 1;
      }
    }
  }
  return k;
}

/**
 * filterFixed(width, values, n, sel, selValid, out) → rows written (−1: width not 1/2/4/8).
 * out receives the selected values in order; `out` must hold popcount(sel & selValid) of them.
 */
export function filterFixed(width: i32, p: usize, n: i32, sel: usize, selValid: usize, out: usize): i32 {
  switch (width) {
    case 1: return filterDrive<u8>(p, n, sel, selValid, out);
    case 2: return filterDrive<u16>(p, n, sel, selValid, out);
    case 4: return filterDrive<u32>(p, n, sel, selValid, out);
    case 8: return filterDrive<u64>(p, n, sel, selValid, out);
    default: return -1;
  }
}

// ---------------------------------------------------------------------------------------------
// utf8

/** filterUtf8Size(offsets, n, sel, selValid) → bytes of string data the selected rows hold. */
export function filterUtf8Size(offsets: usize, n: i32, sel: usize, selValid: usize): i32 {
  let total = 0;
  const blocks = n >>> 6;
  for (let b = 0; b <= blocks; b++) {
    let rest = selWord(sel, selValid, b, blocks, n);
    const base = b << 6;
    while (rest != 0) {
      // Runs of selected rows are one subtraction each: their bytes are contiguous.
      const i = <i32>ctz(rest);
      const run = <i32>ctz(~(rest >>> <u64>i)); // ≤ 64 - i
      total += load<i32>(at<i32>(offsets, base + i + run)) - load<i32>(at<i32>(offsets, base + i));
      rest = i + run >= 64 ? 0 : rest & (<u64>-1 << <u64>(i + run));
    }
  }
  return total;
}

/**
 * filterUtf8(offsets, bytes, n, sel, selValid, outOffsets, outBytes) → rows written. Copies each
 * run of consecutive selected rows with one memory.copy and rebases its offsets; outBytes must hold
 * filterUtf8Size bytes, outOffsets rows + 1 offsets.
 */
export function filterUtf8(offsets: usize, bytes: usize, n: i32, sel: usize, selValid: usize, outOffsets: usize, outBytes: usize): i32 {
  let k = 0;
  let pos = 0;
  store<i32>(outOffsets, 0);
  const blocks = n >>> 6;
  for (let b = 0; b <= blocks; b++) {
    let rest = selWord(sel, selValid, b, blocks, n);
    const base = b << 6;
    while (rest != 0) {
      const i = <i32>ctz(rest);
      const run = <i32>ctz(~(rest >>> <u64>i));
      const start = load<i32>(at<i32>(offsets, base + i));
      const end = load<i32>(at<i32>(offsets, base + i + run));
      memory.copy(outBytes + <usize>pos, bytes + <usize>start, <usize>(end - start));
      const delta = pos - start;
      for (let r = 1; r <= run; r++) store<i32>(at<i32>(outOffsets, k + r), load<i32>(at<i32>(offsets, base + i + r)) + delta);
      k += run;
      pos += end - start;
      rest = i + run >= 64 ? 0 : rest & (<u64>-1 << <u64>(i + run));
    }
  }
  return k;
}

// ---------------------------------------------------------------------------------------------
// Take

/** Is index j valid (not null)? */
// @ts-ignore: decorator
@inline function idxOk(idxValid: usize, j: i32): bool {
  return idxValid == 0 || ((load<u8>(idxValid + (<usize>j >>> 3)) >>> (<u32>j & 7)) & 1) != 0;
}

/**
 * takeCheck(idx, idxValid, m, len) → the first position whose (non-null) index is outside
 * [0, len), or −1. The host runs it before allocating or writing anything.
 */
export function takeCheck(idx: usize, idxValid: usize, m: i32, len: i32): i32 {
  for (let j = 0; j < m; j++) {
    // One unsigned compare catches negatives too.
    if (<u32>load<i32>(at<i32>(idx, j)) >= <u32>len && idxOk(idxValid, j)) return j;
  }
  return -1;
}

// @ts-ignore: decorator
@inline function takeDrive<T>(p: usize, idx: usize, idxValid: usize, m: i32, len: i32, out: usize): void {
  if (idxValid == 0) {
    for (let j = 0; j < m; j++) {
      const i = load<i32>(at<i32>(idx, j));
      // Unchecked gather: takeCheck proved every index in [0, len); debug builds re-check.
      assert(<u32>i < <u32>len);
      store<T>(at<T>(out, j), load<T>(at<T>(p, i)));
    }
  } else {
    for (let j = 0; j < m; j++) {
      // A null index may hold anything: it is not read, its output slot gets 0.
      const ok = idxOk(idxValid, j);
      const i = ok ? load<i32>(at<i32>(idx, j)) : 0;
      assert(!ok || <u32>i < <u32>len);
      store<T>(at<T>(out, j), ok ? load<T>(at<T>(p, i)) : <T>0);
    }
  }
}

/** takeFixed(width, values, len, idx, idxValid, m, out) → m (−1: bad width). out[j] = values[idx[j]]. */
export function takeFixed(width: i32, p: usize, len: i32, idx: usize, idxValid: usize, m: i32, out: usize): i32 {
  switch (width) {
    case 1: takeDrive<u8>(p, idx, idxValid, m, len, out); return m;
    case 2: takeDrive<u16>(p, idx, idxValid, m, len, out); return m;
    case 4: takeDrive<u32>(p, idx, idxValid, m, len, out); return m;
    case 8: takeDrive<u64>(p, idx, idxValid, m, len, out); return m;
    default: return -1;
  }
}

/**
 * takeBits(bits, len, idx, idxValid, m, out) → set bits written. out bit j = bits[idx[j]], and 0
 * where the index is null; bits = 0 means all set (so a validity take gives "index not null").
 */
export function takeBits(bits: usize, len: i32, idx: usize, idxValid: usize, m: i32, out: usize): i32 {
  bitsBegin(out);
  let ones = 0;
  for (let j0 = 0; j0 < m; j0 += 64) {
    const cnt = min(64, m - j0);
    let g: u64 = 0;
    for (let r = 0; r < cnt; r++) {
      const j = j0 + r;
      if (!idxOk(idxValid, j)) continue;
      const i = load<i32>(at<i32>(idx, j));
      assert(<u32>i < <u32>len);
      const v = bits == 0 ? 1 : (load<u8>(bits + (<usize>i >>> 3)) >>> (<u32>i & 7)) & 1;
      g |= <u64>v << <u64>r;
    }
    ones += <i32>popcnt(g);
    bitsPush(g, cnt);
  }
  bitsEnd();
  return ones;
}

/**
 * takeUtf8Size(offsets, len, idx, idxValid, m, out) → 0; stores at `out` the u64 byte total of the
 * taken strings (repeated indices can push it past 2^31: the host rejects that, utf8 offsets are i32).
 */
export function takeUtf8Size(offsets: usize, len: i32, idx: usize, idxValid: usize, m: i32, out: usize): i32 {
  let total: u64 = 0;
  for (let j = 0; j < m; j++) {
    if (!idxOk(idxValid, j)) continue;
    const i = load<i32>(at<i32>(idx, j));
    assert(<u32>i < <u32>len);
    total += <u64>(load<i32>(at<i32>(offsets, i + 1)) - load<i32>(at<i32>(offsets, i)));
  }
  store<u64>(out, total);
  return 0;
}

/** takeUtf8(offsets, bytes, len, idx, idxValid, m, outOffsets, outBytes) → m. Null index: empty string. */
export function takeUtf8(offsets: usize, bytes: usize, len: i32, idx: usize, idxValid: usize, m: i32, outOffsets: usize, outBytes: usize): i32 {
  let pos = 0;
  store<i32>(outOffsets, 0);
  for (let j = 0; j < m; j++) {
    if (idxOk(idxValid, j)) {
      const i = load<i32>(at<i32>(idx, j));
      assert(<u32>i < <u32>len);
      const start = load<i32>(at<i32>(offsets, i));
      const l = load<i32>(at<i32>(offsets, i + 1)) - start;
      memory.copy(outBytes + <usize>pos, bytes + <usize>start, <usize>l);
      pos += l;
    }
    store<i32>(at<i32>(outOffsets, j + 1), pos);
  }
  return m;
}
