/**
 * Datasets: what a query reads.
 *
 *   MemoryDataset  batches already in the engine's memory (engine.fromArrow, engine.read). They live
 *                  in the dataset's own scope until `release()` (or engine.close()).
 *   FileDataset    a file read batch by batch on every run (engine.scan; src/engine/io/files.ts):
 *                  IPC record batches, Parquet row groups, CSV chunks. Each batch is imported into a
 *                  per-batch scope that the executor closes when the batch is done, so an input
 *                  larger than the memory limit streams through for filter / aggregate queries.
 */
import type { Batch } from '../arrow/batch.js';
import type { ArenaScope } from '../memory/arena.js';
import type { Schema } from './expr.js';

export interface Dataset {
  /** For explain() and errors: a file path or 'arrow table'. */
  readonly label: string;
  readonly schema: Schema;
  /** Row count when known without reading. */
  readonly rows: number | undefined;
  /**
   * The data as batches in the engine's memory. `scopeFor()` gives the scope each batch should be
   * imported into (memory datasets ignore it: their batches already live in their own scope).
   */
  batches(scopeFor: () => ArenaScope, signal?: AbortSignal): AsyncIterable<Batch>;
}

export class MemoryDataset implements Dataset {
  readonly label: string;
  readonly schema: Schema;
  readonly #batches: readonly Batch[];
  readonly #scope: ArenaScope;

  constructor(label: string, schema: Schema, batches: readonly Batch[], scope: ArenaScope) {
    this.label = label;
    this.schema = schema;
    this.#batches = batches;
    this.#scope = scope;
  }

  get rows(): number {
    return this.#batches.reduce((n, b) => n + b.length, 0);
  }

  /** The batches (valid until release()). */
  get data(): readonly Batch[] {
    return this.#batches;
  }

  get released(): boolean {
    return !this.#scope.open;
  }

  async *batches(): AsyncIterable<Batch> {
    for (const b of this.#batches) yield b;
  }

  /** Frees the dataset's memory. Queries over it afterwards fail with ScopeClosedError. */
  release(): void {
    if (this.#scope.open) this.#scope.close();
    this.onRelease?.(this);
  }

  /** Set by the engine that tracks the dataset (so a released dataset is not kept alive). */
  onRelease: ((ds: MemoryDataset) => void) | undefined;
}
