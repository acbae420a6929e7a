/**
 * Parking: idle workers sleep in `Atomics.wait` on their own word and burn no CPU; producers wake
 * one of them when they publish a task. See README.md ("Parking") for why no wake-up is lost.
 *
 * Words (owned by region.ts): a global `sleepers` count on its own cache line, and one `park` word
 * per worker slot: 0 = awake, 1 = parked (or about to be).
 *
 * Sleeper (worker i, after spinning without finding work):
 *   S1  park[i] = 1                  announce (seq-cst store)
 *   S2  sleepers += 1
 *   S3  look at every queue once     (injector, every deque, the shutdown flag)
 *       work seen → CAS park[i] 1→0; if we won, sleepers −= 1; go run it
 *   S4  while park[i] == 1: Atomics.wait(park[i], 1)
 *
 * Waker (any thread, right after publishing a task with a seq-cst push):
 *   P1  (the push)
 *   P2  if sleepers == 0: done       one load on the hot path while all workers are busy
 *   P2' if searchers > 0: done       a worker in its spin phase will see the task (below)
 *   P3  find k with CAS park[k] 1→0 succeeding; sleepers −= 1; Atomics.notify(park[k])
 *
 * The CAS decides who clears a park word, so `sleepers` is decremented exactly once per parking,
 * by either the sleeper that gave up parking or the waker that woke it.
 *
 * P2' (searchers: workers between region.enterSpin and leaveSpin) is what makes a stream of tasks
 * cost no futex call: a notify is a syscall (~10 µs of the waker's time on this VM) and the woken
 * thread needs ~50 µs to run, while a searcher polls every queue within a microsecond. It is safe
 * because every searcher looks at every queue once more *after* it leaves the spin phase: to park
 * (S3), or — if it leaves holding a task — to pass remaining work on (`wakeOne` again, worker.ts).
 * If P2' read searchers ≥ 1, some searcher's leaveSpin comes after that load, hence after P1, so
 * its look sees the task (or sees it already taken). README.md, "Parking", has the whole argument.
 */
export class Parking {
  readonly #w: Int32Array;
  readonly #sleepers: number;
  readonly #searchers: number;
  readonly #parkWords: Int32Array;
  #next = 0;

  /**
   * @param sleepersWord  word index of the global sleepers count
   * @param searchersWord word index of the count of workers in their spin phase (region.ts)
   * @param parkWords     word index of every worker's park word
   */
  constructor(i32: Int32Array, sleepersWord: number, searchersWord: number, parkWords: Int32Array) {
    this.#w = i32;
    this.#sleepers = sleepersWord;
    this.#searchers = searchersWord;
    this.#parkWords = parkWords;
  }

  get sleepers(): number {
    return Atomics.load(this.#w, this.#sleepers);
  }

  /**
   * Parks worker i unless `hasWork()` (S3) sees something after the announcement. Returns true if
   * it actually slept. `hasWork` must look at every place a task can be published.
   */
  park(i: number, hasWork: () => boolean): boolean {
    const w = this.#w;
    const p = this.#parkWords[i];
    Atomics.store(w, p, 1); // S1
    Atomics.add(w, this.#sleepers, 1); // S2
    if (hasWork()) {
      // S3 found work. If a waker beat us to the CAS it already decremented sleepers for us.
      if (Atomics.compareExchange(w, p, 1, 0) === 1) Atomics.sub(w, this.#sleepers, 1);
      return false;
    }
    // S4. Returns at once ('not-equal') if a waker already cleared the word.
    while (Atomics.load(w, p) === 1) Atomics.wait(w, p, 1);
    return true;
  }

  /** P2 and P2': true when a task just published needs a wake-up (someone sleeps, nobody searches). */
  wanted(): boolean {
    return Atomics.load(this.#w, this.#sleepers) !== 0 && Atomics.load(this.#w, this.#searchers) === 0;
  }

  /**
   * P2–P3: wakes one parked worker, unless nobody sleeps or a searcher will find the task anyway.
   * Cheap (one or two loads) in both of those cases.
   */
  wakeOne(): boolean {
    const w = this.#w;
    if (Atomics.load(w, this.#sleepers) === 0) return false;
    // P2', after P2: the sleepers load is the cheaper filter while every worker is busy.
    if (Atomics.load(w, this.#searchers) !== 0) return false;
    const words = this.#parkWords;
    const n = words.length;
    // Round-robin start, so wake-ups spread over the workers (and their cores).
    const start = this.#next;
    for (let k = 0; k < n; k++) {
      let i = start + k;
      if (i >= n) i -= n;
      if (Atomics.compareExchange(w, words[i], 1, 0) === 1) {
        Atomics.sub(w, this.#sleepers, 1);
        Atomics.notify(w, words[i], 1);
        this.#next = i + 1 === n ? 0 : i + 1;
        return true;
      }
    }
    return false;
  }

  /** Wakes worker i if it is parked (shutdown, replacement). */
  wake(i: number): void {
    const w = this.#w;
    if (Atomics.compareExchange(w, this.#parkWords[i], 1, 0) === 1) {
      Atomics.sub(w, this.#sleepers, 1);
      Atomics.notify(w, this.#parkWords[i], 1);
    }
  }

  wakeAll(): void {
    for (let i = 0; i < this.#parkWords.length; i++) this.wake(i);
  }
}
