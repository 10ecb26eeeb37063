import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { MeshMetrics } from '../../src/mesh/metrics.js';

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

test('metrics are served in the Prometheus text format with the mesh counters and histograms', async () => {
  const m = new MeshMetrics();
  m.symbolsStored.inc(5);
  m.refusals.inc({ reason: 'zone' });
  m.retrieveSeconds.observe(0.012);
  const server = await m.serve('127.0.0.1', 0);
  try {
    const r = await get(server.port, '/metrics');
    assert.equal(r.status, 200);
    assert.match(r.body, /^fcp_symbols_stored_total 5$/m);
    assert.match(r.body, /^fcp_refusals_total\{reason="zone"\} 1$/m);
    assert.match(r.body, /^fcp_retrieve_seconds_bucket\{le="0.025"\} 1$/m);
    for (const name of ['fcp_bytes_stored_total', 'fcp_symbols_served_total', 'fcp_bytes_served_total', 'fcp_decode_failures_total', 'fcp_symbol_auth_failures_total', 'fcp_bad_frames_total', 'fcp_store_seconds']) {
      assert.match(r.body, new RegExp(`^# TYPE ${name} `, 'm'));
    }
    assert.equal((await get(server.port, '/other')).status, 404);
  } finally {
    await server.close();
  }
});
