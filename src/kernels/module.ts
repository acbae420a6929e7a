/**
 * The compiled kernel module: read and compiled once per process (a `WebAssembly.Module` is
 * shareable, so workers receive it through workerData instead of compiling again), instantiated
 * once per thread over the engine's shared Memory.
 */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AetherError, KernelTrapError } from '../errors.js';

/** The raw exports. Pointers are byte addresses in the shared memory; see assembly/ for each contract. */
export interface KernelExports {
  heapBase(): number;
  aggregate(op: number, dtype: number, values: number, validity: number, n: number, out: number): number;
  // runtime (assembly/runtime): the tiny-task unit and a deliberate trap (kind 0 unreachable, 1 out of bounds).
  runtimeNoop(x: number): number;
  runtimeTrap(kind: number): number;
  /** dst bits [bitOffset, +nbits) |= src bits [0, nbits), atomically per 32-bit word (dst zeroed). */
  runtimeOrBits(src: number, nbits: number, dst: number, bitOffset: number): void;
  /** dst[i] = src[i] + delta over n i32s. */
  runtimeRebase(src: number, n: number, delta: number, dst: number): void;
  /** Folds n group-by accumulator records at src into dst (record i → map[i]; map 0 = i); −1 bad op/type. */
  runtimeAccMerge(op: number, dtype: number, src: number, map: number, n: number, dst: number): number;
  /** Outputs [d0, d1) of the stable merge of (key, row) runs [a, a + na) and [b, b + nb) to [out + d0, …); −1 bad key size. */
  runtimeMergeRuns(keyBytes: number, keys: number, rows: number, a: number, na: number, b: number, nb: number, out: number, d0: number, d1: number, keysOut: number, rowsOut: number): number;
  /** out[i] = sort key of row perm[i] (valid rows only); returns the key size 4 or 8, −1 bad type. */
  runtimeSortKeys(dtype: number, values: number, perm: number, n: number, flags: number, out: number): number;
  /** Rows [s, e): valid → (key, row) records at recs[validAt …], null → perm[nullAt …], digit counts of every pass → hist; returns record bytes 8/16, −1 bad type. */
  runtimeSortBuild(dtype: number, values: number, validity: number, s: number, e: number, flags: number, recs: number, validAt: number, perm: number, nullAt: number, hist: number): number;
  /** hist[0 .. 2^bits) = digit counts of records [s, e) (digit = key bits [shift, shift + bits)). */
  runtimeRadixHist(recBytes: number, recs: number, s: number, e: number, shift: number, bits: number, hist: number): void;
  /** Records [s, e) of src to dst at offsets[digit]++ (whole records, or rowsOnly: i32 rows). */
  runtimeRadixScatter(recBytes: number, src: number, s: number, e: number, shift: number, bits: number, offsets: number, dst: number, rowsOnly: number): void;
  // sort (assembly/sort): one stable pass per key; ≥ 0 ok, −1 unsupported type, −2 bad code/offsets.
  radixPass(dtype: number, values: number, validity: number, n: number, perm: number, tmpPerm: number, keys: number, tmpKeys: number, hist: number, flags: number, digitBits: number): number;
  radixRankPass(dtype: number, codes: number, validity: number, ranks: number, rankCount: number, rankBits: number, n: number, perm: number, tmpPerm: number, keys: number, tmpKeys: number, hist: number, flags: number, digitBits: number): number;
  utf8Pass(offsets: number, data: number, validity: number, n: number, perm: number, tmpPerm: number, keys: number, tmpKeys: number, flags: number): number;
  sortGather(dtype: number, values: number, validity: number, idx: number, n: number, out: number, outValidity: number): number;
  sortGatherUtf8(offsets: number, data: number, validity: number, idx: number, n: number, outOffsets: number, outData: number, outValidity: number): number;
  // arith (assembly/arith): ≥ 0 rows nulled by the op (integer x / 0), −1 unsupported op/type/shape.
  arith(op: number, dtype: number, shape: number, a: number, b: number, out: number, validity: number, n: number): number;
  mulAdd(dtype: number, x: number, k: number, y: number, out: number, n: number): number;
  /** out = a AND b over n bits (a or b may be 0 = all valid); returns the set-bit count. */
  validityAnd(a: number, b: number, out: number, n: number): number;
  // cast (assembly/cast): ≥ 0 rows nulled (unrepresentable values), −1 unsupported pair.
  castNumeric(from: number, to: number, a: number, out: number, validity: number, n: number): number;
  castScale(from: number, to: number, mode: number, a: number, out: number, validity: number, n: number, factor: number): number;
  // compare (assembly/compare): ≥ 0 number of true results, −1 unsupported op/type. Null rows give 0 bits.
  compareScalar(op: number, dtype: number, a: number, va: number, n: number, scalars: number, out: number): number;
  compareColumns(op: number, dtype: number, a: number, va: number, b: number, vb: number, n: number, out: number): number;
  countCompare(op: number, dtype: number, a: number, va: number, n: number, scalars: number): number;
  compareUtf8(op: number, offsets: number, bytes: number, va: number, n: number, needle: number, needleLen: number, out: number): number;
  compareUtf8Scalar(op: number, offsets: number, bytes: number, va: number, n: number, lo: number, loLen: number, hi: number, hiLen: number, out: number): number;
  compareUtf8Columns(op: number, oa: number, ba: number, va: number, ob: number, bb: number, vb: number, n: number, out: number): number;
  gatherBits(dtype: number, codes: number, va: number, n: number, bits: number, out: number): number;
  bitmapLogic(op: number, a: number, av: number, b: number, bv: number, n: number, out: number, outValid: number, counts: number): number;
  popcount(bits: number, valid: number, n: number): number;
  // filter (assembly/filter): rows or set bits written; −1 bad width; takeCheck: first bad position or −1.
  filterBits(bits: number, n: number, sel: number, selValid: number, out: number): number;
  filterFixed(width: number, values: number, n: number, sel: number, selValid: number, out: number): number;
  filterUtf8Size(offsets: number, n: number, sel: number, selValid: number): number;
  filterUtf8(offsets: number, bytes: number, n: number, sel: number, selValid: number, outOffsets: number, outBytes: number): number;
  takeCheck(idx: number, idxValid: number, m: number, len: number): number;
  takeFixed(width: number, values: number, len: number, idx: number, idxValid: number, m: number, out: number): number;
  takeBits(bits: number, len: number, idx: number, idxValid: number, m: number, out: number): number;
  takeUtf8Size(offsets: number, len: number, idx: number, idxValid: number, m: number, out: number): number;
  takeUtf8(offsets: number, bytes: number, len: number, idx: number, idxValid: number, m: number, outOffsets: number, outBytes: number): number;
  // hash (assembly/hash): 0 ok, −1 unknown key kind. kind = DType code or KeyKind.UTF8.
  hashColumn(kind: number, values: number, validity: number, offsets: number, n: number, out: number, combine: number): number;
  hashFold32(src: number, dst: number, n: number): void;
  // join (assembly/join): buckets of build rows per group; probe → first probe row not done (pairs written at `state`); validity → nulls.
  joinBuckets(ids: number, m: number, groups: number, start: number, rows: number): void;
  joinProbe(pk: number, bk: number, nkeys: number, from: number, n: number, table: number, bstart: number, brows: number, outP: number, outB: number, written: number, cap: number, left: number, hashes: number, state: number): number;
  joinValidity(rows: number, n: number, out: number): number;
  // groupby (assembly/groupby): record layouts in keys.ts / table.ts / accumulate.ts; −1 unsupported op/type.
  keyRange(dtype: number, keys: number, validity: number, n: number, out: number): number;
  denseSlots(dtype: number, keys: number, validity: number, n: number, minAt: number, nslots: number, out: number): number;
  denseGroupIds(dtype: number, keys: number, validity: number, n: number, minAt: number, nslots: number, slotMap: number, ids: number, firstRow: number): number;
  denseKeys(dtype: number, map: number, groups: number, minAt: number, nslots: number, out: number, outValidity: number): number;
  denseMap(acc: number, nslots: number, map: number): number;
  groupIdsHash(keys: number, nkeys: number, start: number, n: number, table: number, ids: number, hashes: number): number;
  groupRehash(table: number, newSlots: number, newCapacity: number): void;
  groupAccumulate(op: number, dtype: number, keys: number, kvalid: number, min: number, nslots: number, parts: number, vals: number, vvalid: number, n: number, acc: number): number;
  /** Checked fold into a window table (denseTable) over two row ranges whose cursors (a, aEnd, b) are at cur; 0 done, 1 stopped at a block that left the window, −1 bad op/type. */
  denseAccumulate(op: number, dtype: number, keys: number, kvalid: number, min: number, nslots: number, vals: number, vvalid: number, n: number, acc: number, cur: number): number;
  /** Window tables of denseAccumulate (TableOp: bytes, init, used slots, move to a new window, expand to 16-byte records); −1 bad op/type. */
  denseTable(what: number, op: number, dtype: number, acc: number, min: number, nslots: number, dst: number, dstMin: number, dstSlots: number): number;
  groupFinish(op: number, dtype: number, acc: number, map: number, groups: number, out: number, outValidity: number): number;
  // fused (assembly/fused): dense slots of a fused group-by; 0 ok / −1 bad dtype; fusedMaskSlots → rows kept.
  fusedSlots(dtype: number, keys: number, validity: number, n: number, minAt: number, card: number, stride: number, out: number, first: number): number;
  fusedMaskSlots(slots: number, sel: number, n: number, dead: number): number;
  fusedGroupSums(slots: number, n: number, nslots: number, cols: number, ncols: number, acc: number): void;
  // csv (assembly/csv): scan → rows, −1 hand the window back, −2 pos too small; parse → 0 done, 1 a field for the host (out: column, row).
  csvScan(text: number, len: number, delim: number, ncols: number, final: number, pos: number, cap: number, sizes: number, out: number): number;
  csvParse(text: number, pos: number, ncols: number, n: number, cols: number, j0: number, j1: number, out: number): number;
  /** End of the last whole row of text[0, len) by quote parity (csv.ts window cuts); −1 none. */
  csvRowCut(text: number, len: number, final: number): number;
  [name: string]: unknown;
}

let compiled: { release?: WebAssembly.Module; debug?: WebAssembly.Module } = {};

/** The package root: the nearest folder above this file that holds asconfig.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'asconfig.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new AetherError('ERR_INVALID_OPTION', 'cannot find the aetherflow package root (asconfig.json)');
    dir = up;
  }
}

/**
 * The debug build keeps assertions (bounds, invariants) that the release build compiles out; select
 * it with AETHERFLOW_DEBUG_KERNEL=1 (the test suite runs both).
 */
export function kernelFlavor(): 'release' | 'debug' {
  return process.env.AETHERFLOW_DEBUG_KERNEL === '1' ? 'debug' : 'release';
}

export function compileKernel(flavor: 'release' | 'debug' = kernelFlavor()): WebAssembly.Module {
  const hit = compiled[flavor];
  if (hit) return hit;
  const file = join(packageRoot(), 'build', flavor === 'debug' ? 'kernels.debug.wasm' : 'kernels.wasm');
  if (!existsSync(file)) {
    throw new AetherError('ERR_INVALID_OPTION', `kernel not built: ${file} is missing (run npm install or npm run build:wasm)`);
  }
  const mod = new WebAssembly.Module(readFileSync(file));
  compiled[flavor] = mod;
  return mod;
}

/** Thrown from `env.abort` (a failed assertion or `unreachable` in a kernel); wrapped into KernelTrapError by callers. */
export class KernelAbort extends Error {}

export function instantiateKernel(module: WebAssembly.Module, memory: WebAssembly.Memory): KernelExports {
  const readStr = (ptr: number): string => {
    if (ptr === 0) return '';
    // AssemblyScript strings: UTF-16LE, byte length stored in the object header at ptr - 4.
    const buf = memory.buffer as ArrayBuffer;
    const len = new Uint32Array(buf, ptr - 4, 1)[0] >>> 1;
    return String.fromCharCode(...new Uint16Array(buf.slice(ptr, ptr + len * 2)));
  };
  const instance = new WebAssembly.Instance(module, {
    env: {
      memory,
      abort(msg: number, file: number, line: number, col: number) {
        throw new KernelAbort(`${readStr(msg)} at ${readStr(file)}:${line}:${col}`);
      },
    },
  });
  return instance.exports as unknown as KernelExports;
}

/** Runs a kernel call, turning a trap (RuntimeError or abort) into a KernelTrapError naming the op. */
export function guard<R>(op: string, fn: () => R): R {
  try {
    return fn();
  } catch (e) {
    if (e instanceof WebAssembly.RuntimeError || e instanceof KernelAbort) throw new KernelTrapError(op, (e as Error).message);
    throw e;
  }
}
