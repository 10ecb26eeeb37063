// Before fcpd opens its store: its data directory to itself, and tailscaled up and usable. The
// states tailscaled passes through by itself are waited out with a clear line each; NeedsLogin
// says to log in; userspace networking is refused with what to do (see docs/tailscale.md).
import type { Logger } from 'pino';
import { LocalApiClient, waitForRunning, type TailscaleStatus } from '../tailscale/index.js';
import type { DeviceConfig } from './config.js';
import { acquireDataLock, type DataLock } from './data-lock.js';

export interface Booted {
  lock: DataLock;
  status: TailscaleStatus;
}

export async function boot(cfg: DeviceConfig, log: Logger, signal?: AbortSignal): Promise<Booted> {
  const lock = await acquireDataLock(cfg.dataDir);
  try {
    const client = new LocalApiClient(cfg.tailscaleSocket ? { socketPath: cfg.tailscaleSocket } : {});
    const status = await waitForRunning(client, {
      ...(signal ? { signal } : {}),
      ...(cfg.bootTimeoutMs ? { timeoutMs: cfg.bootTimeoutMs } : {}),
      onCondition: (c) =>
        log.warn({ tailscaled: c.state, ...(c.authUrl ? { authUrl: c.authUrl } : {}) }, `waiting for tailscaled (${c.state}): ${c.advice}`),
    });
    return { lock, status };
  } catch (err) {
    await lock.release();
    throw err;
  }
}
