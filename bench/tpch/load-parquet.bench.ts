/**
 * The Parquet load alone (case load_parquet of tpch.bench.ts), ours and Polars interleaved in one
 * process so both see the same machine load: `engine.read(lineitem.parquet)` then release, vs
 * `pl.readParquet`. Prints each run, the min and median of each, the ratio and the load average; at the
 * default sf 1 / seed 1 also writes bench/results/load-parquet.json.
 *
 *   node --import tsx bench/tpch/load-parquet.bench.ts [--sf 1] [--seed 1] [--runs 7] [--dir DIR] [--ipc] [--wasm]
 *
 * `--ipc` adds `aetherflow-ipc`: the same read with every row group sent as IPC bytes
 * (AETHERFLOW_PARQUET_FFI=0, the path before the decoders landed groups directly), for the A/B.
 * `--wasm` adds `aetherflow-wasm`: every row group decoded by parquet-wasm instead of our page
 * kernels (AETHERFLOW_PARQUET_KERNEL=0).
 */
import { loadavg } from 'node:os';
import pl from 'nodejs-polars';
import { Engine } from '../../src/engine/engine.js';
import { argValue, ensureLineitemFiles } from './lineitem.js';
import { writeResults, type Row } from '../lib/harness.js';

const sf = Number(argValue('sf', '1'));
const seed = Number(argValue('seed', '1'));
const runs = Number(argValue('runs', '7'));
const files = await ensureLineitemFiles(sf, seed, argValue('dir'));
const engine = await Engine.start();
const impls: Record<string, () => Promise<unknown>> = {
  aetherflow: async () => (await engine.read(files.parquet)).release(),
  polars: async () => pl.readParquet(files.parquet),
};
/** Our read with an env switch set to '0' for its duration (the A/B paths below). */
const readWith = (env: string) => async () => {
  process.env[env] = '0';
  try {
    (await engine.read(files.parquet)).release();
  } finally {
    delete process.env[env];
  }
};
if (process.argv.includes('--ipc')) impls['aetherflow-ipc'] = readWith('AETHERFLOW_PARQUET_FFI');
if (process.argv.includes('--wasm')) impls['aetherflow-wasm'] = readWith('AETHERFLOW_PARQUET_KERNEL');
const times: Record<string, number[]> = Object.fromEntries(Object.keys(impls).map((k) => [k, []]));
const la0 = loadavg()[0];
for (let i = 0; i <= runs; i++) {
  for (const [name, f] of Object.entries(impls)) {
    const t = performance.now();
    await f();
    const ms = performance.now() - t;
    if (i > 0) times[name].push(ms); // run 0 warms up (page cache, JIT, decoder workers)
    console.log(`run ${i}${i === 0 ? ' (warm-up)' : ''} ${name.padEnd(15)} ${ms.toFixed(0).padStart(6)} ms`);
  }
}
const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 };
};
const a = stat(times.aetherflow), p = stat(times.polars);
console.log(`\nload_parquet_sf${sf} (${runs} runs each, interleaved; load average ${la0.toFixed(2)} → ${loadavg()[0].toFixed(2)})`);
console.log(`  aetherflow  median ${a.median.toFixed(0)} ms  min ${a.min.toFixed(0)} ms`);
console.log(`  polars      median ${p.median.toFixed(0)} ms  min ${p.min.toFixed(0)} ms`);
console.log(`  ours/polars median ${(a.median / p.median).toFixed(2)}×  min ${(a.min / p.min).toFixed(2)}×  (bar ≤ 1.5×)`);
if (times['aetherflow-ipc']) {
  const b = stat(times['aetherflow-ipc']);
  console.log(`  aetherflow-ipc median ${b.median.toFixed(0)} ms  min ${b.min.toFixed(0)} ms  (landed/ipc median ${(a.median / b.median).toFixed(2)}×)`);
}
if (times['aetherflow-wasm']) {
  const b = stat(times['aetherflow-wasm']);
  console.log(`  aetherflow-wasm median ${b.median.toFixed(0)} ms  min ${b.min.toFixed(0)} ms  (kernels/parquet-wasm median ${(a.median / b.median).toFixed(2)}×)`);
}
// bench/results/load-parquet.json (default sf/seed only): p99 is the max of these few runs.
if (sf === 1 && seed === 1) {
  const rows: Row[] = Object.entries(times).map(([impl, xs]) => ({
    case: `load_parquet_sf${sf}`, impl, median_ms: stat(xs).median, p99_ms: Math.max(...xs), samples: xs.length,
    min_ms: stat(xs).min, load_average: Number(la0.toFixed(2)),
  }));
  writeResults('load-parquet', rows);
}
await engine.close();
