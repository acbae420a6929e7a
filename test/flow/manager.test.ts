import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flow, RunManager, type FlowEvent } from '../../src/flow/index.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('max concurrent runs: extra runs queue, all finish, stats add up', async () => {
  const mgr = new RunManager({ maxConcurrentRuns: 3 });
  let live = 0, peak = 0;
  const f = flow('m').node('a', async () => { live++; peak = Math.max(peak, live); await tick(3); live--; }).node('b', { after: ['a'], run: () => 1 }).build();
  const runs = Array.from({ length: 10 }, () => mgr.start(f));
  assert.is(mgr.active, 3);
  assert.is(runs[5].state, 'queued');
  assert.is(mgr.stats().runs.queued, 7);
  await mgr.idle();
  assert.is(peak, 3);
  assert.ok(runs.every((r) => r.state === 'completed'));
  const s = mgr.stats();
  assert.equal(s.runs, { queued: 0, running: 0, completed: 10, failed: 0, cancelled: 0, total: 10 });
  assert.is(s.nodes.completed, 20);
  assert.ok(s.nodesPerSecond > 0);
});

test('event stream: run and node lifecycle with timings; async iterator', async () => {
  const mgr = new RunManager();
  const ac = new AbortController();
  const got: FlowEvent[] = [];
  const reader = (async () => { for await (const e of mgr.events(ac.signal)) got.push(e); })();
  const f = flow('ev').node('a', { retries: 1, retryDelayMs: 1, run: (c) => { if (c.attempt === 1) throw new Error('x'); return 1; } }).build();
  const r = await mgr.run(f);
  await tick(1);
  ac.abort();
  await reader;
  assert.equal(got.map((e) => e.type), ['run:start', 'node:start', 'node:retry', 'node:start', 'node:end', 'run:end']);
  const end = got.find((e) => e.type === 'run:end') as any;
  assert.is(end.runId, r.id);
  assert.is(end.state, 'completed');
  assert.is(mgr.stats().nodes.retried, 1);
});

test('cleanup releases finished runs (their scopes closed); a queued run can be cancelled', async () => {
  const mgr = new RunManager({ maxConcurrentRuns: 1 });
  let closed = 0;
  const f = flow('c').node('a', async () => { await tick(2); return 'x'; }).build();
  const r1 = mgr.start(f, { scope: { close: () => closed++ } });
  const r2 = mgr.start(f, { scope: { close: () => closed++ } });
  r2.cancel();
  assert.is(r2.state, 'cancelled');
  await mgr.idle();
  assert.is(r1.output('a'), 'x');
  assert.is(mgr.list().length, 2);
  assert.is(mgr.cleanup(), 2);
  assert.is(closed, 2);
  assert.is(mgr.list().length, 0);
  assert.is(mgr.stats().runs.cancelled, 1);
});

test('retainFinished bounds what the manager keeps', async () => {
  const mgr = new RunManager({ retainFinished: 5 });
  const f = flow('r').node('a', () => 1).build();
  for (let i = 0; i < 20; i++) await mgr.run(f);
  assert.is(mgr.list().length, 5);
});

test.run();
