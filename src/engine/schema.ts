import type { Schema as ArrowSchema } from 'apache-arrow';
import type { Batch } from '../arrow/batch.js';
import { columnTypeOf } from '../arrow/import.js';
import type { ColumnType } from '../column.js';
import type { Schema } from './expr.js';

/** A batch's schema: column name → type, in column order. */
export function schemaOf(batch: Batch): Schema {
  const m = new Map<string, ColumnType>();
  for (const [name, col] of batch) m.set(name, col.type);
  return m;
}

/** The schema an Arrow schema imports as (throws ArrowImportError naming an unsupported field). */
export function schemaFromArrow(schema: ArrowSchema): Schema {
  const m = new Map<string, ColumnType>();
  for (const f of schema.fields) m.set(f.name, columnTypeOf(f.type, f.name));
  return m;
}
