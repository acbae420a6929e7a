/**
 * Logical plans: the steps of a query, validated against the input schema step by step.
 *
 * A query is a list of steps over one source. `plan()` walks them, carrying the schema forward, so
 * every error (unknown column, type mismatch, bad option) is thrown before any data is read and names
 * the step it is in. Consecutive filter / derive / select steps form one *pipeline* that the executor
 * runs morsel by morsel without materializing intermediates; aggregate, sort, limit and join are
 * pipeline breakers.
 */
import { columnType, typeLabel, type ColumnType } from '../column.js';
import { AetherError, InvalidOptionError } from '../errors.js';
import { AggExpr, ExprTypeError, UnknownColumnError, columnsOf, show, typeOf, type ExprNode, type Schema } from './expr.js';

export interface SortKey {
  readonly name: string;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

export type JoinHow = 'inner' | 'left';

export type Step =
  | { readonly kind: 'filter'; readonly predicate: ExprNode }
  | { readonly kind: 'select'; readonly names: readonly string[] }
  | { readonly kind: 'derive'; readonly columns: ReadonlyArray<readonly [string, ExprNode]> }
  | { readonly kind: 'aggregate'; readonly keys: readonly string[]; readonly aggs: ReadonlyArray<readonly [string, AggExpr]> }
  | { readonly kind: 'sort'; readonly keys: readonly SortKey[] }
  | { readonly kind: 'limit'; readonly n: number; readonly offset: number }
  | {
      readonly kind: 'join';
      readonly right: LogicalPlan;
      readonly on: ReadonlyArray<readonly [string, string]>;
      readonly how: JoinHow;
      /**
       * The output columns a later step or the result reads (set by `plan()`, see `pruneJoins`); the
       * join gathers only these. Undefined: all of them.
       */
      readonly keep?: ReadonlySet<string>;
    };

/** A query that is malformed as a whole (not one expression): names the step and what is wrong. */
export class QueryError extends AetherError {
  constructor(readonly step: string, detail: string) {
    super('ERR_QUERY_INVALID', `${step}: ${detail}`);
  }
}

export interface LogicalPlan {
  /** The input the plan reads (a Dataset; opaque here so plans stay plain data). */
  readonly source?: unknown;
  readonly sourceSchema: Schema;
  readonly sourceLabel: string;
  readonly steps: readonly Step[];
  /** Schema after each step (index i = after steps[i]); the last one is the output's. */
  readonly schemas: readonly Schema[];
  readonly output: Schema;
}

const isNumeric = (t: ColumnType) => !['bool', 'utf8', 'dictionary', 'date32', 'date64', 'timestamp'].includes(t.name);

/** The output type of an aggregate over a value of type t. */
export function aggType(a: AggExpr, t: ColumnType | undefined, where: string): ColumnType {
  switch (a.op) {
    case 'count':
    case 'countDistinct':
      return columnType('int64');
    case 'mean':
      if (!t || !isNumeric(t)) throw new ExprTypeError('mean', [t ? typeLabel(t) : 'none'], where);
      return columnType('float64');
    case 'sum':
      if (!t || !isNumeric(t)) throw new ExprTypeError('sum', [t ? typeLabel(t) : 'none'], where);
      if (t.name === 'float32' || t.name === 'float64') return columnType('float64');
      return t.name === 'uint64' ? columnType('uint64') : columnType('int64');
    case 'min':
    case 'max':
      if (!t || t.name === 'bool') throw new ExprTypeError(a.op, [t ? typeLabel(t) : 'none'], where);
      return t;
  }
}

export function plan(sourceSchema: Schema, sourceLabel: string, steps: readonly Step[], source?: unknown): LogicalPlan {
  const schemas = schemasOf(sourceSchema, steps);
  const output = schemas.length ? schemas[schemas.length - 1] : sourceSchema;
  const pruned = pruneJoins(steps, schemas, output);
  if (pruned === steps) return { source, sourceSchema, sourceLabel, steps, schemas, output };
  // The schemas again with the pruned joins: later steps then see just the columns that exist.
  const prunedSchemas = schemasOf(sourceSchema, pruned);
  return { source, sourceSchema, sourceLabel, steps: pruned, schemas: prunedSchemas, output: prunedSchemas[prunedSchemas.length - 1] };
}

/** The schema after each step; throws the first error, naming its step. */
function schemasOf(sourceSchema: Schema, steps: readonly Step[]): Schema[] {
  const schemas: Schema[] = [];
  let schema: Schema = sourceSchema;
  steps.forEach((step, i) => {
    const where = `step ${i + 1} (${step.kind})`;
    schema = applyStep(schema, step, where);
    schemas.push(schema);
  });
  return schemas;
}

/**
 * Column pruning for joins: a join gathers every output column for every matched row, so columns
 * nothing downstream reads (a join followed by an aggregate over two columns) were the bulk of its
 * work. Walks the steps backwards with the set of columns still read (the output's at the end) and
 * gives each join the subset of its output that is in that set (`keep`). Join keys stay readable by
 * the join itself whether kept or not (they come from its inputs). Returns `steps` itself when no
 * join can drop a column. The output keeps its columns and their order: every output column is read.
 */
function pruneJoins(steps: readonly Step[], schemas: readonly Schema[], output: Schema): readonly Step[] {
  if (!steps.some((s) => s.kind === 'join')) return steps;
  const out = [...steps];
  let changed = false;
  let live = new Set(output.keys());
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i];
    switch (step.kind) {
      case 'filter': columnsOf(step.predicate, live); break;
      case 'select': live = new Set(step.names); break;
      case 'derive': {
        const before = new Set(live);
        // A derive that replaces a column keeps it where it stands; if the column did not reach the
        // derive it would be appended at the end instead, so a live replaced column stays live.
        const input = i === 0 ? undefined : schemas[i - 1];
        for (const [name] of step.columns) if (!input?.has(name)) before.delete(name);
        for (const [, e] of step.columns) columnsOf(e, before);
        live = before;
        break;
      }
      case 'aggregate': {
        live = new Set(step.keys);
        for (const [, a] of step.aggs) if (a.arg) columnsOf(a.arg, live);
        break;
      }
      case 'sort': for (const k of step.keys) live.add(k.name); break;
      case 'limit': break;
      case 'join': {
        const produced = schemas[i];
        const keep = new Set([...produced.keys()].filter((n) => live.has(n)));
        // A batch needs a column to carry its row count (a bare `count()` after the join).
        if (keep.size === 0) keep.add(step.on[0][0]);
        if (keep.size < produced.size) {
          out[i] = { ...step, keep };
          changed = true;
        }
        // Before the join: the kept columns that come from the left side, and the left keys.
        const left = i === 0 ? undefined : schemas[i - 1];
        const before = new Set<string>();
        for (const n of keep) if (!left || left.has(n)) before.add(n);
        for (const [l] of step.on) before.add(l);
        live = before;
        break;
      }
    }
  }
  return changed ? out : steps;
}

function need(schema: Schema, name: string): ColumnType {
  const t = schema.get(name);
  if (!t) throw new UnknownColumnError(name, [...schema.keys()]);
  return t;
}

function applyStep(schema: Schema, step: Step, where: string): Schema {
  switch (step.kind) {
    case 'filter': {
      const t = typeOf(step.predicate, schema);
      if (t.name !== 'bool') throw new ExprTypeError('filter', [typeLabel(t), 'bool'], show(step.predicate));
      return schema;
    }
    case 'select': {
      if (step.names.length === 0) throw new QueryError(where, 'select needs at least one column');
      const out = new Map<string, ColumnType>();
      for (const n of step.names) {
        if (out.has(n)) throw new QueryError(where, `column '${n}' selected twice`);
        out.set(n, need(schema, n));
      }
      return out;
    }
    case 'derive': {
      const out = new Map(schema);
      for (const [name, e] of step.columns) out.set(name, typeOf(e, schema));
      return out;
    }
    case 'aggregate': {
      const out = new Map<string, ColumnType>();
      for (const k of step.keys) {
        if (out.has(k)) throw new QueryError(where, `group key '${k}' given twice`);
        out.set(k, need(schema, k));
      }
      if (step.aggs.length === 0) throw new QueryError(where, 'agg needs at least one aggregate');
      for (const [name, a] of step.aggs) {
        if (out.has(name)) throw new QueryError(where, `output column '${name}' clashes with a key or another aggregate`);
        const t = a.arg ? typeOf(a.arg, schema) : undefined;
        out.set(name, aggType(a, t, a.toString()));
      }
      return out;
    }
    case 'sort': {
      if (step.keys.length === 0) throw new QueryError(where, 'sort needs at least one key');
      for (const k of step.keys) need(schema, k.name);
      return schema;
    }
    case 'limit': {
      if (!Number.isInteger(step.n) || step.n < 0) throw new InvalidOptionError('limit', step.n, 'a non-negative integer');
      if (!Number.isInteger(step.offset) || step.offset < 0) throw new InvalidOptionError('offset', step.offset, 'a non-negative integer');
      return schema;
    }
    case 'join': {
      const right = step.right.output;
      if (step.on.length === 0) throw new QueryError(where, 'join needs at least one key pair in `on`');
      for (const [l, r] of step.on) {
        const lt = need(schema, l);
        const rt = right.get(r);
        if (!rt) throw new UnknownColumnError(r, [...right.keys()]);
        const same = lt.name === rt.name || (isNumeric(lt) && isNumeric(rt)) || (['utf8', 'dictionary'].includes(lt.name) && ['utf8', 'dictionary'].includes(rt.name));
        if (!same) throw new ExprTypeError('join', [typeLabel(lt), typeLabel(rt)], `${l} = ${r}`);
      }
      const out = new Map(schema);
      const rightKeys = new Set(step.on.map(([, r]) => r));
      for (const [n, t] of right) {
        if (rightKeys.has(n) && step.on.some(([l, r]) => l === n && r === n)) continue; // same-named key appears once
        if (out.has(n)) throw new QueryError(where, `column '${n}' exists on both sides; select or derive it under another name first`);
        out.set(n, t);
      }
      if (!step.keep) return out;
      return new Map([...out].filter(([n]) => step.keep!.has(n)));
    }
  }
}

/** The columns of the source a plan reads at all (projection pushdown for file readers). */
export function sourceColumns(p: LogicalPlan): Set<string> {
  const used = new Set<string>();
  let live: Set<string> | undefined; // undefined = every column of the current schema survives
  for (const step of p.steps) {
    if (step.kind === 'filter') columnsOf(step.predicate, used);
    if (step.kind === 'derive') for (const [, e] of step.columns) columnsOf(e, used);
    if (step.kind === 'sort') for (const k of step.keys) used.add(k.name);
    if (step.kind === 'join') for (const [l] of step.on) used.add(l);
    if (step.kind === 'select') { live = new Set(step.names); break; }
    if (step.kind === 'aggregate') {
      for (const k of step.keys) used.add(k);
      for (const [, a] of step.aggs) if (a.arg) columnsOf(a.arg, used);
      live = new Set();
      break;
    }
  }
  const out = new Set<string>();
  for (const n of p.sourceSchema.keys()) if (used.has(n) || !live || live.has(n)) out.add(n);
  return out;
}

/** Human-readable plan: pipelines of fused steps separated by breakers. */
export function explain(p: LogicalPlan, runsOn?: (fused: boolean) => string): string {
  const lines: string[] = [`source ${p.sourceLabel} [${[...p.sourceSchema].map(([n, t]) => `${n}: ${typeLabel(t)}`).join(', ')}]`];
  let pipe: string[] = [];
  const flush = (fused = false) => {
    if (pipe.length) lines.push(`  pipeline (fused per morsel): ${pipe.join(' → ')}`);
    if (pipe.length && runsOn) lines.push(`    runs on: ${runsOn(fused)}`);
    pipe = [];
  };
  for (const s of p.steps) {
    switch (s.kind) {
      case 'filter': pipe.push(`filter ${show(s.predicate)}`); break;
      case 'derive': pipe.push(`derive ${s.columns.map(([n, e]) => `${n} = ${show(e)}`).join(', ')}`); break;
      case 'select': pipe.push(`select ${s.names.join(', ')}`); break;
      case 'aggregate':
        pipe.push(`${s.keys.length ? `hash aggregate by ${s.keys.join(', ')}` : 'aggregate'}: ${s.aggs.map(([n, a]) => `${n} = ${a}`).join(', ')} (per-morsel partials)`);
        flush(true);
        lines.push('  merge partials');
        break;
      case 'sort': flush(); lines.push(`  sort ${s.keys.map((k) => `${k.name} ${k.descending ? 'desc' : 'asc'} nulls ${k.nullsFirst ? 'first' : 'last'}`).join(', ')} (radix argsort + gather)`); break;
      case 'limit': flush(); lines.push(`  limit ${s.n}${s.offset ? ` offset ${s.offset}` : ''}`); break;
      case 'join': flush(); lines.push(`  hash join (${s.how}) on ${s.on.map(([l, r]) => `${l} = ${r}`).join(', ')}; build side: ${s.right.sourceLabel}${s.keep ? `; gathers only ${[...s.keep].join(', ')}` : ''}`); break;
    }
  }
  flush();
  lines.push(`output [${[...p.output].map(([n, t]) => `${n}: ${typeLabel(t)}`).join(', ')}]`);
  return lines.join('\n');
}
