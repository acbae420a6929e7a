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
//   tmpPerm   n × i32   scratch
//   keys      n × K     scratch (K = u32 for ≤ 4-byte values, u64 for 8-byte values)
//   tmpKeys   n × K     scratch
//   hist      passes × 2^digitBits × u32   scratch: one histogram per digit, all filled in one read
//
// Steps:
//   1. null count: n − popcount(validity) (the permutation holds every row once, so it is the
//      count over the column).
//   2. gather + transform + histogram, one pass over the permutation: a valid row's key goes to
//      keys[vb + j] and its row id to tmpPerm[vb + j]; a null row goes to tmpPerm[nb + z]. With
//      nulls first vb = nulls, nb = 0; else vb = 0, nb = valid. That is the stable partition.
//   3. per digit, least significant first: skip it if one bucket holds every key (read in O(1):
//      the bucket of the first key's digit has count m); else turn the histogram into start
//      offsets and scatter (key, row) pairs from one buffer pair to the other. The last scatter
//      writes only rows (its keys are never read again).
//   4. the rows end in tmpPerm or perm depending on how many scatters ran; copy what is needed so
//      the whole result is in perm.

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

/** The order-preserving unsigned key of x (see the table at the top). */
// @ts-ignore: decorator
@inline function toKey<T, K>(x: T): K {
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

/**
 * Step 2: gather each row's key through the permutation, partition nulls stably, fill every digit's
 * histogram. `hasNulls`, `identity` and `useRanks` are compile-time constants at every call site,
 * so each combination is a straight loop without per-element flag tests.
 */
// @ts-ignore: decorator
@inline function partition<T, K>(
  hasNulls: bool, identity: bool, useRanks: bool,
  values: usize, validity: usize, ranks: usize, rankCount: i32, perm: usize, n: i32,
  keys: usize, outPerm: usize, vb: i32, nb: i32, hist: usize, passes: i32, digitBits: i32, invert: K,
): void {
  const mask = (<K>1 << <K>digitBits) - 1;
  let j = vb;
  let z = nb;
  for (let i = 0; i < n; i++) {
    const row = identity ? i : load<i32>(at<i32>(perm, i));
    if (hasNulls && ((load<u8>(validity + (<usize>row >>> 3)) >>> (<u32>row & 7)) & 1) == 0) {
      store<i32>(at<i32>(outPerm, z++), row);
      continue;
    }
    const k = loadKey<T, K>(useRanks, values, ranks, rankCount, row) ^ invert;
    store<K>(at<K>(keys, j), k);
    store<i32>(at<i32>(outPerm, j++), row);
    let h = hist;
    let kk = k;
    for (let p = 0; p < passes; p++) {
      const slot = h + (<usize>(kk & mask) << 2);
      store<u32>(slot, load<u32>(slot) + 1);
      h += <usize>4 << digitBits;
      kk >>= <K>digitBits;
    }
  }
  assert(!hasNulls || (j - vb) + (z - nb) == n, 'sort: partition lost rows');
}

/** One stable counting-sort scatter of m (key, row) pairs by the digit at `shift`. */
// @ts-ignore: decorator
@inline function scatter<K>(
  writeKeys: bool, srcK: usize, srcP: usize, dstK: usize, dstP: usize, m: i32, shift: i32, mask: K, next: usize,
): void {
  for (let i = 0; i < m; i++) {
    const k = load<K>(at<K>(srcK, i));
    const slot = next + (<usize>((k >> <K>shift) & mask) << 2);
    const pos = load<u32>(slot);
    store<u32>(slot, pos + 1);
    // UNCHECKED: pos < m because the histogram counted exactly these m keys, so the offsets of
    // a bucket run over [start, start + count) ⊂ [0, m).
    if (writeKeys) store<K>(at<K>(dstK, <i32>pos), k);
    store<i32>(at<i32>(dstP, <i32>pos), load<i32>(at<i32>(srcP, i)));
  }
}

/** The driver for one key type: steps 1-4. Returns the number of scatters run, −2 for a bad code. */
// @ts-ignore: decorator
@inline function drive<T, K>(
  useRanks: bool, values: usize, validity: usize, ranks: usize, rankCount: i32, rankBits: i32, n: i32,
  perm: usize, tmpPerm: usize, keys: usize, tmpKeys: usize, hist: usize, flags: i32, digitBits: i32,
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
    if (identity) partition<T, K>(true, true, useRanks, values, validity, ranks, rankCount, perm, n, keys, tmpPerm, vb, nb, hist, passes, digitBits, invert);
    else partition<T, K>(true, false, useRanks, values, validity, ranks, rankCount, perm, n, keys, tmpPerm, vb, nb, hist, passes, digitBits, invert);
  } else {
    if (identity) partition<T, K>(false, true, useRanks, values, validity, ranks, rankCount, perm, n, keys, tmpPerm, vb, nb, hist, passes, digitBits, invert);
    else partition<T, K>(false, false, useRanks, values, validity, ranks, rankCount, perm, n, keys, tmpPerm, vb, nb, hist, passes, digitBits, invert);
  }
  if (badCode) return -2;

  // Step 3 over the valid block [vb, vb + valid). Pairs start in (keys, tmpPerm).
  const m = valid;
  let srcK = at<K>(keys, vb), srcP = at<i32>(tmpPerm, vb);
  let dstK = at<K>(tmpKeys, vb), dstP = at<i32>(perm, vb);
  let last = -1;
  if (m > 1) {
    const k0 = load<K>(srcK);
    for (let p = 0; p < passes; p++) {
      const h = hist + (<usize>p << (digitBits + 2));
      const d = <i32>((k0 >> <K>(p * digitBits)) & <K>(buckets - 1));
      if (load<u32>(h + (<usize>d << 2)) != <u32>m) last = p;
    }
  }
  let scatters = 0;
  for (let p = 0; p <= last; p++) {
    const h = hist + (<usize>p << (digitBits + 2));
    const d = <i32>((load<K>(srcK) >> <K>(p * digitBits)) & <K>(buckets - 1));
    if (load<u32>(h + (<usize>d << 2)) == <u32>m) continue; // constant digit: the pass would be the identity
    // Counts → exclusive start offsets, in place.
    let sum: u32 = 0;
    for (let b = 0; b < buckets; b++) {
      const slot = h + (<usize>b << 2);
      const c = load<u32>(slot);
      store<u32>(slot, sum);
      sum += c;
    }
    assert(sum == <u32>m, 'sort: histogram does not match the valid count');
    const mask = <K>(buckets - 1);
    if (p == last) scatter<K>(false, srcK, srcP, dstK, dstP, m, p * digitBits, mask, h);
    else scatter<K>(true, srcK, srcP, dstK, dstP, m, p * digitBits, mask, h);
    const tk = srcK; srcK = dstK; dstK = tk;
    const tp = srcP; srcP = dstP; dstP = tp;
    scatters++;
  }

  // Step 4: after an odd number of scatters the valid rows are in perm, the null rows still in
  // tmpPerm; after an even number (0 included) everything is in tmpPerm.
  if ((scatters & 1) == 1) {
    if (nulls != 0) memory.copy(at<i32>(perm, nb), at<i32>(tmpPerm, nb), <usize>nulls << 2);
  } else {
    memory.copy(perm, tmpPerm, <usize>n << 2);
  }
  return scatters;
}

/** Type dispatch for plain keys. The key width follows the value width: ≤ 4 bytes → u32, else u64. */
export function radixPass(
  dtype: i32, values: usize, validity: usize, n: i32,
  perm: usize, tmpPerm: usize, keys: usize, tmpKeys: usize, hist: usize, flags: i32, digitBits: i32,
): i32 {
  switch (dtype) {
    case DType.I8: return drive<i8, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.I16: return drive<i16, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.I32: return drive<i32, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.I64: return drive<i64, u64>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U8: return drive<u8, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U16: return drive<u16, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U32: return drive<u32, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U64: return drive<u64, u64>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.F32: return drive<f32, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.F64: return drive<f64, u64>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.BOOL: return drive<bool, u32>(false, values, validity, 0, 0, 0, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    default: return -1;
  }
}

/** Dispatch for dictionary codes (integer code types): key = ranks[code], `rankBits` wide (u32 keys). */
export function radixRankPass(
  dtype: i32, codes: usize, validity: usize, ranks: usize, rankCount: i32, rankBits: i32, n: i32,
  perm: usize, tmpPerm: usize, keys: usize, tmpKeys: usize, hist: usize, flags: i32, digitBits: i32,
): i32 {
  switch (dtype) {
    case DType.I8: return drive<i8, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.I16: return drive<i16, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.I32: return drive<i32, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.I64: return drive<i64, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U8: return drive<u8, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U16: return drive<u16, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U32: return drive<u32, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    case DType.U64: return drive<u64, u32>(true, codes, validity, ranks, rankCount, rankBits, n, perm, tmpPerm, keys, tmpKeys, hist, flags, digitBits);
    default: return -1;
  }
}
