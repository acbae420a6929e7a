import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedMemory } from '../../src/memory/shared-memory.js';
import { DEQUE_EMPTY, DEQUE_RETRY, Deque, DequeOwner, DequeStealer } from '../../src/runtime/deque.js';
import { SCALE } from '../helpers/rng.js';
import { releaseAndTally, startTsWorker } from './threads.js';
import type { StressInit } from './stress-worker.js';

const WORKER = new URL('./stress-worker.ts', import.meta.url);

function fresh(capacity: number) {
  const mem = new SharedMemory({ maxBytes: 1 << 20, initialBytes: 1 << 20 });
  Deque.init(mem.i32, 64, capacity);
  return { mem, owner: new DequeOwner(mem.i32, 64), thief: new DequeStealer(mem.i32, 64) };
}

test('deque: owner is LIFO, thieves are FIFO, full push refuses', () => {
  const { owner, thief } = fresh(4);
  assert.is(owner.pop(), DEQUE_EMPTY);
  assert.is(thief.steal(), DEQUE_EMPTY);
  for (const x of [1, 2, 3, 4]) assert.ok(owner.push(x));
  assert.not.ok(owner.push(5), 'full');
  assert.is(thief.steal(), 1);
  assert.is(owner.pop(), 4);
  assert.is(thief.steal(), 2);
  assert.is(owner.pop(), 3);
  assert.is(owner.pop(), DEQUE_EMPTY);
  assert.is(thief.steal(), DEQUE_EMPTY);
  assert.ok(owner.canariesIntact());
});

test('deque: indices wrap past 2^31 (differences, not comparisons)', () => {
  const { mem, owner, thief } = fresh(8);
  const b = 64 >>> 2;
  mem.i32[b + 16] = 0x7ffffffd; // top
  mem.i32[b + 32] = 0x7ffffffd; // bottom
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 5; i++) assert.ok(owner.push(round * 10 + i));
    assert.is(thief.steal(), round * 10);
    assert.is(owner.pop(), round * 10 + 4);
    assert.is(thief.steal(), round * 10 + 1);
    assert.is(owner.pop(), round * 10 + 3);
    assert.is(owner.pop(), round * 10 + 2);
    assert.is(owner.pop(), DEQUE_EMPTY);
  }
});

test('deque: a thief that lost the CAS answers Retry, not Empty', () => {
  const { mem, owner, thief } = fresh(8);
  owner.push(7);
  owner.push(8);
  // Simulate the interleaving: another thief advances top between our loads and our CAS, by
  // wrapping Atomics.compareExchange once.
  const real = Atomics.compareExchange;
  let fired = false;
  (Atomics as { compareExchange: typeof real }).compareExchange = ((a: Int32Array, i: number, e: number, r: number) => {
    if (!fired) {
      fired = true;
      real(a, i, e, r); // the rival wins
    }
    return real(a, i, e, r);
  }) as typeof real;
  try {
    assert.is(thief.steal(), DEQUE_RETRY);
  } finally {
    (Atomics as { compareExchange: typeof real }).compareExchange = real;
  }
  assert.is(thief.steal(), 8);
  assert.is(thief.steal(), DEQUE_EMPTY);
  void mem;
});

async function race(opts: { thieves: number; items: number; capacity: number; popRate: number; stampede: boolean; seed: number }) {
  const { thieves, items: total, capacity } = opts;
  const mem = new SharedMemory({ maxBytes: 64 << 20, initialBytes: 64 << 20 });
  const dq = 64;
  Deque.init(mem.i32, dq, capacity);
  const ctl = dq + Math.ceil(Deque.bytes(capacity) / 64) * 64;
  const seen = ctl + 64;
  mem.i32.fill(0, ctl >>> 2, (seen >>> 2) + total);
  const base: Omit<StressInit, 'kind' | 'seed'> = {
    memory: mem.memory, base: dq, seen, ctl, total, first: 0, count: total, popRate: opts.popRate, stampede: opts.stampede,
  };
  const ws = [startTsWorker(WORKER, { ...base, kind: 'deque-owner', seed: opts.seed })];
  for (let k = 0; k < thieves; k++) ws.push(startTsWorker(WORKER, { ...base, kind: 'deque-thief', seed: opts.seed + 1 + k }));
  const res = await releaseAndTally<{ took: number; retries: number }>(mem.i32, ctl, ws, seen, total);
  assert.ok(new DequeOwner(mem.i32, dq).canariesIntact(), 'canaries intact');
  return res;
}

test('deque stress: owner pushes/pops 1M items while 3 thieves steal (each seen exactly once)', async () => {
  const res = await race({ thieves: 3, items: Math.round(1_000_000 * SCALE), capacity: 64, popRate: 0.45, stampede: false, seed: 0xbeef });
  assert.ok(res[0].took > 0, 'owner took items');
  assert.ok(res.slice(1).some((r) => r.took > 0), 'thieves stole items');
});

test('deque stampede: 200K items pushed at once, owner and 3 thieves race to drain', async () => {
  const res = await race({ thieves: 3, items: Math.round(200_000 * SCALE), capacity: 1 << 18, popRate: 0, stampede: true, seed: 42 });
  assert.ok(res.slice(1).some((r) => r.took > 0), 'thieves stole items');
});

test.run();
