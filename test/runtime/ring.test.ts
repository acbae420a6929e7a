import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SharedMemory } from '../../src/memory/shared-memory.js';
import { MpmcRing, RING_EMPTY } from '../../src/runtime/ring.js';
import { SCALE } from '../helpers/rng.js';
import { releaseAndTally, startTsWorker } from './threads.js';
import type { StressInit } from './stress-worker.js';

const WORKER = new URL('./stress-worker.ts', import.meta.url);

test('ring: FIFO, full and empty answers, wrap-around past 2^32 positions', () => {
  const mem = new SharedMemory({ maxBytes: 1 << 20, initialBytes: 1 << 20 });
  const ring = MpmcRing.init(mem.i32, 64, 8);
  assert.is(ring.pop(), RING_EMPTY);
  assert.ok(ring.isEmpty());
  for (let i = 0; i < 8; i++) assert.ok(ring.push(100 + i));
  assert.not.ok(ring.push(999), 'full ring refuses');
  assert.is(ring.size(), 8);
  for (let i = 0; i < 8; i++) assert.is(ring.pop(), 100 + i);
  assert.is(ring.pop(), RING_EMPTY);
  // Positions are i32 and compared by difference: run them across the wrap point.
  const w = mem.i32;
  const b = 64 >>> 2;
  const start = 0x7ffffffc | 0;
  w[b + 16] = start; // enqueuePos
  w[b + 32] = start; // dequeuePos
  for (let s = 0; s < 8; s++) w[b + 64 + 2 * (((start + s) | 0) & 7)] = (start + s) | 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 6; i++) assert.ok(ring.push(round * 10 + i));
    for (let i = 0; i < 6; i++) assert.is(ring.pop(), round * 10 + i);
  }
  assert.ok(ring.canariesIntact());
});

test('ring: a stalled consumer makes push answer full below capacity (why runtime pushes use pushWait)', () => {
  const mem = new SharedMemory({ maxBytes: 1 << 20, initialBytes: 1 << 20 });
  const ring = MpmcRing.init(mem.i32, 64, 4);
  const w = mem.i32;
  const b = 64 >>> 2;
  assert.ok(ring.push(10));
  // A consumer claims position 0 (its CAS on dequeuePos) and is descheduled before its seq store.
  Atomics.add(w, b + 32, 1);
  for (const x of [11, 12, 13]) assert.ok(ring.push(x));
  for (const x of [11, 12, 13]) assert.is(ring.pop(), x);
  assert.is(ring.size(), 0);
  assert.not.ok(ring.push(14), 'slot 0 is still held by the stalled consumer');
  // The consumer resumes: its seq store hands the slot over, and the push goes through.
  Atomics.store(w, b + 64, 0 + 4);
  ring.pushWait(14);
  assert.is(ring.pop(), 14);
});

test('ring: canaries catch a stray write next to the slots', () => {
  const mem = new SharedMemory({ maxBytes: 1 << 20, initialBytes: 1 << 20 });
  const ring = MpmcRing.init(mem.i32, 128, 16);
  assert.ok(ring.canariesIntact());
  mem.i32[(128 + MpmcRing.bytes(16)) / 4 - 1] = 0;
  assert.not.ok(ring.canariesIntact());
});

async function stress(threads: number, perThread: number, capacity: number, seed: number) {
  const total = threads * perThread;
  const mem = new SharedMemory({ maxBytes: 64 << 20, initialBytes: 64 << 20 });
  const ring = 64;
  MpmcRing.init(mem.i32, ring, capacity);
  const ctl = 64 + Math.ceil(MpmcRing.bytes(capacity) / 64) * 64;
  const seen = ctl + 64;
  mem.i32.fill(0, ctl >>> 2, (seen >>> 2) + total);
  const workers = Array.from({ length: threads }, (_, k) => {
    const init: StressInit = {
      memory: mem.memory, kind: 'ring', base: ring, seen, ctl, total,
      first: k * perThread, count: perThread, seed: seed + k, popRate: 0, stampede: false,
    };
    return startTsWorker(WORKER, init);
  });
  const res = await releaseAndTally<{ took: number }>(mem.i32, ctl, workers, seen, total);
  assert.is(res.reduce((s, r) => s + r.took, 0), total);
  assert.ok(new MpmcRing(mem.i32, ring).canariesIntact(), 'canaries intact');
  assert.ok(new MpmcRing(mem.i32, ring).isEmpty());
  return res.map((r) => r.took);
}

test('ring stress: 4 threads push and pop 1M items through a 256-slot ring, each seen exactly once', async () => {
  const per = Math.round(262144 * SCALE);
  const took = await stress(4, per, 256, 0x1234);
  // Every thread took part (contention from every thread, not a relay).
  assert.ok(took.every((t) => t > 0), `all threads consumed: ${took}`);
});

test('ring stress: tiny ring (2 slots) under 3 threads', async () => {
  await stress(3, Math.round(50000 * SCALE), 2, 77);
});

test.run();
