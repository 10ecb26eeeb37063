// MeshNode: one device of the mesh, wired from narrow parts. It serves FCP on its tailnet
// address (requests go to the handler the services layer installs), keeps its share of symbols
// in LMDB, and writes, reads and repairs whole objects across the zone's devices.
import { join } from 'node:path';
import pino, { type Logger } from 'pino';
import { SymbolSealer, type ZoneKey } from '../crypto/index.js';
import { LmdbSymbolStore, type SymbolStore } from '../store/index.js';
import { LocalApiClient, isForeignNode } from '../tailscale/index.js';
import { ZoneRegistry } from '../zones/index.js';
import { DEFAULT_PORT, type Message } from '../wire/index.js';
import { MeshError } from './errors.js';
import { Eligibility } from './eligibility.js';
import { LocalHolder } from './holder.js';
import { InviteBook } from './invites.js';
import { Keyring } from './keyring.js';
import { HolderMarks } from './marks.js';
import { MeshMetrics } from './metrics.js';
import { NameRecords } from './name-records.js';
import { call } from './peer-call.js';
import { PeerDirectory } from './peers.js';
import type { PlacementPolicy } from './placement.js';
import { ConnectionPool } from './pool.js';
import { ObjectReader } from './reader.js';
import { keyFingerprint, SignerKeys, SIGNER_KEYS_FILE } from './signer-keys.js';
import { TombSync } from './tomb-sync.js';
import { RemovedDevices, type Removal } from './removals.js';
import { DEFAULT_REPAIR, RepairLoop, type RepairOptions } from './repair.js';
import { DEFAULT_RESEAL, Resealer, type ResealOptions } from './reseal.js';
import type { Outgoing } from './rpc.js';
import { FcpServer, type Caller, type Handle } from './server.js';
import { StoreCare } from './store-care.js';
import { SummaryCache } from './summaries.js';
import { ObjectWriter } from './writer.js';

/** The FCP port on tailnet addresses (one definition: wire/limits.ts). */
export const FCP_PORT = DEFAULT_PORT;

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
  /** A store to use instead of LMDB in the data directory (tests: the memory store). */
  store?: SymbolStore;
  /** Silence after which a read stops waiting for a stalled holder (ms). */
  hedgeMs?: number;
  /** How long a collected object's copy is kept before it is erased (ms); see NameRecords. */
  gcQuarantineMs?: number;
  /** How long tombstones are kept (ms; default 90 days; `gc.tombstoneTtlMs`, FCP_GC_TOMBSTONE_TTL_MS). */
  gcTombstoneTtlMs?: number;
  /** Wall clock of tombstone expiry and sync records (tests). */
  now?: () => number;
  /** Background re-sealing after a zone key rotation; defaults in DEFAULT_RESEAL. */
  reseal?: Partial<ResealOptions>;
}

export interface SelfInfo {
  stableId: string;
  hostName: string;
  address: string;
  zones: string[];
}

export class MeshNode {
  readonly metrics = new MeshMetrics();
  readonly invites = new InviteBook();
  readonly marks = new HolderMarks();
  /** Each holder's holdings summary, as last fetched (listing, status and repair decide from it). */
  readonly summaries = new SummaryCache();
  readonly eligibility: Eligibility;
  readonly writer: ObjectWriter;
  readonly reader: ObjectReader;
  readonly repair: RepairLoop;
  /** Namespace heads and tombstones of the zones, replicated to their devices. */
  readonly records: NameRecords;
  /** Re-seals this device's symbols to a zone's new key epoch, in the background. */
  readonly resealer: Resealer;
  /** Other devices' node signing keys, pinned on first use: they verify heads and tombstones. */
  readonly signers: SignerKeys;
  private readonly sealer: SymbolSealer;
  private readonly pool: ConnectionPool;
  private server: FcpServer | null = null;
  private handler: Handle | null = null;
  private infoTimer: NodeJS.Timeout | null = null;
  private readonly boxKeys = new Map<string, Uint8Array>();

  private constructor(
    readonly opts: MeshNodeOptions,
    readonly log: Logger,
    readonly keyring: Keyring,
    readonly client: LocalApiClient,
    readonly zones: ZoneRegistry,
    readonly directory: PeerDirectory,
    readonly store: SymbolStore,
    /** Devices removed from the mesh (grow-only; authorize() denies them, the directory leaves them out). */
    readonly removed: RemovedDevices,
  ) {
    const selfId = () => directory.self.stableId;
    this.sealer = new SymbolSealer(directory.self.stableId);
    this.pool = new ConnectionPool({ localAddress: directory.selfAddress, port: opts.port ?? FCP_PORT, requestTimeoutMs: opts.requestTimeoutMs, onRequest: (type) => this.metrics.requestsSent.inc({ type }) });
    const local = new LocalHolder(directory.self.stableId, directory.self.hostName, store);
    this.eligibility = new Eligibility(zones, directory, this.pool, local);
    this.signers = new SignerKeys({
      path: join(opts.dataDir, SIGNER_KEYS_FILE),
      self: { get stableId() { return selfId(); }, signingPublicKey: keyring.node.signingPublicKey },
      ask: async (id) => {
        const r = await this.askInfo(id);
        return { key: r.signingPublicKey, ...(r.grant ? { grant: r.grant } : {}) };
      },
      log,
    });
    this.records = new NameRecords({
      store,
      eligibility: this.eligibility,
      log,
      signer: { get stableId() { return selfId(); }, signingSecretKey: keyring.node.signingSecretKey },
      keyOf: (id) => this.signers.keyOf(id),
      recheck: (id) => this.signers.recheck(id),
      formerKeysAt: (id, at) => this.signers.formerKeysAt(id, at),
      ...(opts.gcQuarantineMs !== undefined ? { quarantineMs: opts.gcQuarantineMs } : {}),
      ...(opts.gcTombstoneTtlMs !== undefined ? { tombstoneTtlMs: opts.gcTombstoneTtlMs } : {}),
      ...(opts.now ? { now: opts.now } : {}),
      sync: new TombSync(join(opts.dataDir, 'tomb-sync.json'), opts.now ?? Date.now),
      alone: (zone) => !directory.all().some((i) => this.eligibility.couldHold(i, zone)),
    });
    this.writer = new ObjectWriter({ selfId, store, records: this.records, eligibility: this.eligibility, directory, marks: this.marks, sealer: this.sealer, log, metrics: this.metrics, ...(opts.policy ? { policy: opts.policy } : {}) });
    this.reader = new ObjectReader({ store, eligibility: this.eligibility, marks: this.marks, log, metrics: this.metrics, ...(opts.hedgeMs !== undefined ? { hedgeMs: opts.hedgeMs } : {}) });
    this.repair = new RepairLoop(
      {
        dataDir: opts.dataDir,
        store,
        zones,
        zoneKey: (id) => keyring.zoneKey(id),
        eligibility: this.eligibility,
        reader: this.reader,
        directory,
        marks: this.marks,
        summaries: this.summaries,
        records: this.records,
        seal: (zk, h, symbol) => this.sealer.seal(zk, h, symbol),
        log,
      },
      { ...DEFAULT_REPAIR, ...(opts.repair ?? {}) },
    );
    this.resealer = new Resealer({ dataDir: opts.dataDir, store, keyring, seal: (zk, h, symbol) => this.sealer.seal(zk, h, symbol), log }, { ...DEFAULT_RESEAL, ...(opts.reseal ?? {}) });
  }

  static async start(opts: MeshNodeOptions): Promise<MeshNode> {
    const log = opts.logger ?? pino({ level: process.env.FCP_LOG_LEVEL ?? 'info' }, pino.destination(2));
    const keyring = await Keyring.load(opts.dataDir);
    const client = new LocalApiClient(opts.tailscaleSocket ? { socketPath: opts.tailscaleSocket } : {});
    const zones = opts.zones ?? ZoneRegistry.builtin();
    const removed = await RemovedDevices.load(opts.dataDir);
    const directory = new PeerDirectory({ client, zones, log, isRemoved: (id) => removed.has(id) });
    await directory.start();
    const raw = opts.store ?? (await LmdbSymbolStore.open(join(opts.dataDir, 'store'), opts.quotaBytes !== undefined ? { quotaBytes: opts.quotaBytes } : {}));
    let node: MeshNode | null = null;
    const care = new StoreCare(raw, log, () => void node?.repair.pass().catch(() => undefined));
    const store = care.store;
    node = new MeshNode(opts, log, keyring, client, zones, directory, store, removed);
    care.start();
    try {
      // A failure here (a damaged store) leaves old records unsigned: they are then not served.
      await node.records.adoptLegacy().catch((err: Error) => log.warn({ err: err.message }, 'unsigned heads and tombstones not adopted'));
      await node.listen();
      node.repair.start();
      node.resealer.start();
      node.watchPeerInfo();
    } catch (err) {
      directory.stop();
      await store.close();
      throw err;
    }
    return node;
  }

  get self(): SelfInfo {
    const self = this.directory.self;
    return { stableId: self.stableId, hostName: self.hostName, address: this.directory.selfAddress, zones: this.directory.selfZones.map((z) => z.id) };
  }

  get port(): number {
    return this.server?.port ?? this.opts.port ?? FCP_PORT;
  }

  /** Installs the handler of requests from peers (the services layer's FCP front door). */
  serve(handler: Handle): void {
    this.handler = handler;
  }

  /** Creates a one-time code another device presents with `fcp join` (valid `ttlMs`). */
  createInvite(ttlMs = 10 * 60_000): { code: string; expires: number } {
    return this.invites.create(ttlMs);
  }

  /** The zone key of `zone` (typed error if this device has none). */
  zoneKey(zone: string): ZoneKey {
    return this.keyring.requireZoneKey(zone);
  }

  async stop(): Promise<void> {
    if (this.infoTimer) clearInterval(this.infoTimer);
    await this.resealer.stop();
    await this.repair.stop();
    this.directory.stop();
    this.pool.closeAll();
    await this.server?.close();
    await this.store.close();
  }

  private async listen(): Promise<void> {
    const address = this.directory.selfAddress;
    const port = this.opts.port ?? FCP_PORT;
    this.server = new FcpServer({
      host: address,
      port,
      log: this.log,
      authenticate: (ip, p) => this.authenticate(ip, p),
      handle: (ctx, msg) => {
        if (!this.handler) return Promise.reject(new MeshError('MESH_UNAVAILABLE', 'this device is still starting'));
        return this.handler(ctx, msg);
      },
      onRefused: () => this.metrics.refusals.inc({ reason: 'connection' }),
      onBadFrame: () => this.metrics.badFrames.inc(),
    });
    await this.server.listen();
    this.log.info({ address, port, zones: this.self.zones }, 'fcp server listening');
  }

  /** Identity of an inbound connection: whois on its address, tags to zones. Untagged callers are refused. */
  private async authenticate(ip: string, port: number): Promise<Caller> {
    const who = await this.client.whois(`${ip}:${port}`);
    if (!who) {
      this.metrics.refusals.inc({ reason: 'not-in-tailnet' });
      throw new MeshError('MESH_REFUSED', `${ip} is not a node of this tailnet`);
    }
    if (isForeignNode(who.node)) {
      this.metrics.refusals.inc({ reason: 'foreign' });
      throw new MeshError('MESH_REFUSED', `${who.node.hostName} is another user's device shared into this tailnet; it is never a member`);
    }
    const tags = who.node.tags;
    const zoneIds = this.zones.zonesForTags(tags).map((z) => z.id);
    if (zoneIds.length === 0) {
      this.metrics.refusals.inc({ reason: 'no-zone' });
      throw new MeshError('MESH_REFUSED', `${who.node.hostName} has no fcp zone tag (tags: ${tags.join(', ') || 'none'})`);
    }
    return { stableId: who.node.stableId, hostName: who.node.hostName, address: ip, tags, zoneIds };
  }

  /** One request to a peer by stable id, over the pooled connection. */
  async call(stableId: string, msg: Outgoing, timeoutMs?: number): Promise<Message> {
    const info = this.directory.byStableId(stableId);
    const address = info?.peer.tailscaleIps[0];
    if (!info || !info.peer.online || !address) throw new MeshError('MESH_UNAVAILABLE', `peer ${stableId} is not online`);
    const conn = await this.pool.get(address);
    const started = performance.now();
    const reply = await conn.request(msg, timeoutMs);
    // FCP round trips stand in for pings (which would keep the peer's radio awake).
    this.directory.noteRoundTrip(stableId, performance.now() - started);
    return reply;
  }

  /**
   * Asks a peer for its `info`, over its tailnet address (the connection tailscale authenticates
   * as that device): its free storage and keys are kept, its node signing key pinned on first use.
   */
  private async askInfo(stableId: string): Promise<{ boxPublicKey: Uint8Array; signingPublicKey: Uint8Array; grant?: Uint8Array }> {
    const info = this.directory.byStableId(stableId);
    const address = info?.peer.tailscaleIps[0];
    if (!info || !info.peer.online || !address) throw new MeshError('MESH_UNAVAILABLE', `peer ${stableId} is not online`);
    const reply = await call(await this.pool.get(address), { t: 'info' }, 'info_result', 5_000);
    this.boxKeys.set(stableId, reply.boxPublicKey);
    this.directory.setFreeBytes(stableId, reply.freeBytes);
    this.signers.offer(stableId, reply.signingPublicKey, reply.grant);
    return reply;
  }

  /** A peer's X25519 public key (asked once with `info`, then cached). */
  async boxKeyOf(stableId: string): Promise<Uint8Array> {
    return this.boxKeys.get(stableId) ?? (await this.askInfo(stableId)).boxPublicKey;
  }

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

  /**
   * Stops trusting devices (entries new here are persisted first): their X25519 keys leave the
   * cache, and the directory drops them, which tells repair, placement and the hub at once.
   */
  async removeDevices(entries: Removal[]): Promise<Removal[]> {
    const added = await this.removed.add(entries.filter((e) => e.stableId !== this.self.stableId));
    if (added.length === 0) return added;
    for (const e of added) this.boxKeys.delete(e.stableId);
    this.log.warn({ removed: added.map((e) => e.hostName) }, 'devices removed from the mesh; their requests are refused from now on');
    await this.directory.refresh().catch(() => undefined);
    return added;
  }

  /** Re-reads zone keys from disk (after `fcp join` added some while the daemon ran). */
  async reloadKeys(): Promise<void> {
    const fresh = await Keyring.load(this.opts.dataDir);
    for (const id of fresh.zoneIds()) this.keyring.adopt(fresh.requireZoneKey(id));
  }

  /** What `fcp status` shows: this device, its peers with path/latency/zones, its storage. */
  async status(): Promise<Record<string, unknown>> {
    const u = this.store.usage();
    // Which peers run fcpd now: each online fcp device is asked `info` (a second at most).
    const members = new Set<string>();
    await Promise.all(
      this.eligibility.members().map(async (i) => {
        this.boxKeys.delete(i.peer.stableId);
        const answered = await Promise.race([this.boxKeyOf(i.peer.stableId).then(() => true, () => false), new Promise<boolean>((r) => setTimeout(() => r(false), 1_000).unref())]);
        if (answered) members.add(i.peer.stableId);
      }),
    );
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
      /** Requests made of peers since start, by message type (round trips). */
      requestsSent: Object.fromEntries((await this.metrics.requestsSent.get()).values.map((v) => [String(v.labels.type), v.value])),
      self: this.self,
      /** Fingerprint of this device's node signing key (what `fcp device trust` on another device shows). */
      nodeKey: keyFingerprint(this.keyring.node.signingPublicKey),
      tailscaled: this.directory.tailscaled(),
      port: this.port,
      storage: u,
      store: this.store.health(),
      objects: this.store.manifestCount(),
      zoneKeys: this.keyring.zoneIds(),
      /** Current epoch of each zone key, and older epochs still kept while re-sealing runs. */
      zoneEpochs: Object.fromEntries(this.keyring.zoneIds().map((id) => [id, { epoch: this.keyring.zoneKey(id)!.epoch, older: this.keyring.olderKeys(id).map((k) => k.epoch) }])),
      reseal: this.resealer.progress(),
      /** Zones not reconciled since an absence longer than the tombstone TTL, and objects held back (docs/files.md). */
      tombstones: { ttlMs: this.records.tombstoneTtlMs, unreconciled: this.records.sync.unreconciledZones(), heldBack: this.records.sync.allHeld().length },
      removed: this.removed.list(),
      repair: this.repair.stats,
      peers: this.directory.all().map((i) => ({
        hostName: i.peer.hostName,
        address: i.peer.tailscaleIps[0],
        online: i.peer.online,
        path: i.peer.path,
        latencyMs: i.latencyMs,
        zones: i.zones.map((z) => z.id),
        /** Runs fcpd and answered this device just now. */
        member: members.has(i.peer.stableId),
        slow: this.marks.isSlow(i.peer.stableId),
        distrusted: this.marks.isDistrusted(i.peer.stableId),
      })),
    };
  }
}
