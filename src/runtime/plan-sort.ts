/**
 * Parallel argsort: the stable sort permutation of one numeric column (ints, floats, dates,
 * timestamps), equal to the single-thread `kernels.argsort` — same order of values (floats:
 * −Inf < … < −0 = +0 < … < +Inf < NaN), nulls last or first, descending, ties in row order.
 *
 * Two algorithms (`algorithm`); 'radix' is the default and is described at `radix` below.
 * Measured at 10M random int32 on the shared 2-core box (load 3–4.7, wall / CPU of all threads):
 * kernel 195–280 ms / 200–250 ms; radix 184–430 ms / 290–380 ms; merge 360–470 ms / 360–450 ms.
 * The radix version does the kernel's work plus one histogram read per digit pass (~1.4× the CPU),
 * so it needs two idle cores to beat the kernel; the merge version does ~1.8× the work.
 *
 * 'merge':
 *   runs    one job: the rows split into runs (one per morsel, about 2 per worker), each radix
 *           sorted on its own by the single-thread kernel's pass, its row numbers rebased
 *   merge   ⌈log2 runs⌉ rounds, one job each: neighbouring runs merge pairwise, every merge split
 *           by merge path into independent pieces of output (assembly/runtime/merge.ts), so a round
 *           keeps every worker busy however few pairs it has. Runs and rounds ping-pong between
 *           the result and one scratch permutation; the runs start in whichever makes the last
 *           round land in the result.
 *
 * Cost: the radix passes are the single-thread sort's work split in parallel (plus per-run
 * histograms and one pass writing each run's sort keys); every merge round then streams
 * (key, row) pairs — sequential reads and writes, no gathers from the column. Scratch: the
 * single-thread sort's 4n + 2 × 8n (16n for 8-byte keys) plus 2 × 4n (8n) of keys.
 *
 * Not parallel yet (typed error, use kernels.argsort): several keys, utf8, dictionary, bool.
 */
import { SortFlag } from '../../assembly/shared/codes.js';
import { Column, byteWidth, columnType, isNumericType } from '../column.js';
import { allocColumn } from '../column-alloc.js';
import { InvalidOptionError, UnsupportedTypeError } from '../errors.js';
import { assertInMemory } from '../kernels/check.js';
import type { ArenaScope } from '../memory/arena.js';
import { Op, sortHistBytes } from './ops.js';
import type { Runtime, RunOptions } from './runtime.js';

export interface ParallelArgsortOptions extends RunOptions {
  descending?: boolean;
  nullsFirst?: boolean;
  /** Scope of the result (default: the column's scope). */
  scope?: ArenaScope;
  /** Rows per sorted run (a multiple of 64; 'merge' only). Default: about 2 runs per worker. */
  runRows?: number;
  /**
   * 'radix' (default): parallel LSD radix — every pass split over morsels (per-morsel histograms,
   * host prefix sums, per-morsel scatters): the single-thread sort's work, shared. 'merge': sorted
   * runs + merge-path merge rounds — more work (a key pass and log2(runs) streaming rounds), kept as
   * the comparison and for keys a radix pass cannot take.
   */
  algorithm?: 'radix' | 'merge';
  /** Rows per morsel ('radix'; a multiple of 64). Default: about 8 morsels per worker. */
  morselRows?: number;
}

/** As src/kernels/sort.ts: 11-bit digits pay off from 64K rows. */
const digitBitsFor = (n: number): number => (n >= 1 << 16 ? 11 : 8);
const histBytes = (bits: number): number => Math.ceil(64 / bits) * (1 << bits) * 4;

export async function argsort(rt: Runtime, col: Column, opts: ParallelArgsortOptions = {}): Promise<Column> {
  const op = 'argsort';
  if (!(col instanceof Column)) throw new InvalidOptionError('col', typeof col, 'a Column');
  if (!isNumericType(col.type)) throw new UnsupportedTypeError(op, [col.label], 'parallel argsort takes one numeric column (use kernels.argsort)');
  for (const name of ['descending', 'nullsFirst'] as const) {
    if (opts[name] !== undefined && typeof opts[name] !== 'boolean') throw new InvalidOptionError(name, opts[name], 'a boolean');
  }
  if (col.ctx.mem.memory !== rt.ctx.mem.memory) throw new UnsupportedTypeError(op, [col.label], 'the column belongs to another engine');
  assertInMemory(op, col);
  const n = col.length;
  const runRows = opts.runRows ?? Math.max(64, Math.ceil(n / (2 * rt.workers) / 64) * 64);
  if (!Number.isInteger(runRows) || runRows < 64 || runRows % 64 !== 0) throw new InvalidOptionError('runRows', runRows, 'a multiple of 64');
  const ctx = col.ctx;
  const result = allocColumn(ctx, opts.scope ?? col.scope, columnType('int32'), n);
  if (n === 0) return result;
  const flags = (opts.descending ? SortFlag.DESCENDING : 0) | (opts.nullsFirst ? SortFlag.NULLS_FIRST : 0);
  const algorithm = opts.algorithm ?? 'radix';
  if (algorithm === 'radix') return radix(rt, col, result, flags, opts);
  if (algorithm !== 'merge') throw new InvalidOptionError('algorithm', algorithm, "'radix' or 'merge'");
  const dtype = col.type.dtype;
  const width = byteWidth(dtype);
  const recBytes = width === 8 ? 16 : 8;
  const keyBytes = width === 8 ? 8 : 4;
  const runs = Math.ceil(n / runRows);
  let rounds = 0;
  for (let w = runRows; w < n; w *= 2) rounds++;
  // Nulls per run (a merge moves each run's null block whole): one popcount per run, here.
  const nullsOf = new Array<number>(runs).fill(0);
  if (col.validity !== 0) {
    for (let r = 0; r < runs; r++) {
      const s = r * runRows;
      const len = Math.min(runRows, n - s);
      nullsOf[r] = len - ctx.kernel.popcount(col.validity + s / 8, 0, len);
    }
  }
  const tmp = ctx.scope();
  try {
    const other = tmp.alloc(n * 4);
    // Even rounds: the runs go to the result and come back to it; odd: they start in the scratch.
    let rows = rounds % 2 === 0 ? result.values : other;
    let rowsOut = rows === other ? result.values : other;
    let keys = tmp.alloc(n * keyBytes);
    let keysOut = tmp.alloc(n * keyBytes);
    const digitBits = digitBitsFor(runRows);
    const recs = tmp.alloc(n * recBytes);
    const tmpRecs = tmp.alloc(n * recBytes);
    const hist = tmp.alloc(runs * histBytes(digitBits));
    const first = { rows, rowsOut, keys };
    await rt.run<void, void>({
      name: op,
      plan(p) {
        p.task(Op.SORT_RUNS, {
          start: 0, end: n, a0: col.values, a1: col.validity, a2: first.rows, a3: first.rowsOut, p0: dtype, p1: flags, p2: runRows,
          p3: first.keys, x0: recs, x1: tmpRecs, x2: hist, x3: recBytes | (digitBits << 8),
        });
      },
      finish() {},
    }, opts);
    const piece = Math.max(4096, rt.morselRows);
    let nulls = nullsOf;
    for (let w = runRows; w < n; w *= 2) {
      const src = { keys, rows }, dst = { keys: keysOut, rows: rowsOut };
      const merged: number[] = [];
      const pairs: Array<{ lo: number; mid: number; hi: number; nA: number; nB: number }> = [];
      for (let lo = 0, r = 0; lo < n; lo += 2 * w, r += 2) {
        const mid = Math.min(lo + w, n);
        const hi = Math.min(lo + 2 * w, n);
        const nA = nulls[r], nB = nulls[r + 1] ?? 0;
        pairs.push({ lo, mid, hi, nA, nB });
        merged.push(nA + nB);
      }
      await rt.run<void, void>({
        name: op,
        plan(p) {
          for (const { lo, mid, hi, nA, nB } of pairs) {
            p.task(Op.MERGE_RUNS, {
              start: 0, end: Math.max(1, hi - lo - nA - nB), a0: src.keys, a1: src.rows, a2: dst.keys, a3: dst.rows,
              p0: keyBytes, p1: flags, p2: piece, p3: nB, x0: lo, x1: mid, x2: hi, x3: nA,
            });
          }
        },
        finish() {},
      }, opts);
      nulls = merged;
      [keys, keysOut] = [keysOut, keys];
      [rows, rowsOut] = [rowsOut, rows];
    }
  } finally {
    tmp.close();
  }
  return result;
}

/**
 * Parallel LSD radix (see `algorithm`). Records are built once (valid rows only; nulls go straight
 * to their block of the result); then per 11-bit digit, least significant first: a histogram job
 * (per morsel of records), prefix sums here — morsel m's start for digit d is every record of a
 * smaller digit plus morsel < m's records of digit d, which is what keeps the pass stable — and a
 * scatter job. A digit on which every key agrees is skipped (one bucket holds all records), so
 * narrow or clustered keys (dates, small ints) cost fewer passes. The last scatter writes only the
 * row numbers, into the result.
 */
async function radix(rt: Runtime, col: Column, result: Column, flags: number, opts: ParallelArgsortOptions): Promise<Column> {
  const op = 'argsort';
  const ctx = col.ctx;
  const n = col.length;
  const width = byteWidth(col.type.dtype);
  const recBytes = width === 8 ? 16 : 8;
  const keyBits = width === 8 ? 64 : 32;
  const mr = opts.morselRows ?? Math.max(rt.morselRows, Math.ceil(n / (8 * rt.workers) / 64) * 64);
  if (!Number.isInteger(mr) || mr < 64 || mr % 64 !== 0) throw new InvalidOptionError('morselRows', mr, 'a multiple of 64');
  const morsels = Math.ceil(n / mr);
  // Valid rows before each morsel (records) and null rows before it (in the null block).
  const validAt = new Int32Array(morsels);
  const nullAt = new Int32Array(morsels);
  let valid = 0;
  for (let m = 0; m < morsels; m++) {
    const s = m * mr;
    const len = Math.min(mr, n - s);
    validAt[m] = valid;
    nullAt[m] = m * mr - valid;
    valid += col.validity === 0 ? len : ctx.kernel.popcount(col.validity + s / 8, 0, len);
  }
  const nulls = n - valid;
  const validBase = flags & SortFlag.NULLS_FIRST ? nulls : 0;
  const nullBase = flags & SortFlag.NULLS_FIRST ? 0 : valid;
  for (let m = 0; m < morsels; m++) nullAt[m] += nullBase;
  const BITS = 11;
  const buckets = 1 << BITS;
  const tmp = ctx.scope();
  try {
    let src = tmp.alloc(Math.max(1, valid) * recBytes);
    let dst = tmp.alloc(Math.max(1, valid) * recBytes);
    const vm = Math.ceil(valid / mr); // morsels over the records
    const hist = tmp.alloc(Math.max(1, vm) * buckets * 4);
    const offsets = tmp.alloc(Math.max(1, vm) * buckets * 4);
    const passes = Math.ceil(keyBits / BITS);
    const digits = tmp.alloc(morsels * sortHistBytes(recBytes));
    await rt.run<void, void>({
      name: op,
      plan(p) {
        const va = p.alloc(morsels * 4), na = p.alloc(morsels * 4);
        p.mem.i32.set(validAt, va >>> 2);
        p.mem.i32.set(nullAt, na >>> 2);
        p.task(Op.SORT_BUILD, {
          start: 0, end: n, a0: col.values, a1: col.validity, a2: src, a3: result.values,
          p0: col.type.dtype, p1: flags, p2: mr, p3: va, x0: na, x1: digits,
        });
      },
      finish() {},
    }, opts);
    if (valid === 0) return result;
    // Which passes move anything: a pass whose digit is the same for every key is skipped. Known
    // up front (the build counted every digit), so the last real pass writes the rows themselves.
    const counts = new Uint32Array(ctx.mem.buffer, digits, (morsels * sortHistBytes(recBytes)) / 4);
    const todo: number[] = [];
    for (let pass = 0; pass < passes; pass++) {
      const total = new Float64Array(buckets);
      for (let m = 0; m < morsels; m++) {
        const b = (m * passes + pass) * buckets;
        for (let d = 0; d < buckets; d++) total[d] += counts[b + d];
      }
      if (!total.some((c) => c === valid)) todo.push(pass);
    }
    for (const pass of todo) {
      const shift = pass * BITS;
      const bits = Math.min(BITS, keyBits - shift);
      const last = pass === todo[todo.length - 1];
      await rt.run<void, void>({
        name: op,
        plan(p) {
          p.task(Op.RADIX_HIST, { start: 0, end: valid, a0: src, a1: hist, p0: recBytes, p1: shift, p2: mr, p3: bits });
        },
        finish() {},
      }, opts);
      // Prefix sums in (digit, morsel) order: morsel m starts digit d after every record of a
      // smaller digit and morsel < m's records of digit d.
      const i32 = ctx.mem.i32;
      const h = hist >>> 2, o = offsets >>> 2;
      const size = 1 << bits;
      for (let d = 0, sum = 0; d < size; d++) {
        for (let m = 0; m < vm; m++) {
          i32[o + m * size + d] = sum;
          sum += i32[h + m * size + d];
        }
      }
      const to = last ? result.values + validBase * 4 : dst;
      await rt.run<void, void>({
        name: op,
        plan(p) {
          p.task(Op.RADIX_SCATTER, { start: 0, end: valid, a0: src, a1: offsets, a2: to, p0: recBytes, p1: shift, p2: mr, p3: bits, x0: last ? 1 : 0 });
        },
        finish() {},
      }, opts);
      [src, dst] = [dst, src];
    }
    if (todo.length === 0) {
      // Every key equal: the records are in row order already; a scatter on 0 digit bits copies the rows out.
      const i32 = ctx.mem.i32;
      for (let m = 0; m < vm; m++) i32[(offsets >>> 2) + m] = m * mr;
      await rt.run<void, void>({
        name: op,
        plan(p) {
          p.task(Op.RADIX_SCATTER, {
            start: 0, end: valid, a0: src, a1: offsets, a2: result.values + validBase * 4, p0: recBytes, p1: 0, p2: mr, p3: 0, x0: 1,
          });
        },
        finish() {},
      }, opts);
    }
  } finally {
    tmp.close();
  }
  return result;
}
