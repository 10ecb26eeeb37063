// Renders the LocalAPI JSON a real tailscaled would send, as seen from one
// device. Field names, order and zero values follow the Go structs:
// ipnstate.Status/PeerStatus/PingResult, tailcfg.Node/UserProfile,
// apitype.WhoIsResponse and ipn.Notify.
import { HOME_DERP, type EmulatedUser, type NodeState, type TailnetState } from './tailnet-state.js';

export const EMULATED_VERSION = '1.90.1-fcpdev';
/** tailcfg.CapabilityVersion reported by the emulated nodes. */
const CAPABILITY_VERSION = 130;
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const PEER_RELAY = '192.0.2.250:7777';
/** ipn.State numbers as sent in Notify.State. */
export const STATE_NUMBER = { NeedsLogin: 2, Running: 6 } as const;

export type RawObject = Record<string, unknown>;

function prefix(node: NodeState): string {
  return `${node.address}/32`;
}

function peerRelayOf(node: NodeState): string {
  return `${PEER_RELAY}:vni:${node.index + 1}`;
}

function userProfile(user: EmulatedUser): RawObject {
  return { ID: user.id, LoginName: user.loginName, DisplayName: user.displayName };
}

/** A daemon told to log out, or whose node was deleted from the tailnet, needs a new login. */
export function backendState(viewer: NodeState): 'Running' | 'NeedsLogin' {
  return viewer.fault === 'logged-out' || viewer.removed ? 'NeedsLogin' : 'Running';
}

function peerStatus(state: TailnetState, node: NodeState, asSelf: boolean): RawObject {
  const now = new Date().toISOString();
  const online = node.online;
  const direct = !asSelf && online && node.path === 'direct';
  const relayed = !asSelf && online && node.path === 'peer-relay';
  const active = !asSelf && online;
  const ps: RawObject = {
    ID: node.stableId,
    NodeID: node.nodeId,
    PublicKey: node.nodeKey,
    HostName: node.name,
    DNSName: state.fqdn(node),
    OS: node.os,
    UserID: node.user.id,
    TailscaleIPs: [node.address],
    AllowedIPs: [prefix(node)],
  };
  if (node.tags.length > 0) ps['Tags'] = [...node.tags];
  Object.assign(ps, {
    Addrs: asSelf || direct ? [node.endpoint] : null,
    CurAddr: direct ? node.endpoint : '',
    Relay: HOME_DERP.code,
    PeerRelay: relayed ? peerRelayOf(node) : '',
    RxBytes: active ? 1024 * (node.index + 1) : 0,
    TxBytes: active ? 2048 * (node.index + 1) : 0,
    Created: node.created,
    LastWrite: active ? now : GO_ZERO_TIME,
    // Only meaningful (and only non-zero) for offline peers.
    LastSeen: online ? GO_ZERO_TIME : node.lastSeen,
    LastHandshake: active && !relayed ? now : GO_ZERO_TIME,
    Online: online,
    ExitNode: false,
    ExitNodeOption: false,
    Active: active,
    PeerAPIURL: [`http://${node.address}:${peerApiPort(node)}`],
    TaildropTarget: 0,
    NoFileSharingReason: '',
    InNetworkMap: true,
    InMagicSock: !asSelf,
    InEngine: !asSelf,
  });
  return ps;
}

function peerApiPort(node: NodeState): number {
  return 40000 + node.index;
}

/** GET /localapi/v0/status from `viewer`. */
export function renderStatus(state: TailnetState, viewer: NodeState): RawObject {
  const running = backendState(viewer) === 'Running';
  const peers: RawObject = {};
  const users = new Map<bigint, EmulatedUser>([[viewer.user.id, viewer.user]]);
  if (running) {
    for (const node of state.members()) {
      if (node === viewer) continue;
      peers[node.nodeKey] = peerStatus(state, node, false);
      users.set(node.user.id, node.user);
    }
  }
  const userMap: RawObject = {};
  for (const [id, user] of users) userMap[id.toString()] = userProfile(user);
  return {
    Version: EMULATED_VERSION,
    TUN: false,
    BackendState: backendState(viewer),
    HaveNodeKey: true,
    AuthURL: running ? '' : `https://login.tailscale.com/a/emulated-${viewer.index + 1}`,
    TailscaleIPs: running ? [viewer.address] : null,
    Self: peerStatus(state, viewer, true),
    Health: running ? [] : ['You are logged out.'],
    MagicDNSSuffix: state.magicDnsSuffix,
    CurrentTailnet: running ? { Name: state.tailnet, MagicDNSSuffix: state.magicDnsSuffix, MagicDNSEnabled: true } : null,
    CertDomains: running ? [`${viewer.name}.${state.magicDnsSuffix}`] : null,
    Peer: running ? peers : null,
    User: userMap,
    ClientVersion: null,
  };
}

/** tailcfg.Node as carried by whois answers and ipn bus peer changes. */
export function renderNode(state: TailnetState, node: NodeState): RawObject {
  const fqdn = state.fqdn(node);
  const n: RawObject = {
    ID: node.nodeId,
    StableID: node.stableId,
    Name: fqdn,
    User: node.user.id,
    Key: node.nodeKey,
    Machine: node.machineKey,
    DiscoKey: node.discoKey,
    Addresses: [prefix(node)],
    AllowedIPs: [prefix(node)],
    Endpoints: [node.endpoint],
    HomeDERP: HOME_DERP.id,
    Hostinfo: { OS: node.os, Hostname: node.name },
    Created: node.created,
    Cap: CAPABILITY_VERSION,
  };
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

/** POST /localapi/v0/ping answer once `target` replied. */
export function renderPing(target: NodeState, kind: PingKind, latencyMs: number): RawObject {
  const res: RawObject = {
    IP: target.address,
    NodeIP: target.address,
    NodeName: target.name,
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

/** A ping the engine answers at once with an error (unknown or local IP). */
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

/** An ipn.Notify with the fields Go always writes (nil pointers as null). */
export function renderNotify(fields: RawObject): RawObject {
  return {
    Version: EMULATED_VERSION,
    ErrMessage: null,
    LoginFinished: null,
    State: null,
    Prefs: null,
    NetMap: null,
    Engine: null,
    BrowseToURL: null,
    ...fields,
  };
}

export function renderEngine(state: TailnetState, viewer: NodeState): RawObject {
  const live = state.members().filter((n) => n !== viewer && n.online);
  const livePeers: RawObject = {};
  for (const n of live) {
    livePeers[n.nodeKey] = { NodeKey: n.nodeKey, TxBytes: 2048 * (n.index + 1), RxBytes: 1024 * (n.index + 1), LastHandshake: new Date().toISOString() };
  }
  return {
    RBytes: live.reduce((a, n) => a + 1024 * (n.index + 1), 0),
    WBytes: live.reduce((a, n) => a + 2048 * (n.index + 1), 0),
    NumLive: live.length,
    LiveDERPs: live.some((n) => n.path === 'derp') ? 1 : 0,
    LivePeers: livePeers,
  };
}
