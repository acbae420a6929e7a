import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnFromArray } from '../../src/column-alloc.js';
import { InvalidOptionError } from '../../src/errors.js';
import * as agg from '../../src/kernels/aggregate.js';
import { aggregateJob, noopJob, spinJob, sumJob, type AggregateName } from '../../src/runtime/plans.js';
import { Runtime } from '../../src/runtime/runtime.js';
import { NUMERIC_TYPES, randomArray, randomValidity, typeOf } from '../helpers/columns.js';
import { rng, SCALE } from '../helpers/rng.js';
import { assertIdleFor } from './threads.js';

let rt: Runtime;

test.before(async () => {
  // Small morsels, so modest columns still split into many morsels and get stolen.
  rt = await Runtime.start({ workers: 2, maxBytes: 1 << 30, morselRows: 1024, jobCapacity: 64, taskCapacity: 1024 });
});

test.after(async () => {
  await rt.close();
});

test('start: workers are ready, stats are zero, bad options are typed errors', async () => {
  const s = rt.stats();
  assert.is(s.workers, 2);
  assert.is(s.morselRows, 1024);
  assert.is(s.tasksInUse, 0);
  for (const bad of [{ workers: 0 }, { morselRows: 1000 }, { taskCapacity: 1000 }, { spinMicros: -1 }]) {
    try {
      await Runtime.start(bad);
      assert.unreachable(`accepted ${JSON.stringify(bad)}`);
    } catch (e) {
      assert.instance(e, InvalidOptionError);
    }
  }
});

const near = (a: unknown, b: unknown) => {
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
    return a === b || Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
  }
  return a === b;
};

test('aggregates in parallel equal the single-thread kernel: every numeric type, with nulls', async () => {
  const r = rng(2024);
  const scope = rt.ctx.scope();
  for (const name of NUMERIC_TYPES) {
    for (const n of [0, 1, 63, 1024, 1025, 50_000]) {
      const data = randomArray(name, n, r, false);
      const valid = n > 0 && r() < 0.6 ? randomValidity(n, r, 0.2) : undefined;
      const col = columnFromArray(rt.ctx, scope, typeOf(name), data, valid);
      const single: Record<AggregateName, unknown> = {
        count: agg.count(col), sum: agg.sum(col), min: agg.min(col), max: agg.max(col), mean: agg.mean(col),
      };
      for (const op of ['count', 'sum', 'min', 'max', 'mean'] as const) {
        const par = await rt.run(aggregateJob(op, col));
        assert.ok(near(par, single[op]), `${op}(${name}, n=${n}): parallel ${par} vs kernel ${single[op]}`);
      }
    }
  }
  scope.close();
});

test('runSync gives the same sum and leaves nothing in use', () => {
  const scope = rt.ctx.scope();
  const n = 100_000;
  const data = new Float64Array(n).map((_, i) => i * 0.5);
  const col = columnFromArray(rt.ctx, scope, typeOf('float64'), data);
  assert.is(rt.runSync(sumJob(col)), agg.sum(col));
  assert.is(rt.runSync(noopJob()), undefined);
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test('morsels: each runs exactly once, and work spreads over both workers by stealing', async () => {
  const before = rt.stats().perWorker.map((w) => w.tasks);
  // 512 morsels of 100 µs: one worker alone would need 51 ms; the split tree lets the other steal.
  const counts = await rt.run(spinJob(512 * 64, 100, 64));
  assert.is(counts.length, 512);
  assert.ok(counts.every((c) => c === 1), 'every morsel ran exactly once');
  const after = rt.stats().perWorker.map((w) => w.tasks);
  const ran = after.map((t, i) => t - before[i]);
  assert.ok(ran.every((t) => t > 0), `both workers ran tasks: ${ran}`);
  assert.ok(rt.stats().perWorker.some((w) => w.steals > 0), 'someone stole');
});

test('many jobs at once, past the job-slot capacity: all complete, results correct', async () => {
  const scope = rt.ctx.scope();
  const r = rng(7);
  const cols = Array.from({ length: 40 }, () => {
    const n = 1 + Math.floor(r() * 20_000);
    return columnFromArray(rt.ctx, scope, typeOf('int32'), randomArray('int32', n, r));
  });
  const jobs: Array<Promise<unknown>> = [];
  const expect: unknown[] = [];
  for (let i = 0; i < Math.round(2000 * SCALE); i++) {
    if (i % 50 === 0) {
      const c = cols[(i / 50) % cols.length];
      jobs.push(rt.run(sumJob(c)));
      expect.push(agg.sum(c));
    } else {
      jobs.push(rt.run(noopJob()));
      expect.push(undefined);
    }
  }
  const got = await Promise.all(jobs);
  assert.equal(got, expect);
  const s = rt.stats();
  assert.is(s.jobsInFlight, 0);
  assert.is(s.jobsQueued, 0);
  assert.is(s.tasksInUse, 0);
  assert.ok(rt.region.canariesIntact());
  scope.close();
});

test('tiny-job stress: 100K no-op jobs through 64 job slots and 1024 descriptors, none lost', async () => {
  const n = Math.round(100_000 * SCALE);
  let done = 0;
  const all: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) all.push(rt.run(noopJob()).then(() => void done++));
  await Promise.all(all);
  assert.is(done, n);
  const s = rt.stats();
  assert.is(s.tasksInUse, 0);
  assert.is(s.jobsInFlight, 0);
  assert.ok(rt.region.canariesIntact());
});

test('a job scope is freed after the job, whatever the outcome', async () => {
  const scope = rt.ctx.scope();
  const col = columnFromArray(rt.ctx, scope, typeOf('float64'), new Float64Array(10_000).fill(1));
  const live = rt.ctx.arena.stats().liveScopes;
  for (let i = 0; i < 20; i++) assert.is(await rt.run(sumJob(col)), 10_000);
  assert.is(rt.ctx.arena.stats().liveScopes, live);
  scope.close();
});

test('idle: parked workers burn < 5 % of a core over 2 s', async () => {
  await rt.run(noopJob());
  await new Promise((r) => setTimeout(r, 100)); // past the spin phase
  await assertIdleFor(() => rt.stats().perWorker.map((w) => w.parks), 2000, '');
});

test('help: the submitting thread runs morsels too (runSync by default, run on request); results unchanged, each morsel once', async () => {
  const scope = rt.ctx.scope();
  const r = rng(77);
  const col = columnFromArray(rt.ctx, scope, typeOf('float64'), randomArray('float64', 300_000, r, false), randomValidity(300_000, r, 0.1));
  // Morsel partials merge in row order: the same bits whoever ran which morsel (and ≈ the kernel).
  const want = await rt.run(sumJob(col));
  assert.ok(Math.abs((want as number) - (agg.sum(col) as number)) < 1e-9 * Math.abs(want as number));
  const helper = rt.region.helperIndex;
  const before = rt.region.slot(helper, 3 /* S_TASKS */);
  assert.is(rt.runSync(sumJob(col)), want);
  assert.ok(rt.region.slot(helper, 3) > before, 'runSync helped');
  const mid = rt.region.slot(helper, 3);
  assert.is(await rt.run(sumJob(col)), want);
  assert.is(rt.region.slot(helper, 3), mid, 'run does not help unless asked');
  assert.is(await rt.run(sumJob(col), { help: true }), want);
  assert.ok(rt.region.slot(helper, 3) > mid, 'run({ help: true }) helped');
  assert.is(rt.runSync(sumJob(col), { help: false }), want);
  // Every morsel exactly once with helper and workers splitting the same range.
  for (const help of [true, false]) {
    const counts = await rt.run(spinJob(64 * 500, 5, 64), { help });
    assert.ok(counts.every((c) => c === 1), `help=${help}: each morsel once`);
    assert.ok(rt.runSync(spinJob(64 * 500, 5, 64), { help }).every((c) => c === 1));
  }
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test.run();
