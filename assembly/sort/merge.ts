// One stable sort pass of a utf8 key over a permutation: strings order by their UTF-8 bytes
// (unsigned, lexicographic; a proper prefix sorts first) — which is also code point order.
//
// Method: a stable bottom-up merge sort of (prefix, row) pairs. `prefix` is the string's first 8
// bytes read big-endian and zero-padded, so comparing two prefixes as u64 decides most
// comparisons from a sequential buffer; only equal prefixes fall back to comparing the bytes
// themselves (random access into the data). Zero padding makes "a" and "a\0" tie on the prefix;
// the byte comparison then breaks the tie by length, so the order is exact.
// Descending inverts the prefix and the byte comparison; ties still keep their input order.
//
// Buffers as in radix.ts: perm (in/out), tmpPerm, keys and tmpKeys (n × u64 prefixes). Nulls are
// partitioned stably to the front or back first; only the valid block is merge sorted.
//
// Runs of RUN elements are insertion sorted in place first (stable: an element moves only past
// strictly greater ones), then merged pairwise, ping-ponging between the two buffer pairs.

import { SortFlag } from '../shared/codes';
import { at, word, tailWord } from '../util';

const RUN = 16;

/**
 * −1 / 0 / 1: bytes of row a vs row b. Called only when their prefixes are equal, so if both have
 * 8 bytes or more the first 8 are known equal and skipped.
 */
// @ts-ignore: decorator
@inline function compareBytes(offsets: usize, data: usize, a: i32, b: i32): i32 {
  const oa = load<i32>(at<i32>(offsets, a));
  const la = load<i32>(at<i32>(offsets, a + 1)) - oa;
  const ob = load<i32>(at<i32>(offsets, b));
  const lb = load<i32>(at<i32>(offsets, b + 1)) - ob;
  const len = min(la, lb);
  const pa = data + <usize>oa;
  const pb = data + <usize>ob;
  let i = len >= 8 ? 8 : 0;
  // 8 bytes at a time while both strings have 8 left (so no load leaves either string).
  while (i + 8 <= len) {
    const x = load<u64>(pa + <usize>i);
    const y = load<u64>(pb + <usize>i);
    if (x != y) return bswap<u64>(x) < bswap<u64>(y) ? -1 : 1;
    i += 8;
  }
  while (i < len) {
    const x = load<u8>(pa + <usize>i);
    const y = load<u8>(pb + <usize>i);
    if (x != y) return x < y ? -1 : 1;
    i++;
  }
  return la < lb ? -1 : la > lb ? 1 : 0;
}

/** First 8 bytes of row r, big-endian, zero-padded. */
// @ts-ignore: decorator
@inline function prefixOf(offsets: usize, data: usize, r: i32): u64 {
  const o = load<i32>(at<i32>(offsets, r));
  const len = load<i32>(at<i32>(offsets, r + 1)) - o;
  const p = data + <usize>o;
  if (len >= 8) return bswap<u64>(load<u64>(p));
  let k: u64 = 0;
  for (let i = 0; i < len; i++) k |= <u64>load<u8>(p + <usize>i) << <u64>(56 - (i << 3));
  return k;
}

/** Must (ka, ra) come strictly before (kb, rb)? `desc` is a constant at every call site. */
// @ts-ignore: decorator
@inline function before(desc: bool, offsets: usize, data: usize, ka: u64, ra: i32, kb: u64, rb: i32): bool {
  if (ka != kb) return ka < kb; // prefixes are already inverted for descending
  const c = compareBytes(offsets, data, ra, rb);
  return desc ? c > 0 : c < 0;
}

/** Merge [lo, mid) and [mid, hi) of (sk, sp) into (dk, dp). Stable: on a tie the left run wins. */
// @ts-ignore: decorator
@inline function mergeRuns(desc: bool, offsets: usize, data: usize, sk: usize, sp: usize, dk: usize, dp: usize, lo: i32, mid: i32, hi: i32): void {
  let i = lo, j = mid, o = lo;
  while (i < mid && j < hi) {
    const ki = load<u64>(at<u64>(sk, i)), kj = load<u64>(at<u64>(sk, j));
    const ri = load<i32>(at<i32>(sp, i)), rj = load<i32>(at<i32>(sp, j));
    if (before(desc, offsets, data, kj, rj, ki, ri)) {
      store<u64>(at<u64>(dk, o), kj);
      store<i32>(at<i32>(dp, o), rj);
      j++;
    } else {
      store<u64>(at<u64>(dk, o), ki);
      store<i32>(at<i32>(dp, o), ri);
      i++;
    }
    o++;
  }
  if (i < mid) {
    memory.copy(at<u64>(dk, o), at<u64>(sk, i), <usize>(mid - i) << 3);
    memory.copy(at<i32>(dp, o), at<i32>(sp, i), <usize>(mid - i) << 2);
  } else if (j < hi) {
    memory.copy(at<u64>(dk, o), at<u64>(sk, j), <usize>(hi - j) << 3);
    memory.copy(at<i32>(dp, o), at<i32>(sp, j), <usize>(hi - j) << 2);
  }
}

/** Sorts m pairs at (k0, p0) using (k1, p1) as scratch. Returns true if the result is in (k1, p1). */
// @ts-ignore: decorator
@inline function mergeSort(desc: bool, offsets: usize, data: usize, k0: usize, p0: usize, k1: usize, p1: usize, m: i32): bool {
  for (let lo = 0; lo < m; lo += RUN) {
    const hi = min(lo + RUN, m);
    for (let i = lo + 1; i < hi; i++) {
      const k = load<u64>(at<u64>(k0, i));
      const r = load<i32>(at<i32>(p0, i));
      let j = i;
      while (j > lo) {
        const pk = load<u64>(at<u64>(k0, j - 1));
        const pr = load<i32>(at<i32>(p0, j - 1));
        if (!before(desc, offsets, data, k, r, pk, pr)) break;
        store<u64>(at<u64>(k0, j), pk);
        store<i32>(at<i32>(p0, j), pr);
        j--;
      }
      store<u64>(at<u64>(k0, j), k);
      store<i32>(at<i32>(p0, j), r);
    }
  }
  let sk = k0, sp = p0, dk = k1, dp = p1;
  let swapped = false;
  for (let width = RUN; width < m; width <<= 1) {
    for (let lo = 0; lo < m; lo += width << 1) {
      const mid = min(lo + width, m);
      const hi = min(lo + (width << 1), m);
      mergeRuns(desc, offsets, data, sk, sp, dk, dp, lo, mid, hi);
    }
    const tk = sk; sk = dk; dk = tk;
    const tp = sp; sp = dp; dp = tp;
    swapped = !swapped;
  }
  return swapped;
}

/**
 * Stable argsort pass over a utf8 key. Returns the number of merge rounds (≥ 0), or −2 if the
 * offsets are not non-decreasing (the host checked offsets[0] ≥ 0 and that offsets[n] lies in
 * memory; with monotone offsets every string does).
 */
export function utf8Pass(
  offsets: usize, data: usize, validity: usize, n: i32,
  perm: usize, tmpPerm: usize, keys: usize, tmpKeys: usize, flags: i32,
): i32 {
  for (let i = 0; i < n; i++) {
    if (load<i32>(at<i32>(offsets, i + 1)) < load<i32>(at<i32>(offsets, i))) return -2;
  }
  const identity = (flags & SortFlag.IDENTITY) != 0;
  const desc = (flags & SortFlag.DESCENDING) != 0;
  const invert: u64 = desc ? <u64>-1 : 0;
  let valid = n;
  if (validity != 0) {
    valid = 0;
    for (let w = 0; w < (n >>> 6); w++) valid += <i32>popcnt(word(validity, w));
    valid += <i32>popcnt(tailWord(validity, n));
  }
  const nulls = n - valid;
  const vb = (flags & SortFlag.NULLS_FIRST) != 0 ? nulls : 0;
  let j = vb;
  let z = (flags & SortFlag.NULLS_FIRST) != 0 ? 0 : valid;
  const nb = z;
  for (let i = 0; i < n; i++) {
    const row = identity ? i : load<i32>(at<i32>(perm, i));
    if (validity != 0 && ((load<u8>(validity + (<usize>row >>> 3)) >>> (<u32>row & 7)) & 1) == 0) {
      store<i32>(at<i32>(tmpPerm, z++), row);
      continue;
    }
    store<u64>(at<u64>(keys, j), prefixOf(offsets, data, row) ^ invert);
    store<i32>(at<i32>(tmpPerm, j++), row);
  }
  assert(j - vb == valid && z - nb == nulls, 'sort: utf8 partition lost rows');

  const k0 = at<u64>(keys, vb), p0 = at<i32>(tmpPerm, vb);
  const k1 = at<u64>(tmpKeys, vb), p1 = at<i32>(perm, vb);
  const inPerm = desc
    ? mergeSort(true, offsets, data, k0, p0, k1, p1, valid)
    : mergeSort(false, offsets, data, k0, p0, k1, p1, valid);
  // As in radix.ts: bring everything into perm.
  if (inPerm) {
    if (nulls != 0) memory.copy(at<i32>(perm, nb), at<i32>(tmpPerm, nb), <usize>nulls << 2);
  } else {
    memory.copy(perm, tmpPerm, <usize>n << 2);
  }
  let rounds = 0;
  for (let w = RUN; w < valid; w <<= 1) rounds++;
  return rounds;
}
