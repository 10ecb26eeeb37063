// The standard five-device dev tailnet used by the demo, the integration tests and the benchmarks.
import type { TailnetDescription } from '../tailscale/emulator/index.js';

export const FIVE_DEVICES: TailnetDescription = {
  tailnet: 'sovereign.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1 },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 2 },
    { name: 'desktop', tags: ['tag:fcp-private'], os: 'windows', path: 'direct', latencyMs: 3 },
    { name: 'worklaptop', tags: ['tag:fcp-work'], os: 'linux', path: 'direct', latencyMs: 4 },
    { name: 'phone', tags: ['tag:fcp-owner'], os: 'iOS', path: 'derp', latencyMs: 30 },
  ],
};
