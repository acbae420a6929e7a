import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flow, type FlowEvent } from '../../src/flow/index.js';
import { NodeTimeoutError, RunCancelledError } from '../../src/errors.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('states: COMPLETED, FAILED, SKIPPED downstream of a failure; independent branches finish', async () => {
  const ran: string[] = [];
  const f = flow('st')
    .node('ok', () => { ran.push('ok'); return 1; })
    .node('bad', async () => { ran.push('bad'); throw new Error('nope'); })
    .node('afterBad', { after: ['bad'], run: () => { ran.push('afterBad'); } })
    .node('afterAfter', { after: ['afterBad'], run: () => { ran.push('afterAfter'); } })
    .node('afterOk', { after: ['ok'], run: (c) => { ran.push('afterOk'); return c.input('ok') + 1; } })
    .build();
  const events: FlowEvent[] = [];
  const r = await f.run({ onEvent: (e) => events.push(e) });
  assert.is(r.state, 'failed');
  assert.is((r.error as Error).message, 'nope');
  assert.is(r.nodeState('ok'), 'COMPLETED');
  assert.is(r.nodeState('bad'), 'FAILED');
  assert.is(r.nodeState('afterBad'), 'SKIPPED');
  assert.is(r.nodeState('afterAfter'), 'SKIPPED');
  assert.is(r.node('afterBad').reason, "upstream 'bad' FAILED");
  assert.is(r.output('afterOk'), 2);
  assert.not.ok(ran.includes('afterBad') || ran.includes('afterAfter'));
  assert.equal(r.counts(), { PENDING: 0, READY: 0, RUNNING: 0, COMPLETED: 2, FAILED: 1, SKIPPED: 2, CANCELLED: 0 });
  assert.equal(events.filter((e) => e.type === 'run:start' || e.type === 'run:end').map((e) => e.type), ['run:start', 'run:end']);
  const ends = events.filter((e): e is Extract<FlowEvent, { type: 'node:end' }> => e.type === 'node:end');
  assert.is(ends.length, 5);
  assert.ok(ends.every((e) => e.durationMs >= 0));
});

test('lifecycle order observed from inside: READY before RUNNING, PENDING while upstream runs', async () => {
  let seen: string[] = [];
  const f = flow('lc')
    .node('a', async () => { await tick(5); })
    .node('b', { after: ['a'], run: () => {} })
    .build();
  const r = f.start();
  assert.is(r.nodeState('a'), 'RUNNING');
  assert.is(r.nodeState('b'), 'PENDING');
  seen = [r.state];
  await r.done;
  assert.equal(seen, ['running']);
  assert.is(r.nodeState('b'), 'COMPLETED');
  // a queued node is READY while the queue is full
  const g = flow('q', { concurrency: 1 }).node('x', async () => tick(5)).node('y', async () => tick(1)).build();
  const rg = g.start();
  assert.is(rg.nodeState('x'), 'RUNNING');
  assert.is(rg.nodeState('y'), 'READY');
  await rg.done;
  assert.ok(rg.node('y').queuedMs! >= 3);
});

test('optional dependency: failure tolerated, input absent, run completes', async () => {
  const f = flow('opt')
    .node('flaky', async (): Promise<number> => { throw new Error('down'); })
    .node('use', { after: [{ node: 'flaky', optional: true }], run: (c) => c.input('flaky') ?? 'fallback' })
    .build();
  const r = await f.run();
  assert.is(r.nodeState('flaky'), 'FAILED');
  assert.is(r.output('use'), 'fallback');
  assert.is(r.state, 'completed');
});

test('conditional dependency: when false → SKIPPED (and its dependents too); true → runs', async () => {
  const f = flow('cond')
    .node('check', () => ({ big: false }))
    .node('heavy', { after: [{ node: 'check', when: (o) => o.big }], run: () => 'heavy' })
    .node('light', { after: [{ node: 'check', when: (o) => !o.big }], run: () => 'light' })
    .node('report', { after: ['heavy'], run: () => 'r' })
    .build();
  const r = await f.run();
  assert.is(r.state, 'completed');
  assert.is(r.nodeState('heavy'), 'SKIPPED');
  assert.is(r.node('heavy').reason, "condition on 'check' is false");
  assert.is(r.nodeState('report'), 'SKIPPED');
  assert.is(r.output('light'), 'light');
});

test('retries with backoff: succeeds on the third attempt, retry events carry delays', async () => {
  const attempts: number[] = [];
  const f = flow('retry')
    .node('flaky', { retries: 3, retryDelayMs: 2, backoff: 3, run: (c) => {
      attempts.push(c.attempt);
      if (c.attempt < 3) throw new Error(`try ${c.attempt}`);
      return 'ok';
    } })
    .build();
  const retries: number[] = [];
  const r = await f.run({ onEvent: (e) => { if (e.type === 'node:retry') retries.push(e.delayMs); } });
  assert.is(r.output('flaky'), 'ok');
  assert.equal(attempts, [1, 2, 3]);
  assert.equal(retries, [2, 6]);
  assert.is(r.node('flaky').attempts, 3);
  assert.is(r.node('flaky').error, undefined);
  assert.is(r.retries, 2);
  // exhausted: FAILED with the last error
  const g = flow('retry2').node('x', { retries: 1, retryDelayMs: 1, run: (c) => { throw new Error(`fail ${c.attempt}`); } }).build();
  const rg = await g.run();
  assert.is(rg.nodeState('x'), 'FAILED');
  assert.is((rg.nodeError('x') as Error).message, 'fail 2');
});

test('per-node timeout: the attempt fails with NodeTimeoutError and its signal aborts', async () => {
  let sawAbort: unknown;
  const f = flow('to')
    .node('slow', { timeoutMs: 20, run: (c) => new Promise((res) => {
      const t = setTimeout(res, 2000);
      c.signal.addEventListener('abort', () => { sawAbort = c.signal.reason; clearTimeout(t); });
    }) })
    .build();
  const r = await f.run();
  assert.is(r.nodeState('slow'), 'FAILED');
  assert.instance(r.nodeError('slow'), NodeTimeoutError);
  assert.instance(sawAbort, NodeTimeoutError);
  // a timeout is retried like any failure
  let n = 0;
  const g = flow('to2').node('x', { timeoutMs: 15, retries: 1, retryDelayMs: 1, run: async () => { if (n++ === 0) await tick(200); return n; } }).build();
  const rg = await g.run();
  assert.is(rg.output('x'), 2);
});

test('cancel: running node sees abort, queued and pending nodes CANCELLED, nothing runs after', async () => {
  let started = 0;
  let reason: unknown;
  const f = flow('cx', { concurrency: 1 })
    .node('a', (c) => new Promise((res) => { started++; c.signal.addEventListener('abort', () => { reason = c.signal.reason; res(1); }); }))
    .node('b', async () => { started++; })
    .node('c', { after: ['a'], run: () => { started++; } })
    .build();
  const r = f.start();
  await tick(5);
  r.cancel('user asked');
  await r.done;
  assert.is(r.state, 'cancelled');
  assert.instance(r.error, RunCancelledError);
  assert.instance(reason, RunCancelledError);
  assert.is(started, 1);
  for (const n of ['a', 'b', 'c']) assert.is(r.nodeState(n), 'CANCELLED');
  await tick(5);
  assert.is(started, 1);
  // an external AbortSignal cancels too
  const ac = new AbortController();
  const r2 = f.start({ signal: ac.signal });
  ac.abort('stop');
  assert.is((await r2.done).state, 'cancelled');
});

test('pause / resume: no new node starts while paused', async () => {
  const order: string[] = [];
  const f = flow('pz')
    .node('a', async () => { order.push('a'); await tick(10); })
    .node('b', { after: ['a'], run: () => { order.push('b'); } })
    .build();
  const r = f.start();
  r.pause();
  assert.is(r.state, 'paused');
  await tick(30);
  assert.equal(order, ['a']);
  assert.is(r.nodeState('b'), 'READY');
  r.resume();
  await r.done;
  assert.equal(order, ['a', 'b']);
  assert.is(r.state, 'completed');
});

test('failFast cancels the rest and the run is failed with the node error', async () => {
  const f = flow('ff', { failFast: true })
    .node('bad', async () => { await tick(1); throw new Error('first'); })
    .node('slow', (c) => new Promise((res) => c.signal.addEventListener('abort', () => res(0))))
    .build();
  const r = await f.run();
  assert.is(r.state, 'failed');
  assert.is((r.error as Error).message, 'first');
  assert.is(r.nodeState('slow'), 'CANCELLED');
});

test('a 100 000-node chain of synchronous nodes does not overflow the stack', async () => {
  let b: any = flow('long').node('n0', () => 0);
  for (let i = 1; i < 100_000; i++) b = b.node(`n${i}`, { after: [`n${i - 1}`], run: (c: any) => c.input(`n${i - 1}`) + 1 });
  const r = await b.build().run();
  assert.is(r.state, 'completed');
  assert.is(r.output('n99999'), 99_999);
});

test('a failure at the head of a long chain skips the rest iteratively', async () => {
  let b: any = flow('longfail').node('n0', () => { throw new Error('x'); });
  for (let i = 1; i < 20_000; i++) b = b.node(`n${i}`, { after: [`n${i - 1}`], run: () => 1 });
  const r = await b.build().run();
  assert.is(r.counts().SKIPPED, 19_999);
});

test.run();
