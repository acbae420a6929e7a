import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Worker } from 'node:worker_threads';
import { flow, Container, SharedCounter } from '../../src/flow/index.js';

test('scopes: singleton shared, perRun per run and disposed at run end, transient per injection', async () => {
  let made = { s: 0, r: 0, t: 0 };
  const disposed: string[] = [];
  const c = new Container()
    .singleton('conf', () => ({ id: ++made.s }))
    .perRun('tx', (info) => ({ id: ++made.r, run: info.runId }), (v) => { disposed.push(v.run!); })
    .transient('tmp', () => ({ id: ++made.t }));
  const f = flow('di')
    .node('a', { inject: ['conf', 'tx', 'tmp'], run: (ctx) => ctx.services })
    .node('b', { after: ['a'], inject: ['conf', 'tx', 'tmp'], run: (ctx) => {
      const a = ctx.input('a');
      assert.is(ctx.services.conf, a.conf);
      assert.is(ctx.services.tx, a.tx); // same run → same perRun instance
      assert.is.not(ctx.services.tmp, a.tmp);
      assert.not.ok(disposed.includes(ctx.runId)); // not yet disposed while the run lives
      return ctx.services.tx.id;
    } })
    .build({ container: c });
  const [r1, r2] = await Promise.all([f.run(), f.run()]);
  assert.is(made.s, 1);
  assert.is(made.r, 2);
  assert.is(made.t, 4);
  assert.is.not(r1.output('b'), r2.output('b'));
  assert.equal(disposed.sort(), [r1.id, r2.id].sort()); // disposed before done resolved
  await c.dispose();
});

test('async singleton creation is shared by concurrent first resolutions', async () => {
  let made = 0;
  const c = new Container().singleton('pool', async () => { await new Promise((r) => setTimeout(r, 5)); return { n: ++made }; });
  const f = flow('as', { concurrency: 8 });
  let b: any = f;
  for (let i = 0; i < 8; i++) b = b.node(`n${i}`, { inject: ['pool'], run: (x: any) => x.services.pool.n });
  const r = await b.build({ container: c }).run();
  assert.is(made, 1);
  assert.equal(r.nodes().map((n: any) => n.output), Array(8).fill(1));
});

test('perWorker: one instance per thread', async () => {
  let made = 0;
  const c = new Container().perWorker('local', (info) => ({ thread: info.threadId, n: ++made }));
  const a = c.resolve('local');
  const b = c.resolve('local');
  assert.is(a, b);
  assert.is((a as any).thread, 0);
  assert.is(made, 1);
});

test('provider failure fails the node that injects it', async () => {
  const c = new Container().singleton('bad', () => { throw new Error('no db'); });
  const r = await flow('pf').node('x', { inject: ['bad'], run: () => 1 }).build({ container: c }).run();
  assert.is(r.nodeState('x'), 'FAILED');
  assert.match(String(r.nodeError('x')), /no db/);
});

test('sharedCounter: Atomics over a SharedArrayBuffer, updated from several threads', async () => {
  const c = new Container();
  const counter = c.sharedCounter('processed');
  const src = `
    const { workerData } = require('node:worker_threads');
    const w = new Int32Array(workerData);
    for (let i = 0; i < 10000; i++) Atomics.add(w, 0, 1);`;
  await Promise.all(Array.from({ length: 4 }, () => new Promise((res, rej) => {
    const w = new Worker(src, { eval: true, workerData: counter.buffer });
    w.on('exit', res); w.on('error', rej);
  })));
  assert.is(counter.get(), 40000);
  assert.is(c.resolve('processed'), counter);
  const view = new SharedCounter(counter.buffer);
  assert.is(view.increment(), 40001);
});

test.run();
