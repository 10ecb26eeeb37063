// Revocations across the mesh (FCP V2 §14.3): the owner-signed hash chain every device keeps
// (persisted in the data directory), pushed to every online member when a revocation is made and
// pulled from them when this device is behind (at start, whenever a peer comes back, and every
// sync interval). A sync in which the members answered and none was ahead confirms this device's
// head: that is what the freshness rule for risky and dangerous operations reads.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { NODE, RevocationError, describePrincipal, RevocationList, type Authorizer, type DevicePrincipal, type OwnerAuthority, type Principal, type Risk } from '../authz/index.js';
import { decodeStrict, encodeDeterministic, signSign1Async } from '../crypto/index.js';
import type { Outgoing } from '../mesh/index.js';
import type { Message } from '../wire/index.js';

const FILE = 'revocations.cbor';
/** At most this many events travel in one message (a peer far behind asks again). */
const BATCH = 256;

export interface RevocationPeers {
  /** Online fcp members other than this device. */
  online(): Array<{ stableId: string; hostName: string }>;
  call(stableId: string, msg: Outgoing, timeoutMs: number): Promise<Message>;
}

export interface RevocationServiceDeps {
  authz: Authorizer;
  owner: Pick<OwnerAuthority, 'publicKey' | 'sign'>;
  peers: RevocationPeers;
  dataDir: string;
  log: Logger;
  /** How old a confirmed head may be for risky operations (ms; FCP default 300 s). */
  maxAgeMs?: number;
  syncIntervalMs?: number;
  requestTimeoutMs?: number;
  /** Asks an owner device for the owner public key (a device that was not in the ceremony). */
  learnOwnerKey?: () => Promise<unknown>;
  /** The audit log's token events. */
  audit?: { tokenRevoked(t: { zone: string; principal: string; tokenId: string; seq?: number }): void };
}

export interface RevokeResult {
  seq: number;
  ids: string[];
  told: string[];
  notReached: string[];
}

export class RevocationService {
  private list: RevocationList | null = null;
  private loaded: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;

  constructor(private readonly d: RevocationServiceDeps) {}

  /** The chain, once the owner key exists (null before: nothing can be revoked yet). */
  private async chain(): Promise<RevocationList | null> {
    const key = this.d.owner.publicKey();
    if (!key) return null;
    if (!this.list) {
      this.list = new RevocationList(key, { maxAgeMs: this.d.maxAgeMs ?? 300_000 });
      this.loaded = this.load(this.list);
    }
    await this.loaded;
    return this.list;
  }

  private async load(list: RevocationList): Promise<void> {
    let raw: Uint8Array;
    try {
      raw = await readFile(join(this.d.dataDir, FILE));
    } catch {
      return;
    }
    const events = decodeStrict(raw, 'revocations') as Uint8Array[];
    for (const e of Array.isArray(events) ? events : []) list.add(e);
  }

  private async save(list: RevocationList): Promise<void> {
    const file = join(this.d.dataDir, FILE);
    await writeFile(`${file}.tmp`, encodeDeterministic(list.since(0)), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  /** For the token gate: one set probe. */
  isRevoked(scope: 'token' | 'device' | 'connector', id: string): boolean {
    return this.list?.isRevoked(scope, id) ?? false;
  }

  /** For the token gate: risky and dangerous operations need a fresh head (once the owner key exists). */
  requireFresh(risk: Risk): { degraded: boolean } {
    if (!this.d.owner.publicKey()) return { degraded: false };
    // A refused call starts a sync so that a retry can pass (safe calls run on and wait for the periodic one).
    if (risk !== 'safe' && this.isStale()) void this.sync().catch(() => undefined);
    if (this.list) return this.list.requireFresh(risk);
    // The owner key is new here: nothing is synced yet.
    if (risk === 'safe') return { degraded: true };
    throw new RevocationError('FCP_ERR_CHECKPOINT_STALE', `this device has not caught up with the mesh's revocations yet: ${risk} operations wait`);
  }

  private isStale(): boolean {
    return !this.list || this.list.age() > (this.d.maxAgeMs ?? 300_000);
  }

  /**
   * Before a risky or dangerous invoke: if the head is stale (or was never confirmed), one sync
   * with the members first, bounded by `withinMs`, so the freshness rule reads a current head
   * instead of refusing a request that a moment's catching up would allow.
   */
  async catchUpFor(risk: Risk, withinMs: number): Promise<void> {
    if (risk === 'safe' || !this.d.owner.publicKey() || !this.isStale()) return;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, withinMs))));
    try {
      await Promise.race([this.sync().catch(() => undefined), bound]);
    } finally {
      clearTimeout(timer);
    }
  }

  head(): { seq: number; ageMs: number | null } {
    const age = this.list?.age();
    return { seq: this.list?.head.seq ?? 0, ageMs: age !== undefined && Number.isFinite(age) ? Math.round(age) : null };
  }

  /** `fcp token revoke`: an owner-signed event (k owner devices sign it), kept here and sent to every online member. */
  async revoke(p: Principal, tokenIds: string[], reason: string): Promise<RevokeResult> {
    this.d.authz.authorize(p, 'token.revoke', NODE, tokenIds.join(','));
    return this.revokeFor(describePrincipal(p), tokenIds, reason);
  }

  /**
   * The revocation itself, for a caller another front door has authorized (the dashboard's
   * `dashboard.revoke-token`); `by` names them in the audit log.
   */
  async revokeFor(by: string, tokenIds: string[], reason: string): Promise<RevokeResult> {
    if (tokenIds.length === 0 || !tokenIds.every((t) => /^[0-9a-f]{32}$/.test(t))) throw new RevocationError('REVOCATION_BAD_EVENT', 'name tokens by their 32-hex id (fcp token ls)');
    const list = await this.chain();
    if (!list) throw new RevocationError('REVOCATION_BAD_EVENT', 'there is no owner key yet, so nothing was granted and nothing can be revoked');
    // Catch up first: the new event must follow the mesh's head, not a stale one here.
    await this.sync();
    const event = await signSign1Async(list.draft('token', tokenIds, reason), (m) => this.d.owner.sign(m, 'revocation'));
    list.add(event);
    await this.save(list);
    const peers = this.d.peers.online();
    const sent = await Promise.allSettled(peers.map((x) => this.d.peers.call(x.stableId, { t: 'revocation_put', events: [event] }, this.d.requestTimeoutMs ?? 5_000)));
    this.d.log.info({ seq: list.head.seq, ids: tokenIds }, 'tokens revoked');
    for (const id of tokenIds) this.d.audit?.tokenRevoked({ zone: 'device', principal: by, tokenId: id, seq: list.head.seq });
    return { seq: list.head.seq, ids: tokenIds, told: peers.filter((_, i) => sent[i]!.status === 'fulfilled').map((x) => x.hostName), notReached: peers.filter((_, i) => sent[i]!.status === 'rejected').map((x) => x.hostName) };
  }

  /** Asks every online member for what follows this device's head; confirms the head when they answered. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = null));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const list = await this.chain();
    if (!list) return;
    const peers = this.d.peers.online();
    let answered = 0;
    for (const x of peers) {
      try {
        for (let round = 0; round < 64; round++) {
          const r = await this.d.peers.call(x.stableId, { t: 'revocation_get', since: list.head.seq }, this.d.requestTimeoutMs ?? 5_000);
          if (r.t !== 'revocation_events') break;
          let grew = false;
          for (const e of r.events) grew = list.add(e) || grew;
          if (grew) await this.save(list);
          if (r.seq <= list.head.seq || r.events.length === 0) break;
        }
        answered++;
      } catch (err) {
        this.d.log.info({ device: x.hostName, err: (err as Error).message }, 'revocations not synced with a device');
      }
    }
    if (peers.length === 0 || answered > 0) list.confirm();
  }

  start(): void {
    void this.sync().catch(() => undefined);
    const every = this.d.syncIntervalMs ?? 30_000;
    if (every <= 0) return;
    this.timer = setInterval(() => void this.sync().catch(() => undefined), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** The revocation frames of the FCP door (null for others). */
  async serve(p: DevicePrincipal, msg: Message): Promise<Outgoing | null> {
    if (msg.t === 'revocation_get') {
      this.d.authz.authorize(p, 'revocation.list', NODE);
      const list = await this.chain();
      const events = list ? list.since(msg.since).slice(0, BATCH) : [];
      return { t: 'revocation_events', events, seq: list?.head.seq ?? 0 };
    }
    if (msg.t !== 'revocation_put') return null;
    this.d.authz.authorize(p, 'revocation.put', NODE);
    // A revocation exists, so an owner key does: learn it if this device was not in the ceremony.
    if (!this.d.owner.publicKey()) await this.d.learnOwnerKey?.().catch(() => undefined);
    const list = await this.chain();
    if (!list) return { t: 'ok' };
    try {
      let grew = false;
      for (const e of msg.events) grew = list.add(e) || grew;
      if (grew) await this.save(list);
    } catch (err) {
      // Behind by more than one: fetch what is missing from the sender's chain.
      if ((err as RevocationError).code !== 'REVOCATION_GAP') throw err;
      void this.sync().catch(() => undefined);
    }
    return { t: 'ok' };
  }
}
