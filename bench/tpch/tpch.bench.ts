/**
 * TPC-H Q1 and Q6 on AetherFlow, DuckDB and nodejs-polars over the same generated `lineitem`, plus
 * the time each takes to load the Parquet and the CSV file.
 *
 *   npm run bench:tpch -- --sf 1 [--seed 1] [--dir DIR] [--skip-load]
 *
 * Data: bench/tpch/lineitem.ts writes lineitem.arrow/.csv/.parquet once per (sf, seed) under
 * $TMPDIR/aetherflow-tpch/ and reuses them. In memory, each engine holds the same values:
 *   - AetherFlow: `engine.read(lineitem.arrow)` (the generator's own IPC file, 1 M-row batches;
 *     dictionary flags) — or `fromArrow` of the same file when the multi-batch path fails (see below),
 *   - DuckDB: `CREATE TABLE lineitem AS SELECT * FROM read_parquet(...)` (DOUBLE money, DATE dates),
 *   - Polars: `readIPC` of the same IPC file (Categorical flags), queried as a lazy frame.
 * Before timing, the three results are checked to agree (counts and integer sums exactly, other
 * floats to 1e-9 relative). Timing is in-process with tinybench (bench/lib/harness.ts); the loads are
 * timed with a plain loop (1 warm-up + `--load-runs` runs, default 3) because one load is seconds.
 * `aetherflow` is `Engine.start()` with its default workers (one per core); `aetherflow-1t` is the same
 * queries on an engine with `workers: 0` (the calling thread only), to show what the workers add.
 * Writes bench/results/tpch.json (cases q1_sf<sf>, q6_sf<sf>, load_parquet_sf<sf>, load_csv_sf<sf>).
 */
import { readFileSync } from 'node:fs';
import pl from 'nodejs-polars';
import { DuckDBInstance } from '@duckdb/node-api';
import { tableFromIPC } from 'apache-arrow';
import { Engine } from '../../src/engine/engine.js';
import type { MemoryDataset } from '../../src/engine/dataset.js';
import { runCases, writeResults, type Case, type Row as ResultRow } from '../lib/harness.js';
import { argValue, ensureLineitemFiles } from './lineitem.js';
import { Q1_SQL, Q6_SQL, assertAgree, duckRows, polarsRows, q1Aether, q1Polars, q6Aether, q6Polars, rowsOfArrow, type Row } from './queries.js';

const sf = Number(argValue('sf', '1'));
const seed = Number(argValue('seed', '1'));
const loadRuns = Number(argValue('load-runs', '3'));
const tag = `sf${String(sf).replace('.', '_')}`;

const files = await ensureLineitemFiles(sf, seed, argValue('dir'));
console.log(`lineitem sf=${sf}: ${files.rows} rows (${files.dir}; Parquet written by ${files.parquetWriter})`);

// ---------------------------------------------------------------------------------------------
// Load the same data into each engine.

const engine = await Engine.start();
let t0 = performance.now();
let ds: MemoryDataset = await engine.read(files.arrow);
console.log(`aetherflow: read ${files.arrow} (${ds.data.length} batches) in ${(performance.now() - t0).toFixed(0)} ms`);
try {
  engine.release(await q1Aether(engine, ds).collect());
} catch (e) {
  // Known executor bug (see the report of issue 4): a multi-batch source with dictionary columns
  // fails in concatBatches ("schemas must be equivalent"). fromArrow imports the whole table as one
  // batch, which sidesteps it; the data is the same.
  console.log(`aetherflow: Q1 over the file's ${ds.data.length} batches fails (${(e as Error).message}); using engine.fromArrow(tableFromIPC(file)) instead`);
  ds.release();
  t0 = performance.now();
  ds = engine.fromArrow(tableFromIPC(readFileSync(files.arrow)), 'lineitem');
  console.log(`aetherflow: fromArrow in ${(performance.now() - t0).toFixed(0)} ms`);
}

// The same engine on the calling thread only (workers: 0), for the speed-up the workers give.
const engine1t = await Engine.start({ workers: 0 });
const ds1t: MemoryDataset = await engine1t.read(files.arrow);

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
t0 = performance.now();
await conn.run(`CREATE TABLE lineitem AS SELECT * FROM read_parquet('${files.parquet}')`);
console.log(`duckdb: loaded the Parquet file into a table in ${(performance.now() - t0).toFixed(0)} ms`);

t0 = performance.now();
const df = pl.readIPC(readFileSync(files.arrow)); // a Buffer: a string path is only taken as a path for *.ipc
console.log(`polars: read the IPC file in ${(performance.now() - t0).toFixed(0)} ms`);

// ---------------------------------------------------------------------------------------------
// Agreement, then timing.

async function aether(q: ReturnType<typeof q1Aether>): Promise<Row[]> {
  const t = await q.collect();
  try {
    return rowsOfArrow(t);
  } finally {
    engine.release(t);
  }
}

const q1 = q1Aether(engine, ds), q6 = q6Aether(engine, ds);
const q1p = q1Polars(df), q6p = q6Polars(df);
console.log('\nQ1 plan (aetherflow):\n' + q1.explain());
for (const [name, ours, duck, polars] of [
  ['Q1', () => aether(q1), () => duckRows(conn, Q1_SQL), async () => polarsRows(q1p.collectSync())],
  ['Q6', () => aether(q6), () => duckRows(conn, Q6_SQL), async () => polarsRows(q6p.collectSync())],
] as const) {
  const a = await ours(), d = await duck(), p = await polars();
  assertAgree(name, ['aetherflow', a], ['duckdb', d]);
  assertAgree(name, ['aetherflow', a], ['polars', p]);
  console.log(`${name}: the three engines agree (${a.length} row${a.length === 1 ? '' : 's'})`);
  if (name === 'Q1') console.table(a);
  else console.log(a[0]);
}

// The timed bodies: run the query to a materialized result and drop it.
const queryCases: Case[] = [
  {
    name: `q1_${tag}`,
    check: false, // checked above (the harness's own check compares sync values only)
    impls: {
      aetherflow: async () => engine.release(await q1.collect()),
      'aetherflow-1t': async () => engine1t.release(await q1Aether(engine1t, ds1t).collect()),
      duckdb: async () => void (await conn.run(Q1_SQL)),
      polars: () => q1p.collectSync(),
    },
  },
  {
    name: `q6_${tag}`,
    check: false,
    impls: {
      aetherflow: async () => engine.release(await q6.collect()),
      'aetherflow-1t': async () => engine1t.release(await q6Aether(engine1t, ds1t).collect()),
      duckdb: async () => void (await conn.run(Q6_SQL)),
      polars: () => q6p.collectSync(),
    },
  },
];
const rows: ResultRow[] = await runCases('tpch', queryCases, { time: 3000, iterations: 10 });

// ---------------------------------------------------------------------------------------------
// Loads: Parquet and CSV into each engine's memory.

const missing: string[] = [];

async function timeLoad(name: string, impls: Record<string, () => Promise<unknown>>): Promise<void> {
  const caseRows: ResultRow[] = [];
  for (const [impl, f] of Object.entries(impls)) {
    const times: number[] = [];
    try {
      for (let i = 0; i <= loadRuns; i++) {
        const t = performance.now();
        await f();
        if (i > 0) times.push(performance.now() - t); // run 0 warms up (page cache, JIT)
      }
    } catch (e) {
      const msg = (e as Error).message.split('\n')[0];
      missing.push(`${name}/${impl}: ${msg}`);
      console.log(`  ${name}/${impl}: not measured — ${msg}`);
      continue;
    }
    times.sort((a, b) => a - b);
    const median = times.length % 2 ? times[times.length >> 1] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
    caseRows.push({ case: name, impl, median_ms: round(median), p99_ms: round(times[times.length - 1]), samples: times.length });
  }
  printCase(name, caseRows);
  rows.push(...caseRows);
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function printCase(name: string, rs: ResultRow[]): void {
  const base = rs.find((r) => r.impl === 'aetherflow');
  console.log(`\n${name}`);
  for (const r of rs) {
    const ratio = base ? (base.median_ms / r.median_ms).toFixed(3) : 'n/a';
    console.log(`  ${r.impl.padEnd(22)}${r.median_ms.toFixed(1).padStart(12)} ms  (max ${r.p99_ms.toFixed(1)} ms, n=${r.samples})  ours/theirs ${r.impl === 'aetherflow' ? '—' : ratio}`);
  }
}

if (!process.argv.includes('--skip-load')) {
  const dropDuck = async (t: string) => void (await conn.run(`DROP TABLE IF EXISTS ${t}`));
  await timeLoad(`load_parquet_${tag}`, {
    aetherflow: async () => (await engine.read(files.parquet)).release(),
    duckdb: async () => {
      await conn.run(`CREATE OR REPLACE TABLE load_parquet AS SELECT * FROM read_parquet('${files.parquet}')`);
      await dropDuck('load_parquet');
    },
    polars: async () => pl.readParquet(files.parquet),
  });
  await timeLoad(`load_csv_${tag}`, {
    aetherflow: async () => (await engine.read(files.csv)).release(),
    duckdb: async () => {
      await conn.run(`CREATE OR REPLACE TABLE load_csv AS SELECT * FROM read_csv('${files.csv}', header = true)`);
      await dropDuck('load_csv');
    },
    polars: async () => pl.readCSV(files.csv, { tryParseDates: true }),
  });
}

writeResults('tpch', rows);
if (missing.length) console.log(`\nnot measured:\n  ${missing.join('\n  ')}`);

// Bars of issue 4 (SF 1, this 2-core machine): Q1 ≥ 2× faster than DuckDB, Q6 ≥ 1.5×, loads ≤ 1.5× Polars.
const med = (c: string, i: string) => rows.find((r) => r.case === c && r.impl === i)?.median_ms;
// Query bars read as a speed-up (theirs / ours), load bars as a time ratio (ours / theirs).
const bar = (label: string, c: string, vs: string, want: (ours: number, theirs: number) => boolean, need: string, asTime = false) => {
  const o = med(c, 'aetherflow'), t = med(c, vs);
  if (o === undefined || t === undefined) return console.log(`  ${label}: not measured`);
  const ratio = asTime ? `ours/${vs} ${(o / t).toFixed(2)}×` : `${(t / o).toFixed(2)}× faster`;
  console.log(`  ${label}: ours ${o.toFixed(1)} ms vs ${vs} ${t.toFixed(1)} ms → ${ratio} (${need}) ${want(o, t) ? 'MET' : 'NOT MET'}`);
};
console.log('\nbars (issue 4):');
bar('Q1 vs DuckDB', `q1_${tag}`, 'duckdb', (o, t) => t / o >= 2, 'need ≥ 2× faster');
bar('Q6 vs DuckDB', `q6_${tag}`, 'duckdb', (o, t) => t / o >= 1.5, 'need ≥ 1.5× faster');
bar('Parquet load vs Polars', `load_parquet_${tag}`, 'polars', (o, t) => o <= 1.5 * t, 'need ≤ 1.5×', true);
bar('CSV load vs Polars', `load_csv_${tag}`, 'polars', (o, t) => o <= 1.5 * t, 'need ≤ 1.5×', true);

ds.release();
await engine.close();
await engine1t.close();
conn.closeSync();
db.closeSync();
