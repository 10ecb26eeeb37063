// The parsed, camelCase view of tailscaled's LocalAPI JSON. Field meanings
// follow the Go structs (ipnstate.Status/PeerStatus/PingResult,
// tailcfg.Node/UserProfile, apitype.WhoIsResponse, ipn.Notify). All int64 IDs
// are exact decimal strings.
import type { JsonValue } from './json.js';
import { ObjectReader } from './shape.js';

/** ipn.State names, in the daemon's numeric order. */
export const BACKEND_STATES = [
  'NoState',
  'InUseOtherUser',
  'NeedsLogin',
  'NeedsMachineAuth',
  'Stopped',
  'Starting',
  'Running',
] as const;
export type BackendState = (typeof BACKEND_STATES)[number];

export interface UserProfile {
  id: string;
  loginName: string;
  displayName: string;
  profilePicUrl?: string;
  groups: string[];
}

/** ipnstate.PeerStatus, parsed. */
export interface PeerStatus {
  stableId: string;
  nodeId: string;
  publicKey: string;
  hostName: string;
  dnsName: string;
  os: string;
  userId: string;
  /** The user who shared this node into our tailnet, if different from its owner ("" otherwise). */
  altSharerUserId: string;
  /** The node is only in our netmap because a user we shared to owns it (hidden by `tailscale status`). */
  shareeNode: boolean;
  tailscaleIps: string[];
  allowedIps: string[];
  /** Absent `Tags` means no tags. */
  tags: string[];
  addrs: string[];
  /** Non-empty iff traffic flows directly (UDP) to this peer. */
  curAddr: string;
  /** Home DERP region code: where the peer can be reached, not proof of relaying. */
  relay: string;
  /** Non-empty when a peer relay carries the traffic. */
  peerRelay: string;
  rxBytes: number;
  txBytes: number;
  created?: string;
  lastWrite?: string;
  lastSeen?: string;
  lastHandshake?: string;
  online: boolean;
  exitNode: boolean;
  exitNodeOption: boolean;
  active: boolean;
  peerApiUrls: string[];
  capMap: Record<string, JsonValue[]>;
  inNetworkMap: boolean;
  inMagicSock: boolean;
  inEngine: boolean;
  expired: boolean;
  keyExpiry?: string;
}

export interface TailnetInfo {
  name: string;
  magicDnsSuffix: string;
  magicDnsEnabled: boolean;
}

/** ipnstate.Status, parsed. Peers are sorted by node key. */
export interface TailscaleStatus {
  version: string;
  tun: boolean;
  backendState: string;
  haveNodeKey: boolean;
  authUrl: string;
  tailscaleIps: string[];
  /** Present whenever the daemon reports Self; an empty record otherwise. */
  self: PeerStatus;
  health: string[];
  magicDnsSuffix: string;
  currentTailnet?: TailnetInfo;
  certDomains: string[];
  peers: PeerStatus[];
  users: Record<string, UserProfile>;
}

/** tailcfg.Node, parsed (as in whois answers and ipn bus peer changes). */
export interface TailnetNode {
  nodeId: string;
  stableId: string;
  /** MagicDNS FQDN with its trailing dot. */
  name: string;
  userId: string;
  /** User who shared the node to us, if not its owner ("" otherwise). */
  sharer: string;
  /** Hostinfo.ShareeNode: in our netmap only because a sharee owns it. */
  shareeNode: boolean;
  key: string;
  /** CIDR prefixes as sent (e.g. "100.101.102.103/32"). */
  addresses: string[];
  /** The addresses without their prefix length. */
  tailscaleIps: string[];
  allowedIps: string[];
  endpoints: string[];
  homeDerp: number;
  hostName: string;
  os: string;
  tags: string[];
  online?: boolean;
  lastSeen?: string;
  created?: string;
  keyExpiry?: string;
  machineAuthorized: boolean;
  computedName: string;
  expired: boolean;
  capMap: Record<string, JsonValue[]>;
}

export interface WhoIs {
  node: TailnetNode;
  userProfile: UserProfile;
  /** Peer capabilities granted to the caller by the tailnet policy. */
  capMap: Record<string, JsonValue[]>;
}

export type PingType = 'disco' | 'TSMP' | 'ICMP' | 'peerapi';

/** ipnstate.PingResult, parsed; `path` says which way the answer came. */
export interface PingResult {
  ip: string;
  nodeIp: string;
  nodeName: string;
  /** Non-empty when the daemon reports the ping failed. */
  err: string;
  latencySeconds: number;
  latencyMs: number;
  endpoint: string;
  peerRelay: string;
  derpRegionId: number;
  derpRegionCode: string;
  peerApiPort?: number;
  peerApiUrl?: string;
  isLocalIp: boolean;
  path: 'direct' | 'peer-relay' | 'derp' | 'unknown';
}

/** tailcfg.PeerChange: a narrow update to one peer. */
export interface PeerChange {
  nodeId: string;
  derpRegion?: number;
  online?: boolean;
  lastSeen?: string;
  endpoints?: string[];
  key?: string;
}

export interface EngineStatus {
  rBytes: number;
  wBytes: number;
  numLive: number;
  liveDerps: number;
}

/** ipn.Notify, parsed; fields the mesh has no use for stay in `raw`. */
export interface IpnNotify {
  version?: string;
  sessionId?: string;
  errMessage?: string;
  state?: BackendState;
  loginFinished: boolean;
  initialStatus?: TailscaleStatus;
  selfChange?: TailnetNode;
  peersChanged?: TailnetNode[];
  peersRemoved?: string[];
  peerChangedPatch?: PeerChange[];
  engine?: EngineStatus;
  raw: Record<string, JsonValue>;
}

function parseUserProfile(r: ObjectReader): UserProfile {
  const profile: UserProfile = {
    id: r.id('ID'),
    loginName: r.string('LoginName'),
    displayName: r.string('DisplayName'),
    groups: r.strings('Groups'),
  };
  const pic = r.optionalString('ProfilePicURL');
  if (pic) profile.profilePicUrl = pic;
  return profile;
}

export function parsePeerStatus(r: ObjectReader): PeerStatus {
  const ps: PeerStatus = {
    stableId: r.string('ID'),
    nodeId: r.id('NodeID'),
    publicKey: r.string('PublicKey'),
    hostName: r.string('HostName'),
    dnsName: r.string('DNSName'),
    os: r.string('OS'),
    userId: r.id('UserID'),
    altSharerUserId: r.id('AltSharerUserID'),
    shareeNode: r.bool('ShareeNode'),
    tailscaleIps: r.strings('TailscaleIPs'),
    allowedIps: r.strings('AllowedIPs'),
    tags: r.strings('Tags'),
    addrs: r.strings('Addrs'),
    curAddr: r.string('CurAddr'),
    relay: r.string('Relay'),
    peerRelay: r.string('PeerRelay'),
    rxBytes: r.number('RxBytes'),
    txBytes: r.number('TxBytes'),
    online: r.bool('Online'),
    exitNode: r.bool('ExitNode'),
    exitNodeOption: r.bool('ExitNodeOption'),
    active: r.bool('Active'),
    peerApiUrls: r.strings('PeerAPIURL'),
    capMap: r.capMap('CapMap'),
    inNetworkMap: r.bool('InNetworkMap'),
    inMagicSock: r.bool('InMagicSock'),
    inEngine: r.bool('InEngine'),
    expired: r.bool('Expired'),
  };
  const times = {
    created: r.time('Created'),
    lastWrite: r.time('LastWrite'),
    lastSeen: r.time('LastSeen'),
    lastHandshake: r.time('LastHandshake'),
    keyExpiry: r.time('KeyExpiry'),
  };
  for (const [k, v] of Object.entries(times)) if (v !== undefined) ps[k as keyof typeof times] = v;
  return ps;
}

export function emptyPeerStatus(): PeerStatus {
  return parsePeerStatus(new ObjectReader({}, 'Self'));
}

export function parseStatus(value: JsonValue): TailscaleStatus {
  const r = ObjectReader.of(value, 'Status');
  const selfReader = r.object('Self');
  const peers: PeerStatus[] = [];
  const peerMap = r.object('Peer');
  if (peerMap) {
    for (const key of Object.keys(peerMap.obj).sort()) {
      const ps = parsePeerStatus(ObjectReader.of(peerMap.obj[key], `Status.Peer[${JSON.stringify(key)}]`));
      if (!ps.publicKey) ps.publicKey = key;
      peers.push(ps);
    }
  }
  const users: Record<string, UserProfile> = {};
  const userMap = r.object('User');
  if (userMap) {
    for (const id of Object.keys(userMap.obj)) {
      const profile = parseUserProfile(ObjectReader.of(userMap.obj[id], `Status.User[${JSON.stringify(id)}]`));
      // The map key is the exact ID even when the value's ID was rounded by a careless encoder.
      Object.defineProperty(users, id, { value: profile, enumerable: true, writable: true, configurable: true });
    }
  }
  const tailnet = r.object('CurrentTailnet');
  const status: TailscaleStatus = {
    version: r.string('Version'),
    tun: r.bool('TUN'),
    backendState: r.string('BackendState'),
    haveNodeKey: r.bool('HaveNodeKey'),
    authUrl: r.string('AuthURL'),
    tailscaleIps: r.strings('TailscaleIPs'),
    self: selfReader ? parsePeerStatus(selfReader) : emptyPeerStatus(),
    health: r.strings('Health'),
    magicDnsSuffix: r.string('MagicDNSSuffix'),
    certDomains: r.strings('CertDomains'),
    peers,
    users,
  };
  if (tailnet) {
    status.currentTailnet = {
      name: tailnet.string('Name'),
      magicDnsSuffix: tailnet.string('MagicDNSSuffix'),
      magicDnsEnabled: tailnet.bool('MagicDNSEnabled'),
    };
  }
  return status;
}

export function parseNode(r: ObjectReader): TailnetNode {
  const hostinfo = r.object('Hostinfo');
  const addresses = r.strings('Addresses');
  const node: TailnetNode = {
    nodeId: r.id('ID'),
    stableId: r.string('StableID'),
    name: r.string('Name'),
    userId: r.id('User'),
    sharer: r.id('Sharer'),
    shareeNode: hostinfo ? hostinfo.bool('ShareeNode') : false,
    key: r.string('Key'),
    addresses,
    tailscaleIps: addresses.map((p) => p.replace(/\/\d+$/, '')),
    allowedIps: r.strings('AllowedIPs'),
    endpoints: r.strings('Endpoints'),
    homeDerp: r.number('HomeDERP'),
    hostName: hostinfo ? hostinfo.string('Hostname') : '',
    os: hostinfo ? hostinfo.string('OS') : '',
    tags: r.strings('Tags'),
    machineAuthorized: r.bool('MachineAuthorized'),
    computedName: r.string('ComputedName'),
    expired: r.bool('Expired'),
    capMap: r.capMap('CapMap'),
  };
  const online = r.optionalBool('Online');
  if (online !== undefined) node.online = online;
  const lastSeen = r.time('LastSeen');
  if (lastSeen) node.lastSeen = lastSeen;
  const created = r.time('Created');
  if (created) node.created = created;
  const keyExpiry = r.time('KeyExpiry');
  if (keyExpiry) node.keyExpiry = keyExpiry;
  return node;
}

export function parseWhoIs(value: JsonValue): WhoIs {
  const r = ObjectReader.of(value, 'WhoIsResponse');
  return {
    node: parseNode(ObjectReader.of(r.obj['Node'], 'WhoIsResponse.Node')),
    userProfile: parseUserProfile(ObjectReader.of(r.obj['UserProfile'], 'WhoIsResponse.UserProfile')),
    capMap: r.capMap('CapMap'),
  };
}

export function parsePingResult(value: JsonValue): PingResult {
  const r = ObjectReader.of(value, 'PingResult');
  const latencySeconds = r.number('LatencySeconds');
  const result: PingResult = {
    ip: r.string('IP'),
    nodeIp: r.string('NodeIP'),
    nodeName: r.string('NodeName'),
    err: r.string('Err'),
    latencySeconds,
    latencyMs: Math.round(latencySeconds * 1e6) / 1e3,
    endpoint: r.string('Endpoint'),
    peerRelay: r.string('PeerRelay'),
    derpRegionId: r.number('DERPRegionID'),
    derpRegionCode: r.string('DERPRegionCode'),
    isLocalIp: r.bool('IsLocalIP'),
    path: 'unknown',
  };
  if (result.endpoint) result.path = 'direct';
  else if (result.peerRelay) result.path = 'peer-relay';
  else if (result.derpRegionId !== 0) result.path = 'derp';
  if (r.has('PeerAPIPort')) result.peerApiPort = r.number('PeerAPIPort');
  const url = r.optionalString('PeerAPIURL');
  if (url) result.peerApiUrl = url;
  return result;
}

function parseBackendState(value: JsonValue | undefined): BackendState | undefined {
  if (typeof value === 'number' && Number.isInteger(value)) return BACKEND_STATES[value];
  if (typeof value === 'string') return (BACKEND_STATES as readonly string[]).includes(value) ? (value as BackendState) : undefined;
  return undefined;
}

export function parseNotify(value: JsonValue): IpnNotify {
  const r = ObjectReader.of(value, 'Notify');
  const n: IpnNotify = { loginFinished: r.has('LoginFinished'), raw: r.obj };
  const version = r.optionalString('Version');
  if (version !== undefined) n.version = version;
  const sessionId = r.optionalString('SessionID');
  if (sessionId !== undefined) n.sessionId = sessionId;
  const errMessage = r.optionalString('ErrMessage');
  if (errMessage !== undefined) n.errMessage = errMessage;
  const state = parseBackendState(r.obj['State']);
  if (state !== undefined) n.state = state;
  if (r.has('InitialStatus')) n.initialStatus = parseStatus(r.obj['InitialStatus'] as JsonValue);
  const self = r.object('SelfChange');
  if (self) n.selfChange = parseNode(self);
  if (r.has('PeersChanged')) {
    n.peersChanged = r.array('PeersChanged').map((v, i) => parseNode(ObjectReader.of(v, `Notify.PeersChanged[${i}]`)));
  }
  if (r.has('PeersRemoved')) {
    n.peersRemoved = r.array('PeersRemoved').map((v, i) => new ObjectReader({ id: v }, `Notify.PeersRemoved[${i}]`).id('id'));
  }
  if (r.has('PeerChangedPatch')) {
    n.peerChangedPatch = r.array('PeerChangedPatch').map((v, i) => {
      const p = ObjectReader.of(v, `Notify.PeerChangedPatch[${i}]`);
      const change: PeerChange = { nodeId: p.id('NodeID') };
      if (p.has('DERPRegion')) change.derpRegion = p.number('DERPRegion');
      if (p.has('Online')) change.online = p.bool('Online');
      const seen = p.time('LastSeen');
      if (seen) change.lastSeen = seen;
      if (p.has('Endpoints')) change.endpoints = p.strings('Endpoints');
      if (p.has('Key')) change.key = p.string('Key');
      return change;
    });
  }
  const engine = r.object('Engine');
  if (engine) {
    n.engine = {
      rBytes: engine.number('RBytes'),
      wBytes: engine.number('WBytes'),
      numLive: engine.number('NumLive'),
      liveDerps: engine.number('LiveDERPs'),
    };
  }
  return n;
}
