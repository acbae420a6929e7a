/**
 * Parallel argsort: the stable sort permutation of one numeric column (ints, floats, dates,
 * timestamps), equal to the single-thread `kernels.argsort` — same order of values (floats:
 * −Inf < … < −0 = +0 < … < +Inf < NaN), nulls last or first, descending, ties in row order.
 *
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
import { Op } from './ops.js';
import type { Runtime, RunOptions } from './runtime.js';

export interface ParallelArgsortOptions extends RunOptions {
  descending?: boolean;
  nullsFirst?: boolean;
  /** Scope of the result (default: the column's scope). */
  scope?: ArenaScope;
  /** Rows per sorted run (a multiple of 64). Default: the rows split into about 2 runs per worker. */
  runRows?: number;
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
