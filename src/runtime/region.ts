/**
 * The runtime region: every shared structure of the runtime, in one block of the arena (allocated
 * in the Runtime's long-lived scope, so it lives in the engine's shared memory). The owning thread
 * writes it once (`initRegion`); each worker attaches with the block's address (`Region`).
 *
 * Layout (byte offsets from `base`, all 64-aligned):
 *
 *   +0     header      magic · workers · shutdown · deque/task/job/injector capacities ·
 *                      morselRows · spinMicros · spinners (workers searching: between enterSpin
 *                      and leaveSpin — producers skip their wake-up while it is > 0, park.ts P2')
 *   +64    sleepers    parked workers (park.ts), alone on its line: every waker reads it
 *   +128   completions async jobs completed so far: the owner's waitAsync word (runtime.ts)
 *   +132   ownerWaiting 1 while the owner has a waitAsync armed (finishers notify only then)
 *   +192   worker slots, (workers + 1) × 64 B — the last is the helping submitter's (one line each: the park word is waited on, and its
 *          neighbours would otherwise bounce between cores)
 *   …      injector    MpmcRing(injectorCapacity): task indices submitted by the owner
 *   …      done ring   MpmcRing(jobCapacity): async job slots whose last task finished
 *   …      tasks       TaskTable(taskCapacity): descriptors + their free ring
 *   …      jobs        JobTable(jobCapacity)
 *   …      deques      (workers + 1) × Deque(dequeCapacity): one per worker, then the helper's
 *
 * Worker slot (i32 words):
 *   +0  park     0 awake · 1 parked (park.ts)
 *   +4  current  task being run + 1, 0 = none (the supervisor fails that task's job if we die)
 *   +8  state    WorkerState
 *   +12 tasks    tasks run (statistics)
 *   +16 steals   successful steals
 *   +20 parks    times parked
 *   +24 core     core pinned to, −1 = unpinned
 *   +28 life     incarnation: bumped when a replacement takes the slot over
 *
 * Every address in here lies below the memory's length at the time `initRegion` ran, so views made
 * by any thread after that never need rebuilding for these words (old views keep their old length,
 * and the region never moves).
 */
import { Deque, DequeOwner, DequeStealer } from './deque.js';
import { J_MODE, JobTable, Mode } from './jobs.js';
import { Parking } from './park.js';
import { MpmcRing } from './ring.js';
import { T_JOB, TaskTable } from './tasks.js';

export const REGION_MAGIC = 0x41465254; // "AFRT"
const H_MAGIC = 0, H_WORKERS = 1, H_SHUTDOWN = 2, H_DEQUE_CAP = 3, H_TASK_CAP = 4, H_JOB_CAP = 5;
const H_INJ_CAP = 6, H_MORSEL = 7, H_SPIN = 8, H_SPINNERS = 9;
const W_SLEEPERS = 16;
const W_COMPLETIONS = 32;
const W_OWNER_WAITING = 33;
const SLOTS_BYTE = 192;
export const SLOT_WORDS = 16;
/**
 * Worker slot words (one 64-byte line per worker):
 *   S_PARK     park word (park.ts)              S_CURRENT  task in hand + 1 (0: none) — claimed by
 *   S_STATE    WorkerState                                 the pop itself (worker.ts `claimed`)
 *   S_TASKS    tasks run      S_STEALS steals   S_PARKS    times parked      S_CORE  pinned core
 *   S_LIFE     replacements of this slot        S_SPIN     1 while in the spin phase
 *   S_SCRATCH  root of the worker's own arena scope (its context's scratch), closed by the
 *              supervisor when the worker dies
 */
export const S_PARK = 0, S_CURRENT = 1, S_STATE = 2, S_TASKS = 3, S_STEALS = 4, S_PARKS = 5, S_CORE = 6, S_LIFE = 7;
export const S_SPIN = 8, S_SCRATCH = 9;

export enum WorkerState {
  STARTING = 0,
  READY = 1,
  STOPPED = 2,
}

export interface RegionConfig {
  workers: number;
  dequeCapacity: number;
  taskCapacity: number;
  jobCapacity: number;
  injectorCapacity: number;
  morselRows: number;
  /** Microseconds a worker keeps looking for work before it parks (one spinner at a time). */
  spinMicros: number;
}

const align = (n: number) => Math.ceil(n / 64) * 64;

function offsets(c: RegionConfig) {
  // One slot and one deque more than workers: the submitting thread's (`helperIndex`).
  let at = SLOTS_BYTE + (c.workers + 1) * 64;
  const injector = at;
  at = align(at + MpmcRing.bytes(c.injectorCapacity));
  const done = at;
  at = align(at + MpmcRing.bytes(c.jobCapacity));
  const tasks = at;
  at = align(at + TaskTable.bytes(c.taskCapacity));
  const jobs = at;
  at = align(at + JobTable.bytes(c.jobCapacity));
  const deques: number[] = [];
  for (let i = 0; i <= c.workers; i++) {
    deques.push(at);
    at = align(at + Deque.bytes(c.dequeCapacity));
  }
  return { injector, done, tasks, jobs, deques, bytes: at };
}

export function regionBytes(c: RegionConfig): number {
  return offsets(c).bytes;
}

/** Writes a fresh region at `base` (64-aligned, `regionBytes(c)` long) and returns the owner's view. */
export function initRegion(i32: Int32Array, base: number, c: RegionConfig): Region {
  const o = offsets(c);
  const h = base >>> 2;
  i32.fill(0, h, h + SLOTS_BYTE / 4 + (c.workers + 1) * SLOT_WORDS);
  for (let i = 0; i <= c.workers; i++) i32[h + SLOTS_BYTE / 4 + i * SLOT_WORDS + S_CORE] = -1;
  i32[h + H_WORKERS] = c.workers;
  i32[h + H_DEQUE_CAP] = c.dequeCapacity;
  i32[h + H_TASK_CAP] = c.taskCapacity;
  i32[h + H_JOB_CAP] = c.jobCapacity;
  i32[h + H_INJ_CAP] = c.injectorCapacity;
  i32[h + H_MORSEL] = c.morselRows;
  i32[h + H_SPIN] = c.spinMicros;
  MpmcRing.init(i32, base + o.injector, c.injectorCapacity);
  MpmcRing.init(i32, base + o.done, c.jobCapacity);
  TaskTable.init(i32, base + o.tasks, c.taskCapacity);
  JobTable.init(i32, base + o.jobs, c.jobCapacity);
  for (const d of o.deques) Deque.init(i32, base + d, c.dequeCapacity);
  // Last, seq-cst: a thread that checks the magic sees everything above.
  Atomics.store(i32, h + H_MAGIC, REGION_MAGIC);
  return new Region(i32, base);
}

/** Any thread's view of an initialized region. */
export class Region {
  readonly i32: Int32Array;
  readonly base: number;
  readonly config: RegionConfig;
  readonly injector: MpmcRing;
  readonly done: MpmcRing;
  readonly tasks: TaskTable;
  readonly jobs: JobTable;
  readonly stealers: DequeStealer[];
  readonly parking: Parking;
  readonly #h: number;
  readonly #dequeBases: number[];

  constructor(i32: Int32Array, base: number) {
    const h = base >>> 2;
    if (Atomics.load(i32, h + H_MAGIC) !== REGION_MAGIC) throw new Error(`no runtime region at ${base}`);
    this.i32 = i32;
    this.base = base;
    this.#h = h;
    this.config = {
      workers: i32[h + H_WORKERS],
      dequeCapacity: i32[h + H_DEQUE_CAP],
      taskCapacity: i32[h + H_TASK_CAP],
      jobCapacity: i32[h + H_JOB_CAP],
      injectorCapacity: i32[h + H_INJ_CAP],
      morselRows: i32[h + H_MORSEL],
      spinMicros: i32[h + H_SPIN],
    };
    const o = offsets(this.config);
    this.injector = new MpmcRing(i32, base + o.injector);
    this.done = new MpmcRing(i32, base + o.done);
    this.tasks = new TaskTable(i32, base + o.tasks, this.config.taskCapacity);
    this.jobs = new JobTable(i32, base + o.jobs, this.config.jobCapacity);
    this.#dequeBases = o.deques.map((d) => base + d);
    this.stealers = this.#dequeBases.map((d) => new DequeStealer(i32, d));
    const parkWords = new Int32Array(this.config.workers);
    for (let i = 0; i < parkWords.length; i++) parkWords[i] = this.slotWord(i, S_PARK);
    this.parking = new Parking(i32, h + W_SLEEPERS, h + H_SPINNERS, parkWords);
  }

  /**
   * Slot and deque index of the submitting thread when it helps run a job (runtime.ts `#help`):
   * one past the workers. Workers steal from its deque like from any other; it never steals.
   */
  get helperIndex(): number {
    return this.config.workers;
  }

  /** The owner handle of worker i's deque: only worker i (or its replacement) may take it. */
  dequeOwner(i: number): DequeOwner {
    return new DequeOwner(this.i32, this.#dequeBases[i]);
  }

  slotWord(i: number, f: number): number {
    return this.#h + SLOTS_BYTE / 4 + i * SLOT_WORDS + f;
  }

  slot(i: number, f: number): number {
    return Atomics.load(this.i32, this.slotWord(i, f));
  }

  get shutdown(): boolean {
    return Atomics.load(this.i32, this.#h + H_SHUTDOWN) !== 0;
  }

  /** Tells every worker to exit its loop, and wakes the parked ones so they see it. */
  stop(): void {
    Atomics.store(this.i32, this.#h + H_SHUTDOWN, 1);
    this.parking.wakeAll();
  }

  /**
   * Enters the spin phase; returns how many workers were already in it. Only the first spinner
   * spins long: on a machine with as many workers as cores, a second spinner would take the core
   * the submitting thread needs (see README.md, "Parking").
   */
  enterSpin(i: number): number {
    const others = Atomics.add(this.i32, this.#h + H_SPINNERS, 1);
    // Right after the add, with no call between: a supervisor reaping a dead worker i gives the
    // count back when this says it was in (see `undoSpin`).
    Atomics.store(this.i32, this.slotWord(i, S_SPIN), 1);
    return others;
  }

  leaveSpin(i: number): void {
    Atomics.store(this.i32, this.slotWord(i, S_SPIN), 0);
    Atomics.sub(this.i32, this.#h + H_SPINNERS, 1);
  }

  /** Supervisor: dead worker i died in its spin phase; give back its count. */
  undoSpin(i: number): void {
    if (Atomics.exchange(this.i32, this.slotWord(i, S_SPIN), 0) === 1) Atomics.sub(this.i32, this.#h + H_SPINNERS, 1);
  }

  /** Word index of the async completion counter (the owner thread's waitAsync target). */
  get completionsWord(): number {
    return this.#h + W_COMPLETIONS;
  }

  /** Word index of the owner's "I have a waitAsync armed" flag. */
  get ownerWaitingWord(): number {
    return this.#h + W_OWNER_WAITING;
  }

  /** True if any queue holds a task (the sleeper's S3 re-check; a snapshot). */
  hasWork(): boolean {
    if (!this.injector.isEmpty()) return true;
    for (const s of this.stealers) if (!s.isEmpty()) return true;
    return false;
  }

  /** Every canary of every queue intact (tests, debug checks). */
  canariesIntact(): boolean {
    if (!this.injector.canariesIntact() || !this.done.canariesIntact() || !this.tasks.free.canariesIntact()) return false;
    return this.stealers.every((s) => s.canariesIntact());
  }

  /**
   * Ends task t (run, skipped or failed): frees its descriptor and counts it off its job; the
   * thread that finishes a job's last task reports the completion. Called by workers, and by the
   * supervisor on behalf of a worker that died running t.
   */
  finishTask(t: number): void {
    const job = this.tasks.get(t, T_JOB);
    this.tasks.release(t);
    if (!this.jobs.finish(job)) return;
    if (this.jobs.load(job, J_MODE) === Mode.ASYNC) {
      // Capacity = job slots, so there is room (pushWait only outlasts a stalled consumer). Pushed
      // before the completions bump: the owner, woken by that notify, finds the slot in the ring.
      this.done.pushWait(job);
      this.jobs.complete(job, false); // done = 1 for a submitter polling it; nobody waits on it
      Atomics.add(this.i32, this.completionsWord, 1);
      // Dekker with the owner (runtime.ts #arm): it stores ownerWaiting = 1 before loading the
      // completions value it will wait on; we bump completions before loading ownerWaiting. So
      // either its load sees our bump (no wait), or we see its flag and notify. Skipping the
      // notify otherwise saves a wake-up per job while the owner is busy draining anyway.
      if (Atomics.load(this.i32, this.ownerWaitingWord) !== 0) Atomics.notify(this.i32, this.completionsWord);
    } else {
      this.jobs.complete(job, true);
    }
  }
}
