// The peer model the mesh works with: one record per device, with the path
// traffic takes to it right now.
import type { PeerStatus, TailnetNode, TailscaleStatus } from './model.js';

/**
 * How traffic reaches a peer now. `direct`: UDP straight to the peer
 * (CurAddr set). `peer-relay`: through another tailnet node acting as a UDP
 * relay (PeerRelay set). `derp`: through a DERP server (online, neither set;
 * `Relay` names the home region and is not by itself proof of relaying).
 */
export type PeerPath = 'direct' | 'peer-relay' | 'derp' | 'offline';

export interface Peer {
  stableId: string;
  nodeId?: string;
  nodeKey: string;
  hostName: string;
  dnsName: string;
  tailscaleIps: string[];
  tags: string[];
  os: string;
  online: boolean;
  lastSeen?: string;
  path: PeerPath;
  curAddr: string;
  /** Home DERP region code. */
  relay: string;
  peerRelay: string;
  userId?: string;
  active: boolean;
  /** Only in our netmap because a user we shared a device with owns it (never a member). */
  shareeNode?: boolean;
  /** Shared into this tailnet by another user (never a member). */
  sharedIn?: boolean;
}

export function classifyPath(ps: Pick<PeerStatus, 'online' | 'curAddr' | 'peerRelay'>): PeerPath {
  if (!ps.online) return 'offline';
  if (ps.curAddr !== '') return 'direct';
  if (ps.peerRelay !== '') return 'peer-relay';
  return 'derp';
}

export function peerFromStatus(ps: PeerStatus): Peer {
  const peer: Peer = {
    stableId: ps.stableId,
    nodeKey: ps.publicKey,
    hostName: ps.hostName,
    dnsName: ps.dnsName,
    tailscaleIps: [...ps.tailscaleIps],
    tags: [...ps.tags],
    os: ps.os,
    online: ps.online,
    path: classifyPath(ps),
    curAddr: ps.curAddr,
    relay: ps.relay,
    peerRelay: ps.peerRelay,
    active: ps.active,
  };
  if (ps.nodeId !== '') peer.nodeId = ps.nodeId;
  if (ps.userId !== '') peer.userId = ps.userId;
  if (ps.lastSeen !== undefined) peer.lastSeen = ps.lastSeen;
  if (ps.shareeNode) peer.shareeNode = true;
  if (ps.altSharerUserId !== '') peer.sharedIn = true;
  return peer;
}

/**
 * A device that belongs to somebody else: a sharee's node (ipnstate.PeerStatus.ShareeNode) or
 * one shared into this tailnet (AltSharerUserID set). Its tags are not this tailnet's word.
 */
export function isForeignPeer(p: Pick<Peer, 'shareeNode' | 'sharedIn'>): boolean {
  return p.shareeNode === true || p.sharedIn === true;
}

/** The same test on a whois answer's node (tailcfg.Node.Sharer, Hostinfo.ShareeNode). */
export function isForeignNode(n: Pick<TailnetNode, 'sharer' | 'shareeNode'>): boolean {
  return n.shareeNode || n.sharer !== '';
}

/** OSes of devices that usually run on battery: they are not woken without need. */
const BATTERY_OSES = new Set(['ios', 'android', 'ipados', 'tvos', 'watchos']);

export function mayBeOnBattery(p: Pick<Peer, 'os'>): boolean {
  return BATTERY_OSES.has(p.os.toLowerCase());
}

/** This device. Its path is `direct` (it reaches itself) unless it is cut off from the control plane. */
export function selfFromStatus(s: TailscaleStatus): Peer {
  const self = peerFromStatus(s.self);
  self.path = s.self.online ? 'direct' : 'offline';
  if (self.tailscaleIps.length === 0) self.tailscaleIps = [...s.tailscaleIps];
  return self;
}

/** Every peer in the status, sorted by node key (offline ones included, path `offline`). */
export function peersFromStatus(s: TailscaleStatus): Peer[] {
  return s.peers.map(peerFromStatus);
}

/** The peer owning a Tailscale IP, if any. */
export function findPeerByIp(peers: readonly Peer[], ip: string): Peer | undefined {
  return peers.find((p) => p.tailscaleIps.includes(ip));
}
