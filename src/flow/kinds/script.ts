/**
 * `script` nodes: a JS module's export run off the main thread on a piscina pool.
 *
 * One pool per process, created on first use: minThreads = maxThreads (threads stay warm — a script
 * node never waits for a thread to boot after the first), a long idleTimeout, `atomics: 'async'`
 * (workers may await Atomics.waitAsync without blocking piscina's own message loop), and the shared
 * WebAssembly.Memory in `workerData` — shared by every worker, never copied or transferred.
 * The engine passes its own Memory with `configureScriptPool({ memory })` before the first script node.
 *
 * Upstream outputs go to the worker as the task's `input` (structured clone; an Arrow table as views of
 * its buffers, shared when they are in shared memory — see table-wire.ts). Injected services that
 * are SharedCounters travel as their SharedArrayBuffer (shared); any other injected service cannot
 * cross threads, and the node fails naming it.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Piscina } from 'piscina';
import { z } from 'zod';
import { InvalidOptionError } from '../../errors.js';
import { SharedCounter } from '../container.js';
import type { NodeContext } from '../node-context.js';
import type { TaskType } from '../registry.js';
import type { ScriptTask } from './script-worker.js';
import { toWire } from './table-wire.js';

export const scriptConfig = z.strictObject({
  /** Module path (relative to the job file) or URL. */
  module: z.string().min(1),
  export: z.string().default('default'),
  /** Passed to the function as `config`. */
  params: z.unknown().optional(),
});
export type ScriptConfig = z.input<typeof scriptConfig>;

export interface ScriptPoolOptions {
  /** Threads (min = max). Default: min(4, available cores). */
  threads?: number;
  memory?: WebAssembly.Memory;
  idleTimeoutMs?: number;
  atomics?: 'async' | 'disabled';
}

let pool: Promise<Piscina> | undefined;
let poolOpts: ScriptPoolOptions = {};

/** Sets the options of the pool (call before the first script node runs; closes an existing pool). */
export async function configureScriptPool(opts: ScriptPoolOptions): Promise<void> {
  await closeScriptPool();
  poolOpts = opts;
}

/** The pool, created on first use (piscina is loaded only then: the CLI starts faster without it). */
export function scriptPool(): Promise<Piscina> {
  return (pool ??= createPool());
}

async function createPool(): Promise<Piscina> {
  const { Piscina } = await import('piscina');
  const threads = poolOpts.threads ?? Math.max(1, Math.min(4, availableParallelism()));
  if (!(threads >= 1)) throw new InvalidOptionError('threads', threads, 'a number ≥ 1');
  const memory = poolOpts.memory ?? new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
  // Under tsx (tests, dev) the worker is the .ts source; built, it is the .js beside this file.
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new Piscina({
    filename: new URL(`./script-worker${ext}`, import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    idleTimeout: poolOpts.idleTimeoutMs ?? 10 * 60_000,
    atomics: poolOpts.atomics ?? 'async',
    workerData: { memory },
  });
}

/** Stops the pool's threads (the CLI does this at exit; a live pool keeps the process running). */
export async function closeScriptPool(): Promise<void> {
  const p = pool;
  pool = undefined;
  if (p) await (await p.catch(() => undefined))?.destroy();
}

export const scriptTask: TaskType<z.output<typeof scriptConfig>> = {
  schema: scriptConfig,
  description: 'run a JS module export on a worker thread (piscina); output = its return value',
  create(raw, info) {
    const cfg = scriptConfig.parse(raw);
    const url = /^[a-z]+:/.test(cfg.module) && !isAbsolute(cfg.module) ? cfg.module : pathToFileURL(resolve(info.baseDir, cfg.module)).href;
    return (ctx: NodeContext) => {
      const counters: Record<string, SharedArrayBuffer> = {};
      for (const [k, v] of Object.entries(ctx.services)) {
        if (v instanceof SharedCounter) counters[k] = v.buffer;
        else throw new InvalidOptionError(`inject '${k}' in script node '${ctx.node}'`, typeof v, 'a SharedCounter (only shared memory crosses threads)');
      }
      // Arrow tables go as shared views (table-wire.ts): a query result in the engine's Memory is not copied.
      return Promise.all([scriptPool(), toWire(ctx.inputs as Record<string, unknown>)]).then(([p, input]) => {
        const task: ScriptTask = { module: url, exportName: cfg.export, input, config: cfg.params, counters };
        return p.run(task, { signal: ctx.signal });
      });
    };
  },
};

/**
 * `function` nodes from a job file: a module's export called in-process with the NodeContext.
 * (In TypeScript flows, `.node(name, fn)` is the same kind without the module.)
 */
export const functionConfig = z.strictObject({
  module: z.string().min(1),
  export: z.string().default('default'),
});

export const functionTask: TaskType<z.output<typeof functionConfig>> = {
  schema: functionConfig,
  description: 'call a module export in-process with the node context',
  create(raw, info) {
    const cfg = functionConfig.parse(raw);
    const url = pathToFileURL(resolve(info.baseDir, cfg.module)).href;
    let fn: Promise<(ctx: NodeContext) => unknown> | undefined;
    return async (ctx: NodeContext) => {
      fn ??= import(url).then((m) => {
        const f = m[cfg.export];
        if (typeof f !== 'function') throw new TypeError(`${cfg.module} has no function export '${cfg.export}'`);
        return f;
      });
      return (await fn)(ctx);
    };
  },
};
