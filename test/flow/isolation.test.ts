import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flow, currentContext, fanOut, RunManager, FlowContext, withContext } from '../../src/flow/index.js';
import { rng } from '../helpers/rng.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const yieldN = async (n: number) => { for (let i = 0; i < n; i++) await null; };

test('many concurrent runs with interleaved awaits keep their contexts straight', async () => {
  const R = 200;
  const rand = rng(7);
  const delays = Array.from({ length: R * 4 }, () => Math.floor(rand() * 5));
  let seen = 0;
  const f = flow('iso', { concurrency: 4 })
    .node('a', async (c) => {
      const me = c.context.get<number>('who')!;
      currentContext()!.set('trail', `a${me}`);
      await tick(delays[me * 4]);
      assert.is(currentContext()!.get('who'), me);
      return me;
    })
    .node('b', { after: ['a'], run: async (c) => {
      const me = currentContext()!.get<number>('who')!;
      await yieldN(delays[me * 4 + 1]);
      assert.is(currentContext()!.get('trail'), `a${me}`); // sees its own run's earlier write
      currentContext()!.set('trail', `a${me}b`);
      await tick(delays[me * 4 + 2]);
      assert.is(c.input('a'), me);
      assert.is(currentContext()!.runId, c.runId);
      seen++;
      return currentContext()!.get('trail');
    } })
    .build();
  const mgr = new RunManager({ maxConcurrentRuns: 64 });
  const runs = Array.from({ length: R }, (_, who) => mgr.start(f, { context: { who } }));
  const done = await Promise.all(runs.map((r) => r.done));
  assert.is(seen, R);
  done.forEach((r, who) => {
    assert.is(r.state, 'completed', String(r.error));
    assert.is(r.output('b'), `a${who}b`);
    assert.is(r.context.get('trail'), `a${who}b`);
  });
});

test('fan-out: each branch gets a copy; the parent is unchanged; fan-in keeps order', async () => {
  const f = flow('fo')
    .node('setup', (c) => { c.context.set('k', 'parent'); c.context.set('n', 0); return [5, 1, 4, 2, 3]; })
    .fanOut('work', {
      after: ['setup'], concurrency: 5,
      over: (c) => c.input('setup'),
      branch: async (ms, b) => {
        const ctx = currentContext()!;
        assert.is(ctx, b.context);
        assert.is(ctx.get('k'), 'parent'); // inherited by copy
        ctx.set('k', `branch${b.index}`);
        ctx.set('n', (ctx.get<number>('n') ?? 0) + 1);
        await tick(ms);
        assert.is(currentContext()!.get('k'), `branch${b.index}`); // siblings never leak in
        assert.is(currentContext()!.get('n'), 1);
        assert.is(ctx.branch, String(b.index));
        return ms * 10;
      },
    })
    .fanIn('collect', { from: 'work', run: (xs, c) => ({ xs, k: c.context.get('k'), n: c.context.get('n') }) })
    .build();
  const r = await f.run();
  assert.is(r.state, 'completed', String(r.error));
  assert.equal(r.output('collect'), { xs: [50, 10, 40, 20, 30], k: 'parent', n: 0 });
});

test('nested fan-out forks from the branch, not from the root', async () => {
  const root = new FlowContext('r', { lvl: 'root' });
  const out = await withContext(root, () => fanOut([0, 1], async (i) => {
    currentContext()!.set('lvl', `b${i}`);
    return fanOut([0, 1, 2], async (j) => {
      await yieldN(j + i);
      const c = currentContext()!;
      const before = c.get('lvl');
      c.set('lvl', `b${i}.${j}`);
      return `${before}|${c.branch}`;
    });
  }));
  assert.equal(out, [['b0|0.0', 'b0|0.1', 'b0|0.2'], ['b1|1.0', 'b1|1.1', 'b1|1.2']]);
  assert.is(root.get('lvl'), 'root');
});

test('fan-out failure aborts siblings and rejects with the first error', async () => {
  let aborted = 0;
  const err = await fanOut([1, 2, 3, 4], async (x, b) => {
    if (x === 2) { await tick(1); throw new Error('boom2'); }
    await new Promise<void>((res) => {
      const t = setTimeout(res, 500);
      b.signal.addEventListener('abort', () => { clearTimeout(t); aborted++; res(); });
    });
    return x;
  }, { concurrency: 4 }).catch((e) => e);
  assert.instance(err, Error);
  assert.is(err.message, 'boom2');
  assert.is(aborted, 3);
});

test('fan-out with a concurrency limit runs at most that many branches at once', async () => {
  let live = 0, peak = 0;
  const xs = await fanOut(Array.from({ length: 30 }, (_, i) => i), async (i) => {
    live++; peak = Math.max(peak, live);
    await yieldN(i % 4);
    live--;
    return i * 2;
  }, { concurrency: 3 });
  assert.is(peak, 3);
  assert.equal(xs, Array.from({ length: 30 }, (_, i) => i * 2));
});

test.run();
