// The public surface of the package: an explicit list. Anything not exported here is internal.
export { Context, type ContextOptions } from './context.js';
export {
  Column, DType, columnType, dictionaryType, typeLabel,
  type ColumnType, type TypeName, type TimeUnit, type ColumnInit,
} from './column.js';
export { allocColumn, columnFromArray, columnFromStrings, stringsOf, valuesView, type NumericArray } from './column-alloc.js';
export { Arena, ArenaScope, type ArenaStats } from './memory/arena.js';
export { SharedMemory, type SharedMemoryOptions } from './memory/shared-memory.js';
export * as kernels from './kernels/index.js';
export {
  Runtime, type RuntimeOptions, type RunOptions, type RuntimeStats, type JobSpec, type Planner, type TaskFields,
} from './runtime/runtime.js';
export * as jobs from './runtime/plans.js';
export { topology, type Topology, type CacheSizes } from './runtime/native.js';
export { JobAbortedError, RuntimeClosedError, WorkerDiedError } from './errors.js';
export {
  importVector, importTable, exportVector, exportData, exportTable, exportBatch, arrowType, isContextBuffer,
  Batch, type BatchInit, type ImportOptions, type ArrowColumnInput,
} from './arrow/index.js';
export { Engine, EngineClosedError, type EngineOptions, type ReadOptions } from './engine/engine.js';
export { Query, GroupedQuery, type SortSpec, type JoinOptions, type WriteOptions, type WriteResult } from './engine/query.js';
export {
  col, lit, count, sum, min, max, mean, countDistinct, Expr, AggExpr, UnknownColumnError, ExprTypeError,
  type ExprLike, type LitValue,
} from './engine/expr.js';
export { QueryError } from './engine/plan.js';
export { QueryAbortedError } from './engine/exec.js';
export { FUSED_PARALLEL_MIN_ROWS } from './engine/fused.js';
export { PARALLEL_MIN_ROWS } from './engine/exec-parallel.js';
export { MemoryDataset, type Dataset } from './engine/dataset.js';
export { FileFormatError } from './engine/io/ipc.js';
export { FileDataset, type FileFormat, type FileInput } from './engine/io/files.js';
export type { CsvReadOptions, CsvWriteOptions, CsvType } from './engine/io/csv.js';
export type { ParquetWriteOptions } from './engine/io/parquet.js';
// The pipeline layer (src/flow): flows, runs, DI, YAML jobs, history.
export {
  flow, Flow, FlowBuilder, Run as FlowRun, RunManager, Container, SharedCounter, FlowContext, NodeContext,
  currentContext, withContext, fanOut, partitions, registerTaskType, taskTypes, toMermaid, toDot, summaryTable,
  configureScriptPool, closeScriptPool, NodeState, DepKind,
  type RunOptions as FlowRunOptions, type RunState as FlowRunState, type FlowOptions, type BuildOptions,
  type NodeOptions, type NodeSpec, type NodeFn, type DepSpec, type Provider, type ProviderScope, type FlowEvent,
  type NodeResult, type RunStats, type RunManagerOptions, type TaskType, type NodeStateName, type BranchInfo, type PartitionOptions,
} from './flow/index.js';
export {
  engineProvider, QueryNodeError, ExprSyntaxError, parseExpr, parseAgg, arrowCodec,
  type QueryConfig, type QueryStep, type QueryWriteOutput,
} from './flow/index.js';
export { loadJob, parseJob, type Job } from './flow/job.js';
export { History, registerOutputCodec, type OutputCodec } from './flow/history.js';
export {
  FlowValidationError, NodeTimeoutError, RunCancelledError, UnknownTaskTypeError, JobValidationError,
  ShellExitError, HttpStatusError, type JobIssue, type FlowValidationCode,
} from './errors.js';
export {
  AetherError, ArenaOutOfMemory, ArrowImportError, InvalidOptionError, KernelTrapError,
  LengthMismatchError, OutOfRangeError, ScopeClosedError, UnknownOpError, UnsupportedTypeError,
  type ErrorCode,
} from './errors.js';
