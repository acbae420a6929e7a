/**
 * Registers the built-in task types. `query` is reserved: the engine registers its executor with
 * `registerTaskType('query', …)` when it loads; until then a job with query nodes is rejected at
 * build time with a message saying so (not at run time, halfway through a job).
 */
import { z } from 'zod';
import { FlowValidationError } from '../../errors.js';
import { hasTaskType, registerTaskType } from '../registry.js';
import { httpTask } from './http.js';
import { functionTask, scriptTask } from './script.js';
import { shellTask } from './shell.js';

registerTaskType('shell', shellTask);
registerTaskType('http', httpTask);
registerTaskType('script', scriptTask);
registerTaskType('function', functionTask);
if (!hasTaskType('query')) {
  registerTaskType('query', {
    schema: z.unknown(),
    description: 'engine query over upstream tables (registered by the engine)',
    create(_config, info) {
      throw new FlowValidationError('ERR_FLOW_INVALID', info.flow, [info.name],
        `node '${info.name}' is a query node, but no query executor is registered (the engine registers it: registerTaskType('query', …))`);
    },
  });
}

export { shellTask, shellConfig, type ShellConfig, type ShellOutput } from './shell.js';
export { httpTask, httpConfig, type HttpConfig, type HttpOutput } from './http.js';
export { scriptTask, scriptConfig, functionTask, functionConfig, configureScriptPool, closeScriptPool, scriptPool, type ScriptConfig, type ScriptPoolOptions } from './script.js';
