/**
 * `shell` nodes: a command with arguments (no shell in between — no quoting surprises), a timeout,
 * captured stdout/stderr (capped), exit code checked. Output: `{ code, stdout, stderr }`.
 *
 * The child gets AETHERFLOW_RUN_ID, AETHERFLOW_NODE and, when the run has one, AETHERFLOW_WORK_DIR
 * (where jobs exchange files between nodes). On failure the output streams are kept in the node's logs.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { z } from 'zod';
import { NodeTimeoutError, ShellExitError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import type { TaskType } from '../registry.js';

export const shellConfig = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  /** Working directory, relative to the job file's directory. */
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
  timeout_ms: z.number().int().positive().optional(),
  /** Exit codes that count as success. */
  ok_codes: z.array(z.number().int()).default([0]),
  /** Bytes kept per stream; the rest is dropped (noted in the output). */
  max_output_bytes: z.number().int().positive().default(16 * 1024 * 1024),
  stdin: z.string().optional(),
});
export type ShellConfig = z.input<typeof shellConfig>;

export interface ShellOutput {
  code: number;
  stdout: string;
  stderr: string;
}

export const shellTask: TaskType<z.output<typeof shellConfig>> = {
  schema: shellConfig,
  description: 'run a command; output { code, stdout, stderr }',
  create(raw, info) {
    const cfg = shellConfig.parse(raw);
    const cwd = resolve(info.baseDir, cfg.cwd ?? '.');
    return (ctx: NodeContext) => runCommand(cfg, cwd, ctx);
  },
};

function runCommand(cfg: z.output<typeof shellConfig>, cwd: string, ctx: NodeContext): Promise<ShellOutput> {
  return new Promise((res, rej) => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...cfg.env, AETHERFLOW_RUN_ID: ctx.runId, AETHERFLOW_NODE: ctx.node };
    if (ctx.workDir) env.AETHERFLOW_WORK_DIR = ctx.workDir;
    const child = spawn(cfg.command, cfg.args, { cwd, env, stdio: [cfg.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out = capture(cfg.max_output_bytes), err = capture(cfg.max_output_bytes);
    child.stdout!.on('data', out.push);
    child.stderr!.on('data', err.push);
    if (cfg.stdin !== undefined) child.stdin!.end(cfg.stdin);
    let failure: Error | undefined;
    const kill = (e: Error) => {
      if (failure) return;
      failure = e;
      child.kill('SIGTERM');
      // A command that ignores SIGTERM gets SIGKILL a moment later.
      setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), 2000).unref();
    };
    const timer = cfg.timeout_ms ? setTimeout(() => kill(new NodeTimeoutError(ctx.node, cfg.timeout_ms!)), cfg.timeout_ms) : undefined;
    const onAbort = () => kill(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error(String(ctx.signal.reason)));
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
    const cmdline = [cfg.command, ...cfg.args].join(' ');
    child.on('error', (e) => { failure ??= e; });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      const output = { code: code ?? -1, stdout: out.text(), stderr: err.text() };
      const ok = !failure && code !== null && cfg.ok_codes.includes(code);
      if (ok) { res(output); return; }
      if (output.stdout) ctx.log(`stdout:\n${output.stdout}`);
      if (output.stderr) ctx.log(`stderr:\n${output.stderr}`);
      rej(failure ?? new ShellExitError(cmdline, code, signal, output.stderr));
    });
  });
}

function capture(limit: number) {
  const chunks: Buffer[] = [];
  let size = 0, dropped = 0;
  return {
    push: (b: Buffer) => {
      if (size >= limit) { dropped += b.length; return; }
      const take = b.subarray(0, limit - size);
      chunks.push(take);
      size += take.length;
      dropped += b.length - take.length;
    },
    text: () => Buffer.concat(chunks).toString('utf8') + (dropped ? `\n[… ${dropped} bytes dropped]` : ''),
  };
}
