/**
 * Dependency injection with provider scopes — the seeds' two concurrency modes, plus two more:
 *
 * | scope       | one instance per …                 | disposed                              |
 * |-------------|------------------------------------|---------------------------------------|
 * | `singleton` | container (shared by all runs)     | `container.dispose()`                 |
 * | `perWorker` | container × thread (`threadId`)    | `container.dispose()` (this thread's) |
 * | `perRun`    | run                                | when the run ends (success or not)    |
 * | `transient` | injection (every node gets a new)  | never (caller owns it)                |
 *
 * `perWorker` is the seeds' ThreadLocalSingleton: a JS object cannot cross threads, so each thread that
 * resolves the provider builds its own. State that must really be shared across threads lives in shared
 * memory — `SharedCounter` below (Atomics over a SharedArrayBuffer), which a script node receives as the
 * buffer itself (shared by postMessage, not copied).
 *
 * Creation may be async (a connection pool that has to connect); concurrent first resolutions of a
 * singleton share one pending promise, so it is created once.
 */
import { threadId } from 'node:worker_threads';
import { FlowValidationError, InvalidOptionError } from '../errors.js';

export type ProviderScope = 'singleton' | 'perWorker' | 'perRun' | 'transient';
export const PROVIDER_SCOPES: readonly ProviderScope[] = ['singleton', 'perWorker', 'perRun', 'transient'];

/** What a provider's `create` learns about who asks. */
export interface ResolveInfo {
  name: string;
  /** Undefined for singleton/perWorker providers (they outlive runs). */
  runId?: string;
  threadId: number;
  container: Container;
}

export interface Provider<T = unknown> {
  scope: ProviderScope;
  create: (info: ResolveInfo) => T | Promise<T>;
  dispose?: (value: T) => void | Promise<void>;
}

/** Per-run instances: held by the run, disposed by `disposeRun` when the run ends. */
export class RunServices {
  readonly values = new Map<string, unknown>();
  readonly pending = new Map<string, Promise<unknown>>();
  constructor(readonly runId: string) {}
}

export class Container {
  readonly #providers = new Map<string, Provider<any>>();
  readonly #parent: Container | undefined;
  readonly #singletons = new Map<string, unknown>();
  readonly #pending = new Map<string, Promise<unknown>>();
  /** threadId → name → instance. In practice one entry per thread that uses this container. */
  readonly #perWorker = new Map<number, Map<string, unknown>>();
  readonly counters = new Map<string, SharedCounter>();

  constructor(parent?: Container) {
    this.#parent = parent;
  }

  register<T>(name: string, provider: Provider<T>): this {
    if (!PROVIDER_SCOPES.includes(provider.scope)) {
      throw new InvalidOptionError(`providers.${name}.scope`, provider.scope, PROVIDER_SCOPES.join(' | '));
    }
    if (typeof provider.create !== 'function') {
      throw new InvalidOptionError(`providers.${name}.create`, typeof provider.create, 'a function');
    }
    this.#providers.set(name, provider);
    return this;
  }

  singleton<T>(name: string, create: Provider<T>['create'], dispose?: Provider<T>['dispose']): this {
    return this.register(name, { scope: 'singleton', create, dispose });
  }
  perWorker<T>(name: string, create: Provider<T>['create'], dispose?: Provider<T>['dispose']): this {
    return this.register(name, { scope: 'perWorker', create, dispose });
  }
  perRun<T>(name: string, create: Provider<T>['create'], dispose?: Provider<T>['dispose']): this {
    return this.register(name, { scope: 'perRun', create, dispose });
  }
  transient<T>(name: string, create: Provider<T>['create']): this {
    return this.register(name, { scope: 'transient', create });
  }
  /** A singleton `SharedCounter` (slot count 1): the cross-thread state of the seeds. */
  sharedCounter(name: string, initial = 0): SharedCounter {
    const c = new SharedCounter(undefined, initial);
    this.counters.set(name, c);
    this.register(name, { scope: 'singleton', create: () => c });
    return c;
  }

  has(name: string): boolean {
    return this.#providers.has(name) || (this.#parent?.has(name) ?? false);
  }
  names(): string[] {
    return [...new Set([...(this.#parent?.names() ?? []), ...this.#providers.keys()])];
  }
  /** Checks that every name is provided; throws ERR_FLOW_MISSING_PROVIDER naming node and service. */
  check(flow: string, needs: Iterable<[node: string, service: string]>): void {
    for (const [node, service] of needs) {
      if (!this.has(service)) {
        throw new FlowValidationError('ERR_FLOW_MISSING_PROVIDER', flow, [node],
          `node '${node}' injects '${service}', which no provider supplies (known: ${this.names().join(', ') || 'none'})`);
      }
    }
  }

  #lookup(name: string): [Provider, Container] | undefined {
    const p = this.#providers.get(name);
    if (p) return [p, this];
    return this.#parent ? this.#parent.#lookup(name) : undefined;
  }

  /**
   * The instance for `name` as seen by `run` (needed for perRun providers). Returns a value when it is
   * already built or the provider is synchronous, a promise only when creation is async.
   */
  resolve(name: string, run?: RunServices): unknown {
    const found = this.#lookup(name);
    if (!found) throw new FlowValidationError('ERR_FLOW_MISSING_PROVIDER', '?', [], `no provider for '${name}'`);
    const [p, owner] = found;
    const info: ResolveInfo = { name, threadId, container: owner };
    switch (p.scope) {
      case 'transient':
        return p.create({ ...info, runId: run?.runId });
      case 'singleton':
        return cached(owner.#singletons, owner.#pending, name, () => p.create(info));
      case 'perWorker': {
        let m = owner.#perWorker.get(threadId);
        if (!m) owner.#perWorker.set(threadId, (m = new Map()));
        return cached(m, owner.#pending, `${threadId}:${name}`, () => p.create(info), name);
      }
      case 'perRun':
        if (!run) throw new InvalidOptionError(`providers.${name}`, 'perRun', 'a run to resolve in');
        return cached(run.values, run.pending, name, () => p.create({ ...info, runId: run.runId }));
    }
  }

  /** Disposes a run's perRun instances (in reverse creation order). Errors are collected, not thrown early. */
  async disposeRun(run: RunServices): Promise<void> {
    const errors: unknown[] = [];
    for (const [name, value] of [...run.values].reverse()) {
      const p = this.#lookup(name)?.[0];
      try { await p?.dispose?.(value); } catch (e) { errors.push(e); }
    }
    run.values.clear();
    if (errors.length) throw errors[0];
  }

  /** Disposes singletons and this thread's perWorker instances. */
  async dispose(): Promise<void> {
    const mine = this.#perWorker.get(threadId);
    for (const m of [mine, this.#singletons]) {
      if (!m) continue;
      for (const [name, value] of [...m].reverse()) await this.#providers.get(name)?.dispose?.(value);
      m.clear();
    }
    this.#perWorker.delete(threadId);
  }
}

function cached(values: Map<string, unknown>, pending: Map<string, Promise<unknown>>, key: string,
                make: () => unknown, valueKey = key): unknown {
  if (values.has(valueKey)) return values.get(valueKey);
  const inFlight = pending.get(key);
  if (inFlight) return inFlight;
  const v = make();
  if (v instanceof Promise) {
    const p = v.then((x) => { values.set(valueKey, x); pending.delete(key); return x; },
                     (e) => { pending.delete(key); throw e; });
    pending.set(key, p);
    return p;
  }
  values.set(valueKey, v);
  return v;
}

/**
 * Counters in a SharedArrayBuffer, updated with Atomics: any thread holding the buffer (a script node
 * gets it through its task message — shared, not copied) sees and changes the same numbers.
 *
 * Layout: `slots` × Int32 (counters wrap at 2^31; use several slots or a BigInt64 variant if a count can
 * pass that). Every operation is a single Atomics RMW/load, so no lock and no lost update.
 */
export class SharedCounter {
  readonly buffer: SharedArrayBuffer;
  readonly #words: Int32Array;

  constructor(buffer?: SharedArrayBuffer, initial = 0, slots = 1) {
    this.buffer = buffer ?? new SharedArrayBuffer(4 * slots);
    this.#words = new Int32Array(this.buffer);
    if (!buffer && initial) Atomics.store(this.#words, 0, initial);
  }
  get slots(): number {
    return this.#words.length;
  }
  /** Adds `n` and returns the new value. */
  add(n = 1, slot = 0): number {
    return Atomics.add(this.#words, slot, n) + n;
  }
  increment(slot = 0): number {
    return this.add(1, slot);
  }
  get(slot = 0): number {
    return Atomics.load(this.#words, slot);
  }
  set(value: number, slot = 0): void {
    Atomics.store(this.#words, slot, value);
  }
}
