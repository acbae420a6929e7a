/**
 * Test helpers for real worker threads: start a TypeScript worker file (Node 20 does not carry
 * `--import tsx` into worker threads, so a two-line loader registers tsx first — the same way
 * src/runtime/runtime.ts boots its workers under tests) and wait for its exit.
 */
import { Worker } from 'node:worker_threads';
import * as assert from 'uvu/assert';

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

/**
 * The stress tests' start line and tally: waits until every worker has checked in (word 3 of the
 * control block at byte `ctl`), releases them together (word 1), waits for them all, then asserts
 * every one of `total` items was seen exactly once (the i32 counters at byte `seen`).
 */
export async function releaseAndTally<T>(i32: Int32Array, ctl: number, workers: Worker[], seen: number, total: number): Promise<T[]> {
  const done = workers.map((w) => finished<T>(w));
  await until(i32, (ctl >>> 2) + 3, workers.length);
  Atomics.store(i32, (ctl >>> 2) + 1, 1);
  Atomics.notify(i32, (ctl >>> 2) + 1);
  const res = await Promise.all(done);
  const counts = new Int32Array(i32.buffer, seen, total);
  let lost = 0, dup = 0;
  for (let i = 0; i < total; i++) {
    if (counts[i] === 0) lost++;
    else if (counts[i] > 1) dup++;
  }
  assert.is(lost, 0, 'no item lost');
  assert.is(dup, 0, 'no item taken twice');
  return res;
}

/**
 * Waits `ms` and asserts the process stayed idle meanwhile: under 5 % of one core of CPU, and no
 * worker woke from its park (`parks()` reads the runtime's per-worker park counts). `what` names
 * the situation in the printed share.
 */
export async function assertIdleFor(parks: () => number[], ms: number, what: string): Promise<void> {
  const parksBefore = parks();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  const c = process.cpuUsage(c0);
  const wall = (performance.now() - t0) * 1000;
  const share = (c.user + c.system) / wall;
  console.log(`  idle CPU${what}, over ${(wall / 1e6).toFixed(1)} s: ${(share * 100).toFixed(2)} % of one core (whole process)`);
  assert.ok(share < 0.05, `idle CPU ${(share * 100).toFixed(2)} %`);
  assert.equal(parks(), parksBefore, 'nobody woke up');
}
