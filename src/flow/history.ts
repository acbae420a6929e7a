/**
 * Run history in SQLite (better-sqlite3; `node:sqlite` does not exist on Node 20) and node outputs as
 * files in the job's work directory:
 *
 *   <workDir>/history.db                 runs + node_results
 *   <workDir>/runs/<runId>/<node>.json   output of a COMPLETED node (codec by value: .json, .bin, or
 *                                        one the engine registers, e.g. Arrow IPC for tables)
 *
 * Recording happens on the `node:end` event, which the scheduler emits before it looks at the node's
 * dependents — so a node's output is on disk and its row committed before anything downstream starts.
 * The file is written to a temporary name and renamed (atomic on POSIX), then the row is upserted, so a
 * COMPLETED row always points at a whole file. A SIGKILL loses only nodes whose row was not written:
 * they run again on `--resume`. (No fsync: a killed process loses nothing the kernel already has; a
 * power cut may, and then those nodes simply run again.)
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { oneLine } from './graph.js';
import type { FlowEvent, FlowEventListener, NodeStateName, RunState } from './types.js';

export interface OutputCodec {
  ext: string;
  test(value: unknown): boolean;
  encode(value: unknown): Uint8Array | string;
  decode(bytes: Buffer): unknown;
}

const codecs: OutputCodec[] = [
  {
    ext: 'bin',
    test: (v) => v instanceof Uint8Array,
    encode: (v) => v as Uint8Array,
    decode: (b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength),
  },
  {
    ext: 'json',
    test: () => true,
    encode: (v) => (v === undefined ? 'null' : JSON.stringify(v, bigintSafe)) + '\n',
    decode: (b) => JSON.parse(b.toString('utf8')),
  },
];

/** Adds a codec tried before the built-ins (the engine registers Arrow IPC for tables). */
export function registerOutputCodec(c: OutputCodec): void {
  if (codecs.some((x) => x.ext === c.ext)) throw new Error(`output codec '.${c.ext}' is already registered`);
  codecs.unshift(c);
}

function bigintSafe(_k: string, v: unknown) {
  return typeof v === 'bigint' ? v.toString() : v;
}

export interface RunRow {
  id: string; job: string; file: string | null; state: RunState | 'running'; started_at: number;
  ended_at: number | null; duration_ms: number | null; error: string | null; attempts: number;
}
export interface NodeRow {
  run_id: string; node: string; state: NodeStateName; attempts: number; duration_ms: number | null;
  output_file: string | null; error: string | null; reason: string | null; logs: string | null; ended_at: number;
}

/** A file-safe node name (YAML names are already safe; TypeScript flows may use anything). */
const safe = (name: string) => name.replace(/[^A-Za-z0-9_.-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export class History {
  readonly workDir: string;
  readonly db: Database.Database;
  readonly #st: {
    insertRun: Database.Statement; resumeRun: Database.Statement; endRun: Database.Statement;
    upsertNode: Database.Statement; getRun: Database.Statement; nodes: Database.Statement; runs: Database.Statement;
  };

  constructor(workDir: string) {
    this.workDir = workDir;
    mkdirSync(join(workDir, 'runs'), { recursive: true });
    this.db = new Database(join(workDir, 'history.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, job TEXT NOT NULL, file TEXT, state TEXT NOT NULL,
        started_at INTEGER NOT NULL, ended_at INTEGER, duration_ms REAL, error TEXT,
        attempts INTEGER NOT NULL DEFAULT 1);
      CREATE TABLE IF NOT EXISTS node_results (
        run_id TEXT NOT NULL REFERENCES runs(id), node TEXT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL, duration_ms REAL, output_file TEXT, error TEXT, reason TEXT, logs TEXT,
        ended_at INTEGER NOT NULL, PRIMARY KEY (run_id, node));
      CREATE INDEX IF NOT EXISTS runs_by_job ON runs(job, started_at);`);
    this.#st = {
      insertRun: this.db.prepare(`INSERT INTO runs (id, job, file, state, started_at) VALUES (?, ?, ?, 'running', ?)`),
      resumeRun: this.db.prepare(`UPDATE runs SET state = 'running', ended_at = NULL, error = NULL, attempts = attempts + 1 WHERE id = ?`),
      endRun: this.db.prepare(`UPDATE runs SET state = ?, ended_at = ?, duration_ms = ?, error = ? WHERE id = ?`),
      upsertNode: this.db.prepare(`INSERT INTO node_results (run_id, node, state, attempts, duration_ms, output_file, error, reason, logs, ended_at)
        VALUES (@run_id, @node, @state, @attempts, @duration_ms, @output_file, @error, @reason, @logs, @ended_at)
        ON CONFLICT (run_id, node) DO UPDATE SET state = excluded.state, attempts = excluded.attempts,
          duration_ms = excluded.duration_ms, output_file = excluded.output_file, error = excluded.error,
          reason = excluded.reason, logs = excluded.logs, ended_at = excluded.ended_at`),
      getRun: this.db.prepare(`SELECT * FROM runs WHERE id = ?`),
      nodes: this.db.prepare(`SELECT * FROM node_results WHERE run_id = ? ORDER BY ended_at, node`),
      runs: this.db.prepare(`SELECT * FROM runs WHERE (? IS NULL OR job = ?) ORDER BY started_at DESC LIMIT ?`),
    };
  }

  runDir(runId: string): string {
    return join(this.workDir, 'runs', runId);
  }

  beginRun(runId: string, job: string, file?: string): void {
    mkdirSync(this.runDir(runId), { recursive: true });
    this.#st.insertRun.run(runId, job, file ?? null, Date.now());
  }

  /** Marks an earlier run as running again; returns the outputs of its COMPLETED nodes (to skip them). */
  resumeRun(runId: string, job: string): Map<string, unknown> {
    const row = this.getRun(runId);
    if (!row) throw new Error(`no run '${runId}' in ${join(this.workDir, 'history.db')}`);
    if (row.job !== job) throw new Error(`run '${runId}' belongs to job '${row.job}', not '${job}'`);
    const done = new Map<string, unknown>();
    for (const n of this.nodes(runId)) {
      if (n.state !== 'COMPLETED' || !n.output_file) continue;
      const path = join(this.runDir(runId), n.output_file);
      if (!existsSync(path)) continue; // output lost: the node runs again
      const codec = codecs.find((c) => n.output_file!.endsWith(`.${c.ext}`));
      if (!codec) continue;
      done.set(n.node, codec.decode(readFileSync(path)));
    }
    mkdirSync(this.runDir(runId), { recursive: true });
    this.#st.resumeRun.run(runId);
    return done;
  }

  /** Writes the output file (if COMPLETED) and upserts the node row. */
  recordNode(runId: string, e: Extract<FlowEvent, { type: 'node:end' }>, logs?: string[]): void {
    let outputFile: string | null = null;
    if (e.state === 'COMPLETED') {
      const codec = codecs.find((c) => c.test(e.output))!;
      outputFile = `${safe(e.node)}.${codec.ext}`;
      const path = join(this.runDir(runId), outputFile);
      writeFileSync(`${path}.tmp`, codec.encode(e.output));
      renameSync(`${path}.tmp`, path);
    }
    this.#st.upsertNode.run({
      run_id: runId, node: e.node, state: e.state, attempts: e.attempt, duration_ms: e.durationMs,
      output_file: outputFile, error: e.error === undefined ? null : oneLine(e.error), reason: e.reason ?? null,
      logs: logs?.length ? logs.join('\n') : null, ended_at: Date.now(),
    });
  }

  endRun(runId: string, state: RunState, durationMs: number, error?: unknown): void {
    this.#st.endRun.run(state, Date.now(), durationMs, error === undefined ? null : oneLine(error), runId);
  }

  getRun(runId: string): RunRow | undefined {
    return this.#st.getRun.get(runId) as RunRow | undefined;
  }
  nodes(runId: string): NodeRow[] {
    return this.#st.nodes.all(runId) as NodeRow[];
  }
  runs(job?: string, limit = 20): RunRow[] {
    return this.#st.runs.all(job ?? null, job ?? null, limit) as RunRow[];
  }

  /**
   * A listener that records one run's node results and its end. `logsOf(node)` supplies the node's
   * log lines (the run object has them: `run.node(name).logs`).
   */
  recorder(runId: string, logsOf?: (node: string) => string[] | undefined): FlowEventListener {
    return (e) => {
      if (e.runId !== runId) return;
      if (e.type === 'node:end') this.recordNode(runId, e, logsOf?.(e.node));
      else if (e.type === 'run:end') this.endRun(runId, e.state, e.durationMs, e.error);
    };
  }

  /**
   * Deletes the output files of `job`'s runs older than its `keep` newest (run rows and node rows
   * stay, so `history` still lists them). A pruned run can still be resumed: with its outputs gone,
   * every task runs again. Runs still marked running are never pruned (another process may own one).
   * `except` (the run just finished, which may be an old one resumed) is never pruned.
   * Returns the ids of the runs whose outputs were deleted.
   */
  pruneOutputs(job: string, keep: number, except?: string): string[] {
    if (!Number.isInteger(keep) || keep < 0) throw new RangeError(`keep must be an integer ≥ 0, got ${keep}`);
    const old = this.db.prepare(`SELECT id FROM runs WHERE job = ? AND state != 'running'
      AND id NOT IN (SELECT id FROM runs WHERE job = ? ORDER BY started_at DESC LIMIT ?)`)
      .all(job, job, keep) as Array<{ id: string }>;
    const pruned: string[] = [];
    for (const { id } of old) {
      if (id === except) continue;
      const dir = this.runDir(id);
      if (!existsSync(dir)) continue;
      rmSync(dir, { recursive: true, force: true });
      pruned.push(id);
    }
    return pruned;
  }

  close(): void {
    this.db.close();
  }
}
