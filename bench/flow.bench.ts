/**
 * npm run bench:flow — scheduling overhead of the pipeline layer with no-op nodes:
 *
 *   concurrent_runs_10k  10 000 runs of a 5-node diamond flow live at once in one process (all started,
 *                        then released together): wall time and peak RSS (run first, so the process's
 *                        peak RSS is this case's).
 *   chain_100k           a 100 000-node chain: every node waits for the previous one.
 *   fanout_100k          one root, 100 000 independent nodes, one fan-in node over all of them.
 *
 * ops_per_s is nodes per second (median run). p50_us / p99_us is the dispatch overhead per node: the
 * interval between consecutive node starts, over every timed run — everything the scheduler does
 * between two no-op nodes (completion, in-degree update, fastq push, context entry, call).
 * Variants: `aetherflow-async` (nodes are async functions: one promise + one microtask each) and, for
 * the fan-out, `aetherflow-ctx-fanout` (`ctx.fanOut` over 100 000 items, each branch in a forked
 * AsyncLocalStorage context).
 *
 * Bars (issue 5): ≥ 200 000 nodes/s; p50 < 20 µs, p99 < 200 µs; 10 000 concurrent runs < 500 MB RSS.
 * Env: BENCH_TIME (ms per task, default 1500).
 */
import { Bench } from 'tinybench';
import { flow, RunManager, type Flow, type Run } from '../src/flow/index.js';
import { writeResults, type Row } from './lib/harness.js';

const TIME = Number(process.env.BENCH_TIME ?? 1500);
const N = 100_000;
const RUNS = 10_000;
const noop = () => undefined;
const anoop = async () => undefined;

function chain(n: number, fn: () => unknown): Flow {
  const b = flow('chain');
  b.addNode({ name: 'n0', run: fn });
  for (let i = 1; i < n; i++) b.addNode({ name: `n${i}`, run: fn, deps: [{ node: `n${i - 1}`, kind: 0 }] });
  return b.build();
}

function fanout(n: number, fn: () => unknown): Flow {
  const b = flow('fanout');
  b.addNode({ name: 'root', run: fn });
  const all = [];
  for (let i = 0; i < n; i++) {
    b.addNode({ name: `l${i}`, run: fn, deps: [{ node: 'root', kind: 0 }] });
    all.push({ node: `l${i}`, kind: 0 });
  }
  b.addNode({ name: 'sink', run: fn, deps: all });
  return b.build();
}

const pct = (sorted: Float64Array, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

/** Start-to-start intervals between consecutive node dispatches of the given runs, in µs. */
function intervals(runs: Run[]): Float64Array {
  const parts: Float64Array[] = [];
  for (const r of runs) {
    const s = Float64Array.from(r.startAt).sort();
    const d = new Float64Array(s.length - 1);
    for (let i = 1; i < s.length; i++) d[i - 1] = (s[i] - s[i - 1]) * 1000;
    parts.push(d);
  }
  const all = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) { all.set(p, o); o += p.length; }
  return all.sort();
}

const rows: Row[] = [];
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function timeFlow(caseName: string, impl: string, f: Flow, nodes: number, opts: { time?: number } = {}) {
  const runs: Run[] = [];
  const bench = new Bench({ time: opts.time ?? TIME, iterations: 5, warmupIterations: 2 });
  let keep = false;
  bench.add(impl, async () => {
    const r = await f.run();
    if (r.state !== 'completed') throw new Error(`${caseName}: run ${r.state}: ${String(r.error)}`);
    if (keep && runs.length < 20) runs.push(r);
  }, { beforeEach: () => { keep = true; } } as never);
  await bench.run();
  const t = bench.tasks[0].result as { state: string; latency?: { p50: number; p99: number; samplesCount: number } };
  if (t.state !== 'completed' || !t.latency) throw new Error(`${caseName}/${impl}: ${t.state} ${(t as { error?: unknown }).error ?? ''}`);
  const gaps = intervals(runs);
  const row: Row = {
    case: caseName, impl, median_ms: round(t.latency.p50), p99_ms: round(t.latency.p99), samples: t.latency.samplesCount,
    ops_per_s: Math.round(nodes / (t.latency.p50 / 1000)), p50_us: round(pct(gaps, 0.5)), p99_us: round(pct(gaps, 0.99)),
  };
  rows.push(row);
  print(row);
}

function print(r: Row) {
  const extra = ['ops_per_s', 'p50_us', 'p99_us', 'peak_rss_mb'].filter((k) => r[k] !== undefined).map((k) => `${k}=${r[k]}`).join('  ');
  console.log(`  ${String(r.case).padEnd(20)} ${String(r.impl).padEnd(22)} median ${r.median_ms.toFixed(2).padStart(9)} ms  p99 ${r.p99_ms.toFixed(2).padStart(9)} ms  ${extra}`);
}

async function concurrentRuns() {
  // a → (b, c) → d → e; `a` waits on a gate so all runs are live at once.
  let open!: () => void;
  let gate = new Promise<void>((r) => (open = r));
  const f = flow('diamond', { concurrency: 4 })
    .node('a', () => gate)
    .node('b', { after: ['a'], run: anoop })
    .node('c', { after: ['a'], run: anoop })
    .node('d', { after: ['b', 'c'], run: anoop })
    .node('e', { after: ['d'], run: anoop })
    .build();
  const mgr = new RunManager({ maxConcurrentRuns: RUNS, retainFinished: 0 });
  const times: number[] = [];
  let peakActive = 0;
  const rssBefore = process.memoryUsage().rss;
  let peakRss = rssBefore;
  for (let it = 0; it < 5; it++) {
    gate = new Promise<void>((r) => (open = r));
    const t0 = performance.now();
    const runs = new Array<Run>(RUNS);
    for (let i = 0; i < RUNS; i++) runs[i] = mgr.start(f);
    peakActive = Math.max(peakActive, mgr.active);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    open();
    await mgr.idle();
    times.push(performance.now() - t0);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (!runs.every((r) => r.state === 'completed')) throw new Error('concurrent runs: not all completed');
  }
  if (peakActive !== RUNS) throw new Error(`only ${peakActive} runs were live at once`);
  times.sort((a, b) => a - b);
  const maxRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  const row: Row = {
    case: 'concurrent_runs_10k', impl: 'aetherflow', median_ms: round(times[2]), p99_ms: round(times[4]), samples: times.length,
    ops_per_s: Math.round((RUNS * 5) / (times[2] / 1000)), peak_rss_mb: round(maxRss / 2 ** 20, 1),
    rss_before_mb: round(rssBefore / 2 ** 20, 1),
  };
  rows.push(row);
  print(row);
}

console.log(`AetherFlow pipeline scheduling (no-op nodes), node ${process.version}\n`);
await concurrentRuns();
await timeFlow('chain_100k', 'aetherflow', chain(N, noop), N);
await timeFlow('chain_100k', 'aetherflow-async', chain(N, anoop), N);
await timeFlow('fanout_100k', 'aetherflow', fanout(N, noop), N + 2);
await timeFlow('fanout_100k', 'aetherflow-async', fanout(N, anoop), N + 2);
const ctxFan = flow('ctxfan').node('fan', (c) => c.fanOut(new Array(N).fill(0), noop, { concurrency: 1024 })).build();
{
  const bench = new Bench({ time: TIME, iterations: 5, warmupIterations: 2 });
  bench.add('aetherflow-ctx-fanout', async () => { await ctxFan.run(); });
  await bench.run();
  const t = bench.tasks[0].result as { latency: { p50: number; p99: number; samplesCount: number } };
  const row: Row = {
    case: 'fanout_100k', impl: 'aetherflow-ctx-fanout', median_ms: round(t.latency.p50), p99_ms: round(t.latency.p99),
    samples: t.latency.samplesCount, ops_per_s: Math.round(N / (t.latency.p50 / 1000)),
  };
  rows.push(row);
  print(row);
}

const bars: [string, boolean][] = [];
for (const r of rows.filter((r) => r.impl === 'aetherflow')) {
  if (r.case === 'concurrent_runs_10k') bars.push([`${r.case}: peak RSS ${r.peak_rss_mb} MB < 500`, Number(r.peak_rss_mb) < 500]);
  else {
    bars.push([`${r.case}: ${r.ops_per_s} nodes/s ≥ 200 000`, Number(r.ops_per_s) >= 200_000]);
    bars.push([`${r.case}: p50 ${r.p50_us} µs < 20`, Number(r.p50_us) < 20]);
    bars.push([`${r.case}: p99 ${r.p99_us} µs < 200`, Number(r.p99_us) < 200]);
  }
}
console.log('\nbars:');
for (const [what, ok] of bars) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${what}`);
writeResults('flow', rows);
