/**
 * The fluent, typed flow API and the compiled, validated `Flow`.
 *
 *   const f = flow('etl')
 *     .node('load', async () => [1, 2, 3])
 *     .fanOut('square', { after: ['load'], over: (c) => c.input('load'), branch: (x) => x * x })
 *     .fanIn('total', { from: 'square', run: (xs) => xs.reduce((a, b) => a + b, 0) })
 *     .build();                       // validation: cycles, unknown deps, duplicates, missing providers
 *   const run = await f.run();        // run.output('total') === 14
 *
 * Each `.node` adds its output type to the builder's type parameter, so `input('load')` is typed and
 * `after` only accepts names already defined. `addNode` is the untyped door (YAML jobs, generated flows);
 * `build()` validates both the same way, because the types cannot see everything (names from files).
 *
 * `build()` compiles the DAG once into flat arrays (CSR adjacency, in-degrees, topological order) that
 * every run of the flow shares; a run only allocates its per-node state arrays.
 */
import { FlowValidationError, InvalidOptionError } from '../errors.js';
import { Container, type Provider } from './container.js';
import type { NodeContext } from './node-context.js';
import { getTaskType } from './registry.js';
import { Run, type RunOptions } from './run.js';
import { DepKind } from './types.js';
import type { BranchInfo } from './fanout.js';
import { toDot, toMermaid } from './graph.js';

export type Outputs = Record<string, unknown>;
export type NodeFn<O extends Outputs = Outputs, R = unknown> = (ctx: NodeContext<O>) => R | Promise<R>;

/** A dependency: a name (sequence), `{ node, optional: true }` or `{ node, when }` (conditional). */
export type DepSpec<K extends string = string> =
  | K
  | { node: K; optional: true }
  | { node: K; when: (output: any) => boolean };

export interface NodeOptions<K extends string = string> {
  /** Upstream nodes (default: none — a root). */
  after?: readonly DepSpec<K>[];
  /** Services injected by name (see Container); available as `ctx.services[name]`. */
  inject?: readonly string[];
  /** Extra attempts after a failure (default 0). */
  retries?: number;
  /** Delay before the first retry (default 100 ms); multiplied by `backoff` (default 2) each time. */
  retryDelayMs?: number;
  backoff?: number;
  /** Cap on a retry delay (default 30 s). */
  maxRetryDelayMs?: number;
  /** Per-attempt timeout: the node's signal aborts with NodeTimeoutError and the attempt fails. */
  timeoutMs?: number;
  description?: string;
}

export interface NodeSpec<O extends Outputs, R> extends NodeOptions<keyof O & string> {
  run: NodeFn<O, R>;
}

/** A node as the compiler sees it (what `addNode` takes). */
export interface NodeDef {
  name: string;
  /** Task type ('function' for `.node`). */
  kind: string;
  run: NodeFn<any, unknown>;
  deps: { node: string; kind: DepKind; when?: (output: any) => boolean }[];
  inject: string[];
  retries: number;
  retryDelayMs: number;
  backoff: number;
  maxRetryDelayMs: number;
  timeoutMs: number;
  config?: unknown;
  description?: string;
}

export interface FlowOptions {
  /** Maximum nodes of one run running at once (the fastq ready queue's limit). Default 64. */
  concurrency?: number;
  /** Cancel the rest of a run at the first non-tolerated failure. Default false (independent branches finish). */
  failFast?: boolean;
}

export interface BuildOptions {
  /** Providers the runs will get; with it, `build` also checks that every injected name is provided. */
  container?: Container;
  /**
   * Providers come with each run (`run({ container })`): skip the provider check at build; a run whose
   * container lacks a provider fails at start, before any node runs. Default false.
   */
  deferProviders?: boolean;
}

export function flow(name: string, opts: FlowOptions = {}): FlowBuilder {
  return new FlowBuilder(name, opts);
}

// eslint-disable-next-line @typescript-eslint/ban-types
export class FlowBuilder<O extends Outputs = {}> {
  readonly name: string;
  readonly #opts: FlowOptions;
  readonly #nodes: NodeDef[] = [];
  readonly #providers = new Container();
  #baseDir = process.cwd();

  constructor(name: string, opts: FlowOptions = {}) {
    this.name = name;
    this.#opts = opts;
  }

  /** Directory that relative paths in task configs resolve against (default: the working directory). */
  baseDir(dir: string): this {
    this.#baseDir = dir;
    return this;
  }

  /** A function node. `spec` is the run function itself or `{ run, after, inject, retries, timeoutMs }`. */
  node<N extends string, R>(name: N, spec: NodeSpec<O, R> | NodeFn<O, R>): FlowBuilder<O & { [P in N]: Awaited<R> }> {
    const s = typeof spec === 'function' ? { run: spec } : spec;
    if (typeof s.run !== 'function') throw new InvalidOptionError(`nodes.${name}.run`, typeof s.run, 'a function');
    this.#nodes.push(makeDef(name, 'function', s.run as NodeFn<any>, s));
    return this as any;
  }

  /** A node of a registered task type (shell, http, script, query, or a custom one). */
  task<N extends string>(name: N, type: string, config: unknown, opts: NodeOptions<keyof O & string> = {}):
    FlowBuilder<O & { [P in N]: unknown }> {
    const t = getTaskType(type);
    const run = t.create(config, { name, flow: this.name, baseDir: this.#baseDir });
    const inject = t.inject?.length ? [...new Set([...t.inject, ...(opts.inject ?? [])])] : opts.inject;
    this.#nodes.push(makeDef(name, type, run, { ...opts, inject }, config));
    return this as any;
  }

  /**
   * Fan-out: runs `branch` once per item of `over(ctx)`, in parallel (up to `concurrency`), each branch
   * in its own COPY of the run's context. The node's output is the branch results in item order.
   */
  fanOut<N extends string, T, R>(
    name: N,
    spec: NodeOptions<keyof O & string> & {
      over: (ctx: NodeContext<O>) => Iterable<T> | Promise<Iterable<T>>;
      branch: (item: T, b: BranchInfo<O>) => R | Promise<R>;
      concurrency?: number;
    },
  ): FlowBuilder<O & { [P in N]: Awaited<R>[] }> {
    const { over, branch, concurrency } = spec;
    const run = async (ctx: NodeContext<O>) => ctx.fanOut(await over(ctx), branch, { concurrency });
    this.#nodes.push(makeDef(name, 'fanOut', run as NodeFn<any>, spec));
    return this as any;
  }

  /** Fan-in: a node over the ordered results of the fan-out node `from`. */
  fanIn<N extends string, F extends keyof O & string, R>(
    name: N,
    spec: NodeOptions<keyof O & string> & { from: F; run: (results: O[F], ctx: NodeContext<O>) => R | Promise<R> },
  ): FlowBuilder<O & { [P in N]: Awaited<R> }> {
    const after = [spec.from, ...(spec.after ?? []).filter((d) => d !== spec.from)];
    const run = (ctx: NodeContext<O>) => spec.run(ctx.input(spec.from), ctx);
    this.#nodes.push(makeDef(name, 'fanIn', run as NodeFn<any>, { ...spec, after }));
    return this as any;
  }

  /** A provider owned by the flow (its singletons are shared by every run of the flow). */
  provide<T>(name: string, provider: Provider<T>): this {
    this.#providers.register(name, provider);
    return this;
  }

  /** The untyped door: a node given by value (names checked only at `build`). */
  addNode(def: Partial<NodeDef> & { name: string; run: NodeFn<any, unknown> }): this {
    this.#nodes.push(makeDef(def.name, def.kind ?? 'function', def.run, {
      ...def,
      after: def.deps?.map((d) =>
        d.kind === DepKind.OPTIONAL ? { node: d.node, optional: true as const }
          : d.kind === DepKind.CONDITIONAL && d.when ? { node: d.node, when: d.when } : d.node),
    }, def.config));
    return this;
  }

  build(opts: BuildOptions = {}): Flow<O> {
    const f = new Flow<O>(this.name, this.#nodes.slice(), this.#opts, this.#providers, opts.container);
    if (!opts.deferProviders) f.checkProviders(opts.container);
    return f;
  }
}

function makeDef(name: string, kind: string, run: NodeFn<any>, o: NodeOptions, config?: unknown): NodeDef {
  const num = (v: number | undefined, d: number, what: string, min = 0) => {
    if (v === undefined) return d;
    if (typeof v !== 'number' || !(v >= min)) throw new InvalidOptionError(`nodes.${name}.${what}`, v, `a number ≥ ${min}`);
    return v;
  };
  if (typeof name !== 'string' || name === '') throw new InvalidOptionError('node name', name, 'a non-empty string');
  return {
    name,
    kind,
    run,
    deps: (o.after ?? []).map((d) =>
      typeof d === 'string' ? { node: d, kind: DepKind.SEQUENCE }
        : 'when' in d ? { node: d.node, kind: DepKind.CONDITIONAL, when: d.when }
        : { node: d.node, kind: d.optional ? DepKind.OPTIONAL : DepKind.SEQUENCE }),
    inject: [...(o.inject ?? [])],
    retries: num(o.retries, 0, 'retries'),
    retryDelayMs: num(o.retryDelayMs, 100, 'retryDelayMs'),
    backoff: num(o.backoff, 2, 'backoff', 1),
    maxRetryDelayMs: num(o.maxRetryDelayMs, 30_000, 'maxRetryDelayMs'),
    timeoutMs: num(o.timeoutMs, 0, 'timeoutMs'),
    config,
    description: o.description,
  };
}

/**
 * A validated DAG, compiled to flat arrays shared by all its runs.
 *
 *   inOff[i] … inOff[i+1]   incoming edges of node i: inIdx (upstream node), inKind (DepKind)
 *   outOff[i] … outOff[i+1] outgoing edges of node i: outIdx (downstream node)
 *
 * A run copies `inDegree` and decrements a node's counter as each upstream finishes: the node is
 * decided (READY or SKIPPED) when its counter reaches 0 — O(1) per edge, no scanning for ready nodes.
 */
export class Flow<O extends Outputs = Outputs> {
  readonly name: string;
  readonly nodes: readonly NodeDef[];
  readonly index = new Map<string, number>();
  readonly inOff: Int32Array;
  readonly inIdx: Int32Array;
  readonly inKind: Uint8Array;
  readonly outOff: Int32Array;
  readonly outIdx: Int32Array;
  readonly inDegree: Int32Array;
  readonly roots: Int32Array;
  /** Node indices in a topological order (ties in definition order). */
  readonly order: Int32Array;
  /** 1 when a node's failure does not fail the run: it has dependents and all of them take it as optional. */
  readonly tolerated: Uint8Array;
  readonly options: Required<FlowOptions>;
  /** Some node injects a service (runs then bind providers at start). */
  readonly injects: boolean;
  readonly providers: Container;
  /** The container given to `build` (runs use it unless they bring their own). */
  readonly container: Container | undefined;

  constructor(name: string, nodes: NodeDef[], opts: FlowOptions, providers: Container, container?: Container) {
    this.name = name;
    this.nodes = nodes;
    this.providers = providers;
    this.container = container;
    const concurrency = opts.concurrency ?? 64;
    if (!(concurrency >= 1)) throw new InvalidOptionError('concurrency', concurrency, 'a number ≥ 1');
    this.options = { concurrency, failFast: opts.failFast ?? false };
    const n = nodes.length;
    if (n === 0) throw new FlowValidationError('ERR_FLOW_INVALID', name, [], 'a flow needs at least one node');

    for (let i = 0; i < n; i++) {
      const nm = nodes[i].name;
      if (this.index.has(nm)) {
        throw new FlowValidationError('ERR_FLOW_DUPLICATE_NODE', name, [nm], `node '${nm}' is defined twice`);
      }
      this.index.set(nm, i);
    }
    let edges = 0;
    for (const d of nodes) {
      const seen = new Set<string>();
      for (const dep of d.deps) {
        if (!this.index.has(dep.node)) {
          throw new FlowValidationError('ERR_FLOW_UNKNOWN_DEP', name, [d.name, dep.node],
            `node '${d.name}' depends on unknown node '${dep.node}'`);
        }
        if (dep.node === d.name) {
          throw new FlowValidationError('ERR_FLOW_CYCLE', name, [d.name, d.name], `cycle: ${d.name} → ${d.name}`);
        }
        if (seen.has(dep.node)) {
          throw new FlowValidationError('ERR_FLOW_INVALID', name, [d.name, dep.node],
            `node '${d.name}' lists dependency '${dep.node}' twice`);
        }
        seen.add(dep.node);
        edges++;
      }
    }

    // CSR adjacency, both directions.
    this.inOff = new Int32Array(n + 1);
    this.inIdx = new Int32Array(edges);
    this.inKind = new Uint8Array(edges);
    this.outOff = new Int32Array(n + 1);
    this.outIdx = new Int32Array(edges);
    this.inDegree = new Int32Array(n);
    for (let i = 0, e = 0; i < n; i++) {
      this.inOff[i] = e;
      for (const dep of nodes[i].deps) {
        const u = this.index.get(dep.node)!;
        this.inIdx[e] = u;
        this.inKind[e++] = dep.kind;
        this.outOff[u + 1]++;
      }
      this.inDegree[i] = nodes[i].deps.length;
    }
    this.inOff[n] = edges;
    for (let i = 0; i < n; i++) this.outOff[i + 1] += this.outOff[i];
    const fill = this.outOff.slice(0, n);
    for (let i = 0; i < n; i++) {
      for (let e = this.inOff[i]; e < this.inOff[i + 1]; e++) this.outIdx[fill[this.inIdx[e]]++] = i;
    }

    // Kahn's algorithm gives the order; leftovers mean a cycle, which a DFS then names.
    const indeg = this.inDegree.slice();
    const order = new Int32Array(n);
    let head = 0, tail = 0;
    const roots: number[] = [];
    for (let i = 0; i < n; i++) if (indeg[i] === 0) { order[tail++] = i; roots.push(i); }
    while (head < tail) {
      const u = order[head++];
      for (let e = this.outOff[u]; e < this.outOff[u + 1]; e++) if (--indeg[this.outIdx[e]] === 0) order[tail++] = this.outIdx[e];
    }
    if (tail < n) {
      const cycle = this.#findCycle(indeg);
      throw new FlowValidationError('ERR_FLOW_CYCLE', name, cycle, `cycle: ${cycle.join(' → ')}`);
    }
    this.order = order;
    this.roots = Int32Array.from(roots);

    this.tolerated = new Uint8Array(n);
    for (let u = 0; u < n; u++) {
      if (this.outOff[u + 1] === this.outOff[u]) continue;
      let all = 1;
      for (let e = this.outOff[u]; e < this.outOff[u + 1] && all; e++) {
        const v = this.outIdx[e];
        for (let f = this.inOff[v]; f < this.inOff[v + 1]; f++) {
          if (this.inIdx[f] === u && this.inKind[f] !== DepKind.OPTIONAL) { all = 0; break; }
        }
      }
      this.tolerated[u] = all;
    }

    this.injects = nodes.some((d) => d.inject.length > 0);
  }

  /** Iterative DFS over the nodes Kahn could not order (each lies on or behind a cycle). */
  #findCycle(indeg: Int32Array): string[] {
    const n = this.nodes.length;
    const color = new Uint8Array(n); // 0 new, 1 on stack, 2 done
    for (let s = 0; s < n; s++) {
      if (indeg[s] === 0 || color[s]) continue;
      const stack: number[] = [s];
      const edge: number[] = [this.outOff[s]];
      color[s] = 1;
      while (stack.length) {
        const u = stack[stack.length - 1];
        const e = edge[edge.length - 1];
        if (e === this.outOff[u + 1]) { color[u] = 2; stack.pop(); edge.pop(); continue; }
        edge[edge.length - 1]++;
        const v = this.outIdx[e];
        if (color[v] === 1) {
          const path = stack.slice(stack.indexOf(v)).map((k) => this.nodes[k].name);
          return [...path, this.nodes[v].name];
        }
        if (color[v] === 0 && indeg[v] !== 0) { color[v] = 1; stack.push(v); edge.push(this.outOff[v]); }
      }
    }
    return [];
  }

  /** Every injected name must come from the flow's providers or `container`. */
  checkProviders(container: Container | undefined = this.container): void {
    if (!this.injects) return;
    for (const d of this.nodes) {
      for (const s of d.inject) {
        if (this.providers.has(s) || container?.has(s)) continue;
        const known = [...new Set([...this.providers.names(), ...(container?.names() ?? [])])];
        throw new FlowValidationError('ERR_FLOW_MISSING_PROVIDER', this.name, [d.name, s],
          `node '${d.name}' injects '${s}', which no provider supplies (known: ${known.join(', ') || 'none'})`);
      }
    }
  }

  get size(): number {
    return this.nodes.length;
  }

  /** Dependencies of a node, by name. */
  depsOf(name: string): string[] {
    const i = this.index.get(name);
    if (i === undefined) return [];
    return Array.from(this.inIdx.subarray(this.inOff[i], this.inOff[i + 1]), (u) => this.nodes[u].name);
  }

  /** Creates and starts a run (no run manager); `run.done` resolves when it finishes. */
  start(opts: RunOptions = {}): Run<O> {
    const r = new Run<O>(this, opts);
    r.start();
    return r;
  }

  /** Runs the flow and resolves with the finished run (it never rejects for node failures: check `run.state`). */
  run(opts: RunOptions = {}): Promise<Run<O>> {
    return this.start(opts).done;
  }

  toMermaid(run?: Run<O>): string {
    return toMermaid(this, run);
  }
  toDot(run?: Run<O>): string {
    return toDot(this, run);
  }
}
