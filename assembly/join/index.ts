// Hash join: the build side's keys are numbered by the group-by hash table (groupIdsHash, table.ts),
// its rows are listed per group (joinBuckets), and the probe side looks its keys up in that table
// without inserting (joinProbe), writing (probe row, build row) pairs into host buffers.
//
// Host protocol (src/kernels/join.ts):
//   1. groupIdsHash over the build keys, into a table sized so that it never fills (capacity ≥ 2 ×
//      build rows): ids per build row, firstRow per group. The host then gathers each group's key
//      (`take` by firstRow): the probe compares against row g of those *group keys*, so a lookup is
//      two dependent loads (slot, then the group's key) instead of three (slot, firstRow, key) — the
//      probe is bound by cache misses into a table bigger than L2.
//   2. joinBuckets(ids, m, groups, start, rows): start[g] .. start[g + 1] index `rows`, the build rows
//      of group g in ascending order (a counting sort). Skipped when every build key is distinct
//      (groups = m, the usual primary-key side): then group g is the one row firstRow[g], passed as
//      `rows` with start = 0, which saves two more dependent loads per probe row.
//   3. joinProbe(...) from probe row 0. Output is host-grown, like the group-by table: before a probe
//      row whose pairs do not fit in `cap`, the kernel stops and returns that row; the host copies
//      the pairs into buffers twice as big and calls again from that row with `written` pairs kept.
//      A probe row's pairs are never split across calls, and no row is skipped or written twice.
//   4. joinValidity: for a left join, the validity of the build-row column (−1 = no match → null).
//
// Semantics: a probe row with a null in any key column matches nothing (SQL: null = x is never
// true), and a build row with a null key is never matched (keys are compared with their validity).
// Equal keys: as in group-by (floats −0 = +0 and NaN = NaN, strings by bytes). Pairs come out in
// probe-row order, each probe row's matches in build-row order.

import { DType } from '../shared/codes';
import { at, bit } from '../util';
import { T_SLOTS, T_CAPACITY } from '../groupby/table';
import { hashKeys, keysEqualAcross, eqAcross, KEY_BYTES, K_KIND, K_VALUES, K_VALIDITY } from '../groupby/keys';

/** Probe rows hashed per batch (8 KiB of hashes, kept in L1 while the batch is looked up). */
const CHUNK: i32 = 1024;

/**
 * joinBuckets(ids, m, groups, start, rows): a counting sort of build rows by group id. `start` holds
 * groups + 1 i32 (written here), `rows` m i32. Every id must be in [0, groups) (groupIdsHash's are).
 */
export function joinBuckets(ids: usize, m: i32, groups: i32, start: usize, rows: usize): void {
  for (let g = 0; g <= groups; g++) store<i32>(at<i32>(start, g), 0);
  // Counts at g + 1, then prefix sums: start[g] = first slot of group g.
  for (let i = 0; i < m; i++) {
    const p = at<i32>(start, load<i32>(at<i32>(ids, i)) + 1);
    store<i32>(p, load<i32>(p) + 1);
  }
  for (let g = 0; g < groups; g++) store<i32>(at<i32>(start, g + 1), load<i32>(at<i32>(start, g + 1)) + load<i32>(at<i32>(start, g)));
  // Fill with start[g] as the cursor (it ends at group g's end = start[g + 1]), then shift back.
  for (let i = 0; i < m; i++) {
    const p = at<i32>(start, load<i32>(at<i32>(ids, i)));
    const k = load<i32>(p);
    store<i32>(at<i32>(rows, k), i);
    store<i32>(p, k + 1);
  }
  for (let g = groups; g > 0; g--) store<i32>(at<i32>(start, g), load<i32>(at<i32>(start, g - 1)));
  store<i32>(start, 0);
}

// @ts-ignore: decorator
@inline function field(keys: usize, k: i32, off: usize): usize {
  return <usize>load<u32>(keys + <usize>k * KEY_BYTES + off);
}

/** Is any key column of row i null? */
// @ts-ignore: decorator
@inline function anyNull(keys: usize, nkeys: i32, i: i32): bool {
  for (let k = 0; k < nkeys; k++) if (!bit(field(keys, k, K_VALIDITY), i)) return true;
  return false;
}

/**
 * The probe loop. With `single` (one fixed-width key column, compile-time T), keys compare inline as
 * T: the common case, where the generic comparison's per-column type switch would dominate a row.
 * `left`: a probe row without a match still gets one pair, with build row −1.
 */
// @ts-ignore: decorator
@inline function probe<T>(single: bool, left: bool, pk: usize, bk: usize, nkeys: i32, from: i32, n: i32, table: usize, bstart: usize, brows: usize, outP: usize, outB: usize, written: i32, cap: i32, hashes: usize, state: usize): i32 {
  const slots = <usize>load<u32>(table + T_SLOTS);
  const mask = load<u32>(table + T_CAPACITY) - 1;
  const pv = field(pk, 0, K_VALUES);
  const pvalid = field(pk, 0, K_VALIDITY);
  const bv = field(bk, 0, K_VALUES);
  const bvalid = field(bk, 0, K_VALIDITY);
  let w = written;
  // Group ids of a chunk's rows overwrite its hashes as i32: gids[j] (bytes 4j..4j+4) is written
  // after hash j (bytes 8j..8j+8) was read and before any later hash (≥ 8j + 8) is.
  const gids = hashes;
  for (let c = from; c < n; c += CHUNK) {
    const m = min(CHUNK, n - c);
    hashKeys(pk, nkeys, c, m, hashes);
    // 1. The group of each row (−1: null key or no match). Two tight loops instead of one: the
    //    lookup loop keeps few values live (V8 spills fewer registers) and the emit loop below is
    //    branch-light; together about half the time of the fused loop (1 M rows, small table).
    for (let j = 0; j < m; j++) {
      const i = c + j;
      let g = -1;
      if (single ? bit(pvalid, i) : !anyNull(pk, nkeys, i)) {
        const tag = <u32>(load<u64>(hashes + (<usize>j << 3)) >>> 32);
        let idx = tag & mask;
        // Terminates: the table is at most half full, so an empty slot exists.
        for (;;) {
          const s = load<u64>(slots + (<usize>idx << 3));
          if (s == 0) break;
          if (<u32>(s >>> 32) == tag) {
            const cand = <i32>(<u32>s - 1);
            // The group's key may be null (a null group): its bytes are not a key, so check validity.
            if (single ? bit(bvalid, cand) && eqAcross<T>(pv, i, bv, cand) : keysEqualAcross(pk, i, bk, cand, nkeys)) {
              g = cand;
              break;
            }
          }
          idx = (idx + 1) & mask;
        }
      }
      store<i32>(gids + (<usize>j << 2), g);
    }
    // 2. The pairs. Distinct build keys (bstart = 0) give at most one pair per row: when the whole
    //    chunk fits, no per-row capacity check.
    if (bstart == 0 && cap - w >= m) {
      for (let j = 0; j < m; j++) {
        const g = load<i32>(gids + (<usize>j << 2));
        if (g >= 0 || left) {
          store<i32>(at<i32>(outP, w), c + j);
          store<i32>(at<i32>(outB, w), g >= 0 ? load<i32>(at<i32>(brows, g)) : -1);
          w++;
        }
      }
      continue;
    }
    for (let j = 0; j < m; j++) {
      const i = c + j;
      const g = load<i32>(gids + (<usize>j << 2));
      // Distinct build keys (bstart = 0): group g is row brows[g].
      const lo = g < 0 ? 0 : bstart == 0 ? g : load<i32>(at<i32>(bstart, g));
      const hi = g < 0 ? 0 : bstart == 0 ? g + 1 : load<i32>(at<i32>(bstart, g + 1));
      const need = hi > lo ? hi - lo : (left ? 1 : 0);
      if (need > cap - w) {
        store<i32>(state, w);
        return i; // full: the host grows the output and calls again from row i
      }
      if (hi > lo) {
        for (let k = lo; k < hi; k++) {
          store<i32>(at<i32>(outP, w), i);
          store<i32>(at<i32>(outB, w), load<i32>(at<i32>(brows, k)));
          w++;
        }
      } else if (left) {
        store<i32>(at<i32>(outP, w), i);
        store<i32>(at<i32>(outB, w), -1);
        w++;
      }
    }
  }
  store<i32>(state, w);
  return n;
}

function probeHow<T>(single: bool, left: bool, pk: usize, bk: usize, nkeys: i32, from: i32, n: i32, table: usize, bstart: usize, brows: usize, outP: usize, outB: usize, written: i32, cap: i32, hashes: usize, state: usize): i32 {
  // Four instantiations per T: `single` and `left` folded out of the loop.
  if (single) {
    if (left) return probe<T>(true, true, pk, bk, nkeys, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
    return probe<T>(true, false, pk, bk, nkeys, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
  }
  if (left) return probe<T>(false, true, pk, bk, nkeys, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
  return probe<T>(false, false, pk, bk, nkeys, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
}

/**
 * joinProbe(pk, bk, nkeys, from, n, table, bstart, brows, outP, outB, written, cap, left, hashes, state)
 * → the first probe row not yet done (n: done); the number of pairs in outP/outB is stored as an i32
 * at `state`. pk: key descriptors of the probe keys; bk: of the build keys gathered per group (row g
 * = group g's key; same kinds column by column); table: the build side's group table; bstart / brows:
 * joinBuckets' output, or bstart = 0 and brows = firstRow when the build keys are distinct; outP / outB: cap i32
 * each, the first `written` already filled; hashes: CHUNK × 8 bytes of scratch.
 */
export function joinProbe(pk: usize, bk: usize, nkeys: i32, from: i32, n: i32, table: usize, bstart: usize, brows: usize, outP: usize, outB: usize, written: i32, cap: i32, left: i32, hashes: usize, state: usize): i32 {
  const l = left != 0;
  if (nkeys == 1) {
    switch (load<i32>(pk + K_KIND)) {
      // Integers compare by bits, so signedness does not matter: one instantiation per width.
      case DType.I8: case DType.U8: return probeHow<u8>(true, l, pk, bk, 1, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
      case DType.I16: case DType.U16: return probeHow<u16>(true, l, pk, bk, 1, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
      case DType.I32: case DType.U32: return probeHow<u32>(true, l, pk, bk, 1, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
      case DType.I64: case DType.U64: return probeHow<u64>(true, l, pk, bk, 1, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
      case DType.F32: return probeHow<f32>(true, l, pk, bk, 1, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
      case DType.F64: return probeHow<f64>(true, l, pk, bk, 1, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
      default: break; // bool, utf8: the generic comparison
    }
  }
  return probeHow<u8>(false, l, pk, bk, nkeys, from, n, table, bstart, brows, outP, outB, written, cap, hashes, state);
}

/**
 * joinValidity(rows, n, out) → null count. Bit i of `out` (ceil(n/8) bytes written, padding bits 0)
 * is set where rows[i] ≥ 0: the validity of a left join's build-row column.
 */
export function joinValidity(rows: usize, n: i32, out: usize): i32 {
  let valid = 0;
  for (let b = 0; b < (n + 7) >>> 3; b++) {
    let byte: u32 = 0;
    const base = b << 3;
    const end = min(8, n - base);
    for (let j = 0; j < end; j++) if (load<i32>(at<i32>(rows, base + j)) >= 0) byte |= 1 << j;
    store<u8>(out + <usize>b, <u8>byte);
    valid += <i32>popcnt(byte);
  }
  return n - valid;
}
