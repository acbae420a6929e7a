// The sort family: stable argsort passes over one key each, and the gather sortColumn uses.
//
//   radix.ts    numeric / temporal / bool / dictionary-rank keys: LSD radix on order-preserving keys
//   merge.ts    utf8 keys: merge sort on (8-byte prefix, row) pairs, byte comparison on ties
//   gather.ts   out[i] = in[perm[i]] for numeric, bool and utf8 columns (and validity)
//
// A multi-key sort is the host calling one pass per key, least significant first, each over the
// permutation the previous pass produced (src/kernels/sort.ts). Every pass is stable, so that is a
// lexicographic sort. Return codes: ≥ 0 ok, −1 unsupported type, −2 bad input (code/offsets).

export { radixPass, radixRankPass } from './radix';
export { utf8Pass } from './merge';
export { sortGather, sortGatherUtf8 } from './gather';
