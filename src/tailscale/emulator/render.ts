// Renders the LocalAPI JSON a real tailscaled would send, as seen from one device. Field names,
// order and zero values follow the Go structs: ipnstate.Status/PeerStatus/PingResult,
// tailcfg.Node/UserProfile, apitype.WhoIsResponse and ipn.Notify. Where each behaviour was read
// in tailscale/tailscale is listed in docs/tailscale.md.
import { randomBytes } from 'node:crypto';
import { goTime } from './go-time.js';
import { HOME_DERP, type EmulatedUser, type NodeState, type TailnetState } from './tailnet-state.js';

export { goTime };

export const EMULATED_VERSION = '1.90.1-fcpdev';
/** tailcfg.CapabilityVersion reported by the emulated nodes. */
const CAPABILITY_VERSION = 130;
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const ZERO_NODE_KEY = `nodekey:${'0'.repeat(64)}`;
const PEER_RELAY = '192.0.2.250:7777';
/** The first entry of Self.Capabilities (ipn/ipnlocal/local.go updateStatusLocked). */
const DEPRECATED_CAPS = 'HTTPS://TAILSCALE.COM/s/DEPRECATED-NODE-CAPS#see-https://github.com/tailscale/tailscale/issues/11508';
/**
 * Node capabilities the control plane grants the emulated devices (values none). "https" goes with
 * the CertDomains every device reports; "funnel" and its funnel-ports come together, as control
 * grants them (both are what ipn.CheckFunnelAccess looks for, after "https").
 */
const SELF_CAPS = ['https://tailscale.com/cap/file-sharing', 'https://tailscale.com/cap/ssh', 'https'];
const FUNNEL_CAPS = ['funnel', 'https://tailscale.com/cap/funnel-ports?ports=443,8443,10000'];
/** ipn.State numbers as sent in Notify.State. */
export const STATE_NUMBER = { NoState: 0, InUseOtherUser: 1, NeedsLogin: 2, NeedsMachineAuth: 3, Stopped: 4, Starting: 5, Running: 6 } as const;
export type BackendStateName = keyof typeof STATE_NUMBER;

export type RawObject = Record<string, unknown>;

/** A local clock reading now, with sub-millisecond digits as Go's monotonic-wall clock gives. */
function localNow(state: TailnetState, ms = Date.now()): string {
  return goTime(ms, state.utcOffsetMinutes, Number(process.hrtime.bigint() % 1_000_000n));
}

function prefixes(node: NodeState): string[] {
  return [`${node.address}/32`, `${node.address6}/128`];
}

function peerRelayOf(node: NodeState): string {
  return `${PEER_RELAY}:vni:${node.index + 1}`;
}

function userProfile(user: EmulatedUser): RawObject {
  return { ID: user.id, LoginName: user.loginName, DisplayName: user.displayName };
}

/** encoding/json writes map keys sorted. */
function sortedMap(entries: Array<[string, unknown]>): RawObject {
  const out: RawObject = {};
  for (const [k, v] of entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = v;
  return out;
}

/** The daemon's BackendState as this device's fault makes it. */
export function backendState(viewer: NodeState): BackendStateName {
  if (viewer.removed) return 'NeedsLogin';
  switch (viewer.fault) {
    case 'logged-out':
      return 'NeedsLogin';
    case 'down':
      return 'Stopped';
    case 'starting':
      return 'Starting';
    case 'needs-machine-auth':
      return 'NeedsMachineAuth';
    case 'no-state':
      return 'NoState';
    default:
      return 'Running';
  }
}

function healthFor(state: BackendStateName): string[] {
  switch (state) {
    case 'Running':
      return [];
    case 'NeedsLogin':
      return ['You are logged out.'];
    case 'Stopped':
      return ['Tailscale is stopped.'];
    case 'NeedsMachineAuth':
      return ['Machine is not yet approved by tailnet admin.'];
    default:
      return [];
  }
}

/** A peer as `viewer` sees it (ipn/ipnlocal/local.go populatePeerStatusLocked + magicsock populatePeerStatus). */
function peerStatus(state: TailnetState, viewer: NodeState, node: NodeState): RawObject {
  const online = node.online;
  const last = state.lastTraffic(viewer, node);
  // CurAddr/PeerRelay only while a UDP path is trusted, i.e. shortly after traffic.
  const active = online && state.isActive(viewer, node);
  const ps: RawObject = {
    ID: node.stableId,
    NodeID: node.nodeId,
    PublicKey: node.nodeKey,
    HostName: node.name,
    DNSName: state.fqdn(node),
    OS: node.os,
    UserID: node.user.id,
  };
  if (node.share === 'shared-in') ps['AltSharerUserID'] = state.sharerUser.id;
  Object.assign(ps, { TailscaleIPs: [node.address, node.address6], AllowedIPs: prefixes(node) });
  if (node.tags.length > 0) ps['Tags'] = [...node.tags];
  Object.assign(ps, {
    // Only Self has Addrs (magicsock.go fills it from its own endpoints).
    Addrs: null,
    CurAddr: active && node.path === 'direct' ? node.endpoint : '',
    Relay: HOME_DERP.code,
    PeerRelay: active && node.path === 'peer-relay' ? peerRelayOf(node) : '',
    RxBytes: last !== undefined ? 1024 * (node.index + 1) : 0,
    TxBytes: last !== undefined ? 2048 * (node.index + 1) : 0,
    Created: node.created,
    LastWrite: last !== undefined ? localNow(state, last) : GO_ZERO_TIME,
    // Only meaningful (and only non-zero) for offline peers.
    LastSeen: online ? GO_ZERO_TIME : node.lastSeen,
    LastHandshake: last !== undefined && node.path !== 'peer-relay' ? localNow(state, last) : GO_ZERO_TIME,
    Online: online,
    ExitNode: false,
    ExitNodeOption: false,
    Active: active,
    PeerAPIURL: [`http://${node.address}:${peerApiPort(node)}`, `http://[${node.address6}]:${peerApiPort(node)}`],
    TaildropTarget: 0,
    NoFileSharingReason: '',
  });
  if (node.share === 'sharee') ps['ShareeNode'] = true;
  Object.assign(ps, { InNetworkMap: true, InMagicSock: true, InEngine: true });
  if (node.keyExpiry) ps['KeyExpiry'] = node.keyExpiry;
  return ps;
}

/** This device (updateStatusLocked's MutateSelfStatus): zeroed apart from host name and OS without a netmap. */
function selfStatus(state: TailnetState, viewer: NodeState, haveNetmap: boolean): RawObject {
  if (!haveNetmap) {
    return {
      ID: '',
      NodeID: 0,
      PublicKey: ZERO_NODE_KEY,
      HostName: viewer.name,
      DNSName: '',
      OS: viewer.os,
      UserID: 0,
      TailscaleIPs: null,
      Addrs: null,
      CurAddr: '',
      Relay: '',
      PeerRelay: '',
      RxBytes: 0,
      TxBytes: 0,
      Created: GO_ZERO_TIME,
      LastWrite: GO_ZERO_TIME,
      LastSeen: GO_ZERO_TIME,
      LastHandshake: GO_ZERO_TIME,
      Online: false,
      ExitNode: false,
      ExitNodeOption: false,
      Active: false,
      PeerAPIURL: null,
      TaildropTarget: 0,
      NoFileSharingReason: '',
      InNetworkMap: false,
      InMagicSock: false,
      InEngine: false,
    };
  }
  const ps: RawObject = {
    ID: viewer.stableId,
    NodeID: viewer.nodeId,
    PublicKey: viewer.nodeKey,
    HostName: viewer.name,
    DNSName: state.fqdn(viewer),
    OS: viewer.os,
    UserID: viewer.user.id,
    TailscaleIPs: [viewer.address, viewer.address6],
    AllowedIPs: prefixes(viewer),
  };
  if (viewer.tags.length > 0) ps['Tags'] = [...viewer.tags];
  Object.assign(ps, {
    Addrs: [viewer.endpoint, `10.0.0.${(viewer.index % 250) + 2}:41641`],
    CurAddr: '',
    Relay: HOME_DERP.code,
    PeerRelay: '',
    RxBytes: 0,
    TxBytes: 0,
    Created: viewer.created,
    LastWrite: GO_ZERO_TIME,
    LastSeen: GO_ZERO_TIME,
    LastHandshake: GO_ZERO_TIME,
    Online: viewer.online,
    ExitNode: false,
    ExitNodeOption: false,
    Active: false,
    PeerAPIURL: [`http://${viewer.address}:${peerApiPort(viewer)}`, `http://[${viewer.address6}]:${peerApiPort(viewer)}`],
    TaildropTarget: 0,
    NoFileSharingReason: '',
    Capabilities: [DEPRECATED_CAPS, ...selfCaps(viewer).sort()],
    CapMap: sortedMap(selfCaps(viewer).map((c) => [c, null])),
    InNetworkMap: true,
    InMagicSock: false,
    InEngine: false,
  });
  if (viewer.keyExpiry) ps['KeyExpiry'] = viewer.keyExpiry;
  return ps;
}

/** Without the "funnel" node attribute the node lacks it and its funnel-ports (tailcfg NodeAttrFunnel). */
function selfCaps(node: NodeState): string[] {
  return node.funnel ? [...SELF_CAPS, ...FUNNEL_CAPS] : [...SELF_CAPS];
}

function peerApiPort(node: NodeState): number {
  return 40000 + node.index;
}

/** GET /localapi/v0/status from `viewer`. */
export function renderStatus(state: TailnetState, viewer: NodeState): RawObject {
  const backend = backendState(viewer);
  // A running or stopped-by-user daemon keeps its netmap; logged out or starting, there is none.
  const running = backend === 'Running';
  const haveNetmap = running;
  const peers: Array<[string, unknown]> = [];
  const users = new Map<bigint, EmulatedUser>();
  if (haveNetmap) {
    users.set(viewer.user.id, viewer.user);
    for (const node of state.members()) {
      if (node === viewer) continue;
      peers.push([node.nodeKey, peerStatus(state, viewer, node)]);
      users.set(node.user.id, node.user);
      if (node.share === 'shared-in') users.set(state.sharerUser.id, state.sharerUser);
    }
  }
  const loggedOut = backend === 'NeedsLogin';
  const status: RawObject = {
    Version: EMULATED_VERSION,
    TUN: viewer.tun,
    BackendState: backend,
  };
  // HaveNodeKey is omitempty: a logged-out daemon has no node key and leaves it out.
  if (!loggedOut) status['HaveNodeKey'] = true;
  Object.assign(status, {
    AuthURL: loggedOut ? `https://login.tailscale.com/a/emulated-${viewer.index + 1}` : '',
    TailscaleIPs: haveNetmap ? [viewer.address, viewer.address6] : null,
    Self: selfStatus(state, viewer, haveNetmap),
    Health: healthFor(backend),
    MagicDNSSuffix: haveNetmap ? state.magicDnsSuffix : '',
    CurrentTailnet: haveNetmap ? { Name: state.tailnet, MagicDNSSuffix: state.magicDnsSuffix, MagicDNSEnabled: true } : null,
    CertDomains: haveNetmap ? [`${viewer.name}.${state.magicDnsSuffix}`] : null,
    ExtraRecords: null,
    Peer: haveNetmap ? sortedMap(peers) : null,
    User: users.size > 0 ? sortedMap([...users].map(([id, u]) => [id.toString(), userProfile(u)])) : null,
    ClientVersion: null,
  });
  return status;
}

/** tailcfg.Node as carried by whois answers and ipn bus peer changes. */
export function renderNode(state: TailnetState, node: NodeState): RawObject {
  const fqdn = state.fqdn(node);
  const n: RawObject = {
    ID: node.nodeId,
    StableID: node.stableId,
    Name: fqdn,
    User: node.user.id,
  };
  if (node.share === 'shared-in') n['Sharer'] = state.sharerUser.id;
  n['Key'] = node.nodeKey;
  if (node.keyExpiry) n['KeyExpiry'] = node.keyExpiry;
  const hostinfo: RawObject = { OS: node.os, Hostname: node.name };
  if (node.share === 'sharee') hostinfo['ShareeNode'] = true;
  Object.assign(n, {
    Machine: node.machineKey,
    DiscoKey: node.discoKey,
    Addresses: prefixes(node),
    AllowedIPs: prefixes(node),
    Endpoints: [node.endpoint],
    HomeDERP: HOME_DERP.id,
    Hostinfo: hostinfo,
    Created: node.created,
    Cap: CAPABILITY_VERSION,
  });
  if (node.tags.length > 0) n['Tags'] = [...node.tags];
  if (!node.online) n['LastSeen'] = node.lastSeen;
  n['Online'] = node.online;
  n['MachineAuthorized'] = true;
  n['ComputedName'] = node.name;
  n['ComputedNameWithHost'] = node.name;
  return n;
}

/** GET /localapi/v0/whois answer for a known node. */
export function renderWhoIs(state: TailnetState, node: NodeState): RawObject {
  return { Node: renderNode(state, node), UserProfile: userProfile(node.user), CapMap: null };
}

export type PingKind = 'disco' | 'TSMP' | 'ICMP' | 'peerapi';

/**
 * POST /localapi/v0/ping answer once `target` replied. NodeName differs by kind: disco gives the
 * first label of the MagicDNS name (magicsock.go Conn.Ping), TSMP/ICMP the ComputedName
 * (wgengine/userspace.go), peerapi the full name with its trailing dot (ipnlocal Ping).
 */
export function renderPing(state: TailnetState, target: NodeState, kind: PingKind, latencyMs: number, ip: string): RawObject {
  const res: RawObject = {
    IP: ip,
    NodeIP: kind === 'disco' ? target.address : ip,
    NodeName: kind === 'peerapi' ? state.fqdn(target) : target.name,
    Err: '',
    LatencySeconds: latencyMs / 1000,
    Endpoint: '',
    PeerRelay: '',
    DERPRegionID: 0,
    DERPRegionCode: '',
  };
  if (kind === 'disco' || kind === 'ICMP') {
    if (target.path === 'direct') res['Endpoint'] = target.endpoint;
    else if (target.path === 'peer-relay') res['PeerRelay'] = peerRelayOf(target);
    else {
      res['DERPRegionID'] = HOME_DERP.id;
      res['DERPRegionCode'] = HOME_DERP.code;
    }
  } else if (kind === 'TSMP') {
    res['PeerAPIPort'] = peerApiPort(target);
  } else {
    res['PeerAPIURL'] = `http://${target.address}:${peerApiPort(target)}`;
  }
  return res;
}

/** A ping the engine answers at once with an error (unknown or local IP, or no netmap at all). */
export function renderPingError(ip: string, err: string, isLocal: boolean): RawObject {
  const res: RawObject = {
    IP: ip,
    NodeIP: '',
    NodeName: '',
    Err: err,
    LatencySeconds: 0,
    Endpoint: '',
    PeerRelay: '',
    DERPRegionID: 0,
    DERPRegionCode: '',
  };
  if (isLocal) res['IsLocalIP'] = true;
  return res;
}

const NOTIFY_ORDER = [
  'Version', 'SessionID', 'ErrMessage', 'LoginFinished', 'State', 'Prefs', 'SelfChange', 'InitialStatus', 'NetMap',
  'PeerChangedPatch', 'PeersChanged', 'PeersRemoved', 'Engine', 'BrowseToURL', 'DriveShares',
] as const;
/** Pointer fields without omitzero: always written, null when nil. */
const NOTIFY_ALWAYS = new Set(['Version', 'ErrMessage', 'LoginFinished', 'State', 'Prefs', 'NetMap', 'Engine', 'BrowseToURL', 'DriveShares']);

/** An ipn.Notify in Go's field order: nil pointers as null, omitzero fields left out, DriveShares always null. */
export function renderNotify(fields: RawObject): RawObject {
  const out: RawObject = {};
  for (const key of NOTIFY_ORDER) {
    if (key === 'Version') out[key] = EMULATED_VERSION;
    else if (fields[key] !== undefined) out[key] = fields[key];
    else if (NOTIFY_ALWAYS.has(key)) out[key] = null;
  }
  return out;
}

/** ipnlocal's session id: rands.HexString(16). */
export function sessionId(): string {
  return randomBytes(8).toString('hex');
}

export function renderEngine(state: TailnetState, viewer: NodeState): RawObject {
  const live = state.members().filter((n) => n !== viewer && n.online);
  const livePeers: RawObject = {};
  for (const n of [...live].sort((a, b) => (a.nodeKey < b.nodeKey ? -1 : 1))) {
    const last = state.lastTraffic(viewer, n);
    livePeers[n.nodeKey] = { NodeKey: n.nodeKey, TxBytes: 2048 * (n.index + 1), RxBytes: 1024 * (n.index + 1), LastHandshake: last !== undefined ? localNow(state, last) : GO_ZERO_TIME };
  }
  return {
    RBytes: live.reduce((a, n) => a + 1024 * (n.index + 1), 0),
    WBytes: live.reduce((a, n) => a + 2048 * (n.index + 1), 0),
    NumLive: live.length,
    LiveDERPs: live.some((n) => n.path === 'derp') ? 1 : 0,
    LivePeers: livePeers,
  };
}
