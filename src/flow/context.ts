/**
 * Run and branch contexts — the seeds' ContextVars plan on AsyncLocalStorage.
 *
 * Every run executes its nodes inside `als.run(run.context, …)`, so `currentContext()` anywhere below a
 * node (across awaits, timers, callbacks) answers that run's context, even when thousands of runs
 * interleave on one event loop. A fan-out branch runs inside `als.run(parent.fork(), …)`: the fork is a
 * COPY of the parent's variables, so a branch's `set` never reaches its siblings or the parent.
 *
 * The copy is shallow (like contextvars): rebinding a variable is isolated, mutating an object that
 * two contexts both reference is not. Put values, not shared mutable objects, in the context.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export class FlowContext {
  /** Created on first write or on a copy: most runs of no-op nodes never touch their context. */
  #vars: Map<string, unknown> | undefined;
  /** The run this context belongs to (a branch keeps its run's id). */
  readonly runId: string;
  /** `''` for a run's own context; `'3'`, `'3.1'` … for fan-out branches (index path). */
  readonly branch: string;

  constructor(runId: string, init?: Iterable<[string, unknown]> | Record<string, unknown>, branch = '') {
    this.runId = runId;
    this.branch = branch;
    this.#vars = init === undefined ? undefined
      : Symbol.iterator in (init as object) ? new Map(init as Iterable<[string, unknown]>)
      : new Map(Object.entries(init as Record<string, unknown>));
  }

  get<T = unknown>(key: string): T | undefined {
    return this.#vars?.get(key) as T | undefined;
  }
  set(key: string, value: unknown): this {
    (this.#vars ??= new Map()).set(key, value);
    return this;
  }
  has(key: string): boolean {
    return this.#vars?.has(key) ?? false;
  }
  delete(key: string): boolean {
    return this.#vars?.delete(key) ?? false;
  }
  /** A plain copy of the variables (for logs and tests). */
  snapshot(): Record<string, unknown> {
    return this.#vars ? Object.fromEntries(this.#vars) : {};
  }
  /** A child context holding a copy of this one's variables: copy on fork, never shared. */
  fork(branch: string | number): FlowContext {
    const path = this.branch === '' ? String(branch) : `${this.branch}.${branch}`;
    return new FlowContext(this.runId, this.#vars ?? [], path);
  }
}

/** The one storage for the whole process: its value is the FlowContext of the code running now. */
export const flowStorage = new AsyncLocalStorage<FlowContext>();

/** The context of the run (or fan-out branch) the caller runs in; undefined outside any run. */
export function currentContext(): FlowContext | undefined {
  return flowStorage.getStore();
}

/** Runs `fn` with `ctx` as the current context (what the scheduler does around every node). */
export function withContext<R>(ctx: FlowContext, fn: () => R): R {
  return flowStorage.run(ctx, fn);
}
