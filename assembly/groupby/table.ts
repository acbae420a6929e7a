// The hash path of group-by: an open-addressing table (linear probing, power-of-two capacity, load
// factor ≤ 1/2) that gives every row a group id, in order of first appearance.
//
// The host allocates everything (kernels never allocate) and owns growth: when the table holds
// capacity/2 groups and a row needs a new one, the kernel stops *before* that row and returns its
// index; the host allocates a table twice as big (and a bigger firstRow array), calls `groupRehash`,
// and calls `groupIdsHash` again from that row. No row is assigned twice and none is skipped.
//
// Table record (host-allocated, 16 bytes, u32 words):
//
//   +0   slots     capacity × u64, zeroed by the host before first use
//   +4   capacity  a power of two
//   +8   groups    groups found so far (the kernel updates it before returning)
//   +12  firstRow  capacity/2 × i32: the first row of each group (the row whose keys it has)
//
// Slot (u64): 0 = empty, else  tag << 32 | (group id + 1)   where tag = hash >>> 32.
// The home index is tag & (capacity − 1), so rehashing needs only the slots, never the keys, and a
// probe compares keys only when the 32-bit tags match (false matches: ~1 in 4 billion per probe).

import { DType } from '../shared/codes';
import { hashKeys, keysEqual, eqAt, K_KIND, K_VALUES, K_VALIDITY } from './keys';

export const T_SLOTS: usize = 0;
export const T_CAPACITY: usize = 4;
export const T_GROUPS: usize = 8;
export const T_FIRST_ROW: usize = 12;

/** Rows hashed per batch: 8 KiB of hashes, which stay in L1 while the batch is probed. */
const CHUNK: i32 = 1024;

/**
 * The probe loop. With `single` (one fixed-width key column without nulls, compile-time), keys are
 * compared inline as T — the common case, and the one where a call to the generic multi-column
 * comparison (a type switch per column) would dominate the cost of a row.
 */
// @ts-ignore: decorator
@inline function probe<T>(single: bool, keys: usize, nkeys: i32, start: i32, n: i32, table: usize, ids: usize, hashes: usize): i32 {
  const slots = <usize>load<u32>(table + T_SLOTS);
  const capacity = load<u32>(table + T_CAPACITY);
  const mask = capacity - 1;
  const maxGroups = capacity >>> 1;
  const firstRow = <usize>load<u32>(table + T_FIRST_ROW);
  const values = <usize>load<u32>(keys + K_VALUES);
  let groups = load<u32>(table + T_GROUPS);
  assert(capacity >= 2 && (capacity & mask) == 0, 'groupIdsHash: capacity must be a power of two');
  for (let c = start; c < n; c += CHUNK) {
    const m = min(CHUNK, n - c);
    hashKeys(keys, nkeys, c, m, hashes);
    for (let j = 0; j < m; j++) {
      const i = c + j;
      const tag = <u32>(load<u64>(hashes + (<usize>j << 3)) >>> 32);
      let idx = tag & mask;
      // Terminates: the table is at most half full, so an empty slot exists.
      for (;;) {
        const p = slots + (<usize>idx << 3);
        const s = load<u64>(p);
        if (s == 0) {
          if (groups >= maxGroups) {
            store<u32>(table + T_GROUPS, groups);
            return i; // full: the host grows the table and calls again from row i
          }
          store<u64>(p, (<u64>tag << 32) | <u64>(groups + 1));
          store<i32>(firstRow + (<usize>groups << 2), i);
          store<i32>(ids + (<usize>i << 2), groups);
          groups++;
          break;
        }
        if (<u32>(s >>> 32) == tag) {
          const g = <u32>s - 1;
          const other = load<i32>(firstRow + (<usize>g << 2));
          if (single ? eqAt<T>(values, i, other) : keysEqual(keys, nkeys, i, other)) {
            store<i32>(ids + (<usize>i << 2), g);
            break;
          }
        }
        idx = (idx + 1) & mask;
      }
    }
  }
  store<u32>(table + T_GROUPS, groups);
  return n;
}

function probeSingle<T>(keys: usize, start: i32, n: i32, table: usize, ids: usize, hashes: usize): i32 {
  return probe<T>(true, keys, 1, start, n, table, ids, hashes);
}

/**
 * groupIdsHash(keys, nkeys, start, n, table, ids, hashes) → the first row not yet assigned (n: done).
 * Assigns ids[start ..] (i32). `hashes` is CHUNK × 8 bytes of host scratch.
 */
export function groupIdsHash(keys: usize, nkeys: i32, start: i32, n: i32, table: usize, ids: usize, hashes: usize): i32 {
  if (nkeys == 1 && load<u32>(keys + K_VALIDITY) == 0) {
    switch (load<i32>(keys + K_KIND)) {
      // Integers compare by bits, so signedness does not matter: one instantiation per width.
      case DType.I8: case DType.U8: return probeSingle<u8>(keys, start, n, table, ids, hashes);
      case DType.I16: case DType.U16: return probeSingle<u16>(keys, start, n, table, ids, hashes);
      case DType.I32: case DType.U32: return probeSingle<u32>(keys, start, n, table, ids, hashes);
      case DType.I64: case DType.U64: return probeSingle<u64>(keys, start, n, table, ids, hashes);
      case DType.F32: return probeSingle<f32>(keys, start, n, table, ids, hashes);
      case DType.F64: return probeSingle<f64>(keys, start, n, table, ids, hashes);
      default: break; // utf8: the generic comparison
    }
  }
  return probe<u8>(false, keys, nkeys, start, n, table, ids, hashes);
}

/**
 * groupRehash(table, newSlots, newCapacity): moves every slot into `newSlots` (zeroed, a power of two
 * ≥ the old capacity) and points the record at it. The host swaps in a bigger firstRow itself.
 */
export function groupRehash(table: usize, newSlots: usize, newCapacity: u32): void {
  const slots = <usize>load<u32>(table + T_SLOTS);
  const capacity = load<u32>(table + T_CAPACITY);
  const mask = newCapacity - 1;
  assert(newCapacity >= capacity && (newCapacity & mask) == 0, 'groupRehash: bad new capacity');
  for (let k: u32 = 0; k < capacity; k++) {
    const s = load<u64>(slots + (<usize>k << 3));
    if (s == 0) continue;
    // Groups are distinct keys: no comparison, just the first free slot from the home index.
    let idx = <u32>(s >>> 32) & mask;
    while (load<u64>(newSlots + (<usize>idx << 3)) != 0) idx = (idx + 1) & mask;
    store<u64>(newSlots + (<usize>idx << 3), s);
  }
  store<u32>(table + T_SLOTS, <u32>newSlots);
  store<u32>(table + T_CAPACITY, newCapacity);
}
