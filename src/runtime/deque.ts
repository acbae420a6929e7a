/**
 * A Chase-Lev work-stealing deque of 32-bit task indices in shared memory, fixed capacity.
 *
 * Roles are fixed and carried by two different handle types (crossbeam-deque's Worker/Stealer):
 *   DequeOwner    exactly one thread, the worker that owns the deque: push and pop at the bottom
 *                 (LIFO — the most recently split, cache-hot half runs next);
 *   DequeStealer  any other thread: steal at the top (FIFO — the oldest, biggest pieces of work).
 * A worker thread that dies leaves its deque to its replacement, which takes over the owner role.
 *
 * Layout (byte offsets from `base`; top and bottom each on their own 64-byte line: thieves CAS `top`
 * while the owner writes `bottom` on every push and pop):
 *
 *   +0    CANARY_LO  16 words of 0x5EED_D00D
 *   +64   top        i32, index of the oldest item; only ever advanced, by CAS (owner or thief)
 *   +128  bottom     i32, one past the newest item; written only by the owner
 *   +192  capacity   i32, a power of two (read-only after init)
 *   +256  buffer     capacity × i32 task indices, item i at buffer[i & (capacity − 1)]
 *   +256 + 4·cap     CANARY_HI 16 words of 0x5EED_D00D
 *
 * Indices wrap at 2^32; every comparison is on the difference `(b − t) | 0`, which is exact while
 * the deque holds fewer than 2^31 items (it holds at most `capacity`).
 *
 * Orderings. The algorithm is Lê, Pop, Cohen & Zappa Nardelli, "Correct and Efficient
 * Work-Stealing for Weak Memory Models" (PPoPP 2013). It needs two seq-cst fences: in pop between
 * the store of bottom and the load of top, and in steal between the load of top and the load of
 * bottom. JS Atomics are all sequentially consistent, so every Atomics access below is at least as
 * strong as the fence it stands for; the comments name the ones that matter.
 *
 * The buffer never grows (a growing buffer would need to be reallocated in the arena and reclaimed
 * safely from thieves still reading the old one). `push` answers false when full, and the caller
 * runs the work inline instead (a task's split is an optimisation, never a requirement).
 */

/** steal/pop: nothing to take. */
export const DEQUE_EMPTY = -1;
/** steal: lost a race with the owner or another thief — the deque may still hold work, try again. */
export const DEQUE_RETRY = -2;

const CANARY = 0x5eedd00d | 0;
const CANARY_WORDS = 16;
const W_TOP = 16;
const W_BOTTOM = 32;
const W_CAP = 48;
const W_BUF = 64;

function check(capacity: number): void {
  if (!Number.isInteger(capacity) || capacity < 2 || capacity > 1 << 28 || (capacity & (capacity - 1)) !== 0) {
    throw new RangeError(`deque capacity must be a power of two from 2 to 2^28, got ${capacity}`);
  }
}

/** Shared between the two handles: where the deque is and how to read its counters. */
abstract class DequeView {
  readonly capacity: number;
  protected readonly w: Int32Array;
  protected readonly b: number;
  protected readonly mask: number;

  constructor(i32: Int32Array, base: number) {
    this.w = i32;
    this.b = base >>> 2;
    this.capacity = i32[this.b + W_CAP];
    this.mask = this.capacity - 1;
  }

  /** A snapshot (racing pushes and steals may change it at once); used by sleepers and stats. */
  size(): number {
    const n = (Atomics.load(this.w, this.b + W_BOTTOM) - Atomics.load(this.w, this.b + W_TOP)) | 0;
    return n > 0 ? n : 0;
  }

  isEmpty(): boolean {
    return this.size() === 0;
  }

  canariesIntact(): boolean {
    const hi = this.b + W_BUF + this.capacity;
    for (let k = 0; k < CANARY_WORDS; k++) {
      if (this.w[this.b + k] !== CANARY || this.w[hi + k] !== CANARY) return false;
    }
    return true;
  }
}

export const Deque = {
  bytes(capacity: number): number {
    return (W_BUF + capacity + CANARY_WORDS) * 4;
  },
  /** Writes an empty deque; hand its address to the owner and thieves afterwards. */
  init(i32: Int32Array, base: number, capacity: number): void {
    check(capacity);
    const b = base >>> 2;
    i32.fill(0, b, b + W_BUF + capacity);
    i32.fill(CANARY, b, b + CANARY_WORDS);
    i32[b + W_CAP] = capacity;
    i32.fill(CANARY, b + W_BUF + capacity, b + W_BUF + capacity + CANARY_WORDS);
  },
};

/** The owner's handle: one thread only. */
export class DequeOwner extends DequeView {
  /** Pushes at the bottom. False when full (the caller runs the item itself). */
  push(task: number): boolean {
    const w = this.w;
    const bot = w[this.b + W_BOTTOM]; // only this thread writes bottom: a plain read is current
    const top = Atomics.load(w, this.b + W_TOP);
    // A stale (smaller) top only makes this check more conservative, so a slot a thief may still
    // be reading is never overwritten: that slot is at top ≥ our top, and we stay below top + cap.
    if (((bot - top) | 0) >= this.capacity) return false;
    Atomics.store(w, this.b + W_BUF + (bot & this.mask), task);
    // Publishes the item: a thief that loads the new bottom also sees the buffer write above.
    Atomics.store(w, this.b + W_BOTTOM, (bot + 1) | 0);
    return true;
  }

  /** Pops the newest item, or DEQUE_EMPTY. `claim`: as MpmcRing.pop (word gets task + 1 once it is ours). */
  pop(claim = -1): number {
    const w = this.w;
    const bot = (w[this.b + W_BOTTOM] - 1) | 0;
    // Reserve the bottom item first; the seq-cst store followed by the load of top is the fence of
    // Lê et al.: a thief that read the old bottom has its CAS ordered against our view of top.
    Atomics.store(w, this.b + W_BOTTOM, bot);
    const top = Atomics.load(w, this.b + W_TOP);
    const size = (bot - top) | 0;
    if (size < 0) {
      // Was empty: undo the reservation.
      Atomics.store(w, this.b + W_BOTTOM, top);
      return DEQUE_EMPTY;
    }
    const task = Atomics.load(w, this.b + W_BUF + (bot & this.mask));
    if (size > 0) {
      // More than one item: no thief can reach index `bot`, it is ours already.
      if (claim >= 0) Atomics.store(w, claim, task + 1);
      return task;
    }
    // The last item: thieves may be after it too. Whoever advances top takes it.
    const won = Atomics.compareExchange(w, this.b + W_TOP, top, (top + 1) | 0) === top;
    if (won && claim >= 0) Atomics.store(w, claim, task + 1);
    Atomics.store(w, this.b + W_BOTTOM, (top + 1) | 0);
    return won ? task : DEQUE_EMPTY;
  }
}

/** A thief's handle: any thread other than the owner, any number of them. */
export class DequeStealer extends DequeView {
  /** Steals the oldest item: a task index, DEQUE_EMPTY, or DEQUE_RETRY (contended, not empty). */
  steal(claim = -1): number {
    const w = this.w;
    const top = Atomics.load(w, this.b + W_TOP);
    // Loading top before bottom (both seq-cst) is the second fence of Lê et al.
    const bot = Atomics.load(w, this.b + W_BOTTOM);
    if (((bot - top) | 0) <= 0) return DEQUE_EMPTY;
    // May be stale if the owner or another thief is taking the same item; the CAS decides.
    const task = Atomics.load(w, this.b + W_BUF + (top & this.mask));
    if (Atomics.compareExchange(w, this.b + W_TOP, top, (top + 1) | 0) !== top) return DEQUE_RETRY;
    if (claim >= 0) Atomics.store(w, claim, task + 1);
    return task;
  }
}
