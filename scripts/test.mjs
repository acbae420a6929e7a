#!/usr/bin/env node
// Runs the uvu suite (TypeScript through tsx's loader, inherited by worker threads),
// echoes uvu's own output, then prints one plain closing line: "N passed, N failed".
// Exit code: non-zero when any test failed or uvu itself failed.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = ['--import', 'tsx', join(root, 'node_modules/uvu/bin.js'), 'test', '\\.test\\.ts$', ...process.argv.slice(2)];
const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
let out = '';
child.stdout.on('data', (b) => { out += b; process.stdout.write(b); });
child.on('close', (code) => {
  // uvu's summary: "Total: N", "Passed: N", "Skipped: N" (ANSI colours stripped first).
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '');
  const num = (label) => { const m = plain.match(new RegExp(label + ':\\s+(\\d+)')); return m ? Number(m[1]) : NaN; };
  const total = num('Total'), passed = num('Passed'), skipped = num('Skipped') || 0;
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    console.log('0 passed, 1 failed');
    console.error('test runner: uvu printed no summary (exit code ' + code + ')');
    process.exit(1);
  }
  const failed = total - passed - skipped;
  console.log(`${passed} passed, ${failed} failed` + (skipped ? `, ${skipped} skipped` : ''));
  process.exit(failed > 0 || code !== 0 ? 1 : 0);
});
