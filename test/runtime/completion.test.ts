/**
 * The batched completion path (runtime.ts `#endTick` / `#poll` / `#arm`, region.ts `finishTask`):
 * many jobs in flight at once, completing through the done ring while the owner submits more,
 * mixed with aborts (before submit, while queued behind full job slots, while running), a trap
 * and a dead worker. Every promise settles exactly once with the outcome its job calls for, and
 * nothing stays in use afterwards. Also: the runtime is idle again (< 5 % of a core, nobody
 * woken) once a burst is over and the workers' search window has passed.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { columnFromArray } from '../../src/column-alloc.js';
import { JobAbortedError, KernelTrapError, WorkerDiedError } from '../../src/errors.js';
import * as agg from '../../src/kernels/aggregate.js';
import { exitJob, noopJob, spinJob, sumJob, trapJob } from '../../src/runtime/plans.js';
import { Op } from '../../src/runtime/ops.js';
import { Runtime, type JobSpec } from '../../src/runtime/runtime.js';
import { randomArray, typeOf } from '../helpers/columns.js';
import { rng, SCALE } from '../helpers/rng.js';
import { assertIdleFor } from './threads.js';

let rt: Runtime;

test.before(async () => {
  // Few job slots and descriptors: bursts overflow into the owner's backlog.
  rt = await Runtime.start({ workers: 2, maxBytes: 1 << 30, morselRows: 1024, jobCapacity: 64, taskCapacity: 1024 });
});

test.after(async () => {
  await rt.close();
});

const tick = () => new Promise<void>((r) => setImmediate(r));

type Outcome = { ok: true; v: unknown } | { ok: false; e: unknown };

test('batched completions: bursts of mixed jobs with aborts, a trap and a dead worker — each settles exactly once, correctly', async () => {
  const seed = 20261122;
  const r = rng(seed);
  const scope = rt.ctx.scope();
  const cols = Array.from({ length: 8 }, (_, i) => columnFromArray(rt.ctx, scope, typeOf('int32'), randomArray('int32', 500 + i * 3000, r)));
  const sums = cols.map((c) => agg.sum(c));
  const live = rt.ctx.arena.stats().liveScopes;

  // A short job whose finish counts its calls: finish runs once per successful job, never twice.
  const finishes: number[] = [];
  const counted = (i: number): JobSpec<number, void> => ({
    name: 'counted', short: true,
    plan: (p) => p.task(Op.NOOP),
    finish: () => {
      finishes[i] = (finishes[i] ?? 0) + 1;
      return i;
    },
  });

  const total = Math.round(20_000 * SCALE);
  const trapAt = Math.floor(total * 0.3);
  const exitAt = Math.floor(total * 0.6);
  const settled = new Array<number>(total).fill(0);
  const outcome = new Array<Outcome | undefined>(total);
  const kind = new Array<string>(total);
  const expect = new Array<unknown>(total);
  const all: Array<Promise<void>> = [];
  const timers: Array<ReturnType<typeof setTimeout>> = [];

  let i = 0;
  while (i < total) {
    // A burst submitted in one tick (so completions batch), then a tick or two for them to land.
    const burst = Math.min(total - i, 1 + Math.floor(r() * 2500));
    for (let b = 0; b < burst; b++, i++) {
      const x = r();
      let p: Promise<unknown>;
      if (i === trapAt) {
        kind[i] = 'trap';
        p = rt.run(trapJob(0));
      } else if (i === exitAt) {
        kind[i] = 'exit';
        p = rt.run(exitJob());
      } else if (x < 0.55) {
        kind[i] = 'counted';
        expect[i] = i;
        p = rt.run(counted(i));
      } else if (x < 0.75) {
        kind[i] = 'noop';
        p = rt.run(noopJob());
      } else if (x < 0.85) {
        const c = Math.floor(r() * cols.length);
        kind[i] = 'sum';
        expect[i] = sums[c];
        p = rt.run(sumJob(cols[c]));
      } else if (x < 0.89) {
        kind[i] = 'abort-before';
        p = rt.run(spinJob(8 * 1024, 50), { signal: AbortSignal.abort(new Error('before')) });
      } else if (x < 0.94) {
        // Aborted in the same tick it was submitted: queued in the backlog or already running.
        kind[i] = 'abort-sync';
        const ac = new AbortController();
        p = rt.run(spinJob(8 * 1024, 50), { signal: ac.signal });
        ac.abort(new Error('sync'));
      } else {
        // Aborted a little later: it may have finished by then (then it resolves, every morsel once).
        kind[i] = 'abort-later';
        const ac = new AbortController();
        p = rt.run(spinJob(8 * 1024, 20), { signal: ac.signal });
        timers.push(setTimeout(() => ac.abort(new Error('later')), Math.floor(r() * 3)));
      }
      const k = i;
      all.push(p.then(
        (v) => { settled[k]++; outcome[k] = { ok: true, v }; },
        (e) => { settled[k]++; outcome[k] = { ok: false, e }; },
      ));
    }
    if (r() < 0.5) await tick();
  }
  await Promise.all(all);
  for (const t of timers) clearTimeout(t);

  for (let k = 0; k < total; k++) {
    const o = outcome[k]!;
    assert.is(settled[k], 1, `job ${k} (${kind[k]}) settled ${settled[k]} times`);
    switch (kind[k]) {
      case 'counted':
        assert.ok(o.ok, `counted job ${k} failed: ${!o.ok && o.e}`);
        assert.is((o as { v: unknown }).v, k);
        assert.is(finishes[k], 1, `finish of job ${k} ran ${finishes[k]} times`);
        break;
      case 'noop':
        assert.ok(o.ok);
        break;
      case 'sum':
        assert.ok(o.ok);
        assert.is((o as { v: unknown }).v, expect[k]);
        break;
      case 'trap':
        assert.instance((o as { e: unknown }).e, KernelTrapError);
        break;
      case 'exit':
        assert.instance((o as { e: unknown }).e, WorkerDiedError);
        break;
      case 'abort-before':
      case 'abort-sync':
        assert.instance((o as { e: unknown }).e, JobAbortedError, `job ${k} (${kind[k]})`);
        break;
      case 'abort-later':
        if (o.ok) assert.ok((o.v as Int32Array).every((c) => c === 1), 'a job that finished ran every morsel once');
        else assert.instance(o.e, JobAbortedError);
        break;
    }
  }
  for (let k = 0; k < total; k++) if (kind[k] !== 'counted') assert.is(finishes[k], undefined);
  const later = kind.filter((x) => x === 'abort-later').length;
  const laterAborted = outcome.filter((o, k) => kind[k] === 'abort-later' && !o!.ok).length;
  console.log(`  ${total} jobs (seed ${seed}): ${later} aborted later, of which ${laterAborted} rejected and ${later - laterAborted} finished first`);

  // Nothing left behind: slots, descriptors, queues, job scopes; the dead worker was replaced.
  // The replacement worker opens its own scratch scope when it has started: wait for it to be ready.
  for (let n = 0; n < 400 && (rt.stats().workersReplaced < 1 || rt.stats().perWorker.some((w) => w.state !== 'ready')); n++) {
    await new Promise((res) => setTimeout(res, 5));
  }
  const s = rt.stats();
  assert.is(s.jobsInFlight, 0);
  assert.is(s.jobsQueued, 0);
  assert.is(s.tasksInUse, 0);
  assert.is(s.workersReplaced, 1);
  assert.ok(rt.region.canariesIntact());
  assert.is(rt.ctx.arena.stats().liveScopes, live);
  // …and it still serves.
  assert.is(await rt.run(sumJob(cols[3])), sums[3]);
  scope.close();
});

test('idle after a burst: once the search window has passed, < 5 % of a core and nobody wakes', async () => {
  for (let n = 0; n < 400 && rt.stats().perWorker.some((w) => w.state !== 'ready'); n++) await new Promise((r) => setTimeout(r, 5));
  const scope = rt.ctx.scope();
  const col = columnFromArray(rt.ctx, scope, typeOf('float64'), new Float64Array(1 << 20).fill(1));
  // A burst of tiny jobs and some real work: every worker ends up searching, then must park.
  const ps: Array<Promise<unknown>> = [];
  for (let i = 0; i < Math.round(20_000 * SCALE); i++) ps.push(rt.run(noopJob()));
  for (let i = 0; i < 20; i++) ps.push(rt.run(sumJob(col)));
  await Promise.all(ps);
  await new Promise((r) => setTimeout(r, 50)); // spinMicros is 500 µs: long past
  await assertIdleFor(() => rt.stats().perWorker.map((w) => w.parks), 1000, ' after a burst');
  scope.close();
});

test.run();
