/**
 * `query` nodes: an engine query over upstream outputs or files, described in YAML (or a TS object).
 *
 *   - name: revenue_by_flag
 *     type: query
 *     depends_on: [lineitem]
 *     config:
 *       source: lineitem                  # an upstream node's table · { file: data.parquet } · [a, b, c] (union)
 *       steps:
 *         - filter: l_shipdate <= date '1998-09-02' and l_returnflag = $flag
 *         - derive: { disc_price: "l_extendedprice * (1 - l_discount)" }
 *         - group_by: [l_returnflag, l_linestatus]
 *           agg: { sum_qty: sum(l_quantity), revenue: sum(disc_price), orders: count() }
 *         - sort: [l_returnflag, -revenue]  # '-' = descending
 *         - limit: 10
 *         - select: [l_returnflag, revenue]
 *         - join: { with: flags, on: l_returnflag, how: left }
 *       params: { flag: R }                # values for $name in expressions
 *       write: "${work_dir}/out.arrow"     # optional: output is then { path, rows, bytes }
 *
 * Expressions are strings in a small SQL-like syntax (query-expr.ts) parsed into the engine's own
 * expression trees. The config is checked by zod when the job loads — structure, step names,
 * aggregate names and expression syntax — so those errors name the file, line and field before
 * anything runs. Column names and types can only be checked against the data: the engine plans the
 * query before it touches any row, and a bad column fails the node with the same `file:line:column
 * field` prefix (TaskTypeInfo.where) and the columns that do exist.
 *
 * Tables pass by reference. A query's result is an arrow-js Table whose buffers are views of the
 * engine's shared memory; a downstream query imports it with `engine.fromArrow`, which borrows
 * buffers already in that memory instead of copying them. The run holds every output until it is
 * released, so an upstream table outlives the queries that borrowed it. (A table that does not live
 * in the engine — one restored from history on resume, or built by a function node — is copied once.)
 *
 * The engine is a DI service: the kind injects `engine`, which the CLI provides as a singleton (one
 * engine per process, its Memory also given to the script pool); TypeScript flows provide it with
 * `engineProvider()`. This module loads the engine lazily, so jobs without queries do not pay for it.
 */
import { mkdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { Table } from 'apache-arrow';
import { z } from 'zod';
import { AetherError } from '../../errors.js';
import { typeLabel } from '../../column.js';
import type { Engine, EngineOptions } from '../../engine/engine.js';
import type { Dataset, MemoryDataset } from '../../engine/dataset.js';
import type { Query } from '../../engine/query.js';
import type { LitValue } from '../../engine/expr.js';
import type { Provider } from '../container.js';
import type { NodeContext } from '../node-context.js';
import type { TaskType, TaskTypeInfo } from '../registry.js';
import { ANY_PARAMS, parseAgg, parseExpr, paramsOf, type Params } from './query-expr.js';

/** A query node that failed: names the node and, for YAML jobs, `file:line:column field`. */
export class QueryNodeError extends AetherError {
  constructor(readonly node: string, readonly where: string, detail: string, options?: { cause?: unknown }) {
    super('ERR_QUERY_NODE', `query node '${node}': ${where}: ${detail}`);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

// ---- config schema ----------------------------------------------------------------------------

const name = z.string().min(1);
const names = z.union([name, z.array(name).min(1)]);

/** An expression string, syntax-checked now (parameters accepted by name; their values come later). */
const exprText = z.string().min(1).superRefine((s, ctx) => {
  try { parseExpr(s, ANY_PARAMS); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); }
});
const aggText = z.string().min(1).superRefine((s, ctx) => {
  try { parseAgg(s, ANY_PARAMS); } catch (e) { ctx.addIssue({ code: 'custom', message: (e as Error).message }); }
});

const fileRef = z.strictObject({
  /** Path relative to the job file; `${work_dir}` and `${run_id}` are substituted. */
  file: name,
  format: z.enum(['arrow', 'arrows', 'parquet', 'csv']).optional(),
});
/** One table: an upstream node's output, or a file. */
const tableRef = z.union([name, fileRef], { error: 'an upstream node name or { file: path }' });
/** What a query reads: one table, or the union (same columns and types) of upstream tables. */
const source = z.union([name, fileRef, z.array(name).min(1)], { error: 'an upstream node name, { file: path }, or a list of node names (union)' });

const sortKey = z.union([name, z.strictObject({ column: name, descending: z.boolean().optional(), nulls_first: z.boolean().optional() })]);
const joinOn = z.union([name, z.array(z.union([name, z.tuple([name, name])])).min(1)], { error: 'a key column, or a list of key columns / [left, right] pairs' });

const STEPS = {
  filter: z.strictObject({ filter: exprText }),
  derive: z.strictObject({ derive: z.record(name, exprText).refine((r) => Object.keys(r).length > 0, 'at least one column') }),
  aggregate: z.strictObject({
    group_by: names.optional(),
    agg: z.record(name, aggText).refine((r) => Object.keys(r).length > 0, 'at least one aggregate'),
  }),
  sort: z.strictObject({ sort: z.union([sortKey, z.array(sortKey).min(1)]) }),
  limit: z.strictObject({ limit: z.number().int().min(0), offset: z.number().int().min(0).optional() }),
  select: z.strictObject({ select: names }),
  join: z.strictObject({ join: z.strictObject({ with: tableRef, on: joinOn, how: z.enum(['inner', 'left']).default('inner') }) }),
} as const;
type StepKind = keyof typeof STEPS;
export type QueryStep = { [K in StepKind]: z.output<(typeof STEPS)[K]> }[StepKind];
const STEP_KEYS: Record<string, StepKind> = {
  filter: 'filter', derive: 'derive', group_by: 'aggregate', agg: 'aggregate', sort: 'sort',
  limit: 'limit', offset: 'limit', select: 'select', join: 'join',
};

/** A step is recognised by its key, then checked by that step's schema (clearer than a union's errors). */
const step = z.unknown().transform((v, ctx): QueryStep => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) {
    ctx.addIssue({ code: 'custom', message: `a step is a mapping: ${Object.keys(STEP_KEYS).filter((k) => k !== 'offset' && k !== 'agg').join(' | ')}` });
    return z.NEVER;
  }
  const keys = Object.keys(v);
  const kind = keys.map((k) => STEP_KEYS[k]).find((k) => k !== undefined);
  if (!kind) {
    ctx.addIssue({ code: 'custom', path: keys.slice(0, 1), message: `unknown step '${keys[0] ?? ''}' (known: filter, derive, group_by + agg, sort, limit, select, join)` });
    return z.NEVER;
  }
  const r = STEPS[kind].safeParse(v);
  if (!r.success) {
    for (const i of r.error.issues) ctx.addIssue({ ...(i as any), path: i.path });
    return z.NEVER;
  }
  return r.data as QueryStep;
});

const litValue = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const queryConfig = z.strictObject({
  source,
  steps: z.array(step).default([]),
  /** Values of `$name` in expressions. */
  params: z.record(name, litValue).default({}),
  /** Write the result to a file (format from the extension); the node's output is then { path, rows, bytes }. */
  write: name.optional(),
  format: z.enum(['arrow', 'arrows', 'parquet', 'csv']).optional(),
}).superRefine((cfg, ctx) => {
  // Every $param an expression uses must have a value.
  cfg.steps.forEach((s, k) => {
    for (const [path, text] of exprTexts(s)) {
      for (const p of paramsOf(text)) {
        if (!(p in cfg.params)) ctx.addIssue({ code: 'custom', path: ['steps', k, ...path], message: `parameter '$${p}' has no value in params` });
      }
    }
  });
});
export type QueryConfig = z.input<typeof queryConfig>;
type Config = z.output<typeof queryConfig>;

function exprTexts(s: QueryStep): [(string | number)[], string][] {
  if ('filter' in s) return [[['filter'], s.filter]];
  if ('derive' in s) return Object.entries(s.derive).map(([k, t]) => [['derive', k], t]);
  if ('agg' in s) return Object.entries(s.agg).map(([k, t]) => [['agg', k], t]);
  return [];
}

// ---- the engine as a service ------------------------------------------------------------------

/**
 * The `engine` provider for TypeScript flows and run managers: `flow(…).provide('engine', engineProvider())`
 * or `container.register('engine', engineProvider())`. Singleton by default (one engine — one shared
 * Memory — for all runs of the container); `scope: 'perRun'` gives each run its own, closed when the
 * run ends (its result tables must not be used after that).
 */
export function engineProvider(opts: EngineOptions & { scope?: 'singleton' | 'perRun' } = {}): Provider<Engine> {
  const { scope = 'singleton', ...engineOpts } = opts;
  return {
    scope,
    create: async () => (await import('../../engine/engine.js')).Engine.start(engineOpts),
    dispose: (e) => e.close(),
  };
}

// ---- the task type ----------------------------------------------------------------------------

export interface QueryWriteOutput {
  /** Relative to the run's work directory when the file is inside it (outputs stay location-independent). */
  path: string;
  rows: number;
  bytes: number;
}

export const queryTask: TaskType<Config> = {
  schema: queryConfig,
  inject: ['engine'],
  description: 'an engine query over upstream tables or files; output: an Arrow table (or { path, rows, bytes } with write)',
  create(raw, info) {
    const cfg = queryConfig.parse(raw);
    return (ctx: NodeContext) => runQuery(cfg, info, ctx);
  },
};

async function runQuery(cfg: Config, info: TaskTypeInfo, ctx: NodeContext): Promise<Table | QueryWriteOutput> {
  const engine = ctx.services.engine as Engine | undefined;
  const where = (path: (string | number)[]) => info.where?.(path) ?? ['config', ...path].map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('').slice(1);
  const fail = (path: (string | number)[], e: unknown): never => {
    if (e instanceof QueryNodeError) throw e;
    throw new QueryNodeError(info.name, where(path), (e as Error)?.message ?? String(e), { cause: e });
  };
  if (!engine || typeof engine.query !== 'function') {
    return fail([], new Error("no engine: provide the 'engine' service (the CLI does; in TypeScript: .provide('engine', engineProvider()))"));
  }
  const opened: Dataset[] = [];
  try {
    const src = await openSource(engine, cfg.source, info, ctx, opened, fail, ['source']);
    let q: Query = engine.query(src);
    const params: Params = cfg.params as Record<string, LitValue>;
    for (let k = 0; k < cfg.steps.length; k++) {
      const s = cfg.steps[k];
      const at = (...p: (string | number)[]) => ['steps', k, ...p];
      try {
        q = await applyStep(engine, q, s, params, info, ctx, opened, fail, at);
      } catch (e) {
        fail(at(Object.keys(s)[0]), e);
      }
    }
    if (cfg.write !== undefined) {
      const path = filePath(cfg.write, info, ctx);
      mkdirSync(dirname(path), { recursive: true });
      try {
        const format = cfg.format ?? IPC_EXT[extname(path).toLowerCase()];
        if (format === 'arrow' || format === 'arrows') return { path: portable(path, ctx), ...(await writeIpcFile(engine, q, path, format, ctx.signal)) };
        const r = await q.write(path, { signal: ctx.signal, format: cfg.format });
        return { path: portable(r.path, ctx), rows: r.rows, bytes: r.bytes };
      } catch (e) {
        return fail(['write'], e);
      }
    }
    try {
      return await q.collect({ signal: ctx.signal });
    } catch (e) {
      if (ctx.signal.aborted) throw e;
      return fail([], e);
    }
  } finally {
    // The result lives in its own scope: the imported inputs can go now. (Borrowed upstream buffers
    // belong to the upstream's result, not to these datasets, and are not freed here.)
    for (const d of opened) (d as MemoryDataset).release?.();
  }
}

type Fail = (path: (string | number)[], e: unknown) => never;

const IPC_EXT: Record<string, 'arrow' | 'arrows'> = { '.arrow': 'arrow', '.feather': 'arrow', '.ipc': 'arrow', '.arrows': 'arrows' };

/**
 * Arrow IPC files are written here rather than by `query.write`, with the dictionary ids renumbered
 * (arrow-codec.ts): the engine gives every export fresh ids, so the same result would otherwise be
 * written with different bytes by a resumed run than by an uninterrupted one.
 */
async function writeIpcFile(engine: Engine, q: Query, path: string, format: 'arrow' | 'arrows', signal: AbortSignal): Promise<{ rows: number; bytes: number }> {
  const table = await q.collect({ signal });
  try {
    const [{ tableToIPC }, { normalizeDictionaryIds }] = await Promise.all([import('apache-arrow'), import('./arrow-codec.js')]);
    const bytes = tableToIPC(normalizeDictionaryIds(table), format === 'arrow' ? 'file' : 'stream');
    await writeFile(path, bytes);
    return { rows: table.numRows, bytes: bytes.byteLength };
  } finally {
    engine.release(table);
  }
}

async function applyStep(engine: Engine, q: Query, s: QueryStep, params: Params, info: TaskTypeInfo, ctx: NodeContext,
                         opened: Dataset[], fail: Fail, at: (...p: (string | number)[]) => (string | number)[]): Promise<Query> {
  if ('filter' in s) return q.filter(parseExpr(s.filter, params));
  if ('derive' in s) {
    const cols: Record<string, ReturnType<typeof parseExpr>> = {};
    for (const [k, t] of Object.entries(s.derive)) cols[k] = parseExpr(t, params);
    return q.derive(cols);
  }
  if ('agg' in s) {
    const aggs: Record<string, ReturnType<typeof parseAgg>> = {};
    for (const [k, t] of Object.entries(s.agg)) aggs[k] = parseAgg(t, params);
    const keys = s.group_by === undefined ? [] : typeof s.group_by === 'string' ? [s.group_by] : s.group_by;
    return keys.length ? q.groupBy(...keys).agg(aggs) : q.agg(aggs);
  }
  if ('sort' in s) {
    const keys = Array.isArray(s.sort) ? s.sort : [s.sort];
    return q.sort(...keys.map((k) => (typeof k === 'string' ? k : { column: k.column, descending: k.descending, nullsFirst: k.nulls_first })));
  }
  if ('limit' in s) return q.limit(s.limit, s.offset ?? 0);
  if ('select' in s) return q.select(...(typeof s.select === 'string' ? [s.select] : s.select));
  const j = s.join;
  const right = await openSource(engine, j.with, info, ctx, opened, fail, at('join', 'with'));
  const on = typeof j.on === 'string' ? j.on : j.on.map((k) => (typeof k === 'string' ? k : ([k[0], k[1]] as const)));
  return q.join(right, { on, how: j.how });
}

/** `${work_dir}` / `${run_id}` substituted, then resolved against the job file's directory. */
function filePath(text: string, info: TaskTypeInfo, ctx: NodeContext): string {
  const p = text.replace(/\$\{(\w+)\}/g, (m, v: string) => {
    if (v === 'work_dir') {
      if (!ctx.workDir) throw new QueryNodeError(info.name, text, '${work_dir} is used but the run has no work directory (the CLI gives one; in TypeScript: run({ workDir }))');
      return ctx.workDir;
    }
    if (v === 'run_id') return ctx.runId;
    throw new QueryNodeError(info.name, text, `unknown variable ${m} (known: \${work_dir}, \${run_id})`);
  });
  return isAbsolute(p) ? p : resolve(info.baseDir, p);
}

/** A path inside the run's work directory, relative to it (so two runs' outputs compare equal). */
function portable(path: string, ctx: NodeContext): string {
  if (!ctx.workDir) return path;
  const r = relative(ctx.workDir, path);
  return r.startsWith('..') || isAbsolute(r) ? path : r.split(sep).join('/');
}

function isTable(v: unknown): v is Table {
  return v !== null && typeof v === 'object' && Array.isArray((v as Table).batches) && typeof (v as Table).getChild === 'function';
}

async function openSource(engine: Engine, src: Config['source'], info: TaskTypeInfo, ctx: NodeContext,
                          opened: Dataset[], fail: Fail, path: (string | number)[]): Promise<Dataset> {
  if (typeof src === 'object' && !Array.isArray(src)) {
    const file = filePath(src.file, info, ctx);
    try {
      const ds = await engine.read(file, { format: src.format });
      opened.push(ds);
      return ds;
    } catch (e) {
      return fail([...path, 'file'], e);
    }
  }
  const table = (node: string, p: (string | number)[]): Table => {
    let v: unknown;
    try {
      v = ctx.input(node);
    } catch {
      return fail(p, new Error(`'${node}' is not a dependency of this node: add it to depends_on`));
    }
    if (!isTable(v)) fail(p, new Error(`upstream '${node}' gave ${v === undefined ? 'nothing' : `a ${typeof v}`}, not an Arrow table`));
    return v as Table;
  };
  const open = (t: Table, label: string, p: (string | number)[]): MemoryDataset => {
    try {
      const ds = engine.fromArrow(t, label);
      opened.push(ds);
      return ds;
    } catch (e) {
      return fail(p, e);
    }
  };
  if (typeof src === 'string') return open(table(src, path), src, path);
  // Union (fan-in): the parts' batches, in order, as one table. Each part's dictionaries carry their
  // own ids (every export takes a fresh one), so the batches are re-typed to the first part's schema
  // (no data copied); importing then unifies the dictionaries and concatenates the chunks (one copy).
  const parts = src.map((n, k) => table(n, [...path, k]));
  const sig = (t: Table) => t.schema.fields.map((f) => `${f.name} ${f.type}`).join(', ');
  const first = sig(parts[0]);
  parts.forEach((t, k) => {
    if (sig(t) !== first) fail([...path, k], new Error(`'${src[k]}' has columns (${sig(t)}), '${src[0]}' has (${first}): a union needs the same columns and types`));
  });
  const { RecordBatch, Table: ArrowTable, Struct, makeData } = await import('apache-arrow');
  const schema = parts[0].schema;
  const type = new Struct(schema.fields);
  const batches = parts.flatMap((t) => t.batches.map((b) => new RecordBatch(schema, makeData({
    type, length: b.numRows, nullCount: 0,
    children: b.data.children.map((d, c) => (d.type === schema.fields[c].type ? d : d.clone(schema.fields[c].type))),
  }))));
  return open(new ArrowTable(schema, batches), `union(${src.join(', ')})`, path);
}
