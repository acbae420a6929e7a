/**
 * Fan-out / fan-in: run one branch per item, each inside its own fork of the current context, and
 * collect the results in item order. Used by `ctx.fanOut` inside a node and by the builder's
 * `.fanOut` / `.fanIn` nodes.
 *
 * Concurrency is a fixed set of `concurrency` runner loops pulling the next index — no queue object per
 * branch. The first failure aborts the branches' shared signal and stops new ones from starting; the
 * fan-out rejects with that error once the running branches have settled (so no branch outlives it).
 */
import { FlowContext, flowStorage } from './context.js';
import type { NodeContext } from './node-context.js';
import type { Outputs } from './builder.js';

export interface BranchInfo<O extends Outputs = Outputs> {
  /** The item's position; the result lands at the same position. */
  index: number;
  /** Aborted when the node's signal aborts or a sibling branch fails. */
  signal: AbortSignal;
  /** This branch's own context (a copy of the parent's at fork time). */
  context: FlowContext;
  /** The node that fanned out (undefined when `fanOut` is called outside a node). */
  node: NodeContext<O> | undefined;
}

export interface FanOutOptions {
  /** Branches running at once (default 64). */
  concurrency?: number;
  signal?: AbortSignal;
}

export async function fanOut<T, R, O extends Outputs = Outputs>(
  items: Iterable<T>,
  fn: (item: T, b: BranchInfo<O>) => R | Promise<R>,
  opts: FanOutOptions = {},
  node?: NodeContext<O>,
): Promise<R[]> {
  const list = Array.isArray(items) ? (items as T[]) : [...items];
  const n = list.length;
  const results = new Array<R>(n);
  if (n === 0) return results;
  const parent = flowStorage.getStore() ?? new FlowContext('-');
  const ctl = new AbortController();
  const outer = opts.signal ?? node?.signal;
  const onAbort = () => ctl.abort(outer!.reason);
  if (outer) {
    if (outer.aborted) throw outer.reason;
    outer.addEventListener('abort', onAbort, { once: true });
  }
  let next = 0;
  let failed = false;
  let firstError: unknown;

  const runner = async (): Promise<void> => {
    while (!failed && next < n) {
      const k = next++;
      const context = parent.fork(k);
      const info: BranchInfo<O> = { index: k, signal: ctl.signal, context, node };
      try {
        // The branch body runs with its fork as the current context; this loop's awaits resume in the
        // parent's context again (AsyncLocalStorage restores it), so the parent never sees branch writes.
        results[k] = await flowStorage.run(context, fn, list[k], info);
      } catch (e) {
        if (!failed) { failed = true; firstError = e; ctl.abort(e); }
      }
    }
  };
  const width = Math.max(1, Math.min(n, opts.concurrency ?? 64));
  const runners = new Array<Promise<void>>(width);
  for (let w = 0; w < width; w++) runners[w] = runner();
  try {
    await Promise.all(runners);
  } finally {
    outer?.removeEventListener('abort', onAbort);
  }
  if (failed) throw firstError;
  return results;
}

/** Something that can be cut into row ranges without copying (an apache-arrow Table or RecordBatch). */
export interface Sliceable<S> {
  readonly numRows: number;
  slice(begin?: number, end?: number): S;
}

export interface PartitionOptions {
  /** Number of partitions (default: 1 per `rows` rows, else 4). */
  count?: number;
  /** Rows per partition (the last one takes the rest). */
  rows?: number;
}

/**
 * The row partitions of a table, for `fanOut` over a table: `over: (c) => partitions(c.input('load'), { count: 8 })`.
 * Each partition is a zero-copy slice (same buffers; for an engine result, views of the shared memory),
 * in row order, so fan-in results come back in row order too. An empty table gives no partitions.
 */
export function partitions<S>(table: Sliceable<S>, opts: PartitionOptions = {}): S[] {
  const n = table.numRows;
  if (opts.rows !== undefined && !(Number.isInteger(opts.rows) && opts.rows > 0)) {
    throw new RangeError(`partitions: rows must be a positive integer, got ${opts.rows}`);
  }
  if (opts.count !== undefined && !(Number.isInteger(opts.count) && opts.count > 0)) {
    throw new RangeError(`partitions: count must be a positive integer, got ${opts.count}`);
  }
  if (n === 0) return [];
  const size = opts.rows ?? Math.ceil(n / (opts.count ?? 4));
  const out: S[] = [];
  for (let start = 0; start < n; start += size) out.push(table.slice(start, Math.min(n, start + size)));
  return out;
}
