/**
 * YAML jobs (after FlowBuilder): a file with `name` and `tasks`, each task a `name`, a `type`, its
 * `depends_on` and a `config` checked by the type's own schema. Everything is validated before anything
 * runs, and every problem is reported with the file, LINE, column and field (`tasks[2].config.url`):
 * the YAML parser keeps each node's source range, and zod issue paths are walked back into that tree.
 *
 *   name: nightly
 *   concurrency: 4
 *   tasks:
 *     - name: fetch
 *       type: http
 *       config: { url: "http://127.0.0.1:8080/data.json", retries: 3 }
 *     - name: transform
 *       type: script
 *       depends_on: [fetch]
 *       config: { module: ./transform.mjs }
 *     - name: notify
 *       type: shell
 *       depends_on: [{ task: transform, optional: true }]
 *       config: { command: echo, args: [done] }
 *
 * Dependencies: a name (sequence), `{ task, optional: true }`, or `{ task, when: { path, equals | not_equals } }`
 * (conditional on the upstream output: `path` is a dotted path into it, e.g. `code` of a shell output).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { z } from 'zod';
import { FlowValidationError, JobValidationError, type JobIssue } from '../errors.js';
import { FlowBuilder, type Flow, type DepSpec, type NodeDef } from './builder.js';
import { DepKind } from './types.js';
import { getTaskType, hasTaskType, taskTypes } from './registry.js';
import './kinds/index.js';

const when = z.strictObject({
  path: z.string().default(''),
  equals: z.unknown().optional(),
  not_equals: z.unknown().optional(),
});
const dep = z.union([
  z.string().min(1),
  z.strictObject({ task: z.string().min(1), optional: z.boolean().optional(), when: when.optional() }),
]);
const task = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - (not starting with . or -)'),
  type: z.string().min(1),
  description: z.string().optional(),
  depends_on: z.array(dep).default([]),
  config: z.record(z.string(), z.unknown()).default({}),
  retries: z.number().int().min(0).optional(),
  retry_delay_ms: z.number().int().min(0).optional(),
  timeout_ms: z.number().int().positive().optional(),
});
export const jobSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  concurrency: z.number().int().positive().optional(),
  fail_fast: z.boolean().optional(),
  /** Relative to the job file. Default: `.aetherflow/<name>` beside it. */
  work_dir: z.string().optional(),
  tasks: z.array(task).min(1),
});
export type JobSpec = z.output<typeof jobSchema>;

export interface Job {
  file: string;
  spec: JobSpec;
  flow: Flow;
  /** Absolute work directory (history database, run directories). */
  workDir: string;
}

type Path = (string | number)[];

/** Reads, validates and builds a job file. Throws JobValidationError (file, line, field) on any problem. */
export function loadJob(file: string): Job {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (e) {
    throw new JobValidationError([{ file, line: 0, column: 0, field: '(file)', message: (e as Error).message }]);
  }
  return parseJob(text, file, dirname(abs));
}

export function parseJob(text: string, file: string, baseDir: string): Job {
  const lc = new LineCounter();
  // merge: YAML 1.1 merge keys (`<<: *anchor`), so similar tasks can share one config.
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, merge: true });
  const at = (path: Path, field = fieldName(path), message = ''): JobIssue => ({ file, ...locate(doc, lc, path), field, message });
  if (doc.errors.length) {
    throw new JobValidationError(doc.errors.map((e) => {
      const p = lc.linePos(e.pos[0]);
      return { file, line: p.line, column: p.col, field: '(yaml)', message: e.message.split('\n')[0] };
    }));
  }
  const raw = doc.toJS();
  const parsed = jobSchema.safeParse(raw);
  const issues: JobIssue[] = [];
  if (!parsed.success) {
    for (const i of parsed.error.issues) {
      // An unknown key: point at the key itself.
      const keys = i.code === 'unrecognized_keys' ? (i as { keys: string[] }).keys : [];
      const path = [...(i.path as Path), ...keys.slice(0, 1)];
      issues.push(at(path, undefined, message(i.message)));
    }
  }
  // Task types and configs are checked even when the outer schema failed, so one pass reports all.
  const tasks: { name?: unknown; type?: unknown; config?: unknown }[] =
    parsed.success ? parsed.data.tasks : Array.isArray(raw?.tasks) ? raw.tasks.filter((t: unknown) => t && typeof t === 'object') : [];
  const configs: unknown[] = [];
  tasks.forEach((t, k) => {
    if (typeof t.type !== 'string') return;
    if (!hasTaskType(t.type)) {
      issues.push(at(['tasks', k, 'type'], undefined, `unknown task type '${t.type}' (known: ${taskTypes().join(', ')})`));
      return;
    }
    const schema = getTaskType(t.type).schema;
    if (!schema) { configs[k] = t.config; return; }
    const r = schema.safeParse(t.config ?? {});
    if (r.success) { configs[k] = r.data; return; }
    for (const i of r.error.issues) {
      const keys = i.code === 'unrecognized_keys' ? (i as { keys: string[] }).keys : [];
      const path: Path = ['tasks', k, 'config', ...(i.path as Path), ...keys.slice(0, 1)];
      issues.push(at(path, undefined, `${message(i.message)} (${typeof t.name === 'string' ? `task '${t.name}', ` : ''}type ${t.type})`));
    }
  });
  if (issues.length || !parsed.success) {
    issues.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new JobValidationError(issues);
  }
  const spec = parsed.data;

  const b = new FlowBuilder(spec.name, { concurrency: spec.concurrency, failFast: spec.fail_fast }).baseDir(baseDir);
  const taskIndex = new Map(spec.tasks.map((t, k) => [t.name, k]));
  try {
    spec.tasks.forEach((t, k) => {
      const after: DepSpec[] = t.depends_on.map((d) => {
        if (typeof d === 'string') return d;
        if (d.when) return { node: d.task, when: predicate(d.when) };
        return d.optional ? { node: d.task, optional: true as const } : d.task;
      });
      let run;
      const type = getTaskType(t.type);
      const where = (p: Path) => { const i = at(['tasks', k, 'config', ...p]); return `${i.file}:${i.line}:${i.column} ${i.field}`; };
      try {
        run = type.create(configs[k], { name: t.name, flow: spec.name, baseDir, where });
      } catch (e) {
        throw new JobValidationError([at(['tasks', k, 'config'], undefined, (e as Error).message)]);
      }
      b.addNode({ name: t.name, kind: t.type, run, config: configs[k], deps: after.map(depDef), inject: [...(type.inject ?? [])], ...nodeOptions(t) });
    });
    return { file, spec, flow: b.build({ deferProviders: true }), workDir: resolve(baseDir, spec.work_dir ?? `.aetherflow/${spec.name}`) };
  } catch (e) {
    if (e instanceof FlowValidationError) throw new JobValidationError([flowIssue(e, spec, taskIndex, at)]);
    throw e;
  }
}

/** zod says "expected string, received undefined" for a missing field; say that plainly. */
const message = (m: string) => (/received undefined$/.test(m) ? `required field is missing (${m.replace(/^Invalid input: /, '')})` : m);

function nodeOptions(t: JobSpec['tasks'][number]): Partial<NodeDef> {
  const o: Partial<NodeDef> = {};
  if (t.retries !== undefined) o.retries = t.retries;
  if (t.retry_delay_ms !== undefined) o.retryDelayMs = t.retry_delay_ms;
  if (t.timeout_ms !== undefined) o.timeoutMs = t.timeout_ms;
  if (t.description !== undefined) o.description = t.description;
  return o;
}

function depDef(d: DepSpec): NodeDef['deps'][number] {
  if (typeof d === 'string') return { node: d, kind: DepKind.SEQUENCE };
  if ('when' in d) return { node: d.node, kind: DepKind.CONDITIONAL, when: d.when };
  return { node: d.node, kind: DepKind.OPTIONAL };
}

/** Maps a flow validation error back to the YAML line that causes it. */
function flowIssue(e: FlowValidationError, spec: JobSpec, index: Map<string, number>, at: (p: Path, f?: string, m?: string) => JobIssue): JobIssue {
  const [node, other] = e.nodes;
  const k = index.get(node) ?? 0;
  if (e.code === 'ERR_FLOW_DUPLICATE_NODE') {
    const dup = spec.tasks.map((t, j) => (t.name === node ? j : -1)).filter((j) => j >= 0)[1] ?? k;
    return at(['tasks', dup, 'name'], undefined, `duplicate task name '${node}'`);
  }
  if ((e.code === 'ERR_FLOW_UNKNOWN_DEP' || e.code === 'ERR_FLOW_CYCLE' || e.code === 'ERR_FLOW_INVALID') && other !== undefined) {
    // The depends_on entry that closes the cycle / names the unknown task.
    // Cycle paths follow the edges (upstream → dependent): the last node depends on the one before it.
    const target = e.code === 'ERR_FLOW_CYCLE' ? e.nodes[e.nodes.length - 1] : node;
    const depOn = e.code === 'ERR_FLOW_CYCLE' ? e.nodes[e.nodes.length - 2] : other;
    const j = index.get(target) ?? k;
    const d = spec.tasks[j].depends_on.findIndex((x) => (typeof x === 'string' ? x : x.task) === depOn);
    return at(d >= 0 ? ['tasks', j, 'depends_on', d] : ['tasks', j, 'depends_on'], undefined, e.message.replace(/^flow '[^']*': /, ''));
  }
  return at(['tasks', k], undefined, e.message.replace(/^flow '[^']*': /, ''));
}

function predicate(w: z.output<typeof when>): (output: unknown) => boolean {
  const parts = w.path ? w.path.split('.') : [];
  return (output) => {
    let v: any = output;
    for (const p of parts) v = v?.[p];
    if ('equals' in w && w.equals !== undefined) return deepEqual(v, w.equals);
    if ('not_equals' in w && w.not_equals !== undefined) return !deepEqual(v, w.not_equals);
    return !!v;
  };
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** `tasks[2].config.url` */
export function fieldName(path: Path): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s ? `.${String(p)}` : String(p);
  return s || '(root)';
}

/** Line/column of the deepest YAML node that exists along `path` (a missing field → its parent). */
function locate(doc: Document, lc: LineCounter, path: Path): { line: number; column: number } {
  const p = path.slice();
  for (;;) {
    const node = p.length ? doc.getIn(p, true) : doc.contents;
    if (isNode(node) && node.range) {
      const { line, col } = lc.linePos(node.range[0]);
      return { line, column: col };
    }
    if (!p.length) return { line: 1, column: 1 };
    p.pop();
  }
}
