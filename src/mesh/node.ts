// MeshNode: one device of the mesh. It serves FCP on its tailnet address, keeps its share of
// symbols in LMDB, and stores/retrieves whole objects across the zone's devices.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import {
  SymbolSealer,
  envelopeHeader,
  computeObjectId,
  objectIdFromHex,
  objectIdToHex,
  sealTo,
  serializeZoneKey,
  bytesEqual,
  type Manifest,
  type SymbolEntry,
  type ZoneKey,
} from '../crypto/index.js';
import { RaptorQDecoder } from '../raptorq/index.js';
import { LmdbSymbolStore, type SymbolStore } from '../store/index.js';
import { LocalApiClient } from '../tailscale/index.js';
import { ZoneRegistry, checkWrite, mayConnect, mayHold, mayUsePeer, type Zone } from '../zones/index.js';
import type { Message } from '../wire/index.js';
import { MeshError } from './errors.js';
import { Keyring } from './keyring.js';
import { MeshMetrics } from './metrics.js';
import { PeerDirectory, type PeerInfo } from './peers.js';
import { DECODE_MARGIN, DEFAULT_POLICY, assign, resolvePolicy, symbolCount, type PlacementPolicy } from './placement.js';
import { ConnectionPool } from './pool.js';
import { FcpServer, type Caller, type RequestContext } from './server.js';
import { ObjectAssembler, encodeAndSeal, type EncodedObject } from './objects.js';
import type { Outgoing, RpcConnection } from './rpc.js';
import { InviteBook } from './invites.js';
import { blockMeetsPolicy } from './health.js';
import { DEFAULT_REPAIR, RepairLoop, type RepairOptions } from './repair.js';
import { joinAad } from './join.js';

export const FCP_PORT = 9473;
/** Symbols per `store`/`symbols` frame are capped by bytes so frames stay well under the frame limit. */
const BATCH_BYTES = 512 * 1024;
const DEFAULT_SCHEMA = 'fcp.blob.v1';

export interface MeshNodeOptions {
  dataDir: string;
  /** LocalAPI socket; default TS_SOCKET or the platform's tailscaled socket. */
  tailscaleSocket?: string;
  port?: number;
  zones?: ZoneRegistry;
  quotaBytes?: number;
  policy?: Partial<PlacementPolicy>;
  logger?: Logger;
  requestTimeoutMs?: number;
  /** Repair loop and scrubber settings; defaults in DEFAULT_REPAIR. */
  repair?: Partial<RepairOptions>;
}

export interface StoreOptions {
  schema?: string;
  policy?: Partial<PlacementPolicy>;
}

/** A device eligible to hold symbols of a zone: this device or a peer. */
export interface Holder {
  stableId: string;
  hostName: string;
  address: string | null; // null = this device
}

export interface ObjectHealth {
  objectId: string;
  zone: string;
  length: number;
  created: number;
  writer: string;
  /** Fewest symbols any block has on reachable devices, minus what decoding needs (K + margin). */
  spare: number;
  /** Reachable devices holding symbols. */
  devices: number;
  /** Symbols each reachable device holds. */
  holders: Array<{ hostName: string; symbols: number }>;
  ok: boolean;
}

export class MeshNode {
  readonly metrics = new MeshMetrics();
  private readonly invites = new InviteBook();
  private server!: FcpServer;
  private pool!: ConnectionPool;
  private sealer!: SymbolSealer;
  /** Self-healing: repair loop and scrubber. */
  readonly repair: RepairLoop;
  private extraHandlers = new Map<string, (ctx: RequestContext, msg: Message) => Promise<Outgoing>>();

  private constructor(
    readonly opts: MeshNodeOptions,
    readonly log: Logger,
    readonly keyring: Keyring,
    readonly client: LocalApiClient,
    readonly zones: ZoneRegistry,
    readonly directory: PeerDirectory,
    readonly store: SymbolStore,
  ) {
    this.repair = new RepairLoop(this, { ...DEFAULT_REPAIR, ...(opts.repair ?? {}) });
  }

  static async start(opts: MeshNodeOptions): Promise<MeshNode> {
    const log = opts.logger ?? pino({ level: process.env.FCP_LOG_LEVEL ?? 'info' }, pino.destination(2));
    const keyring = await Keyring.load(opts.dataDir);
    const client = new LocalApiClient(opts.tailscaleSocket ? { socketPath: opts.tailscaleSocket } : {});
    const zones = opts.zones ?? ZoneRegistry.builtin();
    const directory = new PeerDirectory({ client, zones, log });
    await directory.start();
    const store = await LmdbSymbolStore.open(join(opts.dataDir, 'store'), opts.quotaBytes !== undefined ? { quotaBytes: opts.quotaBytes } : {});
    const node = new MeshNode(opts, log, keyring, client, zones, directory, store);
    try {
      await node.listen();
      node.repair.start();
      node.watchPeerInfo();
    } catch (err) {
      directory.stop();
      await store.close();
      throw err;
    }
    return node;
  }

  get self(): { stableId: string; hostName: string; address: string; zones: string[] } {
    const self = this.directory.self;
    return { stableId: self.stableId, hostName: self.hostName, address: this.directory.selfAddress, zones: this.directory.selfZones.map((z) => z.id) };
  }

  get port(): number {
    return this.server.port;
  }

  /** Lets upper layers (secrets) answer their own message types on this node's server. */
  onRequest(type: string, handler: (ctx: RequestContext, msg: Message) => Promise<Outgoing>): void {
    this.extraHandlers.set(type, handler);
  }

  async stop(): Promise<void> {
    if (this.infoTimer) clearInterval(this.infoTimer);
    await this.repair.stop();
    this.directory.stop();
    this.pool.closeAll();
    await this.server.close();
    await this.store.close();
  }

  private async listen(): Promise<void> {
    const address = this.directory.selfAddress;
    const port = this.opts.port ?? FCP_PORT;
    this.sealer = new SymbolSealer(this.directory.self.stableId);
    this.pool = new ConnectionPool({ localAddress: address, port, requestTimeoutMs: this.opts.requestTimeoutMs });
    this.server = new FcpServer({
      host: address,
      port,
      log: this.log,
      authenticate: (ip, p) => this.authenticate(ip, p),
      handle: (ctx, msg) => this.handle(ctx, msg),
      onRefused: () => this.metrics.refusals.inc({ reason: 'connection' }),
      onBadFrame: () => this.metrics.badFrames.inc(),
    });
    await this.server.listen();
    this.log.info({ address, port, zones: this.self.zones }, 'fcp server listening');
  }

  /** One request to a peer by stable id, over the pooled connection. */
  async call(stableId: string, msg: Outgoing, timeoutMs?: number): Promise<Message> {
    const info = this.directory.byStableId(stableId);
    const address = info?.peer.tailscaleIps[0];
    if (!info || !info.peer.online || !address) throw new MeshError('MESH_UNAVAILABLE', `peer ${stableId} is not online`);
    const conn = await this.pool.get(address);
    return conn.request(msg, timeoutMs);
  }

  private readonly boxKeys = new Map<string, Uint8Array>();

  /** A peer's X25519 public key (asked once with `info`, then cached). */
  async boxKeyOf(stableId: string): Promise<Uint8Array> {
    const known = this.boxKeys.get(stableId);
    if (known) return known;
    const reply = (await this.call(stableId, { t: 'info' }, 5_000)) as unknown as { boxPublicKey: Uint8Array; freeBytes: number };
    this.boxKeys.set(stableId, reply.boxPublicKey);
    this.directory.setFreeBytes(stableId, reply.freeBytes);
    return reply.boxPublicKey;
  }

  private infoTimer: NodeJS.Timeout | null = null;

  /**
   * Keeps each fcp peer's free storage (ranking, placement) and X25519 key (secrets) fresh:
   * asked now, when peers change, and every 30 s. Peers not running fcpd simply stay unknown.
   */
  private watchPeerInfo(): void {
    const refresh = () => {
      for (const info of this.directory.ranked((i) => i.zones.length > 0)) {
        this.boxKeys.delete(info.peer.stableId);
        void this.boxKeyOf(info.peer.stableId).catch(() => undefined);
      }
    };
    refresh();
    this.directory.on('change', refresh);
    this.infoTimer = setInterval(refresh, 30_000);
    this.infoTimer.unref();
  }

  /** Re-reads zone keys from disk (after `fcp join` added some while the daemon ran). */
  async reloadKeys(): Promise<void> {
    const fresh = await Keyring.load(this.opts.dataDir);
    for (const id of fresh.zoneIds()) this.keyring.adopt(fresh.requireZoneKey(id));
  }

  // ---------------------------------------------------------------- zone checks

  private zonesOf(ids: string[]): Zone[] {
    return ids.filter((id) => this.zones.has(id)).map((id) => this.zones.get(id));
  }

  /** @internal */
  zone(id: string): Zone {
    if (!this.zones.has(id)) throw new MeshError('MESH_REFUSED', `unknown zone ${id}`);
    return this.zones.get(id);
  }

  /** May `zone` data travel between this device and the peer now, and may we open a connection to it? */
  private reachable(info: PeerInfo, zone: Zone): boolean {
    if (!info.peer.online || info.zones.length === 0) return false;
    if (!mayHold(info.zones, zone) || !mayUsePeer(zone, info.peer)) return false;
    return this.directory.selfZones.some((a) => info.zones.some((b) => mayConnect(a, b)));
  }

  /**
   * A device may hold `zone` symbols if, besides the zone rules, the zone's own devices can reach
   * it through the generated ACLs; otherwise the zone's members could not read back their data.
   */
  private zoneReaches(holderZones: Zone[], zone: Zone): boolean {
    return holderZones.some((h) => mayConnect(zone, h));
  }

  private eligibleHolder(info: PeerInfo, zone: Zone): boolean {
    return this.reachable(info, zone) && this.zoneReaches(info.zones, zone);
  }

  /** Refuses a request about `zone` data from `caller` unless it may hold it and its path may carry it. */
  private checkCaller(caller: Caller, zone: Zone, op: string): void {
    const callerZones = this.zonesOf(caller.zoneIds);
    if (!mayHold(callerZones, zone)) {
      this.metrics.refusals.inc({ reason: 'zone' });
      throw new MeshError('MESH_REFUSED', `${caller.hostName} (${caller.zoneIds.join(', ')}) may not ${op} ${zone.id} data`);
    }
    const info = this.directory.byStableId(caller.stableId);
    if (!info || !mayUsePeer(zone, info.peer)) {
      this.metrics.refusals.inc({ reason: 'transport' });
      throw new MeshError('MESH_REFUSED', `${zone.id} data may not travel to or from ${caller.hostName} over its current path (${info?.peer.path ?? 'unknown'})`);
    }
  }

  private checkWriter(caller: Caller, zone: Zone): void {
    this.checkCaller(caller, zone, 'write');
    const callerZones = this.zonesOf(caller.zoneIds);
    if (!callerZones.some((z) => checkWrite(z, zone).allowed)) {
      this.metrics.refusals.inc({ reason: 'integrity' });
      throw new MeshError('MESH_REFUSED', `${caller.hostName} has too low an integrity level to write ${zone.id} data`);
    }
  }

  private checkSelfHolds(zone: Zone): void {
    if (!mayHold(this.directory.selfZones, zone)) {
      this.metrics.refusals.inc({ reason: 'zone' });
      throw new MeshError('MESH_REFUSED', `this device (${this.self.zones.join(', ') || 'no zone'}) may not hold ${zone.id} data`);
    }
  }

  // ---------------------------------------------------------------- server side

  private async authenticate(ip: string, port: number): Promise<Caller> {
    const who = await this.client.whois(`${ip}:${port}`);
    if (!who) {
      this.metrics.refusals.inc({ reason: 'not-in-tailnet' });
      throw new MeshError('MESH_REFUSED', `${ip} is not a node of this tailnet`);
    }
    const tags = who.node.tags;
    const zoneIds = this.zones.zonesForTags(tags).map((z) => z.id);
    if (zoneIds.length === 0) {
      this.metrics.refusals.inc({ reason: 'no-zone' });
      throw new MeshError('MESH_REFUSED', `${who.node.hostName} has no fcp zone tag (tags: ${tags.join(', ') || 'none'})`);
    }
    return { stableId: who.node.stableId, hostName: who.node.hostName, address: ip, tags, zoneIds };
  }

  private async handle(ctx: RequestContext, msg: Message): Promise<Outgoing> {
    const m = msg as unknown as Record<string, unknown>;
    switch (msg.t) {
      case 'store': {
        const zone = this.zone(m.zone as string);
        this.checkSelfHolds(zone);
        this.checkWriter(ctx.caller, zone);
        const objectId = m.objectId as Uint8Array;
        const symbols = m.symbols as SymbolEntry[];
        for (const s of symbols) {
          const head = envelopeHeader(s.env);
          if (head.sbn !== s.sbn || head.esi !== s.esi) throw new MeshError('MESH_REFUSED', `symbol labelled (${s.sbn}, ${s.esi}) carries an envelope for (${head.sbn}, ${head.esi})`);
        }
        await this.store.putSymbols(objectId, symbols);
        this.metrics.symbolsStored.inc(symbols.length);
        this.metrics.bytesStored.inc(symbols.reduce((a, s) => a + s.env.length, 0));
        return { t: 'ok' };
      }
      case 'manifest_put': {
        const manifest = m.manifest as Manifest;
        const zone = this.zone(manifest.zone);
        this.checkSelfHolds(zone);
        this.checkWriter(ctx.caller, zone);
        await this.store.putManifest(manifest);
        return { t: 'ok' };
      }
      case 'manifest_get': {
        const manifest = this.store.getManifest(m.objectId as Uint8Array);
        if (!manifest) throw new MeshError('MESH_NOT_FOUND', `no manifest for ${objectIdToHex(m.objectId as Uint8Array)} on ${this.self.hostName}`);
        this.checkCaller(ctx.caller, this.zone(manifest.zone), 'read');
        return { t: 'manifest', manifest };
      }
      case 'fetch':
        return this.serveFetch(ctx, m);
      case 'have': {
        // Only complete objects (a manifest here) are read, and only by callers of their zone.
        const objectId = m.objectId as Uint8Array;
        const manifest = this.store.getManifest(objectId);
        if (!manifest) return { t: 'have_result', keys: [] };
        this.checkCaller(ctx.caller, this.zone(manifest.zone), 'read');
        return { t: 'have_result', keys: this.store.symbolKeys(objectId) };
      }
      case 'delete': {
        const objectId = m.objectId as Uint8Array;
        const manifest = this.store.getManifest(objectId);
        if (manifest) this.checkWriter(ctx.caller, this.zone(manifest.zone));
        await this.store.deleteObject(objectId);
        return { t: 'ok' };
      }
      case 'drop': {
        const objectId = m.objectId as Uint8Array;
        const manifest = this.store.getManifest(objectId);
        if (!manifest) throw new MeshError('MESH_NOT_FOUND', 'no manifest for that object here');
        this.checkWriter(ctx.caller, this.zone(manifest.zone));
        await this.store.deleteSymbols(objectId, m.keys as Array<[number, number]>);
        return { t: 'ok' };
      }
      case 'list': {
        const callerZones = this.zonesOf(ctx.caller.zoneIds);
        const manifests = this.store.listManifests(m.zone as string | undefined).filter((mf) => this.zones.has(mf.zone) && mayHold(callerZones, this.zones.get(mf.zone)));
        return { t: 'list_result', manifests };
      }
      case 'info': {
        const u = this.store.usage();
        return {
          t: 'info_result',
          usedBytes: u.bytes,
          freeBytes: u.quotaBytes === null ? Number.MAX_SAFE_INTEGER : Math.max(0, u.quotaBytes - u.bytes),
          boxPublicKey: this.keyring.node.encryptionPublicKey,
        };
      }
      case 'join':
        return this.serveJoin(ctx, m);
      default: {
        const extra = this.extraHandlers.get(msg.t);
        if (extra) return extra(ctx, msg);
        throw new MeshError('MESH_REFUSED', `message type ${msg.t} is not a request this daemon serves`);
      }
    }
  }

  private async serveFetch(ctx: RequestContext, m: Record<string, unknown>): Promise<Outgoing> {
    const zone = this.zone(m.zone as string);
    this.checkCaller(ctx.caller, zone, 'read');
    const objectId = m.objectId as Uint8Array;
    const manifest = this.store.getManifest(objectId);
    if (!manifest) throw new MeshError('MESH_NOT_FOUND', `no complete object ${objectIdToHex(objectId)} on ${this.self.hostName}`);
    if (manifest.zone !== zone.id) throw new MeshError('MESH_REFUSED', `object is not in ${zone.id}`);
    const want = m.want as Array<[number, number]> | undefined;
    const symbols = await this.store.getSymbols(objectId, want, m.max as number | undefined);
    // Source symbols first: if every holder sends its source symbols first, the reader usually
    // has all K of them early and decodes without solving anything.
    symbols.sort((a, b) => a.sbn - b.sbn || a.esi - b.esi);
    let sent = 0;
    let batch: SymbolEntry[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      await ctx.send({ t: 'symbols', symbols: batch });
      this.metrics.symbolsServed.inc(batch.length);
      this.metrics.bytesServed.inc(bytes);
      sent += batch.length;
      batch = [];
      bytes = 0;
    };
    for (const s of symbols) {
      if (ctx.signal.aborted) break;
      batch.push(s);
      bytes += s.env.length;
      if (bytes >= BATCH_BYTES) await flush();
    }
    if (!ctx.signal.aborted) await flush();
    return { t: 'fetch_end', count: sent };
  }

  // ---------------------------------------------------------------- joining

  /** Creates a one-time code another device presents with `fcp join` (valid `ttlMs`). */
  createInvite(ttlMs = 10 * 60_000): { code: string; expires: number } {
    return this.invites.create(ttlMs);
  }

  private async serveJoin(ctx: RequestContext, m: Record<string, unknown>): Promise<Outgoing> {
    if (!this.invites.consume(m.code as string)) {
      this.metrics.refusals.inc({ reason: 'join' });
      throw new MeshError('MESH_REFUSED', 'the join code is unknown, already used or expired; run `fcp invite` on a member device for a new one');
    }
    const callerZones = this.zonesOf(ctx.caller.zoneIds);
    const keys: Uint8Array[] = [];
    for (const id of this.keyring.zoneIds()) {
      if (!this.zones.has(id) || !mayHold(callerZones, this.zones.get(id))) continue;
      keys.push(sealTo(m.boxPublicKey as Uint8Array, serializeZoneKey(this.keyring.requireZoneKey(id)), joinAad(ctx.caller.stableId)));
    }
    this.log.info({ peer: ctx.caller.hostName, zones: keys.length }, 'device joined');
    return { t: 'join_result', keys };
  }

  // ---------------------------------------------------------------- store

  /** Devices that may hold `zone` symbols now: this device first (if eligible), then peers best first. */
  /** @internal */
  holdersFor(zone: Zone): Holder[] {
    const out: Holder[] = [];
    const selfZones = this.directory.selfZones;
    if (mayHold(selfZones, zone) && this.zoneReaches(selfZones, zone)) out.push({ stableId: this.self.stableId, hostName: this.self.hostName, address: null });
    for (const info of this.directory.ranked((i) => this.eligibleHolder(i, zone))) {
      out.push({ stableId: info.peer.stableId, hostName: info.peer.hostName, address: info.peer.tailscaleIps[0]! });
    }
    return out;
  }

  /** Stores `data` in `zone`; resolves with the hex ObjectId once every symbol and the manifest are durable. */
  async put(data: Uint8Array, zoneId: string, opts: StoreOptions = {}): Promise<string> {
    const started = performance.now();
    const zone = this.zone(zoneId);
    if (!this.directory.selfZones.some((z) => checkWrite(z, zone).allowed) || !mayHold(this.directory.selfZones, zone)) {
      throw new MeshError('MESH_REFUSED', `this device (${this.self.zones.join(', ') || 'no zone'}) may not write ${zone.id} data`);
    }
    const zk = this.keyring.requireZoneKey(zone.id);
    const policy = resolvePolicy({ ...DEFAULT_POLICY, ...this.opts.policy, ...opts.policy });
    const schema = opts.schema ?? DEFAULT_SCHEMA;
    const objectId = await computeObjectId(zk.objectIdKey, zone.id, schema, data);
    // Content-addressed: the same bytes in the same zone and schema are already stored.
    if (this.store.getManifest(objectId)) return objectIdToHex(objectId);

    await this.directory.refresh().catch(() => undefined);
    // RFC 6330 has no empty objects; an empty one is coded as one zero byte and its manifest says 0.
    const coded = data.length === 0 ? new Uint8Array(1) : data;
    const excluded = new Set<string>();
    for (let attempt = 1; ; attempt++) {
      // A device that reported (or just showed) too little room for its share is left out.
      const candidates = this.holdersFor(zone).filter((h) => !excluded.has(h.stableId));
      const share = Math.ceil(((data.length + 65536) * policy.overhead * 1.1) / Math.max(1, candidates.length));
      const holders = candidates.filter((h) => h.address === null || (this.directory.byStableId(h.stableId)?.freeBytes ?? Number.MAX_SAFE_INTEGER) >= share);
      const encoded = await encodeAndSeal(coded, (k) => symbolCount(k, holders.length, policy), { zk, sealer: this.sealer, objectId });
      const manifest: Manifest = {
        objectId,
        zone: zone.id,
        schema,
        oti: encoded.oti,
        length: data.length,
        keyId: zk.keyId,
        epoch: zk.epoch,
        created: Date.now(),
        writer: this.self.stableId,
        placement: { target: policy.overhead, minDevices: policy.minDevices, maxShare: policy.maxShare, tolerate: policy.tolerate },
      };
      const failed = await this.place(zone, holders, encoded, manifest);
      if (failed.length === 0) break;
      // Nothing reports the object as stored: no holder kept its manifest. Try once more without
      // the devices that failed (full, gone), as long as the policy can still be met.
      for (const f of failed) excluded.add(f.holder.stableId);
      if (attempt >= 3) {
        throw new MeshError('MESH_STORE_FAILED', `storing failed on ${failed.map((f) => f.holder.hostName).join(', ')}: ${failed[0]!.reason}`);
      }
      this.log.warn({ failed: failed.map((f) => ({ device: f.holder.hostName, reason: f.reason })) }, 'store failed on some devices; placing again without them');
    }
    this.metrics.storeSeconds.observe((performance.now() - started) / 1000);
    this.log.info({ objectId: objectIdToHex(objectId), zone: zone.id, bytes: data.length }, 'object stored');
    return objectIdToHex(objectId);
  }

  /**
   * Sends every holder its symbols, then (only if all are durable) the manifest to every eligible
   * device. Returns the holders that failed; after a failure nothing of the object is left anywhere.
   */
  private async place(zone: Zone, holders: Holder[], encoded: EncodedObject, manifest: Manifest): Promise<Array<{ holder: Holder; reason: string }>> {
    const perHolder: SymbolEntry[][] = holders.map(() => []);
    for (const block of encoded.blocks) {
      assign(block.symbols.length, holders.length).forEach((esis, d) => {
        for (const esi of esis) perHolder[d]!.push(block.symbols[esi]!);
      });
    }
    const sent = await Promise.allSettled(holders.map((h, d) => this.sendSymbols(h, manifest.objectId, zone.id, perHolder[d]!)));
    const failed = sent.flatMap((r, d) => (r.status === 'rejected' ? [{ holder: holders[d]!, reason: (r.reason as Error).message }] : []));
    const targets = this.manifestTargets(zone, holders);
    if (failed.length > 0) {
      // Clean up what landed, unless an earlier complete store of the same content exists
      // somewhere: then what we wrote are valid extra symbols (repair trims surplus), and
      // deleting would destroy that copy.
      const known = await Promise.all(targets.map((h) => this.hasManifestAt(h, manifest.objectId)));
      if (!known.some(Boolean)) await Promise.allSettled(targets.map((h) => this.deleteAt(h, manifest.objectId)));
      return failed;
    }
    // The manifest goes last: its presence means every symbol is durable. A device that misses
    // it (it just went away) does not make the object less whole; repair works from the others.
    const results = await Promise.allSettled(targets.map((h) => this.sendManifest(h, manifest)));
    const written = results.filter((r) => r.status === 'fulfilled').length;
    results.forEach((r, i) => {
      if (r.status === 'rejected') this.log.warn({ device: targets[i]!.hostName, err: (r.reason as Error).message }, 'manifest not written on a device');
    });
    if (written === 0) return holders.map((holder) => ({ holder, reason: 'no device accepted the manifest' }));
    return [];
  }

  private async hasManifestAt(h: Holder, objectId: Uint8Array): Promise<boolean> {
    if (h.address === null) return this.store.getManifest(objectId) !== undefined;
    try {
      const conn = await this.pool.get(h.address);
      await conn.request({ t: 'manifest_get', objectId }, 5_000);
      return true;
    } catch {
      return false;
    }
  }

  private manifestTargets(zone: Zone, holders: Holder[]): Holder[] {
    const ids = new Set(holders.map((h) => h.stableId));
    const extra = this.directory
      .ranked((i) => this.reachable(i, zone) && !ids.has(i.peer.stableId))
      .map((i) => ({ stableId: i.peer.stableId, hostName: i.peer.hostName, address: i.peer.tailscaleIps[0]! }));
    const self = !ids.has(this.self.stableId) && mayHold(this.directory.selfZones, zone) ? [{ stableId: this.self.stableId, hostName: this.self.hostName, address: null }] : [];
    return [...holders, ...self, ...extra];
  }

  /** @internal */
  async sendSymbols(h: Holder, objectId: Uint8Array, zone: string, symbols: SymbolEntry[]): Promise<void> {
    if (h.address === null) {
      await this.store.putSymbols(objectId, symbols);
      return;
    }
    const conn = await this.pool.get(h.address);
    const batches: SymbolEntry[][] = [];
    let batch: SymbolEntry[] = [];
    let bytes = 0;
    for (const s of symbols) {
      batch.push(s);
      bytes += s.env.length;
      if (bytes >= BATCH_BYTES) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length > 0) batches.push(batch);
    // A few batches in flight per peer keeps its disk and our socket busy without unbounded memory.
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const b = batches[next++]!;
        await conn.request({ t: 'store', objectId, zone, symbols: b });
      }
    };
    await Promise.all([lane(), lane(), lane()]);
  }

  private async sendManifest(h: Holder, manifest: Manifest): Promise<void> {
    if (h.address === null) {
      await this.store.putManifest(manifest);
      return;
    }
    const conn = await this.pool.get(h.address);
    await conn.request({ t: 'manifest_put', manifest });
  }

  private async deleteAt(h: Holder, objectId: Uint8Array): Promise<void> {
    if (h.address === null) return this.store.deleteObject(objectId);
    const conn = await this.pool.get(h.address);
    await conn.request({ t: 'delete', objectId });
  }

  // ---------------------------------------------------------------- retrieve

  /** Finds the manifest locally or on the zone's devices. */
  async manifest(idHex: string): Promise<Manifest> {
    const objectId = objectIdFromHex(idHex);
    const local = this.store.getManifest(objectId);
    if (local) return local;
    await this.directory.refresh().catch(() => undefined);
    const peers = this.directory.ranked((i) => i.zones.length > 0 && i.peer.path !== 'offline');
    let refused: Error | null = null;
    for (const info of peers) {
      try {
        const conn = await this.pool.get(info.peer.tailscaleIps[0]!);
        const reply = (await conn.request({ t: 'manifest_get', objectId }, 5_000)) as unknown as { manifest: Manifest };
        return reply.manifest;
      } catch (err) {
        if (err instanceof MeshError && err.code === 'MESH_REFUSED') refused = err;
      }
    }
    if (refused) throw refused;
    throw new MeshError('MESH_NOT_FOUND', `object ${idHex} is not known to this device or any reachable peer`);
  }

  /**
   * Rebuilds an object: local symbols first, then ranked peers in parallel until it decodes.
   * Every symbol is already authenticated (AEAD bound to object, zone, position and key); with
   * `verify` the rebuilt content is also hashed and must give back its ObjectId, which guards
   * against a zone-key holder that sealed other content under this id.
   */
  async get(idHex: string, opts: { verify?: boolean } = {}): Promise<Uint8Array> {
    const started = performance.now();
    const manifest = await this.manifest(idHex);
    const zone = this.zone(manifest.zone);
    this.checkSelfHolds(zone);
    const zk = this.keyring.requireZoneKey(zone.id);
    if (!bytesEqual(zk.keyId, manifest.keyId)) {
      throw new MeshError('MESH_NO_ZONE_KEY', `object was sealed under ${zone.id} key epoch ${manifest.epoch}; this device has epoch ${zk.epoch}`);
    }
    const assembler = new ObjectAssembler(manifest, zk);
    // Source symbols first, local then remote: with all K source symbols of a block the decoder
    // only copies them, while a repair symbol taken early would force a matrix solve. Repair
    // symbols are read only when some source symbols are out of reach.
    const addLocal = async (want?: Array<[number, number]>) => {
      for (const s of await this.store.getSymbols(manifest.objectId, want)) {
        assembler.add(s);
        if (assembler.done) break;
      }
    };
    // Ask peers for the source symbols this device lacks and open the local ones meanwhile.
    const local = new Set(this.store.symbolKeys(manifest.objectId).map(([sbn, esi]) => sbn * 0x1000000 + esi));
    const sources = assembler.missingSourceKeys();
    const localSources = sources.filter(([sbn, esi]) => local.has(sbn * 0x1000000 + esi));
    const remoteSources = sources.filter(([sbn, esi]) => !local.has(sbn * 0x1000000 + esi));
    await Promise.all([
      addLocal(localSources),
      remoteSources.length > 0 ? this.fetchFromPeers(manifest, zone, assembler, remoteSources) : Promise.resolve(),
    ]);
    if (!assembler.done) await addLocal();
    if (!assembler.done) await this.fetchFromPeers(manifest, zone, assembler);
    const data = assembler.done;
    if (assembler.rejected > 0) this.metrics.symbolAuthFailures.inc(assembler.rejected);
    if (!data) {
      this.metrics.decodeFailures.inc();
      throw new MeshError('MESH_UNAVAILABLE', `object ${idHex} cannot be rebuilt now: ${assembler.added} valid symbols reachable, not enough to decode (${assembler.rejected} rejected)`);
    }
    if (opts.verify) {
      const check = await computeObjectId(zk.objectIdKey, manifest.zone, manifest.schema, data);
      if (!bytesEqual(check, manifest.objectId)) {
        this.metrics.decodeFailures.inc();
        throw new MeshError('MESH_DECODE_FAILED', `object ${idHex} decoded to content with another id`);
      }
    }
    this.metrics.retrieveSeconds.observe((performance.now() - started) / 1000);
    return data;
  }

  private async fetchFromPeers(manifest: Manifest, zone: Zone, assembler: ObjectAssembler, want?: Array<[number, number]>): Promise<void> {
    const targets = this.directory.ranked((i) => this.reachable(i, zone)).map((i) => ({ address: i.peer.tailscaleIps[0]!, hostName: i.peer.hostName, ...(want ? { want } : {}) }));
    await this.fetchFrom(manifest, zone, assembler, targets);
  }

  /**
   * Streams symbols from several peers in parallel into `assembler` until it decodes or every
   * stream ends; then cancels the streams still running. Each target may name exactly what it sends.
   * @internal
   */
  async fetchFrom(manifest: Manifest, zone: Zone, assembler: ObjectAssembler, targets: Array<{ address: string; hostName: string; want?: Array<[number, number]> }>): Promise<void> {
    const running: Array<{ conn: RpcConnection; id: number }> = [];
    await new Promise<void>((resolve) => {
      let open = targets.length;
      if (open === 0) resolve();
      const finishOne = () => {
        open--;
        if (open === 0) resolve();
      };
      for (const target of targets) {
        this.pool
          .get(target.address)
          .then((conn) => {
            if (assembler.done) return finishOne();
            const s = conn.stream({ t: 'fetch', objectId: manifest.objectId, zone: zone.id, ...(target.want ? { want: target.want } : {}) }, 'fetch_end', (reply) => {
              // Every symbol that arrived is offered (and counted as read), even after the object is whole.
              for (const entry of (reply as unknown as { symbols: SymbolEntry[] }).symbols) assembler.add(entry);
              if (assembler.done) resolve();
            });
            running.push({ conn, id: s.id });
            s.done.then(finishOne, (err: Error) => {
              this.log.debug({ peer: target.hostName, err: err.message }, 'fetch failed');
              finishOne();
            });
          })
          .catch((err: Error) => {
            this.log.debug({ peer: target.hostName, err: err.message }, 'peer unreachable');
            finishOne();
          });
      }
    });
    for (const r of running) r.conn.send({ t: 'stop', target: r.id });
  }

  /** Symbol positions a holder has of an object (this device or a peer). @internal */
  async haveAt(h: Holder, objectId: Uint8Array): Promise<Array<[number, number]>> {
    if (h.address === null) return this.store.symbolKeys(objectId);
    const conn = await this.pool.get(h.address);
    const r = (await conn.request({ t: 'have', objectId }, 10_000)) as unknown as { keys: Array<[number, number]> };
    return r.keys;
  }

  /** Removes some symbols of an object from a holder. @internal */
  async dropAt(h: Holder, objectId: Uint8Array, keys: Array<[number, number]>): Promise<void> {
    if (keys.length === 0) return;
    if (h.address === null) return this.store.deleteSymbols(objectId, keys);
    const conn = await this.pool.get(h.address);
    await conn.request({ t: 'drop', objectId, keys });
  }

  /** Seals symbols of an object under its zone key as this device. @internal */
  seal(zk: ZoneKey, h: { objectId: Uint8Array; sbn: number; esi: number; k: number }, symbol: Uint8Array): Uint8Array {
    return this.sealer.seal(zk, h, symbol);
  }

  // ---------------------------------------------------------------- listing and health

  /** Objects this device knows, with their health against their placement policy. */
  async list(zoneId?: string): Promise<ObjectHealth[]> {
    return Promise.all(this.store.listManifests(zoneId).map((m) => this.health(m)));
  }

  async health(m: Manifest): Promise<ObjectHealth> {
    const zone = this.zone(m.zone);
    const held: Array<{ hostName: string; keys: Array<[number, number]> }> = [{ hostName: this.self.hostName, keys: this.store.symbolKeys(m.objectId) }];
    await Promise.all(
      this.directory.ranked((i) => this.reachable(i, zone)).map(async (info) => {
        try {
          const conn = await this.pool.get(info.peer.tailscaleIps[0]!);
          const r = (await conn.request({ t: 'have', objectId: m.objectId }, 5_000)) as unknown as { keys: Array<[number, number]> };
          held.push({ hostName: info.peer.hostName, keys: r.keys });
        } catch {
          // unreachable holders simply do not count
        }
      }),
    );
    const policy = resolvePolicy({ overhead: m.placement.target, tolerate: m.placement.tolerate, minDevices: m.placement.minDevices, maxShare: m.placement.maxShare });
    const layout = new RaptorQDecoder(m.oti);
    let spare = Number.POSITIVE_INFINITY;
    let ok = true;
    for (let sbn = 0; sbn < layout.blockCount; sbn++) {
      const k = layout.sourceSymbolCount(sbn);
      const holdings = held.map((h) => ({ device: h.hostName, symbols: h.keys.filter(([b]) => b === sbn).length })).filter((h) => h.symbols > 0);
      spare = Math.min(spare, holdings.reduce((a, h) => a + h.symbols, 0) - k - DECODE_MARGIN);
      if (!blockMeetsPolicy(k, holdings, policy)) ok = false;
    }
    const holders = held.filter((h) => h.keys.length > 0).map((h) => ({ hostName: h.hostName, symbols: h.keys.length }));
    holders.sort((a, b) => (a.hostName < b.hostName ? -1 : 1));
    return { objectId: objectIdToHex(m.objectId), zone: m.zone, length: m.length, created: m.created, writer: m.writer, spare, devices: holders.length, holders, ok };
  }

  /** What `fcp status` shows: this device, its peers with path/latency/zones, its storage. */
  async status(): Promise<Record<string, unknown>> {
    const u = this.store.usage();
    const count = async (c: { get(): Promise<{ values: Array<{ value: number }> }> }) => (await c.get()).values.reduce((a, v) => a + v.value, 0);
    return {
      counters: {
        symbolsStored: await count(this.metrics.symbolsStored),
        symbolsServed: await count(this.metrics.symbolsServed),
        symbolAuthFailures: await count(this.metrics.symbolAuthFailures),
        decodeFailures: await count(this.metrics.decodeFailures),
        refusals: await count(this.metrics.refusals),
        badFrames: await count(this.metrics.badFrames),
      },
      self: this.self,
      port: this.port,
      storage: u,
      objects: this.store.listManifests().length,
      zoneKeys: this.keyring.zoneIds(),
      repair: this.repair.stats,
      peers: this.directory.all().map((i) => ({
        hostName: i.peer.hostName,
        address: i.peer.tailscaleIps[0],
        online: i.peer.online,
        path: i.peer.path,
        latencyMs: i.latencyMs,
        zones: i.zones.map((z) => z.id),
      })),
    };
  }
}
