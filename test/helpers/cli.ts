/**
 * The aetherflow CLI as a child process, for tests that kill it and resume: it runs from source
 * (through tsx) in its own process group, so a SIGKILL of the group takes the CLI and the command
 * it is running — like kill -9 of a job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(new URL('.', import.meta.url).pathname, '../..');

export interface Exit { code: number | null; signal: string | null; stdout: string; stderr: string }

export function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...args], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Everything p writes, and how it ended. */
export function finish(p: ChildProcess): Promise<Exit> {
  let stdout = '', stderr = '';
  p.stdout!.on('data', (b) => (stdout += b));
  p.stderr!.on('data', (b) => (stderr += b));
  return new Promise((res) => p.on('close', (code, signal) => res({ code, signal, stdout, stderr })));
}

/** SIGKILLs p's process group as soon as its output matches `when`; resolves then. */
export function killWhen(p: ChildProcess, when: RegExp): Promise<void> {
  let seen = '';
  return new Promise<void>((res) => p.stdout!.on('data', (b) => {
    seen += b;
    if (when.test(seen)) { process.kill(-p.pid!, 'SIGKILL'); res(); }
  }));
}

/** The run id from the CLI's first line ("run <id> started: …"). */
export const runIdOf = (out: string): string => /^run ([\w-]+) /.exec(out)![1];

/** A run directory's files, without temporaries, sorted. */
export const outputFiles = (d: string): string[] => readdirSync(d).filter((f) => !f.endsWith('.tmp')).sort();
