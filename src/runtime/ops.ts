/**
 * Opcodes of runtime tasks and what each one keeps in its descriptor (tasks.ts fields). Shared by
 * the submitting side (plans.ts writes descriptors) and the worker side (exec.ts reads them); this
 * file holds only record conventions, no behaviour (STYLE.md #1).
 *
 * Range ops cover rows [start, end) and split themselves into morsels of p2 rows (a multiple of 64,
 * so every morsel starts on a whole validity-bitmap word). Morsel m covers rows
 * [m·p2, (m+1)·p2) ∩ [0, n) and writes its partial at slot m — the slot is fixed by the rows, not
 * by the schedule, so the merge (and a float sum's rounding) is the same on every run.
 */
export enum Op {
  /** Calls the no-op kernel. No fields. */
  NOOP = 0,
  /** Calls the trapping kernel. p0 = kind (0 unreachable, 1 out-of-bounds load). */
  TRAP = 1,
  /** Ends the worker thread (process.exit in the worker): the dead-worker path. Tests only. */
  EXIT = 2,
  /**
   * Aggregate over a range (assembly/aggregate). a0 = values, a1 = validity (0 = none),
   * a2 = partials (AGG_PARTIAL_BYTES per morsel: +0 the kernel's 8-byte result, +8 i32 valid count),
   * p0 = dtype, p1 = AggOp, p2 = morsel rows, p3 = element bytes.
   */
  AGGREGATE = 3,
  /**
   * A range op that busy-waits x0 microseconds per morsel and counts the morsel: Atomics.add 1 to
   * the i32 at a2 + 4·m. Tests (each morsel exactly once; cancel between morsels; stealing spreads
   * long work). p2 = morsel rows.
   */
  SPIN = 4,
  /**
   * Min and max of an integer key column over a range (assembly/groupby keyRange). a0 = keys,
   * a1 = validity, a2 = partials (KEY_RANGE_PARTIAL_BYTES per morsel: +0 min, +8 max as 8-byte
   * integers, +16 i32 valid count), p0 = key dtype, p2 = morsel rows, p3 = key bytes.
   */
  KEY_RANGE = 5,
  /**
   * Dense group-by over a range (assembly/groupby groupAccumulate), one accumulator table per
   * morsel. a0 = int32 keys, a1 = key validity, a2 = tables base, a3 = values; p0 = value dtype,
   * p1 = AggOp, p2 = morsel rows, p3 = value bytes; x0 = key min, x1 = slots, x2 = value validity,
   * x3 = bytes per morsel table (parts × slots × 16).
   */
  GROUP_ACC = 6,
  /**
   * Selected rows per morsel of a selection bitmap (assembly/compare popcount). a0 = bits,
   * a1 = bits validity (0 = none), a2 = counts (i32 per morsel), p2 = morsel rows; for a utf8
   * column also the string bytes those rows hold (assembly/filter filterUtf8Size): a3 = its offsets
   * (0 = not utf8), x0 = bytes (i32 per morsel).
   */
  POPCOUNT = 7,
  /**
   * Filter of a fixed-width column by a selection, morsel m writing at its row offset in the output
   * (assembly/filter filterFixed). a0 = values, a1 = selection bits, a2 = output, a3 = output row
   * offsets (i32 per morsel, prefix sums of POPCOUNT), p0 = selection validity, p2 = morsel rows,
   * p3 = value bytes.
   */
  FILTER_FIXED = 8,
  /**
   * Tests only: the worker that pops it exits *before* running it (before exec.ts stores the task
   * in hand), i.e. in the window between taking a task off a queue and recording it — which the
   * claim-on-pop protocol closes. No fields.
   */
  DIE_UNCLAIMED = 9,
  /**
   * Filter of a bitmap (bool values, or any validity bitmap) by a selection: morsel m compacts its
   * bits into its own temp area, then ORs them in at bit offset rows[m] of the zeroed output
   * (assembly/runtime orBits: the boundary words are shared with the neighbours, hence atomic).
   * a0 = bits in (0 = all valid), a1 = selection bits, a2 = output bitmap, a3 = row offsets (i32 per
   * morsel, + 1 at the end), p0 = selection validity, p2 = morsel rows, x0 = temp base, x1 = temp
   * bytes per morsel, x2 = set bits written (i32 per morsel).
   */
  FILTER_BITS = 10,
  /**
   * Filter of a utf8 column: morsel m copies its selected strings to byte offset bytes[m] of the
   * output and its offsets, rebased by that, to row offset rows[m] + 1 (offset 0 is the host's).
   * The kernel writes a run's offsets from 0, so they go through a temp area first: (rows[m] + m) × 4
   * bytes into x2, never shared. a0 = offsets, a1 = selection bits, a2 = output offsets,
   * a3 = row offsets (i32 per morsel), p0 = selection validity, p2 = morsel rows, p3 = input bytes,
   * x0 = output bytes, x1 = byte offsets (i32 per morsel), x2 = temp base.
   */
  FILTER_UTF8 = 11,
  /**
   * Hash group-by, per morsel (assembly/groupby groupIdsHash + groupAccumulate): morsel m numbers
   * its own groups in its own table (allocated, and grown, by the worker in the scope whose root is
   * p1), writes the ids of its rows to ids[s, e), and accumulates every aggregate into its own
   * records. Its GROUP_INFO record says where all of that is. a0 = key descriptors
   * (assembly/groupby/keys.ts), a1 = key columns, a2 = info records (GROUP_INFO_WORDS(naggs) i32
   * per morsel), a3 = aggregate descriptors (AGG_DESC_BYTES each), p0 = aggregates, p1 = scope
   * root, p2 = morsel rows, p3 = ids (i32 per row), x0 = initial table capacity (a power of two).
   */
  GROUP_HASH = 12,
  /**
   * Folds per-morsel accumulator tables into one, over a range of slots (assembly/runtime
   * accMerge): slots [s, e) of the final table are initialized, then every morsel's records for
   * those slots fold in, in morsel order. Disjoint slot ranges: no sharing. a0 = first morsel's
   * table, a1 = final table, p0 = value dtype, p1 = AggOp, p2 = slots per piece, p3 = bytes between
   * morsel tables, x0 = morsels.
   */
  ACC_MERGE = 13,
  /**
   * Sorted runs of a parallel argsort: morsel m (one run) radix-sorts its rows (assembly/sort
   * radixPass, as if they were a column of their own) into perm[s, e), adds s to them (assembly/
   * runtime rebase) so they are row numbers of the whole column, and writes the sort key of each
   * valid one beside it, keys[i] for perm[i] (assembly/runtime sortKeys; the run's nulls are at one
   * end and get none). a0 = values, a1 = validity, a2 = perm, a3 = second perm (the pass's null
   * scratch), p0 = dtype, p1 = SortFlag bits, p2 = run rows, p3 = keys, x0 = records,
   * x1 = second records (both at s × record bytes), x2 = histograms (one block per run),
   * x3 = record bytes | digit bits << 8.
   */
  SORT_RUNS = 14,
  /**
   * One merge of a parallel argsort round (assembly/runtime mergeRuns): the valid (key, row) pairs
   * of neighbouring runs A = [lo, mid) and B = [mid, hi), nA and nB of whose rows are null, merge
   * stably; the range [s, e) covers the merged valid pairs and splits into pieces like any range
   * op; the piece at s = 0 also moves both null blocks (to the front with NULLS_FIRST, else the
   * back). a0 = keys, a1 = rows, a2 = keys out, a3 = rows out, p0 = key bytes, p1 = SortFlag bits,
   * p2 = piece rows, p3 = nB, x0 = lo, x1 = mid, x2 = hi, x3 = nA.
   */
  MERGE_RUNS = 15,
  /**
   * First step of the parallel LSD radix argsort (assembly/runtime/radix.ts sortBuild): morsel m's
   * valid rows become (key, row) records at recs[validAt[m] …], its null rows go straight to
   * perm[nullAt[m] …] (their final block). a0 = values, a1 = validity, a2 = records, a3 = perm,
   * p0 = dtype, p1 = SortFlag bits, p2 = morsel rows, p3 = validAt (i32 per morsel), x0 = nullAt,
   * x1 = digit counts of every pass (SORT_HIST_BYTES(record bytes) per morsel).
   */
  SORT_BUILD = 16,
  /**
   * Digit histogram of each morsel of records (radixHist): morsel m (positions, not rows) counts
   * into hist + m × 2^bits × 4. a0 = records, a1 = histograms, p0 = record bytes, p1 = shift,
   * p2 = morsel rows, p3 = bits.
   */
  RADIX_HIST = 17,
  /**
   * Scatter of each morsel of records to its offsets (radixScatter): a0 = records, a1 = offsets
   * (2^bits i32 per morsel: the host's prefix sums), a2 = destination (records, or rows when
   * x0 = 1), p0 = record bytes, p1 = shift, p2 = morsel rows, p3 = bits, x0 = rows only.
   */
  RADIX_SCATTER = 18,
  /**
   * A fused morsel program over a range of one batch's rows (fused-vm.ts: the one interpreter the
   * engine's thread runs too). a0 = batch record (it names the program record), p2 = morsel rows,
   * x0 = morsel index of the job's first morsel: morsel m writes partial slot m − x0. Each thread
   * runs in its own register set (set = worker index; the helping submitter uses set `workers`).
   */
  FUSED = 19,
  /**
   * One-pass dense group-by over int32 keys (kernels/dense-window.ts foldWindow): morsel m folds its
   * rows into its own window table, which starts where the host put it (the window of a sample of
   * the first rows) and, when a block's key leaves it, moves into a wider one that the worker
   * allocates in the scope whose root is x0. Its WINDOW_INFO record (WINDOW_INFO_BYTES at
   * a2 + m × WINDOW_INFO_BYTES) holds the table and what the host merges by. a0 = keys, a1 = key
   * validity, a2 = info records, a3 = values; p0 = value dtype, p1 = AggOp, p2 = morsel rows,
   * p3 = value bytes; x0 = scope root, x1 = widest window (limit), x2 = value validity.
   */
  GROUP_WINDOW = 20,
}

/**
 * GROUP_WINDOW info record per morsel, i32 words. The host writes TABLE/BASE/WIDTH (the first
 * window); the worker rewrites them when its table moves, and fills in the rest:
 *
 *   +0 TABLE  address of the window table      +12 CUR    denseAccumulate cursors (3 words)
 *   +4 BASE   key of slot 0                     +24 STATE  WS_*
 *   +8 WIDTH  key slots (null slot = WIDTH)     +28 FIRST, +32 LAST  first/last key slot with a row
 *   +40 RECORDS  the table as 16-byte records   +36 ANY    1 when some key slot has a row
 *                (denseTable EXPAND; = TABLE when it has them already)
 *   +48 SCRATCH  16 bytes for foldWindow
 *
 * 64 bytes: one cache line per morsel, so two workers never write the same line.
 */
export const WINDOW_INFO_BYTES = 64;
export const WI_TABLE = 0, WI_BASE = 1, WI_WIDTH = 2, WI_CUR = 3, WI_STATE = 6, WI_FIRST = 7, WI_LAST = 8, WI_ANY = 9, WI_RECORDS = 10, WI_SCRATCH = 12;
/** GROUP_WINDOW STATE values: not run (or stopped by an abort), folded, keys span more than the limit. */
export const WS_PENDING = 0, WS_DONE = 1, WS_TOO_WIDE = 2;

/** SORT_BUILD digit counts per morsel: passes (3 or 6) × 2^11 u32. */
export const sortHistBytes = (recBytes: number): number => (recBytes === 16 ? 6 : 3) * 2048 * 4;

/** GROUP_HASH info record per morsel: +0 groups, +1 firstRow address, +2 + j accumulator of aggregate j. */
export const groupInfoWords = (naggs: number): number => 2 + naggs;
/** GROUP_HASH aggregate descriptor: +0 AggOp, +4 dtype, +8 values, +12 validity, +16 value bytes. */
export const AGG_DESC_BYTES = 32;

/**
 * Ops the submitting thread may run itself when it helps (runtime.ts): range ops, which split. Not
 * the single-task test ops, two of which end the thread that runs them.
 */
export const isRangeOp = (op: Op): boolean => op >= Op.AGGREGATE && op !== Op.DIE_UNCLAIMED;

/** Names for errors and stats, indexed by opcode. */
export const OP_NAMES: readonly string[] = ['noop', 'trap', 'exit', 'aggregate', 'spin', 'keyRange', 'groupAccumulate', 'popcount', 'filter', 'dieUnclaimed', 'filter', 'filter', 'groupBy', 'groupBy', 'argsort', 'argsort', 'argsort', 'argsort', 'argsort', 'fused', 'groupBySum'];

/**
 * Bytes of one AGGREGATE partial: value (8) · count (4) · pad. Packed four to a cache line: the
 * owner's merge reads every partial right after the workers wrote them, one cross-core miss per
 * line (a 64-byte stride made that 306 misses for a 10M-row sum, ~20 µs on the critical path).
 * Two workers share a line only where their ranges meet, and ranges are long (lazy splitting,
 * exec.ts #range), so that false sharing is a handful of lines per job, once each.
 */
export const AGG_PARTIAL_BYTES = 16;

/** Bytes of one KEY_RANGE partial (20 used), a cache line each as AGG_PARTIAL_BYTES. */
export const KEY_RANGE_PARTIAL_BYTES = 64;
