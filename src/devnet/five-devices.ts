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

/**
 * The same five devices on 127.77.<subnet>.1-5, so several dev meshes (test files, a demo, a
 * benchmark) can run on one machine at once without their addresses colliding.
 */
export function fiveDevicesOn(subnet: number, overrides: Partial<Record<string, { path?: 'direct' | 'derp' | 'peer-relay' }>> = {}): TailnetDescription {
  if (!Number.isInteger(subnet) || subnet < 0 || subnet > 255) throw new RangeError(`subnet must be 0..255, got ${subnet}`);
  return { ...FIVE_DEVICES, nodes: FIVE_DEVICES.nodes.map((n, i) => ({ ...n, ...(overrides[n.name] ?? {}), address: `127.77.${subnet}.${i + 1}` })) };
}
