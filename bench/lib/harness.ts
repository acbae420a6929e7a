/**
 * Shared benchmark harness: every suite describes cases with one function per implementation;
 * this runs them side by side in one process with tinybench, checks that the implementations
 * agree before timing them, prints medians and ratios (ours / theirs), and writes
 * bench/results/<suite>.json (the long format of DESIGN.md) plus an SVG chart of the ratios.
 */
import { Bench } from 'tinybench';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cpus } from 'node:os';

export interface Impl {
  run: () => unknown;
  /** Optional result normalizer for the agreement check (default: the value itself). */
  value?: () => unknown;
}

export interface Case {
  name: string;
  impls: Record<string, () => unknown>;
  /** Compare results of the implementations once before timing (default true). */
  check?: boolean;
  /** Relative tolerance for numeric agreement. */
  tolerance?: number;
}

export interface Row {
  case: string;
  impl: string;
  median_ms: number;
  p99_ms: number;
  samples: number;
  [extra: string]: number | string;
}

export interface SuiteOptions {
  /** Time budget per task in ms (tinybench `time`). */
  time?: number;
  /** Minimum iterations per task. */
  iterations?: number;
  /** The implementation the ratios are relative to. */
  ours?: string;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function agree(a: unknown, b: unknown, tol: number): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as bigint) === BigInt(b as bigint);
  if (typeof a === 'number' && typeof b === 'number') {
    if (Number.isNaN(a) && Number.isNaN(b)) return true;
    return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1);
  }
  return JSON.stringify(a) === JSON.stringify(b);
}

export async function runCases(suite: string, cases: Case[], opts: SuiteOptions = {}): Promise<Row[]> {
  const ours = opts.ours ?? 'aetherflow';
  const rows: Row[] = [];
  for (const c of cases) {
    if (c.check !== false) {
      const results = Object.entries(c.impls).map(([impl, f]) => [impl, f()] as const);
      const [refName, ref] = results[0];
      for (const [impl, r] of results.slice(1)) {
        if (r === undefined) continue; // side-effect-only impl (e.g. memcpy)
        if (!agree(ref, r, c.tolerance ?? 1e-9)) {
          throw new Error(`${c.name}: ${impl} disagrees with ${refName}: ${String(r)} vs ${String(ref)}`);
        }
      }
    }
    const bench = new Bench({ time: opts.time ?? 1500, iterations: opts.iterations ?? 15, warmupIterations: 3 });
    for (const [impl, f] of Object.entries(c.impls)) bench.add(impl, f);
    await bench.run();
    for (const t of bench.tasks) {
      const r = t.result as { state: string; latency?: { p50: number; p99: number; samplesCount: number } };
      if (r.state !== 'completed' || !r.latency) throw new Error(`${c.name}/${t.name}: ${r.state}`);
      rows.push({ case: c.name, impl: t.name, median_ms: round(r.latency.p50), p99_ms: round(r.latency.p99), samples: r.latency.samplesCount });
    }
    printCase(c.name, rows.filter((r) => r.case === c.name), ours);
  }
  return rows;
}

function round(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function printCase(name: string, rows: Row[], ours: string): void {
  const base = rows.find((r) => r.impl === ours);
  console.log(`\n${name}`);
  console.log(`  ${'impl'.padEnd(22)}${'median ms'.padStart(12)}${'p99 ms'.padStart(12)}${'ours/theirs'.padStart(14)}${'speed-up'.padStart(11)}`);
  for (const r of rows) {
    const ratio = base ? base.median_ms / r.median_ms : NaN;
    console.log(
      `  ${r.impl.padEnd(22)}${r.median_ms.toFixed(3).padStart(12)}${r.p99_ms.toFixed(3).padStart(12)}` +
        `${(r.impl === ours ? '—' : ratio.toFixed(3)).padStart(14)}${(r.impl === ours ? '' : (1 / ratio).toFixed(2) + '×').padStart(11)}`,
    );
  }
}

/** Writes bench/results/<suite>.json and <suite>.svg. */
export function writeResults(suite: string, rows: Row[], ours = 'aetherflow'): string {
  const dir = join(root, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const doc = { suite, date: new Date().toISOString(), node: process.version, cpus: cpus().length, rows };
  const file = join(dir, `${suite}.json`);
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  writeFileSync(join(dir, `${suite}.svg`), svgChart(suite, rows, ours));
  console.log(`\nwrote ${file}`);
  return file;
}

/** A bar per (case, impl): speed relative to ours (log2 scale, ours = 1). */
export function svgChart(suite: string, rows: Row[], ours: string): string {
  const cases = [...new Set(rows.map((r) => r.case))];
  const barH = 14, gap = 8, left = 260, width = 760, scale = 60; // px per doubling
  const lines: string[] = [];
  let y = 40;
  const mid = left + 240;
  for (const c of cases) {
    const rs = rows.filter((r) => r.case === c);
    const base = rs.find((r) => r.impl === ours)?.median_ms;
    lines.push(`<text x="8" y="${y + 10}" font-weight="bold">${esc(c)}</text>`);
    y += 16;
    for (const r of rs) {
      const speed = base ? r.median_ms / base : 1; // >1: theirs slower than ours
      const w = Math.max(-220, Math.min(240, Math.log2(speed) * scale));
      const x = w >= 0 ? mid : mid + w;
      const fill = r.impl === ours ? '#2b7' : w >= 0 ? '#79c' : '#d65';
      lines.push(`<text x="20" y="${y + 11}">${esc(r.impl)} — ${r.median_ms.toFixed(2)} ms</text>`);
      lines.push(`<rect x="${x}" y="${y}" width="${Math.max(1, Math.abs(w))}" height="${barH}" fill="${fill}"/>`);
      lines.push(`<text x="${mid + 248}" y="${y + 11}">${r.impl === ours ? 'ours' : speed.toFixed(2) + '× ours'}</text>`);
      y += barH + 4;
    }
    y += gap;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width + 100}" height="${y + 20}" font-family="sans-serif" font-size="11">
<text x="8" y="20" font-size="14">${esc(suite)}: median time relative to ${esc(ours)} (bar right = theirs slower; log scale)</text>
<line x1="${mid}" y1="30" x2="${mid}" y2="${y}" stroke="#333"/>
${lines.join('\n')}
</svg>
`;
}

function esc(s: string): string {
  return s.replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[ch] as string);
}
