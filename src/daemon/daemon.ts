// fcpd: one device's mesh daemon. Runs in the foreground; SIGINT/SIGTERM stop it cleanly.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_MCP } from '../authz/index.js';
import { serviceToolSource } from '../hub/mcp.js';
import { startMcpHttp, type McpHttpServer } from '../hub/mcp-http.js';
import { startDashboardServer, type DashboardServer } from '../dashboard/index.js';
import { DEFAULT_GATEWAY_LIMITS, startGatewayServer, type GatewayServer } from '../gateway/index.js';
import { SovereignMesh } from '../sovereign-mesh.js';
import type { DeviceConfig } from './config.js';
import { startControlServer } from './control-server.js';
import { loadZones } from './zones-file.js';
import { boot } from './boot.js';
import { createDaemonLogger } from './log.js';

export interface RunningDaemon {
  mesh: SovereignMesh;
  stop(): Promise<void>;
  stopped: Promise<void>;
  /** Where the dashboard is served on loopback, when it is on. */
  dashboardUrl: string | null;
}

export const MCP_TOKEN_FILE = 'mcp-token';
/** Written while the dashboard is served: its loopback URL. */
export const DASHBOARD_URL_FILE = 'dashboard-url';
/** Written while the public gateway is served: its loopback URL. */
export const GATEWAY_URL_FILE = 'gateway-url';

/** The bearer token of the MCP endpoint: made once, kept in the data directory (0600). */
export async function mcpToken(dataDir: string): Promise<string> {
  const path = join(dataDir, MCP_TOKEN_FILE);
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    const token = randomBytes(32).toString('base64url');
    await writeFile(path, token + '\n', { mode: 0o600, flag: 'wx' });
    return token;
  }
}

export async function runDaemon(cfg: DeviceConfig): Promise<RunningDaemon> {
  const log = createDaemonLogger();
  await mkdir(cfg.dataDir, { recursive: true });
  const { lock } = await boot(cfg, log);
  let requestStop: () => void = () => undefined;
  const mesh = await SovereignMesh.init({
    dataDir: cfg.dataDir,
    ...(cfg.tailscaleSocket ? { tailscaleSocket: cfg.tailscaleSocket } : {}),
    port: cfg.port,
    zones: loadZones(cfg),
    ...(cfg.quotaBytes !== undefined ? { quotaBytes: cfg.quotaBytes } : {}),
    logger: log,
    repair: cfg.repair,
    ...(cfg.gc.quarantineMs !== undefined ? { gcQuarantineMs: cfg.gc.quarantineMs } : {}),
    ...(cfg.gc.tombstoneTtlMs !== undefined ? { gcTombstoneTtlMs: cfg.gc.tombstoneTtlMs } : {}),
    names: {
      ...(cfg.gc.intervalMs !== undefined ? { gcIntervalMs: cfg.gc.intervalMs } : {}),
      ...(cfg.gc.graceMs !== undefined ? { gcGraceMs: cfg.gc.graceMs } : {}),
      ...(cfg.names.syncWaitMs !== undefined ? { syncWaitMs: cfg.names.syncWaitMs } : {}),
    },
    hub: cfg.hub,
    audit: { archive: cfg.audit.archive },
  }, { onShutdown: () => requestStop() }).catch(async (err: unknown) => {
    await lock.release();
    throw err;
  });
  mesh.node.metrics.withProcessMetrics();
  let metrics: { port: number; close(): Promise<void> } | null = null;
  if (cfg.metricsPort !== 0) {
    try {
      metrics = await mesh.node.metrics.serve(cfg.metricsHost, cfg.metricsPort);
      log.info({ url: `http://${cfg.metricsHost}:${metrics.port}/metrics` }, 'metrics served');
    } catch (err) {
      log.warn({ err: (err as Error).message, port: cfg.metricsPort }, 'metrics port unavailable; metrics not served');
    }
  }
  let mcp: McpHttpServer | null = null;
  if (cfg.mcpPort !== 0) {
    try {
      mcp = await startMcpHttp({ source: serviceToolSource(mesh.services.hub, LOCAL_MCP), info: { name: 'fcp-mesh', version: '0.1.0' }, port: cfg.mcpPort, token: await mcpToken(cfg.dataDir) });
      log.info({ url: mcp.url }, 'MCP served (Streamable HTTP, bearer token in the data directory)');
    } catch (err) {
      log.warn({ err: (err as Error).message, port: cfg.mcpPort }, 'MCP port unavailable; MCP over HTTP not served');
    }
  }
  let dashboard: DashboardServer | null = null;
  if (cfg.dashboardPort !== null) {
    const node = mesh.node;
    try {
      dashboard = await startDashboardServer({
        service: mesh.services.dashboard,
        viewers: { whois: (ip) => node.client.whois(ip), zonesForTags: (tags) => node.zones.zonesForTags(tags), ownerLogins: cfg.dashboardOwners, self: () => ({ stableId: node.self.stableId, hostName: node.self.hostName, tags: node.directory.self.tags }) },
        names: () => ({ hostName: node.self.hostName, address: node.self.address }),
        port: cfg.dashboardPort,
        log,
      });
      // Where it is, for tools on this device (the port may have been chosen by the system).
      await writeFile(join(cfg.dataDir, DASHBOARD_URL_FILE), dashboard.url + '\n');
      log.info({ url: dashboard.url }, 'dashboard served (publish it to the tailnet with tailscale serve)');
    } catch (err) {
      log.warn({ err: (err as Error).message, port: cfg.dashboardPort }, 'dashboard port unavailable; dashboard not served');
    }
  }
  let gateway: GatewayServer | null = null;
  if (cfg.gatewayPort !== null) {
    const node = mesh.node;
    const g = cfg.gateway;
    try {
      gateway = await startGatewayServer({
        service: mesh.services.gateway,
        identity: { whois: (ip) => node.client.whois(ip), self: () => node.self },
        port: cfg.gatewayPort,
        limits: {
          ...(g.publicPerMinute || g.publicBurst ? { publicRate: { perMinute: g.publicPerMinute ?? DEFAULT_GATEWAY_LIMITS.publicRate.perMinute, burst: g.publicBurst ?? DEFAULT_GATEWAY_LIMITS.publicRate.burst } } : {}),
          ...(g.communityPerMinute || g.communityBurst ? { communityRate: { perMinute: g.communityPerMinute ?? DEFAULT_GATEWAY_LIMITS.communityRate.perMinute, burst: g.communityBurst ?? DEFAULT_GATEWAY_LIMITS.communityRate.burst } } : {}),
          ...(g.maxBodyBytes ? { maxBodyBytes: g.maxBodyBytes } : {}),
          ...(g.timeoutMs ? { timeoutMs: g.timeoutMs } : {}),
        },
        log,
      });
      mesh.services.gateway.served(gateway.url);
      await writeFile(join(cfg.dataDir, GATEWAY_URL_FILE), gateway.url + '\n');
      log.info({ url: gateway.url }, 'public gateway served (publish it with fcp funnel on)');
    } catch (err) {
      log.warn({ err: (err as Error).message, port: cfg.gatewayPort }, 'gateway port unavailable; gateway not served');
    }
  }
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info('stopping');
      control.close();
      await metrics?.close();
      await mcp?.close();
      await dashboard?.close();
      mesh.services.gateway.served(null);
      await gateway?.close();
      if (gateway) await rm(join(cfg.dataDir, GATEWAY_URL_FILE), { force: true });
      if (dashboard) await rm(join(cfg.dataDir, DASHBOARD_URL_FILE), { force: true });
      await mesh.close();
      await rm(cfg.controlSocket, { force: true });
      await lock.release();
      resolveStopped();
    })();
    return stopping;
  };
  requestStop = () => void stop();
  const control = await startControlServer(mesh.services, cfg.controlSocket, log);
  log.info({ self: mesh.node.self, control: cfg.controlSocket }, 'fcpd ready');
  return { mesh, stop, stopped, dashboardUrl: dashboard?.url ?? null };
}
