// Device profiles across the mesh: this device's own (declared in its profile file, measured
// now) and its peers', asked with the FCP `profile` message every poll. A peer whose fcpd has not
// answered lately is not alive: placement leaves it out.
import type { MeshNode } from '../mesh/index.js';
import type { Candidate } from './placement.js';
import { buildProfile, measureFacts, ProfileFile, type DeclaredProfile, type DeviceProfile } from './profile.js';

export interface PeerProfile {
  profile: DeviceProfile;
  /** The Ed25519 key it signs hub records with. */
  signingKey: Uint8Array;
  /** Monotonic ms of its last answer. */
  seenAt: number;
}

export interface PeerProfilesDeps {
  node: Pick<MeshNode, 'opts' | 'self' | 'directory' | 'eligibility' | 'call' | 'keyring'>;
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
          if (r.t === 'profile_result') this.peers.set(id, { profile: r.profile, signingKey: r.signingPublicKey, seenAt: this.deps.now() });
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

  /** The signing key a device advertised (this device's own from its keyring). */
  signingKeyOf(stableId: string): Uint8Array | undefined {
    if (stableId === this.deps.node.self.stableId) return this.deps.node.keyring.node.signingPublicKey;
    return this.peers.get(stableId)?.signingKey;
  }
}
