import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnFromArray } from '../../src/column-alloc.js';
import { JobAbortedError, KernelTrapError, RuntimeClosedError, WorkerDiedError } from '../../src/errors.js';
import * as agg from '../../src/kernels/aggregate.js';
import { dieUnclaimedJob, exitJob, noopJob, spinJob, sumJob, trapJob } from '../../src/runtime/plans.js';
import { Op } from '../../src/runtime/ops.js';
import { Runtime, type Planner } from '../../src/runtime/runtime.js';
import { randomArray, typeOf } from '../helpers/columns.js';
import { rng } from '../helpers/rng.js';

let rt: Runtime;

test.before(async () => {
  rt = await Runtime.start({ workers: 2, maxBytes: 1 << 30, morselRows: 1024 });
});

test.after(async () => {
  await rt.close();
});

async function rejects(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw assert.unreachable('expected a rejection');
}

async function replaced(n: number): Promise<void> {
  for (let i = 0; i < 400 && rt.stats().workersReplaced < n; i++) await new Promise((r) => setTimeout(r, 5));
  assert.is(rt.stats().workersReplaced, n);
  // …and until the replacement is up (it opens its own scratch scope when it starts).
  for (let i = 0; i < 400 && rt.stats().perWorker.some((w) => w.state !== 'ready'); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(rt.stats().perWorker.every((w) => w.state === 'ready'));
}

function column(n: number, seed: number) {
  const scope = rt.ctx.scope();
  const col = columnFromArray(rt.ctx, scope, typeOf('int64'), randomArray('int64', n, rng(seed)));
  return { col, scope };
}

test('a kernel trap fails only its job, with KernelTrapError naming the op; other jobs stay correct', async () => {
  const { col, scope } = column(200_000, 1);
  const expect = agg.sum(col);
  const sums = Array.from({ length: 8 }, () => rt.run(sumJob(col)));
  const unreachable = rejects(rt.run(trapJob(0)));
  const oob = rejects(rt.run(trapJob(1)));
  const e0 = (await unreachable) as KernelTrapError;
  const e1 = (await oob) as KernelTrapError;
  assert.instance(e0, KernelTrapError);
  assert.is(e0.code, 'ERR_KERNEL_TRAP');
  assert.is(e0.op, 'trap');
  assert.match(e0.message, /unreachable/);
  assert.instance(e1, KernelTrapError);
  assert.match(e1.message, /out of bounds/);
  for (const s of await Promise.all(sums)) assert.is(s, expect);
  assert.is(rt.stats().workersReplaced, 0, 'a trap does not kill the worker');
  const sync = (() => { try { rt.runSync(trapJob(0)); } catch (e) { return e; } })();
  assert.instance(sync, KernelTrapError);
  scope.close();
});

test('a dead worker fails only its job (WorkerDiedError) and is replaced; the runtime keeps serving', async () => {
  const { col, scope } = column(300_000, 2);
  const expect = agg.sum(col);
  const before = rt.stats().workersReplaced;
  const sums = Array.from({ length: 6 }, () => rt.run(sumJob(col)));
  const e = (await rejects(rt.run(exitJob()))) as WorkerDiedError;
  assert.instance(e, WorkerDiedError);
  assert.is(e.op, 'exit');
  assert.match(e.message, /running 'exit'/);
  for (const s of await Promise.all(sums)) assert.is(s, expect);
  // The job may fail before the 'exit' event arrives (the dead thread's state word is enough).
  await replaced(before + 1);
  // The replacement takes work (wait for it to come up, then keep both busy).
  for (let i = 0; i < 20; i++) assert.is(await rt.run(sumJob(col)), expect);
  assert.is(rt.workers, 2);
  // runSync notices a death through the worker's state word (it cannot receive the 'exit' event).
  const sync = (() => { try { rt.runSync(exitJob()); } catch (err) { return err; } })();
  assert.instance(sync, WorkerDiedError);
  await replaced(before + 2);
  assert.is(await rt.run(sumJob(col)), expect);
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test('a worker dying between taking a task and running it fails that job (claim-on-pop), its scratch scope is reclaimed', async () => {
  const { col, scope } = column(100_000, 3);
  const expect = agg.sum(col);
  const before = rt.stats().workersReplaced;
  const live = rt.ctx.arena.stats().liveScopes;
  const sums = Array.from({ length: 4 }, () => rt.run(sumJob(col)));
  const e = (await rejects(rt.run(dieUnclaimedJob()))) as WorkerDiedError;
  assert.instance(e, WorkerDiedError);
  assert.is(e.op, 'dieUnclaimed');
  for (const s of await Promise.all(sums)) assert.is(s, expect);
  await replaced(before + 1);
  // The dead worker's own scope was closed and its replacement opened one: the count is back.
  assert.is(rt.ctx.arena.stats().liveScopes, live, 'dead worker scratch scope reclaimed');
  // runSync too (it reads the dead worker's state word between bounded waits).
  const sync = (() => { try { rt.runSync(dieUnclaimedJob()); } catch (err) { return err; } })();
  assert.instance(sync, WorkerDiedError);
  await replaced(before + 2);
  assert.is(rt.ctx.arena.stats().liveScopes, live);
  assert.is(await rt.run(sumJob(col)), expect);
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test('a failing range op run by the helping submitter fails only its job (KernelTrapError), on runSync and run', async () => {
  const { col, scope } = column(50_000, 4);
  const expect = agg.sum(col);
  // GROUP_ACC with an unknown aggregate op: the executor throws inside the op (a fault like a trap).
  const bad = {
    name: 'badGroup',
    plan(p: Planner) {
      const tables = p.alloc(2 * 16 * 64);
      p.task(Op.GROUP_ACC, { start: 0, end: 50_000, a0: col.values, a2: tables, a3: col.values, p0: 3, p1: 99, p2: 1024, p3: 8, x0: 0, x1: 2, x3: 32 });
    },
    finish() {},
  };
  const helper = rt.region.helperIndex;
  const before = rt.region.slot(helper, 3);
  const e = (() => { try { rt.runSync(bad); } catch (err) { return err; } })() as KernelTrapError;
  assert.instance(e, KernelTrapError);
  assert.is(e.op, 'badGroup');
  assert.ok(rt.region.slot(helper, 3) > before, 'the submitter ran (part of) it');
  assert.instance(await rejects(rt.run(bad, { help: true })), KernelTrapError);
  // int64: exact sums, whoever ran which morsel.
  assert.is(rt.runSync(sumJob(col)), expect);
  assert.is(await rt.run(sumJob(col), { help: true }), expect);
  assert.is(rt.stats().tasksInUse, 0);
  scope.close();
});

test('cancel: the abort flag stops the job between morsels, it rejects with JobAbortedError, its scope is freed', async () => {
  const live = rt.ctx.arena.stats().liveScopes;
  const ac = new AbortController();
  // 4000 morsels × 200 µs ≈ 0.4 s of work on two workers; abort after 30 ms.
  const job = rt.run(spinJob(4000 * 64, 200, 64), { signal: ac.signal });
  setTimeout(() => ac.abort(new Error('user cancelled')), 30);
  const t0 = performance.now();
  const e = (await rejects(job)) as JobAbortedError;
  const ms = performance.now() - t0;
  assert.instance(e, JobAbortedError);
  assert.is(e.code, 'ERR_JOB_ABORTED');
  assert.is(e.op, 'spin');
  assert.match(e.message, /user cancelled/);
  assert.ok(ms < 300, `stopped early (${ms.toFixed(0)} ms)`);
  assert.is(rt.ctx.arena.stats().liveScopes, live, 'job scope freed');
  assert.is(rt.stats().tasksInUse, 0);
  // Already-aborted signals reject at once; the runtime still serves.
  const e2 = await rejects(rt.run(noopJob(), { signal: AbortSignal.abort() }));
  assert.instance(e2, JobAbortedError);
  assert.is(await rt.run(noopJob()), undefined);
});

test('close: pending jobs reject with RuntimeClosedError; closed runtimes refuse jobs', async () => {
  const other = await Runtime.start({ workers: 1, maxBytes: 1 << 28, morselRows: 64 });
  const pending = rejects(other.run(spinJob(2000 * 64, 500, 64)));
  await new Promise((r) => setTimeout(r, 20));
  await other.close();
  assert.instance(await pending, RuntimeClosedError);
  assert.instance(await rejects(other.run(noopJob())), RuntimeClosedError);
});

test.run();
