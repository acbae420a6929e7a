/**
 * The arena: every column, scratch buffer and task record above the kernel's static data.
 *
 * Allocation happens in *scopes* (a query, a job run). A scope is a chain of *segments*; it bumps a
 * cursor inside its current segment with `Atomics.add`, so any thread holding the scope's root address
 * may allocate without a lock. Closing a scope splices its whole chain onto the free list — O(1) no
 * matter how much it allocated. Segment-level operations (new segment, close, coalesce) take a small
 * futex-style mutex in the header: they are rare (segments grow ×2 per scope, up to 16 MiB).
 *
 * All state lives in the shared memory itself, so a worker that adopts the Memory and the arena's
 * base address sees the same arena.
 *
 * Memory map:
 *
 *   0            heapBase   base                                       top          limit
 *   ├─ kernel static data ─┤├─ header (64 B) ─┤├─ segments … ──────────┤ (unused) ──┤
 *     (rewritten by every                        live or on the free list
 *      instantiation: read-only)
 *
 * Arena header (at `base`, 64 bytes; u32 words):
 *
 *   +0  lock       0 free · 1 held · 2 held, waiters parked on this word (Drepper's futex mutex)
 *   +4  top        first byte never handed out; fresh segments are carved here
 *   +8  freeHead   first free segment (0 = none); singly linked through seg.next
 *   +12 freeBytes  sum of free segment sizes (for the out-of-memory report)
 *   +16 nextScope  scope id counter (ids start at 1; 0 marks a free segment)
 *   +20 liveScopes number of open scopes
 *   +24 limit/64K  memory maximum in pages (capped so `top` fits in u32)
 *
 * Segment header (64 bytes, so the payload that follows stays 64-byte aligned):
 *
 *   +0  size       total bytes including this header; a multiple of 64
 *   +4  cursor     next free offset from the segment start (≥ 64); advanced with Atomics.add
 *   +8  next       next segment of the owning scope (newest → … → root), or of the free list
 *   +12 scope      owning scope id (0 = free)
 *   +16 current    root only: the segment the scope bumps in now
 *   +20 head       root only: newest segment of the scope's chain
 *   +24 open       root only: 1 while the scope is open
 *   +28 nextSize   root only: size of the next regular segment this scope will take
 *
 * The root segment (a scope's first) is always the tail of its chain, because new segments are pushed
 * at the head. That is what makes close O(1): `root.next = freeHead; freeHead = root.head`.
 */
import { ArenaOutOfMemory, InvalidOptionError, ScopeClosedError } from '../errors.js';
import { PAGE, SharedMemory } from './shared-memory.js';

export const ALIGN = 64;
const HEADER_BYTES = 64;
const SEG_HEADER = 64;
/** First segment of a scope: small, so ten thousand concurrent scopes cost 640 MiB at most. */
const FIRST_SEGMENT = 64 * 1024;
/** Regular segments double per scope up to this size. */
const MAX_SEGMENT = 16 * 1024 * 1024;
/** A free segment is split when the remainder is at least this big. */
const SPLIT_MIN = 64 * 1024;
/** The arena never hands out the last page, so `top` (a u32) cannot wrap at 4 GiB. */
const ADDRESS_CEILING = 2 ** 32 - PAGE;

// Header word indices (u32 index = byte offset / 4, relative to base).
const H_LOCK = 0, H_TOP = 1, H_FREE = 2, H_FREE_BYTES = 3, H_NEXT_SCOPE = 4, H_LIVE = 5, H_LIMIT_PAGES = 6;
// Segment word indices.
const S_SIZE = 0, S_CURSOR = 1, S_NEXT = 2, S_SCOPE = 3, S_CURRENT = 4, S_HEAD = 5, S_OPEN = 6, S_NEXT_SIZE = 7;

export const align64 = (n: number): number => alignUp(n, ALIGN);

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export interface ArenaStats {
  /** First byte never handed out. */
  top: number;
  /** Bytes on the free list. */
  freeBytes: number;
  /** The fixed ceiling (memory maximum). */
  limit: number;
  /** Bytes that can still be handed out: free list + never-used space below the limit. */
  available: number;
  liveScopes: number;
}

export class Arena {
  readonly mem: SharedMemory;
  /** Byte address of the arena header. */
  readonly base: number;

  /**
   * @param mem   the engine's shared memory
   * @param base  where the header lives (≥ the kernel's heap base, 64-aligned)
   * @param init  true for the thread that creates the arena; workers attach with false
   */
  constructor(mem: SharedMemory, base: number, init = true) {
    if (base % ALIGN !== 0) throw new InvalidOptionError('arena base', base, 'a multiple of 64');
    this.mem = mem;
    this.base = base;
    if (init) {
      const first = base + HEADER_BYTES;
      if (!mem.ensure(first)) throw new ArenaOutOfMemory(first, 0, mem.limit);
      const w = mem.u32;
      const h = base >>> 2;
      w.fill(0, h, h + HEADER_BYTES / 4);
      w[h + H_TOP] = first;
      w[h + H_NEXT_SCOPE] = 1;
      w[h + H_LIMIT_PAGES] = Math.min(mem.maxPages, ADDRESS_CEILING / PAGE);
    }
  }

  get limit(): number {
    return this.mem.u32[(this.base >>> 2) + H_LIMIT_PAGES] * PAGE;
  }

  stats(): ArenaStats {
    const w = this.mem.u32;
    const h = this.base >>> 2;
    const top = Atomics.load(w, h + H_TOP);
    const freeBytes = Atomics.load(w, h + H_FREE_BYTES);
    const limit = this.limit;
    return { top, freeBytes, limit, available: limit - top + freeBytes, liveScopes: Atomics.load(w, h + H_LIVE) };
  }

  /** Opens a scope. Its memory is valid until `close()`; closing frees all of it at once. */
  open(): ArenaScope {
    this.#lock();
    let root: number;
    let id: number;
    try {
      root = this.#acquire(FIRST_SEGMENT);
      const w = this.mem.u32;
      const h = this.base >>> 2;
      id = w[h + H_NEXT_SCOPE];
      w[h + H_NEXT_SCOPE] = id + 1 === 0 ? 1 : id + 1;
      w[h + H_LIVE]++;
      const r = root >>> 2;
      w[r + S_NEXT] = 0;
      w[r + S_SCOPE] = id;
      w[r + S_CURRENT] = root;
      w[r + S_HEAD] = root;
      w[r + S_NEXT_SIZE] = FIRST_SEGMENT * 2;
      Atomics.store(w, r + S_OPEN, 1);
    } finally {
      this.#unlock();
    }
    return new ArenaScope(this, root, id);
  }

  /**
   * Allocates `bytes` (64-byte aligned, contents unspecified) in the scope rooted at `root`.
   * Lock-free on the common path: one Atomics.add on the current segment's cursor.
   */
  alloc(root: number, bytes: number): number {
    if (!(bytes >= 0) || !Number.isFinite(bytes)) throw new InvalidOptionError('bytes', bytes, 'a non-negative byte count');
    const need = Math.max(ALIGN, alignUp(bytes, ALIGN));
    const r = root >>> 2;
    let w = this.mem.u32;
    if (Atomics.load(w, r + S_OPEN) !== 1) throw new ScopeClosedError(w[r + S_SCOPE]);
    const nextSize = Atomics.load(w, r + S_NEXT_SIZE);
    if (need + SEG_HEADER > nextSize / 2) return this.#allocDedicated(root, need);
    for (;;) {
      // Reads of `current` may be stale: then the cursor add below lands in a full segment, fails
      // the bound check, and we retry after taking the lock — which publishes the newer segment.
      const cur = Atomics.load(w, r + S_CURRENT);
      const c = cur >>> 2;
      const off = Atomics.add(w, c + S_CURSOR, need);
      if (off + need <= w[c + S_SIZE]) return cur + off;
      this.#lock();
      try {
        w = this.mem.u32;
        if (Atomics.load(w, r + S_OPEN) !== 1) throw new ScopeClosedError(w[r + S_SCOPE]);
        if (Atomics.load(w, r + S_CURRENT) === cur) {
          const size = Math.max(Atomics.load(w, r + S_NEXT_SIZE), need + SEG_HEADER);
          const seg = this.#acquire(size);
          w = this.mem.u32;
          this.#link(root, seg);
          Atomics.store(w, r + S_NEXT_SIZE, Math.min(MAX_SEGMENT, size * 2));
          // Publishes the new segment: its size and cursor were written (under the lock, before
          // this seq-cst store), so a thread that loads `current === seg` sees them initialized.
          Atomics.store(w, r + S_CURRENT, seg);
        }
      } finally {
        this.#unlock();
      }
      w = this.mem.u32;
    }
  }

  /** Frees everything the scope allocated, in O(1). Closing twice throws. */
  close(root: number): void {
    this.#lock();
    try {
      const w = this.mem.u32;
      const r = root >>> 2;
      if (Atomics.compareExchange(w, r + S_OPEN, 1, 0) !== 1) throw new ScopeClosedError(w[r + S_SCOPE]);
      const h = this.base >>> 2;
      // Walk only to account sizes and clear owner ids (cheap: segments are few and large).
      let bytes = 0;
      for (let s = w[r + S_HEAD]; s !== 0; s = w[(s >>> 2) + S_NEXT]) {
        bytes += w[(s >>> 2) + S_SIZE];
        w[(s >>> 2) + S_SCOPE] = 0;
      }
      // The splice itself: root is the chain's tail.
      w[r + S_NEXT] = w[h + H_FREE];
      w[h + H_FREE] = w[r + S_HEAD];
      w[h + H_FREE_BYTES] += bytes;
      w[h + H_LIVE]--;
    } finally {
      this.#unlock();
    }
  }

  isOpen(root: number): boolean {
    return Atomics.load(this.mem.u32, (root >>> 2) + S_OPEN) === 1;
  }

  #allocDedicated(root: number, need: number): number {
    this.#lock();
    try {
      const w0 = this.mem.u32;
      if (Atomics.load(w0, (root >>> 2) + S_OPEN) !== 1) throw new ScopeClosedError(w0[(root >>> 2) + S_SCOPE]);
      const seg = this.#acquire(need + SEG_HEADER);
      this.#link(root, seg);
      // The segment is private to this allocation: mark it full so no bump ever lands in it.
      const w = this.mem.u32;
      w[(seg >>> 2) + S_CURSOR] = w[(seg >>> 2) + S_SIZE];
      return seg + SEG_HEADER;
    } finally {
      this.#unlock();
    }
  }

  /** Pushes `seg` at the head of the scope's chain (lock held). */
  #link(root: number, seg: number): void {
    const w = this.mem.u32;
    const r = root >>> 2;
    w[(seg >>> 2) + S_NEXT] = w[r + S_HEAD];
    w[(seg >>> 2) + S_SCOPE] = w[r + S_SCOPE];
    w[r + S_HEAD] = seg;
  }

  /** A segment of at least `size` bytes (lock held): first fit, else fresh space, else coalesce. */
  #acquire(size: number): number {
    size = alignUp(size, ALIGN);
    // Reuse before growth: first fit, then coalesce and fit again, and only then fresh space.
    let seg = this.#firstFit(size);
    if (seg === 0 && this.#coalesce()) seg = this.#firstFit(size);
    if (seg === 0) seg = this.#fresh(size);
    if (seg === 0) {
      const s = this.stats();
      throw new ArenaOutOfMemory(size, s.available, s.limit);
    }
    const w = this.mem.u32;
    const g = seg >>> 2;
    w[g + S_CURSOR] = SEG_HEADER;
    w[g + S_NEXT] = 0;
    w[g + S_CURRENT] = 0;
    w[g + S_HEAD] = 0;
    w[g + S_OPEN] = 0;
    return seg;
  }

  /**
   * Address-ordered first fit: the lowest-addressed free segment that is big enough. Keeping live
   * segments low lets `#coalesce` hand the high end back to fresh space, which is what keeps a
   * long-running engine from creeping upwards. O(F) in the free list, which holds few, large segments.
   */
  #firstFit(size: number): number {
    const w = this.mem.u32;
    const h = this.base >>> 2;
    let best = 0;
    let bestPrev = 0;
    for (let prev = 0, s = w[h + H_FREE]; s !== 0; prev = s, s = w[(s >>> 2) + S_NEXT]) {
      if (w[(s >>> 2) + S_SIZE] >= size && (best === 0 || s < best)) {
        best = s;
        bestPrev = prev;
      }
    }
    if (best === 0) return 0;
    const s = best;
    const have = w[(s >>> 2) + S_SIZE];
    const next = w[(s >>> 2) + S_NEXT];
    if (bestPrev === 0) w[h + H_FREE] = next;
    else w[(bestPrev >>> 2) + S_NEXT] = next;
    w[h + H_FREE_BYTES] -= have;
    if (have - size >= SPLIT_MIN) {
      const rest = s + size;
      w[(rest >>> 2) + S_SIZE] = have - size;
      w[(rest >>> 2) + S_SCOPE] = 0;
      w[(rest >>> 2) + S_NEXT] = w[h + H_FREE];
      w[h + H_FREE] = rest;
      w[h + H_FREE_BYTES] += have - size;
      w[(s >>> 2) + S_SIZE] = size;
    }
    return s;
  }

  #fresh(size: number): number {
    const h = this.base >>> 2;
    let w = this.mem.u32;
    const top = w[h + H_TOP];
    const end = top + size;
    if (end > this.limit || !this.mem.ensure(end)) return 0;
    w = this.mem.u32;
    w[h + H_TOP] = end;
    w[(top >>> 2) + S_SIZE] = size;
    return top;
  }

  /**
   * Merges adjacent free segments and gives a free run that ends at `top` back to fresh space.
   * O(F log F) in the number of free segments; runs only when an allocation would otherwise fail.
   */
  #coalesce(): boolean {
    const w = this.mem.u32;
    const h = this.base >>> 2;
    const segs: number[] = [];
    for (let s = w[h + H_FREE]; s !== 0; s = w[(s >>> 2) + S_NEXT]) segs.push(s);
    if (segs.length === 0) return false;
    segs.sort((a, b) => a - b);
    const merged: Array<[number, number]> = [];
    for (const s of segs) {
      const size = w[(s >>> 2) + S_SIZE];
      const last = merged[merged.length - 1];
      if (last && last[0] + last[1] === s) last[1] += size;
      else merged.push([s, size]);
    }
    const tail = merged[merged.length - 1];
    if (tail[0] + tail[1] === w[h + H_TOP]) {
      w[h + H_TOP] = tail[0];
      merged.pop();
    }
    let head = 0;
    let total = 0;
    for (let i = merged.length - 1; i >= 0; i--) {
      const [s, size] = merged[i];
      w[(s >>> 2) + S_SIZE] = size;
      w[(s >>> 2) + S_SCOPE] = 0;
      w[(s >>> 2) + S_NEXT] = head;
      head = s;
      total += size;
    }
    w[h + H_FREE] = head;
    w[h + H_FREE_BYTES] = total;
    return true;
  }

  // Drepper's mutex ("Futexes are tricky", mutex #2) over the header's lock word:
  // 0 = unlocked, 1 = locked, 2 = locked and someone may be parked in Atomics.wait.
  #lock(): void {
    const w = this.mem.i32;
    const L = this.base >>> 2;
    let c = Atomics.compareExchange(w, L, 0, 1);
    if (c === 0) return;
    for (let spin = 0; spin < 64 && c !== 0; spin++) {
      c = Atomics.compareExchange(w, L, 0, 1);
      if (c === 0) return;
    }
    if (c !== 2) c = Atomics.exchange(w, L, 2);
    while (c !== 0) {
      Atomics.wait(w, L, 2);
      c = Atomics.exchange(w, L, 2);
    }
  }

  #unlock(): void {
    const w = this.mem.i32;
    const L = this.base >>> 2;
    // Release: every header/segment write made under the lock happens-before this exchange (seq-cst),
    // so the next owner reads them. A waiter parks only while the word is 2, so a 2 here means we wake one.
    if (Atomics.exchange(w, L, 0) === 2) Atomics.notify(w, L, 1);
  }
}

/**
 * A handle to one open scope. `root` is all another thread needs to allocate in it
 * (`arena.alloc(root, n)`); the handle itself stays on the thread that opened it.
 */
export class ArenaScope {
  readonly arena: Arena;
  readonly root: number;
  readonly id: number;

  constructor(arena: Arena, root: number, id: number) {
    this.arena = arena;
    this.root = root;
    this.id = id;
  }

  get open(): boolean {
    return this.arena.isOpen(this.root);
  }

  /** 64-byte aligned allocation; contents unspecified. */
  alloc(bytes: number): number {
    return this.arena.alloc(this.root, bytes);
  }

  /** 64-byte aligned allocation filled with zeros. */
  calloc(bytes: number): number {
    const p = this.arena.alloc(this.root, bytes);
    this.arena.mem.u8.fill(0, p, p + bytes);
    return p;
  }

  close(): void {
    this.arena.close(this.root);
  }
}
