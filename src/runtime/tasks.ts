/**
 * Task descriptors: fixed-size records in shared memory, addressed by a 32-bit index. The index is
 * the only thing that crosses threads (through the injector ring and the deques); the record holds
 * what the task does.
 *
 * Table layout: `capacity` records of 64 bytes (one cache line each, so two workers writing two
 * tasks never share a line), at `base`:
 *
 *   record i at base + 64·i, i32 words:
 *   +0  op       opcode (ops.ts Op)
 *   +4  job      job slot that owns the task (jobs.ts)
 *   +8  start    first row of the range
 *   +12 end      one past the last row
 *   +16 a0..a3   addresses in the shared memory (op-specific: values, validity, partials, …)
 *   +32 p0..p3   parameters (op-specific: dtype, aggregate op, morsel rows, …)
 *   +48 x0..x3   op-specific extra words
 *
 * Ownership and ordering: a thread takes a free index from the free ring (tasks.free), writes the
 * record with plain stores, then publishes the index with a seq-cst ring/deque push. Whoever pops the
 * index does so with a seq-cst load that synchronizes with that push, so it reads the whole record.
 * The record is never written again until the task finishes and its index is pushed back to the free
 * ring (again a seq-cst publish), so readers never see a record change under them.
 */
import { MpmcRing, RING_EMPTY } from './ring.js';

export const TASK_BYTES = 64;
export const TASK_WORDS = 16;
export const T_OP = 0, T_JOB = 1, T_START = 2, T_END = 3;
export const T_A0 = 4, T_A1 = 5, T_A2 = 6, T_A3 = 7;
export const T_P0 = 8, T_P1 = 9, T_P2 = 10, T_P3 = 11;
export const T_X0 = 12, T_X1 = 13, T_X2 = 14, T_X3 = 15;

/** The descriptor table and its free list (an MPMC ring pre-filled with every index). */
export class TaskTable {
  readonly capacity: number;
  readonly free: MpmcRing;
  readonly #w: Int32Array;
  readonly #base: number;

  static bytes(capacity: number): number {
    return capacity * TASK_BYTES + MpmcRing.bytes(capacity);
  }

  /** Writes an empty table at `base` (64-aligned) with every index on the free list. */
  static init(i32: Int32Array, base: number, capacity: number): TaskTable {
    i32.fill(0, base >>> 2, (base >>> 2) + capacity * TASK_WORDS);
    const ring = MpmcRing.init(i32, base + capacity * TASK_BYTES, capacity);
    for (let i = 0; i < capacity; i++) ring.push(i);
    return new TaskTable(i32, base, capacity);
  }

  constructor(i32: Int32Array, base: number, capacity: number) {
    this.#w = i32;
    this.#base = base >>> 2;
    this.capacity = capacity;
    this.free = new MpmcRing(i32, base + capacity * TASK_BYTES);
  }

  /** A free descriptor index, or -1 when all are in use (callers then run work inline or wait). */
  alloc(): number {
    const t = this.free.pop();
    return t === RING_EMPTY ? -1 : t;
  }

  release(task: number): void {
    // There are exactly `capacity` indices and the ring holds `capacity`, so there is room; a
    // refused push only means a stalled consumer (ring.ts), which pushWait outlasts.
    this.free.pushWait(task);
  }

  /** Word index of field `f` of task `t` in the i32 view (for the hot paths that read several). */
  word(t: number, f: number): number {
    return this.#base + t * TASK_WORDS + f;
  }

  get(t: number, f: number): number {
    return this.#w[this.#base + t * TASK_WORDS + f];
  }

  set(t: number, f: number, v: number): void {
    this.#w[this.#base + t * TASK_WORDS + f] = v;
  }

  /** Copies record `from` into `to` (a split: the child starts as its parent's copy). */
  copy(from: number, to: number): void {
    const s = this.#base + from * TASK_WORDS;
    this.#w.copyWithin(this.#base + to * TASK_WORDS, s, s + TASK_WORDS);
  }

  /** Zeroes record t (plain stores; the publishing push orders them). */
  clear(t: number): void {
    const s = this.#base + t * TASK_WORDS;
    this.#w.fill(0, s, s + TASK_WORDS);
  }

  get inUse(): number {
    return this.capacity - this.free.size();
  }
}
