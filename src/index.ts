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
export {
  AetherError, ArenaOutOfMemory, ArrowImportError, InvalidOptionError, KernelTrapError,
  LengthMismatchError, OutOfRangeError, ScopeClosedError, UnknownOpError, UnsupportedTypeError,
  type ErrorCode,
} from './errors.js';
