/**
 * A runtime worker thread. It instantiates the engine's compiled kernel over the shared Memory,
 * attaches to the runtime region, pins itself (when the addon is there), says it is ready — the
 * only message it ever sends — and then loops, never touching postMessage again:
 *
 *   find work: own deque (pop) → injector (pop) → steal from a random victim
 *   found      run it (exec.ts), look again at once
 *   none       search (spin) for a while, then park on our own word (park.ts) until a producer
 *              wakes us or shutdown. The first searcher searches spinMicros; a later one searches
 *              as long as its last busy stretch lasted, capped at spinMicros — so after a big job
 *              every worker stays hot for the next one (back-to-back jobs start within a
 *              microsecond instead of a futex wake-up, ~50 µs), while a stream of tiny tasks keeps
 *              one searcher and leaves the other cores to the submitting thread.
 *   idle→busy  a worker that leaves its spin phase or its park with a task in hand passes on
 *              any work it still sees (wakes a sleeper): producers skip the wake-up while
 *              someone searches (park.ts P2'), so this hand-off is what spreads a burst.
 *
 * A replacement for a dead worker starts here with the same index: it takes over the dead
 * worker's deque (tasks still in it were stealable all along, and are now ours again to pop).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Context } from '../context.js';
import { DEQUE_RETRY } from './deque.js';
import { Executor } from './exec.js';
import { pinThread } from './native.js';
import { RING_EMPTY } from './ring.js';
import { Op } from './ops.js';
import { Region, S_CORE, S_PARKS, S_SCRATCH, S_STATE, S_STEALS, WorkerState } from './region.js';
import { T_JOB, T_OP } from './tasks.js';

export interface WorkerInit {
  memory: WebAssembly.Memory;
  module: WebAssembly.Module;
  arenaBase: number;
  regionBase: number;
  index: number;
  /** Core to pin to, or −1. */
  core: number;
}

const init = workerData as WorkerInit;
const ctx = Context.attach(init.memory, init.module, init.arenaBase);
// Made after the owner initialized the region: the region lies inside this buffer for good.
const region = new Region(new Int32Array(init.memory.buffer), init.regionBase);
const me = init.index;
const owner = region.dequeOwner(me);
const exec = new Executor(region, ctx.kernel, ctx.mem, owner, me, ctx.arena);
const { injector, stealers, parking } = region;
const w = region.i32;
const n = stealers.length;

const pinned = init.core >= 0 && pinThread(init.core);
Atomics.store(w, region.slotWord(me, S_CORE), pinned ? init.core : -1);
// Our context's own scope (it holds ctx.scratch, its first allocation: one segment header below).
// The supervisor closes it if we die; close() closes it after we stopped.
const scratchRoot = ctx.scratch - 64;
if (ctx.arena.isOpen(scratchRoot)) Atomics.store(w, region.slotWord(me, S_SCRATCH), scratchRoot);
// If this thread dies (process.exit in a task, an uncaught error), say so in shared memory at once:
// an owner blocked in runSync cannot receive the 'exit' event, but it can read this word.
process.on('exit', () => Atomics.store(w, region.slotWord(me, S_STATE), WorkerState.STOPPED));

// xorshift32 for victim choice: cheap, per thread, seeded by index so runs are reproducible.
let seed = (0x9e3779b9 ^ (me * 0x85ebca6b)) | 0 || 1;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return seed >>> 0;
}

const stealsWord = region.slotWord(me, S_STEALS);
/**
 * Claim-on-pop: every pop below passes our task-in-hand word, and the queue stores task + 1 there
 * in the same breath as the atomic that made the task ours (no call, no loop back-edge between —
 * V8 terminates a thread only at those points). So there is no moment at which this thread holds
 * a task the supervisor cannot see: if it dies, `current` names the task and its job fails with
 * WorkerDiedError instead of staying pending.
 */
const claim = exec.currentWord;

/** A task index, or −1 when every queue looked empty (or only contended, twice). */
function findWork(): number {
  let t = exec.popOwn();
  if (t >= 0) return t;
  t = injector.pop(claim);
  if (t !== RING_EMPTY) return t;
  if (n < 2) return -1;
  for (let round = 0; round < 2; round++) {
    let contended = false;
    const start = random() % n;
    for (let k = 0; k < n; k++) {
      let v = start + k;
      if (v >= n) v -= n;
      if (v === me) continue;
      t = stealers[v].steal(claim);
      if (t >= 0) {
        Atomics.add(w, stealsWord, 1);
        return t;
      }
      if (t === DEQUE_RETRY) contended = true;
    }
    if (!contended) break; // every victim said Empty: nothing to retry
  }
  return -1;
}

const spinMs = region.config.spinMicros / 1000;
const parksWord = region.slotWord(me, S_PARKS);
const hasWork = () => region.shutdown || region.hasWork();

Atomics.store(w, region.slotWord(me, S_STATE), WorkerState.READY);
parentPort!.postMessage({ ready: me, pinned });

/** When the current busy stretch began (the first task after a search came up empty). */
let busySince = 0;
/** True from the first task after an empty search until the next empty search. */
let busy = false;
/** Between enterSpin and leaveSpin: counted as a searcher (park.ts P2'). */
let searching = false;
/** Searchers already there when we began searching (the first one searches longest). */
let others = 0;

for (;;) {
  // Shutdown is honoured between tasks: close() must not wait for queued work to drain.
  if (region.shutdown) break;
  // Searching from the end of the last task on, not only once a look came up empty: a submitter
  // that publishes right after our last task finished (a job awaited one at a time) must see a
  // searcher and skip its futex notify (park.ts P2').
  if (!searching) {
    others = region.enterSpin(me);
    searching = true;
  }
  let t = findWork();
  if (t < 0) {
    // How long to search: the first searcher spinMicros (a lone tiny job finds it hot); a later
    // one as long as it was just busy, capped — hot after real work, soon parked after tiny tasks.
    const now = performance.now();
    const busyFor = busy ? now - busySince : 0;
    busy = false;
    const until = now + (others === 0 ? spinMs : Math.min(spinMs, busyFor));
    do {
      if (region.shutdown) break;
      t = findWork();
    } while (t < 0 && performance.now() < until);
  }
  if (t < 0) {
    region.leaveSpin(me);
    searching = false;
    if (region.shutdown) break;
    if (parking.park(me, hasWork)) Atomics.add(w, parksWord, 1);
    continue;
  }
  // A task of a short job (a no-op, microseconds) runs *inside* the search: we stay counted as a
  // searcher, so a stream of tiny jobs never makes its submitter pay a futex notify, and we look
  // at every queue again within microseconds. Anything else may run long: leave the search first,
  // then pass on work still visible — the other half of park.ts P2' (it may have been published
  // without a wake-up because we were searching). wakeOne costs two loads when another worker
  // searches or nobody sleeps.
  if (!region.jobs.isShort(region.tasks.get(t, T_JOB))) {
    region.leaveSpin(me);
    searching = false;
    if (region.hasWork()) parking.wakeOne();
  }
  if (!busy) {
    busy = true;
    busySince = performance.now();
  }
  if (region.tasks.get(t, T_OP) === Op.DIE_UNCLAIMED) process.exit(71); // tests: die holding t, before run
  exec.run(t);
}
if (searching) region.leaveSpin(me);
Atomics.store(w, region.slotWord(me, S_STATE), WorkerState.STOPPED);
// Returning ends the thread: nothing else keeps its event loop alive.
