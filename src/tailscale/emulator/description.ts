// The tailnet description that drives the emulator, and its validation.
import { isIPv4 } from 'node:net';
import { DevTailnetError } from './errors.js';

export type EmulatedPath = 'direct' | 'derp' | 'peer-relay';
/**
 * `logged-out`: BackendState NeedsLogin (node key gone). `stopped`: the tailscaled process is
 * gone (socket closed). `down`: "tailscale down", BackendState Stopped with the socket still up.
 * `starting`, `needs-machine-auth`, `no-state`: the transient states Starting, NeedsMachineAuth, NoState.
 */
export type EmulatorFault = 'none' | 'error' | 'hang' | 'stopped' | 'logged-out' | 'down' | 'starting' | 'needs-machine-auth' | 'no-state';
/** How a node came to be in the tailnet: its own member, a sharee's node, or shared in by another user. */
export type EmulatedShare = 'sharee' | 'shared-in';

export const EMULATED_PATHS: readonly EmulatedPath[] = ['direct', 'derp', 'peer-relay'];
export const EMULATOR_FAULTS: readonly EmulatorFault[] = ['none', 'error', 'hang', 'stopped', 'logged-out', 'down', 'starting', 'needs-machine-auth', 'no-state'];
export const EMULATED_SHARES: readonly EmulatedShare[] = ['sharee', 'shared-in'];

export interface TailnetUserDescription {
  loginName: string;
  displayName?: string;
}

export interface TailnetNodeDescription {
  /** Hostname; also the device name used by the control API. */
  name: string;
  tags?: string[];
  os?: string;
  online?: boolean;
  /** How the other devices reach this one. */
  path?: EmulatedPath;
  /** One-way ping latency seen by others. */
  latencyMs?: number;
  /** loginName of the owning user (untagged nodes); default the first user. */
  user?: string;
  /** Loopback address standing in for its Tailscale IP; default 127.77.0.N with N = index + 1. */
  address?: string;
  /** Someone else's device seen in this tailnet (see EmulatedShare). */
  share?: EmulatedShare;
  /** false: this node's tailscaled runs with userspace networking (Status.TUN false). */
  tun?: boolean;
  /**
   * The "funnel" node attribute (default true). false leaves it out of Self's Capabilities and
   * CapMap, and Funnel traffic never reaches the node (see ingress.ts).
   */
  funnel?: boolean;
}

export interface TailnetDescription {
  tailnet: string;
  /** MagicDNS suffix; default "<tailnet>.ts.net" made DNS-safe. */
  magicDnsSuffix?: string;
  users?: TailnetUserDescription[];
  nodes: TailnetNodeDescription[];
}

const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const TAG_RE = /^tag:[A-Za-z0-9][A-Za-z0-9_-]*$/;
const MAX_NODES = 250;

function bad(message: string): never {
  throw new DevTailnetError('DEV_TAILNET_BAD_DESCRIPTION', `tailnet description: ${message}`);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v === '') bad(`${where}.${key} must be a non-empty string`);
  return v;
}

/** Checks an untrusted description (e.g. parsed from a file) and returns it typed. */
export function validateDescription(input: unknown): TailnetDescription {
  if (!isObject(input)) bad('must be a JSON object with "tailnet" and "nodes"');
  const tailnet = input['tailnet'];
  if (typeof tailnet !== 'string' || tailnet.trim() === '') bad('"tailnet" must be a non-empty string (e.g. "alice.example")');
  const out: TailnetDescription = { tailnet, nodes: [] };
  const suffix = optionalString(input, 'magicDnsSuffix', 'description');
  if (suffix !== undefined) {
    if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(suffix)) bad('"magicDnsSuffix" must be a lower-case DNS name such as "tail1234.ts.net"');
    out.magicDnsSuffix = suffix;
  }
  const users = input['users'];
  const loginNames = new Set<string>();
  if (users !== undefined) {
    if (!Array.isArray(users)) bad('"users" must be an array');
    out.users = users.map((u, i) => {
      if (!isObject(u)) bad(`users[${i}] must be an object with "loginName"`);
      const loginName = optionalString(u, 'loginName', `users[${i}]`);
      if (loginName === undefined) bad(`users[${i}].loginName is required`);
      if (loginNames.has(loginName)) bad(`users[${i}].loginName "${loginName}" appears twice`);
      loginNames.add(loginName);
      const user: TailnetUserDescription = { loginName };
      const displayName = optionalString(u, 'displayName', `users[${i}]`);
      if (displayName !== undefined) user.displayName = displayName;
      return user;
    });
  }
  const nodes = input['nodes'];
  if (!Array.isArray(nodes) || nodes.length === 0) bad('"nodes" must be a non-empty array');
  if (nodes.length > MAX_NODES) bad(`at most ${MAX_NODES} nodes are supported`);
  const names = new Set<string>();
  const addresses = new Set<string>();
  nodes.forEach((n, i) => {
    const where = `nodes[${i}]`;
    if (!isObject(n)) bad(`${where} must be an object with "name"`);
    const name = n['name'];
    if (typeof name !== 'string' || !NAME_RE.test(name)) bad(`${where}.name must be a DNS label (a-z, 0-9, "-"), got ${JSON.stringify(name)}`);
    if (names.has(name)) bad(`${where}.name "${name}" appears twice`);
    names.add(name);
    const node: TailnetNodeDescription = { name };
    const tags = n['tags'];
    if (tags !== undefined) {
      if (!Array.isArray(tags) || !tags.every((t): t is string => typeof t === 'string' && TAG_RE.test(t))) {
        bad(`${where}.tags must be an array of tags like "tag:fcp-owner"`);
      }
      node.tags = [...new Set(tags)];
    }
    const os = optionalString(n, 'os', where);
    if (os !== undefined) node.os = os;
    const online = n['online'];
    if (online !== undefined) {
      if (typeof online !== 'boolean') bad(`${where}.online must be true or false`);
      node.online = online;
    }
    const path = n['path'];
    if (path !== undefined) {
      if (typeof path !== 'string' || !(EMULATED_PATHS as readonly string[]).includes(path)) {
        bad(`${where}.path must be one of ${EMULATED_PATHS.join(', ')}`);
      }
      node.path = path as EmulatedPath;
    }
    const latency = n['latencyMs'];
    if (latency !== undefined) {
      if (typeof latency !== 'number' || !Number.isFinite(latency) || latency < 0 || latency > 60_000) {
        bad(`${where}.latencyMs must be a number of milliseconds between 0 and 60000`);
      }
      node.latencyMs = latency;
    }
    const user = optionalString(n, 'user', where);
    if (user !== undefined) {
      if (!loginNames.has(user)) bad(`${where}.user "${user}" is not listed in "users"`);
      node.user = user;
    }
    const address = optionalString(n, 'address', where) ?? `127.77.0.${i + 1}`;
    if (!isIPv4(address) || !address.startsWith('127.') || address === '127.0.0.1') {
      bad(`${where}.address must be a loopback IPv4 address other than 127.0.0.1, got "${address}"`);
    }
    if (addresses.has(address)) bad(`${where}.address ${address} is used twice`);
    addresses.add(address);
    if (n['address'] !== undefined) node.address = address;
    const share = n['share'];
    if (share !== undefined) {
      if (typeof share !== 'string' || !(EMULATED_SHARES as readonly string[]).includes(share)) bad(`${where}.share must be one of ${EMULATED_SHARES.join(', ')}`);
      node.share = share as EmulatedShare;
    }
    const tun = n['tun'];
    if (tun !== undefined) {
      if (typeof tun !== 'boolean') bad(`${where}.tun must be true or false`);
      node.tun = tun;
    }
    const funnel = n['funnel'];
    if (funnel !== undefined) {
      if (typeof funnel !== 'boolean') bad(`${where}.funnel must be true or false`);
      node.funnel = funnel;
    }
    out.nodes.push(node);
  });
  return out;
}

export function defaultAddress(index: number): string {
  return `127.77.0.${index + 1}`;
}
