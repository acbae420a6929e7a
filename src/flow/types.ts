/**
 * Shared vocabulary of the pipeline layer: node states, dependency kinds, events.
 * States are small integers so a run keeps them in a Uint8Array (one byte per node, no objects);
 * `STATE_NAMES` maps them back for reports.
 */

/** Node lifecycle: PENDING → READY → RUNNING → COMPLETED | FAILED | SKIPPED | CANCELLED. */
export enum NodeState {
  PENDING = 0,
  READY = 1,
  RUNNING = 2,
  COMPLETED = 3,
  FAILED = 4,
  SKIPPED = 5,
  CANCELLED = 6,
}
export type NodeStateName = 'PENDING' | 'READY' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'SKIPPED' | 'CANCELLED';
export const STATE_NAMES: readonly NodeStateName[] =
  ['PENDING', 'READY', 'RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED', 'CANCELLED'];
/** True for COMPLETED, FAILED, SKIPPED, CANCELLED. */
export const isTerminal = (s: NodeState): boolean => s >= NodeState.COMPLETED;

/**
 * How a node depends on an upstream node:
 * - sequence (default): runs only after the upstream COMPLETED; otherwise it is SKIPPED (never runs on
 *   a partial result);
 * - optional: the upstream may fail or be skipped; the node then sees its input as absent (undefined);
 * - conditional: runs only if `when(upstreamOutput)` is true once the upstream COMPLETED; else SKIPPED.
 */
export enum DepKind {
  SEQUENCE = 0,
  OPTIONAL = 1,
  CONDITIONAL = 2,
}

/** Run states (a run is an object, not a byte, so a union of names is enough). */
export type RunState = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
export const isFinished = (s: RunState): boolean => s === 'completed' || s === 'failed' || s === 'cancelled';

/** The run and node lifecycle stream. Times are `performance.now()` ms; durations in ms. */
export type FlowEvent =
  | { type: 'run:queued'; runId: string; flow: string }
  | { type: 'run:start'; runId: string; flow: string; nodes: number; resumed: number }
  | { type: 'run:paused' | 'run:resumed'; runId: string; flow: string }
  | { type: 'run:end'; runId: string; flow: string; state: RunState; durationMs: number; error?: unknown }
  | { type: 'node:start'; runId: string; flow: string; node: string; attempt: number; queuedMs: number }
  | { type: 'node:retry'; runId: string; flow: string; node: string; attempt: number; delayMs: number; error: unknown }
  | {
      type: 'node:end'; runId: string; flow: string; node: string; state: NodeStateName; attempt: number;
      durationMs: number; output?: unknown; error?: unknown; reason?: string;
    };

export type FlowEventListener = (e: FlowEvent) => void;
