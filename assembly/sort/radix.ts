// One stable sort pass of a key column over a permutation: LSD radix sort on order-preserving
// unsigned keys. A multi-key sort runs this once per key, least significant key first (the host
// drives that loop); each pass is stable, so ties keep the order the previous passes left.
//
// Key transforms (x → unsigned K, where a < b ⇔ key(a) < key(b)):
//   unsigned ints   the value itself, zero-extended to K
//   signed ints     the value's bits in its own width with the sign bit flipped (i8 -1 → 0x7f, 0 → 0x80)
//   floats          NaN → the canonical quiet NaN 0x7ff8… / 0x7fc0… (any sign, any payload), -0 → +0,
//                   then: negative → all bits flipped, else → sign bit set. So −Inf < … < −0 = +0 < … <
//                   +Inf < NaN: NaN sorts as the largest value and all NaNs are equal (they keep their
//                   input order), and -0 and +0 are equal (likewise).
//   bool            0 / 1
//   dictionary      ranks[code]: the host sorts the dictionary and passes each code's rank
// Descending inverts the key within its width (key ^ mask): the order reverses, equal keys stay
// equal, so descending is stable too (ties in input order, not reversed).
//
// Buffers (all from the host's arena; the kernel never allocates):
//
//   perm      n × i32   in: the current permutation (unless IDENTITY) · out: the new one
//   tmpPerm   n × i32   scratch for the null rows
//   recs      n × R     scratch: (key, row) records. R = u64 (key << 32 | row) for 32-bit keys,
//   tmpRecs   n × R     16 bytes (key u64, row u32, pad) for 64-bit keys
//   hist      passes × 2^digitBits × u32   scratch: one histogram per digit, all filled in one read
//
// Why records and not a key array plus a row array: a scatter pass writes into 2^digitBits
// places at once; with one record per element that is one write stream per bucket instead of
// two, which is what the caches and write-combining buffers run out of first. A 64-bit-key record
// moves as one v128 load/store.
//
// Steps:
//   1. null count: n − popcount(validity) (the permutation holds every row once, so it is the
//      count over the column).
//   2. gather + transform + histogram, one pass over the permutation: a valid row's record goes to
//      recs[j], a null row to tmpPerm[z], both in permutation order — the stable partition.
//   3. per digit, least significant first: skip it if one bucket holds every key (read in O(1):
//      the bucket of the first key's digit has count m); else turn the histogram into start
//      offsets and scatter the records to the other buffer. The last scatter writes only the
//      rows, straight into their final place in perm.
//   4. nulls go to perm[0, nulls) (nulls first) or perm[valid, n) (nulls last); valid rows fill
//      the rest (if no digit needed a scatter, the records are copied out in order).

import { DType, SortFlag } from '../shared/codes';
import { at, word, tailWord } from '../util';

/**
 * Set when a dictionary code is outside [0, rankCount) (the host reports it as out of range).
 * Module globals are per instance, i.e. per thread: this is thread-private scratch state.
 */
let badCode = false;

/** Bits of T's key: its width (bool: 1). */
// @ts-ignore: decorator
@inline function keyBits<T>(): i32 {
  return isBoolean<T>() ? 1 : <i32>sizeof<T>() << 3;
}

/** All ones in the low `bits` bits of K (bits ≤ width of K). */
// @ts-ignore: decorator
@inline function lowMask<K>(bits: i32): K {
  return bits >= <i32>sizeof<K>() << 3 ? <K>-1 : (<K>1 << <K>bits) - 1;
}

/**
 * The order-preserving unsigned key of x (see the table at the top). Also the key of the parallel
 * sort's runs and merges (assembly/runtime radix.ts, merge.ts): one transform, one order.
 */
// @ts-ignore: decorator
@inline export function toKey<T, K>(x: T): K {
  if (isFloat<T>()) {
    if (sizeof<T>() == 8) {
      let b = reinterpret<u64>(<f64>x);
      b = select<u64>(0, b, <f64>x == 0); // -0 → +0
      b = select<u64>(0x7ff8000000000000, b, <f64>x != <f64>x); // every NaN → one positive NaN
      return <K>(b ^ (<u64>(<i64>b >> 63) | 0x8000000000000000));
    }
    let b = reinterpret<u32>(<f32>x);
    b = select<u32>(0, b, <f32>x == 0);
    b = select<u32>(0x7fc00000, b, <f32>x != <f32>x);
    return <K>(b ^ (<u32>(<i32>b >> 31) | 0x80000000));
  }
  if (isSigned<T>()) {
    // Narrow signed values arrive sign-extended: mask to the value's width, then flip its sign bit.
    return (<K>x & lowMask<K>(keyBits<T>())) ^ (<K>1 << <K>(keyBits<T>() - 1));
  }
  return <K>x;
}

/** Key of `row`: a bitmap bit for bool, the code's rank for dictionaries, else the transformed value. */
// @ts-ignore: decorator
@inline function loadKey<T, K>(useRanks: bool, values: usize, ranks: usize, rankCount: i32, row: i32): K {
  if (isBoolean<T>()) return <K>((load<u8>(values + (<usize>row >>> 3)) >>> (<u32>row & 7)) & 1);
  const x = load<T>(at<T>(values, row));
  if (useRanks) {
    // Signed codes arrive sign-extended, so a negative code is a huge u64 and fails the bound too.
    const ok = <u64>x < <u64>rankCount;
    if (!ok) badCode = true;
    return <K>load<u32>(ranks + (<usize>select<u64>(<u64>x, 0, ok) << 2));
  }
  return toKey<T, K>(x);
}

/** Number of set bits among bits [0, n) of a bitmap (n for a null bitmap). */
function popcountBitmap(bitmap: usize, n: i32): i32 {
  if (bitmap == 0) return n;
  let c = 0;
  const words = n >>> 6;
  for (let w = 0; w < words; w++) c += <i32>popcnt(word(bitmap, w));
  return c + <i32>popcnt(tailWord(bitmap, n));
}

/** Byte address of record i (8 bytes for 32-bit keys, 16 for 64-bit keys). */
// @ts-ignore: decorator
@inline function recAt<K>(p: usize, i: i32): usize {
  return p + (<usize>i << (sizeof<K>() == 4 ? 3 : 4));
}

// @ts-ignore: decorator
@inline function keyOf<K>(p: usize): K {
  return sizeof<K>() == 4 ? <K>(load<u64>(p) >> 32) : <K>load<u64>(p);
}

// @ts-ignore: decorator
@inline function rowOf<K>(p: usize): i32 {
  return sizeof<K>() == 4 ? load<i32>(p) : load<i32>(p, 8);
}

/**
 * Step 2: gather each row's key through the permutation, partition nulls stably, fill every digit's
 * histogram. `hasNulls`, `identity` and `useRanks` are compile-time constants at every call site,
 * so each combination is a straight loop without per-element flag tests.
 */
// @ts-ignore: decorator
@inline function partition<T, K>(
  hasNulls: bool, identity: bool, useRanks: bool,
  values: usize, validity: usize, ranks: usize, rankCount: i32, perm: usize, n: i32,
  recs: usize, nullRows: usize, hist: usize, passes: i32, digitBits: i32, invert: K,
): void {
  const mask = (<K>1 << <K>digitBits) - 1;
  let j = 0;
  let z = 0;
  for (let i = 0; i < n; i++) {
    const row = identity ? i : load<i32>(at<i32>(perm, i));
    if (hasNulls && ((load<u8>(validity + (<usize>row >>> 3)) >>> (<u32>row & 7)) & 1) == 0) {
      store<i32>(at<i32>(nullRows, z++), row);
      continue;
    }
    const k = loadKey<T, K>(useRanks, values, ranks, rankCount, row) ^ invert;
    const r = recAt<K>(recs, j++);
    if (sizeof<K>() == 4) {
      store<u64>(r, (<u64>k << 32) | <u64><u32>row);
    } else {
      store<u64>(r, <u64>k);
      store<u64>(r, <u64><u32>row, 8);
    }
    let h = hist;
    let kk = k;
    for (let p = 0; p < passes; p++) {
      const slot = h + (<usize>(kk & mask) << 2);
      store<u32>(slot, load<u32>(slot) + 1);
      h += <usize>4 << digitBits;
      kk >>= <K>digitBits;
    }
  }
  assert(j + z == n, 'sort: partition lost rows');
}

/**
 * One stable counting-sort scatter of m records by the digit at `shift`; the last one writes only
 * rows, into `out` (perm at the valid block).
 */
// @ts-ignore: decorator
@inline function scatter<K>(last: bool, src: usize, dst: usize, out: usize, m: i32, shift: i32, mask: u32, next: usize): void {
  for (let i = 0; i < m; i++) {
    let slot: usize;
    if (sizeof<K>() == 4) {
      const rec = load<u64>(recAt<K>(src, i));
      slot = next + (<usize>(<u32>(rec >> <u64>(32 + shift)) & mask) << 2);
      const pos = load<u32>(slot);
      store<u32>(slot, pos + 1);
      // UNCHECKED: pos < m because the histogram counted exactly these m keys, so the offsets of
      // a bucket run over [start, start + count) ⊂ [0, m).
      if (last) store<i32>(at<i32>(out, <i32>pos), <i32>rec);
      else store<u64>(recAt<K>(dst, <i32>pos), rec);
    } else {
      const rec = v128.load(recAt<K>(src, i));
      slot = next + (<usize>(<u32>(<u64>i64x2.extract_lane(rec, 0) >> <u64>shift) & mask) << 2);
      const pos = load<u32>(slot);
      store<u32>(slot, pos + 1);
      if (last) store<i32>(at<i32>(out, <i32>pos), i32x4.extract_lane(rec, 2));
      else v128.store(recAt<K>(dst, <i32>pos), rec);
    }
  }
}

/** The driver for one key type: steps 1-4. Returns the number of scatters run, −2 for a bad code. */
// @ts-ignore: decorator
@inline function drive<T, K>(
  useRanks: bool, values: usize, validity: usize, ranks: usize, rankCount: i32, rankBits: i32, n: i32,
  perm: usize, tmpPerm: usize, recs: usize, tmpRecs: usize, hist: usize, flags: i32, digitBits: i32,
): i32 {
  const bits = useRanks ? rankBits : keyBits<T>();
  const passes = (bits + digitBits - 1) / digitBits;
  const buckets = 1 << digitBits;
  const identity = (flags & SortFlag.IDENTITY) != 0;
  const invert: K = (flags & SortFlag.DESCENDING) != 0 ? lowMask<K>(bits) : 0;
  const valid = popcountBitmap(validity, n);
  const nulls = n - valid;
  const vb = (flags & SortFlag.NULLS_FIRST) != 0 ? nulls : 0;
  const nb = (flags & SortFlag.NULLS_FIRST) != 0 ? 0 : valid;
  badCode = false;
  memory.fill(hist, 0, <usize>passes << (digitBits + 2));

  // Step 2, one specialised loop per (nulls?, identity?) — ranks are a separate instantiation.
  if (nulls != 0) {
    if (identity) partition<T, K>(true, true, useRanks, values, validity, ranks, rankCount, perm, n, recs, tmpPerm, hist, passes, digitBits, invert);
    else partition<T, K>(true, false, useRanks, values, validity, ranks, rankCount, perm, n, recs, tmpPerm, hist, passes, digitBits, invert);
  } else {
    if (identity) partition<T, K>(false, true, useRanks, values, validity, ranks, rankCount, perm, n, recs, tmpPerm, hist, passes, digitBits, invert);
    else partition<T, K>(false, false, useRanks, values, validity, ranks, rankCount, perm, n, recs, tmpPerm, hist, passes, digitBits, invert);
  }
  if (badCode) return -2;

  // Step 3: find the last digit that is not constant; every later digit is skipped.
  const m = valid;
  let last = -1;
  if (m > 1) {
    const k0 = keyOf<K>(recs);
    for (let p = 0; p < passes; p++) {
      const h = hist + (<usize>p << (digitBits + 2));
      const d = <i32>((k0 >> <K>(p * digitBits)) & <K>(buckets - 1));
      if (load<u32>(h + (<usize>d << 2)) != <u32>m) last = p;
    }
  }
  let src = recs, dst = tmpRecs;
  const out = at<i32>(perm, vb);
  let scatters = 0;
  for (let p = 0; p <= last; p++) {
    const h = hist + (<usize>p << (digitBits + 2));
    const d = <i32>((keyOf<K>(src) >> <K>(p * digitBits)) & <K>(buckets - 1));
    if (p < last && load<u32>(h + (<usize>d << 2)) == <u32>m) continue; // constant digit: the pass would be the identity
    // Counts → exclusive start offsets, in place.
    let sum: u32 = 0;
    for (let b = 0; b < buckets; b++) {
      const slot = h + (<usize>b << 2);
      const c = load<u32>(slot);
      store<u32>(slot, sum);
      sum += c;
    }
    assert(sum == <u32>m, 'sort: histogram does not match the valid count');
    const mask = <u32>(buckets - 1);
    if (p == last) scatter<K>(true, src, dst, out, m, p * digitBits, mask, h);
    else scatter<K>(false, src, dst, out, m, p * digitBits, mask, h);
    const t = src; src = dst; dst = t;
    scatters++;
  }

  // Step 4. Without a scatter the records are already in order (all keys equal, or m ≤ 1).
  if (last < 0) {
    for (let i = 0; i < m; i++) store<i32>(at<i32>(out, i), rowOf<K>(recAt<K>(recs, i)));
  }
  if (nulls != 0) memory.copy(at<i32>(perm, nb), tmpPerm, <usize>nulls << 2);
  return scatters;
}

/** Type dispatch for plain keys. The key width follows the value width: ≤ 4 bytes → u32, else u64. */
export function radixPass(
  dtype: i32, values: usize, validity: usize, n: i32,
  perm: usize, tmpPerm: usize, recs: usize, tmpRecs: usize, hist: usize, flags: i32, digitBits: i32,
): i32 {
  switch (dtype) {
    case DType.I8: return drive<i8, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.I16: return drive<i16, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.I32: return drive<i32, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.I64: return drive<i64, u64>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U8: return drive<u8, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U16: return drive<u16, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U32: return drive<u32, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U64: return drive<u64, u64>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.F32: return drive<f32, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.F64: return drive<f64, u64>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.BOOL: return drive<bool, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    default: return -1;
  }
}

/** Dispatch for dictionary codes (integer code types): key = ranks[code], `rankBits` wide (u32 keys). */
export function radixRankPass(
  dtype: i32, codes: usize, validity: usize, ranks: usize, rankCount: i32, rankBits: i32, n: i32,
  perm: usize, tmpPerm: usize, recs: usize, tmpRecs: usize, hist: usize, flags: i32, digitBits: i32,
): i32 {
  switch (dtype) {
    case DType.I8: return drive<i8, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.I16: return drive<i16, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.I32: return drive<i32, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.I64: return drive<i64, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U8: return drive<u8, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U16: return drive<u16, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U32: return drive<u32, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    case DType.U64: return drive<u64, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, recs, tmpRecs, hist, flags, digitBits);
    default: return -1;
  }
}
