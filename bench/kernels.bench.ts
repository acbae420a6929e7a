/**
 * npm run bench:kernels — single-thread kernels at N = 10 M rows against a plain JS typed-array loop,
 * iterating apache-arrow vectors (what a user holding an arrow-js Table writes), and a memcpy of the
 * same bytes (Float64Array.prototype.set) as the bandwidth reference.
 *
 * Env: BENCH_N (rows, default 10 000 000), BENCH_TIME (ms per task, default 1500), BENCH_CASES
 * (comma-separated case-name prefixes to run, e.g. `groupby`; default all; a filtered run prints its
 * table but does not overwrite bench/results/kernels.json).
 */
import { makeVector } from 'apache-arrow';
import { Context, columnFromArray, columnType, kernels } from '../src/index.js';
import { runCases, writeResults, type Case } from './lib/harness.js';

const N = Number(process.env.BENCH_N ?? 10_000_000);
const tag = N === 10_000_000 ? '10M' : `${N}`;
const ctx = Context.create();
const scope = ctx.scope();

// Seeded data so every run times the same work.
let seed = 42;
const rand = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x9e3779b9) >>> 0) / 2 ** 32);
const xs = new Float64Array(N).map(() => rand());
const ys = new Float64Array(N).map(() => rand());
const keys = new Int32Array(N).map(() => Math.floor(rand() * 1000));
const x = columnFromArray(ctx, scope, columnType('float64'), xs);
const y = columnFromArray(ctx, scope, columnType('float64'), ys);
const k = columnFromArray(ctx, scope, columnType('int32'), keys);
const xv = makeVector(xs);
const yv = makeVector(ys);
const kv = makeVector(keys);
const dst = new Float64Array(N);
const out = new Float64Array(N);

const cases: Case[] = [];

cases.push({
  name: `sum_f64_${tag}`,
  impls: {
    aetherflow: () => kernels.sum(x),
    'js-loop': () => { let s = 0; for (let i = 0; i < N; i++) s += xs[i]; return s; },
    'apache-arrow': () => { let s = 0; for (const v of xv) s += v as number; return s; },
    memcpy: () => { dst.set(xs); return undefined; },
  },
});

cases.push({
  name: `min_f64_${tag}`,
  impls: {
    aetherflow: () => kernels.min(x),
    'js-loop': () => { let m = Infinity; for (let i = 0; i < N; i++) if (xs[i] < m) m = xs[i]; return m; },
    'apache-arrow': () => { let m = Infinity; for (const v of xv) if ((v as number) < m) m = v as number; return m; },
  },
});

// count of x > 0.5: a fused compare + popcount (no bitmap materialized).
cases.push({
  name: `count_gt_f64_${tag}`,
  impls: {
    aetherflow: () => kernels.countCompare(x, 'gt', 0.5),
    'js-loop': () => { let c = 0; for (let i = 0; i < N; i++) if (xs[i] > 0.5) c++; return c; },
    'apache-arrow': () => { let c = 0; for (const v of xv) if ((v as number) > 0.5) c++; return c; },
  },
});

// Fresh scopes per iteration so output allocations do not accumulate.
let s2: ReturnType<typeof ctx.scope> | undefined;
const fresh = () => { s2?.close(); s2 = ctx.scope(); return s2; };

// x*2+y: the fused mulAdd kernel, one pass over memory.
cases.push({
  name: `axpy_f64_${tag}`,
  check: false,
  impls: {
    aetherflow: () => kernels.mulAdd(x, 2, y, { scope: fresh() }),
    'js-loop': () => { for (let i = 0; i < N; i++) out[i] = xs[i] * 2 + ys[i]; return undefined; },
    'apache-arrow': () => { let i = 0; const it = yv[Symbol.iterator](); for (const v of xv) out[i++] = (v as number) * 2 + (it.next().value as number); return undefined; },
  },
});

// group-by sum over 1000 int32 keys (dense path: key - min indexes the accumulators).
const sums = new Float64Array(1000);
cases.push({
  name: `groupby_sum_1000_${tag}`,
  check: false,
  impls: {
    aetherflow: () => kernels.groupBySum(k, x, { scope: fresh() }),
    'js-loop': () => { sums.fill(0); for (let i = 0; i < N; i++) sums[keys[i]] += xs[i]; return undefined; },
    'apache-arrow': () => { sums.fill(0); const it = xv[Symbol.iterator](); for (const kk of kv) sums[kk as number] += it.next().value as number; return undefined; },
  },
});

// filter: keep rows where x > 0.5 (selection computed once; the case times the compaction).
const sel = kernels.gt(x, 0.5, { nullAsFalse: true });
const selBits = new Uint8Array(ctx.mem.buffer, sel.values, Math.ceil(N / 8)).slice();
cases.push({
  name: `filter_f64_${tag}`,
  check: false,
  impls: {
    aetherflow: () => kernels.filter(x, sel, { scope: fresh() }),
    'js-loop': () => { let j = 0; for (let i = 0; i < N; i++) if ((selBits[i >>> 3] >>> (i & 7)) & 1) out[j++] = xs[i]; return j; },
    'apache-arrow': () => { let j = 0, i = 0; for (const v of xv) { if ((selBits[i >>> 3] >>> (i & 7)) & 1) out[j++] = v as number; i++; } return j; },
  },
});

// cast f64 → f32 (never null: a vectorized conversion).
const f32 = new Float32Array(N);
cases.push({
  name: `cast_f64_f32_${tag}`,
  check: false,
  impls: {
    aetherflow: () => kernels.cast(x, 'float32', { scope: fresh() }),
    'js-loop': () => { for (let i = 0; i < N; i++) f32[i] = xs[i]; return undefined; },
    'apache-arrow': () => { let i = 0; for (const v of xv) f32[i++] = v as number; return undefined; },
  },
});

// argsort of int32 keys (stable radix) vs a JS index sort and arrow-vector access.
const M = Math.min(N, 1_000_000);
const mtag = M === 1_000_000 ? '1M' : `${M}`;
const skeys = keys.subarray(0, M).map((v, i) => (v * 7919 + i) % 100003);
const sk = columnFromArray(ctx, scope, columnType('int32'), skeys);
const skv = makeVector(skeys);
cases.push({
  name: `argsort_i32_${mtag}`,
  check: false,
  impls: {
    aetherflow: () => kernels.argsort(sk, { scope: fresh() }),
    'js-loop': () => { const idx = new Int32Array(M); for (let i = 0; i < M; i++) idx[i] = i; return idx.sort((a, b) => skeys[a] - skeys[b] || a - b).length; },
    'apache-arrow': () => { const idx = new Int32Array(M); for (let i = 0; i < M; i++) idx[i] = i; return idx.sort((a, b) => (skv.get(a) as number) - (skv.get(b) as number) || a - b).length; },
  },
});

const only = process.env.BENCH_CASES?.split(',').filter(Boolean);
const picked = only ? cases.filter((c) => only.some((p) => c.name.startsWith(p))) : cases;
const rows = await runCases('kernels', picked, { time: Number(process.env.BENCH_TIME ?? 1500) });
if (!only) writeResults('kernels', rows);
scope.close();
