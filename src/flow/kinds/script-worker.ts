/**
 * The piscina worker for `script` nodes (runs in the pool's threads, never on the main thread).
 * It imports the user's module once per thread and calls the named export with
 *   { input, config, memory, counters, threadId }
 * `memory` is the shared WebAssembly.Memory the pool was given through workerData (zero-copy access to
 * tables in it); `counters` are SharedCounters over SharedArrayBuffers that came with the task message
 * (shared, not copied). Arrow tables among the inputs arrive as arrow-js Tables over shared views
 * (table-wire.ts). Only structured-cloneable values cross otherwise.
 */
import { threadId, workerData } from 'node:worker_threads';
import { SharedCounter } from '../container.js';
import { fromWire } from './table-wire.js';

export interface ScriptTask {
  module: string;
  exportName: string;
  input: unknown;
  config: unknown;
  counters: Record<string, SharedArrayBuffer>;
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

export default async function runScript(task: ScriptTask): Promise<unknown> {
  let mod = modules.get(task.module);
  if (!mod) modules.set(task.module, (mod = import(task.module)));
  const fn = (await mod)[task.exportName];
  if (typeof fn !== 'function') throw new TypeError(`${task.module} has no function export '${task.exportName}'`);
  const counters: Record<string, SharedCounter> = {};
  for (const [k, b] of Object.entries(task.counters)) counters[k] = new SharedCounter(b);
  return fn({ input: await fromWire(task.input), config: task.config, memory: workerData?.memory as WebAssembly.Memory | undefined, counters, threadId });
}
