// Where a device keeps its state and how fcpd is reached: flags win over environment
// variables, which win over <dataDir>/config.json, which wins over defaults.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { ControlError } from './control-client.js';
import { CONTROL_SOCKET } from './control-server.js';
import type { RepairOptions } from '../mesh/index.js';
import { DEFAULT_PORT } from '../wire/index.js';

export interface DeviceConfig {
  dataDir: string;
  /** LocalAPI socket of tailscaled; undefined = TS_SOCKET or the platform default. */
  tailscaleSocket?: string;
  port: number;
  /** 0 turns the metrics endpoint off. */
  metricsPort: number;
  metricsHost: string;
  /** MCP over Streamable HTTP on 127.0.0.1; 0 = off (the default). */
  mcpPort: number;
  /** The web dashboard's port on 127.0.0.1 (for `tailscale serve`); 0 = any free port; null = off (the default). */
  dashboardPort: number | null;
  /** Logins that own the mesh (may repair from the dashboard); owner-zone devices always may. */
  dashboardOwners: string[];
  /** The public gateway's port on 127.0.0.1 (for `fcp funnel on`); 0 = any free port; null = off (the default). */
  gatewayPort: number | null;
  /** Its limits (see GatewayLimits); unset fields keep their defaults. */
  gateway: GatewayConfig;
  /** Custom zones file (JSON), if any. */
  zonesFile?: string;
  quotaBytes?: number;
  controlSocket: string;
  /** Repair loop and scrubber settings (see RepairOptions); unset fields keep their defaults. */
  repair: Partial<RepairOptions>;
  /** Garbage collection of names: pass interval and grace period (ms); unset keeps the defaults. */
  gc: { intervalMs?: number; graceMs?: number; quarantineMs?: number; tombstoneTtlMs?: number };
  /** Names: how long a device that never synced a zone's heads waits for a first pull (ms). */
  names: { syncWaitMs?: number };
  /** Give up waiting for tailscaled to be Running after this long (unset: wait as long as it takes). */
  bootTimeoutMs?: number;
  /** Hub lease duration (the failover grace period) and poll interval, ms; unset keeps defaults. */
  hub: { leaseMs?: number; pollMs?: number };
  /** Audit logs: keep them as mesh objects too (FCP_AUDIT_ARCHIVE=1 / audit.archive: true). */
  audit: { archive: boolean };
}

export interface GatewayConfig {
  publicPerMinute?: number;
  publicBurst?: number;
  communityPerMinute?: number;
  communityBurst?: number;
  maxBodyBytes?: number;
  timeoutMs?: number;
}

const GATEWAY_FIELDS = [
  ['publicPerMinute', 'FCP_GATEWAY_PUBLIC_PER_MINUTE'],
  ['publicBurst', 'FCP_GATEWAY_PUBLIC_BURST'],
  ['communityPerMinute', 'FCP_GATEWAY_COMMUNITY_PER_MINUTE'],
  ['communityBurst', 'FCP_GATEWAY_COMMUNITY_BURST'],
  ['maxBodyBytes', 'FCP_GATEWAY_MAX_BODY_BYTES'],
  ['timeoutMs', 'FCP_GATEWAY_TIMEOUT_MS'],
] as const;

export interface ConfigFlags {
  dataDir?: string;
  tailscaleSocket?: string;
  port?: string | number;
  metricsPort?: string | number;
  zones?: string;
}

function intOf(v: unknown, what: string): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ControlError('CONFIG_INVALID', `${what} must be a port number (0-65535), got ${String(v)}`);
  return n;
}

export function resolveConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): DeviceConfig {
  const dataDir = resolve(flags.dataDir ?? env.FCP_DATA_DIR ?? join(homedir(), '.fcp'));
  let file: Record<string, unknown> = {};
  const path = join(dataDir, 'config.json');
  if (existsSync(path)) {
    try {
      const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('top level must be an object');
      file = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ControlError('CONFIG_INVALID', `${path}: ${(err as Error).message}`);
    }
  }
  const str = (v: unknown, what: string): string | undefined => {
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || v === '') throw new ControlError('CONFIG_INVALID', `${path}: ${what} must be a non-empty string`);
    return v;
  };
  const tailscaleSocket = flags.tailscaleSocket ?? env.TS_SOCKET ?? str(file.tailscaleSocket, 'tailscaleSocket');
  const zonesFile = flags.zones ?? env.FCP_ZONES ?? str(file.zones, 'zones');
  const quota = file.quotaBytes;
  if (quota !== undefined && (typeof quota !== 'number' || !Number.isInteger(quota) || quota <= 0)) {
    throw new ControlError('CONFIG_INVALID', `${path}: quotaBytes must be a positive whole number`);
  }
  const repair: Partial<RepairOptions> = {};
  const fileRepair = (file.repair ?? {}) as Record<string, unknown>;
  const repairFields: Array<[keyof RepairOptions, string]> = [
    ['intervalMs', 'FCP_REPAIR_INTERVAL_MS'],
    ['graceMs', 'FCP_REPAIR_GRACE_MS'],
    ['bytesPerSecond', 'FCP_REPAIR_BYTES_PER_SEC'],
    ['scrubIntervalMs', 'FCP_SCRUB_INTERVAL_MS'],
    ['scrubSymbolsPerStep', 'FCP_SCRUB_SYMBOLS_PER_STEP'],
    ['verifyObjectsPerStep', 'FCP_VERIFY_OBJECTS_PER_STEP'],
    ['orphanGraceMs', 'FCP_ORPHAN_GRACE_MS'],
  ];
  for (const [field, envName] of repairFields) {
    const raw = env[envName] ?? fileRepair[field];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new ControlError('CONFIG_INVALID', `${envName} / repair.${field} must be a number >= 0, got ${String(raw)}`);
    repair[field] = n;
  }
  const gc: { intervalMs?: number; graceMs?: number; quarantineMs?: number; tombstoneTtlMs?: number } = {};
  const fileGc = (file.gc ?? {}) as Record<string, unknown>;
  for (const [field, envName] of [['intervalMs', 'FCP_GC_INTERVAL_MS'], ['graceMs', 'FCP_GC_GRACE_MS'], ['quarantineMs', 'FCP_GC_QUARANTINE_MS'], ['tombstoneTtlMs', 'FCP_GC_TOMBSTONE_TTL_MS']] as const) {
    const raw = env[envName] ?? fileGc[field];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0) throw new ControlError('CONFIG_INVALID', `${envName} / gc.${field} must be a number >= 0, got ${String(raw)}`);
    gc[field] = n;
  }
  const names: { syncWaitMs?: number } = {};
  const fileNames = (file.names ?? {}) as Record<string, unknown>;
  const syncWaitRaw = env.FCP_NAMES_SYNC_WAIT_MS ?? fileNames.syncWaitMs;
  if (syncWaitRaw !== undefined && syncWaitRaw !== '') {
    const n = Number(syncWaitRaw);
    if (!Number.isFinite(n) || n < 0) throw new ControlError('CONFIG_INVALID', `FCP_NAMES_SYNC_WAIT_MS / names.syncWaitMs must be a number >= 0, got ${String(syncWaitRaw)}`);
    names.syncWaitMs = n;
  }
  const hub: { leaseMs?: number; pollMs?: number } = {};
  const fileHub = (file.hub ?? {}) as Record<string, unknown>;
  for (const [field, envName] of [['leaseMs', 'FCP_HUB_LEASE_MS'], ['pollMs', 'FCP_HUB_POLL_MS']] as const) {
    const raw = env[envName] ?? fileHub[field];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 50) throw new ControlError('CONFIG_INVALID', `${envName} / hub.${field} must be a number of milliseconds >= 50, got ${String(raw)}`);
    hub[field] = n;
  }
  if (hub.leaseMs !== undefined && hub.pollMs !== undefined && hub.pollMs * 2 >= hub.leaseMs) {
    throw new ControlError('CONFIG_INVALID', `hub.pollMs (${hub.pollMs}) must be under half of hub.leaseMs (${hub.leaseMs})`);
  }
  const archiveRaw = env.FCP_AUDIT_ARCHIVE ?? ((file.audit ?? {}) as Record<string, unknown>).archive;
  if (archiveRaw !== undefined && archiveRaw !== '' && !['1', '0', 'true', 'false', true, false].includes(archiveRaw as string | boolean)) {
    throw new ControlError('CONFIG_INVALID', `FCP_AUDIT_ARCHIVE / audit.archive is 1, 0, true or false, not ${JSON.stringify(archiveRaw)}`);
  }
  const audit = { archive: archiveRaw === '1' || archiveRaw === 'true' || archiveRaw === true };
  const bootRaw = env.FCP_BOOT_TIMEOUT_MS ?? file.bootTimeoutMs;
  const bootTimeoutMs = bootRaw === undefined || bootRaw === '' ? undefined : Number(bootRaw);
  if (bootTimeoutMs !== undefined && (!Number.isFinite(bootTimeoutMs) || bootTimeoutMs <= 0)) {
    throw new ControlError('CONFIG_INVALID', `FCP_BOOT_TIMEOUT_MS / bootTimeoutMs must be a positive number of milliseconds, got ${String(bootRaw)}`);
  }
  const gateway: GatewayConfig = {};
  const fileGateway = (file.gateway ?? {}) as Record<string, unknown>;
  for (const [field, envName] of GATEWAY_FIELDS) {
    const raw = env[envName] ?? fileGateway[field];
    if (raw === undefined || raw === '') continue;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new ControlError('CONFIG_INVALID', `${envName} / gateway.${field} must be a whole number >= 1, got ${String(raw)}`);
    gateway[field] = n;
  }
  const gatewayPortRaw = env.FCP_GATEWAY_PORT ?? file.gatewayPort;
  const gatewayPort = gatewayPortRaw === 'off' ? null : intOf(gatewayPortRaw, 'FCP_GATEWAY_PORT / gatewayPort') ?? null;
  const ownersRaw = env.FCP_DASHBOARD_OWNERS !== undefined ? env.FCP_DASHBOARD_OWNERS.split(',') : file.dashboardOwners ?? [];
  if (!Array.isArray(ownersRaw) || !ownersRaw.every((x) => typeof x === 'string')) throw new ControlError('CONFIG_INVALID', `${path}: dashboardOwners must be a list of login names`);
  const dashboardOwners = (ownersRaw as string[]).map((x) => x.trim()).filter(Boolean);
  return {
    dashboardPort: intOf(env.FCP_DASHBOARD_PORT, 'FCP_DASHBOARD_PORT') ?? intOf(file.dashboardPort, 'dashboardPort') ?? null,
    dashboardOwners,
    gatewayPort,
    gateway,
    repair,
    gc,
    names,
    hub,
    audit,
    ...(bootTimeoutMs !== undefined ? { bootTimeoutMs } : {}),
    dataDir,
    ...(tailscaleSocket ? { tailscaleSocket } : {}),
    port: intOf(flags.port, '--port') ?? intOf(env.FCP_PORT, 'FCP_PORT') ?? intOf(file.port, 'port') ?? DEFAULT_PORT,
    metricsPort: intOf(flags.metricsPort, '--metrics-port') ?? intOf(env.FCP_METRICS_PORT, 'FCP_METRICS_PORT') ?? intOf(file.metricsPort, 'metricsPort') ?? 9474,
    metricsHost: '127.0.0.1',
    mcpPort: intOf(env.FCP_MCP_PORT, 'FCP_MCP_PORT') ?? intOf(file.mcpPort, 'mcpPort') ?? 0,
    ...(zonesFile ? { zonesFile: resolve(zonesFile) } : {}),
    ...(typeof quota === 'number' ? { quotaBytes: quota } : {}),
    controlSocket: join(dataDir, CONTROL_SOCKET),
  };
}
