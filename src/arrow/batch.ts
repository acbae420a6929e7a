/**
 * A batch: named columns of one shared length — what `importTable` produces and `exportBatch` turns
 * back into an arrow-js Table. Column order is kept (it is the exported schema's order).
 *
 * A batch holds no memory of its own: its columns live in their scopes, and the batch is valid while
 * those are open.
 */
import type { Column } from '../column.js';
import { InvalidOptionError, LengthMismatchError } from '../errors.js';

export type BatchInit = Iterable<readonly [string, Column]> | Readonly<Record<string, Column>>;

export class Batch {
  /** Rows in every column. */
  readonly length: number;
  readonly #columns: ReadonlyMap<string, Column>;

  /**
   * @param columns  name → column, in schema order (a Map, entries, or a plain object)
   * @param length   the row count when there are no columns (default 0); otherwise it must match
   */
  constructor(columns: BatchInit, length?: number) {
    const entries: Array<readonly [string, Column]> = isIterable(columns) ? [...columns] : Object.entries(columns);
    const map = new Map<string, Column>();
    for (const [name, col] of entries) {
      if (map.has(name)) throw new InvalidOptionError('column name', name, 'names unique within a batch');
      map.set(name, col);
    }
    const lengths = [...map.values()].map((c) => c.length);
    if (length !== undefined) lengths.unshift(length);
    if (lengths.some((n) => n !== lengths[0])) throw new LengthMismatchError('batch', lengths);
    const first = entries[0]?.[1];
    for (const [name, col] of entries) {
      if (col.ctx !== first.ctx) throw new InvalidOptionError(`column '${name}'`, 'a column of another context', 'columns of one context');
    }
    this.length = lengths[0] ?? 0;
    this.#columns = map;
  }

  get names(): string[] {
    return [...this.#columns.keys()];
  }

  get columns(): Column[] {
    return [...this.#columns.values()];
  }

  get numColumns(): number {
    return this.#columns.size;
  }

  has(name: string): boolean {
    return this.#columns.has(name);
  }

  /** The column called `name`; throws naming the known columns when there is none. */
  column(name: string): Column {
    const col = this.#columns.get(name);
    if (col === undefined) throw new InvalidOptionError('column', name, `one of ${this.names.map((n) => `'${n}'`).join(', ') || '(no columns)'}`);
    return col;
  }

  entries(): IterableIterator<[string, Column]> {
    return this.#columns.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, Column]> {
    return this.#columns.entries();
  }
}

function isIterable(x: unknown): x is Iterable<readonly [string, Column]> {
  return typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function';
}
