// Device profiles across the mesh: this device's own (declared in its profile file, measured
// now) and its peers', asked with the FCP `profile` message every poll. A peer whose fcpd has not
// answered lately is not alive: placement leaves it out. The signing key a profile carries is
// offered to the node's pinned keys (SignerKeys), which alone say whose key verifies what.
import type { MeshNode } from '../mesh/index.js';
import type { Candidate } from './placement.js';
import { buildProfile, measureFacts, ProfileFile, type DeclaredProfile, type DeviceProfile } from './profile.js';

export interface PeerProfile {
  profile: DeviceProfile;
  /** Monotonic ms of its last answer. */
  seenAt: number;
}

export interface PeerProfilesDeps {
  node: Pick<MeshNode, 'opts' | 'self' | 'directory' | 'eligibility' | 'call' | 'keyring' | 'signers'>;
  /** A peer is alive while its last answer is younger than this (ms). */
  aliveForMs: number;
  /** How long one peer may take to answer (ms). */
  timeoutMs: number;
  now: () => number;
}

export class PeerProfiles {
  private readonly file: ProfileFile;
  private declared: DeclaredProfile;
  private own: DeviceProfile;
  private readonly peers = new Map<string, PeerProfile>();

  constructor(private readonly deps: PeerProfilesDeps) {
    this.file = new ProfileFile(deps.node.opts.dataDir);
    this.declared = this.file.load();
    this.own = buildProfile(this.declared, measureFacts(), deps.node.self.hostName);
  }

  /** This device's profile as last measured. */
  get self(): DeviceProfile {
    return this.own;
  }

  /** Merges declared settings into the profile file and takes them up at once. */
  async declare(settings: DeclaredProfile): Promise<DeviceProfile> {
    this.declared = await this.file.update(settings);
    this.own = buildProfile(this.declared, measureFacts(), this.deps.node.self.hostName);
    return this.own;
  }

  of(stableId: string): PeerProfile | undefined {
    return this.peers.get(stableId);
  }

  alive(stableId: string): boolean {
    if (stableId === this.deps.node.self.stableId) return true;
    const p = this.peers.get(stableId);
    return p !== undefined && this.deps.now() - p.seenAt < this.deps.aliveForMs;
  }

  /** Measures this device again and asks every online member for its profile. */
  async poll(): Promise<void> {
    this.own = buildProfile(this.declared, measureFacts(), this.deps.node.self.hostName);
    await Promise.all(
      this.deps.node.eligibility.members().map(async (info) => {
        const id = info.peer.stableId;
        try {
          const r = await this.deps.node.call(id, { t: 'profile' }, this.deps.timeoutMs);
          if (r.t === 'profile_result') {
            this.peers.set(id, { profile: r.profile, seenAt: this.deps.now() });
            // The key it presents goes through the one set of pins (first use pins it; a changed
            // key is believed only with an owner grant or `fcp device trust`, never from here).
            this.deps.node.signers.offer(id, r.signingPublicKey);
          }
        } catch {
          // not answering: it drops out of placement once its last answer is old
        }
      }),
    );
  }

  /** This device and the alive peers, as placement sees them. */
  candidates(): Candidate[] {
    const n = this.deps.node;
    const self: Candidate = { stableId: n.self.stableId, hostName: n.self.hostName, zones: n.directory.selfZones, profile: this.own };
    const others = n.directory
      .all()
      .filter((i) => this.alive(i.peer.stableId))
      .map((i): Candidate => ({ stableId: i.peer.stableId, hostName: i.peer.hostName, zones: i.zones, profile: this.peers.get(i.peer.stableId)!.profile }));
    return [self, ...others];
  }

  /**
   * The key that verifies a device's hub records: its pinned node signing key (mesh/signer-keys.ts,
   * the same pins that verify its heads and tombstones; this device's own from its keyring).
   */
  signingKeyOf(stableId: string): Uint8Array | undefined {
    return this.deps.node.signers.pinned(stableId);
  }

  /**
   * Every key that verifies a device's hub record made at `at`: the pin, and the device's former
   * keys that were still its own then (a reset device's state, signed before the reset).
   */
  signingKeysOf(stableId: string, at: number): Uint8Array[] {
    return this.deps.node.signers.keysAt(stableId, at);
  }
}
