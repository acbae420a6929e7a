// Kernels for the parallel runtime itself (src/runtime): a no-op, the unit of the tiny-task
// benchmark and of the scheduler tests, and a kernel that traps on purpose, so the fault path
// (a trap fails only its job, with a typed error naming the op) is tested on real wasm traps.

/** Does nothing; returns its argument so the call cannot be optimised away on either side. */
export function runtimeNoop(x: i32): i32 {
  return x;
}

/**
 * Traps on purpose. kind 0: `unreachable`; kind 1: an out-of-bounds load (the address is past any
 * memory the engine may reach: the last byte of the 4 GiB wasm32 space, with a 16-byte load).
 * Any other kind returns 0 — the host only ever passes 0 or 1.
 */
export function runtimeTrap(kind: i32): i32 {
  if (kind == 0) unreachable();
  if (kind == 1) return <i32>load<u64>(<usize>0xfffffff8, 8);
  return 0;
}

// Stitching and merging for the parallel plans (src/runtime/plans.ts); prefixed in the module's
// one export namespace.
export { orBits as runtimeOrBits, rebase as runtimeRebase } from './bits';
export { accMerge as runtimeAccMerge } from './accmerge';
export { mergeRuns as runtimeMergeRuns, sortKeys as runtimeSortKeys } from './merge';
export { sortBuild as runtimeSortBuild, radixHist as runtimeRadixHist, radixScatter as runtimeRadixScatter } from './radix';
