/**
 * Test helpers for real worker threads: start a TypeScript worker file (Node 20 does not carry
 * `--import tsx` into worker threads, so a two-line loader registers tsx first — the same way
 * src/runtime/runtime.ts boots its workers under tests) and wait for its exit.
 */
import { Worker } from 'node:worker_threads';

export function startTsWorker(file: URL, workerData: unknown): Worker {
  const api = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(file.href)}); })`;
  return new Worker(boot, { eval: true, workerData, execArgv: [] });
}

/** Resolves with the worker's last message when it exits with code 0; rejects otherwise. */
export function finished<T = unknown>(w: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    let last: T;
    let error: Error | undefined;
    w.on('message', (m) => (last = m));
    w.on('error', (e) => (error = e));
    w.on('exit', (code) => (code === 0 && !error ? resolve(last) : reject(error ?? new Error(`worker exited with ${code}`))));
  });
}

/** Waits until the i32 at word `i` reaches `n` (polling: the main thread must not block). */
export async function until(w: Int32Array, i: number, n: number): Promise<void> {
  while (Atomics.load(w, i) < n) await new Promise((r) => setTimeout(r, 5));
}
