// What peers may ask of this device's share of the mesh: store and serve symbols and manifests,
// list, erase, join. Every method takes the calling device's principal and asks authorize()
// before it touches the store. Writes are refused rather than allowed to change what is stored:
// other bytes at a stored position, another zone for a known object, or another zone key.
import { bytesEqual, envelopeHeader, zoneKeyFor, objectIdToHex, sealTo, serializeZoneKey, type Manifest, type RefRecord, type SymbolEntry, type Tombstone } from '../crypto/index.js';
import { describePrincipal, inZone, NODE, recordOf, type Authorizer, type DevicePrincipal } from '../authz/index.js';
import type { AuditSink } from '../audit/index.js';
import { BATCH_BYTES, joinAad, MeshError, normaliseWant, symbolBatches, type MeshNode } from '../mesh/index.js';
import { MAX_TOMBSTONES, SUMMARY_PAGE_MAX, type SummaryEntry, type SymbolKey, type ZoneSummaryDigest } from '../wire/index.js';
import type { Zone } from '../zones/index.js';

export interface FetchSink {
  signal: AbortSignal;
  send(symbols: SymbolEntry[]): Promise<void>;
  /** The server's bound on want-list positions served per request. */
  maxWantPositions: number;
}

type NodeParts = Pick<MeshNode, 'store' | 'keyring' | 'zones' | 'invites' | 'metrics' | 'log' | 'self' | 'records' | 'signers'>;

export class PeerService {
  constructor(
    private readonly node: NodeParts,
    private readonly authz: Authorizer,
    /** A writer named a newer epoch of a zone key than this device has: time to ask the members for it. */
    private readonly onNewerEpoch: (zone: string) => void = () => undefined,
    /** Erasures and enrolments are audit events. */
    private readonly audit?: AuditSink,
    /** This device's owner grant, if any: `info` presents it with the node key it vouches for. */
    private readonly grant: () => Uint8Array | undefined = () => undefined,
  ) {}

  private zone(id: string): Zone {
    if (!this.node.zones.has(id)) throw new MeshError('MESH_REFUSED', `unknown zone ${id}`);
    return this.node.zones.get(id);
  }

  private zoneOfKeyId(keyId: Uint8Array): Zone | null {
    for (const id of this.node.keyring.zoneIds()) {
      const zk = this.node.keyring.zoneKey(id);
      if (zk && zoneKeyFor(zk, keyId) && this.node.zones.has(id)) return this.node.zones.get(id);
    }
    return null;
  }

  /** Refuses symbols or a manifest sealed under a key this device does not have for `zone`. */
  private requireSameKey(zone: Zone, keyId: Uint8Array, epoch: number): void {
    const zk = this.node.keyring.zoneKey(zone.id);
    if (!zk) throw new MeshError('MESH_NO_ZONE_KEY', `${this.node.self.hostName} has no ${zone.id} key; run \`fcp join\` on it`);
    if (!zoneKeyFor(zk, keyId)) {
      if (epoch > zk.epoch) this.onNewerEpoch(zone.id);
      if (epoch > zk.epoch) throw new MeshError('MESH_KEY_MISMATCH', `${this.node.self.hostName} has ${zone.id} key epoch ${zk.epoch}, older than the writer's ${epoch}; it takes the new epoch from a member shortly`);
      throw new MeshError(
        'MESH_KEY_MISMATCH',
        `${this.node.self.hostName} has another ${zone.id} key (epoch ${zk.epoch}) than the writer's (epoch ${epoch}); it was probably set up with a second \`fcp init --first\`: reset it and \`fcp join\` the mesh`,
      );
    }
  }

  /**
   * Refuses to hand out an object held back after an absence longer than the tombstone TTL: no
   * other device holds it and no name is known to need it, so it is probably one collected while
   * this device was away (its tombstone expired since).
   */
  private refuseHeld(objectId: Uint8Array): void {
    if (this.node.records.isHeld(objectId)) {
      throw new MeshError('MESH_UNRECONCILED', `${this.node.self.hostName} holds ${objectIdToHex(objectId)} only since an absence longer than the tombstone TTL and has not reconciled it; it is not handed out`);
    }
  }

  /** Refuses to take back an object this device knows was collected (a device that was away re-spreading it). */
  private refuseCollected(objectId: Uint8Array): void {
    if (this.node.store.getTombstone(objectId)?.dead) {
      throw new MeshError('MESH_TOMBSTONED', `object ${objectIdToHex(objectId)} was collected; it is stored again only by a new put, which revives it first`);
    }
  }

  /** Refuses a write naming `zone` for an object already known here under another zone. */
  private async requireSameZone(objectId: Uint8Array, zone: Zone): Promise<void> {
    const m = this.node.store.getManifest(objectId);
    let known: Zone | null = m ? this.zone(m.zone) : null;
    if (!known) {
      const [first] = await this.node.store.getSymbols(objectId, undefined, 1);
      if (first) known = this.zoneOfKeyId(envelopeHeader(first.env).keyId);
    }
    if (known && known.id !== zone.id) {
      throw new MeshError('MESH_CONFLICT', `object ${objectIdToHex(objectId)} is stored here in another zone; a write may not move it to ${zone.id}`);
    }
  }

  async storeSymbols(p: DevicePrincipal, objectId: Uint8Array, zoneId: string, symbols: SymbolEntry[]): Promise<void> {
    const zone = this.zone(zoneId);
    this.authz.authorize(p, 'symbols.store', inZone(zone));
    for (const s of symbols) {
      const head = envelopeHeader(s.env);
      if (head.sbn !== s.sbn || head.esi !== s.esi) throw new MeshError('MESH_BAD_SYMBOL', `symbol labelled (${s.sbn}, ${s.esi}) carries an envelope for (${head.sbn}, ${head.esi})`);
      this.requireSameKey(zone, head.keyId, head.epoch);
    }
    this.refuseCollected(objectId);
    await this.requireSameZone(objectId, zone);
    await this.node.store.putSymbols(objectId, symbols);
    this.node.metrics.symbolsStored.inc(symbols.length);
    this.node.metrics.bytesStored.inc(symbols.reduce((a, s) => a + s.env.length, 0));
  }

  async putManifest(p: DevicePrincipal, manifest: Manifest): Promise<void> {
    const zone = this.zone(manifest.zone);
    this.authz.authorize(p, 'manifest.put', inZone(zone));
    this.requireSameKey(zone, manifest.keyId, manifest.epoch);
    this.refuseCollected(manifest.objectId);
    // Stored again by a writer: an object held back after a long absence is wanted, and known there.
    this.node.records.release(manifest.objectId);
    const existing = this.node.store.getManifest(manifest.objectId);
    if (existing) {
      if (existing.zone !== manifest.zone || existing.length !== manifest.length || !bytesEqual(existing.oti, manifest.oti)) {
        throw new MeshError('MESH_CONFLICT', `object ${objectIdToHex(manifest.objectId)} already has another manifest here`);
      }
      return;
    }
    await this.requireSameZone(manifest.objectId, zone);
    // A manifest says "every symbol is durable": only a device holding some of them takes one.
    if (this.node.store.symbolKeys(manifest.objectId).length === 0) {
      throw new MeshError('MESH_REFUSED', `${this.node.self.hostName} holds no symbols of ${objectIdToHex(manifest.objectId)}; a manifest follows its symbols`);
    }
    await this.node.store.putManifest(manifest);
  }

  getManifest(p: DevicePrincipal, objectId: Uint8Array): Manifest {
    const manifest = this.node.store.getManifest(objectId);
    if (!manifest) throw new MeshError('MESH_NOT_FOUND', `no manifest for ${objectIdToHex(objectId)} on ${this.node.self.hostName}`);
    this.authz.authorize(p, 'manifest.get', inZone(this.zone(manifest.zone)));
    this.refuseHeld(objectId);
    return manifest;
  }

  /** Streams the symbols of a complete object, source symbols first; returns how many were sent. */
  async fetch(p: DevicePrincipal, objectId: Uint8Array, zoneId: string, want: SymbolKey[] | undefined, max: number | undefined, sink: FetchSink): Promise<number> {
    const zone = this.zone(zoneId);
    this.authz.authorize(p, 'symbols.fetch', inZone(zone));
    const manifest = this.node.store.getManifest(objectId);
    if (!manifest) throw new MeshError('MESH_NOT_FOUND', `no complete object ${objectIdToHex(objectId)} on ${this.node.self.hostName}`);
    if (manifest.zone !== zone.id) throw new MeshError('MESH_REFUSED', `object is not in ${zone.id}`);
    this.refuseHeld(objectId);
    // The store answers in (SBN, ESI) order, or in the order of the want list (which readers send
    // ascending): source symbols go first, so a reader with all K of them decodes without solving.
    // A want-list is deduplicated and bounded; symbols are read a batch at a time.
    const positions = normaliseWant(want, manifest, { maxWantPositions: sink.maxWantPositions });
    let sent = 0;
    for await (const batch of symbolBatches(this.node.store, manifest, positions, max, BATCH_BYTES)) {
      if (sink.signal.aborted) break;
      await sink.send(batch);
      this.node.metrics.symbolsServed.inc(batch.length);
      this.node.metrics.bytesServed.inc(batch.reduce((a, x) => a + x.env.length, 0));
      sent += batch.length;
    }
    return sent;
  }

  /** Positions held of a complete object (none for an object without a manifest here). */
  have(p: DevicePrincipal, objectId: Uint8Array): SymbolKey[] {
    const manifest = this.node.store.getManifest(objectId);
    if (!manifest) return [];
    this.authz.authorize(p, 'symbols.have', inZone(this.zone(manifest.zone)));
    return this.node.store.symbolKeys(objectId);
  }

  async erase(p: DevicePrincipal, objectId: Uint8Array): Promise<void> {
    let zone: Zone | null;
    const manifest = this.node.store.getManifest(objectId);
    if (manifest) zone = this.zone(manifest.zone);
    else {
      const [first] = await this.node.store.getSymbols(objectId, undefined, 1);
      if (!first) return; // nothing of it here
      zone = this.zoneOfKeyId(envelopeHeader(first.env).keyId);
      if (!zone) throw new MeshError('MESH_REFUSED', `the symbols of ${objectIdToHex(objectId)} here are sealed under a key of no known zone; they are left alone`);
    }
    this.authz.authorize(p, 'object.erase', inZone(zone));
    await this.node.store.deleteObject(objectId);
    this.audit?.({ kind: 'object.erase', zone: zone.id, principal: describePrincipal(p), subject: objectIdToHex(objectId) });
  }

  async drop(p: DevicePrincipal, objectId: Uint8Array, keys: SymbolKey[]): Promise<void> {
    const manifest = this.node.store.getManifest(objectId);
    if (!manifest) throw new MeshError('MESH_NOT_FOUND', 'no manifest for that object here');
    this.authz.authorize(p, 'symbols.drop', inZone(this.zone(manifest.zone)));
    await this.node.store.deleteSymbols(objectId, keys);
  }

  /** Manifests of the zones this caller may read over its current path. */
  list(p: DevicePrincipal, zoneId: string | undefined): Manifest[] {
    if (zoneId !== undefined) this.zone(zoneId);
    return this.node.store.listManifests(zoneId).filter((m) => this.node.zones.has(m.zone) && this.authz.check(p, 'object.list', inZone(this.node.zones.get(m.zone))).allow);
  }

  /**
   * This device's holdings summary digests for the zones asked; a zone the caller may not read
   * (or this device does not know) is left out, so one refused zone does not hide the others.
   */
  summaryDigests(p: DevicePrincipal, zoneIds: string[]): ZoneSummaryDigest[] {
    const out: ZoneSummaryDigest[] = [];
    for (const id of new Set(zoneIds)) {
      if (!this.node.zones.has(id) || !this.authz.check(p, 'summary.read', inZone(this.node.zones.get(id))).allow) continue;
      out.push(this.node.store.holdingsDigest(id));
    }
    return out;
  }

  /** One page of this device's holdings summary of a zone (entries of the asked id buckets). */
  summaryPage(p: DevicePrincipal, zoneId: string, buckets: number[], after: Uint8Array | undefined, limit: number): { entries: SummaryEntry[]; next?: Uint8Array } {
    this.authz.authorize(p, 'summary.read', inZone(this.zone(zoneId)));
    return this.node.store.holdingsPage(zoneId, buckets, after, Math.min(Math.max(1, limit), SUMMARY_PAGE_MAX));
  }

  /**
   * A device's new head of a zone's namespace: only the device itself pushes its head (decided
   * by authorize()), signed with its node key (checked against its pinned key: MESH_BAD_SIGNATURE).
   */
  async putRef(p: DevicePrincipal, ref: RefRecord): Promise<void> {
    const zone = this.zone(ref.zone);
    this.authz.authorize(p, 'ref.put', recordOf(zone, ref.device));
    // Kept only with a higher seq than the one held: a stale or repeated put changes nothing.
    await this.node.records.acceptRef(ref);
  }

  /** Signed heads only: one stored unsigned (before an older data dir was adopted) is not served. */
  listRefs(p: DevicePrincipal, zoneId: string): RefRecord[] {
    const zone = this.zone(zoneId);
    this.authz.authorize(p, 'ref.list', inZone(zone));
    return this.node.store.listRefs(zone.id).filter((r) => r.sig !== undefined);
  }

  /**
   * Tombstones from the device that decided them (a collection, or a revival), signed by it; a
   * dead one also erases the copy held here. One refused tombstone refuses the whole batch.
   */
  async putTombstones(p: DevicePrincipal, tombstones: Tombstone[]): Promise<void> {
    for (const t of tombstones) this.authz.authorize(p, 'tombstone.put', recordOf(this.zone(t.zone), t.by));
    await this.node.records.acceptTombstones(tombstones);
  }

  listTombstones(p: DevicePrincipal, zoneId: string): Tombstone[] {
    const zone = this.zone(zoneId);
    this.authz.authorize(p, 'tombstone.list', inZone(zone));
    // One reply carries at most MAX_TOMBSTONES: the latest decisions matter most. Signed ones only.
    const all = this.node.store.listTombstones(zone.id).filter((t) => t.sig !== undefined && t.by !== undefined && !this.node.records.expired(t));
    return all.length <= MAX_TOMBSTONES ? all : all.sort((a, b) => b.at - a.at).slice(0, MAX_TOMBSTONES);
  }

  info(p: DevicePrincipal): { usedBytes: number; freeBytes: number; boxPublicKey: Uint8Array; signingPublicKey: Uint8Array; grant?: Uint8Array } {
    this.authz.authorize(p, 'node.info', NODE);
    const u = this.node.store.usage();
    // A store that is full, gone or damaged takes nothing: placement then chooses other devices.
    const writable = this.node.store.health().state === 'ok';
    const grant = this.grant();
    return {
      usedBytes: u.bytes,
      freeBytes: !writable ? 0 : u.quotaBytes === null ? Number.MAX_SAFE_INTEGER : Math.max(0, u.quotaBytes - u.bytes),
      boxPublicKey: this.node.keyring.node.encryptionPublicKey,
      // What other devices pin to verify this device's heads and tombstones (mesh/signer-keys.ts).
      signingPublicKey: this.node.keyring.node.signingPublicKey,
      // Holder-bound (useless without this device's node key); it vouches for that key after a reset.
      ...(grant ? { grant } : {}),
    };
  }

  /** A device presenting a valid invite code gets the zone keys it may hold, sealed to its box key. */
  join(p: DevicePrincipal, code: string, boxPublicKey: Uint8Array): { keys: Uint8Array[]; formerKeys?: Array<{ key: Uint8Array; until: number }> } {
    this.authz.authorize(p, 'node.join', NODE);
    if (!this.node.invites.consume(code)) {
      this.node.metrics.refusals.inc({ reason: 'join' });
      throw new MeshError('MESH_REFUSED', 'the join code is unknown, already used or expired; run `fcp invite` on a member device for a new one');
    }
    const keys: Uint8Array[] = [];
    for (const id of this.node.keyring.zoneIds()) {
      if (!this.node.zones.has(id) || !this.authz.check(p, 'zone-key.get', inZone(this.node.zones.get(id))).allow) continue;
      // Earlier epochs still kept (re-sealing runs) go first, the current key last.
      for (const zk of [...this.node.keyring.olderKeys(id)].reverse()) keys.push(sealTo(boxPublicKey, serializeZoneKey(zk), joinAad(p.stableId)));
      keys.push(sealTo(boxPublicKey, serializeZoneKey(this.node.keyring.requireZoneKey(id)), joinAad(p.stableId)));
    }
    this.node.log.info({ peer: p.hostName, zones: keys.length }, 'device joined');
    this.audit?.({ kind: 'device.enroll', zone: 'device', principal: describePrincipal(p), subject: p.stableId, detail: { zoneKeys: keys.length } });
    // A device joining again after a reset: the keys it signed with before, as pinned here, so it
    // takes back the tombstones and hub state it signed then (signer-keys.ts). Public keys only.
    const formerKeys = this.node.signers.historyFor(p.stableId);
    return { keys, ...(formerKeys.length > 0 ? { formerKeys } : {}) };
  }
}
