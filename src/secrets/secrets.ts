// Secrets: the API users see as mesh.secrets. A value is split k-of-n (sharing.ts), each share
// sealed to one device of the secret's zone and held in that device's memory only. Recovery
// asks k holders in the mesh's rank order (more when some fail), combines in memory, verifies
// the commitment and binding, and zeroes every buffer after use.
import { randomBytes } from 'node:crypto';
import {
  SecretBadParamsError,
  SecretBadReplyError,
  SecretBadShareError,
  SecretConflictError,
  SecretError,
  SecretLostError,
  SecretNotFoundError,
  SecretPutFailedError,
  SecretTooFewDevicesError,
  SecretTooFewSharesError,
  SecretUnreachableError,
  reasonOf,
  secretErrorFromCode,
} from './errors.js';
import type { ShareHolder } from './holder.js';
import { MAX_SECRET_BYTES, MAX_SHARES, MIN_SHARE_BYTES, MIN_THRESHOLD, SPLIT_ID_BYTES } from './limits.js';
import {
  decodeReply,
  encodeRequest,
  shareBoxAad,
  validName,
  validZone,
  type HeldMeta,
  type SecretReply,
  type SecretRequest,
} from './protocol.js';
import { generateBoxKeyPair, openSealed, sealTo } from './seal.js';
import { recoverSecret, splitSecret, type SecretBinding, type ShareRecord } from './sharing.js';
import type { SecretsAuditEvent, SecretsPeer, SecretsTransport } from './transport.js';
import { zeroize } from './zeroize.js';

export interface PutOptions {
  /** Shares needed to rebuild the value (2..n). */
  k: number;
  /** Shares made, one per distinct device (k..255). */
  n: number;
  /** Zone whose devices hold the shares, e.g. "z:owner". */
  zone: string;
}

export interface SecretListing {
  name: string;
  zone: string;
  k: number;
  n: number;
  version: number;
  /** Devices given a share of the current version, share index order. */
  holders: string[];
  /** Holders online now that still hold their share of the current version. */
  available: number;
}

export type RestoreStatus =
  /** Every holder is online and holds its share. */
  | 'healthy'
  /** Re-split with a fresh polynomial among online devices; old shares discarded. */
  | 'restored'
  /** At least k shares alive but fewer than n eligible devices online: nothing moved. */
  | 'degraded'
  /** Fewer than k shares reachable now, but offline holders may bring it back. */
  | 'unavailable'
  /** Fewer than k shares survive anywhere: the secret is gone. */
  | 'lost'
  /** Restoring was attempted and failed (see error); the previous version is intact. */
  | 'failed';

export interface RestoreOutcome {
  name: string;
  zone: string;
  k: number;
  n: number;
  /** Current version after the call (bumped when restored). */
  version: number;
  /** Shares of the current version found alive before the call. */
  alive: number;
  status: RestoreStatus;
  error?: SecretError;
}

type OkReply<Op extends SecretRequest['op']> = Extract<SecretReply, { ok: true; op: Op }>;
type RequestOf<Op extends SecretRequest['op']> = Extract<SecretRequest, { op: Op }>;

/** The current split of one secret, as reported by the holders that answered. */
interface Located {
  meta: HeldMeta;
  /** nodeIds reporting the current version and splitId. */
  alive: Set<string>;
  /** Highest version any holder reported (a new split must go above it). */
  maxVersion: number;
  /** Holders reporting an older version, or the current version with another splitId. */
  stale: Array<{ peer: SecretsPeer; meta: HeldMeta }>;
  /** Every device that reported any share of the name. */
  reporters: SecretsPeer[];
}

interface Survey {
  /** Devices that answered, rank order. */
  online: SecretsPeer[];
  reports: Map<string, { peer: SecretsPeer; entries: HeldMeta[] }>;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameSplit(a: HeldMeta, b: HeldMeta): boolean {
  return (
    a.name === b.name &&
    a.zone === b.zone &&
    a.k === b.k &&
    a.n === b.n &&
    a.version === b.version &&
    sameBytes(a.splitId, b.splitId) &&
    a.holders.length === b.holders.length &&
    a.holders.every((h, i) => h === b.holders[i])
  );
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function bindingOf(meta: HeldMeta): SecretBinding {
  return { name: meta.name, zone: meta.zone, k: meta.k, n: meta.n, version: meta.version, splitId: meta.splitId };
}

function badParam(message: string): never {
  throw new SecretBadParamsError(message);
}

function validatePut(name: unknown, value: unknown, opts: unknown): PutOptions {
  validName(name, badParam);
  if (!(value instanceof Uint8Array) || value.length === 0 || value.length > MAX_SECRET_BYTES) {
    badParam(`value must be a Uint8Array of 1..${MAX_SECRET_BYTES} bytes`);
  }
  if (typeof opts !== 'object' || opts === null) badParam('options {k, n, zone} are required');
  const { k, n, zone } = opts as Record<string, unknown>;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < MIN_THRESHOLD || n > MAX_SHARES) {
    badParam(`n must be an integer in ${MIN_THRESHOLD}..${MAX_SHARES}`);
  }
  if (typeof k !== 'number' || !Number.isInteger(k) || k < MIN_THRESHOLD || k > n) {
    badParam(`k must be an integer in ${MIN_THRESHOLD}..n (k = 1 would give every holder the whole secret)`);
  }
  return { k, n, zone: validZone(zone, badParam) };
}

export class Secrets {
  private readonly transport: SecretsTransport;
  private readonly holder: ShareHolder;
  /** Last split seen per name: lets use() skip the survey round trip. Metadata only. */
  private readonly known = new Map<string, HeldMeta>();
  /** Names removed through this device, so restore() can discard shares that come back. */
  private readonly removed = new Set<string>();

  constructor(transport: SecretsTransport, holder: ShareHolder) {
    this.transport = transport;
    this.holder = holder;
  }

  /** Split `value` k-of-n among devices of `zone`. Replaces an existing secret of that name. */
  async put(name: string, value: Uint8Array, opts: PutOptions): Promise<void> {
    try {
      const params = validatePut(name, value, opts);
      const existing = await this.locateOrNull(name);
      if (existing && existing.meta.zone !== params.zone) {
        throw new SecretConflictError(`secret ${name} exists in ${existing.meta.zone}; remove it before putting it in ${params.zone}`);
      }
      const version = (existing?.maxVersion ?? 0) + 1;
      const meta = await this.distribute(name, value, params, version);
      this.removed.delete(name);
      this.known.set(name, meta);
      await this.discardBelow(name, version, existing?.reporters ?? []);
      this.audit({ op: 'put', name, ok: true });
    } catch (err) {
      this.audit({ op: 'put', name: String(name), ok: false, reason: reasonOf(err) });
      throw err;
    }
  }

  /**
   * Rebuild the secret in memory, hand it to `fn`, then zero it (and every share copy), even
   * when `fn` throws. Do not keep `buf` or views of it beyond `fn`.
   */
  async use<T>(name: string, fn: (buf: Uint8Array) => Promise<T> | T): Promise<T> {
    let value: Uint8Array | undefined;
    try {
      validName(name, badParam);
      value = await this.recoverByName(name);
      this.audit({ op: 'use', name, ok: true });
    } catch (err) {
      this.audit({ op: 'use', name: String(name), ok: false, reason: reasonOf(err) });
      throw err;
    }
    try {
      return await fn(value);
    } finally {
      zeroize(value);
    }
  }

  /** New version from a fresh polynomial on the currently best devices; old shares discarded. */
  async rotate(name: string): Promise<void> {
    let value: Uint8Array | undefined;
    try {
      validName(name, badParam);
      const located = await this.locate(name);
      value = await this.gather(located.meta);
      const meta = await this.distribute(name, value, located.meta, located.maxVersion + 1);
      this.known.set(name, meta);
      await this.discardBelow(name, meta.version, located.reporters);
      this.audit({ op: 'rotate', name, ok: true });
    } catch (err) {
      this.audit({ op: 'rotate', name: String(name), ok: false, reason: reasonOf(err) });
      throw err;
    } finally {
      zeroize(value);
    }
  }

  /** Secrets visible to this device, with their current version and live share count. */
  async list(): Promise<SecretListing[]> {
    const survey = await this.survey();
    const out: SecretListing[] = [];
    for (const name of this.namesIn(survey)) {
      const located = this.pickCurrent(name, survey);
      if (!located) continue;
      const { meta } = located;
      out.push({
        name,
        zone: meta.zone,
        k: meta.k,
        n: meta.n,
        version: meta.version,
        holders: [...meta.holders],
        available: located.alive.size,
      });
    }
    this.audit({ op: 'list', name: '', ok: true });
    return out;
  }

  /** Discard every share of `name` on every reachable device. */
  async remove(name: string): Promise<void> {
    try {
      validName(name, badParam);
      const survey = await this.survey(name);
      const holding = [...survey.reports.values()].filter((r) => r.entries.some((e) => e.name === name));
      if (holding.length === 0) throw new SecretNotFoundError(`no reachable device holds a share of ${name}`);
      this.removed.add(name);
      this.known.delete(name);
      const results = await Promise.allSettled(holding.map((r) => this.call(r.peer, { op: 'drop', name })));
      // Holders that did not answer keep their share until a later restore() here drops it.
      const firstFailure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (firstFailure && results.every((r) => r.status === 'rejected')) throw firstFailure.reason;
      this.audit({ op: 'remove', name, ok: true });
    } catch (err) {
      this.audit({ op: 'remove', name: String(name), ok: false, reason: reasonOf(err) });
      throw err;
    }
  }

  /**
   * Bring every secret back to n live shares: when holders restarted empty or went away, re-split
   * with a fresh polynomial among the online eligible devices (needs k live shares) and discard
   * the old shares. Also discards stale versions and shares of removed secrets that came back.
   */
  async restore(): Promise<RestoreOutcome[]> {
    const survey = await this.survey();
    const onlineIds = new Set(survey.online.map((p) => p.nodeId));
    const outcomes: RestoreOutcome[] = [];
    for (const name of this.namesIn(survey)) {
      if (this.removed.has(name)) {
        await this.dropEverywhere(name, survey);
        continue;
      }
      const located = this.pickCurrent(name, survey);
      if (!located) continue;
      const outcome = await this.restoreOne(located, onlineIds);
      this.audit({ op: 'restore', name, ok: !outcome.error, ...(outcome.error ? { reason: outcome.error.code } : {}) });
      outcomes.push(outcome);
    }
    return outcomes;
  }

  // --- restore ---------------------------------------------------------------------------

  private async restoreOne(located: Located, onlineIds: Set<string>): Promise<RestoreOutcome> {
    const { meta, alive } = located;
    const base = { name: meta.name, zone: meta.zone, k: meta.k, n: meta.n, version: meta.version, alive: alive.size };
    await this.discardStale(located);
    if (alive.size >= meta.n) return { ...base, status: 'healthy' };
    if (alive.size < meta.k) {
      const offline = meta.holders.filter((h) => !onlineIds.has(h)).length;
      if (alive.size + offline >= meta.k) {
        const error = new SecretTooFewSharesError(
          `${meta.name}: ${alive.size} of ${meta.k} needed shares online; ${offline} holders are offline and may bring it back`,
        );
        return { ...base, status: 'unavailable', error };
      }
      const error = new SecretLostError(
        `${meta.name}: only ${alive.size} shares survive and ${meta.k} are needed; the secret is gone and must be put again from its source`,
      );
      return { ...base, status: 'lost', error };
    }
    const eligible = await this.transport.eligiblePeers(meta.zone);
    if (eligible.length < meta.n) {
      const error = new SecretTooFewDevicesError(
        `${meta.name}: ${eligible.length} devices of ${meta.zone} online, ${meta.n} needed to restore every share`,
      );
      return { ...base, status: 'degraded', error };
    }
    let value: Uint8Array | undefined;
    try {
      value = await this.gather(meta);
      const fresh = await this.distribute(meta.name, value, meta, located.maxVersion + 1);
      this.known.set(meta.name, fresh);
      await this.discardBelow(meta.name, fresh.version, located.reporters);
      return { ...base, version: fresh.version, status: 'restored' };
    } catch (err) {
      const error = err instanceof SecretError ? err : new SecretPutFailedError(`${meta.name}: restore failed`);
      return { ...base, status: 'failed', error };
    } finally {
      zeroize(value);
    }
  }

  /** Drop older versions and conflicting splits of the current version where holders report them. */
  private async discardStale(located: Located): Promise<void> {
    await Promise.allSettled(
      located.stale
        .filter((s) => s.meta.version <= located.meta.version)
        .map((s) => this.call(s.peer, { op: 'drop', name: s.meta.name, version: s.meta.version, splitId: s.meta.splitId })),
    );
  }

  private async dropEverywhere(name: string, survey: Survey): Promise<void> {
    const holding = [...survey.reports.values()].filter((r) => r.entries.some((e) => e.name === name));
    await Promise.allSettled(holding.map((r) => this.call(r.peer, { op: 'drop', name })));
  }

  // --- recovery --------------------------------------------------------------------------

  private async recoverByName(name: string): Promise<Uint8Array> {
    const cached = this.known.get(name);
    if (cached) {
      try {
        return await this.gather(cached);
      } catch (err) {
        if (!(err instanceof SecretError)) throw err;
        // The cached split may be stale (rotated or restored elsewhere): look again once.
        const located = await this.locate(name);
        if (sameSplit(located.meta, cached)) throw err;
        this.known.set(name, located.meta);
        return this.gather(located.meta);
      }
    }
    const located = await this.locate(name);
    this.known.set(name, located.meta);
    return this.gather(located.meta);
  }

  /**
   * Fetch shares of one split from its holders in rank order, k at a time, more when some
   * fail or a share is bad; combine and verify. Returns a buffer the caller must zero.
   */
  private async gather(meta: HeldMeta): Promise<Uint8Array> {
    const eligible = await this.transport.eligiblePeers(meta.zone);
    const holderSet = new Set(meta.holders);
    const candidates = eligible.filter((p) => holderSet.has(p.nodeId));
    const eligibleIds = new Set(eligible.map((p) => p.nodeId));
    const offline = meta.holders.filter((h) => !eligibleIds.has(h)).length;
    const replyKeys = generateBoxKeyPair();
    const good: ShareRecord[] = [];
    let unreachable = 0;
    let next = 0;
    let triedWith = 0;
    const fetchShare = async (peer: SecretsPeer): Promise<ShareRecord | null> => {
      try {
        return await this.fetchShare(peer, meta, replyKeys);
      } catch (err) {
        if (err instanceof SecretUnreachableError) unreachable++;
        return null;
      }
    };
    try {
      for (;;) {
        if (good.length >= meta.k && good.length > triedWith) {
          triedWith = good.length;
          const result = await recoverSecret(good, bindingOf(meta));
          if (result) {
            for (const index of result.badIndexes) {
              this.audit({ op: 'bad-share', name: meta.name, peer: meta.holders[index]!, ok: false, reason: 'SECRET_BAD_SHARE' });
            }
            return result.value;
          }
        }
        if (next >= candidates.length) break;
        const want = Math.max(1, meta.k - good.length);
        const batch = candidates.slice(next, next + want);
        next += batch.length;
        for (const record of await Promise.all(batch.map(fetchShare))) {
          if (record && !good.some((g) => g.index === record.index)) good.push(record);
          else if (record) zeroize(record.share);
        }
      }
      if (good.length >= meta.k) {
        throw new SecretBadShareError(
          `${meta.name}: ${good.length} shares gathered but no ${meta.k} of them verify; a holder returned a wrong share and no further holder is reachable`,
        );
      }
      if (good.length + unreachable + offline < meta.k) {
        throw new SecretLostError(
          `${meta.name}: only ${good.length} of ${meta.k} needed shares exist on reachable devices and ${offline} holders are offline; the secret is gone and must be put again`,
        );
      }
      throw new SecretTooFewSharesError(
        `${meta.name}: ${good.length} of ${meta.k} needed shares reachable; bring more of its devices online (${offline} holders offline, ${unreachable} unreachable)`,
      );
    } finally {
      zeroize(replyKeys.secretKey);
      for (const g of good) zeroize(g.share);
    }
  }

  private async fetchShare(
    peer: SecretsPeer,
    meta: HeldMeta,
    replyKeys: { publicKey: Uint8Array; secretKey: Uint8Array },
  ): Promise<ShareRecord> {
    const reply = await this.call(peer, { op: 'get', name: meta.name, version: meta.version, replyKey: replyKeys.publicKey });
    const got = reply.meta;
    if (!sameSplit(got, meta) || got.holders[got.index] !== peer.nodeId) {
      const err = new SecretBadReplyError(`${peer.nodeId} answered with another split of ${meta.name}`);
      this.audit({ op: 'get', name: meta.name, peer: peer.nodeId, ok: false, reason: err.code });
      throw err;
    }
    const plain = openSealed(replyKeys, reply.sealed, shareBoxAad(got, 'reply'));
    if (!plain || plain.length < MIN_SHARE_BYTES) {
      zeroize(plain);
      const err = new SecretBadReplyError(`${peer.nodeId} sent a share that does not open with this request's key`);
      this.audit({ op: 'get', name: meta.name, peer: peer.nodeId, ok: false, reason: err.code });
      throw err;
    }
    return { index: got.index, share: plain };
  }

  // --- distribution ----------------------------------------------------------------------

  /**
   * Split `value` as version `version` and store share i on the i-th best eligible device.
   * All n must accept; otherwise the partial split is withdrawn and other devices are tried.
   */
  private async distribute(
    name: string,
    value: Uint8Array,
    params: { k: number; n: number; zone: string },
    version: number,
  ): Promise<HeldMeta> {
    const { k, n, zone } = params;
    let candidates = await this.transport.eligiblePeers(zone);
    if (candidates.length < n) {
      throw new SecretTooFewDevicesError(
        `${candidates.length} devices of ${zone} are online and ${n} are needed; lower n or bring devices online`,
      );
    }
    const failures: string[] = [];
    for (let attempt = 0; attempt < 3 && candidates.length >= n; attempt++) {
      const chosen = candidates.slice(0, n);
      const splitId = new Uint8Array(randomBytes(SPLIT_ID_BYTES));
      const binding: SecretBinding = { name, zone, k, n, version, splitId };
      const holders = chosen.map((p) => p.nodeId);
      const shares = await splitSecret(value, binding);
      const results = await Promise.allSettled(
        chosen.map(async (peer, index) => {
          const meta: HeldMeta = { ...binding, holders, index };
          const share = shares[index]!.share;
          let sealed: Uint8Array;
          try {
            sealed = sealTo(peer.boxPublicKey, share, shareBoxAad(meta, 'store'));
          } catch {
            throw new SecretBadParamsError(`device ${peer.nodeId} has no usable X25519 public key`);
          } finally {
            zeroize(share);
          }
          await this.call(peer, { op: 'store', meta, sealed });
        }),
      );
      const failed = new Set<string>();
      results.forEach((r, i) => {
        if (r.status === 'rejected') {
          failed.add(holders[i]!);
          failures.push(`${holders[i]}: ${reasonOf(r.reason)}`);
        }
      });
      if (failed.size === 0) return { ...binding, holders, index: 0 };
      await Promise.allSettled(
        chosen
          .filter((p) => !failed.has(p.nodeId))
          .map((p) => this.call(p, { op: 'drop', name, version, splitId })),
      );
      candidates = candidates.filter((p) => !failed.has(p.nodeId));
    }
    throw new SecretPutFailedError(
      `could not place ${n} shares of ${name} on distinct devices of ${zone} (${failures.join('; ')}); the previous version, if any, is unchanged`,
    );
  }

  /** Ask the devices that reported shares of `name` to drop versions older than `version`. */
  private async discardBelow(name: string, version: number, reporters: SecretsPeer[]): Promise<void> {
    await Promise.allSettled(reporters.map((p) => this.call(p, { op: 'drop', name, below: version })));
  }

  // --- discovery -------------------------------------------------------------------------

  private async discoveryPeers(): Promise<SecretsPeer[]> {
    const self = this.transport.self;
    let peers: SecretsPeer[];
    if (this.transport.onlinePeers) {
      peers = await this.transport.onlinePeers();
    } else {
      const zones = new Set<string>(self.zones);
      for (const meta of this.known.values()) zones.add(meta.zone);
      const lists = await Promise.all([...zones].map((z) => this.transport.eligiblePeers(z)));
      peers = lists.flat();
    }
    const seen = new Set<string>();
    const out: SecretsPeer[] = [];
    for (const p of [self, ...peers]) {
      if (seen.has(p.nodeId)) continue;
      seen.add(p.nodeId);
      out.push(p);
    }
    return out;
  }

  /** Ask every reachable device what it holds (optionally of one name). */
  private async survey(name?: string): Promise<Survey> {
    const peers = await this.discoveryPeers();
    const req: RequestOf<'list'> = name === undefined ? { op: 'list' } : { op: 'list', name };
    const results = await Promise.allSettled(peers.map((p) => this.call(p, req)));
    const survey: Survey = { online: [], reports: new Map() };
    results.forEach((r, i) => {
      const peer = peers[i]!;
      if (r.status !== 'fulfilled') return;
      survey.online.push(peer);
      survey.reports.set(peer.nodeId, { peer, entries: r.value.entries });
    });
    return survey;
  }

  private namesIn(survey: Survey): string[] {
    const names = new Set<string>();
    for (const r of survey.reports.values()) for (const e of r.entries) names.add(e.name);
    return [...names].sort();
  }

  /**
   * The current split of `name`: the highest version with at least k live shares (the largest
   * group when holders disagree on the splitId), else the highest version seen.
   */
  private pickCurrent(name: string, survey: Survey): Located | null {
    const groups = new Map<string, { meta: HeldMeta; alive: Set<string> }>();
    const all: Array<{ peer: SecretsPeer; meta: HeldMeta }> = [];
    const reporters = new Map<string, SecretsPeer>();
    let maxVersion = 0;
    for (const { peer, entries } of survey.reports.values()) {
      for (const meta of entries) {
        if (meta.name !== name) continue;
        all.push({ peer, meta });
        reporters.set(peer.nodeId, peer);
        maxVersion = Math.max(maxVersion, meta.version);
        // Only a holder named in the split for its own index counts as a live share.
        if (meta.holders[meta.index] !== peer.nodeId) continue;
        const key = `${meta.version}:${hex(meta.splitId)}`;
        const group = groups.get(key) ?? { meta: { ...meta, index: 0 }, alive: new Set<string>() };
        group.alive.add(peer.nodeId);
        groups.set(key, group);
      }
    }
    if (groups.size === 0) return null;
    const ranked = [...groups.values()].sort((a, b) => {
      const aOk = a.alive.size >= a.meta.k ? 1 : 0;
      const bOk = b.alive.size >= b.meta.k ? 1 : 0;
      return bOk - aOk || b.meta.version - a.meta.version || b.alive.size - a.alive.size;
    });
    const current = ranked[0]!;
    const stale = all.filter(
      (s) => s.meta.version !== current.meta.version || !sameBytes(s.meta.splitId, current.meta.splitId),
    );
    return { meta: current.meta, alive: current.alive, maxVersion, stale, reporters: [...reporters.values()] };
  }

  private async locate(name: string): Promise<Located> {
    const located = this.pickCurrent(name, await this.survey(name));
    if (!located) throw new SecretNotFoundError(`no reachable device holds a share of ${name}; check the name with list()`);
    return located;
  }

  private async locateOrNull(name: string): Promise<Located | null> {
    try {
      return await this.locate(name);
    } catch (err) {
      if (err instanceof SecretNotFoundError) return null;
      throw err;
    }
  }

  // --- requests --------------------------------------------------------------------------

  /** Send one request (self goes straight to the local holder), audit it, raise refusals typed. */
  private async call<Op extends SecretRequest['op']>(peer: SecretsPeer, req: RequestOf<Op>): Promise<OkReply<Op>> {
    const plain: SecretRequest = req;
    const name = plain.op === 'store' ? plain.meta.name : (plain.name ?? '');
    let reply: SecretReply;
    try {
      const body = encodeRequest(req);
      let raw: Uint8Array;
      try {
        raw = peer.self
          ? await this.holder.handle(this.transport.selfOrigin?.() ?? { nodeId: this.transport.self.nodeId, zones: [...this.transport.self.zones] }, body)
          : await this.transport.request(peer, body);
      } catch (err) {
        const detail = err instanceof Error ? err.message : 'transport failure';
        throw new SecretUnreachableError(`device ${peer.nodeId} did not answer: ${detail}`);
      }
      reply = decodeReply(raw, req.op);
      if (!reply.ok) throw secretErrorFromCode(reply.code, `${peer.nodeId}: ${reply.message}`);
    } catch (err) {
      this.audit({ op: req.op, name, peer: peer.nodeId, ok: false, reason: reasonOf(err) });
      throw err;
    }
    this.audit({ op: req.op, name, peer: peer.nodeId, ok: true });
    return reply as OkReply<Op>;
  }

  private audit(event: SecretsAuditEvent): void {
    try {
      this.transport.audit?.(event);
    } catch {
      // Audit sink failures must not break secret handling.
    }
  }
}
