// The kernel module's exports. Compiled once (asconfig.json: --runtime stub, --importMemory
// --sharedMemory, SIMD + threads) and instantiated over the engine's one shared Memory in every
// thread. Kernels never allocate: every buffer they touch was allocated by the host's arena.

/** First byte above the kernel's static data; the host's arena starts at or above it. */
export function heapBase(): usize {
  return __heap_base;
}

export { aggregate } from './aggregate/index';
export { arith, mulAdd, validityAnd } from './arith/index';
export { castNumeric, castScale } from './cast/index';
export { runtimeNoop, runtimeTrap, runtimeOrBits, runtimeRebase, runtimeAccMerge, runtimeMergeRuns, runtimeSortKeys, runtimeSortBuild, runtimeRadixHist, runtimeRadixScatter } from './runtime/index';
export { radixPass, radixRankPass, utf8Pass, sortGather, sortGatherUtf8 } from './sort/index';
export { compareScalar, compareColumns, countCompare, compareUtf8, compareUtf8Scalar, compareUtf8Columns, gatherBits, bitmapLogic, popcount } from './compare/index';
export { filterBits, filterFixed, filterUtf8Size, filterUtf8, takeCheck, takeFixed, takeBits, takeUtf8Size, takeUtf8 } from './filter/index';
export { hashColumn, hashFold32 } from './hash/index';
export { joinBuckets, joinProbe, joinValidity } from './join/index';
export { keyRange, denseSlots, denseGroupIds, denseKeys, denseMap, groupIdsHash, groupRehash, groupAccumulate, denseAccumulate, denseTable, groupFinish } from './groupby/index';
export { fusedSlots, fusedMaskSlots, fusedGroupSums } from './fused/index';
export { csvScan, csvParse, csvRowCut } from './csv/index';
export { pqSnappy, pqRle, pqGather, pqSpread, pqWiden, pqByteArrayPlain, pqByteArrayDict, pqSpreadOffsets, pqDefLevels, pqBits } from './parquet/index';
export { utf8Valid, utf8Values } from './utf8/index';
