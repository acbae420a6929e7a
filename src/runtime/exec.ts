/**
 * Running one task on a worker: the op table (one executor per opcode), the range driver that
 * splits a range op into sub-tasks and morsels, and the fault boundary (a trap or a throw fails the
 * task's job, never the worker).
 *
 * Worker side only. The owner of the Executor is the worker thread whose deque `owner` is.
 */
import { SortFlag, TableOp } from '../../assembly/shared/codes.js';
import { byteWidth } from '../column.js';
import { Fold, foldWindow, midRow, type WindowTable } from '../kernels/dense-window.js';
import type { KernelExports } from '../kernels/module.js';
import { ArenaScope, type Arena } from '../memory/arena.js';
import type { SharedMemory } from '../memory/shared-memory.js';
import { DEQUE_EMPTY, type DequeOwner } from './deque.js';
import { FusedVM } from './fused-vm.js';
import { Status } from './jobs.js';
import {
  AGG_DESC_BYTES, AGG_PARTIAL_BYTES, KEY_RANGE_PARTIAL_BYTES, Op, OP_NAMES, WINDOW_INFO_BYTES, WI_ANY, WI_BASE, WI_CUR, WI_FIRST,
  WI_RECORDS, WI_SCRATCH, WI_STATE, WI_TABLE, WI_WIDTH, WS_DONE, WS_TOO_WIDE, groupInfoWords, sortHistBytes,
} from './ops.js';
import { S_CURRENT, S_TASKS, type Region } from './region.js';
import { T_A0, T_A1, T_A2, T_A3, T_END, T_JOB, T_OP, T_P0, T_P1, T_P2, T_P3, T_START, T_X0, T_X1, T_X2, T_X3 } from './tasks.js';

/** Must match CHUNK in assembly/groupby/table.ts: rows hashed per batch. */
const HASH_CHUNK = 1024;

/** Runs one morsel [s, e) with index m of the range task t. */
type MorselFn = (t: number, s: number, e: number, m: number) => void;

export class Executor {
  readonly #r: Region;
  readonly #k: KernelExports;
  /** For data in job scopes: they may lie above the length the region's fixed view was made at. */
  readonly #mem: SharedMemory;
  readonly #owner: DequeOwner;
  readonly #current: number;
  readonly #tasksRun: number;
  readonly #morsel: Record<number, MorselFn>;
  readonly #index: number;
  /** For ops that allocate as they go (a hash table grows with what it finds) in a scope the job names. */
  readonly #arena: Arena | undefined;

  constructor(region: Region, kernel: KernelExports, mem: SharedMemory, owner: DequeOwner, index: number, arena?: Arena) {
    this.#arena = arena;
    this.#r = region;
    this.#k = kernel;
    this.#mem = mem;
    this.#owner = owner;
    this.#index = index;
    this.#current = region.slotWord(index, S_CURRENT);
    this.#tasksRun = region.slotWord(index, S_TASKS);
    this.#morsel = {
      [Op.AGGREGATE]: (t, s, e, m) => this.#aggregate(t, s, e, m),
      [Op.SPIN]: (t, s, e, m) => this.#spin(t, s, e, m),
      [Op.KEY_RANGE]: (t, s, e, m) => this.#keyRange(t, s, e, m),
      [Op.GROUP_ACC]: (t, s, e, m) => this.#groupAcc(t, s, e, m),
      [Op.POPCOUNT]: (t, s, e, m) => this.#popcount(t, s, e, m),
      [Op.FILTER_FIXED]: (t, s, e, m) => this.#filterFixed(t, s, e, m),
      [Op.FILTER_BITS]: (t, s, e, m) => this.#filterBits(t, s, e, m),
      [Op.FILTER_UTF8]: (t, s, e, m) => this.#filterUtf8(t, s, e, m),
      [Op.GROUP_HASH]: (t, s, e, m) => this.#groupHash(t, s, e, m),
      [Op.ACC_MERGE]: (t, s, e, m) => this.#accMerge(t, s, e, m),
      [Op.SORT_RUNS]: (t, s, e, m) => this.#sortRun(t, s, e, m),
      [Op.MERGE_RUNS]: (t, s, e) => this.#mergeRuns(t, s, e),
      [Op.SORT_BUILD]: (t, s, e, m) => this.#sortBuild(t, s, e, m),
      [Op.RADIX_HIST]: (t, s, e, m) => this.#radixHist(t, s, e, m),
      [Op.RADIX_SCATTER]: (t, s, e, m) => this.#radixScatter(t, s, e, m),
      [Op.FUSED]: (t, s, e, m) => this.#fused(t, s, e, m),
      [Op.GROUP_WINDOW]: (t, s, e, m) => this.#groupWindow(t, s, e, m),
    };
  }

  /** Runs task t to its end (run, skipped or failed) and reports it finished. */
  run(t: number): void {
    const r = this.#r;
    const w = r.i32;
    const tasks = r.tasks;
    const job = tasks.get(t, T_JOB);
    const op = tasks.get(t, T_OP);
    // Tells the supervisor which task dies with us if this thread dies inside it. The pop that
    // handed us t already stored this (worker.ts); storing again covers callers that did not.
    Atomics.store(w, this.#current, t + 1);
    try {
      if (!r.jobs.stopped(job)) this.#dispatch(t, op);
    } catch (e) {
      // The fault boundary: a wasm trap (RuntimeError), a kernel abort, or a bug in an op fails
      // this job only. The worker's own state (its deque, the queues) is untouched by ops.
      r.jobs.fail(job, Status.TRAPPED, op, e instanceof Error ? e.message : String(e), this.#index);
    }
    Atomics.store(w, this.#current, 0);
    Atomics.add(w, this.#tasksRun, 1);
    r.finishTask(t);
  }

  #dispatch(t: number, op: number): void {
    const k = this.#k;
    switch (op) {
      case Op.NOOP:
        k.runtimeNoop(t);
        return;
      case Op.TRAP:
        k.runtimeTrap(this.#r.tasks.get(t, T_P0));
        return;
      case Op.EXIT:
      case Op.DIE_UNCLAIMED: // (only if it reached run: worker.ts exits on it earlier)
        process.exit(70);
      // falls through (never returns)
      default: {
        const fn = this.#morsel[op];
        if (fn === undefined) throw new Error(`unknown opcode ${op} (${OP_NAMES[op] ?? '?'})`);
        this.#range(t, fn);
      }
    }
  }

  /**
   * The range driver: runs the morsels of [start, end) here, checking the job's stop flag between
   * them, and gives work away lazily: before a morsel, if more than one morsel is left and our own
   * deque is empty (nothing of ours is waiting to be stolen — at the start, or because a thief just
   * took it), the upper half of what is left becomes a sub-task on our deque. So there is always
   * one stealable piece per busy thread, and it is the biggest one (thieves take halves), but a
   * range nobody steals from stays one task: splitting it down to single morsels up front made one
   * task per morsel — alloc, copy, count, push, pop, finish, free; ~1 µs each, 0.3 ms of a 10M-row
   * sum on one worker — whether or not anyone stole. Splitting at morsel multiples keeps every
   * morsel's rows — hence its partial slot — fixed, whoever runs it.
   */
  #range(t: number, fn: MorselFn): void {
    const r = this.#r;
    const tasks = r.tasks;
    const owner = this.#owner;
    const job = tasks.get(t, T_JOB);
    const morsel = tasks.get(t, T_P2);
    const start = tasks.get(t, T_START);
    let end = tasks.get(t, T_END);
    for (let s = start; s < end; s += morsel) {
      if (s !== start && r.jobs.stopped(job)) return;
      if (end - s > morsel && owner.isEmpty()) end = this.#split(t, job, s, end, morsel);
      fn(t, s, Math.min(s + morsel, end), (s / morsel) | 0);
    }
  }

  /** Gives [s + half, end) of range task t away on our deque; returns our new end (`end` if not). */
  #split(t: number, job: number, s: number, end: number, morsel: number): number {
    const r = this.#r;
    const tasks = r.tasks;
    const half = Math.ceil((end - s) / morsel / 2) * morsel;
    const child = tasks.alloc();
    if (child < 0) return end; // descriptors exhausted: run the rest here (slower, still correct)
    tasks.copy(t, child);
    tasks.set(child, T_START, s + half);
    tasks.set(child, T_END, end);
    // Counted before it is published, while our own count holds the job open (jobs.ts).
    r.jobs.addPending(job, 1);
    if (!this.#owner.push(child)) {
      r.jobs.addPending(job, -1);
      tasks.release(child);
      return end;
    }
    r.parking.wakeOne();
    return s + half;
  }

  #aggregate(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const width = tasks.get(t, T_P3);
    const validity = tasks.get(t, T_A1);
    const out = tasks.get(t, T_A2) + m * AGG_PARTIAL_BYTES;
    const count = this.#k.aggregate(
      tasks.get(t, T_P1),
      tasks.get(t, T_P0),
      tasks.get(t, T_A0) + s * width,
      // s is a multiple of the morsel size, itself a multiple of 64: a whole bitmap word.
      validity === 0 ? 0 : validity + s / 8,
      e - s,
      out,
    );
    this.#mem.i32[(out + 8) >>> 2] = count;
  }

  #keyRange(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const validity = tasks.get(t, T_A1);
    const out = tasks.get(t, T_A2) + m * KEY_RANGE_PARTIAL_BYTES;
    const count = this.#k.keyRange(tasks.get(t, T_P0), tasks.get(t, T_A0) + s * tasks.get(t, T_P3), validity === 0 ? 0 : validity + s / 8, e - s, out);
    this.#mem.i32[(out + 16) >>> 2] = count;
  }

  #groupAcc(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const kvalid = tasks.get(t, T_A1);
    const vvalid = tasks.get(t, T_X2);
    const nslots = tasks.get(t, T_X1);
    const tableBytes = tasks.get(t, T_X3);
    const r = this.#k.groupAccumulate(
      tasks.get(t, T_P1), tasks.get(t, T_P0),
      tasks.get(t, T_A0) + s * 4, kvalid === 0 ? 0 : kvalid + s / 8,
      tasks.get(t, T_X0), nslots, tableBytes / (nslots * 16),
      tasks.get(t, T_A3) + s * tasks.get(t, T_P3), vvalid === 0 ? 0 : vvalid + s / 8,
      e - s, tasks.get(t, T_A2) + m * tableBytes,
    );
    if (r !== 0) throw new Error(`groupAccumulate refused op ${tasks.get(t, T_P1)} on dtype ${tasks.get(t, T_P0)}`);
  }

  #popcount(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const valid = tasks.get(t, T_A1);
    const sel = tasks.get(t, T_A0) + s / 8;
    const selValid = valid === 0 ? 0 : valid + s / 8;
    const c = this.#k.popcount(sel, selValid, e - s);
    this.#mem.i32[(tasks.get(t, T_A2) >>> 2) + m] = c;
    const offsets = tasks.get(t, T_A3);
    if (offsets !== 0) this.#mem.i32[(tasks.get(t, T_X0) >>> 2) + m] = this.#k.filterUtf8Size(offsets + s * 4, e - s, sel, selValid);
  }

  #filterFixed(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const width = tasks.get(t, T_P3);
    const selValid = tasks.get(t, T_P0);
    const at = this.#mem.i32[(tasks.get(t, T_A3) >>> 2) + m];
    const r = this.#k.filterFixed(
      width, tasks.get(t, T_A0) + s * width, e - s,
      tasks.get(t, T_A1) + s / 8, selValid === 0 ? 0 : selValid + s / 8,
      tasks.get(t, T_A2) + at * width,
    );
    if (r < 0) throw new Error(`filterFixed refused width ${width}`);
  }

  #filterBits(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const i32 = this.#mem.i32;
    const rows = tasks.get(t, T_A3) >>> 2;
    const at = i32[rows + m];
    const count = i32[rows + m + 1] - at;
    if (count === 0) return;
    const bits = tasks.get(t, T_A0);
    const selValid = tasks.get(t, T_P0);
    const tmp = tasks.get(t, T_X0) + m * tasks.get(t, T_X1);
    const ones = this.#k.filterBits(bits === 0 ? 0 : bits + s / 8, e - s, tasks.get(t, T_A1) + s / 8, selValid === 0 ? 0 : selValid + s / 8, tmp);
    this.#k.runtimeOrBits(tmp, count, tasks.get(t, T_A2), at);
    i32[(tasks.get(t, T_X2) >>> 2) + m] = ones;
  }

  #filterUtf8(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const i32 = this.#mem.i32;
    const at = i32[(tasks.get(t, T_A3) >>> 2) + m];
    const byteAt = i32[(tasks.get(t, T_X1) >>> 2) + m];
    const selValid = tasks.get(t, T_P0);
    // Our own temp offsets: rows[m] + m words in, room for our count + 1 (no neighbour reaches it).
    const tmp = tasks.get(t, T_X2) + (at + m) * 4;
    const k = this.#k.filterUtf8(
      tasks.get(t, T_A0) + s * 4, tasks.get(t, T_P3), e - s,
      tasks.get(t, T_A1) + s / 8, selValid === 0 ? 0 : selValid + s / 8,
      tmp, tasks.get(t, T_X0) + byteAt,
    );
    this.#k.runtimeRebase(tmp + 4, k, byteAt, tasks.get(t, T_A2) + (at + 1) * 4);
  }

  #groupHash(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const k = this.#k;
    const mem = this.#mem;
    if (this.#arena === undefined) throw new Error('groupHash needs the arena');
    // The job's partials scope, shared with every worker: allocation in it is lock-free (arena.ts).
    const scope = new ArenaScope(this.#arena, tasks.get(t, T_P1), 0);
    const keys = tasks.get(t, T_A0);
    const nkeys = tasks.get(t, T_A1);
    const ids = tasks.get(t, T_P3);
    let capacity = Math.max(4, Math.min(tasks.get(t, T_X0), 2 ** Math.ceil(Math.log2(2 * (e - s)))));
    // Table record (assembly/groupby/table.ts): slots, capacity, groups, firstRow.
    const table = scope.alloc(16);
    let firstRow = scope.alloc((capacity / 2) * 4);
    const slots = scope.calloc(capacity * 8);
    let u32 = mem.u32;
    u32[table >>> 2] = slots;
    u32[(table >>> 2) + 1] = capacity;
    u32[(table >>> 2) + 2] = 0;
    u32[(table >>> 2) + 3] = firstRow;
    const hashes = scope.alloc(HASH_CHUNK * 8);
    let row = s;
    for (;;) {
      row = k.groupIdsHash(keys, nkeys, row, e, table, ids, hashes);
      if (row >= e) break;
      // Full: as src/kernels/groupby.ts does, twice the slots (rehashed) and twice the firstRow room.
      const bigger = capacity * 2;
      const newSlots = scope.calloc(bigger * 8);
      const newFirst = scope.alloc((bigger / 2) * 4);
      k.groupRehash(table, newSlots, bigger);
      mem.u8.copyWithin(newFirst, firstRow, firstRow + (capacity / 2) * 4);
      mem.u32[(table >>> 2) + 3] = newFirst;
      firstRow = newFirst;
      capacity = bigger;
    }
    u32 = mem.u32;
    const groups = u32[(table >>> 2) + 2];
    const naggs = tasks.get(t, T_P0);
    const info = (tasks.get(t, T_A2) >>> 2) + m * groupInfoWords(naggs);
    const aggs = tasks.get(t, T_A3);
    const accs: number[] = [];
    for (let j = 0; j < naggs; j++) {
      const d = (aggs + j * AGG_DESC_BYTES) >>> 2;
      const [op, dtype, values, validity, width] = [u32[d], u32[d + 1], u32[d + 2], u32[d + 3], u32[d + 4]];
      // One spare record, as the single-thread hash path allocates (slot `groups` stays empty).
      const acc = scope.alloc((groups + 1) * 16);
      const r = k.groupAccumulate(op, dtype, ids + s * 4, 0, 0, groups + 1, 1, values + s * width, validity === 0 ? 0 : validity + s / 8, e - s, acc);
      if (r !== 0) throw new Error(`groupAccumulate refused op ${op} on dtype ${dtype}`);
      accs.push(acc);
    }
    const i32 = mem.i32;
    i32[info] = groups;
    i32[info + 1] = firstRow;
    for (let j = 0; j < naggs; j++) i32[info + 2 + j] = accs[j];
  }

  /** GROUP_WINDOW's window table (reused: no object per morsel) and the scope root its moves allocate in. */
  readonly #win: WindowTable = { acc: 0, base: 0, width: 0 };
  #winRoot = 0;
  readonly #winAlloc = (bytes: number): number => this.#arena!.alloc(this.#winRoot, bytes);

  /**
   * One morsel of the one-pass dense group-by: its rows fold into its own table (the host placed
   * it, at the sampled window), which the worker moves into a wider window in the job's scope
   * when a block's key leaves it. The record then says where the table ended up and which key
   * slots got rows; the host merges by absolute key (morsels' windows differ).
   */
  #groupWindow(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const k = this.#k;
    const mem = this.#mem;
    if (this.#arena === undefined) throw new Error('groupWindow needs the arena');
    const op = tasks.get(t, T_P1);
    const dtype = tasks.get(t, T_P0);
    const info = tasks.get(t, T_A2) + m * WINDOW_INFO_BYTES;
    const w = info >>> 2;
    const win = this.#win;
    let i32 = mem.i32;
    win.acc = i32[w + WI_TABLE];
    win.base = i32[w + WI_BASE];
    win.width = i32[w + WI_WIDTH];
    if (k.denseTable(TableOp.INIT, op, dtype, win.acc, win.base, win.width + 1, 0, 0, 0) < 0) throw new Error(`groupWindow refused op ${op} on dtype ${dtype}`);
    // The kernel's two row ranges over this morsel's rows, [0, mid) and [mid, e − s).
    const n = e - s;
    const mid = midRow(n);
    i32[w + WI_CUR] = 0;
    i32[w + WI_CUR + 1] = mid;
    i32[w + WI_CUR + 2] = mid;
    this.#winRoot = tasks.get(t, T_X0);
    const kvalid = tasks.get(t, T_A1);
    const vvalid = tasks.get(t, T_X2);
    // s is a multiple of the morsel size, itself a multiple of 64: a whole bitmap word.
    const r = foldWindow(
      k, mem, this.#winAlloc, op, dtype,
      tasks.get(t, T_A0) + s * 4, kvalid === 0 ? 0 : kvalid + s / 8,
      tasks.get(t, T_A3) + s * tasks.get(t, T_P3), vvalid === 0 ? 0 : vvalid + s / 8,
      n, tasks.get(t, T_X1), win, info + WI_CUR * 4, info + WI_SCRATCH * 4,
    );
    if (r === Fold.REFUSED) throw new Error(`groupWindow refused op ${op} on dtype ${dtype}`);
    i32 = mem.i32; // (a move may have grown the memory)
    i32[w + WI_TABLE] = win.acc;
    i32[w + WI_BASE] = win.base;
    i32[w + WI_WIDTH] = win.width;
    if (r === Fold.TOO_WIDE) {
      i32[w + WI_STATE] = WS_TOO_WIDE;
      return;
    }
    const any = k.denseTable(TableOp.USED, op, dtype, win.acc, win.base, win.width + 1, info + WI_FIRST * 4, 0, 0);
    // The host merges 16-byte records in wasm (accMerge); a compact table (float SUM) is expanded
    // here, on the worker, in parallel — merging compact tables in JS on the submitting thread
    // took ~0.25 ms of a ~5 ms job at 10 M rows.
    let records = win.acc;
    if (k.denseTable(TableOp.BYTES, op, dtype, 0, 0, win.width + 1, 0, 0, 0) !== (win.width + 1) * 16) {
      records = this.#winAlloc((win.width + 1) * 16);
      k.denseTable(TableOp.EXPAND, op, dtype, win.acc, win.base, win.width + 1, records, 0, 0);
    }
    i32 = mem.i32;
    i32[w + WI_ANY] = any;
    i32[w + WI_RECORDS] = records;
    i32[w + WI_STATE] = WS_DONE;
  }

  #accMerge(t: number, s: number, e: number, _m: number): void {
    const tasks = this.#r.tasks;
    const k = this.#k;
    const op = tasks.get(t, T_P1);
    const dtype = tasks.get(t, T_P0);
    const dst = tasks.get(t, T_A1) + s * 16;
    // groupAccumulate over no rows writes the identity records (the same start as every partial).
    if (k.groupAccumulate(op, dtype, 0, 0, 0, e - s, 1, 0, 0, 0, dst) !== 0) throw new Error(`accMerge: op ${op} on dtype ${dtype}`);
    const first = tasks.get(t, T_A0) + s * 16;
    const stride = tasks.get(t, T_P3);
    const morsels = tasks.get(t, T_X0);
    for (let mm = 0; mm < morsels; mm++) {
      if (k.runtimeAccMerge(op, dtype, first + mm * stride, 0, e - s, dst) !== 0) throw new Error(`accMerge: op ${op} on dtype ${dtype}`);
    }
  }

  #sortRun(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const k = this.#k;
    const width = byteWidth(tasks.get(t, T_P0));
    const validity = tasks.get(t, T_A1);
    const packed = tasks.get(t, T_X3);
    const recBytes = packed & 0xff;
    const digitBits = packed >>> 8;
    const histBytes = Math.ceil(64 / digitBits) * (1 << digitBits) * 4;
    const perm = tasks.get(t, T_A2) + s * 4;
    const r = k.radixPass(
      tasks.get(t, T_P0), tasks.get(t, T_A0) + s * width, validity === 0 ? 0 : validity + s / 8, e - s,
      perm, tasks.get(t, T_A3) + s * 4, tasks.get(t, T_X0) + s * recBytes, tasks.get(t, T_X1) + s * recBytes,
      tasks.get(t, T_X2) + m * histBytes, tasks.get(t, T_P1) | SortFlag.IDENTITY, digitBits,
    );
    if (r < 0) throw new Error(`radixPass refused dtype ${tasks.get(t, T_P0)}`);
    k.runtimeRebase(perm, e - s, s, perm);
    // The run's nulls sit together at one end of it (radix.ts step 4); keys for the rest.
    const nulls = validity === 0 ? 0 : e - s - k.popcount(validity + s / 8, 0, e - s);
    const first = (tasks.get(t, T_P1) & SortFlag.NULLS_FIRST) !== 0 ? s + nulls : s;
    const dtype = tasks.get(t, T_P0);
    const kb = byteWidth(dtype) === 8 ? 8 : 4;
    if (k.runtimeSortKeys(dtype, tasks.get(t, T_A0), tasks.get(t, T_A2) + first * 4, e - s - nulls, tasks.get(t, T_P1), tasks.get(t, T_P3) + first * kb) !== kb) {
      throw new Error(`sortKeys refused dtype ${dtype}`);
    }
  }

  #sortBuild(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const i32 = this.#mem.i32;
    const dtype = tasks.get(t, T_P0);
    const r = this.#k.runtimeSortBuild(
      dtype, tasks.get(t, T_A0), tasks.get(t, T_A1), s, e, tasks.get(t, T_P1), tasks.get(t, T_A2),
      i32[(tasks.get(t, T_P3) >>> 2) + m], tasks.get(t, T_A3), i32[(tasks.get(t, T_X0) >>> 2) + m],
      tasks.get(t, T_X1) + m * sortHistBytes(byteWidth(dtype) === 8 ? 16 : 8),
    );
    if (r < 0) throw new Error(`sortBuild refused dtype ${tasks.get(t, T_P0)}`);
  }

  #radixHist(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const bits = tasks.get(t, T_P3);
    this.#k.runtimeRadixHist(tasks.get(t, T_P0), tasks.get(t, T_A0), s, e, tasks.get(t, T_P1), bits, tasks.get(t, T_A1) + m * (4 << bits));
  }

  #radixScatter(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const bits = tasks.get(t, T_P3);
    this.#k.runtimeRadixScatter(
      tasks.get(t, T_P0), tasks.get(t, T_A0), s, e, tasks.get(t, T_P1), bits,
      tasks.get(t, T_A1) + m * (4 << bits), tasks.get(t, T_A2), tasks.get(t, T_X0),
    );
  }

  #mergeRuns(t: number, s: number, e: number): void {
    const tasks = this.#r.tasks;
    const k = this.#k;
    const kb = tasks.get(t, T_P0);
    const keys = tasks.get(t, T_A0), rows = tasks.get(t, T_A1);
    const keysOut = tasks.get(t, T_A2), rowsOut = tasks.get(t, T_A3);
    const lo = tasks.get(t, T_X0), mid = tasks.get(t, T_X1), hi = tasks.get(t, T_X2);
    const nA = tasks.get(t, T_X3), nB = tasks.get(t, T_P3);
    const nullsFirst = (tasks.get(t, T_P1) & SortFlag.NULLS_FIRST) !== 0;
    // Valid pairs of each run, and where the merged ones go.
    const a = nullsFirst ? lo + nA : lo, na = mid - lo - nA;
    const b = nullsFirst ? mid + nB : mid, nb = hi - mid - nB;
    const out = nullsFirst ? lo + nA + nB : lo;
    // The host covers at least 1 position, so that the null blocks move when no row is valid.
    if (k.runtimeMergeRuns(kb, keys, rows, a, na, b, nb, out, Math.min(s, na + nb), Math.min(e, na + nb), keysOut, rowsOut) < 0) {
      throw new Error(`mergeRuns refused key bytes ${kb}`);
    }
    if (s === 0 && nA + nB > 0) {
      // The null blocks, A's first (stable); their keys are never read.
      const u8 = this.#mem.u8;
      const at = nullsFirst ? lo : lo + na + nb;
      const fromA = nullsFirst ? lo : mid - nA;
      const fromB = nullsFirst ? mid : hi - nB;
      u8.copyWithin(rowsOut + at * 4, rows + fromA * 4, rows + (fromA + nA) * 4);
      u8.copyWithin(rowsOut + (at + nA) * 4, rows + fromB * 4, rows + (fromB + nB) * 4);
    }
  }

  /** The interpreter of the last FUSED batch this thread ran (reused while it is the same batch). */
  #vm: FusedVM | undefined;

  #fused(t: number, s: number, e: number, m: number): void {
    const tasks = this.#r.tasks;
    const vm = (this.#vm = FusedVM.for(this.#vm, this.#k, this.#mem, tasks.get(t, T_A0) >>> 0, this.#index));
    vm.run(s, e - s, m - tasks.get(t, T_X0));
  }

  #spin(t: number, _s: number, _e: number, m: number): void {
    const us = this.#r.tasks.get(t, T_X0);
    if (us > 0) {
      const until = performance.now() + us / 1000;
      while (performance.now() < until);
    }
    Atomics.add(this.#mem.i32, (this.#r.tasks.get(t, T_A2) >>> 2) + m, 1);
  }

  /** Word index of this worker's task-in-hand word (the claim word of its pops). */
  get currentWord(): number {
    return this.#current;
  }

  /** Own deque first (LIFO: the piece we split last is still in cache). */
  popOwn(): number {
    const t = this.#owner.pop(this.#current);
    return t === DEQUE_EMPTY ? -1 : t;
  }
}
