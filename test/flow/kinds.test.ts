import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import {
  flow, Container, registerTaskType, configureScriptPool, closeScriptPool, type ShellOutput, type HttpOutput,
} from '../../src/flow/index.js';
import { FlowValidationError, HttpStatusError, NodeTimeoutError, ShellExitError, UnknownTaskTypeError } from '../../src/errors.js';

const here = dirname(fileURLToPath(import.meta.url));

test('shell: args, captured stdout/stderr, env', async () => {
  const f = flow('sh').task('echo', 'shell', {
    command: process.execPath,
    args: ['-e', 'process.stdout.write(process.argv[1] + ":" + process.env.AETHERFLOW_NODE); process.stderr.write("warn")', 'hello world'],
  }).build();
  const r = await f.run();
  assert.is(r.state, 'completed', String(r.error));
  assert.equal(r.output('echo') as ShellOutput, { code: 0, stdout: 'hello world:echo', stderr: 'warn' });
});

test('shell: non-zero exit fails with ShellExitError, logs kept; ok_codes', async () => {
  const r = await flow('sh2').task('bad', 'shell', { command: process.execPath, args: ['-e', 'console.log("out"); console.error("broken pipe"); process.exit(3)'] }).build().run();
  assert.is(r.nodeState('bad'), 'FAILED');
  const e = r.nodeError('bad') as ShellExitError;
  assert.instance(e, ShellExitError);
  assert.is(e.exitCode, 3);
  assert.match(e.message, /exited with code 3: broken pipe/);
  assert.equal(r.node('bad').logs, ['stdout:\nout\n', 'stderr:\nbroken pipe\n']);
  const ok = await flow('sh3').task('three', 'shell', { command: process.execPath, args: ['-e', 'process.exit(3)'], ok_codes: [0, 3] }).build().run();
  assert.is((ok.output('three') as ShellOutput).code, 3);
});

test('shell: timeout kills the command', async () => {
  const t0 = performance.now();
  const r = await flow('sh4').task('slow', 'shell', { command: process.execPath, args: ['-e', 'setTimeout(() => {}, 10000)'], timeout_ms: 150 }).build().run();
  assert.instance(r.nodeError('slow'), NodeTimeoutError);
  assert.ok(performance.now() - t0 < 5000);
});

test('shell: a bad config is refused when the flow is built', () => {
  try {
    flow('sh5').task('x', 'shell', { command: 'ls', arg: [] });
    assert.unreachable();
  } catch (e) {
    assert.match(String(e), /arg/);
  }
});

let server: Server;
let base = '';
let flaky = 0;
test.before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/json') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ ok: 1, method: req.method })); return; }
    if (req.url === '/echo') { let b = ''; req.on('data', (c) => (b += c)); req.on('end', () => { res.setHeader('content-type', 'application/json'); res.end(b); }); return; }
    if (req.url === '/flaky') { if (flaky++ < 2) { res.statusCode = 503; res.end('busy'); } else res.end('finally'); return; }
    if (req.url === '/slow') { setTimeout(() => res.end('late'), 2000).unref(); return; }
    res.statusCode = 404; res.end('no such thing');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await closeScriptPool();
});

test('http: JSON GET, JSON POST body', async () => {
  const r = await flow('h').task('get', 'http', { url: `${base}/json` })
    .task('post', 'http', { url: `${base}/echo`, method: 'POST', body: { a: [1, 2] } }).build().run();
  assert.is(r.state, 'completed', String(r.error));
  assert.equal((r.output('get') as HttpOutput).body, { ok: 1, method: 'GET' });
  assert.equal((r.output('post') as HttpOutput).body, { a: [1, 2] });
});

test('http: retries on 503, fails fast on 404, times out', async () => {
  flaky = 0;
  const r = await flow('h2')
    .task('flaky', 'http', { url: `${base}/flaky`, retries: 3, retry_delay_ms: 1 })
    .task('missing', 'http', { url: `${base}/nope`, retries: 3, retry_delay_ms: 1 })
    .task('slow', 'http', { url: `${base}/slow`, timeout_ms: 50, retries: 1, retry_delay_ms: 1 })
    .build().run();
  assert.is((r.output('flaky') as HttpOutput).body, 'finally');
  assert.is(flaky, 3);
  const e = r.nodeError('missing') as HttpStatusError;
  assert.instance(e, HttpStatusError);
  assert.is(e.status, 404);
  assert.is(r.node('missing').logs, undefined); // no retry for a 4xx
  assert.match(String(r.nodeError('slow')), /no answer within 50 ms/);
  assert.is(r.node('slow').logs!.length, 1);
});

test('script: runs on a warm piscina thread with the shared memory and a shared counter', async () => {
  const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
  await configureScriptPool({ threads: 2, memory });
  const c = new Container();
  const hits = c.sharedCounter('hits');
  const b = flow('sc').baseDir(here)
    .node('make', () => [1, 2, 3, 4])
    .task('s1', 'script', { module: '../fixtures/flow/script-node.mjs', params: { scale: 10 } }, { after: ['make'], inject: ['hits'] })
    .task('s2', 'script', { module: '../fixtures/flow/script-node.mjs' }, { after: ['make'], inject: ['hits'] })
    .task('s3', 'script', { module: '../fixtures/flow/script-node.mjs', export: 'fail' }, { after: ['make'] });
  const r = await b.build({ container: c }).run();
  assert.equal(r.output('s1'), { sum: 100, shared: true, worker: true });
  assert.equal(r.output('s2'), { sum: 10, shared: true, worker: true });
  assert.match(String(r.nodeError('s3')), /script says no/);
  assert.is(hits.get(), 8);
  assert.is(new Int32Array(memory.buffer)[0], 2); // both workers wrote into the same memory
});

test('custom task types via registerTaskType; unknown type; query needs the engine', async () => {
  registerTaskType('double', { create: (cfg: { x: number }) => () => cfg.x * 2 });
  const r = await flow('ct').task('d', 'double', { x: 21 }).build().run();
  assert.is(r.output('d'), 42);
  assert.throws(() => flow('u').task('x', 'nosuch', {}), (e: unknown) => e instanceof UnknownTaskTypeError && /known: .*double/.test(String(e)));
  // query nodes inject the engine: a flow without an `engine` provider is rejected when built.
  assert.throws(() => flow('q').node('a', () => 1).task('x', 'query', { source: 'a' }, { after: ['a'] }).build(),
    (e: unknown) => e instanceof FlowValidationError && /injects 'engine', which no provider supplies/.test(String(e)));
});

test.run();
