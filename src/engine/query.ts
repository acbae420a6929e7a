/**
 * The lazy query builder: every call returns a new immutable Query; nothing runs until `collect`,
 * `stream` or `write`. Validation (unknown columns, type mismatches, bad options) happens at the
 * call that introduces the problem, against the schema flowing through the steps, so the error points
 * at the offending step rather than at collect().
 */
import type { CsvWriteOptions } from './io/csv.js';
import type { ParquetWriteOptions } from './io/parquet.js';
import type { Table, RecordBatch } from 'apache-arrow';
import { InvalidOptionError } from '../errors.js';
import { AggExpr, Expr, col as colExpr, type ExprNode } from './expr.js';
import { explain as explainPlan, plan, type JoinHow, type LogicalPlan, type SortKey, type Step } from './plan.js';
import type { Dataset } from './dataset.js';

/** What runs a query: the Engine implements it (kept as an interface so the builder has no cycle). */
export interface QueryRunner {
  collectPlan(source: Dataset, p: LogicalPlan, signal?: AbortSignal): Promise<Table>;
  streamPlan(source: Dataset, p: LogicalPlan, signal?: AbortSignal): AsyncIterable<RecordBatch>;
  writePlan(source: Dataset, p: LogicalPlan, path: string, opts?: WriteOptions): Promise<WriteResult>;
  /** For explain(): where a pipeline runs (fused: one that ends in an aggregate). */
  runsOn?(fused: boolean): string;
}

export interface WriteOptions {
  /** Override the format chosen from the file extension. */
  format?: 'arrow' | 'arrows' | 'parquet' | 'csv';
  signal?: AbortSignal;
  /** CSV: delimiter, header row (see engine/io/csv.ts). */
  csv?: CsvWriteOptions;
  /** Parquet: compression, row group size (see engine/io/parquet.ts). */
  parquet?: ParquetWriteOptions;
}

export interface WriteResult {
  path: string;
  rows: number;
  bytes: number;
}

export interface SortSpec {
  column: string;
  descending?: boolean;
  nullsFirst?: boolean;
}

export interface JoinOptions {
  /** Key column names present on both sides, or [left, right] name pairs. */
  on: string | readonly (string | readonly [string, string])[];
  how?: JoinHow;
}

export interface RunOptions {
  signal?: AbortSignal;
}

export class Query {
  readonly #runner: QueryRunner;
  readonly #source: Dataset;
  readonly #steps: readonly Step[];
  readonly #plan: LogicalPlan;

  /** @internal use `engine.query(dataset)` */
  constructor(runner: QueryRunner, source: Dataset, steps: readonly Step[] = []) {
    this.#runner = runner;
    this.#source = source;
    this.#steps = steps;
    this.#plan = plan(source.schema, source.label, steps, source);
  }

  #with(step: Step): Query {
    return new Query(this.#runner, this.#source, [...this.#steps, step]);
  }

  /** Keeps the rows where the predicate is true (null counts as false, like SQL WHERE). */
  filter(predicate: Expr): Query {
    if (!(predicate instanceof Expr)) throw new InvalidOptionError('filter', predicate, 'an expression (col(...).gt(...))');
    return this.#with({ kind: 'filter', predicate: predicate.node });
  }

  /** Keeps (and orders) the named columns. */
  select(...names: string[]): Query {
    return this.#with({ kind: 'select', names: names.flat() });
  }

  /** Adds (or replaces) columns computed from expressions. */
  derive(columns: Record<string, Expr>): Query {
    const entries = Object.entries(columns).map(([n, e]): [string, ExprNode] => {
      if (!(e instanceof Expr)) throw new InvalidOptionError(`derive.${n}`, e, 'an expression');
      return [n, e.node];
    });
    if (entries.length === 0) throw new InvalidOptionError('derive', columns, 'at least one column');
    return this.#with({ kind: 'derive', columns: entries });
  }

  /** Groups by key columns; finish with `.agg({...})`. */
  groupBy(...keys: string[]): GroupedQuery {
    const ks = keys.flat();
    if (ks.length === 0) throw new InvalidOptionError('groupBy', ks, 'at least one key column');
    for (const k of ks) colExpr(k); // name check
    return new GroupedQuery(this, ks);
  }

  /** Aggregates the whole input into one row. */
  agg(aggs: Record<string, AggExpr>): Query {
    return this.aggregateBy([], aggs);
  }

  /** @internal */
  aggregateBy(keys: readonly string[], aggs: Record<string, AggExpr>): Query {
    const entries = Object.entries(aggs).map(([n, a]): [string, AggExpr] => {
      if (!(a instanceof AggExpr)) throw new InvalidOptionError(`agg.${n}`, a, 'an aggregate (sum(...), count(), ...)');
      return [n, a];
    });
    return this.#with({ kind: 'aggregate', keys, aggs: entries });
  }

  /**
   * Sorts by columns: names (ascending, nulls last), `'-name'` for descending, or specs
   * `{ column, descending, nullsFirst }`. Stable.
   */
  sort(...keys: Array<string | SortSpec>): Query {
    const ks: SortKey[] = keys.flat().map((k) => {
      if (typeof k === 'string') {
        const desc = k.startsWith('-');
        return { name: desc ? k.slice(1) : k, descending: desc, nullsFirst: false };
      }
      if (!k || typeof k.column !== 'string') throw new InvalidOptionError('sort', k, "a column name or { column, descending?, nullsFirst? }");
      return { name: k.column, descending: Boolean(k.descending), nullsFirst: Boolean(k.nullsFirst) };
    });
    return this.#with({ kind: 'sort', keys: ks });
  }

  /** The first n rows (after `offset`). */
  limit(n: number, offset = 0): Query {
    return this.#with({ kind: 'limit', n, offset });
  }

  /** Hash join with another query or dataset (the other side is the build side). */
  join(other: Query | Dataset, opts: JoinOptions): Query {
    const right = other instanceof Query ? other : new Query(this.#runner, other);
    const on = (typeof opts.on === 'string' ? [opts.on] : opts.on).map((k): [string, string] =>
      typeof k === 'string' ? [k, k] : [k[0], k[1]],
    );
    const how = opts.how ?? 'inner';
    if (how !== 'inner' && how !== 'left') throw new InvalidOptionError('join.how', how, "'inner' or 'left'");
    return this.#with({ kind: 'join', right: right.logicalPlan, on, how });
  }

  /** The validated logical plan. */
  get logicalPlan(): LogicalPlan {
    return this.#plan;
  }

  /** @internal the right-hand sources of joins are carried on the plan */
  get source(): Dataset {
    return this.#source;
  }

  /** The plan as text: pipelines of fused steps and the breakers between them. */
  explain(): string {
    return explainPlan(this.#plan, this.#runner.runsOn?.bind(this.#runner));
  }

  /** Runs the query; the result is an arrow-js Table whose buffers view the engine's shared memory. */
  collect(opts: RunOptions = {}): Promise<Table> {
    return this.#runner.collectPlan(this.#source, this.#plan, opts.signal);
  }

  /** Runs the query and yields its result as RecordBatches. */
  stream(opts: RunOptions = {}): AsyncIterable<RecordBatch> {
    return this.#runner.streamPlan(this.#source, this.#plan, opts.signal);
  }

  /** Runs the query and writes the result (format from the extension: .arrow/.feather, .arrows, .parquet, .csv). */
  write(path: string, opts: WriteOptions = {}): Promise<WriteResult> {
    return this.#runner.writePlan(this.#source, this.#plan, path, opts);
  }
}

export class GroupedQuery {
  constructor(readonly query: Query, readonly keys: readonly string[]) {}

  agg(aggs: Record<string, AggExpr>): Query {
    return this.query.aggregateBy(this.keys, aggs);
  }
}
