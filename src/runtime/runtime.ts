/**
 * The Runtime: N worker threads over one engine's shared memory, and the submitting side of the
 * task protocol (the public `Engine` of the engine layer builds on it).
 *
 *   const rt = await Runtime.start({ workers: 2 });
 *   const total = await rt.run(sumJob(col));          // or rt.runSync(sumJob(col))
 *   await rt.close();
 *
 * Main-thread only: one Runtime is driven by the thread that started it (its job slots, scopes and
 * waitAsync live here). Workers never message it after start-up; everything goes through the
 * runtime region in shared memory (region.ts). See README.md for the protocols.
 */
import { rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Context, type ContextOptions } from '../context.js';
import {
  InvalidOptionError, JobAbortedError, KernelTrapError, RuntimeClosedError, WorkerDiedError,
} from '../errors.js';
import type { ArenaScope } from '../memory/arena.js';
import type { SharedMemory } from '../memory/shared-memory.js';
import { J_CANCEL, J_DONE, J_FAIL_WORKER, J_STATUS, Mode, Status } from './jobs.js';
import { morselRowsFor, loadNative, topology, warnUnpinnedOnce } from './native.js';
import type { DequeOwner } from './deque.js';
import { Executor } from './exec.js';
import { Op, OP_NAMES, isRangeOp } from './ops.js';
import {
  initRegion, regionBytes, S_CURRENT, S_PARK, S_SCRATCH, S_STATE, S_TASKS, S_STEALS, S_PARKS, S_CORE, S_LIFE,
  WorkerState, type Region,
} from './region.js';
import { T_OP, T_JOB } from './tasks.js';
import type { WorkerInit } from './worker.js';

export interface RuntimeOptions extends ContextOptions {
  /** Worker threads. Default: os.availableParallelism(). */
  workers?: number;
  /** Run over this context (its memory, arena and compiled kernel) instead of a new one. */
  context?: Context;
  /** Rows per morsel (a multiple of 64). Default: from the L2 size (native.ts), else 65536. */
  morselRows?: number;
  /** Task descriptors (a power of two). Default 8192. */
  taskCapacity?: number;
  /** Jobs in flight at once (a power of two); more wait in a queue here. Default 1024. */
  jobCapacity?: number;
  /** Per-worker deque slots (a power of two). Default 1024. */
  dequeCapacity?: number;
  /** Pin workers to distinct cores when the native addon is there. Default true. */
  pin?: boolean;
  /**
   * How long an idle worker searches (spins) before it parks, µs; also how long the submitter
   * polls for short jobs without a completion. Default 500: long enough to bridge the gap between
   * back-to-back jobs — the submitter's waitAsync wake-up (~50–150 µs on this VM once its vCPU
   * idles) plus planning the next job — so the next job finds every worker hot instead of paying a
   * futex wake-up (~10–30 µs of the submitter's time, ~100 µs until a halted vCPU runs the worker).
   * Only the first searcher, and workers that were just busy, search that long (worker.ts).
   */
  spinMicros?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /**
   * The submitting thread runs the job's range tasks too, instead of only waiting: the root tasks
   * go to its own deque, it splits and runs morsels there while workers steal the other halves,
   * and it waits only once its deque is empty. Default: true for `runSync` (the thread blocks
   * anyway), false for `run` (helping blocks the event loop for this thread's share of the job).
   */
  help?: boolean;
}

/** A field set for one task descriptor (ops.ts says what each op keeps where). */
export interface TaskFields {
  start?: number; end?: number;
  a0?: number; a1?: number; a2?: number; a3?: number;
  p0?: number; p1?: number; p2?: number; p3?: number;
  x0?: number; x1?: number; x2?: number; x3?: number;
}

/** What a job gets while it is being planned (on the submitting thread). */
export interface Planner {
  readonly morselRows: number;
  readonly mem: SharedMemory;
  /**
   * Allocates memory (64-byte aligned, contents unspecified) that lives until the job ends, whatever
   * the outcome: small sizes in a pooled block, the rest in the job's own scope.
   */
  alloc(bytes: number): number;
  calloc(bytes: number): number;
  /** Adds a root task (published to the injector on submit). */
  task(op: Op, fields?: TaskFields): void;
}

/**
 * A job: how to plan its root tasks and how to read its result once every task finished.
 * `S` is whatever plan wants to hand to finish (addresses of partials, the column type, …).
 */
export interface JobSpec<R, S = unknown> {
  /** The op's name, used in every error about the job. */
  readonly name: string;
  /** Expected to finish within microseconds (a tiny task): the submitter spins for it before sleeping. */
  readonly short?: boolean;
  plan(p: Planner): S;
  finish(state: S, mem: SharedMemory): R;
}

export interface RuntimeStats {
  workers: number;
  morselRows: number;
  /** Per worker: tasks run, successful steals, times parked, pinned core (−1 none), replacements. */
  perWorker: Array<{ state: 'starting' | 'ready' | 'stopped'; tasks: number; steals: number; parks: number; core: number; life: number }>;
  jobsInFlight: number;
  jobsQueued: number;
  tasksInUse: number;
  workersReplaced: number;
}

const FIELD: Record<keyof TaskFields, number> = {
  start: 2, end: 3, a0: 4, a1: 5, a2: 6, a3: 7, p0: 8, p1: 9, p2: 10, p3: 11, x0: 12, x1: 13, x2: 14, x3: 15,
};

interface Pending {
  spec: JobSpec<unknown, unknown>;
  state: unknown;
  roots: Array<{ op: Op; fields?: TaskFields }>;
  scope: ArenaScope | null;
  /** A pooled block the plan's small allocations bump in (0: none), and the bytes used of it. */
  block: number;
  blockUsed: number;
  /** Counted in `#shortInflight` (an async short job that got published). */
  short?: boolean;
  slot: number;
  mode: Mode;
  signal?: AbortSignal;
  onAbort?: () => void;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Atomics.waitAsync (Node ≥ 16; typed in lib es2024, newer than this project's lib). */
const waitAsync = (Atomics as unknown as {
  waitAsync(a: Int32Array, i: number, v: number): { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<string> };
}).waitAsync;

const isPow2 = (n: number) => Number.isInteger(n) && n >= 2 && (n & (n - 1)) === 0;
const noop = () => {};

/**
 * Starts a worker thread running worker.ts/.js with `init`. Built (dist/), this file is runtime.js and
 * the worker is worker.cjs or worker.js beside it (`workerEntry`). Under a TypeScript loader (tests run
 * `node --import tsx`), this file is runtime.ts — and Node 20 does not apply `--import` hooks inside
 * worker threads. Then the sources are bundled once per process into a CommonJS file with esbuild
 * (`sourceBundle`: ~0.1 s once, instead of ~0.5 s per Runtime.start for tsx to boot and transpile in
 * every worker); if esbuild is not there, the worker boots through a two-line loader that registers
 * tsx first (a dev dependency, used only then).
 */
function startWorker(init: WorkerInit): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(workerEntry(), { workerData: init, execArgv: workerExecArgv() });
  const bundle = sourceBundle();
  if (bundle) return new Worker(bundle, { workerData: init, execArgv: workerExecArgv() });
  const api = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: init, execArgv: [] });
}

let entry: URL | undefined;

/**
 * The parent's Node flags minus module loader hooks (--import, --loader, --experimental-loader,
 * --require): a worker inherits execArgv by default, and a parent run under `node --import tsx`
 * would make every worker boot the ESM loader and tsx (~0.15 s each) for a bundle that needs none.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(import|loader|experimental-loader|require|r)(=|$)/.exec(a);
    if (!m) out.push(a);
    else if (m[2] === '') i++; // the flag's value is the next argument
  }
  return out;
}
let bundled: string | null | undefined;

/** Sources only: worker.ts and its imports as one CJS file in the OS temp dir (removed at exit), or null. */
function sourceBundle(): string | null {
  if (bundled !== undefined) return bundled;
  if (process.env.AETHERFLOW_WORKER_TSX === '1') return (bundled = null); // force the tsx boot path
  try {
    const esbuild = createRequire(import.meta.url)('esbuild') as {
      buildSync(o: Record<string, unknown>): unknown;
    };
    const file = join(os.tmpdir(), `aetherflow-worker-${process.pid}-${Date.now()}.cjs`);
    esbuild.buildSync({
      entryPoints: [fileURLToPath(new URL('./worker.ts', import.meta.url))],
      outfile: file, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'silent',
      // packageRoot() and native.ts resolve files from import.meta.url: point it at the source file.
      define: { 'import.meta.url': JSON.stringify(new URL('./worker.ts', import.meta.url).href) },
    });
    process.once('exit', () => rmSync(file, { force: true }));
    bundled = file;
  } catch {
    bundled = null;
  }
  return bundled;
}

/**
 * The built worker: the one-file CommonJS bundle (scripts/build-runtime-worker.mjs) when it is there
 * and not older than worker.js — it starts ~15 ms sooner, because a CJS entry does not boot Node's
 * ESM loader in the new isolate — else the ESM worker.js. Looked up once per process.
 */
function workerEntry(): URL {
  if (entry) return entry;
  const esm = new URL('./worker.js', import.meta.url);
  const cjs = new URL('./worker.cjs', import.meta.url);
  try {
    entry = statSync(cjs).mtimeMs >= statSync(esm).mtimeMs ? cjs : esm;
  } catch {
    entry = esm;
  }
  return entry;
}

/** A FIFO queue: push at the tail, shift at the head in O(1) (Array#shift is O(n)). */
class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(x: T): void {
    this.#items.push(x);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    const x = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return x;
  }

  /** Removes x wherever it is (an aborted job still waiting: rare, O(n)). */
  remove(x: T): void {
    const i = this.#items.indexOf(x, this.#head);
    if (i >= 0) this.#items.splice(i, 1);
  }

  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return out;
  }
}

const NO_OPTIONS: RunOptions = Object.freeze({});
/**
 * What the submitter's end-of-tick poll allows a short job (µs): a no-op takes ~1 µs of a worker,
 * so a tick of n short jobs is polled for up to n × this (and at least spinMicros).
 */
const SHORT_JOB_MICROS = 2;
/** The least time between two futex notifies from the submitting thread (`#wake`), ms. */
const WAKE_GAP_MS = 0.1;

/** Bytes of a pooled planning block (`BlockPool`), and how many the pool makes at most. */
const POOL_BLOCK_BYTES = 32768;
const POOL_MAX_BLOCKS = 32;

/**
 * Blocks for jobs' small plan allocations, made on demand in the Runtime's own scope (freed with
 * it) and reused job after job: at most POOL_MAX_BLOCKS (1 MiB) — jobs past that use a scope. A
 * block belongs to one job from plan to settle; only the Runtime's thread takes and gives them.
 */
class BlockPool {
  readonly #scope: ArenaScope;
  readonly #free: number[] = [];
  #made = 0;

  constructor(scope: ArenaScope) {
    this.#scope = scope;
  }

  /** A free block, or 0 when the pool is at its cap. */
  take(): number {
    const b = this.#free.pop();
    if (b !== undefined) return b;
    if (this.#made >= POOL_MAX_BLOCKS) return 0;
    this.#made++;
    return this.#scope.alloc(POOL_BLOCK_BYTES);
  }

  give(block: number): void {
    this.#free.push(block);
  }
}

/**
 * The Planner every plan gets: one object per Runtime (a job costs no planner allocation), aimed at
 * the job being planned. Calls outside a plan (a planner kept past `plan`) throw.
 */
class JobPlanner implements Planner {
  readonly morselRows: number;
  readonly mem: SharedMemory;
  readonly #ctx: Context;
  target: Pending | null = null;

  readonly pool: BlockPool;

  constructor(ctx: Context, morselRows: number, pool: BlockPool) {
    this.#ctx = ctx;
    this.mem = ctx.mem;
    this.morselRows = morselRows;
    this.pool = pool;
  }

  #job(): Pending {
    if (this.target === null) throw new Error('a Planner is only valid inside its JobSpec.plan');
    return this.target;
  }

  alloc(bytes: number): number {
    const p = this.#job();
    // Small allocations (a sum's per-morsel partials: 306 × 64 B) bump in a pooled block: no arena
    // lock, no scope to open and close, and a block that the last job touched is still in cache —
    // planning right after a 10M-row job, when the stream has evicted everything, cost ~25 µs
    // with a fresh scope. Bigger ones, or past the pool's cap, go to the job's own scope.
    const need = bytes <= 64 ? 64 : Math.ceil(bytes / 64) * 64;
    if (bytes >= 0 && need <= POOL_BLOCK_BYTES) {
      if (p.block === 0 && p.scope === null) {
        p.block = this.pool.take();
        p.blockUsed = 0;
      }
      if (p.block !== 0 && p.blockUsed + need <= POOL_BLOCK_BYTES) {
        const at = p.block + p.blockUsed;
        p.blockUsed += need;
        return at;
      }
    }
    p.scope ??= this.#ctx.scope();
    return p.scope.alloc(bytes);
  }

  calloc(bytes: number): number {
    const at = this.alloc(bytes);
    this.mem.u8.fill(0, at, at + bytes);
    return at;
  }

  task(op: Op, fields?: TaskFields): void {
    this.#job().roots.push({ op, fields });
  }
}

export class Runtime {
  readonly ctx: Context;
  readonly region: Region;
  readonly morselRows: number;
  readonly #scope: ArenaScope;
  readonly #ownsContext: boolean;
  readonly #workers: Array<Worker | null>;
  readonly #cores: number[];
  readonly #reaped: boolean[];
  readonly #freeSlots: number[] = [];
  readonly #bySlot: Array<Pending | null>;
  /** Jobs waiting for a slot or descriptors, oldest first (a FIFO with a moving head: O(1) take). */
  readonly #backlog = new Fifo<Pending>();
  readonly #keepAlive: NodeJS.Timeout;
  readonly #spinMs: number;
  #inflightAsync = 0;
  #armed = false;
  #closed = false;
  #replaced = 0;
  #exited: Array<Promise<void>> = [];
  /** This thread's executor and deque when it helps (`#help`); made on first use. */
  #helper: Executor | undefined;
  #helperDeque: DequeOwner | undefined;
  /** A root task `#submit` kept for `#help` to run first (−1: none). */
  #kept = -1;
  /** When this thread last notified a worker (`#wake`), performance.now() ms. */
  #wokeAt = -Infinity;
  /** A wake-up was put off (`#wake`). */
  #wakeOwed = false;
  /** `#endTick` is queued as a microtask. */
  #tickQueued = false;
  /** Short jobs submitted in this tick: `#endTick` polls for them before it arms a waitAsync. */
  #shortInTick = 0;
  /** Async short jobs submitted and not yet settled: what `#poll` waits for. */
  #shortInflight = 0;
  /** Plans jobs (one object for all: valid only inside `plan`). */
  readonly #planner: JobPlanner;

  private constructor(ctx: Context, ownsContext: boolean, scope: ArenaScope, region: Region, cores: number[], spinMicros: number) {
    this.ctx = ctx;
    this.#ownsContext = ownsContext;
    this.#scope = scope;
    this.region = region;
    this.morselRows = region.config.morselRows;
    this.#cores = cores;
    this.#workers = cores.map(() => null);
    this.#reaped = cores.map(() => false);
    this.#bySlot = new Array(region.config.jobCapacity).fill(null);
    for (let j = region.config.jobCapacity - 1; j >= 0; j--) this.#freeSlots.push(j);
    this.#spinMs = spinMicros / 1000;
    this.#planner = new JobPlanner(ctx, this.morselRows, new BlockPool(scope));
    // The ref'd handle that keeps Node alive while a job is pending: a pending Atomics.waitAsync
    // alone does not. Ref'd only while jobs are in flight (ref/unref are cheap flag flips).
    this.#keepAlive = setInterval(noop, 2 ** 30);
    this.#keepAlive.unref();
  }

  /** Starts the workers; resolves once every one of them is ready to take tasks. */
  static async start(opts: RuntimeOptions = {}): Promise<Runtime> {
    const n = opts.workers ?? os.availableParallelism();
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidOptionError('workers', n, 'an integer from 1 to 256');
    const topo = topology();
    const morselRows = opts.morselRows ?? morselRowsFor(topo.caches.l2);
    if (!Number.isInteger(morselRows) || morselRows < 64 || morselRows % 64 !== 0 || morselRows > 1 << 30) {
      throw new InvalidOptionError('morselRows', morselRows, 'a multiple of 64 from 64 to 2^30');
    }
    const taskCapacity = opts.taskCapacity ?? 8192;
    const jobCapacity = opts.jobCapacity ?? 1024;
    const dequeCapacity = opts.dequeCapacity ?? 1024;
    for (const [name, v] of [['taskCapacity', taskCapacity], ['jobCapacity', jobCapacity], ['dequeCapacity', dequeCapacity]] as const) {
      if (!isPow2(v) || v > 1 << 20) throw new InvalidOptionError(name, v, 'a power of two from 2 to 2^20');
    }
    const spinMicros = opts.spinMicros ?? 500;
    if (!Number.isInteger(spinMicros) || spinMicros < 0 || spinMicros > 1e6) {
      throw new InvalidOptionError('spinMicros', spinMicros, 'an integer from 0 to 1000000');
    }
    const ownsContext = opts.context === undefined;
    const ctx = opts.context ?? Context.create(opts);
    const config = {
      workers: n, dequeCapacity, taskCapacity, jobCapacity,
      // Every injector entry is a distinct descriptor, so it can never be fuller than the table.
      injectorCapacity: taskCapacity, morselRows, spinMicros,
    };
    const scope = ctx.scope();
    const base = scope.alloc(regionBytes(config));
    // The region is allocated, so it lies inside the current buffer: this view covers it for good.
    const region = initRegion(ctx.mem.i32, base, config);

    const pin = (opts.pin ?? true) && n > 0;
    let cores = new Array<number>(n).fill(-1);
    if (pin) {
      if (loadNative()) cores = cores.map((_, i) => i % topo.logicalCores);
      else warnUnpinnedOnce();
    }
    const rt = new Runtime(ctx, ownsContext, scope, region, cores, spinMicros);
    try {
      await Promise.all(cores.map((_, i) => rt.#spawn(i)));
    } catch (e) {
      await rt.close();
      throw e;
    }
    return rt;
  }

  get workers(): number {
    return this.#workers.length;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Runs a job on the workers; resolves with its result, rejects with a typed error. */
  run<R, S>(spec: JobSpec<R, S>, opts: RunOptions = NO_OPTIONS): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      if (this.#closed) return reject(new RuntimeClosedError(spec.name));
      const { signal } = opts;
      if (signal?.aborted) return reject(new JobAbortedError(spec.name, signal.reason));
      const p: Pending = {
        spec: spec as JobSpec<unknown, unknown>, state: undefined, roots: [], scope: null, block: 0, blockUsed: 0, slot: -1, mode: Mode.ASYNC,
        signal, resolve: resolve as (v: unknown) => void, reject,
      };
      try {
        p.state = this.#plan(p);
      } catch (e) {
        this.#freeJobMemory(p);
        return reject(e);
      }
      if (signal) {
        p.onAbort = () => {
          if (p.slot >= 0) this.region.jobs.cancel(p.slot); // workers stop at the next morsel
          else {
            // Still queued here: never reached shared memory, so it ends at once.
            this.#backlog.remove(p);
            this.#settle(p, new JobAbortedError(p.spec.name, signal.reason));
          }
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      if (this.#inflightAsync++ === 0) this.#keepAlive.ref();
      const help = opts.help ?? false;
      if (this.#backlog.length > 0 || !this.#submit(p, help)) {
        this.#backlog.push(p);
        this.#queueTick();
        return;
      }
      if (p.slot < 0) return; // nothing to run: already settled
      if (help) {
        this.#payWake(); // helping blocks this tick for a while: wake the workers first
        this.#help();
      }
      // Completion is looked at once per tick, after the caller's synchronous code: a loop that
      // submits 1000 jobs gets them all published before this thread polls or sleeps (#endTick).
      if (spec.short) {
        this.#shortInTick++;
        this.#shortInflight++;
        p.short = true;
      }
      this.#queueTick();
    });
  }

  /**
   * Runs a job and blocks this thread until it is done (Atomics.wait; allowed on Node's main
   * thread). Prefer `run` on a server: this stalls the event loop for the job's whole duration.
   */
  runSync<R, S>(spec: JobSpec<R, S>, opts: Pick<RunOptions, 'help'> = {}): R {
    if (this.#closed) throw new RuntimeClosedError(spec.name);
    let result: { ok: true; v: R } | { ok: false; e: unknown } | undefined;
    const p: Pending = {
      spec: spec as JobSpec<unknown, unknown>, state: undefined, roots: [], scope: null, block: 0, blockUsed: 0, slot: -1, mode: Mode.SYNC,
      resolve: (v) => (result = { ok: true, v: v as R }), reject: (e) => (result = { ok: false, e }),
    };
    try {
      p.state = this.#plan(p);
    } catch (e) {
      this.#freeJobMemory(p);
      throw e;
    }
    const w = this.region.jobs.view;
    // Wait for a job slot and descriptors (async jobs in flight free them as they finish).
    const help = opts.help ?? true;
    while (!this.#submit(p, help)) {
      this.#payWake(); // no microtask runs while this thread blocks: pay owed wake-ups now
      this.#reapDead();
      Atomics.wait(w, this.region.completionsWord, Atomics.load(w, this.region.completionsWord), 1);
      this.#drain();
    }
    if (p.slot >= 0) {
      this.#payWake();
      if (help) this.#help();
      const done = this.region.jobs.word(p.slot, J_DONE);
      // Bounded waits, so a worker that dies under us is noticed (its 'exit' event cannot be
      // delivered while this thread blocks; its state word can be read).
      while (Atomics.wait(w, done, 0, 20) === 'timed-out') this.#reapDead();
      this.#complete(p);
    }
    const r = result!;
    if (!r.ok) throw r.e;
    return r.v;
  }

  stats(): RuntimeStats {
    const r = this.region;
    return {
      workers: this.workers,
      morselRows: this.morselRows,
      perWorker: this.#workers.map((_, i) => ({
        state: (['starting', 'ready', 'stopped'] as const)[r.slot(i, S_STATE)],
        tasks: r.slot(i, S_TASKS), steals: r.slot(i, S_STEALS), parks: r.slot(i, S_PARKS), core: r.slot(i, S_CORE), life: r.slot(i, S_LIFE),
      })),
      jobsInFlight: r.config.jobCapacity - this.#freeSlots.length,
      jobsQueued: this.#backlog.length,
      tasksInUse: r.tasks.inUse,
      workersReplaced: this.#replaced,
    };
  }

  /**
   * Stops the workers (they finish the task in hand), rejects jobs still pending with
   * RuntimeClosedError, and frees the runtime's memory (its region; the whole context when the
   * runtime created it).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.region.stop();
    // Workers are unref'd while idle; awaiting their exit must hold the loop open.
    for (const w of this.#workers) w?.ref();
    await Promise.all(this.#exited);
    // Wake a pending waitAsync so its promise does not dangle.
    Atomics.notify(this.region.i32, this.region.completionsWord);
    this.#drain();
    for (const p of [...this.#bySlot, ...this.#backlog.drain()]) {
      if (p) this.#settle(p, new RuntimeClosedError(p.spec.name));
    }
    // Every worker has exited: their own scopes can go (they would leak in a shared context).
    for (let i = 0; i < this.#workers.length; i++) this.#closeScratch(i);
    clearInterval(this.#keepAlive);
    this.#scope.close();
    if (this.#ownsContext) {
      // Nothing else lives in a context the runtime made: dropping it frees the Memory.
    }
  }

  // ---- submission -------------------------------------------------------------------------------

  /** Runs p's plan with the (shared) planner pointed at p; a plan that runs another job nests. */
  #plan(p: Pending): unknown {
    const pl = this.#planner;
    const outer = pl.target;
    pl.target = p;
    try {
      return p.spec.plan(pl);
    } finally {
      pl.target = outer;
    }
  }

  /**
   * Runs tasks from this thread's own deque until it is empty: the roots `#submit` put there and
   * the lower halves they split off (the upper halves went to the same deque, where idle workers
   * — woken at every split — steal them from the top). It never steals: a helper only ever runs
   * tasks of the jobs it submitted with `help`, so a slow or faulty job of someone else cannot
   * hold it. A trap is caught in `Executor.run` and fails the job as on a worker.
   */
  #help(): void {
    this.#helperDeque ??= this.region.dequeOwner(this.region.helperIndex);
    this.#helper ??= new Executor(this.region, this.ctx.kernel, this.ctx.mem, this.#helperDeque, this.region.helperIndex, this.ctx.arena);
    const h = this.#helper;
    const first = this.#kept;
    this.#kept = -1;
    if (first >= 0) h.run(first);
    for (let t = h.popOwn(); t >= 0; t = h.popOwn()) h.run(t);
  }

  /** Publishes p's root tasks. False when no job slot or not enough descriptors are free now. */
  #submit(p: Pending, help = false): boolean {
    const r = this.region;
    const k = p.roots.length;
    if (k === 0) {
      // Nothing to run (an empty input): finish here, without touching shared memory.
      this.#finishLocal(p);
      return true;
    }
    if (this.#freeSlots.length === 0) return false;
    const tasks = r.tasks;
    // All descriptors first, or none. One root (the common case) needs no array.
    const only = k === 1 ? tasks.alloc() : -1;
    if (k === 1 && only < 0) return false;
    const ids = k === 1 ? null : new Array<number>(k);
    if (ids !== null) {
      for (let i = 0; i < k; i++) {
        const t = tasks.alloc();
        if (t < 0) {
          for (let u = 0; u < i; u++) tasks.release(ids[u]);
          return false;
        }
        ids[i] = t;
      }
    }
    const slot = this.#freeSlots.pop()!;
    p.slot = slot;
    this.#bySlot[slot] = p;
    r.jobs.reset(slot, k, p.mode, p.spec.short === true);
    const w = r.i32;
    for (let i = 0; i < k; i++) {
      const t = ids === null ? only : ids[i];
      const { op, fields } = p.roots[i];
      tasks.clear(t);
      const rec = tasks.word(t, 0);
      w[rec + T_OP] = op;
      w[rec + T_JOB] = slot;
      if (fields) for (const key in fields) w[rec + FIELD[key as keyof TaskFields]] = fields[key as keyof TaskFields]!;
      // The push publishes the record written above (plain stores before a seq-cst store).
      // Helping: the first range root stays with us, unpublished (a woken worker would otherwise
      // often steal it before we pop it); further ones go to our own deque, stealable (a full
      // deque: the injector, as usual). A root kept here is ours alone until #help runs it.
      if (help && isRangeOp(op)) {
        if (this.#kept < 0) {
          this.#kept = t;
          continue;
        }
        this.#helperDeque ??= r.dequeOwner(r.helperIndex);
        if (this.#helperDeque.push(t)) {
          this.#wake();
          continue;
        }
      }
      // Room is guaranteed (one slot per descriptor); a false would only be a stalled consumer.
      r.injector.pushWait(t);
      this.#wake();
    }
    return true;
  }

  /**
   * Wakes a worker for a task just published — at most one futex notify per WAKE_GAP_MS from this
   * thread. A notify is a syscall (~10 µs here); in a burst of `run` calls a woken worker that
   * finds nothing soon parks again, and waking it for every push would cost the submitter more
   * than the jobs. A wake-up refused by the gap is owed: paid by the next push after the gap or at
   * the end of this tick (`#endTick`), whichever comes first, if work is still queued then; the
   * woken worker passes on whatever it still sees (worker.ts). A task published in the meantime is
   * not lost: every awake worker, and every searcher, looks at every queue before it parks. No
   * notify at all when nobody sleeps or a worker is searching (park.ts P2'): those calls cost two
   * loads. Before this thread blocks (`runSync`, helping) it pays the debt (`#payWake`).
   */
  #wake(): void {
    const parking = this.region.parking;
    if (!parking.wanted()) return;
    const now = performance.now();
    if (now - this.#wokeAt < WAKE_GAP_MS) {
      this.#wakeOwed = true;
      this.#queueTick();
      return;
    }
    this.#wakeOwed = false;
    if (parking.wakeOne()) this.#wokeAt = now;
  }

  /** Pays a wake-up `#wake` put off. Safe to call early and twice. */
  #payWake(): void {
    if (!this.#wakeOwed) return;
    this.#wakeOwed = false;
    if (this.region.hasWork() && this.region.parking.wakeOne()) this.#wokeAt = performance.now();
  }

  #queueTick(): void {
    if (this.#tickQueued) return;
    this.#tickQueued = true;
    queueMicrotask(this.#endTick);
  }

  /**
   * The end of a tick in which jobs were submitted (a microtask): pays an owed wake-up, polls for
   * short jobs, then makes sure one waitAsync is armed while async jobs are in flight.
   *
   * Polling: if jobs marked `short` were submitted in this tick, spin on the completions word,
   * draining whatever completes, until no short job is in flight — or spinMicros pass without a
   * completion, or the tick's short jobs have had `SHORT_JOB_MICROS` each. A searching worker
   * finishes a no-op within a microsecond, far sooner than a waitAsync wake-up arrives (~15 µs at
   * best, ~50 µs typical here), and one spin covers every job of the tick: the completions of
   * 1000 tiny jobs submitted in a loop stream in while we poll, and are settled in one go.
   */
  readonly #endTick = (): void => {
    this.#tickQueued = false;
    this.#payWake();
    const short = this.#shortInTick;
    if (short > 0) {
      this.#shortInTick = 0;
      if (this.#spinMs > 0 && !this.#closed) this.#poll(Math.max(this.#spinMs, (short * SHORT_JOB_MICROS) / 1000));
    }
    this.#arm();
  };

  /** Spins for completions (see `#endTick`): at most `capMs` in all, `spinMs` without progress. */
  #poll(capMs: number): void {
    const w = this.region.i32;
    const cw = this.region.completionsWord;
    const start = performance.now();
    let idleUntil = start + this.#spinMs;
    const until = start + capMs;
    let seen = Atomics.load(w, cw);
    this.#drain();
    // Short jobs only: a long job in flight must not keep this thread spinning.
    while (this.#shortInflight > 0) {
      const c = Atomics.load(w, cw);
      if (c !== seen) {
        seen = c;
        this.#drain();
        const now = performance.now();
        if (now >= until) break;
        idleUntil = Math.min(until, now + this.#spinMs);
      } else if (performance.now() >= idleUntil) break;
    }
  }

  /** Arms one waitAsync on the completions word (while async jobs are in flight). */
  #arm(): void {
    const r = this.region;
    const w = r.i32;
    while (!this.#armed && this.#inflightAsync > 0 && !this.#closed) {
      // Flag first, then the value to wait on (the other half of region.finishTask's Dekker pair).
      Atomics.store(w, r.ownerWaitingWord, 1);
      const seen = Atomics.load(w, r.completionsWord);
      this.#drain();
      if (this.#inflightAsync === 0) break;
      const res = waitAsync(w, r.completionsWord, seen);
      if (res.async) {
        this.#armed = true;
        res.value.then(this.#onWake);
        return;
      }
      // 'not-equal': a job completed between our load and the wait; drain again.
    }
    // Nothing in flight (or closed): not waiting. While armed the flag must stay up.
    if (!this.#armed) Atomics.store(w, r.ownerWaitingWord, 0);
  }

  readonly #onWake = (): void => {
    this.#armed = false;
    // Not waiting while we drain: finishers skip their notify (we re-read completions when we re-arm).
    Atomics.store(this.region.i32, this.region.ownerWaitingWord, 0);
    this.#reapDead();
    this.#arm();
  };

  /** Completes every async job whose slot the workers put on the done ring. */
  #drain(): void {
    const ring = this.region.done;
    for (let j = ring.pop(); j >= 0; j = ring.pop()) {
      const p = this.#bySlot[j];
      if (p) this.#complete(p);
    }
  }

  /** Reads the outcome of a job whose last task finished, frees its slot and scope, settles it. */
  #complete(p: Pending): void {
    const jobs = this.region.jobs;
    const slot = p.slot;
    const status = jobs.load(slot, J_STATUS) as Status;
    let err: unknown;
    let value: unknown;
    if (status === Status.TRAPPED) err = new KernelTrapError(p.spec.name, jobs.message(slot));
    else if (status === Status.WORKER_DIED) err = new WorkerDiedError(p.spec.name, jobs.load(slot, J_FAIL_WORKER), jobs.message(slot));
    else if (jobs.load(slot, J_CANCEL) !== 0) err = new JobAbortedError(p.spec.name, p.signal?.reason);
    else {
      try {
        value = p.spec.finish(p.state, this.ctx.mem);
      } catch (e) {
        err = e;
      }
    }
    this.#bySlot[slot] = null;
    this.#freeSlots.push(slot);
    this.#settle(p, err, value);
    // A slot and descriptors just came free: queued jobs may go now.
    while (this.#backlog.length > 0 && !this.#closed && this.#submit(this.#backlog.peek()!)) this.#backlog.shift();
  }

  #finishLocal(p: Pending): void {
    let err: unknown;
    let value: unknown;
    if (p.signal?.aborted) err = new JobAbortedError(p.spec.name, p.signal.reason);
    else {
      try {
        value = p.spec.finish(p.state, this.ctx.mem);
      } catch (e) {
        err = e;
      }
    }
    this.#settle(p, err, value);
  }

  /** Frees what the job's plan allocated: its pooled block and its scope. */
  #freeJobMemory(p: Pending): void {
    if (p.block !== 0) this.#planner.pool.give(p.block);
    p.block = 0;
    if (p.scope?.open) p.scope.close();
    p.scope = null;
  }

  #settle(p: Pending, err: unknown, value?: unknown): void {
    this.#freeJobMemory(p);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    if (p.short) this.#shortInflight--;
    if (p.mode === Mode.ASYNC && --this.#inflightAsync === 0) this.#keepAlive.unref();
    if (err !== undefined) p.reject(err);
    else p.resolve(value);
  }

  // ---- workers and their supervision -----------------------------------------------------------

  #spawn(i: number): Promise<void> {
    const init: WorkerInit = {
      memory: this.ctx.memory, module: this.ctx.module, arenaBase: this.ctx.arena.base,
      regionBase: this.region.base, index: i, core: this.#cores[i],
    };
    const w = startWorker(init);
    this.#workers[i] = w;
    this.#reaped[i] = false;
    Atomics.store(this.region.i32, this.region.slotWord(i, S_STATE), WorkerState.STARTING);
    let lastError: Error | undefined;
    w.on('error', (e) => (lastError = e));
    this.#exited[i] = new Promise<void>((done) => w.once('exit', () => done()));
    return new Promise<void>((resolve, reject) => {
      const onExit = (code: number) => reject(lastError ?? new Error(`runtime worker ${i} exited during start-up (code ${code})`));
      w.once('exit', onExit);
      w.once('message', () => {
        w.off('exit', onExit);
        w.once('exit', (code) => this.#onExit(i, w, code, lastError));
        // Idle workers do not keep the process alive (an engine the user never closes must not hang
        // Node at exit); while jobs are in flight the ref'd #keepAlive handle does. Only after the
        // ready message: until then the start-up promise needs the worker to hold the loop open.
        w.unref();
        resolve();
      });
    });
  }

  #onExit(i: number, w: Worker, code: number, err: Error | undefined): void {
    if (this.#closed || this.#workers[i] !== w) return;
    this.#reap(i, err ? `${err.name}: ${err.message}` : `exit code ${code}`);
    this.#replaced++;
    Atomics.add(this.region.i32, this.region.slotWord(i, S_LIFE), 1);
    this.#spawn(i).then(
      () => this.region.parking.wakeOne(), // tasks may have waited in its deque
      () => { /* a replacement that cannot start leaves the slot empty; others still steal its deque */ },
    );
    this.#arm();
  }

  /** Workers whose state word says they died (noticed before their 'exit' event arrives). */
  #reapDead(): void {
    const r = this.region;
    for (let i = 0; i < this.#workers.length; i++) {
      if (!this.#reaped[i] && this.#workers[i] && r.slot(i, S_STATE) === WorkerState.STOPPED && !r.shutdown) {
        this.#reap(i, 'the thread exited');
      }
    }
  }

  /**
   * Accounts for dead worker i: the task it was running fails its job (WORKER_DIED) and is finished
   * on its behalf, so the job completes; its park word is cleared so `sleepers` stays exact. Tasks
   * still in its deque stay there: thieves take them, or its replacement pops them.
   */
  #reap(i: number, detail: string): void {
    if (this.#reaped[i]) return;
    this.#reaped[i] = true;
    const r = this.region;
    const w = r.i32;
    const cur = Atomics.exchange(w, r.slotWord(i, S_CURRENT), 0);
    if (cur !== 0) {
      const t = cur - 1;
      const op = r.tasks.get(t, T_OP);
      r.jobs.fail(r.tasks.get(t, T_JOB), Status.WORKER_DIED, op, `${detail}, running '${OP_NAMES[op] ?? op}'`, i);
      r.finishTask(t);
    }
    if (Atomics.load(w, r.slotWord(i, S_PARK)) === 1) r.parking.wake(i);
    // If it died searching, producers may have skipped wake-ups on its account (park.ts P2'):
    // give its count back, then pass on whatever is queued.
    r.undoSpin(i);
    if (r.hasWork()) r.parking.wakeOne();
    this.#closeScratch(i);
  }

  /**
   * Closes worker i's own arena scope (its context's scratch), once: after it died, or after it
   * stopped at close(). Nothing else lives there — a job's memory is in the job's scope.
   */
  #closeScratch(i: number): void {
    const root = Atomics.exchange(this.region.i32, this.region.slotWord(i, S_SCRATCH), 0);
    if (root !== 0 && this.ctx.arena.isOpen(root)) this.ctx.arena.close(root);
  }
}

