/**
 * The one errors module. Every error AetherFlow throws on purpose is an `AetherError` with a stable
 * `code` and the facts a user needs to fix the call (the option, op, column, type, file or row), as
 * fields and in the message. Callers branch on `code` or `instanceof`, never on message text.
 */

export type ErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_ARENA_OUT_OF_MEMORY'
  | 'ERR_SCOPE_CLOSED'
  | 'ERR_UNKNOWN_OP'
  | 'ERR_UNSUPPORTED_TYPE'
  | 'ERR_LENGTH_MISMATCH'
  | 'ERR_OUT_OF_RANGE'
  | 'ERR_KERNEL_TRAP'
  | 'ERR_ARROW_IMPORT'
  // parallel runtime (src/runtime)
  | 'ERR_JOB_ABORTED'
  | 'ERR_WORKER_DIED'
  | 'ERR_RUNTIME_CLOSED'
  // query engine (src/engine)
  | 'ERR_UNKNOWN_COLUMN'
  | 'ERR_EXPR_TYPE'
  | 'ERR_QUERY_INVALID'
  | 'ERR_FILE_FORMAT'
  | 'ERR_ENGINE_CLOSED'
  | 'ERR_QUERY_ABORTED'
  // pipeline layer (src/flow, src/cli)
  | 'ERR_FLOW_CYCLE'
  | 'ERR_FLOW_UNKNOWN_DEP'
  | 'ERR_FLOW_DUPLICATE_NODE'
  | 'ERR_FLOW_MISSING_PROVIDER'
  | 'ERR_FLOW_INVALID'
  | 'ERR_NODE_TIMEOUT'
  | 'ERR_RUN_CANCELLED'
  | 'ERR_UNKNOWN_TASK_TYPE'
  | 'ERR_JOB_INVALID'
  | 'ERR_SHELL_EXIT'
  | 'ERR_HTTP_STATUS'
  | 'ERR_EXPR_SYNTAX'
  | 'ERR_QUERY_NODE';

export class AetherError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option outside what the component accepts: names the option, the value and what would be valid. */
export class InvalidOptionError extends AetherError {
  constructor(readonly option: string, readonly value: unknown, readonly expected: string) {
    super('ERR_INVALID_OPTION', `invalid option ${option}=${fmt(value)}: expected ${expected}`);
  }
}

/** The arena could not satisfy an allocation without passing the memory's fixed maximum. */
export class ArenaOutOfMemory extends AetherError {
  constructor(readonly requested: number, readonly free: number, readonly limit: number) {
    super(
      'ERR_ARENA_OUT_OF_MEMORY',
      `arena out of memory: requested ${bytes(requested)}, free ${bytes(free)}, limit ${bytes(limit)} ` +
        `(raise the engine's memory limit or stream the input in batches)`,
    );
  }
}

/** Allocation or use of a scope after `close()`. */
export class ScopeClosedError extends AetherError {
  constructor(readonly scope: number) {
    super('ERR_SCOPE_CLOSED', `arena scope #${scope} is closed`);
  }
}

export class UnknownOpError extends AetherError {
  constructor(readonly op: string, readonly known: readonly string[]) {
    super('ERR_UNKNOWN_OP', `unknown op '${op}' (known: ${known.join(', ')})`);
  }
}

/** A type (or combination of types) the op has no kernel for. */
export class UnsupportedTypeError extends AetherError {
  constructor(readonly op: string, readonly types: readonly string[], readonly detail = '') {
    super('ERR_UNSUPPORTED_TYPE', `op '${op}' does not support ${types.join(' ∘ ')}${detail ? ': ' + detail : ''}`);
  }
}

export class LengthMismatchError extends AetherError {
  constructor(readonly op: string, readonly lengths: readonly number[]) {
    super('ERR_LENGTH_MISMATCH', `op '${op}': input lengths differ (${lengths.join(' vs ')})`);
  }
}

/** A pointer/offset/index outside the memory or the column it should address. */
export class OutOfRangeError extends AetherError {
  constructor(readonly op: string, readonly what: string, readonly value: number, readonly bound: number) {
    super('ERR_OUT_OF_RANGE', `op '${op}': ${what} ${value} is out of range (bound ${bound})`);
  }
}

/** A kernel trapped (unreachable, out-of-bounds access, failed debug assertion). */
export class KernelTrapError extends AetherError {
  constructor(readonly op: string, readonly reason: string) {
    super('ERR_KERNEL_TRAP', `kernel '${op}' trapped: ${reason}`);
  }
}

/** An Arrow vector the engine cannot take in: names the column (when known) and the type. */
export class ArrowImportError extends AetherError {
  constructor(readonly column: string | undefined, readonly type: string, readonly detail: string) {
    super('ERR_ARROW_IMPORT', `cannot import ${column === undefined ? 'vector' : `column '${column}'`} of type ${type}: ${detail}`);
  }
}

// ---- parallel runtime -------------------------------------------------------------------------

/** A job stopped because its AbortSignal fired (its running morsels finished, the rest were skipped). */
export class JobAbortedError extends AetherError {
  constructor(readonly op: string, override readonly cause?: unknown) {
    super('ERR_JOB_ABORTED', `job '${op}' aborted${cause instanceof Error ? `: ${cause.message}` : ''}`);
  }
}

/** A worker thread died while running one of the job's tasks (the runtime replaced it). */
export class WorkerDiedError extends AetherError {
  constructor(readonly op: string, readonly worker: number, readonly detail: string) {
    super('ERR_WORKER_DIED', `job '${op}' failed: worker ${worker} died (${detail})`);
  }
}

/** The runtime was closed (before or while the job ran). */
export class RuntimeClosedError extends AetherError {
  constructor(readonly op: string) {
    super('ERR_RUNTIME_CLOSED', `job '${op}': the runtime is closed`);
  }
}

// ---- pipeline layer ---------------------------------------------------------------------------

export type FlowValidationCode =
  | 'ERR_FLOW_CYCLE' | 'ERR_FLOW_UNKNOWN_DEP' | 'ERR_FLOW_DUPLICATE_NODE' | 'ERR_FLOW_MISSING_PROVIDER' | 'ERR_FLOW_INVALID';

/**
 * A flow that cannot be built: a cycle (`nodes` is the cycle path, first node repeated at the end),
 * an unknown dependency, a duplicate name, an injected service nobody provides. Thrown before anything runs.
 */
export class FlowValidationError extends AetherError {
  constructor(
    code: FlowValidationCode,
    readonly flow: string,
    /** The node(s) at fault; for a cycle, the path `a → b → … → a`. */
    readonly nodes: readonly string[],
    detail: string,
  ) {
    super(code, `flow '${flow}': ${detail}`);
  }
}

/** A node ran longer than its `timeoutMs` (its AbortSignal was aborted with this error). */
export class NodeTimeoutError extends AetherError {
  constructor(readonly node: string, readonly timeoutMs: number) {
    super('ERR_NODE_TIMEOUT', `node '${node}' timed out after ${timeoutMs} ms`);
  }
}

/** The reason a cancelled run's signal carries (and the error of every node it cut short). */
export class RunCancelledError extends AetherError {
  constructor(readonly runId: string, readonly reason = 'cancelled') {
    super('ERR_RUN_CANCELLED', `run ${runId} cancelled: ${reason}`);
  }
}

export class UnknownTaskTypeError extends AetherError {
  constructor(readonly type: string, readonly known: readonly string[]) {
    super('ERR_UNKNOWN_TASK_TYPE', `unknown task type '${type}' (known: ${known.join(', ')})`);
  }
}

export interface JobIssue { file: string; line: number; column: number; field: string; message: string }

/** A YAML job that does not validate. Every issue names the file, line, column and field (`tasks[2].config.url`). */
export class JobValidationError extends AetherError {
  readonly file: string;
  readonly line: number;
  readonly field: string;
  constructor(readonly issues: readonly JobIssue[]) {
    super('ERR_JOB_INVALID', issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.field}: ${i.message}`).join('\n'));
    this.file = issues[0]?.file ?? '';
    this.line = issues[0]?.line ?? 0;
    this.field = issues[0]?.field ?? '';
  }
}

/** A shell node whose command exited non-zero (or died of a signal); keeps the tail of its stderr. */
export class ShellExitError extends AetherError {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly signal: string | null,
    readonly stderr: string,
  ) {
    super('ERR_SHELL_EXIT',
      `command '${command}' ${signal ? `was killed by ${signal}` : `exited with code ${exitCode}`}` +
        (stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''));
  }
}

/** An http node got a status outside 2xx (after its retries). */
export class HttpStatusError extends AetherError {
  constructor(readonly url: string, readonly status: number, readonly body: string) {
    super('ERR_HTTP_STATUS', `${url} answered ${status}${body ? `: ${body.slice(0, 200)}` : ''}`);
  }
}

function fmt(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v) ?? String(v);
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]} (${n} bytes)`;
}
