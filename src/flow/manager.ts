/**
 * The run manager: a cap on concurrent runs (extra runs wait in FIFO order), the lifecycle event stream
 * of all its runs, global statistics, and cleanup of finished runs (their arena scopes freed).
 */
import { InvalidOptionError } from '../errors.js';
import type { Flow, Outputs } from './builder.js';
import { Run, type EventSink, type RunOptions } from './run.js';
import { NodeState, isFinished, type FlowEvent, type FlowEventListener } from './types.js';

export interface RunManagerOptions {
  /** Runs executing at once; further `start`s queue. Default: unlimited. */
  maxConcurrentRuns?: number;
  /**
   * Finished runs kept for `get`/`list` before the oldest are released automatically. Default 1000.
   * `cleanup()` releases finished runs explicitly.
   */
  retainFinished?: number;
}

export interface RunStats {
  runs: { queued: number; running: number; completed: number; failed: number; cancelled: number; total: number };
  nodes: { completed: number; failed: number; skipped: number; cancelled: number; retried: number };
  /** Nodes that reached a terminal state per second of time with at least one active run. */
  nodesPerSecond: number;
  /** Time with at least one run active. */
  busyMs: number;
}

export class RunManager {
  readonly maxConcurrentRuns: number;
  readonly retainFinished: number;
  readonly #sink: EventSink = { listeners: new Set() };
  readonly #runs = new Map<string, Run<any>>();
  readonly #waiting: Run<any>[] = [];
  #waitHead = 0;
  #active = 0;
  readonly #finished: Run<any>[] = [];
  #busySince = 0;
  #busyMs = 0;
  readonly #stats: RunStats = {
    runs: { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, total: 0 },
    nodes: { completed: 0, failed: 0, skipped: 0, cancelled: 0, retried: 0 },
    nodesPerSecond: 0, busyMs: 0,
  };
  #idle: (() => void)[] = [];

  constructor(opts: RunManagerOptions = {}) {
    const max = opts.maxConcurrentRuns ?? Infinity;
    if (!(max >= 1)) throw new InvalidOptionError('maxConcurrentRuns', max, 'a number ≥ 1');
    this.maxConcurrentRuns = max;
    this.retainFinished = opts.retainFinished ?? 1000;
  }

  /** Starts a run of `flow` now, or queues it until a slot frees. Returns the run (await `run.done`). */
  start<O extends Outputs>(flow: Flow<O>, opts: RunOptions = {}): Run<O> {
    const run = new Run<O>(flow, opts, this.#sink, (r) => this.#onFinish(r));
    if (this.#runs.has(run.id)) throw new InvalidOptionError('runId', run.id, 'an id not used by a live run');
    this.#runs.set(run.id, run);
    this.#stats.runs.total++;
    if (this.#active < this.maxConcurrentRuns) {
      this.#launch(run);
    } else {
      this.#waiting.push(run);
      this.#stats.runs.queued++;
      this.#emit({ type: 'run:queued', runId: run.id, flow: flow.name });
    }
    return run;
  }

  /** `start` and await the end. */
  run<O extends Outputs>(flow: Flow<O>, opts: RunOptions = {}): Promise<Run<O>> {
    return this.start(flow, opts).done;
  }

  get(runId: string): Run<any> | undefined {
    return this.#runs.get(runId);
  }
  list(): Run<any>[] {
    return [...this.#runs.values()];
  }
  get active(): number {
    return this.#active;
  }

  /** Subscribes to every event of every run; returns the unsubscribe function. */
  on(listener: FlowEventListener): () => void {
    this.#sink.listeners.add(listener);
    return () => this.#sink.listeners.delete(listener);
  }

  /** The event stream as an async iterator (ends when `signal` aborts). */
  async *events(signal?: AbortSignal): AsyncGenerator<FlowEvent> {
    const buf: FlowEvent[] = [];
    let wake: (() => void) | undefined;
    const off = this.on((e) => { buf.push(e); wake?.(); });
    const onAbort = () => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!signal?.aborted) {
        if (buf.length) { yield buf.shift()!; continue; }
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    } finally {
      off();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  stats(): RunStats {
    const s = structuredClone(this.#stats);
    s.runs.running = this.#active;
    s.runs.queued = this.#waiting.length - this.#waitHead;
    s.busyMs = this.#busyMs + (this.#active ? performance.now() - this.#busySince : 0);
    const n = s.nodes.completed + s.nodes.failed + s.nodes.skipped + s.nodes.cancelled;
    s.nodesPerSecond = s.busyMs > 0 ? (n / s.busyMs) * 1000 : 0;
    return s;
  }

  /** Releases finished runs (arena scopes closed, outputs dropped) and forgets them. Returns how many. */
  cleanup(filter: (r: Run<any>) => boolean = () => true): number {
    let n = 0;
    for (let k = 0; k < this.#finished.length; k++) {
      const r = this.#finished[k];
      if (!filter(r)) continue;
      r.release();
      this.#runs.delete(r.id);
      this.#finished.splice(k--, 1);
      n++;
    }
    return n;
  }

  cancelAll(reason = 'cancelled'): void {
    for (const r of this.#runs.values()) r.cancel(reason);
  }

  /** Resolves when no run is active or queued. */
  idle(): Promise<void> {
    if (this.#active === 0 && this.#waitHead === this.#waiting.length) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  readonly #launched = new WeakSet<Run<any>>();

  #launch(run: Run<any>): void {
    if (this.#active++ === 0) this.#busySince = performance.now();
    this.#launched.add(run);
    run.start();
  }

  #onFinish(run: Run<any>): void {
    const st = this.#stats;
    // A run cancelled while still queued never took a slot (it stays in #waiting and is passed over).
    if (this.#launched.has(run) && --this.#active === 0) this.#busyMs += performance.now() - this.#busySince;
    if (run.state === 'completed') st.runs.completed++;
    else if (run.state === 'failed') st.runs.failed++;
    else st.runs.cancelled++;
    const c = run.countsByState();
    st.nodes.completed += c[NodeState.COMPLETED] - run.resumed;
    st.nodes.failed += c[NodeState.FAILED];
    st.nodes.skipped += c[NodeState.SKIPPED];
    st.nodes.cancelled += c[NodeState.CANCELLED];
    st.nodes.retried += run.retries;
    this.#finished.push(run);
    while (this.#finished.length > this.retainFinished) {
      const old = this.#finished.shift()!;
      old.release();
      this.#runs.delete(old.id);
    }
    // Fill the freed slot. Starting synchronously is safe even from inside the scheduler's flush loop:
    // the new run's completions join that loop instead of deepening the stack.
    while (this.#active < this.maxConcurrentRuns && this.#waitHead < this.#waiting.length) {
      const next = this.#waiting[this.#waitHead++];
      if (this.#waitHead > 1024 && this.#waitHead * 2 > this.#waiting.length) {
        this.#waiting.splice(0, this.#waitHead);
        this.#waitHead = 0;
      }
      if (!isFinished(next.state)) this.#launch(next);
    }
    if (this.#active === 0 && this.#waitHead === this.#waiting.length && this.#idle.length) {
      const w = this.#idle; this.#idle = [];
      for (const f of w) f();
    }
  }
  #emit(e: FlowEvent): void {
    for (const l of this.#sink.listeners) {
      try { l(e); } catch (err) { process.emitWarning(`aetherflow: event listener threw: ${(err as Error)?.stack ?? err}`); }
    }
  }
}
