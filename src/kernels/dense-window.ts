/**
 * The host side of the dense group-by's fused window (assembly/groupby README, "Fused window"):
 * `foldWindow` runs `denseAccumulate` over rows [0, n) of int32 keys and, whenever the kernel stops
 * at a 64-row block with a key outside the window, moves the table into a wider one and resumes.
 *
 * Shared by the single-thread `groupBy` (src/kernels/groupby.ts, over the whole column) and the
 * runtime's workers (src/runtime/exec.ts GROUP_WINDOW, over one morsel into that morsel's own
 * table). So it takes the kernel, the memory and an allocator, not a Context, and throws nothing
 * of its own: a trap propagates (the caller's `guard`, or the worker's fault boundary), and the
 * outcome is a small result code.
 */
import { AggOp, DType, TableOp } from '../../assembly/shared/codes.js';
import type { SharedMemory } from '../memory/shared-memory.js';
import type { KernelExports } from './module.js';

/** Rows the host looks ahead (in each range) when it widens the window: the next 64 blocks' key range. */
export const WINDOW_LOOKAHEAD = 4096;

/** Bytes of denseAccumulate's cursor record (a, aEnd, b: 3 × i32). */
export const CURSOR_BYTES = 12;

/** Bytes of scratch foldWindow needs (keyRange writes two 8-byte integers; USED two i32). */
export const WINDOW_SCRATCH_BYTES = 16;

/** The window table being folded into: its address, the key of slot 0, and its key slots (+1 null slot). */
export interface WindowTable {
  acc: number;
  base: number;
  width: number;
}

/** foldWindow's outcome. */
export enum Fold {
  /** The aggregate (op, dtype) has no window table: a bad op or value type. */
  REFUSED = -1,
  /** The valid keys span more than `limit` values: the caller takes the hash path. */
  TOO_WIDE = 0,
  DONE = 1,
}

/** Where the kernel's second row range starts (assembly/groupby accumulate.ts midRow). */
export function midRow(n: number): number {
  const m = ((n >>> 1) + 63) & ~63;
  return m < n ? m : n & ~63;
}

/** An empty key range, and the smallest range holding two. */
const EMPTY: [number, number] = [0, -1];
const union = (x: [number, number], y: [number, number]): [number, number] =>
  x[1] < x[0] ? y : y[1] < y[0] ? x : [Math.min(x[0], y[0]), Math.max(x[1], y[1])];

/**
 * The window for keys [lo, hi] when the current one is `width` wide: at least twice as wide as the
 * keys and as the current window (so a column needs at most ~log2(limit) moves), a power of two up
 * to `limit`, centred on the keys, kept inside i32 (the kernel's check computes base + width − 1).
 * The caller checked hi − lo + 1 ≤ limit.
 */
export function widenWindow(lo: number, hi: number, width: number, limit: number): { base: number; width: number } {
  const span = hi - lo + 1;
  let next = 1;
  while (next < 2 * span) next *= 2;
  next = Math.min(limit, Math.max(next, 2 * width));
  const base = Math.max(-(2 ** 31), Math.min(2 ** 31 - next, lo - Math.floor((next - span) / 2)));
  return { base, width: next };
}

/** Min and max of the valid int32 keys in rows [row, row + len) (row a multiple of 64); EMPTY when none is valid. */
function keyRangeOf(k: KernelExports, mem: SharedMemory, keys: number, kvalid: number, row: number, len: number, scratch: number): [number, number] {
  const valid = k.keyRange(DType.I32, keys + row * 4, kvalid === 0 ? 0 : kvalid + row / 8, len, scratch);
  if (valid <= 0) return EMPTY;
  const i32 = mem.i32;
  return [i32[scratch >>> 2], i32[(scratch >>> 2) + 2]];
}

/**
 * A first window for int32 keys from the valid keys of rows [0, min(n, WINDOW_LOOKAHEAD)): the
 * empty window (width 0) when none is valid, null when they already span more than `limit`. The
 * parallel group-by starts every morsel's table there, so that keys spread like the first rows'
 * need no move.
 */
export function sampleWindow(k: KernelExports, mem: SharedMemory, keys: number, kvalid: number, n: number, limit: number, scratch: number): { base: number; width: number } | null {
  const [lo, hi] = keyRangeOf(k, mem, keys, kvalid, 0, Math.min(n, WINDOW_LOOKAHEAD), scratch);
  if (hi < lo) return { base: 0, width: 0 };
  if (hi - lo + 1 > limit) return null;
  return widenWindow(lo, hi, 0, limit);
}

/**
 * Folds rows [0, n) of (keys, vals) into the window table `t` (initialized, maybe holding earlier
 * rows) from the cursors at `cur` (0, midRow(n), midRow(n) for a fresh start). When a block leaves
 * the window: the table moves into a window that holds the keys folded so far and those of the next
 * WINDOW_LOOKAHEAD rows of both ranges (`widenWindow`), in `alloc`ed memory, and `t` is updated.
 * Rows folded before a TOO_WIDE are wasted (at most one pass, and only when the wide key comes late).
 * `scratch`: WINDOW_SCRATCH_BYTES of the caller's.
 */
export function foldWindow(
  k: KernelExports, mem: SharedMemory, alloc: (bytes: number) => number, op: AggOp, dtype: DType,
  keys: number, kvalid: number, vals: number, vvalid: number, n: number, limit: number,
  t: WindowTable, cur: number, scratch: number,
): Fold {
  const mid = mem.i32[(cur >>> 2) + 1];
  for (;;) {
    const r = k.denseAccumulate(op, dtype, keys, kvalid, t.base, t.width + 1, vals, vvalid, n, t.acc, cur);
    if (r < 0) return Fold.REFUSED;
    if (r === 0) return Fold.DONE;
    // The block at a or the one at b left the window: both ranges' next rows count.
    const a = mem.i32[cur >>> 2];
    const b = mem.i32[(cur >>> 2) + 2];
    const ahead = (len: number): [number, number] => union(
      a < mid ? keyRangeOf(k, mem, keys, kvalid, a, Math.min(len, mid - a), scratch) : EMPTY,
      b < n ? keyRangeOf(k, mem, keys, kvalid, b, Math.min(len, n - b), scratch) : EMPTY,
    );
    // Keys already folded: the first and last slot with a row (null slot excluded).
    const anyUsed = k.denseTable(TableOp.USED, op, dtype, t.acc, t.base, t.width + 1, scratch, 0, 0) === 1;
    const used: [number, number] = [t.base + mem.i32[scratch >>> 2], t.base + mem.i32[(scratch >>> 2) + 1]];
    const withUsed = (x: [number, number]): [number, number] => (anyUsed ? union(x, used) : x);
    let [lo, hi] = withUsed(ahead(WINDOW_LOOKAHEAD));
    if (hi - lo + 1 > limit) {
      [lo, hi] = withUsed(ahead(64));
      if (hi - lo + 1 > limit) return Fold.TOO_WIDE;
    }
    const next = widenWindow(lo, hi, t.width, limit);
    const acc = alloc(k.denseTable(TableOp.BYTES, op, dtype, 0, 0, next.width + 1, 0, 0, 0));
    if (k.denseTable(TableOp.MOVE, op, dtype, t.acc, t.base, t.width + 1, acc, next.base, next.width + 1) < 0) return Fold.REFUSED;
    t.acc = acc;
    t.base = next.base;
    t.width = next.width;
  }
}
