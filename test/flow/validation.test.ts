import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { flow, Container, DepKind } from '../../src/flow/index.js';
import { FlowValidationError } from '../../src/errors.js';

const noop = () => {};

function throwsFlow(f: () => unknown, code: string): FlowValidationError {
  try {
    f();
  } catch (e) {
    assert.instance(e, FlowValidationError);
    assert.is((e as FlowValidationError).code, code);
    return e as FlowValidationError;
  }
  assert.unreachable(`expected ${code}`);
  throw new Error('unreachable');
}

test('a cycle names its path', () => {
  const b = flow('cyc')
    .addNode({ name: 'a', run: noop, deps: [{ node: 'c', kind: DepKind.SEQUENCE }] })
    .addNode({ name: 'b', run: noop, deps: [{ node: 'a', kind: DepKind.SEQUENCE }] })
    .addNode({ name: 'c', run: noop, deps: [{ node: 'b', kind: DepKind.SEQUENCE }] })
    .addNode({ name: 'root', run: noop });
  const e = throwsFlow(() => b.build(), 'ERR_FLOW_CYCLE');
  assert.is(e.nodes.length, 4);
  assert.is(e.nodes[0], e.nodes[3]);
  assert.equal([...e.nodes.slice(0, 3)].sort(), ['a', 'b', 'c']);
  assert.match(e.message, /cycle: \w → \w → \w → \w/);
  // the path follows the edges: each node is a dependency of the next
  const deps: Record<string, string> = { a: 'c', b: 'a', c: 'b' };
  for (let k = 1; k < 4; k++) assert.is(deps[e.nodes[k]], e.nodes[k - 1]);
});

test('a cycle behind a valid prefix, and a self loop', () => {
  const b = flow('cyc2')
    .addNode({ name: 'x', run: noop })
    .addNode({ name: 'y', run: noop, deps: [{ node: 'x', kind: 0 }, { node: 'z', kind: 0 }] })
    .addNode({ name: 'z', run: noop, deps: [{ node: 'y', kind: 0 }] });
  const e = throwsFlow(() => b.build(), 'ERR_FLOW_CYCLE');
  assert.ok(!e.nodes.includes('x'));
  throwsFlow(() => flow('self').addNode({ name: 's', run: noop, deps: [{ node: 's', kind: 0 }] }).build(), 'ERR_FLOW_CYCLE');
});

test('unknown dependency, duplicate name, empty flow', () => {
  const e = throwsFlow(() => flow('u').addNode({ name: 'a', run: noop, deps: [{ node: 'ghost', kind: 0 }] }).build(), 'ERR_FLOW_UNKNOWN_DEP');
  assert.equal(e.nodes, ['a', 'ghost']);
  assert.match(e.message, /'a' depends on unknown node 'ghost'/);
  const d = throwsFlow(() => flow('d').node('a', noop).node('a', noop).build(), 'ERR_FLOW_DUPLICATE_NODE');
  assert.equal(d.nodes, ['a']);
  throwsFlow(() => flow('e').build(), 'ERR_FLOW_INVALID');
});

test('missing providers: at build with a container, at run start without', async () => {
  const b = flow('p').node('a', { inject: ['db'], run: ({ services }) => services.db });
  const e = throwsFlow(() => b.build({ container: new Container().singleton('cache', () => 1) }), 'ERR_FLOW_MISSING_PROVIDER');
  assert.equal(e.nodes, ['a', 'db']);
  assert.match(e.message, /injects 'db'.*known: cache/);
  throwsFlow(() => b.build(), 'ERR_FLOW_MISSING_PROVIDER');
  // providers deferred to the run: checked when the run starts, before any node runs
  const f = b.build({ deferProviders: true });
  const r = await f.run();
  assert.is(r.state, 'failed');
  assert.instance(r.error, FlowValidationError);
  assert.is(r.nodeState('a'), 'CANCELLED');
  // flow-owned provider satisfies it
  const ok = await flow('p2').provide('db', { scope: 'singleton', create: () => 'conn' })
    .node('a', { inject: ['db'], run: ({ services }) => services.db }).build().run();
  assert.is(ok.output('a'), 'conn');
});

test('typed builder: inputs are typed and topological order holds', async () => {
  const f = flow('typed')
    .node('n', () => 21)
    .node('s', () => 'x')
    .node('both', { after: ['n', 's'], run: (c) => `${c.input('s')}${c.input('n') * 2}` })
    .build();
  const r = await f.run();
  assert.is(r.output('both'), 'x42');
  assert.equal(f.depsOf('both'), ['n', 's']);
  const order = Array.from(f.order, (i) => f.nodes[i].name);
  assert.ok(order.indexOf('both') > order.indexOf('n') && order.indexOf('both') > order.indexOf('s'));
});

test('input() of a node that is not a direct dependency throws', async () => {
  const f = flow('nd').node('a', () => 1).node('b', { run: (c: any) => c.input('a') }).build();
  const r = await f.run();
  assert.is(r.nodeState('b'), 'FAILED');
  assert.match(String(r.nodeError('b')), /direct dependency/);
});

test.run();
