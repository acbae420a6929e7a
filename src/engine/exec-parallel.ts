/**
 * The materializing executor's steps on the runtime's workers, where the runtime has a parallel
 * plan for them and the input is big enough to pay for it:
 *
 *   filter  the predicate is evaluated here (kernel by kernel, as exec.ts does); the selection is
 *           applied to every column by the runtime's parallel filter (runtime/plan-filter.ts:
 *           per-morsel counts, prefix sums, per-morsel copies; every column layout)
 *   sort    one numeric key (int, float, date, timestamp): the runtime's parallel LSD radix
 *           argsort (runtime/plan-sort.ts), then the gather here; several keys, strings and
 *           dictionaries sort on this thread (kernels/sort.ts)
 *
 * Everything else — and any batch under PARALLEL_MIN_ROWS rows — runs exec.ts's `runStep` on this
 * thread. Group-by in the materializing path stays single-thread: the common group-bys (integer and
 * dictionary keys, fused filter → derive → aggregate) run fused on the workers (fused.ts), and the
 * rest goes through ops.aggregate's conventions (countDistinct, null groups, result types), which
 * the runtime's group-by does not cover as one call. Results are the same rows in the same order
 * as the single-thread steps (the parallel filter keeps row order; the parallel argsort is stable
 * like the kernel's).
 */
import { Batch } from '../arrow/batch.js';
import { isNumericType, type Column } from '../column.js';
import { JobAbortedError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import { argsort as parallelArgsort, filter as parallelFilter } from '../runtime/plans.js';
import type { Runtime } from '../runtime/runtime.js';
import { QueryAbortedError, evaluate, runStep } from './exec.js';
import type { Schema } from './expr.js';
import { ops } from './ops.js';
import type { Step } from './plan.js';

/**
 * Rows from which a materialized filter or sort goes to the workers: 256 K. Below it a job's fixed
 * cost (~tens of µs per job; a parallel filter is 1 + 1–3 jobs per column) is a large share of a
 * single-thread kernel pass over the batch (≈ 0.2–1 ms at 256 K rows).
 */
export const PARALLEL_MIN_ROWS = 1 << 18;
/** Tests lower the threshold to send tiny inputs to the workers too. */
export const parallelOptions = { minRows: PARALLEL_MIN_ROWS };

/** `runStep`, on the runtime's workers where that applies (see the module doc). */
export async function runStepOn(
  rt: Runtime | undefined, b: Batch, step: Step, schema: Schema, scope: ArenaScope, joins: Map<Step, Batch> | undefined, signal?: AbortSignal,
): Promise<Batch> {
  if (rt === undefined || rt.closed || b.length < parallelOptions.minRows || b.numColumns === 0) return runStep(b, step, schema, scope, joins);
  try {
    if (step.kind === 'filter') {
      const v = evaluate(step.predicate, b, schema, scope);
      if (v.kind === 'scalar') return runStep(b, step, schema, scope);
      const sel = ops.selection(v.col, scope);
      const cols: Array<[string, Column]> = [];
      for (const [name, c] of b) cols.push([name, await parallelFilter(rt, c, sel, { scope, signal })]);
      return new Batch(cols, cols[0][1].length);
    }
    if (step.kind === 'sort' && step.keys.length === 1) {
      const k = step.keys[0];
      const key = b.column(k.name);
      if (!isNumericType(key.type)) return runStep(b, step, schema, scope);
      const perm = await parallelArgsort(rt, key, { descending: k.descending, nullsFirst: k.nullsFirst, scope, signal });
      return new Batch([...b].map(([name, c]) => [name, ops.take(c, perm, scope)] as const), b.length);
    }
  } catch (e) {
    throw e instanceof JobAbortedError ? new QueryAbortedError() : e;
  }
  return runStep(b, step, schema, scope, joins);
}
