/**
 * What a node's run function receives. One small object per attempt; everything it answers is read
 * from the run's arrays on demand (no per-node copies of inputs).
 */
import { InvalidOptionError } from '../errors.js';
import type { Outputs } from './builder.js';
import type { FlowContext } from './context.js';
import { fanOut, type BranchInfo, type FanOutOptions } from './fanout.js';
import type { Run } from './run.js';

export class NodeContext<O extends Outputs = Outputs> {
  readonly #run: Run<O>;
  readonly #i: number;
  readonly #signal: AbortSignal | undefined;
  /** Injected services by name (only the ones the node declared in `inject`). */
  readonly services: Readonly<Record<string, any>>;
  /** 1 for the first attempt. */
  readonly attempt: number;

  constructor(run: Run<O>, i: number, signal: AbortSignal | undefined, services: Record<string, any>, attempt: number) {
    this.#run = run;
    this.#i = i;
    this.#signal = signal;
    this.services = services;
    this.attempt = attempt;
  }

  /** Aborted when the run is cancelled or this attempt times out. */
  get signal(): AbortSignal {
    return this.#signal ?? this.#run.signal;
  }
  get node(): string {
    return this.#run.flow.nodes[this.#i].name;
  }
  get runId(): string {
    return this.#run.id;
  }
  /** The node's `config` (task-type nodes). */
  get config(): unknown {
    return this.#run.flow.nodes[this.#i].config;
  }
  /** The run's context (the same object `currentContext()` answers inside this node). */
  get context(): FlowContext {
    return this.#run.context;
  }
  /** The job's work directory, when the run has one (shell nodes get it as AETHERFLOW_WORK_DIR). */
  get workDir(): string | undefined {
    return this.#run.workDir;
  }
  /** The arena scope the run allocates in (closed when the run is released), if it has one. */
  get scope(): unknown {
    return this.#run.scope;
  }

  /**
   * Output of a direct upstream node. Undefined when that upstream is an optional dependency that
   * failed or was skipped ("absent"). Asking for a node that is not a direct dependency throws.
   */
  input<K extends keyof O & string>(name: K): O[K] {
    const u = this.#run.flow.index.get(name);
    const f = this.#run.flow;
    if (u !== undefined) {
      for (let e = f.inOff[this.#i]; e < f.inOff[this.#i + 1]; e++) if (f.inIdx[e] === u) return this.#run.outputAt(u) as O[K];
    }
    throw new InvalidOptionError(`input('${name}')`, name, `a direct dependency of '${this.node}' (${f.depsOf(this.node).join(', ') || 'none'})`);
  }

  /** All direct upstream outputs by name (absent optional ones are undefined). */
  get inputs(): Partial<O> {
    const f = this.#run.flow;
    const out: Record<string, unknown> = {};
    for (let e = f.inOff[this.#i]; e < f.inOff[this.#i + 1]; e++) out[f.nodes[f.inIdx[e]].name] = this.#run.outputAt(f.inIdx[e]);
    return out as Partial<O>;
  }

  /** Keeps a log line with the node's result (history stores it; the CLI shows it on failure). */
  log(...parts: unknown[]): void {
    this.#run.appendLog(this.#i, parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(' '));
  }

  /** Fan-out inside this node: one branch per item, each in a copy of the context; results in order. */
  fanOut<T, R>(items: Iterable<T>, fn: (item: T, b: BranchInfo<O>) => R | Promise<R>, opts: FanOutOptions = {}): Promise<R[]> {
    return fanOut(items, fn, { signal: this.signal, ...opts }, this);
  }
}
