/**
 * npm run bench:kernels — single-thread kernels at N = 10 M rows against a plain JS typed-array loop,
 * iterating apache-arrow vectors (what a user holding an arrow-js Table writes), and a memcpy of the
 * same bytes (Float64Array.prototype.set) as the bandwidth reference.
 *
 * Env: BENCH_N (rows, default 10 000 000), BENCH_TIME (ms per task, default 1500).
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

const K = kernels as Record<string, unknown>;
type Fn = (...a: unknown[]) => unknown;

if (typeof K.countCompare === 'function') {
  const countCompare = K.countCompare as Fn;
  cases.push({
    name: `count_gt_f64_${tag}`,
    impls: {
      aetherflow: () => countCompare(x, 'gt', 0.5),
      'js-loop': () => { let c = 0; for (let i = 0; i < N; i++) if (xs[i] > 0.5) c++; return c; },
      'apache-arrow': () => { let c = 0; for (const v of xv) if ((v as number) > 0.5) c++; return c; },
    },
  });
}

if (typeof K.mulAdd === 'function') {
  const mulAdd = K.mulAdd as Fn;
  let s2: ReturnType<typeof ctx.scope> | undefined;
  cases.push({
    name: `axpy_f64_${tag}`,
    check: false,
    impls: {
      aetherflow: () => { s2?.close(); s2 = ctx.scope(); return mulAdd(x, 2, y, { scope: s2 }); },
      'js-loop': () => { for (let i = 0; i < N; i++) out[i] = xs[i] * 2 + ys[i]; return undefined; },
      'apache-arrow': () => { let i = 0; const it = yv[Symbol.iterator](); for (const v of xv) out[i++] = (v as number) * 2 + (it.next().value as number); return undefined; },
    },
  });
}

if (typeof K.groupBySum === 'function') {
  const groupBySum = K.groupBySum as Fn;
  let s3: ReturnType<typeof ctx.scope> | undefined;
  const sums = new Float64Array(1000);
  cases.push({
    name: `groupby_sum_1000_${tag}`,
    check: false,
    impls: {
      aetherflow: () => { s3?.close(); s3 = ctx.scope(); return groupBySum(k, x, { scope: s3 }); },
      'js-loop': () => { sums.fill(0); for (let i = 0; i < N; i++) sums[keys[i]] += xs[i]; return undefined; },
      'apache-arrow': () => { sums.fill(0); let i = 0; const it = xv[Symbol.iterator](); for (const kk of kv) sums[kk as number] += it.next().value as number, i++; return undefined; },
    },
  });
}

const rows = await runCases('kernels', cases, { time: Number(process.env.BENCH_TIME ?? 1500) });
writeResults('kernels', rows);
scope.close();
