// The emulated tailnet: every node's identity and its live condition
// (online, path, latency, daemon fault). Devices render their LocalAPI
// answers from this one shared state, so a change is seen by all of them.
import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { EmulatedPath, EmulatedShare, EmulatorFault, TailnetDescription } from './description.js';
import { DevTailnetError } from './errors.js';
import { goTime } from './go-time.js';
import type { ServeConfig } from './serve-config.js';

/**
 * Node and user IDs are odd numbers between 2^53 and 2^54 on purpose: no
 * float64 holds them, so a client that rounds them fails at once.
 */
const NODE_ID_BASE = 9_007_199_254_740_993n;
const USER_ID_BASE = 9_007_199_254_800_001n;
/** The control plane gives tagged nodes this shared owner. */
export const TAGGED_DEVICES_LOGIN = 'tagged-devices';

export const DEFAULT_LATENCY_MS: Record<EmulatedPath, number> = { direct: 1, 'peer-relay': 4, derp: 12 };
/**
 * magicsock's sessionActiveTimeout (wgengine/magicsock/magicsock.go): after traffic, heartbeats
 * keep the UDP path trusted this long, so CurAddr/PeerRelay show; then the peer is idle.
 */
export const ACTIVE_MS = 45_000;
/** Untagged node keys expire after 180 days by default; tagged ones do not expire. */
const KEY_LIFETIME_MS = 180 * 24 * 3600_000;
export const HOME_DERP = { id: 4, code: 'fra' } as const;

export interface EmulatedUser {
  id: bigint;
  loginName: string;
  displayName: string;
}

export interface NodeState {
  index: number;
  name: string;
  nodeId: bigint;
  stableId: string;
  nodeKey: string;
  machineKey: string;
  discoKey: string;
  address: string;
  /** Its Tailscale IPv6 address (fd7a:115c:a1e0::/48, as tailscaled assigns). */
  address6: string;
  /** The stand-in public UDP endpoint others use when the path is direct. */
  endpoint: string;
  tags: string[];
  os: string;
  user: EmulatedUser;
  created: string;
  online: boolean;
  lastSeen: string;
  path: EmulatedPath;
  /** Explicit latency; undefined means the path's default. */
  latencyMs: number | undefined;
  fault: EmulatorFault;
  removed: boolean;
  share: EmulatedShare | undefined;
  /** Its tailscaled has a TUN device (false: userspace networking). */
  tun: boolean;
  /** The control plane grants it the "funnel" node attribute. */
  funnel: boolean;
  /** Go time of the node key's expiry; undefined for tagged nodes. */
  keyExpiry: string | undefined;
}

export type TailnetChange =
  | { kind: 'online'; node: NodeState }
  | { kind: 'path'; node: NodeState }
  | { kind: 'latency'; node: NodeState }
  | { kind: 'fault'; node: NodeState; previous: EmulatorFault }
  | { kind: 'removed'; node: NodeState };

function hex(input: string): string {
  return createHash('sha256').update(input).digest('hex');
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function stableIdFor(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let id = 'n';
  for (let i = 0; i < 11; i++) id += BASE62[(digest[i] ?? 0) % 62];
  return `${id}CNTRL`;
}

export function dnsSafe(label: string): string {
  const s = label.toLowerCase().replace(/[^a-z0-9.-]+/g, '-').replace(/^[-.]+|[-.]+$/g, '');
  return s === '' ? 'tailnet' : s;
}

export class TailnetState extends EventEmitter {
  readonly tailnet: string;
  readonly magicDnsSuffix: string;
  readonly nodes: NodeState[];
  readonly users: EmulatedUser[];
  readonly taggedUser: EmulatedUser;
  /** Owners of the other people's devices (sharee and shared-in nodes). */
  readonly foreignUser: EmulatedUser;
  /** The user who shared the shared-in nodes with us. */
  readonly sharerUser: EmulatedUser;
  /** Zone offset of this machine's local clock readings in the JSON (LastWrite, LastHandshake). */
  utcOffsetMinutes = -new Date().getTimezoneOffset();
  /** How long a path stays active after traffic (tests shorten magicsock's 45 s). */
  activeMs = ACTIVE_MS;
  /** Last traffic from one node to another (key "from>to", ms since epoch): what makes a path "active". */
  private readonly traffic = new Map<string, number>();
  /**
   * Each node's stored serve config (tailscaled's "_serve/<profile>" state key), by node index.
   * Kept for the life of the dev tailnet, across daemon restarts; never written to disk.
   */
  private readonly serveConfigs = new Map<number, ServeConfig>();

  constructor(desc: TailnetDescription, now: Date = new Date()) {
    super();
    // One listener per emulated device (up to 250) is the design, not a leak.
    this.setMaxListeners(0);
    this.tailnet = desc.tailnet;
    this.magicDnsSuffix = desc.magicDnsSuffix ?? `${dnsSafe(desc.tailnet)}.ts.net`;
    const described = desc.users && desc.users.length > 0 ? desc.users : [{ loginName: `owner@${dnsSafe(desc.tailnet)}` }];
    this.users = described.map((u, i) => ({
      id: USER_ID_BASE + BigInt(i) * 14n,
      loginName: u.loginName,
      displayName: u.displayName ?? u.loginName.split('@')[0] ?? u.loginName,
    }));
    this.taggedUser = { id: USER_ID_BASE - 2n, loginName: TAGGED_DEVICES_LOGIN, displayName: 'Tagged Devices' };
    this.foreignUser = { id: USER_ID_BASE + 999_998n, loginName: 'friend@elsewhere.example', displayName: 'Friend' };
    this.sharerUser = { id: USER_ID_BASE + 1_000_012n, loginName: 'sharer@elsewhere.example', displayName: 'Sharer' };
    const created = goTime(now.getTime());
    this.nodes = desc.nodes.map((n, index) => {
      const seed = `${desc.tailnet}/${n.name}`;
      const tags = n.tags ?? [];
      const owner = this.users.find((u) => u.loginName === n.user) ?? this.users[0];
      if (!owner) throw new DevTailnetError('DEV_TAILNET_BAD_DESCRIPTION', 'tailnet description: no users');
      return {
        index,
        name: n.name,
        nodeId: NODE_ID_BASE + BigInt(index) * 1_000_002n,
        stableId: stableIdFor(seed),
        nodeKey: `nodekey:${hex(`node:${seed}`)}`,
        machineKey: `mkey:${hex(`machine:${seed}`)}`,
        discoKey: `discokey:${hex(`disco:${seed}`)}`,
        address: n.address ?? `127.77.0.${index + 1}`,
        address6: `fd7a:115c:a1e0::${(index + 1).toString(16)}`,
        endpoint: `192.0.2.${(index % 254) + 1}:41641`,
        tags,
        os: n.os ?? 'linux',
        user: n.share ? this.foreignUser : tags.length > 0 ? this.taggedUser : owner,
        created,
        online: n.online ?? true,
        lastSeen: created,
        path: n.path ?? 'direct',
        latencyMs: n.latencyMs,
        fault: 'none',
        removed: false,
        share: n.share,
        tun: n.tun ?? true,
        funnel: n.funnel ?? true,
        keyExpiry: tags.length > 0 ? undefined : goTime(Math.floor(now.getTime() / 1000) * 1000 + KEY_LIFETIME_MS),
      };
    });
  }

  /** A node by name; removed nodes are still found here (for the control API's sake). */
  node(name: string): NodeState {
    const node = this.nodes.find((n) => n.name === name);
    if (!node) {
      throw new DevTailnetError(
        'DEV_TAILNET_UNKNOWN_DEVICE',
        `no device named "${name}" in tailnet ${this.tailnet}; known: ${this.nodes.map((n) => n.name).join(', ')}`,
      );
    }
    return node;
  }

  /** Nodes still in the tailnet. */
  members(): NodeState[] {
    return this.nodes.filter((n) => !n.removed);
  }

  byAddress(ip: string): NodeState | undefined {
    const want = ip.toLowerCase();
    return this.nodes.find((n) => !n.removed && (n.address === want || n.address6 === want));
  }

  /** Packets went from `from` to `to` (and back): the path between them is active for a while. */
  noteTraffic(from: NodeState, to: NodeState, now = Date.now()): void {
    this.traffic.set(`${from.index}>${to.index}`, now);
    this.traffic.set(`${to.index}>${from.index}`, now);
  }

  /** When `from` last sent to `to`, if ever. */
  lastTraffic(from: NodeState, to: NodeState): number | undefined {
    return this.traffic.get(`${from.index}>${to.index}`);
  }

  isActive(from: NodeState, to: NodeState, now = Date.now()): boolean {
    const t = this.lastTraffic(from, to);
    return t !== undefined && now - t < this.activeMs;
  }

  /** Node keys are compared as keys: hex digits of either case (types/key/util.go parseHex). */
  byNodeKey(key: string): NodeState | undefined {
    const want = key.toLowerCase();
    return this.nodes.find((n) => !n.removed && n.nodeKey === want);
  }

  /** The node's stored serve config; null when none was ever set. */
  serveConfig(node: NodeState): ServeConfig | null {
    return this.serveConfigs.get(node.index) ?? null;
  }

  storeServeConfig(node: NodeState, config: ServeConfig): void {
    this.serveConfigs.set(node.index, config);
  }

  fqdn(node: NodeState): string {
    return `${node.name}.${this.magicDnsSuffix}.`;
  }

  latencyOf(node: NodeState): number {
    return node.latencyMs ?? DEFAULT_LATENCY_MS[node.path];
  }

  private live(name: string): NodeState {
    const node = this.node(name);
    if (node.removed) {
      throw new DevTailnetError('DEV_TAILNET_UNKNOWN_DEVICE', `device "${name}" has left the tailnet; start a new dev tailnet to bring it back`);
    }
    return node;
  }

  setOnline(name: string, online: boolean): void {
    const node = this.live(name);
    if (node.online === online) return;
    node.online = online;
    if (!online) node.lastSeen = goTime(Math.floor(Date.now() / 1000) * 1000);
    this.emit('change', { kind: 'online', node } satisfies TailnetChange);
  }

  setPath(name: string, path: EmulatedPath): void {
    const node = this.live(name);
    if (node.path === path) return;
    node.path = path;
    this.emit('change', { kind: 'path', node } satisfies TailnetChange);
  }

  setLatency(name: string, ms: number): void {
    const node = this.live(name);
    node.latencyMs = ms;
    this.emit('change', { kind: 'latency', node } satisfies TailnetChange);
  }

  setFault(name: string, fault: EmulatorFault): void {
    const node = this.live(name);
    const previous = node.fault;
    if (previous === fault) return;
    node.fault = fault;
    this.emit('change', { kind: 'fault', node, previous } satisfies TailnetChange);
  }

  remove(name: string): void {
    const node = this.live(name);
    node.removed = true;
    node.online = false;
    this.emit('change', { kind: 'removed', node } satisfies TailnetChange);
  }
}
