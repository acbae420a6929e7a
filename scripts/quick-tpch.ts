/**
 * Quick TPC-H Q1 / Q6 timing (CPU_TIME=1: process CPU time instead of wall time, for a loaded machine;
 * meaningful for single-threaded runs) over a generated lineitem-like table (not the real generator: the
 * bench in bench/tpch does that). The same rows are built in JS and in DuckDB from one integer hash
 * of the row number, so both engines see identical data and results can be compared.
 *
 *   node --import tsx scripts/quick-tpch.ts [rows=6000000] [reps=7] [--no-duckdb]
 */
import { Dictionary, Int8, Utf8, makeData, makeVector, Table, vectorFromArray, Float64, DateDay, Field, Schema, RecordBatch, Struct } from 'apache-arrow';
import { Engine } from '../src/engine/engine.js';
import { col, lit, sum, mean, count } from '../src/engine/expr.js';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const N = Number(args[0] ?? 6_000_000);
const REPS = Number(args[1] ?? 7);
const withDuck = !process.argv.includes('--no-duckdb');
const BATCH = Number(process.env.BATCH ?? 1 << 20);

const M = [2654435761, 2246822519, 3266489917, 668265263, 374761393, 2028178513];
const h = (i: number, k: number) => (Math.imul(i, M[k] | 0) >>> 0) >>> 8;
const EPOCH_1992_01_02 = Date.UTC(1992, 0, 2) / 86400000;
const CUT = Date.UTC(1995, 5, 17) / 86400000;

function gen(): Table {
  const batches: RecordBatch[] = [];
  const fields = [
    new Field('l_quantity', new Float64(), true), new Field('l_extendedprice', new Float64(), true),
    new Field('l_discount', new Float64(), true), new Field('l_tax', new Float64(), true),
    new Field('l_returnflag', new Dictionary(new Utf8(), new Int8(), 0), true),
    new Field('l_linestatus', new Dictionary(new Utf8(), new Int8(), 1), true),
    new Field('l_shipdate', new DateDay(), true),
  ];
  const rfDict = vectorFromArray(['A', 'N', 'R'], new Utf8());
  const lsDict = vectorFromArray(['F', 'O'], new Utf8());
  for (let s = 0; s < N; s += BATCH) {
    const n = Math.min(BATCH, N - s);
    const q = new Float64Array(n), p = new Float64Array(n), d = new Float64Array(n), t = new Float64Array(n);
    const rf = new Int8Array(n), ls = new Int8Array(n), sd = new Int32Array(n);
    for (let j = 0; j < n; j++) {
      const i = s + j;
      q[j] = (h(i, 0) % 50) + 1;
      p[j] = (q[j] * (90000 + (h(i, 1) % 110000))) / 100;
      d[j] = (h(i, 2) % 11) / 100;
      t[j] = (h(i, 3) % 9) / 100;
      sd[j] = EPOCH_1992_01_02 + (h(i, 4) % 2526);
      ls[j] = sd[j] > CUT ? 1 : 0;
      rf[j] = sd[j] > CUT ? 1 : h(i, 5) % 2 === 0 ? 0 : 2;
    }
    const children = [
      makeData({ type: new Float64(), length: n, data: q }), makeData({ type: new Float64(), length: n, data: p }),
      makeData({ type: new Float64(), length: n, data: d }), makeData({ type: new Float64(), length: n, data: t }),
      makeData({ type: fields[4].type, length: n, data: rf, dictionary: rfDict }),
      makeData({ type: fields[5].type, length: n, data: ls, dictionary: lsDict }),
      makeData({ type: new DateDay(), length: n, data: sd }),
    ];
    const schema = new Schema(fields);
    batches.push(new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children })));
  }
  return new Table(batches);
}

const DUCK_GEN = `create table lineitem as
with r as (select i, ((i * ${M[0]}) % 4294967296) >> 8 as h0, ((i * ${M[1]}) % 4294967296) >> 8 as h1,
  ((i * ${M[2]}) % 4294967296) >> 8 as h2, ((i * ${M[3]}) % 4294967296) >> 8 as h3,
  ((i * ${M[4]}) % 4294967296) >> 8 as h4, ((i * ${M[5]}) % 4294967296) >> 8 as h5 from range(${N}) t(i)),
s as (select *, (h0 % 50 + 1)::double as q, date '1992-01-02' + (h4 % 2526)::int as sd from r)
select q as l_quantity, (q * (90000 + h1 % 110000)) / 100 as l_extendedprice, (h2 % 11) / 100 as l_discount,
  (h3 % 9) / 100 as l_tax,
  case when sd > date '1995-06-17' then 'N' when h5 % 2 = 0 then 'A' else 'R' end as l_returnflag,
  case when sd > date '1995-06-17' then 'O' else 'F' end as l_linestatus, sd as l_shipdate from s order by i`;

const Q1_SQL = `select l_returnflag, l_linestatus, sum(l_quantity) as sum_qty, sum(l_extendedprice) as sum_base_price,
  sum(l_extendedprice * (1 - l_discount)) as sum_disc_price, sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge,
  avg(l_quantity) as avg_qty, avg(l_extendedprice) as avg_price, avg(l_discount) as avg_disc, count(*) as count_order
  from lineitem where l_shipdate <= date '1998-09-02' group by l_returnflag, l_linestatus order by l_returnflag, l_linestatus`;
const Q6_SQL = `select sum(l_extendedprice * l_discount) as revenue from lineitem where l_shipdate >= date '1994-01-01'
  and l_shipdate < date '1995-01-01' and l_discount between 0.05 and 0.07 and l_quantity < 24`;

async function time(label: string, f: () => Promise<unknown>): Promise<{ median: number; last: unknown }> {
  let last: unknown;
  const ts: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    last = await f();
    const c = process.cpuUsage(c0);
    ts.push(process.env.CPU_TIME ? (c.user + c.system) / 1000 : performance.now() - t0);
  }
  ts.sort((a, b) => a - b);
  const median = ts[ts.length >> 1];
  console.log(`${label.padEnd(22)} median ${median.toFixed(1)} ms  min ${ts[0].toFixed(1)}  max ${ts[ts.length - 1].toFixed(1)}`);
  return { median, last };
}

const engine = await Engine.start({ memoryLimit: 2 ** 31 });
const t0 = performance.now();
const ds = engine.fromArrow(gen(), 'lineitem');
console.log(`generated + imported ${N} rows in ${(performance.now() - t0).toFixed(0)} ms`);

const q1 = () => engine.query(ds)
  .filter(col('l_shipdate').le(lit.date('1998-09-02')))
  .derive({ disc_price: col('l_extendedprice').mul(lit(1).sub(col('l_discount'))) })
  .derive({ charge: col('disc_price').mul(lit(1).add(col('l_tax'))) })
  .groupBy('l_returnflag', 'l_linestatus')
  .agg({
    sum_qty: sum('l_quantity'), sum_base_price: sum('l_extendedprice'), sum_disc_price: sum('disc_price'), sum_charge: sum('charge'),
    avg_qty: mean('l_quantity'), avg_price: mean('l_extendedprice'), avg_disc: mean('l_discount'), count_order: count(),
  })
  .sort('l_returnflag', 'l_linestatus');
const q6 = () => engine.query(ds)
  .filter(col('l_shipdate').ge(lit.date('1994-01-01')).and(col('l_shipdate').lt(lit.date('1995-01-01')))
    .and(col('l_discount').between(0.05, 0.07)).and(col('l_quantity').lt(24)))
  .agg({ revenue: sum(col('l_extendedprice').mul(col('l_discount'))) });

if (process.env.EXPLAIN) console.log(q1().explain());
const run = async (q: ReturnType<typeof q1>) => {
  const t = await q.collect();
  const rows = t.toArray().map((r) => r.toJSON());
  engine.release(t);
  return rows;
};
const a1 = await time('aetherflow q1', () => run(q1()));
const a6 = await time('aetherflow q6', () => run(q6()));

if (withDuck) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const db = await DuckDBInstance.create(':memory:');
  const con = await db.connect();
  await con.run(DUCK_GEN);
  const d1 = await time('duckdb q1', async () => (await con.runAndReadAll(Q1_SQL)).getRowObjects());
  const d6 = await time('duckdb q6', async () => (await con.runAndReadAll(Q6_SQL)).getRowObjects());
  console.log(`q1 ratio duckdb/aetherflow ${(d1.median / a1.median).toFixed(2)}x   q6 ${(d6.median / a6.median).toFixed(2)}x`);
  // Agreement check (floats 1e-9 relative).
  const close = (x: number, y: number) => Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
  const ours1 = a1.last as Array<Record<string, unknown>>, theirs1 = d1.last as Array<Record<string, unknown>>;
  let ok = ours1.length === theirs1.length;
  for (let i = 0; ok && i < ours1.length; i++) {
    for (const k of Object.keys(theirs1[i])) {
      const x = ours1[i][k], y = theirs1[i][k];
      if (typeof y === 'string' ? x !== y : !close(Number(x), Number(y))) { ok = false; console.log('q1 mismatch', i, k, x, y); }
    }
  }
  const r6 = Number((a6.last as Array<Record<string, unknown>>)[0].revenue), s6 = Number((d6.last as Array<Record<string, unknown>>)[0].revenue);
  if (!close(r6, s6)) { ok = false; console.log('q6 mismatch', r6, s6); }
  console.log(ok ? 'results agree with duckdb' : 'RESULTS DIFFER');
  con.closeSync?.();
}
await engine.close();
