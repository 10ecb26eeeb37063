// The connector host with real child processes: start, invoke, schema checks, crashes restarted
// with backoff (seen in state events), bad output confined to its connector, deadlines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConnectorHost, HubError, loadManifest, RestartBudget } from '../../src/hub/index.js';
import { ctx, memoryLog, testManifest, waitForState } from './helpers.js';

const code = (re: string) => (e: unknown) => e instanceof HubError && e.code === re;

test('manifest errors name the field', () => {
  const m = testManifest();
  (m.operations[2] as { risk: string }).risk = 'scary';
  assert.throws(() => loadManifest(m), (e: unknown) => e instanceof HubError && e.code === 'HUB_BAD_MANIFEST' && e.message.includes('operations[2].risk must be one of safe, risky, dangerous'));
  assert.throws(() => loadManifest({ ...testManifest(), zone: undefined }), /zone is required/);
  assert.throws(() => loadManifest({ ...testManifest(), colour: 'red' }), /colour is not a known field/);
  assert.throws(() => loadManifest({ ...testManifest(), secrets: [{ name: 'k', deliver: 'egress', hosts: ['api.example.com'] }] }), /secrets\[0\]\.hosts\[0\] api\.example\.com is not in egress\.allow/);
});

test('restart budget: 0.5 s doubling, at most 5 in the window', () => {
  const b = new RestartBudget({ initialDelayMs: 500, maxDelayMs: 60_000, maxRestarts: 5, windowMs: 300_000 });
  assert.deepEqual([0, 1, 2, 3, 4].map((i) => b.next(i)), [500, 1000, 2000, 4000, 8000]);
  assert.equal(b.next(5), null);
  assert.equal(b.next(600_000), 500); // all of them left the window
});

test('invoke, input schema, unknown operation, connector errors', async (t) => {
  const host = new ConnectorHost({ hostName: 'dev1', log: memoryLog() });
  t.after(() => host.stopAll());
  await host.start(testManifest());
  assert.equal(host.status()[0]!.state, 'ready');
  const r = (await host.invoke('testc', 'echo', { msg: 'hi' }, ctx())) as { echo: { msg: string }; pid: number };
  assert.equal(r.echo.msg, 'hi');
  assert.equal(r.pid, host.status()[0]!.pid);
  await assert.rejects(host.invoke('testc', 'echo', { msg: 3 }, ctx()), (e: unknown) => e instanceof HubError && e.code === 'HUB_BAD_INPUT' && e.message.includes('input.msg must be string'));
  await assert.rejects(host.invoke('testc', 'nope', {}, ctx()), code('HUB_UNKNOWN_OPERATION'));
  await assert.rejects(host.invoke('other', 'echo', {}, ctx()), code('HUB_CONNECTOR_NOT_FOUND'));
  await assert.rejects(host.invoke('testc', 'fail', {}, ctx()), (e: unknown) => e instanceof HubError && e.code === 'CONNECTOR_NOT_FOUND' && e.exitCode === 4);
});

test('a crash fails its call, restarts with doubling backoff, then fails for good', async (t) => {
  const host = new ConnectorHost({ hostName: 'dev1', log: memoryLog() });
  t.after(() => host.stopAll());
  await host.start(testManifest());
  const pid0 = host.status()[0]!.pid;
  const restarting1 = waitForState(host, (s) => s.state === 'restarting');
  const t1 = Date.now();
  await assert.rejects(host.invoke('testc', 'crash', {}, ctx()), code('HUB_CONNECTOR_CRASHED'));
  const s1 = await restarting1;
  assert.equal(s1.restarts, 1);
  assert.ok(s1.nextStartAt! - t1 >= 450 && s1.nextStartAt! - t1 < 1000, `first delay ~500 ms, got ${s1.nextStartAt! - t1}`);
  await waitForState(host, (s) => s.state === 'ready');
  assert.notEqual(host.status()[0]!.pid, pid0);
  const restarting2 = waitForState(host, (s) => s.state === 'restarting');
  const t2 = Date.now();
  await assert.rejects(host.invoke('testc', 'crash', {}, ctx()), code('HUB_CONNECTOR_CRASHED'));
  const s2 = await restarting2;
  assert.equal(s2.restarts, 2);
  assert.ok(s2.nextStartAt! - t2 >= 950 && s2.nextStartAt! - t2 < 1600, `second delay ~1000 ms, got ${s2.nextStartAt! - t2}`);
  await waitForState(host, (s) => s.state === 'ready');
  assert.deepEqual(await host.invoke('testc', 'echo', { msg: 'back' }, ctx()).then((r) => (r as { echo: unknown }).echo), { msg: 'back' });

  const quick = new ConnectorHost({ hostName: 'dev1', log: memoryLog(), policy: { initialDelayMs: 5, maxDelayMs: 20, maxRestarts: 2, windowMs: 60_000 } });
  t.after(() => quick.stopAll());
  await quick.start(testManifest());
  for (let i = 0; i < 2; i++) {
    await assert.rejects(quick.invoke('testc', 'crash', {}, ctx()), code('HUB_CONNECTOR_CRASHED'));
    await waitForState(quick, (s) => s.state === 'ready');
  }
  const failed = waitForState(quick, (s) => s.state === 'failed');
  await assert.rejects(quick.invoke('testc', 'crash', {}, ctx()), code('HUB_CONNECTOR_CRASHED'));
  assert.equal((await failed).restarts, 2);
  await assert.rejects(quick.invoke('testc', 'echo', { msg: 'x' }, ctx()), code('HUB_CONNECTOR_FAILED'));
});

test('bad output restarts only that connector; deadlines; late replies are dropped', async (t) => {
  const host = new ConnectorHost({ hostName: 'dev1', log: memoryLog(), policy: { initialDelayMs: 10, maxDelayMs: 40, maxRestarts: 10, windowMs: 60_000 }, maxLineBytes: 64 * 1024 });
  t.after(() => host.stopAll());
  await Promise.all([host.start(testManifest('bad')), host.start(testManifest('good'))]);
  const goodPid = host.status().find((s) => s.id === 'good')!.pid;
  for (const op of ['garbage', 'wrongid', 'huge']) {
    const back = waitForState(host, (s) => s.id === 'bad' && s.state === 'ready');
    await assert.rejects(host.invoke('bad', op, {}, ctx()), code('HUB_CONNECTOR_CRASHED'), op);
    const s = await back;
    assert.match(s.lastError ?? '', /protocol violation/, op);
    assert.equal(((await host.invoke('good', 'echo', { msg: op }, ctx())) as { pid: number }).pid, goodPid);
  }
  assert.equal(host.status().find((s) => s.id === 'good')!.restarts, 0);

  // A deadline: the call fails in time; the connector's late reply is dropped, not a violation.
  const pid = host.status().find((s) => s.id === 'good')!.pid;
  await assert.rejects(host.invoke('good', 'sleep', { ms: 300 }, ctx(50)), code('HUB_TIMEOUT'));
  await host.invoke('good', 'sleep', { ms: 400 }, ctx(2_000));
  assert.equal(host.status().find((s) => s.id === 'good')!.pid, pid);
  assert.equal(host.status().find((s) => s.id === 'good')!.restarts, 0);
  await assert.rejects(host.invoke('good', 'echo', { msg: 'late' }, { ...ctx(), deadline: Date.now() - 1 }), code('HUB_TIMEOUT'));
});

test('a program that does not start, or does not speak the protocol, fails its start', async (t) => {
  const host = new ConnectorHost({ hostName: 'dev1', log: memoryLog(), startTimeoutMs: 2_000 });
  t.after(() => host.stopAll());
  await assert.rejects(host.start({ ...testManifest('ghost'), command: '/nonexistent/connector' }), code('HUB_CONNECTOR_FAILED'));
  await assert.rejects(host.start({ ...testManifest('cat'), command: '/bin/echo', args: ['hello'] }), code('HUB_CONNECTOR_FAILED'));
  assert.deepEqual(host.status().map((s) => s.state), ['failed', 'failed']);
});

test('stop sends shutdown and the process exits', async () => {
  const host = new ConnectorHost({ hostName: 'dev1', log: memoryLog() });
  await host.start(testManifest());
  const pid = host.status()[0]!.pid!;
  await host.stop('testc');
  assert.throws(() => process.kill(pid, 0), /ESRCH/);
  assert.equal(host.status().length, 0);
});
