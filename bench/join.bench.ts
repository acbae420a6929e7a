/**
 * npm run bench:join — a 1 M × 100 K equi-join on an int32 key (the right side is the build side),
 * in one process:
 *
 *   aetherflow         engine.query(fact).join(dim, { on }).collect(): the wasm hash join (build with
 *                      the group-by table, probe kernel, then `take` of every column)
 *   aetherflow-before  the engine's previous join, kept here as the "before" of the change: group ids
 *                      over the concatenated keys, then the row pairs built in a JS loop, then `take`
 *   js-loop            what a user writes over typed arrays: a Map from key to row chain, a probe
 *                      loop, then gathering each column
 *   duckdb             the same join materialized (CREATE OR REPLACE TEMP TABLE … AS SELECT …)
 *
 * and the join followed by an aggregate (count, sum of a column from each side), where DuckDB need not
 * materialize the pairs. Every implementation's result is checked against the others first.
 *
 * Data: fact k = (i·7919) mod 120 000 (≈ 17 % of fact rows find no dim row), dim keys a permutation
 * of 0 … 99 999. Env: BENCH_FACT (default 1 000 000), BENCH_DIM (default 100 000), BENCH_TIME (ms per
 * task, default 2000). A run with non-default sizes prints but does not write bench/results/join.json.
 */
import { loadavg } from 'node:os';
import { DuckDBInstance } from '@duckdb/node-api';
import { Vector, tableFromArrays } from 'apache-arrow';
import { Batch } from '../src/arrow/batch.js';
import { exportData } from '../src/arrow/export.js';
import { importVector } from '../src/arrow/import.js';
import { Column, columnType, type ArenaScope } from '../src/index.js';
import { columnFromArray } from '../src/column-alloc.js';
import { Engine } from '../src/engine/engine.js';
import { count, sum } from '../src/engine/expr.js';
import { groupIds } from '../src/kernels/groupby.js';
import { take } from '../src/kernels/filter.js';
import { runCases, writeResults, type Case } from './lib/harness.js';

const N = Number(process.env.BENCH_FACT ?? 1_000_000);
const M = Number(process.env.BENCH_DIM ?? 100_000);
const TIME = Number(process.env.BENCH_TIME ?? 2000);
const standard = N === 1_000_000 && M === 100_000;
const tag = standard ? '1Mx100K' : `${N}x${M}`;
const KEYS = Math.round(M * 1.2);

// ---------------------------------------------------------------------------------------------
// Data (the same formulas in JS and in DuckDB's SQL)

const fact = {
  id: Int32Array.from({ length: N }, (_, i) => i),
  k: Int32Array.from({ length: N }, (_, i) => (i * 7919) % KEYS),
  v: Float64Array.from({ length: N }, (_, i) => (i % 1000) / 10),
};
const dim = {
  dk: Int32Array.from({ length: M }, (_, j) => (j * 37) % M),
  w: Float64Array.from({ length: M }, (_, j) => j * 0.5),
};
if (M % 37 === 0) throw new Error('BENCH_DIM must not be a multiple of 37 (dim keys must be a permutation)');

const engine = await Engine.start();
const factDs = engine.fromArrow(tableFromArrays(fact), 'fact');
const dimDs = engine.fromArrow(tableFromArrays(dim), 'dim');
const ctx = engine.ctx;

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run(`CREATE TABLE fact AS SELECT i::INTEGER AS id, ((i * 7919) % ${KEYS})::INTEGER AS k, (i % 1000) / 10.0 AS v FROM range(${N}) t(i)`);
await conn.run(`CREATE TABLE dim AS SELECT ((j * 37) % ${M})::INTEGER AS dk, (j * 0.5)::DOUBLE AS w FROM range(${M}) t(j)`);
const JOIN_SQL = 'SELECT id, k, v, w FROM fact JOIN dim ON k = dk';
const AGG_SQL = 'SELECT count(*) AS n, sum(v) AS sv, sum(w) AS sw FROM fact JOIN dim ON k = dk';

// ---------------------------------------------------------------------------------------------
// The engine's previous join (before the wasm probe), on the in-memory batches

function joinBefore(left: Batch, right: Batch, lkey: string, rkey: string, scope: ArenaScope): Batch {
  const n = left.length;
  const m = right.length;
  const lk = left.column(lkey);
  const rk = right.column(rkey);
  const both = importVector(ctx, scope, new Vector([exportData(rk), exportData(lk)]), { copy: true });
  const ids = groupIds([both], { scope });
  const id = new Int32Array(ctx.mem.buffer, ids.ids.values, n + m).slice();
  const hasNull = (c: Column, i: number) => !c.isValid(i);
  const start = new Int32Array(ids.groups + 1);
  for (let r = 0; r < m; r++) if (!hasNull(rk, r)) start[id[r] + 1]++;
  for (let g = 0; g < ids.groups; g++) start[g + 1] += start[g];
  const fill = start.slice(0, ids.groups);
  const rows = new Int32Array(start[ids.groups]);
  for (let r = 0; r < m; r++) if (!hasNull(rk, r)) rows[fill[id[r]]++] = r;
  const li: number[] = [];
  const ri: number[] = [];
  for (let l = 0; l < n; l++) {
    const g = id[m + l];
    const lo = hasNull(lk, l) ? 0 : start[g];
    const hi = hasNull(lk, l) ? 0 : start[g + 1];
    for (let k = lo; k < hi; k++) { li.push(l); ri.push(rows[k]); }
  }
  const lidx = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(li));
  const ridx = columnFromArray(ctx, scope, columnType('int32'), Int32Array.from(ri));
  const out: Array<[string, Column]> = [];
  for (const [name, c] of left) out.push([name, take(c, lidx, { scope })]);
  for (const [name, c] of right) if (name !== rkey) out.push([name, take(c, ridx, { scope })]);
  return new Batch(out, li.length);
}

// ---------------------------------------------------------------------------------------------
// js-loop: a Map from key to the first build row, rows chained through `next`

function jsJoin(): { id: Int32Array; k: Int32Array; v: Float64Array; w: Float64Array } {
  const head = new Map<number, number>();
  const next = new Int32Array(M).fill(-1);
  for (let j = M - 1; j >= 0; j--) {
    const h = head.get(dim.dk[j]);
    if (h !== undefined) next[j] = h;
    head.set(dim.dk[j], j);
  }
  let cap = N;
  let li = new Int32Array(cap);
  let ri = new Int32Array(cap);
  let w = 0;
  for (let i = 0; i < N; i++) {
    for (let j = head.get(fact.k[i]) ?? -1; j >= 0; j = next[j]) {
      if (w === cap) {
        cap *= 2;
        const a = new Int32Array(cap); a.set(li); li = a;
        const b = new Int32Array(cap); b.set(ri); ri = b;
      }
      li[w] = i;
      ri[w++] = j;
    }
  }
  const out = { id: new Int32Array(w), k: new Int32Array(w), v: new Float64Array(w), w: new Float64Array(w) };
  for (let p = 0; p < w; p++) {
    const i = li[p], j = ri[p];
    out.id[p] = fact.id[i];
    out.k[p] = fact.k[i];
    out.v[p] = fact.v[i];
    out.w[p] = dim.w[j];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Agreement: count, sum(v), sum(w) of the joined rows from every implementation

const joinQuery = () => engine.query(factDs).join(dimDs, { on: [['k', 'dk']] });
const aggQuery = () => joinQuery().agg({ n: count(), sv: sum('v'), sw: sum('w') });
const sums = (n: number, v: ArrayLike<number>, w: ArrayLike<number>) => {
  let sv = 0, sw = 0;
  for (let i = 0; i < n; i++) { sv += v[i]; sw += w[i]; }
  return [n, Math.round(sv * 10) / 10, Math.round(sw * 10) / 10];
};
const colOf = (t: { getChild(n: string): { toArray(): ArrayLike<number> } | null }, n: string) => t.getChild(n)!.toArray();

const ours = await joinQuery().collect();
const a = sums(ours.numRows, colOf(ours, 'v'), colOf(ours, 'w'));
engine.release(ours);
const js = jsJoin();
const b = sums(js.id.length, js.v, js.w);
const sc = ctx.scope();
const before = joinBefore(factDs.data[0], dimDs.data[0], 'k', 'dk', sc);
const bv = new Float64Array(ctx.mem.buffer, before.column('v').values, before.length);
const bw = new Float64Array(ctx.mem.buffer, before.column('w').values, before.length);
const c = sums(before.length, bv, bw);
sc.close();
const duck = (await (await conn.runAndReadAll(AGG_SQL)).getRowsJS())[0].map(Number);
const d = [duck[0], Math.round(duck[1] * 10) / 10, Math.round(duck[2] * 10) / 10];
const aggOurs = await aggQuery().collect();
const e = [Number(aggOurs.getChild('n')!.get(0)), Math.round((aggOurs.getChild('sv')!.get(0) as number) * 10) / 10, Math.round((aggOurs.getChild('sw')!.get(0) as number) * 10) / 10];
engine.release(aggOurs);
for (const [name, x] of [['js-loop', b], ['aetherflow-before', c], ['duckdb', d], ['aetherflow agg', e]] as const) {
  if (JSON.stringify(x) !== JSON.stringify(a)) throw new Error(`${name} disagrees: ${JSON.stringify(x)} vs aetherflow ${JSON.stringify(a)}`);
}
console.log(`join ${N} × ${M}: ${a[0]} rows on every implementation (sum v ${a[1]}, sum w ${a[2]}); load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);

// ---------------------------------------------------------------------------------------------
// Timing

const cases: Case[] = [
  {
    name: `join_${tag}`,
    check: false, // checked above
    impls: {
      aetherflow: async () => engine.release(await joinQuery().collect()),
      'aetherflow-before': () => {
        const s = ctx.scope();
        try {
          return joinBefore(factDs.data[0], dimDs.data[0], 'k', 'dk', s).length;
        } finally {
          s.close();
        }
      },
      'js-loop': () => jsJoin().id.length,
      duckdb: async () => void (await conn.run(`CREATE OR REPLACE TEMP TABLE r AS ${JOIN_SQL}`)),
    },
  },
  {
    name: `join_agg_${tag}`,
    check: false,
    impls: {
      aetherflow: async () => engine.release(await aggQuery().collect()),
      duckdb: async () => void (await conn.runAndReadAll(AGG_SQL)),
    },
  },
];

const rows = await runCases('join', cases, { time: TIME, iterations: 10 });
console.log(`\nload average after: ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (standard) writeResults('join', rows);
else console.log('(non-default sizes: bench/results/join.json not written)');
await engine.close();
conn.closeSync();
db.closeSync();
