/**
 * A request/reply channel to one worker thread, for the file readers' off-thread work (CSV parsing,
 * Parquet decoding). Requests carry an id; replies are matched to them. The worker is unref'd while
 * idle, so it never keeps the process alive, and ref'd while a request is pending, so a pending
 * request does. If the worker errors or exits, every pending request is rejected with `crash(why)`
 * and the channel is dead (callers replace it).
 */
import type { Worker } from 'node:worker_threads';

export class RpcWorker<R extends { id: number }> {
  readonly #worker: Worker;
  readonly #crash: (why: string) => Error;
  readonly #pending = new Map<number, { resolve: (r: R) => void; reject: (e: Error) => void }>();
  #next = 1;
  dead = false;

  /** `describe` turns the worker's error or exit into the `why` passed to `crash`. */
  constructor(worker: Worker, crash: (why: string) => Error, describe: { error: (msg: string) => string; exit: (code: number) => string }) {
    this.#worker = worker;
    this.#crash = crash;
    worker.unref();
    worker.on('message', (r: R) => {
      const p = this.#pending.get(r.id);
      if (!p) return;
      this.#pending.delete(r.id);
      if (this.#pending.size === 0) worker.unref();
      p.resolve(r);
    });
    const die = (why: string) => {
      if (this.dead) return;
      this.dead = true;
      for (const p of this.#pending.values()) p.reject(crash(why));
      this.#pending.clear();
      void worker.terminate();
    };
    worker.on('error', (e) => die(describe.error(e instanceof Error ? e.message : String(e))));
    worker.on('exit', (code) => die(describe.exit(code)));
  }

  /** Sends `msg` with a fresh id (and `transfer`); resolves with the matching reply. */
  call(msg: Record<string, unknown>, gone: string, transfer?: ArrayBuffer[]): Promise<R> {
    if (this.dead) return Promise.reject(this.#crash(gone));
    const id = this.#next++;
    if (this.#pending.size === 0) this.#worker.ref();
    return new Promise<R>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id }, transfer);
    });
  }
}
