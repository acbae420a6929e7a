/** Reading engine results back in tests: rows as plain objects, schemas as type names, typed failures. */
import type { Table } from 'apache-arrow';
import type { Dataset } from '../../src/engine/dataset.js';
import type { Engine } from '../../src/engine/engine.js';
import { AetherError } from '../../src/errors.js';

/** All rows of a table as plain objects (int64 as bigint, dates as ms Numbers like arrow-js gives). */
export function tableRows(t: Table): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (let i = 0; i < t.numRows; i++) out.push({ ...t.get(i)!.toJSON() });
  return out;
}

/** All rows of a dataset (collected, read, released). */
export async function datasetRows(engine: Engine, ds: Dataset): Promise<Array<Record<string, unknown>>> {
  const t = await engine.query(ds).collect();
  try {
    return tableRows(t);
  } finally {
    engine.release(t);
  }
}

/** Column name → type name. */
export const typesOf = (ds: Dataset): Record<string, string> => Object.fromEntries([...ds.schema].map(([k, t]) => [k, t.name]));

/** The AetherError p rejects with; anything else (or success) fails the test. */
export async function typedFailure(p: Promise<unknown>, what = ''): Promise<AetherError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AetherError) return e;
    throw e;
  }
  throw new Error(`expected a typed error${what ? ' ' + what : ''}`);
}

/** Runs fn with process.env[name] = value (an A/B switch such as AETHERFLOW_PARQUET_KERNEL), restoring it after. */
export async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const old = process.env[name];
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env[name];
    else process.env[name] = old;
  }
}
