/**
 * Job records: one per job in flight, holding its completion counter, its status and error, and its
 * cancel flag. A job is a set of tasks (its root tasks and every sub-task they spawn); it completes
 * when the last of them finishes.
 *
 * Table layout: `capacity` records of 256 bytes at `base`:
 *
 *   +0   done     0 while tasks remain, 1 once the last finished — the completion word: the
 *                 submitter sleeps on it (Atomics.wait / waitAsync), the finisher notifies it
 *   +4   pending  tasks created and not yet finished (root tasks + spawned sub-tasks)
 *   +8   status   Status: 0 ok, else why the job failed (first failure wins, by CAS from 0)
 *   +12  cancel   1 = stop: written by the submitter, read by workers between morsels
 *   +16  failOp   opcode of the task that failed
 *   +20  msgLen   bytes of the UTF-8 failure message at +64
 *   +24  mode     how to report completion: 0 sync (done word only), 1 async (also the done ring)
 *   +28  gen      bumped each time the slot is reused (diagnostics)
 *   +32  failWorker  index of the worker the failure happened on
 *   +36  short    1 = every task of the job runs within microseconds (JobSpec.short): a worker
 *                 runs it without leaving its search phase (worker.ts, park.ts P2')
 *   +40  …        reserved up to +64
 *   +64  message  up to MSG_BYTES of UTF-8 (the trap text), written by the failing thread
 *
 * Counting protocol (why completion is seen exactly once, and never early):
 *   - the submitter sets pending = number of root tasks before publishing any of them;
 *   - a task that spawns a child adds 1 to pending *before* publishing the child, while its own
 *     count is still held, so pending cannot reach 0 in between;
 *   - every task, run, skipped or failed, ends with exactly one Atomics.sub(pending, 1) (`finish`).
 *   The thread whose sub returns 1 (it took pending to 0) is the only one that completes the job:
 *   it stores done = 1 and notifies. Everything the tasks wrote (partials, status, message) comes
 *   before their seq-cst sub, and the submitter reads it only after loading done = 1, so it sees all.
 *
 * Slots are handed out and taken back only by the thread that owns the Runtime (a plain JS free
 * list there); workers only ever touch slots of jobs in flight.
 */

export const JOB_BYTES = 256;
export const JOB_WORDS = 64;
export const MSG_BYTES = JOB_BYTES - 64;
export const J_DONE = 0, J_PENDING = 1, J_STATUS = 2, J_CANCEL = 3, J_FAIL_OP = 4, J_MSG_LEN = 5, J_MODE = 6, J_GEN = 7;
export const J_FAIL_WORKER = 8, J_SHORT = 9;
const MSG_OFFSET = 64;

export enum Status {
  OK = 0,
  /** A kernel trapped (unreachable, out-of-bounds access, failed debug assertion) or the op threw. */
  TRAPPED = 1,
  /** The worker running one of the job's tasks died. */
  WORKER_DIED = 2,
  /** The submitter cancelled the job (AbortSignal). */
  CANCELLED = 3,
}

export enum Mode {
  SYNC = 0,
  ASYNC = 1,
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class JobTable {
  readonly capacity: number;
  readonly #w: Int32Array;
  readonly #u8: Uint8Array;
  readonly #base: number;
  readonly #byteBase: number;

  static bytes(capacity: number): number {
    return capacity * JOB_BYTES;
  }

  static init(i32: Int32Array, base: number, capacity: number): JobTable {
    i32.fill(0, base >>> 2, (base >>> 2) + capacity * JOB_WORDS);
    return new JobTable(i32, base, capacity);
  }

  constructor(i32: Int32Array, base: number, capacity: number) {
    this.#w = i32;
    this.#u8 = new Uint8Array(i32.buffer, i32.byteOffset, i32.byteLength);
    this.#base = base >>> 2;
    this.#byteBase = base;
    this.capacity = capacity;
  }

  /** Word index of field f of job j in the i32 view (for Atomics.wait / waitAsync). */
  word(j: number, f: number): number {
    return this.#base + j * JOB_WORDS + f;
  }

  get view(): Int32Array {
    return this.#w;
  }

  load(j: number, f: number): number {
    return Atomics.load(this.#w, this.#base + j * JOB_WORDS + f);
  }

  /** Readies slot j for a new job with `pending` root tasks (submitter only, before publishing). */
  reset(j: number, pending: number, mode: Mode, short = false): void {
    const w = this.#w;
    const r = this.#base + j * JOB_WORDS;
    w[r + J_SHORT] = short ? 1 : 0;
    w[r + J_STATUS] = 0;
    w[r + J_CANCEL] = 0;
    w[r + J_FAIL_OP] = 0;
    w[r + J_MSG_LEN] = 0;
    w[r + J_MODE] = mode;
    w[r + J_GEN] = (w[r + J_GEN] + 1) | 0;
    w[r + J_PENDING] = pending;
    // Seq-cst, after the plain resets: the first task push (also seq-cst) comes after it in this
    // thread, so a worker that sees the task sees the whole reset record.
    Atomics.store(w, r + J_DONE, 0);
  }

  /** True when job j was submitted as short (its tasks take microseconds). A plain read: the
   *  word is written before the job's tasks are published, and read only by their runners. */
  isShort(j: number): boolean {
    return this.#w[this.#base + j * JOB_WORDS + J_SHORT] === 1;
  }

  /** True when the job should run no more morsels: cancelled, or already failed. */
  stopped(j: number): boolean {
    const r = this.#base + j * JOB_WORDS;
    return Atomics.load(this.#w, r + J_CANCEL) !== 0 || Atomics.load(this.#w, r + J_STATUS) !== 0;
  }

  /** Sets the cancel flag (the submitter; workers see it at their next morsel boundary). */
  cancel(j: number): void {
    Atomics.store(this.#w, this.#base + j * JOB_WORDS + J_CANCEL, 1);
  }

  /** Adds n tasks to the job (a task spawning children; call before publishing them). */
  addPending(j: number, n: number): void {
    Atomics.add(this.#w, this.#base + j * JOB_WORDS + J_PENDING, n);
  }

  /**
   * Records the first failure of the job. Later failures (other morsels trapping the same way) are
   * dropped: the CAS on status decides who writes the message, and the message is read only after
   * done = 1, which the writer's own `finish` orders after these stores.
   */
  fail(j: number, status: Status, op: number, message: string, worker = -1): boolean {
    const r = this.#base + j * JOB_WORDS;
    if (Atomics.compareExchange(this.#w, r + J_STATUS, 0, status) !== 0) return false;
    const bytes = encoder.encode(message);
    let n = Math.min(bytes.length, MSG_BYTES);
    // Do not cut a UTF-8 sequence in half.
    while (n > 0 && n < bytes.length && (bytes[n] & 0xc0) === 0x80) n--;
    this.#u8.set(bytes.subarray(0, n), this.#byteBase + j * JOB_BYTES + MSG_OFFSET);
    this.#w[r + J_FAIL_OP] = op;
    this.#w[r + J_FAIL_WORKER] = worker;
    Atomics.store(this.#w, r + J_MSG_LEN, n);
    return true;
  }

  message(j: number): string {
    const n = this.load(j, J_MSG_LEN);
    const at = this.#byteBase + j * JOB_BYTES + MSG_OFFSET;
    // Copy out first: TextDecoder refuses views of a SharedArrayBuffer.
    return decoder.decode(this.#u8.slice(at, at + n));
  }

  /**
   * Ends one task of job j. Returns true when it was the job's last task: the caller then reports
   * completion (`complete`) — exactly one thread gets true per job.
   */
  finish(j: number): boolean {
    return Atomics.sub(this.#w, this.#base + j * JOB_WORDS + J_PENDING, 1) === 1;
  }

  /**
   * Publishes completion: done = 1 (seq-cst, after every task's writes), and wakes a thread blocked
   * on the word (`notify`: runSync waits there; async jobs are reported through the done ring).
   */
  complete(j: number, notify: boolean): void {
    const i = this.#base + j * JOB_WORDS + J_DONE;
    Atomics.store(this.#w, i, 1);
    if (notify) Atomics.notify(this.#w, i);
  }
}
