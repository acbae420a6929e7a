#!/usr/bin/env node
/**
 * aetherflow — run, validate and draw YAML jobs.
 *
 *   aetherflow run job.yaml [--resume RUN_ID] [--work-dir DIR] [--concurrency N] [--no-progress]
 *   aetherflow validate job.yaml
 *   aetherflow graph job.yaml [--format mermaid|dot]
 *   aetherflow history job.yaml [--run RUN_ID] [--limit N]
 *
 * Exit codes: 0 success · 1 the run failed or was cancelled · 2 invalid job file or usage.
 * Output: a progress bar on a TTY, else one plain line per finished node (stable for scripts and
 * tests); a summary table at the end. The first line of a run is always `run <id> …`, so a killed run
 * can be resumed with `--resume <id>`.
 */
import { Command, CommanderError, Option } from 'commander';
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobValidationError } from '../errors.js';
import { History } from '../flow/history.js';
import { loadJob, type Job } from '../flow/job.js';
import { Container } from '../flow/container.js';
import { closeScriptPool, configureScriptPool } from '../flow/kinds/index.js';
import { fmtMs, oneLine, summaryTable } from '../flow/graph.js';
import { Run, newRunId } from '../flow/run.js';
import type { FlowEvent } from '../flow/types.js';

const EXIT_OK = 0, EXIT_FAILED = 1, EXIT_INVALID = 2;

function load(file: string): Job | undefined {
  try {
    return loadJob(file);
  } catch (e) {
    if (e instanceof JobValidationError) {
      process.stderr.write(`invalid job ${file}:\n${e.issues.map((i) => `  ${i.file}:${i.line}:${i.column}  ${i.field}: ${i.message}`).join('\n')}\n`);
      return undefined;
    }
    throw e;
  }
}

interface RunCliOptions { resume?: string; workDir?: string; concurrency?: string; keepOutputs: string; progress: boolean }

/**
 * The engine, when some node injects it (query nodes): one per CLI process, started before the run
 * and given to the script pool too, so script nodes see the same shared Memory as the queries. Loaded
 * only then (with the Arrow output codec): a job of shell and http nodes starts without apache-arrow.
 */
async function engineFor(job: Job): Promise<{ container: Container; close(): Promise<void> } | undefined> {
  if (!job.flow.nodes.some((n) => n.inject.includes('engine'))) return undefined;
  const [{ Engine }] = await Promise.all([import('../engine/engine.js'), import('../flow/kinds/arrow-codec.js')]);
  const engine = await Engine.start();
  await configureScriptPool({ memory: engine.ctx.memory });
  return { container: new Container().singleton('engine', () => engine), close: () => engine.close() };
}

async function runJob(file: string, o: RunCliOptions): Promise<number> {
  const job = load(file);
  if (!job) return EXIT_INVALID;
  const services = await engineFor(job);
  try {
    return await runLoaded(file, job, o, services?.container);
  } finally {
    await services?.close();
  }
}

async function runLoaded(file: string, job: Job, o: RunCliOptions, container: Container | undefined): Promise<number> {
  // Options are checked before the history is opened, so a bad option leaves no run row behind.
  const concurrency = o.concurrency === undefined ? undefined : Number(o.concurrency);
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1)) {
    process.stderr.write(`--concurrency must be an integer ≥ 1, got '${o.concurrency}'\n`);
    return EXIT_INVALID;
  }
  const keep = Number(o.keepOutputs);
  if (!(Number.isInteger(keep) && keep >= 1)) {
    process.stderr.write(`--keep-outputs must be an integer ≥ 1, got '${o.keepOutputs}'\n`);
    return EXIT_INVALID;
  }
  const history = new History(o.workDir ? resolve(o.workDir) : job.workDir);
  let runId: string;
  let completed: Map<string, unknown> | undefined;
  try {
    if (o.resume) {
      runId = o.resume;
      completed = history.resumeRun(runId, job.spec.name);
    } else {
      runId = newRunId();
      history.beginRun(runId, job.spec.name, resolve(file));
    }
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    history.close();
    return EXIT_INVALID;
  }
  const total = job.flow.size;
  const skipped = completed?.size ?? 0;
  process.stdout.write(`run ${runId} ${o.resume ? 'resumed' : 'started'}: job '${job.spec.name}', ${total} tasks` +
    (o.resume ? `, ${skipped} already completed` : '') + ` (history: ${history.workDir})\n`);

  const tty = o.progress && process.stdout.isTTY;
  // cli-progress is loaded only for a terminal (startup time matters for a CLI).
  const cliProgress = tty ? (await import('cli-progress')).default : undefined;
  const bar = cliProgress ? new cliProgress.SingleBar({
    format: ' {bar} {value}/{total} tasks | {last}', hideCursor: true, clearOnComplete: true,
  }, cliProgress.Presets.shades_classic) : undefined;
  bar?.start(total - skipped, 0, { last: '' });
  const failures: string[] = [];
  const t0 = performance.now();
  // Created before it starts, so the recorder can read node logs from the first event on.
  const run: Run = new Run(job.flow, {
    runId, completed, concurrency, container, workDir: history.runDir(runId),
    onEvent: (e: FlowEvent) => {
      record(e);
      if (e.type !== 'node:end') return;
      const line = `${e.state.padEnd(9)} ${e.node}${e.durationMs ? ` (${fmtMs(e.durationMs)})` : ''}` +
        (e.error !== undefined ? `: ${oneLine(e.error)}` : e.reason ? ` — ${e.reason}` : '');
      if (e.state === 'FAILED') {
        const logs = run.node(e.node).logs;
        failures.push(line + (logs ? '\n' + logs.map((l) => l.replace(/^/gm, '    | ')).join('\n') : ''));
      }
      if (bar) bar.increment({ last: `${e.node} ${e.state.toLowerCase()}` });
      else process.stdout.write(`[${((performance.now() - t0) / 1000).toFixed(2).padStart(7)}s] ${line}\n`);
    },
  });
  const record = history.recorder(runId, (node) => run.node(node).logs);
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++interrupts > 1) process.exit(130);
    process.stderr.write(`\n${sig}: cancelling run ${runId} (again to quit at once)\n`);
    run.cancel(sig);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    run.start();
    await run.done;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    bar?.stop();
    // The outputs of older runs go (rows stay): without this every run of a job adds its tables to disk.
    const pruned = history.pruneOutputs(job.spec.name, keep, runId);
    if (pruned.length) process.stdout.write(`deleted the outputs of ${pruned.length} older run(s) (--keep-outputs ${keep})\n`);
    history.close();
    await closeScriptPool();
  }
  if (failures.length) process.stdout.write(`\nfailures:\n${failures.join('\n')}\n`);
  process.stdout.write(`\n${summaryTable(run)}\n`);
  return run.state === 'completed' ? EXIT_OK : EXIT_FAILED;
}

function validate(file: string): number {
  const job = load(file);
  if (!job) return EXIT_INVALID;
  const kinds = [...new Set(job.flow.nodes.map((n) => n.kind))].join(', ');
  process.stdout.write(`ok ${file}: job '${job.spec.name}', ${job.flow.size} tasks (${kinds}), ${job.flow.roots.length} roots\n`);
  return EXIT_OK;
}

function graph(file: string, format: string): number {
  const job = load(file);
  if (!job) return EXIT_INVALID;
  process.stdout.write(format === 'dot' ? job.flow.toDot() : job.flow.toMermaid());
  return EXIT_OK;
}

function showHistory(file: string, o: { run?: string; limit: string; workDir?: string }): number {
  const job = load(file);
  if (!job) return EXIT_INVALID;
  const h = new History(o.workDir ? resolve(o.workDir) : job.workDir);
  try {
    if (o.run) {
      const r = h.getRun(o.run);
      if (!r) { process.stderr.write(`no run '${o.run}'\n`); return EXIT_INVALID; }
      process.stdout.write(`run ${r.id} ${r.state} (attempts ${r.attempts})${r.error ? `: ${r.error}` : ''}\n`);
      for (const n of h.nodes(o.run)) {
        process.stdout.write(`  ${n.state.padEnd(9)} ${n.node.padEnd(24)} ${fmtMs(n.duration_ms ?? undefined).padStart(9)}  ${n.output_file ?? n.error ?? n.reason ?? ''}\n`);
      }
    } else {
      for (const r of h.runs(job.spec.name, Number(o.limit))) {
        process.stdout.write(`${r.id}  ${r.state.padEnd(9)} ${new Date(r.started_at).toISOString()}  ${fmtMs(r.duration_ms ?? undefined)}${r.error ? `  ${r.error}` : ''}\n`);
      }
    }
  } finally {
    h.close();
  }
  return EXIT_OK;
}

export async function main(argv: string[]): Promise<number> {
  let code = EXIT_OK;
  const program = new Command('aetherflow')
    .description('Run data-pipeline jobs (YAML DAGs of shell, http, script and query tasks).')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.command('run').argument('<job>', 'job file (YAML)').description('run a job')
    .option('--resume <runId>', 'resume an earlier run: skip its completed tasks')
    .option('--work-dir <dir>', 'history and outputs (default: .aetherflow/<job name> beside the job file)')
    .option('--concurrency <n>', 'tasks running at once (default: the job\'s, else 64)')
    .option('--keep-outputs <n>', 'keep the task outputs of the n newest runs of this job, delete older ones', '10')
    .option('--no-progress', 'plain lines even on a terminal')
    .action(async (file: string, o: RunCliOptions) => { code = await runJob(file, o); });
  program.command('validate').argument('<job>').description('check a job file without running it')
    .action((file: string) => { code = validate(file); });
  program.command('graph').argument('<job>').description('print the job\'s DAG')
    .addOption(new Option('--format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'))
    .action((file: string, o: { format: string }) => { code = graph(file, o.format); });
  program.command('history').argument('<job>').description('list recorded runs, or one run\'s tasks')
    .option('--run <runId>').option('--limit <n>', 'runs to list', '20').option('--work-dir <dir>')
    .action((file: string, o: { run?: string; limit: string; workDir?: string }) => { code = showHistory(file, o); });
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0 ? EXIT_OK : EXIT_INVALID;
    }
    throw e;
  }
  return code;
}

// Run when executed (node dist/src/cli/main.js, the `aetherflow` bin, or tsx), not when imported.
const strip = (p: string) => p.replace(/\.(ts|js)$/, '');
const invoked = !!process.argv[1] && strip(realpathSync(resolve(process.argv[1]))) === strip(realpathSync(fileURLToPath(import.meta.url)));
if (invoked) {
  main(process.argv).then((c) => { process.exitCode = c; }, (e) => {
    process.stderr.write(`aetherflow: ${(e as Error)?.stack ?? e}\n`);
    process.exitCode = 3;
  });
}
