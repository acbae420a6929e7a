/**
 * Task types (node kinds): FlowBuilder's plugin point. A type turns a node's `config` into its run
 * function once, when the flow is built; `schema` (zod) validates the config of YAML jobs so errors can
 * name the file, line and field. Built-in: function, shell, http, script; `query` is reserved for the
 * engine, which registers its executor with `registerTaskType('query', …)`.
 */
import type { ZodType } from 'zod';
import { UnknownTaskTypeError } from '../errors.js';
import type { NodeFn } from './builder.js';

export interface TaskTypeInfo {
  /** Node name. */
  name: string;
  /** Flow name. */
  flow: string;
  /** Directory relative paths in the config resolve against (the YAML file's directory). */
  baseDir: string;
  /**
   * YAML jobs: `file:line:column field` of a path inside the node's config (e.g. ['steps', 2, 'filter']),
   * so errors found only at run time (a column the data lacks) still point at the line.
   */
  where?: (configPath: (string | number)[]) => string;
}

export interface TaskType<C = any> {
  /** Validates (and may default) `config`; its issue paths become YAML fields `tasks[i].config.<path>`. */
  schema?: ZodType<C>;
  /** Builds the node's run function from its (validated) config. Throw to reject the config. */
  create(config: C, info: TaskTypeInfo): NodeFn<any, unknown>;
  /** Services every node of this type injects (e.g. `engine` for query nodes). */
  inject?: readonly string[];
  description?: string;
}

const types = new Map<string, TaskType>();

export function registerTaskType<C>(name: string, type: TaskType<C>): void {
  types.set(name, type as TaskType);
}

export function getTaskType(name: string): TaskType {
  const t = types.get(name);
  if (!t) throw new UnknownTaskTypeError(name, taskTypes());
  return t;
}

export function hasTaskType(name: string): boolean {
  return types.has(name);
}

export function taskTypes(): string[] {
  return [...types.keys()].sort();
}
