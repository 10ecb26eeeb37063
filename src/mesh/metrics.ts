// Prometheus metrics of one mesh node (own registry, so several nodes can live in one process).
import http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class MeshMetrics {
  readonly registry = new Registry();
  readonly symbolsStored = new Counter({ name: 'fcp_symbols_stored_total', help: 'Symbols this device accepted for storage', registers: [this.registry] });
  readonly bytesStored = new Counter({ name: 'fcp_bytes_stored_total', help: 'Envelope bytes this device accepted for storage', registers: [this.registry] });
  readonly symbolsServed = new Counter({ name: 'fcp_symbols_served_total', help: 'Symbols this device sent to peers', registers: [this.registry] });
  readonly bytesServed = new Counter({ name: 'fcp_bytes_served_total', help: 'Envelope bytes this device sent to peers', registers: [this.registry] });
  readonly decodeFailures = new Counter({ name: 'fcp_decode_failures_total', help: 'Retrievals that could not decode', registers: [this.registry] });
  readonly symbolAuthFailures = new Counter({ name: 'fcp_symbol_auth_failures_total', help: 'Symbols dropped because their AEAD tag failed', registers: [this.registry] });
  readonly refusals = new Counter({ name: 'fcp_refusals_total', help: 'Connections or requests refused', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly badFrames = new Counter({ name: 'fcp_bad_frames_total', help: 'Connections closed for a malformed frame', registers: [this.registry] });
  readonly requestsSent = new Counter({ name: 'fcp_requests_sent_total', help: 'Requests (round trips) this device made of peers, by message type', labelNames: ['type'] as const, registers: [this.registry] });
  readonly retrieveSeconds = new Histogram({
    name: 'fcp_retrieve_seconds',
    help: 'Latency of object retrievals',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly storeSeconds = new Histogram({
    name: 'fcp_store_seconds',
    help: 'Latency of object stores',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  withProcessMetrics(): this {
    collectDefaultMetrics({ register: this.registry });
    return this;
  }

  /** Serves /metrics on a local address; returns the bound port. */
  serve(host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server = http.createServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry
        .metrics()
        .then((body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body))
        .catch((err: Error) => res.writeHead(500).end(err.message));
    });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        const addr = server.address();
        resolve({
          port: addr && typeof addr === 'object' ? addr.port : port,
          close: () => new Promise<void>((r) => server.close(() => r())),
        });
      });
    });
  }
}
