/**
 * A bounded multi-producer multi-consumer ring of 32-bit values in shared memory — Dmitry Vyukov's
 * bounded MPMC queue: every slot carries a sequence number that says whose turn it is, so producers
 * and consumers only ever contend on one position counter each, never on a lock.
 *
 * Roles: any thread may `push` and any thread may `pop`, concurrently. The runtime uses two rings:
 * the *injector* (task indices submitted from outside the workers) and the *free list* of task
 * descriptors (every thread allocates and frees descriptors through it).
 *
 * Layout (byte offsets from `base`; every counter on its own 64-byte line so that producers
 * bumping `enqueuePos` do not invalidate the line consumers spin on):
 *
 *   +0    CANARY_LO  16 words of 0x5EED_CAFE           ← overwritten only by a stray write
 *   +64   enqueuePos i32, next position a producer claims (wraps at 2^32, compared by difference)
 *   +128  dequeuePos i32, next position a consumer claims
 *   +192  capacity   i32, a power of two (read-only after init)
 *   +256  slots      capacity × { seq: i32, value: i32 }
 *   +256 + 8·cap    CANARY_HI 16 words of 0x5EED_CAFE
 *
 * Slot protocol, for position p and its slot s = p & (capacity − 1):
 *   seq == p                 s is free for the producer of position p
 *   seq == p + 1             s holds the value of position p, for its consumer
 *   seq == p + capacity      s was consumed and is free for the producer of position p + capacity
 * A producer claims p by CAS on enqueuePos, writes `value`, then stores seq = p + 1 (that store
 * publishes the value). A consumer claims p by CAS on dequeuePos, reads `value`, then stores
 * seq = p + capacity (that store hands the slot back to producers). All JS Atomics are sequentially
 * consistent, so "publishes" means: a thread that loads the new seq also sees the value written
 * before it.
 *
 * Not lock-free in the strict sense (Vyukov says so too), and this matters in both directions:
 *   - a producer stalled between its CAS and its seq store makes consumers see "empty" at that slot
 *     until it resumes, even if later slots are full. Nothing is lost: the stalled producer still
 *     publishes, then wakes sleepers (park.ts).
 *   - a consumer stalled between its CAS and its seq store keeps its slot from the producers one
 *     lap later: `push` answers "full" although the ring holds far fewer than `capacity` values.
 *     On an oversubscribed machine a thread can be descheduled right there for a whole time slice
 *     while the others go round the ring (the runtime stress run hit it at 984 of 8192). So a
 *     caller that *knows* there is room (the free list, the injector, the done ring are all sized
 *     to what can be in them) must not treat false as a lost push: it calls `pushWait`.
 */

export const RING_EMPTY = -1;

const CANARY = 0x5eedcafe | 0;
const CANARY_WORDS = 16;
// Word offsets from base.
const W_ENQ = 16;
const W_DEQ = 32;
const W_CAP = 48;
const W_SLOTS = 64;

/** A 32-bit-index view over the ring at byte address `base` of a shared buffer. */
export class MpmcRing {
  readonly capacity: number;
  readonly #w: Int32Array;
  readonly #b: number;
  readonly #mask: number;

  /** Bytes a ring of `capacity` slots occupies (capacity: a power of two, 2 … 2^28). */
  static bytes(capacity: number): number {
    return (W_SLOTS + capacity * 2 + CANARY_WORDS) * 4;
  }

  /** Writes an empty ring (positions 0, every slot free for its first producer) and its canaries. */
  static init(i32: Int32Array, base: number, capacity: number): MpmcRing {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 28 || (capacity & (capacity - 1)) !== 0) {
      throw new RangeError(`ring capacity must be a power of two from 2 to 2^28, got ${capacity}`);
    }
    const b = base >>> 2;
    i32.fill(0, b, b + W_SLOTS);
    i32.fill(CANARY, b, b + CANARY_WORDS);
    i32[b + W_CAP] = capacity;
    for (let p = 0; p < capacity; p++) i32[b + W_SLOTS + 2 * p] = p;
    const hi = b + W_SLOTS + 2 * capacity;
    i32.fill(CANARY, hi, hi + CANARY_WORDS);
    // The initial writes are plain: the ring is handed to other threads only afterwards, through
    // workerData or a seq-cst store that publishes its address.
    return new MpmcRing(i32, base);
  }

  /** Attaches to a ring that `init` wrote (any thread; `i32` must cover the ring). */
  constructor(i32: Int32Array, base: number) {
    this.#w = i32;
    this.#b = base >>> 2;
    this.capacity = i32[this.#b + W_CAP];
    this.#mask = this.capacity - 1;
  }

  /** Adds `value` (≥ 0). Returns false when the ring is full. */
  push(value: number): boolean {
    const w = this.#w;
    const b = this.#b;
    let pos = Atomics.load(w, b + W_ENQ);
    for (;;) {
      const s = b + W_SLOTS + 2 * (pos & this.#mask);
      const dif = (Atomics.load(w, s) - pos) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(w, b + W_ENQ, pos, (pos + 1) | 0);
        if (seen === pos) {
          Atomics.store(w, s + 1, value);
          // Publishes `value` to the consumer of `pos`: it waits for exactly this seq.
          Atomics.store(w, s, (pos + 1) | 0);
          return true;
        }
        pos = seen; // another producer took pos; try the position it left us
      } else if (dif < 0) {
        // The slot still holds the value of pos − capacity: the ring is full (or its consumer is
        // mid-pop; treating that as full is the bounded queue's documented behaviour).
        return false;
      } else {
        pos = Atomics.load(w, b + W_ENQ); // we read a stale pos; catch up
      }
    }
  }

  /**
   * Pushes a value for which the caller guarantees room (see the class doc): retries while a
   * stalled consumer still holds the slot, yielding the CPU after a few tries so that the stalled
   * thread can run. Never returns without having pushed.
   */
  pushWait(value: number): void {
    for (let tries = 0; !this.push(value); tries++) {
      // Sleep 20 µs on a word nobody notifies (the wait times out): a plain yield of this core.
      if (tries >= 64) Atomics.wait(this.#w, this.#b + W_CAP, this.capacity, 0.02);
    }
  }

  /**
   * Removes the oldest value, or returns RING_EMPTY. `claim` (a word index, or −1): the word gets
   * value + 1 the moment the value is ours — see `claimed` in worker.ts for why that closes the
   * window in which a dying thread would lose it.
   */
  pop(claim = -1): number {
    const w = this.#w;
    const b = this.#b;
    let pos = Atomics.load(w, b + W_DEQ);
    for (;;) {
      const s = b + W_SLOTS + 2 * (pos & this.#mask);
      const dif = (Atomics.load(w, s) - ((pos + 1) | 0)) | 0;
      if (dif === 0) {
        const seen = Atomics.compareExchange(w, b + W_DEQ, pos, (pos + 1) | 0);
        if (seen === pos) {
          const value = Atomics.load(w, s + 1);
          // No call and no loop back-edge between the winning CAS and this store: V8 delivers a
          // termination only at those, so a thread cannot die holding an unclaimed value.
          if (claim >= 0) Atomics.store(w, claim, value + 1);
          // Hands the slot to the producer of pos + capacity; our read of value came first.
          Atomics.store(w, s, (pos + this.capacity) | 0);
          return value;
        }
        pos = seen;
      } else if (dif < 0) {
        return RING_EMPTY; // nothing published at pos yet
      } else {
        pos = Atomics.load(w, b + W_DEQ);
      }
    }
  }

  /**
   * True when no value is published at the consumer position. A snapshot: a racing push may land
   * right after. Sleepers use it only after announcing themselves (see park.ts), which is what
   * makes the snapshot safe to act on.
   */
  isEmpty(): boolean {
    const w = this.#w;
    const pos = Atomics.load(w, this.#b + W_DEQ);
    const s = this.#b + W_SLOTS + 2 * (pos & this.#mask);
    return Atomics.load(w, s) !== ((pos + 1) | 0);
  }

  /** Approximate number of values (exact when no push or pop is in flight). */
  size(): number {
    const n = (Atomics.load(this.#w, this.#b + W_ENQ) - Atomics.load(this.#w, this.#b + W_DEQ)) | 0;
    return Math.max(0, Math.min(n, this.capacity));
  }

  /** True while both canaries are intact (tests and the debug checks call it). */
  canariesIntact(): boolean {
    const w = this.#w;
    const hi = this.#b + W_SLOTS + 2 * this.capacity;
    for (let k = 0; k < CANARY_WORDS; k++) {
      if (w[this.#b + k] !== CANARY || w[hi + k] !== CANARY) return false;
    }
    return true;
  }
}
