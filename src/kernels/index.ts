// Every kernel family's host API, one module each (assembly/<family> holds the matching kernels).
export { count, sum, min, max, mean, type Scalar } from './aggregate.js';
export { add, sub, mul, div, neg, abs, mulAdd, arith, type Operand, type ArithOpName, type ArithOptions } from './arith.js';
export { cast, castCanFail, type CastOptions } from './cast.js';
export type { OutputOptions } from './output.js';
export { argsort, sortColumn, type ArgsortOptions, type SortColumnOptions } from './sort.js';
export {
  compare, eq, ne, lt, le, gt, ge, between, isNull, isNotNull, and, or, andNot, not, countTrue, countCompare,
  type CompareOp, type CompareScalar, type CompareOptions, type LogicOptions,
} from './compare.js';
export { filter, take, type FilterOptions } from './filter.js';
export { hashColumns, type HashOptions } from './hash.js';
export {
  groupBy, groupIds, groupBySum,
  type GroupAgg, type GroupAggOp, type GroupByOptions, type GroupByResult, type GroupIdsResult,
} from './groupby.js';
export { hashJoin, type HashJoinOptions, type HashJoinResult } from './join.js';
