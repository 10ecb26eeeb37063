// The owner key: a FROST(Ed25519, SHA-512) key k-of-n over the owner devices (z:owner), made by a
// Pedersen DKG over FCP (no dealer: the key is never whole anywhere) and used in the two rounds
// of RFC 9591 §5 over FCP. Any owner device coordinates; every participant authorizes each step
// (owner.dkg, owner.commit, owner.sign, owner.grant), checks what it is asked to sign, and uses
// each nonce once. It is this device's OwnerAuthority (public key, sign, device grant).
import { createHash, randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  bytesEqual,
  decodeSign1,
  decodeStrict,
  DkgCheatError,
  dkgFinish,
  dkgGroupKey,
  dkgPublicShare,
  dkgRound1,
  dkgShareFor,
  frostAggregate,
  frostCommit,
  frostDeserializeScalar,
  frostSerializeScalar,
  frostSignShare,
  frostVerifyShare,
  openSealed,
  sealTo,
  verifySign1,
  wipeDkgSecret,
  type DkgPackage,
  type DkgSecret,
  type FrostCommitment,
  type FrostKeyShare,
  type FrostNonces,
} from '../crypto/index.js';
import { inZone, mintRootAsync, NODE, parseClaims, type Authorizer, type DevicePrincipal, type OwnerAuthority, type PeerAction, type Principal } from '../authz/index.js';
import { expectReply, type MeshNode, type Outgoing } from '../mesh/index.js';
import type { Message } from '../wire/index.js';
import { mayHold, type Zone } from '../zones/index.js';
import { OwnerError } from './owner-errors.js';
import {
  decodeOwnerReply,
  decodeOwnerRequest,
  encodeOwnerReply,
  encodeOwnerRequest,
  errorReply,
  OWNER_PURPOSES,
  replyBytes,
  replyBytesIn,
  replyList,
  replyPackage,
  type OwnerRequest,
} from './owner-protocol.js';
import { decodeGroup, encodeGroup, OwnerStore, type OwnerGroup } from './owner-store.js';

export const OWNER_ZONE = 'z:owner';
const DAY = 86_400;

export interface OwnerOptions {
  /** Bound on each request to a participant (ms). */
  rpcTimeoutMs?: number;
  /** Lifetime of a device grant (s; default 30 days). */
  grantTtlSeconds?: number;
  /** A grant is renewed when less than this is left (s; default 7 days). */
  renewBeforeSeconds?: number;
  /** How often the grant's expiry is looked at (ms; default 6 h; 0 = never). */
  renewCheckMs?: number;
  /** How soon after start an owner device without a grant asks to be enrolled (ms; default 1 s). */
  enrollDelayMs?: number;
  /** Called when this device learns the owner key (made here, or learnt from an owner device). */
  onOwnerKey?: () => void;
}

export interface OwnerParticipantStatus {
  identifier: number;
  hostName: string;
  stableId: string;
  self: boolean;
  online: boolean;
}

export interface OwnerStatus {
  exists: boolean;
  keyId?: string;
  publicKey?: string;
  threshold?: number;
  participants: OwnerParticipantStatus[];
  holdsShare: boolean;
  grantExpiresAt?: string;
}

/** Tests only: make this device a participant that cheats, to see it named. */
export interface OwnerFaults {
  /** In DKG, send this participant a share that does not match the commitments. */
  badDkgShareTo?: number;
  /** In signing, answer round 2 with a wrong signature share. */
  badSignatureShare?: boolean;
}

type NodeParts = Pick<MeshNode, 'self' | 'keyring' | 'zones' | 'directory' | 'eligibility' | 'call' | 'boxKeyOf' | 'log'>;

interface DkgSession {
  coordinator: string;
  threshold: number;
  participants: { identifier: number; stableId: string }[];
  me: number;
  secret: DkgSecret;
  at: number;
  result?: FrostKeyShare;
  group?: OwnerGroup;
}

const MAX_PENDING_NONCES = 64;
const NONCE_TTL_MS = 120_000;
const MAX_USED_SESSIONS = 1024;
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const keyIdOf = (pk: Uint8Array) => createHash('sha256').update(pk).digest('hex').slice(0, 16);

export class OwnerService implements OwnerAuthority {
  private share: FrostKeyShare | null = null;
  private group: OwnerGroup | null = null;
  private grant: Uint8Array | null = null;
  private readonly dkg = new Map<string, DkgSession>();
  private readonly nonces = new Map<string, { nonces: FrostNonces; at: number }>();
  private readonly used = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private firstTimer: NodeJS.Timeout | null = null;
  private renewing: Promise<void> | null = null;
  /** Tests only (see OwnerFaults). */
  faults: OwnerFaults = {};

  private constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
    private readonly store: OwnerStore,
    private readonly selfPrincipal: () => DevicePrincipal,
    private readonly opts: OwnerOptions,
  ) {}

  static async open(node: NodeParts, authz: Authorizer, dataDir: string, selfPrincipal: () => DevicePrincipal, opts: OwnerOptions = {}): Promise<OwnerService> {
    const keys = node.keyring.node;
    const store = OwnerStore.at(dataDir, { publicKey: keys.encryptionPublicKey, secretKey: keys.encryptionSecretKey }, node.self.stableId);
    const s = new OwnerService(node, authz, store, selfPrincipal, opts);
    s.share = await store.loadShare();
    s.group = await store.loadGroup();
    s.grant = await store.loadGrant();
    return s;
  }

  // ---- OwnerAuthority ----

  publicKey(): Uint8Array | undefined {
    return this.group?.groupPublicKey;
  }

  deviceGrant(): Uint8Array | undefined {
    return this.grant ?? undefined;
  }

  /** A plain Ed25519 signature by the owner key: k owner devices, two rounds over FCP. */
  async sign(message: Uint8Array, purpose: string): Promise<Uint8Array> {
    const group = this.group;
    if (!group) throw new OwnerError('OWNER_NO_KEY', 'there is no owner key yet; run `fcp owner init` on an owner device');
    if (!this.share) throw new OwnerError('OWNER_NOT_OWNER', `${this.node.self.hostName} holds no owner key share; sign on an owner device`);
    if (!(OWNER_PURPOSES as readonly string[]).includes(purpose)) throw new OwnerError('OWNER_BAD_PURPOSE', `unknown signing purpose ${purpose} (${OWNER_PURPOSES.join(', ')})`);
    const session = randomBytes(16);
    const k = group.threshold;
    // Round 1: every participant that may be online; the first k answers (self first) sign.
    const candidates = group.participants.filter((p) => p.stableId === this.node.self.stableId || this.node.directory.byStableId(p.stableId)?.peer.online);
    const asked = await Promise.all(
      candidates.map(async (p) => {
        try {
          const r = await this.ask(p.stableId, { op: 'commit', session }, p.hostName);
          const c: FrostCommitment = { identifier: p.identifier, hiding: replyBytes(r, 'hiding', 32, p.hostName), binding: replyBytes(r, 'binding', 32, p.hostName) };
          return { p, c };
        } catch (err) {
          return { p, err: (err as { code?: string }).code ?? 'ERROR' };
        }
      }),
    );
    const answered = asked.filter((a): a is { p: (typeof group.participants)[number]; c: FrostCommitment } => 'c' in a);
    answered.sort((a, b) => Number(b.p.stableId === this.node.self.stableId) - Number(a.p.stableId === this.node.self.stableId) || a.p.identifier - b.p.identifier);
    if (answered.length < k) {
      const why = new Map(asked.map((a) => [a.p.identifier, 'err' in a ? a.err : ''] as const));
      const silent = group.participants.filter((p) => !answered.some((a) => a.p.identifier === p.identifier)).map((p) => `${p.hostName} (${why.get(p.identifier) ?? 'offline'})`);
      throw new OwnerError(
        'OWNER_TOO_FEW_ONLINE',
        `${answered.length} of the ${k} owner devices needed answered (${answered.map((a) => a.p.hostName).join(', ') || 'none'}); no answer from ${silent.join(', ')}`,
      );
    }
    const signers = answered.slice(0, k);
    const commitments = signers.map((s) => s.c);
    // Round 2: signature shares, each checked against that participant's public share.
    const shares = new Map<number, bigint>();
    await Promise.all(
      signers.map(async ({ p }) => {
        const r = await this.ask(p.stableId, { op: 'sign', session, purpose, message, commitments }, p.hostName);
        let z: bigint;
        try {
          z = frostDeserializeScalar(replyBytes(r, 'z', 32, p.hostName));
        } catch {
          throw new OwnerError('OWNER_BAD_SHARE', `${p.hostName} (participant ${p.identifier}) sent a malformed signature share`);
        }
        if (!frostVerifyShare(p.identifier, p.publicShare, z, commitments, group.groupPublicKey, message)) {
          throw new OwnerError('OWNER_BAD_SHARE', `${p.hostName} (participant ${p.identifier}) sent a signature share that does not verify`);
        }
        shares.set(p.identifier, z);
      }),
    );
    const signature = frostAggregate(commitments, shares, group.groupPublicKey, message);
    if (!ed25519.verify(signature, message, group.groupPublicKey)) throw new OwnerError('OWNER_BAD_SHARE', 'the aggregated owner signature does not verify');
    return signature;
  }

  // ---- local front door ----

  /** The ceremony: a k-of-n owner key over this device and every owner device online now. */
  async init(p: Principal, threshold?: number): Promise<OwnerStatus> {
    this.authz.authorize(p, 'owner.init', NODE);
    if (this.group) throw new OwnerError('OWNER_EXISTS', `the owner key ${keyIdOf(this.group.groupPublicKey)} exists already`);
    const zone = this.ownerZone();
    if (!this.node.directory.selfZones.some((z) => z.id === OWNER_ZONE)) throw new OwnerError('OWNER_NOT_OWNER', `${this.node.self.hostName} is not an owner device (tag:fcp-owner); run this on one`);
    // Owner devices online now over a path z:owner may use (never DERP).
    // Only those whose fcpd answers now take part; one that comes later is enrolled (a grant, no share).
    const listed = this.node.eligibility.shareMembers(zone).map((i) => ({ stableId: i.peer.stableId, hostName: i.peer.hostName }));
    const answers = await Promise.all(listed.map((d) => this.ask(d.stableId, { op: 'info' }, d.hostName).then((r) => (r['group'] ? 'has-key' : 'ok'), () => 'silent')));
    if (answers.includes('has-key')) throw new OwnerError('OWNER_EXISTS', `${listed[answers.indexOf('has-key')]!.hostName} already knows an owner key`);
    const peers = listed.filter((_, i) => answers[i] === 'ok');
    const devices = [{ stableId: this.node.self.stableId, hostName: this.node.self.hostName }, ...peers].sort((a, b) => (a.stableId < b.stableId ? -1 : 1));
    const n = devices.length;
    const k = threshold ?? Math.floor(n / 2) + 1;
    if (!Number.isInteger(k) || k < 2 || k > n) throw new OwnerError('OWNER_BAD_THRESHOLD', `a threshold k needs 2 ≤ k ≤ ${n} (the owner devices online: ${devices.map((d) => d.hostName).join(', ')}); got ${threshold ?? k}`);
    const participants = devices.map((d, i) => ({ identifier: i + 1, stableId: d.stableId, hostName: d.hostName }));
    const session = randomBytes(16);
    try {
      return await this.ceremony(p, session, k, participants);
    } catch (err) {
      // Nothing of a failed ceremony stays open anywhere (best effort, bounded by the rpc timeout).
      await Promise.allSettled(participants.map((x) => this.ask(x.stableId, { op: 'dkg-abort', session }, x.hostName)));
      throw err;
    }
  }

  private async ceremony(p: Principal, session: Uint8Array, k: number, participants: { identifier: number; stableId: string; hostName: string }[]): Promise<OwnerStatus> {
    const n = participants.length;
    const nameOf = (id: number) => participants.find((x) => x.identifier === id)?.hostName ?? `participant ${id}`;
    // Round 1: each participant's commitments, proof, and shares sealed to each recipient.
    const round1 = await Promise.all(
      participants.map(async (x) => {
        const r = await this.ask(x.stableId, { op: 'dkg1', session, threshold: k, participants: participants.map(({ identifier, stableId }) => ({ identifier, stableId })) }, x.hostName).catch((err: Error) => {
          throw new OwnerError('OWNER_DKG_FAILED', `key generation failed in round 1 at ${x.hostName}: ${err.message}`);
        });
        const pkg = replyPackage(r['pkg'] as Record<string, unknown>);
        if (pkg.identifier !== x.identifier) throw new OwnerError('OWNER_DKG_FAILED', `${x.hostName} answered as participant ${pkg.identifier}, not ${x.identifier}`);
        const boxes = replyList(r, 'shares').map((s) => ({ to: Number(s['to']), box: replyBytesIn(s, 'box', 32, 512) }));
        return { x, pkg, boxes, signingKey: replyBytes(r, 'signingKey', 32, x.hostName) };
      }),
    );
    const packages = round1.map((r) => r.pkg);
    // Round 2: each participant checks every proof and its shares, and names a cheater.
    const round2 = await Promise.all(
      participants.map(async (x) => {
        const shares = round1.map((r) => {
          const b = r.boxes.find((s) => s.to === x.identifier);
          if (!b) throw new OwnerError('OWNER_DKG_FAILED', `${r.x.hostName} (participant ${r.x.identifier}) sent no share for ${x.hostName}`);
          return { from: r.x.identifier, box: b.box };
        });
        try {
          const r = await this.ask(x.stableId, { op: 'dkg2', session, packages, shares }, x.hostName);
          return { x, groupPublicKey: replyBytes(r, 'groupPublicKey', 32, x.hostName) };
        } catch (err) {
          const e = err as OwnerError;
          const cheater = /participant (\d+)/.exec(e.message)?.[1];
          throw new OwnerError('OWNER_DKG_FAILED', cheater ? `${nameOf(Number(cheater))} (participant ${cheater}) cheated, as ${x.hostName} found: ${e.message}` : `key generation failed in round 2 at ${x.hostName}: ${e.message}`);
        }
      }),
    );
    const groupPublicKey = dkgGroupKey(packages);
    for (const r of round2) if (!bytesEqual(r.groupPublicKey, groupPublicKey)) throw new OwnerError('OWNER_DKG_FAILED', `${r.x.hostName} computed another group key`);
    const group: OwnerGroup = {
      groupPublicKey,
      threshold: k,
      participants: participants.map((x) => ({ ...x, publicShare: dkgPublicShare(packages, x.identifier) })),
      createdAt: Math.floor(Date.now() / 1000),
    };
    // Round 3: everyone keeps the share and the public part.
    const groupBytes = encodeGroup(group);
    await Promise.all(participants.map((x) => this.ask(x.stableId, { op: 'dkg3', session, group: groupBytes }, x.hostName)));
    this.node.log.info({ keyId: keyIdOf(groupPublicKey), threshold: k, n }, 'owner key made');
    // Each owner device's grant, signed by the new key (k of them, now).
    for (const r of round1) {
      const grant = await this.mintGrant(r.x.hostName, r.x.stableId, r.signingKey, this.zonesOf(r.x.stableId), 'token-grant');
      await this.ask(r.x.stableId, { op: 'grant', grant }, r.x.hostName);
    }
    return this.status(p);
  }

  async status(p: Principal): Promise<OwnerStatus> {
    this.authz.authorize(p, 'owner.status', NODE);
    if (!this.group) await this.learnGroup();
    const g = this.group;
    if (!g) return { exists: false, participants: [], holdsShare: this.share !== null };
    let grantExpiresAt: string | undefined;
    if (this.grant) {
      try {
        grantExpiresAt = new Date(parseClaims(decodeSign1(this.grant).payload).exp * 1000).toISOString();
      } catch {
        grantExpiresAt = undefined;
      }
    }
    return {
      exists: true,
      keyId: keyIdOf(g.groupPublicKey),
      publicKey: hex(g.groupPublicKey),
      threshold: g.threshold,
      participants: g.participants.map((x) => ({
        identifier: x.identifier,
        hostName: x.hostName,
        stableId: x.stableId,
        self: x.stableId === this.node.self.stableId,
        online: x.stableId === this.node.self.stableId || this.node.directory.byStableId(x.stableId)?.peer.online === true,
      })),
      holdsShare: this.share !== null,
      ...(grantExpiresAt ? { grantExpiresAt } : {}),
    };
  }

  /** A non-owner device asks an owner device for the owner key's public part (to verify tokens). */
  async learnGroup(): Promise<OwnerGroup | null> {
    if (this.group) return this.group;
    for (const i of this.node.directory.ranked((x) => x.zones.some((z) => z.id === OWNER_ZONE)).slice(0, 3)) {
      try {
        const r = await this.ask(i.peer.stableId, { op: 'info' }, i.peer.hostName);
        if (!(r['group'] instanceof Uint8Array)) continue;
        this.group = decodeGroup(r['group']);
        await this.store.saveGroup(this.group);
        this.opts.onOwnerKey?.();
        return this.group;
      } catch {
        // try the next owner device
      }
    }
    return null;
  }

  /**
   * Renews this device's grant before it expires (one bounded background check), and has an
   * owner device without a grant (one that came after the key) enrolled soon after it starts.
   */
  startRenewal(): void {
    const first = setTimeout(() => void this.enrollIfNeeded(), this.opts.enrollDelayMs ?? 1_000);
    first.unref();
    this.firstTimer = first;
    const every = this.opts.renewCheckMs ?? 6 * 3600_000;
    if (every <= 0 || this.timer) return;
    this.timer = setInterval(() => void (this.grant ? this.renewIfDue() : this.enrollIfNeeded()), every);
    this.timer.unref();
  }

  /** An owner device without a grant asks an owner device holding a share (up to 3) for one. */
  async enrollIfNeeded(): Promise<boolean> {
    if (this.grant || !this.node.directory.selfZones.some((z) => z.id === OWNER_ZONE) || !this.node.zones.has(OWNER_ZONE)) return false;
    const group = await this.learnGroup();
    if (!group) return false;
    const online = group.participants.filter((x) => x.stableId !== this.node.self.stableId && this.node.directory.byStableId(x.stableId)?.peer.online).slice(0, 3);
    for (const x of online) {
      try {
        const r = await this.ask(x.stableId, { op: 'enroll', signingKey: this.node.keyring.node.signingPublicKey }, x.hostName);
        if (!(r['grant'] instanceof Uint8Array)) continue;
        await this.keepGrant(r['grant']);
        this.node.log.info({ by: x.hostName }, 'owner grant received (enrolled)');
        return true;
      } catch (err) {
        this.node.log.warn({ err: (err as Error).message, by: x.hostName }, 'owner enrollment failed');
      }
    }
    return false;
  }

  stop(): void {
    if (this.firstTimer) clearTimeout(this.firstTimer);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const s of this.dkg.values()) wipeDkgSecret(s.secret);
    this.dkg.clear();
    this.nonces.clear();
  }

  /** Signs a fresh grant for this device when less than renewBeforeSeconds is left. */
  async renewIfDue(now = Math.floor(Date.now() / 1000)): Promise<boolean> {
    if (!this.share || !this.group || this.renewing) return false;
    let exp = 0;
    try {
      if (this.grant) exp = parseClaims(decodeSign1(this.grant).payload).exp;
    } catch {
      exp = 0;
    }
    if (exp - now > (this.opts.renewBeforeSeconds ?? 7 * DAY)) return false;
    this.renewing = (async () => {
      try {
        const grant = await this.mintGrant(this.node.self.hostName, this.node.self.stableId, this.node.keyring.node.signingPublicKey, this.zonesOf(this.node.self.stableId), 'token-grant');
        await this.keepGrant(grant);
        this.node.log.info({}, 'owner grant renewed');
      } catch (err) {
        this.node.log.warn({ err: (err as Error).message }, 'owner grant renewal failed; tried again later');
      } finally {
        this.renewing = null;
      }
    })();
    await this.renewing;
    return true;
  }

  // ---- peer front door ----

  /** The `owner` frame of the FCP door (null for other message types). */
  async serve(p: DevicePrincipal, msg: Message): Promise<Outgoing | null> {
    if (msg.t !== 'owner') return null;
    return { t: 'owner_result', body: await this.handle(p, msg.body) };
  }

  /** One step asked by `p` (a peer, or this device coordinating). Never rejects: errors are replies. */
  async handle(p: DevicePrincipal, body: Uint8Array): Promise<Uint8Array> {
    try {
      const req = decodeOwnerRequest(body);
      const action: PeerAction = req.op === 'info' ? 'owner.info' : req.op.startsWith('dkg') ? 'owner.dkg' : req.op === 'commit' ? 'owner.commit' : req.op === 'sign' ? 'owner.sign' : 'owner.grant'; // grant, enroll
      this.authz.authorize(p, action, req.op === 'info' ? NODE : inZone(this.ownerZone()));
      return encodeOwnerReply({ ok: true, ...(await this.step(p, req)) });
    } catch (err) {
      return errorReply(err);
    }
  }

  private async step(p: DevicePrincipal, req: OwnerRequest): Promise<Record<string, unknown>> {
    switch (req.op) {
      case 'info':
        return this.group ? { group: encodeGroup(this.group) } : {};
      case 'dkg1':
        return this.dkg1(p, req);
      case 'dkg2':
        return this.dkg2(p, req);
      case 'dkg3':
        return this.dkg3(p, req);
      case 'dkg-abort': {
        const key = this.dkgKey(p, req.session);
        const s = this.dkg.get(key);
        if (s) wipeDkgSecret(s.secret);
        this.dkg.delete(key);
        return {};
      }
      case 'commit':
        return this.commitStep(p, req.session);
      case 'sign':
        return this.signStep(p, req);
      case 'grant':
        await this.keepGrant(req.grant);
        return {};
      case 'enroll': {
        // An owner device that came after the key (or lost its grant): the key signs its grant.
        this.requireShare();
        // Like every grant: each zone its tags let it hold, not only its own zones.
        const zones = this.node.zones.all().filter((z) => mayHold(p.zones, z)).map((z) => z.id);
        return { grant: await this.mintGrant(p.hostName, p.stableId, req.signingKey, zones, 'device-enrollment'), group: encodeGroup(this.group!) };
      }
    }
  }

  private dkgKey = (p: DevicePrincipal, session: Uint8Array) => `${p.stableId}/${hex(session)}`;

  private async dkg1(p: DevicePrincipal, req: Extract<OwnerRequest, { op: 'dkg1' }>): Promise<Record<string, unknown>> {
    if (this.share || this.group) throw new OwnerError('OWNER_EXISTS', `${this.node.self.hostName} already holds an owner key`);
    const me = req.participants.find((x) => x.stableId === this.node.self.stableId);
    if (!me) throw new OwnerError('OWNER_BAD_REQUEST', `${this.node.self.hostName} is not among the participants`);
    const ids = new Set(req.participants.map((x) => x.identifier));
    if (ids.size !== req.participants.length || req.threshold > req.participants.length) throw new OwnerError('OWNER_BAD_REQUEST', 'participants must have distinct identifiers and at least k of them');
    // Shares go only to owner devices, sealed to the key each one tells us itself.
    const boxes: { to: number; box: Uint8Array }[] = [];
    const context = this.context(req.session, req.threshold, req.participants);
    const { secret, pkg } = dkgRound1(me.identifier, req.threshold, context);
    for (const x of req.participants) {
      const self = x.stableId === this.node.self.stableId;
      if (!self && !this.node.directory.byStableId(x.stableId)?.zones.some((z) => z.id === OWNER_ZONE)) {
        wipeDkgSecret(secret);
        throw new OwnerError('OWNER_BAD_REQUEST', `participant ${x.stableId} is not an owner device`);
      }
      const boxKey = self ? this.node.keyring.node.encryptionPublicKey : await this.node.boxKeyOf(x.stableId);
      let share = dkgShareFor(secret, x.identifier);
      if (this.faults.badDkgShareTo === x.identifier) share = share + 1n;
      boxes.push({ to: x.identifier, box: sealTo(boxKey, frostSerializeScalar(share), this.shareAad(req.session, me.identifier, x.identifier)) });
    }
    this.pruneDkg();
    if (this.dkg.size > 0) {
      wipeDkgSecret(secret);
      throw new OwnerError('OWNER_BUSY', `${this.node.self.hostName} is in another key generation; one at a time`);
    }
    this.dkg.set(this.dkgKey(p, req.session), { coordinator: p.stableId, threshold: req.threshold, participants: req.participants, me: me.identifier, secret, at: Date.now() });
    return { pkg, shares: boxes, signingKey: this.node.keyring.node.signingPublicKey };
  }

  private async dkg2(p: DevicePrincipal, req: Extract<OwnerRequest, { op: 'dkg2' }>): Promise<Record<string, unknown>> {
    const s = this.dkg.get(this.dkgKey(p, req.session));
    if (!s) throw new OwnerError('OWNER_BAD_REQUEST', 'no key generation of that session here (expired or never begun)');
    const shares = new Map<number, bigint>();
    for (const { from, box } of req.shares) {
      let plain: Uint8Array;
      try {
        plain = openSealed(this.node.keyring.node.encryptionSecretKey, box, this.shareAad(req.session, from, s.me));
      } catch {
        throw new DkgCheatError(from, `sent participant ${s.me} a share that does not open`);
      }
      try {
        shares.set(from, frostDeserializeScalar(plain));
      } catch {
        throw new DkgCheatError(from, `sent participant ${s.me} a malformed share`);
      } finally {
        plain.fill(0);
      }
    }
    if (req.packages.length !== s.participants.length) throw new OwnerError('OWNER_BAD_REQUEST', `${req.packages.length} packages for ${s.participants.length} participants`);
    const mine = req.packages.find((x) => x.identifier === s.me);
    if (!mine || !mine.commitments.every((c, i) => bytesEqual(c, serializeCommitment(s.secret, i)))) throw new OwnerError('OWNER_BAD_REQUEST', 'the coordinator altered this device\'s own package');
    const result = dkgFinish(s.me, s.threshold, this.context(req.session, s.threshold, s.participants), req.packages, shares);
    s.result = result;
    return { groupPublicKey: result.groupPublicKey, publicShare: result.publicShare };
  }

  private async dkg3(p: DevicePrincipal, req: Extract<OwnerRequest, { op: 'dkg3' }>): Promise<Record<string, unknown>> {
    const key = this.dkgKey(p, req.session);
    const s = this.dkg.get(key);
    if (!s?.result) throw new OwnerError('OWNER_BAD_REQUEST', 'no finished key generation of that session here');
    if (this.group) throw new OwnerError('OWNER_EXISTS', `${this.node.self.hostName} already holds an owner key`);
    const group = decodeGroup(req.group);
    const me = group.participants.find((x) => x.identifier === s.me);
    if (!bytesEqual(group.groupPublicKey, s.result.groupPublicKey) || group.threshold !== s.threshold || !me || !bytesEqual(me.publicShare, s.result.publicShare) || me.stableId !== this.node.self.stableId) {
      throw new OwnerError('OWNER_DKG_FAILED', 'the group record does not match what this device computed');
    }
    await this.store.saveShare(s.result);
    await this.store.saveGroup(group);
    this.share = s.result;
    this.group = group;
    this.opts.onOwnerKey?.();
    wipeDkgSecret(s.secret);
    this.dkg.delete(key);
    return {};
  }

  private commitStep(p: DevicePrincipal, session: Uint8Array): Record<string, unknown> {
    const share = this.requireShare();
    const key = this.dkgKey(p, session);
    if (this.used.has(key) || this.nonces.has(key)) throw new OwnerError('OWNER_NONCE_USED', 'that signing session has committed here already');
    this.pruneNonces();
    if (this.nonces.size >= MAX_PENDING_NONCES) throw new OwnerError('OWNER_UNREACHABLE', `${this.node.self.hostName} has too many signing sessions open; try again shortly`);
    const { nonces, commitment } = frostCommit(share);
    this.nonces.set(key, { nonces, at: Date.now() });
    return { hiding: commitment.hiding, binding: commitment.binding };
  }

  private signStep(p: DevicePrincipal, req: Extract<OwnerRequest, { op: 'sign' }>): Record<string, unknown> {
    const share = this.requireShare();
    const key = this.dkgKey(p, req.session);
    const held = this.nonces.get(key);
    // Used once: forgotten (and zeroed) before anything else, whatever happens next.
    this.nonces.delete(key);
    if (!held) throw new OwnerError('OWNER_NONCE_USED', this.used.has(key) ? 'that signing session was answered already; nonces are used once' : 'no commitment of that signing session here (expired or never made)');
    this.used.add(key);
    if (this.used.size > MAX_USED_SESSIONS) this.used.delete(this.used.values().next().value!);
    const nonces = held.nonces;
    try {
      this.checkPurpose(req.purpose, req.message);
      const mine = req.commitments.find((c) => c.identifier === share.identifier);
      if (!mine) throw new OwnerError('OWNER_BAD_REQUEST', 'this device is not among the signers');
      let z = frostSignShare(share, nonces, req.commitments, req.message);
      if (this.faults.badSignatureShare) z = z + 1n;
      return { z: frostSerializeScalar(z) };
    } finally {
      nonces.hiding = 0n;
      nonces.binding = 0n;
    }
  }

  /** What may be signed: a message this device can parse for the purpose given, never blind bytes. */
  private checkPurpose(purpose: string, message: Uint8Array): void {
    const refuse = (why: string) => new OwnerError('OWNER_BAD_PURPOSE', `refused to sign for ${purpose}: ${why}`);
    if (!(OWNER_PURPOSES as readonly string[]).includes(purpose)) throw refuse('unknown purpose');
    let payload: Uint8Array;
    try {
      const s = decodeStrict(message, 'Sig_structure') as unknown[];
      if (!Array.isArray(s) || s.length !== 4 || s[0] !== 'Signature1' || !(s[3] instanceof Uint8Array)) throw new Error('shape');
      payload = s[3];
    } catch {
      throw refuse('the message is not a COSE Sig_structure');
    }
    if (purpose === 'revocation') {
      let m: unknown;
      try {
        m = decodeStrict(payload, 'revocation');
      } catch {
        throw refuse('the payload is not a revocation event');
      }
      if (!(m instanceof Map) || !['seq', 'prev', 'scope', 'ids', 'reason', 'at'].every((k) => m.has(k))) throw refuse('the payload is not a revocation event');
      return;
    }
    let claims;
    try {
      claims = parseClaims(payload);
    } catch {
      throw refuse('the payload is not a capability token');
    }
    if (claims.iss !== 'owner') throw refuse('a grant is issued by the owner');
    if (purpose === 'device-enrollment') {
      const known = claims.sub === this.node.self.hostName || this.node.directory.ranked((i) => i.peer.hostName === claims.sub).length > 0;
      if (!known) throw refuse(`${claims.sub} is no device of this tailnet`);
      // The device id binds the grant's key to a device (a reset device's new key is trusted by it): it must be that device's.
      if (claims.dev !== undefined) {
        const host = claims.dev === this.node.self.stableId ? this.node.self.hostName : this.node.directory.byStableId(claims.dev)?.peer.hostName;
        if (host !== claims.sub) throw refuse(`${claims.dev} is not the device ${claims.sub}`);
      }
    }
  }

  private async keepGrant(grant: Uint8Array): Promise<void> {
    const g = this.group;
    if (!g) throw new OwnerError('OWNER_NO_KEY', 'no owner key here to check the grant against');
    let ok = false;
    try {
      const s = decodeSign1(grant);
      const claims = parseClaims(s.payload);
      ok = verifySign1(s, g.groupPublicKey) && claims.iss === 'owner' && bytesEqual(claims.holderKey, this.node.keyring.node.signingPublicKey);
    } catch {
      ok = false;
    }
    if (!ok) throw new OwnerError('OWNER_BAD_REQUEST', 'the grant is not signed by the owner key for this device');
    await this.store.saveGrant(grant);
    this.grant = grant;
  }

  /** A device grant: names the device (host name for people, stable id for the key binding) and its node key. */
  private mintGrant(hostName: string, stableId: string, holderKey: Uint8Array, zones: string[], purpose: 'token-grant' | 'device-enrollment'): Promise<Uint8Array> {
    const g = this.group!;
    return mintRootAsync({ sub: hostName, dev: stableId, aud: '*', ops: ['*'], zones, holderKey, ttlSeconds: this.opts.grantTtlSeconds ?? 30 * DAY }, (m) => this.sign(m, purpose), g.groupPublicKey);
  }

  /** The zones a grant covers: every zone the device's tags let it hold (z:owner holds all below it). */
  private zonesOf(stableId: string): string[] {
    const own = stableId === this.node.self.stableId ? this.node.directory.selfZones : (this.node.directory.byStableId(stableId)?.zones ?? []);
    return this.node.zones.all().filter((z) => mayHold(own, z)).map((z) => z.id);
  }

  /** One step at a participant: this device directly, a peer over FCP (bounded). */
  private async ask(stableId: string, req: OwnerRequest, who: string): Promise<Record<string, unknown>> {
    const body = encodeOwnerRequest(req);
    if (stableId === this.node.self.stableId) return decodeOwnerReply(await this.handle(this.selfPrincipal(), body), who);
    let reply: Message;
    try {
      reply = await this.node.call(stableId, { t: 'owner', body }, this.opts.rpcTimeoutMs ?? 5_000);
    } catch (err) {
      throw new OwnerError('OWNER_UNREACHABLE', `${who} did not answer: ${(err as Error).message}`);
    }
    return decodeOwnerReply(expectReply(reply, 'owner_result').body, who);
  }

  private requireShare(): FrostKeyShare {
    if (!this.share) throw new OwnerError('OWNER_NO_KEY', `${this.node.self.hostName} holds no owner key share`);
    return this.share;
  }

  private ownerZone(): Zone {
    if (!this.node.zones.has(OWNER_ZONE)) throw new OwnerError('OWNER_BAD_REQUEST', 'this mesh has no z:owner zone');
    return this.node.zones.get(OWNER_ZONE);
  }

  /** Φ of the proofs: binds them to this ceremony (session, k, who takes part). */
  private context(session: Uint8Array, threshold: number, participants: { identifier: number; stableId: string }[]): Uint8Array {
    const h = createHash('sha256').update('fcp owner dkg v1').update(session).update(String(threshold));
    for (const x of [...participants].sort((a, b) => a.identifier - b.identifier)) h.update(`|${x.identifier}:${x.stableId}`);
    return new Uint8Array(h.digest());
  }

  private shareAad(session: Uint8Array, from: number, to: number): Uint8Array {
    return new TextEncoder().encode(`fcp owner dkg share v1 ${hex(session)} ${from}->${to}`);
  }

  private pruneDkg(): void {
    const now = Date.now();
    for (const [k, s] of this.dkg) if (now - s.at > NONCE_TTL_MS) {
      wipeDkgSecret(s.secret);
      this.dkg.delete(k);
    }
  }

  private pruneNonces(): void {
    const now = Date.now();
    for (const [k, n] of this.nonces) if (now - n.at > NONCE_TTL_MS) {
      n.nonces.hiding = 0n;
      n.nonces.binding = 0n;
      this.nonces.delete(k);
    }
  }
}

/** This participant's own commitment k, recomputed (the coordinator may not swap it). */
function serializeCommitment(secret: DkgSecret, k: number): Uint8Array {
  return ed25519.Point.BASE.multiply(secret.coefficients[k]!).toBytes();
}

export type { DkgPackage };
