// Group-by: hash aggregation over one or more key columns (see the modules for each contract).
//
//   dense.ts       single integer key over a small domain: slot = key − min (keyRange decides)
//   table.ts       everything else: open addressing, linear probing, host-driven growth
//   keys.ts        key descriptors, combined hashing and key equality (several columns, utf8)
//   accumulate.ts  count / sum / min / max / mean per slot, with partial tables
//
// The host (src/kernels/groupby.ts) picks the path, allocates every buffer and drives growth; it
// gathers each group's key values (its first row) with the filter family's `take`.

export { keyRange, denseSlots, denseGroupIds, denseKeys } from './dense';
export { groupIdsHash, groupRehash } from './table';
export { groupAccumulate, denseAccumulate, denseTable, groupFinish, denseMap } from './accumulate';
