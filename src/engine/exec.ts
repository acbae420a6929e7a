/**
 * The executor: runs a validated LogicalPlan over a dataset with the kernels (src/kernels).
 *
 * Per source batch, the leading pipeline (filter / derive / select) runs kernel by kernel on the
 * batch; the outputs of all batches are concatenated; then the breakers (aggregate, sort, limit,
 * join) and any later pipeline steps run on the concatenated result. Intermediates live in a work
 * scope closed at the end; only the result's columns are copied into the result scope.
 *
 * Expression values stay scalars as long as they can (`lit(1).sub(col('d'))` is one scalar∘column
 * kernel call, not a broadcast column), and literals take the type of the column they meet.
 */
import { Batch } from '../arrow/batch.js';
import { exportData } from '../arrow/export.js';
import { importTable, importVector } from '../arrow/import.js';
import { Column, columnType, typeLabel, type ColumnType } from '../column.js';
import type { Context } from '../context.js';
import { AetherError } from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import type { Dataset } from './dataset.js';
import { commonNumeric, literalType, operandTypes, show, temporalOffset, typeOf, type ExprNode, type LitValue, type Schema } from './expr.js';
import { FallBack, compileFused } from './fused.js';
import { ops } from './ops.js';
import type { LogicalPlan, Step } from './plan.js';
import type { Runtime } from '../runtime/runtime.js';
import { runStepOn } from './exec-parallel.js';
import { Field, RecordBatch, Schema as ArrowSchema, Struct, Table, makeData } from 'apache-arrow';

export type Value = { readonly kind: 'col'; readonly col: Column } | { readonly kind: 'scalar'; readonly value: LitValue; readonly type: ColumnType };

/** A query was cancelled through its AbortSignal. */
export class QueryAbortedError extends AetherError {
  constructor() {
    super('ERR_QUERY_ABORTED', 'the query was aborted');
  }
}

const isPipeline = (s: Step) => s.kind === 'filter' || s.kind === 'derive' || s.kind === 'select';

/** Execution switches (tests run both paths; benchmarks may tune the morsel size). */
export const execOptions = {
  /** Run `filter/derive/select → aggregate` as a fused morsel pipeline when it compiles (fused.ts). */
  fuse: process.env.AETHERFLOW_NO_FUSE !== '1',
  morselRows: Number(process.env.AETHERFLOW_MORSEL_ROWS ?? 0) || undefined,
};

/**
 * Runs plan p over source into resultScope. `rt`: the engine's runtime (Engine.start({ workers }));
 * without one everything runs on this thread.
 */
export async function execute(ctx: Context, source: Dataset, p: LogicalPlan, resultScope: ArenaScope, signal?: AbortSignal, rt?: Runtime): Promise<Batch> {
  const fused = execOptions.fuse ? compileFused(p, source, execOptions.morselRows) : undefined;
  if (fused) {
    const work = ctx.scope();
    try {
      let cur: Batch | undefined;
      try {
        cur = await fused.run(ctx, source, work, signal, rt);
      } catch (e) {
        if (!(e instanceof FallBack)) throw e;
      }
      if (cur) {
        for (let i = fused.steps; i < p.steps.length; i++) {
          if (signal?.aborted) throw new QueryAbortedError();
          cur = runStep(cur, p.steps[i], p.schemas[i - 1], work);
        }
        return copyBatch(cur, resultScope);
      }
    } finally {
      work.close();
    }
  }
  return executeMaterialized(ctx, source, p, resultScope, signal, rt);
}

/** Kernel by kernel over whole batches, materializing every intermediate (the general path). */
async function executeMaterialized(ctx: Context, source: Dataset, p: LogicalPlan, resultScope: ArenaScope, signal?: AbortSignal, rt?: Runtime): Promise<Batch> {
  const work = ctx.scope();
  const batchScopes: ArenaScope[] = [];
  try {
    const lead = leadingPipeline(p.steps);
    const outs: Batch[] = [];
    for await (const b of source.batches(() => { const s = ctx.scope(); batchScopes.push(s); return s; }, signal)) {
      if (signal?.aborted) throw new QueryAbortedError();
      let cur = b;
      let schema = p.sourceSchema;
      for (let i = 0; i < lead; i++) {
        cur = await runStepOn(rt, cur, p.steps[i], schema, work, undefined, signal);
        schema = p.schemas[i];
      }
      // Keep the (usually much smaller) pipeline output, free the imported batch right away.
      outs.push(batchScopes.length ? copyBatch(cur, work) : cur);
      while (batchScopes.length) batchScopes.pop()!.close();
    }
    // Build sides of joins run first, into the work scope.
    const joins = new Map<Step, Batch>();
    for (const s of p.steps) {
      if (s.kind === 'join') joins.set(s, await execute(ctx, s.right.source as Dataset, s.right, work, signal, rt));
    }
    let cur = outs.length === 1 ? outs[0] : concatBatches(ctx, outs, lead === 0 ? p.sourceSchema : p.schemas[lead - 1], work);
    for (let i = lead; i < p.steps.length; i++) {
      if (signal?.aborted) throw new QueryAbortedError();
      cur = await runStepOn(rt, cur, p.steps[i], i === 0 ? p.sourceSchema : p.schemas[i - 1], work, joins, signal);
    }
    return copyBatch(cur, resultScope);
  } finally {
    for (const s of batchScopes) if (s.open) s.close();
    work.close();
  }
}

function leadingPipeline(steps: readonly Step[]): number {
  let i = 0;
  while (i < steps.length && isPipeline(steps[i])) i++;
  return i;
}

export function runStep(b: Batch, step: Step, schema: Schema, scope: ArenaScope, joins?: Map<Step, Batch>): Batch {
  switch (step.kind) {
    case 'filter': {
      const v = evaluate(step.predicate, b, schema, scope);
      if (v.kind === 'scalar') return v.value === true ? b : emptyLike(b, scope);
      const sel = ops.selection(v.col, scope);
      return mapColumns(b, (c) => ops.filter(c, sel, scope));
    }
    case 'select':
      return new Batch(step.names.map((n) => [n, b.column(n)] as const), b.length);
    case 'derive': {
      const cols = new Map(b);
      for (const [name, e] of step.columns) cols.set(name, materialize(evaluate(e, b, schema, scope), b.length, scope, b.columns[0]));
      return new Batch(cols, b.length);
    }
    case 'aggregate': {
      const args = step.aggs.map(([name, a]) => ({
        name,
        op: a.op,
        col: a.arg ? materialize(evaluate(a.arg, b, schema, scope), b.length, scope, b.columns[0]) : undefined,
      }));
      const keys = step.keys.map((k) => b.column(k));
      const out = ops.aggregate(keys, args, b.length, scope, b.columns[0]);
      return new Batch([...step.keys.map((k, i) => [k, out.keys[i]] as const), ...args.map((a, i) => [a.name, out.values[i]] as const)]);
    }
    case 'sort': {
      const perm = ops.argsort(step.keys.map((k) => b.column(k.name)), step.keys.map((k) => k.descending), step.keys.map((k) => k.nullsFirst), scope);
      return mapColumns(b, (c) => ops.take(c, perm, scope));
    }
    case 'limit': {
      const start = Math.min(step.offset, b.length);
      const n = Math.min(step.n, b.length - start);
      return mapColumns(b, (c) => ops.slice(c, start, n, scope), n);
    }
    case 'join':
      return ops.join(b, step, joins!.get(step)!, scope);
  }
}

function mapColumns(b: Batch, f: (c: Column) => Column, length?: number): Batch {
  const cols: Array<[string, Column]> = [];
  for (const [n, c] of b) cols.push([n, f(c)]);
  return new Batch(cols, length ?? (cols[0]?.[1].length ?? b.length));
}

function emptyLike(b: Batch, scope: ArenaScope): Batch {
  return mapColumns(b, (c) => ops.slice(c, 0, 0, scope), 0);
}

/** Evaluates an expression over a batch. */
export function evaluate(n: ExprNode, b: Batch, schema: Schema, scope: ArenaScope): Value {
  switch (n.kind) {
    case 'col':
      return { kind: 'col', col: b.column(n.name) };
    case 'lit':
      return { kind: 'scalar', value: n.value, type: literalType(n) };
    case 'arith': {
      const [lt, rt] = temporalOffset(n, schema, n) ?? operandTypes(n.left, n.right, schema, n);
      const out = typeOf(n, schema);
      const temporal = lt.name === 'date32' || lt.name === 'date64' || lt.name === 'timestamp';
      const calc = temporal ? (out.name === 'int64' ? columnType('int64') : physicalInt(lt)) : commonNumeric(lt, rt);
      const l = coerce(evaluateTyped(n.left, lt, b, schema, scope), calc, scope);
      const r = coerce(evaluateTyped(n.right, rt, b, schema, scope), calc, scope);
      if (l.kind === 'scalar' && r.kind === 'scalar') return { kind: 'scalar', value: foldArith(n.op, l.value, r.value, calc), type: out };
      const res = ops.arith(n.op, operand(l), operand(r), scope);
      return { kind: 'col', col: ops.relabel(res, out) };
    }
    case 'neg':
    case 'abs': {
      const v = evaluate(n.arg, b, schema, scope);
      if (v.kind === 'scalar') {
        const x = v.value as number | bigint;
        const r = n.kind === 'neg' ? -x : x < 0 ? -x : x;
        return { kind: 'scalar', value: r, type: v.type };
      }
      return { kind: 'col', col: ops.arith(n.kind, v.col, undefined, scope) };
    }
    case 'cmp': {
      const [lt, rt] = operandTypes(n.left, n.right, schema, n);
      const calc = comparisonType(lt, rt);
      const l = coerce(evaluateTyped(n.left, lt, b, schema, scope), calc, scope);
      const r = coerce(evaluateTyped(n.right, rt, b, schema, scope), calc, scope);
      if (l.kind === 'scalar' && r.kind === 'scalar') return { kind: 'scalar', value: foldCmp(n.op, l.value, r.value), type: columnType('bool') };
      if (l.kind === 'scalar') return { kind: 'col', col: ops.compare(FLIP[n.op], (r as ColValue).col, l.value, scope) };
      return { kind: 'col', col: ops.compare(n.op, l.col, r.kind === 'col' ? r.col : r.value, scope) };
    }
    case 'between': {
      const at = typeOf(n.arg, schema);
      const a = evaluate(n.arg, b, schema, scope);
      const lo = evaluateTyped(n.lo, n.lo.kind === 'lit' ? literalType(n.lo, at) : typeOf(n.lo, schema), b, schema, scope);
      const hi = evaluateTyped(n.hi, n.hi.kind === 'lit' ? literalType(n.hi, at) : typeOf(n.hi, schema), b, schema, scope);
      if (a.kind === 'col' && lo.kind === 'scalar' && hi.kind === 'scalar' && !(typeof lo.value === 'string')) {
        return { kind: 'col', col: ops.between(a.col, lo.value, hi.value, scope) };
      }
      // General case: (a >= lo) AND (a <= hi).
      const ge = evaluate({ kind: 'cmp', op: 'ge', left: n.arg, right: n.lo }, b, schema, scope);
      const le = evaluate({ kind: 'cmp', op: 'le', left: n.arg, right: n.hi }, b, schema, scope);
      return logic('and', ge, le, b.length, scope);
    }
    case 'and':
    case 'or':
      return logic(n.kind, evaluate(n.left, b, schema, scope), evaluate(n.right, b, schema, scope), b.length, scope);
    case 'not': {
      const v = evaluate(n.arg, b, schema, scope);
      if (v.kind === 'scalar') return { kind: 'scalar', value: v.value === null ? null : !v.value, type: v.type };
      return { kind: 'col', col: ops.not(v.col, scope) };
    }
    case 'isNull':
    case 'isNotNull': {
      const v = evaluate(n.arg, b, schema, scope);
      if (v.kind === 'scalar') return { kind: 'scalar', value: (v.value === null) === (n.kind === 'isNull'), type: columnType('bool') };
      return { kind: 'col', col: ops.isNull(v.col, n.kind === 'isNotNull', scope) };
    }
    case 'cast': {
      const v = evaluate(n.arg, b, schema, scope);
      return coerce(v, n.to, scope);
    }
  }
}

type ColValue = Extract<Value, { kind: 'col' }>;

const FLIP = { eq: 'eq', ne: 'ne', lt: 'gt', le: 'ge', gt: 'lt', ge: 'le' } as const;

function evaluateTyped(n: ExprNode, t: ColumnType, b: Batch, schema: Schema, scope: ArenaScope): Value {
  if (n.kind === 'lit') return { kind: 'scalar', value: n.value, type: t };
  return evaluate(n, b, schema, scope);
}

function physicalInt(t: ColumnType): ColumnType {
  return t.name === 'date32' ? columnType('int32') : columnType('int64');
}

/** The type a comparison is computed in. */
function comparisonType(a: ColumnType, b: ColumnType): ColumnType {
  const num = (t: ColumnType) => !['bool', 'utf8', 'dictionary', 'date32', 'date64', 'timestamp'].includes(t.name);
  if (num(a) && num(b)) return commonNumeric(a, b);
  return a;
}

/** Brings a value to type t: scalars are converted in JS, columns with the cast kernel. */
function coerce(v: Value, t: ColumnType, scope: ArenaScope): Value {
  if (v.kind === 'scalar') return { kind: 'scalar', value: v.value, type: t };
  const c = v.col;
  if (c.type.name === t.name && c.type.unit === t.unit) return v;
  if (c.type.name === 'dictionary' || c.type.name === 'utf8') return v; // string comparisons take either
  // Temporal ↔ its physical integer: reinterpret, no copy.
  if ((c.type.name === 'date32' && t.name === 'int32') || ((c.type.name === 'date64' || c.type.name === 'timestamp') && t.name === 'int64')) {
    return { kind: 'col', col: ops.relabel(c, t) };
  }
  return { kind: 'col', col: ops.cast(c, t, scope) };
}

function operand(v: Value): Column | number | bigint {
  if (v.kind === 'col') return v.col;
  if (typeof v.value === 'number' || typeof v.value === 'bigint') {
    if (typeof v.value === 'number' && (v.type.name === 'int64' || v.type.name === 'uint64')) return BigInt(v.value);
    return v.value;
  }
  throw new AetherError('ERR_EXPR_TYPE', `cannot use ${String(v.value)} (${typeLabel(v.type)}) as an arithmetic operand`);
}

function foldArith(op: string, a: LitValue, b: LitValue, t: ColumnType): LitValue {
  if (a === null || b === null) return null;
  if (typeof a === 'bigint' || typeof b === 'bigint' || t.name === 'int64' || t.name === 'uint64') {
    const x = BigInt(a as number), y = BigInt(b as number);
    return op === 'add' ? x + y : op === 'sub' ? x - y : op === 'mul' ? x * y : y === 0n ? null : x / y;
  }
  const x = a as number, y = b as number;
  const isInt = t.name.startsWith('int') || t.name.startsWith('uint');
  if (op === 'div') return isInt ? (y === 0 ? null : Math.trunc(x / y)) : x / y;
  return op === 'add' ? x + y : op === 'sub' ? x - y : x * y;
}

function foldCmp(op: string, a: LitValue, b: LitValue): LitValue {
  if (a === null || b === null) return null;
  switch (op) {
    case 'eq': return a === b;
    case 'ne': return a !== b;
    case 'lt': return (a as number) < (b as number);
    case 'le': return (a as number) <= (b as number);
    case 'gt': return (a as number) > (b as number);
    default: return (a as number) >= (b as number);
  }
}

function logic(op: 'and' | 'or', l: Value, r: Value, n: number, scope: ArenaScope): Value {
  if (l.kind === 'scalar' && r.kind === 'scalar') {
    const a = l.value as boolean | null, c = r.value as boolean | null;
    const v = op === 'and' ? (a === false || c === false ? false : a === null || c === null ? null : true) : (a === true || c === true ? true : a === null || c === null ? null : false);
    return { kind: 'scalar', value: v, type: columnType('bool') };
  }
  if (l.kind === 'scalar') [l, r] = [r, l];
  const lc = (l as ColValue).col;
  if (r.kind === 'scalar') {
    // x AND true = x; x AND false = false; x OR false = x; x OR true = true (Kleene, scalar side).
    if (r.value === (op === 'and')) return l;
    if (r.value !== null) return { kind: 'col', col: ops.constBool(r.value as boolean, n, scope, lc) };
    return { kind: 'col', col: ops.logic(op, lc, ops.constBool(null, n, scope, lc), scope) };
  }
  return { kind: 'col', col: ops.logic(op, lc, r.col, scope) };
}

/** A value as a column of n rows (scalars are broadcast). */
export function materialize(v: Value, n: number, scope: ArenaScope, like: Column): Column {
  if (v.kind === 'col') return v.col;
  return ops.broadcast(v.value, v.type, n, scope, like);
}

/** Copies a batch's columns into `scope` (arrow export → import: one copy, any type). */
function copyBatch(b: Batch, scope: ArenaScope): Batch {
  if (b.numColumns === 0) return b;
  const ctx = b.columns[0].ctx;
  return importTable(ctx, scope, toRecordBatch(b), { copy: true });
}

function toRecordBatch(b: Batch): RecordBatch {
  const fields: Field[] = [];
  const children = [];
  for (const [name, col] of b) {
    const d = exportData(col);
    fields.push(new Field(name, d.type, true));
    children.push(d);
  }
  const schema = new ArrowSchema(fields);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: b.length, nullCount: 0, children }));
}

/** Concatenates batches of one schema into one batch (one copy). */
function concatBatches(ctx: Context, bs: Batch[], schema: Schema, scope: ArenaScope): Batch {
  if (bs.length === 0) return ops.emptyBatch(ctx, schema, scope);
  // Column by column, as chunks of one Vector: batches may carry different dictionaries (each
  // export is a new Dictionary type), which an arrow Table refuses but the importer unifies.
  const cols: Array<[string, Column]> = [];
  for (const name of bs[0].names) {
    const chunks = bs.map((b) => exportData(b.column(name)));
    cols.push([name, importVector(ctx, scope, chunks, { copy: true, name })]);
  }
  return new Batch(cols, bs.reduce((n, b) => n + b.length, 0));
}

export { show };
