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
 * histograms); every merge round reads the permutation and gathers keys at random rows (a
 * permutation, not records, is what the runs leave), so few runs — 2 per worker — are best.
 * Scratch as the single-thread sort: 4n (second permutation) + 2 × 8n or 16n (records).
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
  const runs = Math.ceil(n / runRows);
  let rounds = 0;
  for (let w = runRows; w < n; w *= 2) rounds++;
  const tmp = ctx.scope();
  try {
    const other = tmp.alloc(n * 4);
    // Even rounds: the runs go to the result and come back to it; odd: they start in the scratch.
    let src = rounds % 2 === 0 ? result.values : other;
    let dst = src === other ? result.values : other;
    const digitBits = digitBitsFor(runRows);
    const recs = tmp.alloc(n * recBytes);
    const tmpRecs = tmp.alloc(n * recBytes);
    const hist = tmp.alloc(runs * histBytes(digitBits));
    await rt.run<void, void>({
      name: op,
      plan(p) {
        p.task(Op.SORT_RUNS, {
          start: 0, end: n, a0: col.values, a1: col.validity, a2: src, a3: dst, p0: dtype, p1: flags, p2: runRows, p3: width,
          x0: recs, x1: tmpRecs, x2: hist, x3: recBytes | (digitBits << 8),
        });
      },
      finish() {},
    }, opts);
    const piece = Math.max(4096, rt.morselRows);
    for (let w = runRows; w < n; w *= 2) {
      const from = src, to = dst;
      await rt.run<void, void>({
        name: op,
        plan(p) {
          for (let lo = 0; lo < n; lo += 2 * w) {
            const mid = Math.min(lo + w, n);
            const hi = Math.min(lo + 2 * w, n);
            p.task(Op.MERGE_RUNS, {
              start: 0, end: hi - lo, a0: col.values, a1: col.validity, a2: from, a3: to, p0: dtype, p1: flags, p2: piece,
              x0: lo, x1: mid, x2: hi,
            });
          }
        },
        finish() {},
      }, opts);
      src = to;
      dst = from;
    }
  } finally {
    tmp.close();
  }
  return result;
}
