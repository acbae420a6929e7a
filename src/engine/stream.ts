/**
 * `query.stream()` for streamable plans: batches leave as the source produces them.
 *
 * A plan is streamable when every step is row-local or a running count — `filter`, `derive`,
 * `select`, `limit` — over any source (a memory dataset's batches, or `engine.scan` of an IPC /
 * Parquet / CSV file: record batches, row groups, chunks). Each source batch runs through the
 * steps on its own, kernel by kernel, in a scope of its own; the output is exported as a
 * RecordBatch viewing that scope and yielded. When the consumer asks for the next batch, the
 * previous batch's scope (its imported source batch and every intermediate) is closed — so at most
 * one batch's worth of memory is held, and an input bigger than the engine's memory limit streams
 * through. A consumer that keeps a batch beyond the next iteration must copy it first (e.g.
 * `tableToIPC(new Table(batch))`). `limit` stops reading the source once its rows are out. Batches
 * with no rows are skipped: a stream with an empty result yields no batch.
 *
 * Not streamable (aggregate, sort, join, anything after them): the result is computed first and
 * then yielded batch by batch (engine.ts streamPlan), as `collect()` would hold it.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Batch } from '../arrow/batch.js';
import { exportBatch } from '../arrow/export.js';
import type { Context } from '../context.js';
import type { ArenaScope } from '../memory/arena.js';
import type { Dataset } from './dataset.js';
import { QueryAbortedError, runStep } from './exec.js';
import type { LogicalPlan } from './plan.js';

/** True when `stream()` of p yields batches as the source produces them. */
export function streamable(p: LogicalPlan): boolean {
  return p.steps.every((s) => s.kind === 'filter' || s.kind === 'derive' || s.kind === 'select' || s.kind === 'limit');
}

/** Yields p's output batch by batch; each batch is valid until the next one is requested. */
export async function* streamBatches(ctx: Context, source: Dataset, p: LogicalPlan, signal?: AbortSignal): AsyncGenerator<RecordBatch> {
  // Per limit step: rows still to skip, rows still to emit.
  const skip = p.steps.map((s) => (s.kind === 'limit' ? s.offset : 0));
  const left = p.steps.map((s) => (s.kind === 'limit' ? s.n : Infinity));
  const held: ArenaScope[] = [];
  const release = () => {
    while (held.length) {
      const s = held.pop()!;
      if (s.open) s.close();
    }
  };
  try {
    if (left.some((n) => n === 0)) return;
    for await (const b of source.batches(() => { const s = ctx.scope(); held.push(s); return s; }, signal)) {
      if (signal?.aborted) throw new QueryAbortedError();
      const work = ctx.scope();
      held.push(work);
      let cur: Batch = b;
      let done = false;
      for (let i = 0; i < p.steps.length && cur.length > 0; i++) {
        const step = p.steps[i];
        const schema = i === 0 ? p.sourceSchema : p.schemas[i - 1];
        if (step.kind === 'limit') {
          const from = Math.min(skip[i], cur.length);
          skip[i] -= from;
          const n = Math.min(left[i], cur.length - from);
          left[i] -= n;
          if (left[i] === 0) done = true;
          cur = runStep(cur, { kind: 'limit', n, offset: from }, schema, work);
        } else cur = runStep(cur, step, schema, work);
      }
      if (cur.length > 0) yield exportBatch(cur).batches[0];
      release(); // the consumer moved on: this batch's memory goes
      if (done) break;
    }
  } catch (e) {
    // A file reader stops on the signal with its own AbortError: one typed error for every source.
    throw signal?.aborted ? new QueryAbortedError() : e;
  } finally {
    release();
  }
}
