/**
 * One execution of a Flow: the scheduler.
 *
 * Per-node state lives in typed arrays indexed by node number (state, remaining upstream count,
 * attempts, ready/start/end times); outputs and errors in two plain arrays. A node becomes READY when
 * its counter of unfinished upstreams reaches 0 — O(1) per edge — and is pushed on the run's fastq
 * queue, whose concurrency limit is the flow's `concurrency`. Pausing the run pauses the queue.
 *
 * The trampoline. fastq calls its worker synchronously from `push` and from the callback that frees a
 * slot, so a synchronous node that completes inside the worker and pushes its successor would recurse
 * once per node (a 100 000-node chain overflows the stack). So a finished node is never processed where
 * it finished: it is appended to a module-wide completion list, and one `flush` loop drains that list —
 * update successors, push the newly ready ones, free the fastq slot (which may start the next node,
 * whose completion is appended to the same list). The stack stays flat; a synchronous node costs no
 * promise, no microtask and no timer. An async node costs the one `.then` on its own promise, from
 * which `flush` runs with an empty stack. Timers exist only for per-node timeouts and retry backoff.
 *
 * Contexts. Each node runs inside `flowStorage.run(run.context, …)`: fastq and the flush loop are
 * shared by all runs, so the current AsyncLocalStorage context at dispatch time belongs to whichever
 * run happened to finish a node last — it must be set explicitly for every node.
 *
 * Cancellation does not wait for running nodes: their signal aborts (reason RunCancelledError), they
 * are marked CANCELLED at once and whatever they return later is ignored.
 */
import fastq from 'fastq';
import type { done as FastqDone, queue as FastqQueue } from 'fastq';
import { randomBytes } from 'node:crypto';
import { threadId } from 'node:worker_threads';
import { NodeTimeoutError, RunCancelledError } from '../errors.js';
import type { Flow, Outputs } from './builder.js';
import { Container, RunServices } from './container.js';
import { FlowContext, flowStorage } from './context.js';
import { NodeContext } from './node-context.js';
import {
  DepKind, NodeState, STATE_NAMES, isFinished, isTerminal,
  type FlowEvent, type FlowEventListener, type NodeStateName, type RunState,
} from './types.js';

export interface RunOptions {
  /** Default: a fresh id (time-sortable base36 + random). */
  runId?: string;
  /** Providers for injected services (besides the flow's own). Default: the container given to `build`. */
  container?: Container;
  /** Initial variables of the run's context. */
  context?: Record<string, unknown>;
  /** Aborting it cancels the run. */
  signal?: AbortSignal;
  /** Overrides the flow's `concurrency` for this run. */
  concurrency?: number;
  /** Overrides the flow's `failFast`. */
  failFast?: boolean;
  /**
   * Resume: nodes already COMPLETED in an earlier attempt of this run, with their outputs. They are not
   * run again; their dependents see the given outputs.
   */
  completed?: ReadonlyMap<string, unknown>;
  /** The job's work directory (shell nodes get it as AETHERFLOW_WORK_DIR). */
  workDir?: string;
  /** An arena scope (anything with `close()`) that the run owns: closed by `release()`. */
  scope?: { close(): void };
  /** A listener for this run's events (in addition to its manager's). */
  onEvent?: FlowEventListener;
}

/** A node's outcome, for reports. */
export interface NodeResult {
  name: string;
  kind: string;
  state: NodeStateName;
  attempts: number;
  /** Time from READY to the start of the last attempt. */
  queuedMs?: number;
  /** Duration of the last attempt. */
  durationMs?: number;
  output?: unknown;
  error?: unknown;
  /** Why a node was SKIPPED / CANCELLED, or 'resumed' for a node taken from an earlier attempt. */
  reason?: string;
  logs?: string[];
}

/** A manager's listener set, shared by its runs (a run emits only while it is non-empty or it has `onEvent`). */
export interface EventSink {
  listeners: Set<FlowEventListener>;
}

const now = (): number => performance.now();
function call(l: FlowEventListener, e: FlowEvent): void {
  try { l(e); } catch (err) { process.emitWarning(`aetherflow: event listener threw: ${(err as Error)?.stack ?? err}`); }
}
const EMPTY: Readonly<Record<string, any>> = Object.freeze({});
// Run ids: time (base36) + a per-process random tag + a counter. Unique across processes sharing a
// history database, sortable by start time, and cheap (no crypto call per run: 10 000 runs start at once).
const procTag = randomBytes(3).toString('hex') + (threadId ? threadId.toString(36) : '');
let idCounter = 0;
export function newRunId(): string {
  return `${Date.now().toString(36)}-${procTag}${(idCounter++).toString(36)}`;
}

// ---- the trampoline (see the module doc) --------------------------------------------------------
// Three parallel arrays instead of one array of records: no object per completion.
const doneRuns: Run<any>[] = [];
const doneNodes: number[] = [];
const doneCbs: (FastqDone | null)[] = [];
let flushing = false;

function complete(run: Run<any>, i: number, cb: FastqDone | null): void {
  doneRuns.push(run);
  doneNodes.push(i);
  doneCbs.push(cb);
  if (!flushing) flush();
}

function flush(): void {
  flushing = true;
  try {
    for (let k = 0; k < doneRuns.length; k++) {
      const cb = doneCbs[k];
      try {
        if (doneNodes[k] >= 0) doneRuns[k]._afterNode(doneNodes[k]);
      } catch (e) {
        // Only a bug in this module gets here (user code and listeners are guarded); keep draining.
        process.emitWarning(`aetherflow: scheduler error: ${(e as Error)?.stack ?? e}`);
      }
      if (cb !== null) cb(null);
    }
  } finally {
    doneRuns.length = 0;
    doneNodes.length = 0;
    doneCbs.length = 0;
    flushing = false;
  }
}

/** Frees a queue slot from the flush loop (never re-entering fastq from inside its worker). */
function release(run: Run<any>, cb: FastqDone): void {
  complete(run, -1, cb);
}

/** Runs `f` with the trampoline engaged, so nodes it makes ready complete without recursion. */
function inFlush(f: () => void): void {
  if (flushing) { f(); return; }
  flushing = true;
  try { f(); } finally { flushing = false; }
  if (doneRuns.length) flush();
}

function dispatch(this: Run<any>, i: number, cb: FastqDone): void {
  this._dispatch(i, cb);
}

export class Run<O extends Outputs = Outputs> {
  readonly id: string;
  readonly flow: Flow<O>;
  readonly context: FlowContext;
  readonly workDir: string | undefined;
  /** Resolves with this run when it has finished (never rejects). */
  readonly done: Promise<Run<O>>;
  /** `performance.now()` at start / end (NaN before). */
  startedAt = NaN;
  endedAt = NaN;
  /** Wall-clock start (ms since epoch). */
  startedAtEpoch = NaN;

  readonly #state: Uint8Array;
  readonly #pending: Int32Array;
  readonly #attempts: Uint16Array;
  /** Attempt tokens: a settlement counts only if its token is still current (timeouts, cancel). */
  readonly #tokens: Uint32Array;
  readonly readyAt: Float64Array;
  readonly startAt: Float64Array;
  readonly endAt: Float64Array;
  #outputs: unknown[];
  #errors: unknown[] | undefined;
  #reasons: Map<number, string> | undefined;
  #logs: Map<number, string[]> | undefined;
  #timers: Set<NodeJS.Timeout> | undefined;
  readonly #q: FastqQueue<number>;
  #remaining: number;
  #status: RunState = 'queued';
  #failed = false;
  #error: unknown;
  /** Created on first use: most runs never need a signal and an AbortController is not free. */
  #ctl: AbortController | undefined;
  readonly #opts: RunOptions;
  #services: RunServices | undefined;
  /** name → container that provides it (flow providers first, then the run's container). */
  #providers: Map<string, Container> | undefined;
  #scope: { close(): void } | undefined;
  #resolveDone!: (r: Run<O>) => void;
  readonly #sink: EventSink | undefined;
  readonly #onEvent: FlowEventListener | undefined;
  #onFinish: ((r: Run<O>) => void) | undefined;
  #resumed = 0;
  #retries = 0;

  constructor(flow: Flow<O>, opts: RunOptions = {}, sink?: EventSink, onFinish?: (r: Run<O>) => void) {
    const n = flow.nodes.length;
    this.flow = flow;
    this.id = opts.runId ?? newRunId();
    this.#opts = opts;
    this.workDir = opts.workDir;
    this.#scope = opts.scope;
    this.context = new FlowContext(this.id, opts.context);
    this.#state = new Uint8Array(n);
    this.#pending = flow.inDegree.slice();
    this.#attempts = new Uint16Array(n);
    this.#tokens = new Uint32Array(n);
    this.readyAt = new Float64Array(n);
    this.startAt = new Float64Array(n);
    this.endAt = new Float64Array(n);
    this.#outputs = new Array(n);
    this.#remaining = n;
    this.#onFinish = onFinish;
    this.#sink = sink;
    this.#onEvent = opts.onEvent;
    this.#q = fastq(this, dispatch, opts.concurrency ?? flow.options.concurrency);
    this.done = new Promise((r) => (this.#resolveDone = r));
  }

  // ---- public surface ---------------------------------------------------------------------------

  get state(): RunState {
    return this.#status;
  }
  /** The first non-tolerated node error, or the cancellation reason. */
  get error(): unknown {
    return this.#error;
  }
  /** Aborted (reason RunCancelledError) when the run is cancelled. */
  get signal(): AbortSignal {
    return (this.#ctl ??= new AbortController()).signal;
  }
  get scope(): unknown {
    return this.#scope;
  }
  get durationMs(): number {
    return this.endedAt - this.startedAt;
  }

  nodeState(name: string): NodeStateName {
    return STATE_NAMES[this.#state[this.#idx(name)]];
  }
  /** Output of a COMPLETED node (undefined otherwise). */
  output<K extends keyof O & string>(name: K): O[K] {
    return this.#outputs[this.#idx(name)] as O[K];
  }
  outputAt(i: number): unknown {
    return this.#state[i] === NodeState.COMPLETED ? this.#outputs[i] : undefined;
  }
  nodeError(name: string): unknown {
    return this.#errors?.[this.#idx(name)];
  }
  node(name: string): NodeResult {
    return this.#result(this.#idx(name));
  }
  /** Every node's result, in topological order. */
  nodes(): NodeResult[] {
    return Array.from(this.flow.order, (i) => this.#result(i));
  }
  /** Node counts by state. */
  counts(): Record<NodeStateName, number> {
    const n = this.countsByState();
    const c = {} as Record<NodeStateName, number>;
    STATE_NAMES.forEach((s, k) => (c[s] = n[k]));
    return c;
  }
  /** Node counts indexed by NodeState. */
  countsByState(): Uint32Array {
    const n = new Uint32Array(STATE_NAMES.length);
    for (let i = 0; i < this.#state.length; i++) n[this.#state[i]]++;
    return n;
  }
  /** Attempts that failed and were retried. */
  get retries(): number {
    return this.#retries;
  }
  /** Nodes taken from an earlier attempt (resume). */
  get resumed(): number {
    return this.#resumed;
  }

  /** Starts dispatching (a RunManager calls this when a slot frees). */
  start(): this {
    if (this.#status !== 'queued') return this;
    this.#status = 'running';
    this.startedAt = now();
    this.startedAtEpoch = Date.now();
    const ext = this.#opts.signal;
    if (ext) {
      if (ext.aborted) { this.cancel(String(ext.reason ?? 'aborted')); return this; }
      ext.addEventListener('abort', () => this.cancel(String(ext.reason ?? 'aborted')), { once: true });
    }
    try {
      this.#bindProviders();
    } catch (e) {
      this.#fatal(e);
      return this;
    }
    const done = this.#opts.completed;
    if (this.#listening()) {
      this.#emit({ type: 'run:start', runId: this.id, flow: this.flow.name, nodes: this.flow.size, resumed: done?.size ?? 0 });
    }
    inFlush(() => {
      if (done && done.size) this.#preset(done);
      const roots = this.flow.roots;
      for (let k = 0; k < roots.length; k++) if (this.#state[roots[k]] === NodeState.PENDING) this.#ready(roots[k]);
    });
    return this;
  }

  pause(): void {
    if (this.#status !== 'running') return;
    this.#q.pause();
    this.#status = 'paused';
    if (this.#listening()) this.#emit({ type: 'run:paused', runId: this.id, flow: this.flow.name });
  }

  resume(): void {
    if (this.#status !== 'paused') return;
    this.#status = 'running';
    if (this.#listening()) this.#emit({ type: 'run:resumed', runId: this.id, flow: this.flow.name });
    inFlush(() => this.#q.resume());
  }

  /** Cancels the run: queued and running nodes become CANCELLED, their signal aborts. */
  cancel(reason = 'cancelled'): void {
    this.#cancel(reason, 'cancelled');
  }

  #cancel(reason: string, final: 'cancelled' | 'failed'): void {
    if (isFinished(this.#status)) return;
    const err = new RunCancelledError(this.id, reason);
    (this.#ctl ??= new AbortController()).abort(err);
    this.#q.kill();
    if (this.#timers) { for (const t of this.#timers) clearTimeout(t); this.#timers.clear(); }
    const t = now();
    for (let i = 0; i < this.#state.length; i++) {
      if (isTerminal(this.#state[i])) continue;
      if (this.#state[i] === NodeState.RUNNING) this.endAt[i] = t;
      // A RUNNING node keeps its token: its late settlement must still free its queue slot once.
      this.#state[i] = NodeState.CANCELLED;
      this.#setError(i, err);
    }
    this.#remaining = 0;
    if (this.startedAt !== this.startedAt) this.startedAt = t; // cancelled while queued
    if (final === 'cancelled' || this.#error === undefined) this.#error = err;
    this.#finish(final);
  }

  /** Frees what the run holds: its arena scope and its outputs (a manager's `cleanup` calls this). */
  release(): void {
    this.#scope?.close();
    this.#scope = undefined;
    this.#outputs = [];
  }

  // ---- scheduler internals ----------------------------------------------------------------------

  #idx(name: string): number {
    const i = this.flow.index.get(name);
    if (i === undefined) throw new RangeError(`flow '${this.flow.name}' has no node '${name}'`);
    return i;
  }

  /** Checked before building an event object, so a run nobody watches allocates none. */
  #listening(): boolean {
    return this.#onEvent !== undefined || (this.#sink !== undefined && this.#sink.listeners.size > 0);
  }

  #emit(e: FlowEvent): void {
    if (this.#onEvent) call(this.#onEvent, e);
    if (this.#sink) for (const l of this.#sink.listeners) call(l, e);
  }

  #setError(i: number, e: unknown): void {
    (this.#errors ??= new Array(this.#state.length))[i] = e;
  }

  #setReason(i: number, r: string): void {
    (this.#reasons ??= new Map()).set(i, r);
  }

  appendLog(i: number, line: string): void {
    const m = (this.#logs ??= new Map());
    const l = m.get(i);
    if (l) l.push(line); else m.set(i, [line]);
  }

  #bindProviders(): void {
    if (!this.flow.injects) return;
    const c = this.#opts.container ?? this.flow.container;
    this.flow.checkProviders(c);
    this.#providers = new Map();
    for (const d of this.flow.nodes) {
      for (const s of d.inject) this.#providers.set(s, this.flow.providers.has(s) ? this.flow.providers : c!);
    }
  }

  /** Resume: mark the given nodes COMPLETED with their old outputs, without running them. */
  #preset(done: ReadonlyMap<string, unknown>): void {
    const order = this.flow.order;
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const name = this.flow.nodes[i].name;
      // Taken only if every upstream was taken too (topological order decides upstreams first).
      if (!done.has(name) || this.#pending[i] !== 0) continue;
      this.#state[i] = NodeState.COMPLETED;
      this.#outputs[i] = done.get(name);
      this.#setReason(i, 'resumed');
      this.#resumed++;
      this.#remaining--;
      const f = this.flow;
      for (let e = f.outOff[i]; e < f.outOff[i + 1]; e++) this.#pending[f.outIdx[e]]--;
    }
    // Nodes whose upstreams are now all finished become ready (or skipped) now.
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      if (this.#state[i] === NodeState.PENDING && this.#pending[i] === 0 && this.flow.inOff[i + 1] > this.flow.inOff[i]) this.#decide(i);
    }
    if (this.#remaining === 0) this.#finish(this.#failed ? 'failed' : 'completed');
  }

  #ready(i: number): void {
    this.#state[i] = NodeState.READY;
    this.readyAt[i] = now();
    this.#q.push(i);
  }

  /** fastq worker: starts one attempt of node i. `cb` frees the queue slot (called by `flush`). */
  _dispatch(i: number, cb: FastqDone): void {
    if (this.#state[i] !== NodeState.READY) { release(this, cb); return; } // cancelled while queued
    const def = this.flow.nodes[i];
    this.#state[i] = NodeState.RUNNING;
    const t = now();
    this.startAt[i] = t;
    const attempt = ++this.#attempts[i];
    if (this.#listening()) {
      this.#emit({ type: 'node:start', runId: this.id, flow: this.flow.name, node: def.name, attempt, queuedMs: t - this.readyAt[i] });
    }
    if (def.inject.length === 0) { this.#invoke(i, cb, EMPTY, attempt); return; }
    let services: Record<string, any> | Promise<Record<string, any>>;
    try {
      services = this.#resolveServices(def.inject);
    } catch (e) {
      this.#settle(i, cb, this.#tokens[i], false, e);
      return;
    }
    if (services instanceof Promise) {
      const token = this.#tokens[i];
      services.then((s) => this.#invoke(i, cb, s, attempt), (e) => this.#settle(i, cb, token, false, e));
    } else {
      this.#invoke(i, cb, services, attempt);
    }
  }

  #resolveServices(names: readonly string[]): Record<string, any> | Promise<Record<string, any>> {
    const out: Record<string, any> = {};
    let wait: Promise<unknown>[] | undefined;
    for (const name of names) {
      const v = this.#providers!.get(name)!.resolve(name, (this.#services ??= new RunServices(this.id)));
      if (v instanceof Promise) (wait ??= []).push(v.then((x) => (out[name] = x)));
      else out[name] = v;
    }
    return wait ? Promise.all(wait).then(() => out) : out;
  }

  #invoke(i: number, cb: FastqDone, services: Record<string, any>, attempt: number): void {
    if (this.#state[i] !== NodeState.RUNNING) { release(this, cb); return; } // cancelled while resolving services
    const def = this.flow.nodes[i];
    const token = this.#tokens[i];
    let signal: AbortSignal | undefined; // undefined: the node reads the run's signal, lazily
    let timer: NodeJS.Timeout | undefined;
    let nodeCtl: AbortController | undefined;
    if (def.timeoutMs > 0) {
      nodeCtl = new AbortController();
      signal = AbortSignal.any([this.signal, nodeCtl.signal]);
    }
    const ctx = new NodeContext<O>(this, i, signal, services, attempt);
    let r: unknown;
    try {
      r = flowStorage.run(this.context, def.run, ctx);
    } catch (e) {
      this.#settle(i, cb, token, false, e);
      return;
    }
    if (r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function') {
      if (nodeCtl) {
        const ctl = nodeCtl;
        timer = setTimeout(() => {
          const err = new NodeTimeoutError(def.name, def.timeoutMs);
          ctl.abort(err);
          this.#settle(i, cb, token, false, err);
        }, def.timeoutMs);
      }
      (r as PromiseLike<unknown>).then(
        (v) => { if (timer) clearTimeout(timer); this.#settle(i, cb, token, true, v); },
        (e) => { if (timer) clearTimeout(timer); this.#settle(i, cb, token, false, e); },
      );
    } else {
      this.#settle(i, cb, token, true, r);
    }
  }

  /** One attempt's outcome. Ignored unless `token` is still current (not timed out, not cancelled). */
  #settle(i: number, cb: FastqDone, token: number, ok: boolean, value: unknown): void {
    if (token !== this.#tokens[i]) return;
    this.#tokens[i]++;
    if (this.#state[i] !== NodeState.RUNNING) { release(this, cb); return; } // the run was cancelled
    const def = this.flow.nodes[i];
    const t = now();
    this.endAt[i] = t;
    if (!ok && this.#attempts[i] <= def.retries && !this.#ctl?.signal.aborted) {
      const delay = Math.min(def.maxRetryDelayMs, def.retryDelayMs * def.backoff ** (this.#attempts[i] - 1));
      this.#state[i] = NodeState.PENDING;
      this.#retries++;
      this.#setError(i, value);
      if (this.#listening()) {
        this.#emit({ type: 'node:retry', runId: this.id, flow: this.flow.name, node: def.name, attempt: this.#attempts[i], delayMs: delay, error: value });
      }
      const timers = (this.#timers ??= new Set());
      const h = setTimeout(() => {
        timers.delete(h);
        if (this.#state[i] === NodeState.PENDING && !isFinished(this.#status)) inFlush(() => this.#ready(i));
      }, delay);
      timers.add(h);
      release(this, cb);
      return;
    }
    if (ok) {
      this.#state[i] = NodeState.COMPLETED;
      this.#outputs[i] = value;
      if (this.#errors) this.#errors[i] = undefined;
    } else {
      this.#state[i] = NodeState.FAILED;
      this.#setError(i, value);
    }
    complete(this, i, cb);
  }

  /** Called by `flush` for every node that reached a terminal state (COMPLETED, FAILED or SKIPPED). */
  _afterNode(i: number): void {
    if (isFinished(this.#status)) return;
    this.#remaining--;
    const s = this.#state[i];
    if (this.#listening()) this.#emitEnd(i);
    if (s === NodeState.FAILED && !this.flow.tolerated[i]) {
      if (!this.#failed) { this.#failed = true; this.#error = this.#errors?.[i]; }
      if (this.#opts.failFast ?? this.flow.options.failFast) {
        this.#cancel(`node '${this.flow.nodes[i].name}' failed (failFast)`, 'failed');
        return;
      }
    }
    const f = this.flow;
    for (let e = f.outOff[i]; e < f.outOff[i + 1]; e++) {
      const v = f.outIdx[e];
      if (--this.#pending[v] === 0) this.#decide(v);
    }
    if (this.#remaining === 0) this.#finish(this.#failed ? 'failed' : 'completed');
  }

  /** All upstreams of v are terminal: make it READY, or SKIPPED (its successors are then decided via the trampoline). */
  #decide(v: number): void {
    const f = this.flow;
    let skip: string | undefined;
    for (let e = f.inOff[v]; e < f.inOff[v + 1] && skip === undefined; e++) {
      const u = f.inIdx[e];
      const su = this.#state[u];
      const kind = f.inKind[e];
      if (su === NodeState.COMPLETED) {
        if (kind === DepKind.CONDITIONAL) {
          const dep = f.nodes[v].deps.find((d) => d.node === f.nodes[u].name)!;
          let pass: boolean;
          try {
            pass = !!dep.when!(this.#outputs[u]);
          } catch (err) {
            this.#state[v] = NodeState.FAILED;
            this.#setError(v, err);
            complete(this, v, null);
            return;
          }
          if (!pass) skip = `condition on '${f.nodes[u].name}' is false`;
        }
      } else if (kind !== DepKind.OPTIONAL) {
        skip = `upstream '${f.nodes[u].name}' ${STATE_NAMES[su]}`;
      }
    }
    if (skip === undefined) { this.#ready(v); return; }
    this.#state[v] = NodeState.SKIPPED;
    this.#setReason(v, skip);
    complete(this, v, null);
  }

  #emitEnd(i: number): void {
    const s = this.#state[i];
    const def = this.flow.nodes[i];
    const ran = s === NodeState.COMPLETED || s === NodeState.FAILED;
    this.#emit({
      type: 'node:end', runId: this.id, flow: this.flow.name, node: def.name, state: STATE_NAMES[s],
      attempt: this.#attempts[i], durationMs: ran ? this.endAt[i] - this.startAt[i] : 0,
      output: s === NodeState.COMPLETED ? this.#outputs[i] : undefined,
      error: this.#errors?.[i], reason: this.#reasons?.get(i),
    });
  }

  /** A failure before any node ran (e.g. a missing provider): every node is CANCELLED. */
  #fatal(e: unknown): void {
    for (let i = 0; i < this.#state.length; i++) this.#state[i] = NodeState.CANCELLED;
    this.#remaining = 0;
    this.#error = e;
    this.#finish('failed');
  }

  #finish(state: RunState): void {
    if (isFinished(this.#status)) return;
    this.#status = state;
    this.endedAt = now();
    if (this.#error === undefined && state === 'failed') this.#error = this.#errors?.find((x) => x !== undefined);
    const end = () => {
      if (this.#listening()) {
        this.#emit({ type: 'run:end', runId: this.id, flow: this.flow.name, state: this.#status, durationMs: this.durationMs, error: this.#error });
      }
      this.#onFinish?.(this);
      this.#resolveDone(this);
    };
    // perRun services are disposed before `done` resolves, so "run ended" means "its services are gone".
    const services = this.#services;
    if (services && services.values.size && this.#providers) {
      const byContainer = new Set(this.#providers.values());
      Promise.all([...byContainer].map((c) => c.disposeRun(services).catch((e) => e)))
        .then((errs) => { const e = errs.find((x) => x !== undefined); if (e && !this.#error) this.#error = e; end(); });
    } else {
      end();
    }
  }

  #result(i: number): NodeResult {
    const s = this.#state[i];
    const def = this.flow.nodes[i];
    const ran = this.#attempts[i] > 0;
    const r: NodeResult = { name: def.name, kind: def.kind, state: STATE_NAMES[s], attempts: this.#attempts[i] };
    if (ran) {
      r.queuedMs = this.startAt[i] - this.readyAt[i];
      if (s !== NodeState.RUNNING) r.durationMs = this.endAt[i] - this.startAt[i];
    }
    if (s === NodeState.COMPLETED) r.output = this.#outputs[i];
    const e = this.#errors?.[i];
    if (e !== undefined) r.error = e;
    const reason = this.#reasons?.get(i);
    if (reason) r.reason = reason;
    const logs = this.#logs?.get(i);
    if (logs) r.logs = logs;
    return r;
  }
}
