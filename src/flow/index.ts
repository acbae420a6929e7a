// The pipeline layer's public surface (re-exported from src/index.ts as `flow`).
export { flow, Flow, FlowBuilder, type BuildOptions, type DepSpec, type FlowOptions, type NodeDef, type NodeFn, type NodeOptions, type NodeSpec, type Outputs } from './builder.js';
export { Container, SharedCounter, PROVIDER_SCOPES, type Provider, type ProviderScope, type ResolveInfo } from './container.js';
export { FlowContext, currentContext, withContext } from './context.js';
export { fanOut, partitions, type BranchInfo, type FanOutOptions, type PartitionOptions, type Sliceable } from './fanout.js';
export { NodeContext } from './node-context.js';
export { Run, newRunId, type NodeResult, type RunOptions } from './run.js';
export { RunManager, type RunManagerOptions, type RunStats } from './manager.js';
export { registerTaskType, getTaskType, hasTaskType, taskTypes, type TaskType, type TaskTypeInfo } from './registry.js';
export { toDot, toMermaid, summaryTable } from './graph.js';
export {
  DepKind, NodeState, STATE_NAMES, isTerminal, isFinished,
  type FlowEvent, type FlowEventListener, type NodeStateName, type RunState,
} from './types.js';
export {
  configureScriptPool, closeScriptPool, shellConfig, httpConfig, scriptConfig, functionConfig,
  type ShellConfig, type ShellOutput, type HttpConfig, type HttpOutput, type ScriptConfig, type ScriptPoolOptions,
} from './kinds/index.js';
export {
  queryConfig, engineProvider, QueryNodeError, parseExpr, parseAgg, ExprSyntaxError,
  type QueryConfig, type QueryStep, type QueryWriteOutput,
} from './kinds/index.js';
// Importing the codec registers it: library users get node tables kept as .arrow files in history.
export { arrowCodec, normalizeDictionaryIds } from './kinds/arrow-codec.js';
