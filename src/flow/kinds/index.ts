/**
 * Registers the built-in task types: shell, http, script, function and query. The query kind is
 * light to load (its schema and expression parser); the engine itself is loaded only when a run
 * provides it (the `engine` service), and the Arrow output codec lives in ./arrow-codec.ts.
 */
import { registerTaskType } from '../registry.js';
import { httpTask } from './http.js';
import { functionTask, scriptTask } from './script.js';
import { shellTask } from './shell.js';
import { queryTask } from './query.js';

registerTaskType('shell', shellTask);
registerTaskType('http', httpTask);
registerTaskType('script', scriptTask);
registerTaskType('function', functionTask);
registerTaskType('query', queryTask);

export { shellTask, shellConfig, type ShellConfig, type ShellOutput } from './shell.js';
export { httpTask, httpConfig, type HttpConfig, type HttpOutput } from './http.js';
export { scriptTask, scriptConfig, functionTask, functionConfig, configureScriptPool, closeScriptPool, scriptPool, type ScriptConfig, type ScriptPoolOptions } from './script.js';
export { queryTask, queryConfig, engineProvider, QueryNodeError, type QueryConfig, type QueryStep, type QueryWriteOutput } from './query.js';
export { parseExpr, parseAgg, ExprSyntaxError } from './query-expr.js';
