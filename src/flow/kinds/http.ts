/**
 * `http` nodes: fetch with a per-attempt timeout and retries with backoff on network errors, 5xx and
 * 429 (4xx other than 429 fail at once: retrying will not fix the request). The run's cancel aborts
 * the request in flight. Output: `{ status, contentType, body }` (body parsed as JSON when the
 * response says so, else text).
 */
import { z } from 'zod';
import { HttpStatusError } from '../../errors.js';
import type { NodeContext } from '../node-context.js';
import type { TaskType } from '../registry.js';

export const httpConfig = z.strictObject({
  url: z.url(),
  method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  /** A string is sent as is; anything else as JSON. */
  body: z.unknown().optional(),
  timeout_ms: z.number().int().positive().default(30_000),
  retries: z.number().int().min(0).default(2),
  retry_delay_ms: z.number().int().min(0).default(200),
  /** How to read the body: by content-type (default), or force. */
  response: z.enum(['auto', 'json', 'text']).default('auto'),
});
export type HttpConfig = z.input<typeof httpConfig>;

export interface HttpOutput {
  status: number;
  contentType: string;
  body: unknown;
}

export const httpTask: TaskType<z.output<typeof httpConfig>> = {
  schema: httpConfig,
  description: 'fetch a URL with timeout and retries; output { status, contentType, body }',
  create(raw) {
    const cfg = httpConfig.parse(raw);
    return (ctx: NodeContext) => request(cfg, ctx);
  },
};

const sleep = (ms: number, signal: AbortSignal) => new Promise<void>((res, rej) => {
  const t = setTimeout(res, ms);
  signal.addEventListener('abort', () => { clearTimeout(t); rej(signal.reason); }, { once: true });
});

async function request(cfg: z.output<typeof httpConfig>, ctx: NodeContext): Promise<HttpOutput> {
  const headers = { ...cfg.headers };
  let body: string | undefined;
  if (cfg.body !== undefined) {
    body = typeof cfg.body === 'string' ? cfg.body : JSON.stringify(cfg.body);
    if (typeof cfg.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
  }
  let last: unknown;
  for (let attempt = 0; attempt <= cfg.retries; attempt++) {
    if (attempt > 0) {
      ctx.log(`retry ${attempt}/${cfg.retries} after: ${(last as Error)?.message ?? last}`);
      await sleep(cfg.retry_delay_ms * 2 ** (attempt - 1), ctx.signal);
    }
    const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(cfg.timeout_ms)]);
    let res: Response;
    try {
      res = await fetch(cfg.url, { method: cfg.method, headers, body, signal });
    } catch (e) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      last = (e as Error)?.name === 'TimeoutError' ? new Error(`${cfg.url}: no answer within ${cfg.timeout_ms} ms`) : e;
      continue;
    }
    const contentType = res.headers.get('content-type') ?? '';
    const text = await res.text();
    if (res.ok) {
      const json = cfg.response === 'json' || (cfg.response === 'auto' && /\bjson\b/.test(contentType));
      return { status: res.status, contentType, body: json && text ? JSON.parse(text) : text };
    }
    last = new HttpStatusError(cfg.url, res.status, text);
    if (res.status < 500 && res.status !== 429) break;
  }
  throw last;
}
