/**
 * Seeing a flow: Mermaid and Graphviz DOT exports (optionally coloured by a run's node states), and a
 * plain-text run summary table (what the CLI prints at the end).
 */
import type { Flow, Outputs } from './builder.js';
import type { Run } from './run.js';
import { DepKind, type NodeStateName } from './types.js';

const MERMAID_CLASS: Record<NodeStateName, string> = {
  PENDING: 'fill:#eee,stroke:#999', READY: 'fill:#eef,stroke:#66c', RUNNING: 'fill:#ffd,stroke:#cc0',
  COMPLETED: 'fill:#dfd,stroke:#393', FAILED: 'fill:#fdd,stroke:#c33', SKIPPED: 'fill:#f4f4f4,stroke:#bbb,stroke-dasharray:4',
  CANCELLED: 'fill:#fed,stroke:#c93',
};
const DOT_COLOR: Record<NodeStateName, string> = {
  PENDING: 'gray90', READY: 'lightblue', RUNNING: 'khaki1', COMPLETED: 'palegreen', FAILED: 'salmon',
  SKIPPED: 'gray97', CANCELLED: 'orange',
};

/** Mermaid ids must be plain words; node names may be anything. */
const mid = (i: number) => `n${i}`;
const quote = (s: string) => s.replace(/"/g, '#quot;');

export function toMermaid<O extends Outputs>(flow: Flow<O>, run?: Run<O>): string {
  const lines = ['flowchart TD'];
  for (const i of flow.order) {
    const d = flow.nodes[i];
    const label = d.kind === 'function' ? d.name : `${d.name}<br/><small>${d.kind}</small>`;
    lines.push(`  ${mid(i)}["${quote(label)}"]`);
  }
  for (const v of flow.order) {
    for (let e = flow.inOff[v]; e < flow.inOff[v + 1]; e++) {
      const u = flow.inIdx[e];
      const k = flow.inKind[e];
      const arrow = k === DepKind.OPTIONAL ? '-.->|optional|' : k === DepKind.CONDITIONAL ? '-->|when|' : '-->';
      lines.push(`  ${mid(u)} ${arrow} ${mid(v)}`);
    }
  }
  if (run) {
    const used = new Set<NodeStateName>();
    for (const i of flow.order) {
      const s = run.nodeState(flow.nodes[i].name);
      used.add(s);
      lines.push(`  class ${mid(i)} ${s.toLowerCase()}`);
    }
    for (const s of used) lines.push(`  classDef ${s.toLowerCase()} ${MERMAID_CLASS[s]}`);
  }
  return lines.join('\n') + '\n';
}

const dotId = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;

export function toDot<O extends Outputs>(flow: Flow<O>, run?: Run<O>): string {
  const lines = [`digraph ${dotId(flow.name)} {`, '  rankdir=TB;', '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];'];
  for (const i of flow.order) {
    const d = flow.nodes[i];
    const attrs = [`label=${dotId(d.kind === 'function' ? d.name : `${d.name}\n(${d.kind})`)}`];
    if (run) attrs.push(`fillcolor=${DOT_COLOR[run.nodeState(d.name)]}`);
    lines.push(`  ${dotId(d.name)} [${attrs.join(', ')}];`);
  }
  for (const v of flow.order) {
    for (let e = flow.inOff[v]; e < flow.inOff[v + 1]; e++) {
      const k = flow.inKind[e];
      const attr = k === DepKind.OPTIONAL ? ' [style=dashed, label="optional"]' : k === DepKind.CONDITIONAL ? ' [label="when"]' : '';
      lines.push(`  ${dotId(flow.nodes[flow.inIdx[e]].name)} -> ${dotId(flow.nodes[v].name)}${attr};`);
    }
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

export const fmtMs = (ms: number | undefined): string =>
  ms === undefined || ms !== ms ? '-' : ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`;

/** A fixed-width table: node, type, state, attempts, queued, duration, note (error or skip reason). */
export function summaryTable<O extends Outputs>(run: Run<O>, maxRows = 200): string {
  const rows = run.nodes();
  const head = ['node', 'type', 'state', 'tries', 'queued', 'time', 'note'];
  const body = rows.slice(0, maxRows).map((r) => [
    r.name, r.kind, r.state, String(r.attempts), fmtMs(r.queuedMs), fmtMs(r.durationMs),
    r.error !== undefined ? oneLine(r.error) : r.reason ?? '',
  ]);
  const widths = head.map((h, c) => Math.min(c === 6 ? 80 : 40, Math.max(h.length, ...body.map((b) => b[c].length))));
  const line = (cells: string[]) => cells.map((x, c) => (x.length > widths[c] ? x.slice(0, widths[c] - 1) + '…' : x.padEnd(widths[c]))).join('  ').trimEnd();
  const out = [line(head), widths.map((w) => '─'.repeat(w)).join('  '), ...body.map(line)];
  if (rows.length > maxRows) out.push(`… ${rows.length - maxRows} more nodes`);
  const c = run.counts();
  const counts = Object.entries(c).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s.toLowerCase()}`).join(', ');
  out.push('', `run ${run.id} ${run.state.toUpperCase()} in ${fmtMs(run.durationMs)} — ${counts}` +
    (run.resumed ? ` (${run.resumed} resumed)` : ''));
  return out.join('\n');
}

export function oneLine(e: unknown): string {
  const s = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return s.replace(/\s+/g, ' ');
}
