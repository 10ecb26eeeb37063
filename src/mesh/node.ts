// MeshNode: one device of the mesh. It serves FCP on its tailnet address, keeps its share of
// symbols in LMDB, and stores/retrieves whole objects across the zone's devices.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import {
  SymbolSealer,
  computeObjectId,
  objectIdFromHex,
  objectIdToHex,
  bytesEqual,
  type Manifest,
  type SymbolEntry,
  type ZoneKey,
} from '../crypto/index.js';
import { RaptorQDecoder } from '../raptorq/index.js';
import { LmdbSymbolStore, type SymbolStore } from '../store/index.js';
import { LocalApiClient } from '../tailscale/index.js';
import { ZoneRegistry, mayHold, type Zone } from '../zones/index.js';
import type { Message } from '../wire/index.js';
import { MeshError } from './errors.js';
import { Keyring } from './keyring.js';
import { MeshMetrics } from './metrics.js';
import { PeerDirectory } from './peers.js';
import { DECODE_MARGIN, DEFAULT_POLICY, assign, batchesOf, placementOf, policyOf, resolvePolicy, symbolCount, type PlacementPolicy } from './placement.js';
import { ConnectionPool } from './pool.js';
import { FcpServer, type RequestContext } from './server.js';
import { ObjectAssembler, encodeAndSeal, type EncodedObject } from './objects.js';
import type { Outgoing, RpcConnection } from './rpc.js';
import { InviteBook } from './invites.js';
import { ZoneGuard } from './guard.js';
import { BATCH_BYTES, RequestHandlers } from './handlers.js';
import { blockMeetsPolicy } from './health.js';
import { DEFAULT_REPAIR, RepairLoop, type RepairOptions } from './repair.js';

export const FCP_PORT = 9473;
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
  /** @internal */
  readonly invites = new InviteBook();
  /** The daemon's own zone checks. @internal */
  readonly guard: ZoneGuard;
  private readonly handlers: RequestHandlers;
  private server!: FcpServer;
  private pool!: ConnectionPool;
  private sealer!: SymbolSealer;
  /** Self-healing: repair loop and scrubber. */
  readonly repair: RepairLoop;
  /** Message types answered by upper layers (secrets). @internal */
  readonly extraHandlers = new Map<string, (ctx: RequestContext, msg: Message) => Promise<Outgoing>>();

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
    this.guard = new ZoneGuard(zones, directory, this.metrics);
    this.handlers = new RequestHandlers(this, this.guard);
  }

  /** Creates a one-time code another device presents with `fcp join` (valid `ttlMs`). */
  createInvite(ttlMs = 10 * 60_000): { code: string; expires: number } {
    return this.invites.create(ttlMs);
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
      authenticate: (ip, p) => this.handlers.authenticate(ip, p),
      handle: (ctx, msg) => this.handlers.handle(ctx, msg),
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

  // ---------------------------------------------------------------- store

  /** @internal */
  zone(id: string): Zone {
    return this.guard.zone(id);
  }

  /** Devices that may hold `zone` symbols now: this device first (if eligible), then peers best first. @internal */
  holdersFor(zone: Zone): Holder[] {
    const out: Holder[] = [];
    const selfZones = this.directory.selfZones;
    if (mayHold(selfZones, zone) && this.guard.zoneReaches(selfZones, zone)) out.push({ stableId: this.self.stableId, hostName: this.self.hostName, address: null });
    for (const info of this.directory.ranked((i) => this.guard.eligibleHolder(i, zone))) {
      out.push({ stableId: info.peer.stableId, hostName: info.peer.hostName, address: info.peer.tailscaleIps[0]! });
    }
    return out;
  }

  /** Stores `data` in `zone`; resolves with the hex ObjectId once every symbol and the manifest are durable. */
  async put(data: Uint8Array, zoneId: string, opts: StoreOptions = {}): Promise<string> {
    const started = performance.now();
    const zone = this.guard.zone(zoneId);
    if (!this.guard.selfMayWrite(zone)) {
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
        placement: placementOf(policy),
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
      .ranked((i) => this.guard.reachable(i, zone) && !ids.has(i.peer.stableId))
      .map((i) => ({ stableId: i.peer.stableId, hostName: i.peer.hostName, address: i.peer.tailscaleIps[0]! }));
    const self = !ids.has(this.self.stableId) && this.guard.selfMayHold(zone) ? [{ stableId: this.self.stableId, hostName: this.self.hostName, address: null }] : [];
    return [...holders, ...self, ...extra];
  }

  /** @internal */
  async sendSymbols(h: Holder, objectId: Uint8Array, zone: string, symbols: SymbolEntry[]): Promise<void> {
    if (h.address === null) {
      await this.store.putSymbols(objectId, symbols);
      return;
    }
    const conn = await this.pool.get(h.address);
    const batches = batchesOf(symbols, BATCH_BYTES);
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
    const zone = this.guard.zone(manifest.zone);
    this.guard.checkSelfHolds(zone);
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
        if (assembler.satisfied) break;
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
    if (!assembler.done) await assembler.solve();
    if (!assembler.done) await this.fetchFromPeers(manifest, zone, assembler);
    if (!assembler.done) await assembler.solve();
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
    const targets = this.directory.ranked((i) => this.guard.reachable(i, zone)).map((i) => ({ address: i.peer.tailscaleIps[0]!, hostName: i.peer.hostName, ...(want ? { want } : {}) }));
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
            if (assembler.satisfied) return finishOne();
            const s = conn.stream({ t: 'fetch', objectId: manifest.objectId, zone: zone.id, ...(target.want ? { want: target.want } : {}) }, 'fetch_end', (reply) => {
              // Every symbol that arrived is offered (and counted as read), even after the object is whole.
              for (const entry of (reply as unknown as { symbols: SymbolEntry[] }).symbols) assembler.add(entry);
              if (assembler.satisfied) resolve();
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
    const zone = this.guard.zone(m.zone);
    const held: Array<{ hostName: string; keys: Array<[number, number]> }> = [{ hostName: this.self.hostName, keys: this.store.symbolKeys(m.objectId) }];
    await Promise.all(
      this.directory.ranked((i) => this.guard.reachable(i, zone)).map(async (info) => {
        try {
          const conn = await this.pool.get(info.peer.tailscaleIps[0]!);
          const r = (await conn.request({ t: 'have', objectId: m.objectId }, 5_000)) as unknown as { keys: Array<[number, number]> };
          held.push({ hostName: info.peer.hostName, keys: r.keys });
        } catch {
          // unreachable holders simply do not count
        }
      }),
    );
    const policy = policyOf(m.placement);
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
