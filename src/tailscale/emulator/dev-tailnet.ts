// startDevTailnet: one process hosting N emulated tailscaled daemons, one
// unix socket each, all driven by one shared tailnet state.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DeviceServer, type DeviceStats } from './device-server.js';
import { validateDescription, type EmulatedPath, type EmulatorFault, type TailnetDescription, EMULATED_PATHS, EMULATOR_FAULTS } from './description.js';
import { DevTailnetError } from './errors.js';
import { DeviceIngress, type IngressEndpoints } from './ingress.js';
import { TailnetState, type NodeState } from './tailnet-state.js';

/** Unix socket paths must fit in sockaddr_un (104 bytes on macOS, 108 on Linux). */
const MAX_SOCKET_PATH = 103;

export interface EmulatedDevice {
  name: string;
  /** Loopback address standing in for the device's Tailscale IP. */
  address: string;
  /** Its Tailscale IPv6 address (answers whois and ping like the IPv4 one). */
  address6: string;
  socketPath: string;
  stableId: string;
  /** tailcfg.NodeID as an exact decimal string (above 2^53 on purpose). */
  nodeId: string;
  nodeKey: string;
  dnsName: string;
  tags: string[];
  os: string;
}

export interface DevTailnetOptions {
  /** Directory for the sockets; default a fresh temporary directory removed on stop(). */
  dir?: string;
  /** How often engine updates go to watchers that asked for them (default 2000 ms, as tailscaled). */
  enginePollMs?: number;
  /** Zone offset of local clock readings in the JSON (default this machine's). */
  utcOffsetMinutes?: number;
  /** How long a path stays active (CurAddr shown) after traffic; default 45 s as magicsock. */
  activeMs?: number;
}

export interface DevTailnetSnapshotDevice extends EmulatedDevice {
  online: boolean;
  path: EmulatedPath;
  latencyMs: number;
  fault: EmulatorFault;
  removed: boolean;
}

export interface DevTailnet {
  readonly tailnet: string;
  readonly dir: string;
  readonly devices: EmulatedDevice[];
  device(name: string): EmulatedDevice;
  /** Seen by every other device's status and watch stream. */
  setOnline(name: string, online: boolean): void;
  /** How the others reach this device from now on. */
  setPath(name: string, path: EmulatedPath): void;
  setLatency(name: string, ms: number): void;
  /**
   * Makes this device's daemon misbehave: `error` answers HTTP 500, `hang`
   * never answers, `stopped` closes its socket, `logged-out` reports
   * NeedsLogin. The promise settles once the socket has changed state.
   */
  setFault(name: string, fault: EmulatorFault): Promise<void>;
  /** The device left the tailnet: gone from every status, whois answers 404. */
  removeNode(name: string): void;
  /** Live view of every device, for the control API and the CLI. */
  snapshot(): DevTailnetSnapshotDevice[];
  /** What this device's LocalAPI has been asked so far. */
  stats(name: string): DeviceStats;
  /** One engine poll on this device now (tailscaled does it every 2 s); returns the watchers reached. */
  pushEngineUpdate(name: string): number;
  /**
   * Where this device's serve/Funnel traffic comes in: plain-HTTP listeners on the device's
   * loopback address standing in for https://<fqdn>:443, handled per its serve config as
   * tailscaled would (TLS counts as terminated). `tailnet`: connect from a tailnet device's
   * address (e.g. `localAddress: net.device('phone').address`); other sources are reset.
   * `funnel`: the public internet through Funnel, from any address; reset unless the device
   * has the funnel attribute and AllowFunnel["<fqdn>:443"]. Started with the devices, closed by stop().
   */
  ingress(name: string): IngressEndpoints;
  stop(): Promise<void>;
}

function deviceOf(state: TailnetState, node: NodeState, socketPath: string): EmulatedDevice {
  return {
    name: node.name,
    address: node.address,
    address6: node.address6,
    socketPath,
    stableId: node.stableId,
    nodeId: node.nodeId.toString(),
    nodeKey: node.nodeKey,
    dnsName: state.fqdn(node),
    tags: [...node.tags],
    os: node.os,
  };
}

export async function startDevTailnet(desc: TailnetDescription, opts: DevTailnetOptions = {}): Promise<DevTailnet> {
  const checked = validateDescription(desc);
  const ownsDir = opts.dir === undefined;
  const dir = ownsDir ? mkdtempSync(join(tmpdir(), 'fcp-tailnet-')) : resolve(opts.dir as string);
  if (!ownsDir) mkdirSync(dir, { recursive: true });
  const state = new TailnetState(checked);
  if (opts.utcOffsetMinutes !== undefined) state.utcOffsetMinutes = opts.utcOffsetMinutes;
  if (opts.activeMs !== undefined) state.activeMs = opts.activeMs;
  const servers = new Map<string, DeviceServer>();
  const ingresses = new Map<string, DeviceIngress>();
  const devices: EmulatedDevice[] = [];
  try {
    for (const node of state.nodes) {
      const socketPath = join(dir, `${node.name}.sock`);
      if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
        throw new DevTailnetError('DEV_TAILNET_SOCKET', `socket path too long for a unix socket: ${socketPath}; use a shorter --dir`);
      }
      const server = new DeviceServer(state, node, socketPath);
      if (opts.enginePollMs !== undefined) server.enginePollMs = opts.enginePollMs;
      await server.start();
      servers.set(node.name, server);
      const ingress = new DeviceIngress(state, node, socketPath);
      ingresses.set(node.name, ingress);
      await ingress.start();
      devices.push(deviceOf(state, node, socketPath));
    }
  } catch (err) {
    await Promise.all([...servers.values(), ...ingresses.values()].map((s) => s.stop()));
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  let stopped = false;
  const alive = (): void => {
    if (stopped) throw new DevTailnetError('DEV_TAILNET_STOPPED', 'this dev tailnet has been stopped; start a new one');
  };
  const checkPath = (path: string): void => {
    if (!(EMULATED_PATHS as readonly string[]).includes(path)) {
      throw new DevTailnetError('DEV_TAILNET_BAD_ARGUMENT', `path must be one of ${EMULATED_PATHS.join(', ')}, got ${JSON.stringify(path)}`);
    }
  };

  return {
    tailnet: state.tailnet,
    dir,
    devices,
    device(name) {
      const d = devices.find((x) => x.name === name);
      if (!d) state.node(name); // throws the typed unknown-device error
      return d as EmulatedDevice;
    },
    setOnline(name, online) {
      alive();
      if (typeof online !== 'boolean') throw new DevTailnetError('DEV_TAILNET_BAD_ARGUMENT', 'online must be true or false');
      state.setOnline(name, online);
    },
    setPath(name, path) {
      alive();
      checkPath(path);
      state.setPath(name, path);
    },
    setLatency(name, ms) {
      alive();
      if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || ms > 60_000) {
        throw new DevTailnetError('DEV_TAILNET_BAD_ARGUMENT', `latency must be 0..60000 ms, got ${String(ms)}`);
      }
      state.setLatency(name, ms);
    },
    async setFault(name, fault) {
      alive();
      if (!(EMULATOR_FAULTS as readonly string[]).includes(fault)) {
        throw new DevTailnetError('DEV_TAILNET_BAD_ARGUMENT', `fault must be one of ${EMULATOR_FAULTS.join(', ')}, got ${JSON.stringify(fault)}`);
      }
      state.setFault(name, fault);
      await servers.get(name)?.settled();
    },
    removeNode(name) {
      alive();
      state.remove(name);
    },
    snapshot() {
      return state.nodes.map((node) => {
        const base = devices[node.index] as EmulatedDevice;
        return {
          ...base,
          online: node.online,
          path: node.path,
          latencyMs: state.latencyOf(node),
          fault: node.fault,
          removed: node.removed,
        };
      });
    },
    stats(name) {
      const server = servers.get(name);
      if (!server) state.node(name);
      return (server as DeviceServer).stats();
    },
    pushEngineUpdate(name) {
      alive();
      const server = servers.get(name);
      if (!server) state.node(name);
      return (server as DeviceServer).pushEngineUpdate();
    },
    ingress(name) {
      alive();
      const ingress = ingresses.get(name);
      if (!ingress) state.node(name);
      return (ingress as DeviceIngress).endpoints();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...servers.values(), ...ingresses.values()].map((s) => s.stop()));
      if (ownsDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
