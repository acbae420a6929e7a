/**
 * One thread of a queue stress test (ring.test.ts, deque.test.ts). Every item taken is marked in a
 * shared `seen` array (i32 per item, Atomics.add), so the test can prove each was seen exactly once.
 * Randomness is seeded per thread (mulberry32 from test/helpers/rng.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { DEQUE_EMPTY, DEQUE_RETRY, DequeOwner, DequeStealer } from '../../src/runtime/deque.js';
import { MpmcRing, RING_EMPTY } from '../../src/runtime/ring.js';
import { rng } from '../helpers/rng.js';

export interface StressInit {
  memory: WebAssembly.Memory;
  kind: 'ring' | 'deque-owner' | 'deque-thief';
  /** Byte address of the structure. */
  base: number;
  /** i32 per item: times it was taken. */
  seen: number;
  /** i32 words: [0] items taken in total, [1] start gate, [2] owner finished pushing, [3] threads ready. */
  ctl: number;
  total: number;
  /** ring: this thread pushes items [first, first + count). deque-owner: all items. */
  first: number;
  count: number;
  seed: number;
  /** deque-owner: probability of popping after each push. */
  popRate: number;
  /** deque-owner: push everything first, then race the thieves (stampede). */
  stampede: boolean;
}

// Imported outside a worker (a test runner scanning the folder): do nothing.
if (workerData) run(workerData as StressInit);

function run(init: StressInit): void {
  const w = new Int32Array(init.memory.buffer);
  const r = rng(init.seed);
  const ctl = init.ctl >>> 2;
  const seen = init.seen >>> 2;
  let took = 0;
  let retries = 0;

  function take(item: number): void {
    if (item < 0 || item >= init.total) throw new Error(`took an item that was never pushed: ${item}`);
    Atomics.add(w, seen + item, 1);
    Atomics.add(w, ctl, 1);
    took++;
  }

  // Stampede: the owner fills its deque before the race starts.
  if (init.kind === 'deque-owner' && init.stampede) {
    const dq = new DequeOwner(w, init.base);
    for (let i = init.first; i < init.first + init.count; i++) if (!dq.push(i)) throw new Error('stampede deque too small');
  }
  // Start gate: every thread waits until all are loaded and the test opens it, so they contend
  // from the first item (thread start-up takes far longer than a run).
  Atomics.add(w, ctl + 3, 1);
  while (Atomics.load(w, ctl + 1) === 0) Atomics.wait(w, ctl + 1, 0, 5);

  if (init.kind === 'ring') {
    const ring = new MpmcRing(w, init.base);
    let next = init.first;
    const end = init.first + init.count;
    while (Atomics.load(w, ctl) < init.total) {
      if (next < end && r() < 0.5) {
        if (ring.push(next)) next++;
      } else {
        const v = ring.pop();
        if (v !== RING_EMPTY) take(v);
      }
    }
  } else if (init.kind === 'deque-owner') {
    const dq = new DequeOwner(w, init.base);
    const end = init.first + init.count;
    if (!init.stampede) {
      for (let i = init.first; i < end; i++) {
        while (!dq.push(i)) {
          const v = dq.pop();
          if (v !== DEQUE_EMPTY) take(v);
        }
        // Popping often keeps the deque near empty: the owner/thief race on the last item is the
        // path this exercises most.
        while (r() < init.popRate) {
          const v = dq.pop();
          if (v === DEQUE_EMPTY) break;
          take(v);
        }
      }
    }
    Atomics.store(w, ctl + 2, 1);
    for (let v = dq.pop(); v !== DEQUE_EMPTY; v = dq.pop()) take(v);
  } else {
    const dq = new DequeStealer(w, init.base);
    while (Atomics.load(w, ctl) < init.total) {
      const v = dq.steal();
      if (v >= 0) take(v);
      else if (v === DEQUE_RETRY) retries++;
      else if (v !== DEQUE_EMPTY) throw new Error(`steal answered ${v}`);
    }
  }
  parentPort!.postMessage({ took, retries });
}
