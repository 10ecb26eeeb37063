// The serve-config edits behind `fcp funnel on|off`: pure functions over tailscaled's JSON, which
// must keep whatever they did not make.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpointState, withEndpoint, withoutEndpoint } from '../../src/tailscale/index.js';

const host = 'laptop.example.ts.net';
const gateway = 'http://127.0.0.1:9477';

test('on adds HTTPS, the / proxy and AllowFunnel, keeping other ports, handlers and fields', () => {
  const before = { TCP: { '8443': { HTTPS: true } }, Web: { [`${host}:8443`]: { Handlers: { '/': { Proxy: 'http://127.0.0.1:3000' } } }, [`${host}:443`]: { Handlers: { '/status': { Text: 'ok' } } } }, Services: { 'svc:x': {} } };
  const on = withEndpoint(before, { host, port: 443, proxy: gateway, funnel: true });
  assert.deepEqual(on.TCP, { '8443': { HTTPS: true }, '443': { HTTPS: true } });
  assert.deepEqual((on.Web as Record<string, unknown>)[`${host}:443`], { Handlers: { '/status': { Text: 'ok' }, '/': { Proxy: gateway } } });
  assert.deepEqual(on.AllowFunnel, { [`${host}:443`]: true });
  assert.deepEqual(on.Services, { 'svc:x': {} });
  assert.deepEqual(endpointState(on, host, 443), { proxy: gateway, funnel: true });
  assert.deepEqual(endpointState(before, host, 443), { proxy: null, funnel: false }, 'the input is not changed');
});

test('off closes Funnel on the port, removes only this gateway\'s handler, and the port once unused', () => {
  const on = withEndpoint(null, { host, port: 443, proxy: gateway, funnel: true });
  assert.deepEqual(withoutEndpoint(on, host, 443, gateway), {});
  // Someone else's handler on that port: Funnel closes, their handler and the port stay.
  const theirs = withEndpoint(null, { host, port: 443, proxy: 'http://127.0.0.1:3000', funnel: true });
  const off = withoutEndpoint(theirs, host, 443, gateway);
  assert.equal(off.AllowFunnel, undefined);
  assert.deepEqual(endpointState(off, host, 443), { proxy: 'http://127.0.0.1:3000', funnel: false });
  assert.deepEqual(off.TCP, { '443': { HTTPS: true } });
  // Nothing there at all: nothing changes.
  assert.deepEqual(withoutEndpoint(null, host, 443, gateway), {});
});
