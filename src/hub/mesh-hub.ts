// The hub across devices, on one device: it advertises this device's profile and learns its
// peers', reads the registry of installed connectors, and for each connector takes part in the
// lease (granting, claiming, renewing) so the connector runs on exactly one device, the best by
// placement when it starts; it starts and stops the local host's connectors as leases come and
// go, keeps their state in the mesh (fenced by the lease), and routes invokes to the holder.
import type { Logger } from 'pino';
import { describePrincipal, inZone, LOCAL_LIBRARY, NODE, type Authorizer, type DevicePrincipal, type Principal } from '../authz/index.js';
import type { MeshNode, Outgoing } from '../mesh/index.js';
import type { HubRoute, ObjectService } from '../services/index.js';
import type { LeaseMessage, Message } from '../wire/index.js';
import { mayHold, type Zone } from '../zones/index.js';
import type { ConnectorHost, InvokeContext } from './host.js';
import { LeaseClaim, LeaseTable, majorityOf, type LeaseRequest } from './lease.js';
import { ZoneQuorum } from './quorum.js';
import type { ConnectorManifest } from './manifest.js';
import { HubMeshError } from './mesh-errors.js';
import { ineligibility, rank, type Candidate } from './placement.js';
import { PeerProfiles } from './peer-profiles.js';
import type { DeclaredProfile, DeviceProfile } from './profile.js';
import { needsOf, registryFromJson, withConnector, withExactly, withoutConnector, type RegistryBody } from './registry.js';
import { InvokeRouter, type Route } from './router.js';
import { decodeRecord, encodeRecord, HeadTable, RECORD_SCHEMA, registryKey, stateKey, type Head } from './state.js';

export interface MeshHubOptions {
  /** Lease duration = the failover grace period (ms). Default 15 s. */
  leaseMs?: number;
  /** How often leases are renewed, profiles polled and the registry re-read (ms). Default leaseMs / 5. */
  pollMs?: number;
}

export interface MeshHubDeps {
  node: MeshNode;
  authz: Authorizer;
  objects: ObjectService;
  /** This device's connector host; null when it runs no connectors (it still grants and routes). */
  host: ConnectorHost | null;
  log: Logger;
}

/** One connector this device takes part in. */
interface Slot {
  manifest: ConnectorManifest;
  zone: Zone;
  claim: LeaseClaim;
  /** Running here under the held lease. */
  running: boolean;
  starting: boolean;
  /** The state head and value as last loaded or written here. */
  head?: Head;
  value: unknown;
  saving: Promise<unknown>;
  lossTimer?: NodeJS.Timeout;
  /** Holder another device reported, and when (monotonic). */
  holder?: { stableId: string; at: number };
  /** Monotonic ms since the lease was seen free (nobody holds it), for the fallback claim. */
  freeSince?: number;
  /** No local start attempt before this (monotonic), after a failed start. */
  backoffUntil: number;
  /** The start under way, if any (awaited when the daemon stops). */
  startTask?: Promise<void>;
}

/** A device as `fcp device ls` shows it. */
export interface DeviceListing {
  stableId: string;
  hostName: string;
  self: boolean;
  /** Its fcpd answered within the last polls. */
  alive: boolean;
  zones: string[];
  profile?: DeviceProfile;
  /** Connectors running there, as this device knows. */
  runs: string[];
}

/** A connector as the hub sees it across devices. */
export interface Placement {
  id: string;
  zone: string;
  /** The device placement prefers now (host name), if any is eligible. */
  preferred?: string;
  /** The device holding its lease (host name), if known. */
  runningOn?: string;
  leaseSeq: number;
  stateSeq: number;
}

const now = () => performance.now();

export class MeshHub {
  readonly leaseMs: number;
  readonly pollMs: number;
  private readonly marginMs: number;
  private readonly leases: LeaseTable;
  private readonly heads: HeadTable;
  private readonly profiles: PeerProfiles;
  private readonly registries = new Map<string, { head?: Head; body: RegistryBody }>();
  private readonly slots = new Map<string, Slot>();
  private readonly installedListeners: Array<(all: ConnectorManifest[]) => void> = [];
  private saving: Promise<unknown> = Promise.resolve();
  /** When a zone's registry was last re-read for a request naming an unknown connector (per id). */
  private readonly registryRefreshAt = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private closed = false;
  readonly router: InvokeRouter;
  private readonly quorum: ZoneQuorum;

  constructor(private readonly deps: MeshHubDeps, opts: MeshHubOptions = {}) {
    this.leaseMs = opts.leaseMs ?? 15_000;
    this.pollMs = opts.pollMs ?? Math.max(50, Math.floor(this.leaseMs / 5));
    if (this.pollMs * 2 >= this.leaseMs) throw new RangeError(`hub poll interval (${this.pollMs} ms) must be under half the lease (${this.leaseMs} ms)`);
    // Kept back from the claimant's view of its lease: clock-rate drift and the time to stop.
    this.marginMs = Math.floor(this.leaseMs * 0.3);
    this.heads = HeadTable.inDataDir(deps.node.opts.dataDir);
    // A grantor that (re)starts has forgotten live leases: it grants none for one lease duration.
    this.leases = new LeaseTable({ now, seqs: this.heads, quietUntil: now() + this.leaseMs });
    this.heads.setFencing((s) => this.leases.highestSeq(s));
    this.profiles = new PeerProfiles({ node: deps.node, aliveForMs: this.pollMs * 2.5 + this.roundTimeoutMs, timeoutMs: this.roundTimeoutMs, now });
    this.quorum = new ZoneQuorum({ node: deps.node, serveSelf: (p, msg) => this.serve(p, msg), timeoutMs: this.roundTimeoutMs, now });
    this.router = new InvokeRouter({
      route: (id, refresh) => this.route(id, refresh),
      local: (id, op, input, ctx) => this.runLocal(id, op, input, ctx),
      call: (id, msg, ms) => deps.node.call(id, msg, ms),
      retryMs: this.pollMs,
      log: deps.log,
    });
  }

  private get selfId(): string {
    return this.deps.node.self.stableId;
  }

  private get roundTimeoutMs(): number {
    return Math.max(200, Math.min(2_000, this.pollMs));
  }

  start(): void {
    const loop = () => {
      if (this.closed) return;
      this.ticking ??= this.tick()
        .catch((err: unknown) => this.deps.log.warn({ err: (err as Error).message }, 'hub tick failed'))
        .finally(() => (this.ticking = null));
      this.timer = setTimeout(loop, this.pollMs);
      this.timer.unref();
    };
    loop();
  }

  /** Stops local connectors and gives their leases back, so another device takes over at once. */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking?.catch(() => undefined);
    await Promise.all([...this.slots.values()].map((s) => s.startTask?.catch(() => undefined)));
    await Promise.all(
      [...this.slots.values()].map(async (s) => {
        if (s.running) await this.stopLocal(s, 'daemon stopping');
        await s.claim.release().catch(() => undefined);
      }),
    );
  }

  // ---- profiles ------------------------------------------------------------------------------

  profile(): DeviceProfile {
    return this.profiles.self;
  }

  async setProfile(p: Principal, settings: DeclaredProfile): Promise<DeviceProfile> {
    this.deps.authz.authorize(p, 'device.set', NODE);
    const profile = await this.profiles.declare(settings);
    this.deps.log.info({ profile }, 'device profile set');
    return profile;
  }

  private alive(stableId: string): boolean {
    return this.profiles.alive(stableId);
  }

  private candidates(): Candidate[] {
    return this.profiles.candidates();
  }

  private hostNameOf(stableId: string): string {
    return stableId === this.selfId ? this.deps.node.self.hostName : this.deps.node.directory.byStableId(stableId)?.peer.hostName ?? stableId;
  }

  devices(p: Principal): DeviceListing[] {
    this.deps.authz.authorize(p, 'device.list', NODE);
    return this.deviceListing();
  }

  /** The devices and what runs where, for a caller that has already authorized its principal. */
  deviceListing(): DeviceListing[] {
    const runs = new Map<string, string[]>();
    for (const s of this.slots.values()) {
      const where = s.running ? this.selfId : s.holder?.stableId;
      if (where) runs.set(where, [...(runs.get(where) ?? []), s.manifest.id]);
    }
    const self: DeviceListing = { stableId: this.selfId, hostName: this.deps.node.self.hostName, self: true, alive: true, zones: this.deps.node.self.zones, profile: this.profiles.self, runs: runs.get(this.selfId) ?? [] };
    const others = this.deps.node.directory
      .all()
      .filter((i) => i.zones.length > 0)
      .map((i): DeviceListing => {
        const known = this.profiles.of(i.peer.stableId);
        return {
          stableId: i.peer.stableId,
          hostName: i.peer.hostName,
          self: false,
          alive: this.alive(i.peer.stableId),
          zones: i.zones.map((z) => z.id),
          ...(known ? { profile: known.profile } : {}),
          runs: runs.get(i.peer.stableId) ?? [],
        };
      });
    return [self, ...others.sort((a, b) => (a.hostName < b.hostName ? -1 : 1))];
  }

  // ---- registry --------------------------------------------------------------------------------

  private zone(id: string): Zone {
    const zones = this.deps.node.zones;
    if (!zones.has(id)) throw new HubMeshError('HUB_BAD_INVOKE', `unknown zone ${id}`);
    return zones.get(id);
  }

  /** Zones this device takes part in: those it may hold. */
  private heldZones(): Zone[] {
    return this.deps.node.zones.all().filter((z) => mayHold(this.deps.node.directory.selfZones, z));
  }

  private async readRegistry(zone: Zone): Promise<RegistryBody> {
    const head = await this.quorum.readHead(zone, registryKey(zone.id));
    if (head === null) {
      const cached = this.registries.get(zone.id);
      if (cached) return cached.body;
      throw new HubMeshError('HUB_TOO_FEW_DEVICES', `too few devices of ${zone.id} answered to read its registry`);
    }
    const cached = this.registries.get(zone.id);
    if (!head) {
      this.registries.set(zone.id, { body: { connectors: [] } });
      return { connectors: [] };
    }
    if (cached?.head && cached.head.seq === head.seq && cached.head.objectId === head.objectId) return cached.body;
    const rec = decodeRecord(await this.deps.objects.get(LOCAL_LIBRARY, head.objectId), (w, at) => this.signingKeysOf(w, at));
    if (rec.kind !== 'registry' || rec.key !== registryKey(zone.id)) throw new HubMeshError('HUB_STATE_DAMAGED', `registry head of ${zone.id} names a ${rec.kind} record of ${rec.key}`);
    const body = registryFromJson(rec.body);
    this.registries.set(zone.id, { head, body });
    this.notifyInstalled();
    return body;
  }

  private async writeRegistry(zone: Zone, change: (r: RegistryBody) => RegistryBody): Promise<void> {
    const current = await this.readRegistry(zone);
    const prev = this.registries.get(zone.id)?.head;
    const body = change(current);
    const seq = (prev?.seq ?? 0) + 1;
    const objectId = await this.putRecord(zone, { kind: 'registry', key: registryKey(zone.id), seq, ...(prev ? { prev: prev.objectId } : {}), body });
    const head: Head = { seq, objectId };
    await this.quorum.commitHead(zone, registryKey(zone.id), head);
    this.registries.set(zone.id, { head, body });
    this.notifyInstalled();
  }

  private notifyInstalled(): void {
    const all = this.installed();
    for (const fn of this.installedListeners) fn(all);
  }

  placementsFor(p: Principal): Placement[] {
    this.deps.authz.authorize(p, 'hub.placements', NODE);
    return this.placements();
  }

  /** The installed connectors of this device's zones, read from the mesh now (best effort). */
  async loadInstalled(): Promise<ConnectorManifest[]> {
    await Promise.all(this.heldZones().map((z) => this.readRegistry(z).catch(() => undefined)));
    return this.installed();
  }

  /** HubService's whole list, written as the registries of the zones whose list changed. */
  saveInstalled(all: ConnectorManifest[]): Promise<void> {
    // One registry write at a time from this device: two installs at once would race for a head.
    const next = this.saving.then(() => this.saveInstalledNow(all));
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async saveInstalledNow(all: ConnectorManifest[]): Promise<void> {
    const zones = new Set([...all.map((m) => m.zone), ...this.installed().map((m) => m.zone)]);
    for (const zoneId of zones) {
      const want = all.filter((m) => m.zone === zoneId).sort((a, b) => (a.id < b.id ? -1 : 1));
      const have = this.registries.get(zoneId)?.body.connectors ?? [];
      if (JSON.stringify(want) === JSON.stringify(have)) continue;
      await this.writeRegistry(this.zone(zoneId), (r) => withExactly(r, want, this.selfId));
    }
    // A pass now: a connector placed here starts before the install returns.
    await this.kick();
    await Promise.all([...this.slots.values()].map((s) => s.startTask?.catch(() => undefined)));
  }

  /** The device a connector was installed from (placement's tiebreak among equally fit ones). */
  private homeOf(m: ConnectorManifest): string | undefined {
    return this.registries.get(m.zone)?.body.homes?.[m.id];
  }

  onInstalledChange(fn: (all: ConnectorManifest[]) => void): void {
    this.installedListeners.push(fn);
  }

  /** Where HubService sends an invoke: here when the lease is held here, else through the router. */
  routeFor(connectorId: string): HubRoute {
    const s = this.slots.get(connectorId);
    if (s?.running && s.claim.isValid()) return { kind: 'local' };
    const device = s?.holder ? this.hostNameOf(s.holder.stableId) : 'nowhere yet';
    return { kind: 'remote', device, invoke: (_p, connector, op, input, ctx) => this.invoke(connector, op, input, ctx) };
  }

  /** Installs (or updates) a connector for every device of its zone. The caller authorizes. */
  async install(manifest: ConnectorManifest): Promise<void> {
    const zone = this.zone(manifest.zone);
    await this.writeRegistry(zone, (r) => withConnector(r, manifest, this.selfId));
    this.deps.log.info({ connector: manifest.id, zone: zone.id }, 'connector installed');
    void this.kick();
  }

  async uninstall(id: string): Promise<void> {
    const m = this.manifestOf(id);
    await this.writeRegistry(this.zone(m.zone), (r) => withoutConnector(r, id));
    void this.kick();
  }

  /** Installed connectors of the zones this device takes part in. */
  installed(): ConnectorManifest[] {
    return [...this.registries.values()].flatMap((r) => r.body.connectors);
  }

  manifestOf(id: string): ConnectorManifest {
    const m = this.installed().find((c) => c.id === id);
    if (!m) throw new HubMeshError('HUB_UNKNOWN_CONNECTOR', `no connector ${id} is installed in the zones of this device`);
    return m;
  }

  private signingKeyOf(stableId: string): Uint8Array | undefined {
    return this.profiles.signingKeyOf(stableId);
  }

  /** The keys that verify a hub record of `stableId` made at `at`: its pin, and former keys still its own then. */
  private signingKeysOf(stableId: string, at: number): Uint8Array[] {
    return this.profiles.signingKeysOf(stableId, at);
  }


  private putRecord(zone: Zone, r: { kind: 'state' | 'registry'; key: string; seq: number; leaseSeq?: number; prev?: string; body: unknown }): Promise<string> {
    const keys = this.deps.node.keyring.node;
    const bytes = encodeRecord({ ...r, writer: this.selfId, writerKey: keys.signingPublicKey, at: Date.now() }, keys.signingSecretKey);
    // The daemon writes its own hub records: the local library principal, in the record's zone.
    return this.deps.objects.put(LOCAL_LIBRARY, bytes, zone.id, { schema: RECORD_SCHEMA[r.kind] });
  }

  // ---- the loop ------------------------------------------------------------------------------

  /** Runs a pass now (after an install or a profile change) instead of at the next poll. */
  async kick(): Promise<void> {
    if (this.closed) return;
    await this.ticking?.catch(() => undefined);
    this.ticking ??= this.tick().catch(() => undefined).finally(() => (this.ticking = null));
    await this.ticking;
  }

  async tick(): Promise<void> {
    // Renewals first, before anything that could be slow (profiles, registries, starts).
    await Promise.all([...this.slots.values()].filter((s) => s.claim.held).map((s) => this.renewHeld(s)));
    await this.profiles.poll();
    const seen = new Set<string>();
    await Promise.all(
      this.heldZones().map(async (zone) => {
        let body: RegistryBody;
        try {
          body = await this.readRegistry(zone);
        } catch (err) {
          this.deps.log.debug({ zone: zone.id, err: (err as Error).message }, 'registry not read');
          return;
        }
        for (const m of body.connectors) seen.add(m.id);
        await Promise.all(body.connectors.map((m) => this.superviseOne(m, zone)));
      }),
    );
    for (const [id, s] of this.slots) {
      if (seen.has(id) || !this.registries.has(s.zone.id)) continue;
      // uninstalled: stop it and give the lease back
      if (s.running) await this.stopLocal(s, 'uninstalled');
      await s.claim.release().catch(() => undefined);
      this.slots.delete(id);
    }
  }

  private slot(m: ConnectorManifest, zone: Zone): Slot {
    let s = this.slots.get(m.id);
    if (!s) {
      s = { manifest: m, zone, claim: new LeaseClaim(m.id, this.quorum.claimTransport(zone), this.leaseMs, this.marginMs), running: false, starting: false, value: null, saving: Promise.resolve(), backoffUntil: 0 };
      this.slots.set(m.id, s);
    }
    s.manifest = m;
    return s;
  }

  private async renewHeld(s: Slot): Promise<void> {
    await s.claim.renew();
    if (!s.claim.isValid()) {
      s.claim.held = null;
      if (s.running) await this.stopLocal(s, 'lease lost');
      return;
    }
    this.armLossTimer(s);
  }

  private async superviseOne(m: ConnectorManifest, zone: Zone): Promise<void> {
    const s = this.slot(m, zone);
    if (s.claim.held && ineligibility(this.candidates()[0]!, zone, needsOf(m)) !== null && rank(m.id, this.candidates(), zone, needsOf(m), this.homeOf(m)).length > 0) {
      // Moved (its manifest names another device now) or this device no longer fits it, and a
      // device that fits is there: hand it over. The lease given back, the best one claims it.
      this.deps.log.info({ connector: m.id }, 'connector handed over: this device no longer fits it');
      if (s.running) await this.stopLocal(s, 'moved');
      await s.claim.release().catch(() => undefined);
      s.backoffUntil = now() + this.leaseMs;
      return;
    }
    if (s.claim.held) {
      // Renewed at the start of the tick; a start runs beside the renewals, never blocking them.
      if (s.claim.isValid() && !s.running && !s.starting && this.deps.host && now() >= s.backoffUntil) void this.startLocal(s);
      return;
    }
    if (s.starting) return;
    const mayRun = this.deps.host !== null && ineligibility(this.candidates()[0]!, zone, needsOf(m)) === null && now() >= s.backoffUntil;
    const order = rank(m.id, this.candidates(), zone, needsOf(m), this.homeOf(m));
    const myRank = order.findIndex((c) => c.stableId === this.selfId);
    // The best live device claims; others claim only after the lease stayed free a while (the
    // best one may have no host, or fail to start it).
    const free = s.freeSince !== undefined ? now() - s.freeSince : 0;
    const shouldClaim = mayRun && myRank >= 0 && (myRank === 0 || free > myRank * this.leaseMs);
    const r = shouldClaim ? await s.claim.acquire() : await s.claim.query();
    if (r.holder !== undefined) {
      s.holder = { stableId: r.holder, at: now() };
      s.freeSince = undefined;
    } else {
      if (!s.claim.held) s.holder = undefined;
      if (r.answered.length >= majorityOf(this.quorum.devices(zone).length)) s.freeSince ??= now();
    }
    if (s.claim.isValid()) {
      s.holder = undefined;
      s.freeSince = undefined;
      this.armLossTimer(s);
      void this.startLocal(s);
    }
  }

  /** Stops the connector when the lease runs out on this device's clock, renewed or not. */
  private armLossTimer(s: Slot): void {
    if (s.lossTimer) clearTimeout(s.lossTimer);
    const held = s.claim.held;
    if (!held) return;
    s.lossTimer = setTimeout(() => {
      if (s.claim.isValid()) return this.armLossTimer(s);
      s.claim.held = null;
      if (s.running) void this.stopLocal(s, 'lease ran out');
    }, Math.max(0, held.validUntil - now()));
    s.lossTimer.unref();
  }

  private startLocal(s: Slot): Promise<void> {
    if (!this.deps.host || s.running || s.starting || this.closed) return s.startTask ?? Promise.resolve();
    s.starting = true;
    s.startTask = this.startNow(s, this.deps.host);
    return s.startTask;
  }

  private async startNow(s: Slot, host: ConnectorHost): Promise<void> {
    try {
      const head = await this.quorum.readHead(s.zone, stateKey(s.manifest.id));
      if (head === null) throw new HubMeshError('HUB_TOO_FEW_DEVICES', `too few devices of ${s.zone.id} answered to read the state of ${s.manifest.id}`);
      s.head = head;
      s.value = null;
      if (head) {
        const rec = decodeRecord(await this.deps.objects.get(LOCAL_LIBRARY, head.objectId), (w, at) => this.signingKeysOf(w, at));
        if (rec.kind !== 'state' || rec.key !== stateKey(s.manifest.id)) throw new HubMeshError('HUB_STATE_DAMAGED', `state head of ${s.manifest.id} names a ${rec.kind} record of ${rec.key}`);
        s.value = rec.body;
      }
      if (!s.claim.isValid()) return;
      await host.start(s.manifest);
      if (!s.claim.isValid()) {
        await host.stop(s.manifest.id).catch(() => undefined);
        return;
      }
      s.running = true;
      this.deps.log.info({ connector: s.manifest.id, leaseSeq: s.claim.held?.seq, stateSeq: s.head?.seq ?? 0 }, 'connector started here under its lease');
    } catch (err) {
      s.backoffUntil = now() + this.leaseMs;
      this.deps.log.warn({ connector: s.manifest.id, err: (err as Error).message }, 'connector did not start; lease given back');
      await s.claim.release().catch(() => undefined);
    } finally {
      s.starting = false;
    }
  }

  private async stopLocal(s: Slot, why: string): Promise<void> {
    s.running = false;
    if (s.lossTimer) clearTimeout(s.lossTimer);
    this.deps.log.info({ connector: s.manifest.id, why }, 'connector stopped here');
    await this.deps.host?.stop(s.manifest.id).catch(() => undefined);
  }

  // ---- state (host methods of a running connector) -----------------------------------------

  /** Answers a connector's host/state.* requests; other host methods are not the hub's. */
  async hostState(connectorId: string, method: 'host/state.get' | 'host/state.put', params: unknown): Promise<unknown> {
    const s = this.slots.get(connectorId);
    if (!s || !s.running) throw new HubMeshError('HUB_NOT_HOLDER', `${connectorId} does not run here`);
    if (method === 'host/state.get') return { value: s.value ?? null, seq: s.head?.seq ?? 0 };
    const value = (params as { value?: unknown } | null)?.value ?? null;
    const next = s.saving.then(() => this.saveState(s, value));
    s.saving = next.catch(() => undefined);
    return { seq: await next };
  }

  private async saveState(s: Slot, value: unknown): Promise<number> {
    const leaseSeq = s.claim.requireSeq();
    const seq = (s.head?.seq ?? 0) + 1;
    const key = stateKey(s.manifest.id);
    const objectId = await this.putRecord(s.zone, { kind: 'state', key, seq, leaseSeq, ...(s.head ? { prev: s.head.objectId } : {}), body: value });
    const head: Head = { seq, objectId, leaseSeq };
    try {
      await this.quorum.commitHead(s.zone, key, head);
    } catch (err) {
      if ((err as { code?: string }).code === 'HUB_LEASE_STALE') {
        // Another device holds a newer lease: this copy must stop now.
        s.claim.held = null;
        void this.stopLocal(s, 'state write fenced off');
      }
      throw err;
    }
    s.head = head;
    s.value = value;
    return seq;
  }

  // ---- routing -------------------------------------------------------------------------------

  /** Where a connector runs, as the router needs it. */
  async route(connectorId: string, refresh = false): Promise<Route> {
    const m = this.manifestOf(connectorId);
    const zone = this.zone(m.zone);
    const s = this.slot(m, zone);
    if (s.running && s.claim.isValid()) return { kind: 'local' };
    const fresh = s.holder && now() - s.holder.at < this.pollMs * 2 && this.alive(s.holder.stableId);
    if (!fresh || refresh) {
      const r = await s.claim.query();
      s.holder = r.holder !== undefined ? { stableId: r.holder, at: now() } : undefined;
    }
    if (s.holder && s.holder.stableId !== this.selfId) return { kind: 'remote', stableId: s.holder.stableId, hostName: this.hostNameOf(s.holder.stableId) };
    const anyEligible = rank(m.id, this.candidates(), zone, needsOf(m), this.homeOf(m)).length > 0;
    return { kind: 'none', reason: anyEligible ? 'not-running' : 'no-eligible-device' };
  }

  /** An invoke accepted here (the front door's service has authorized it). */
  invoke(connectorId: string, op: string, input: unknown, ctx: InvokeContext): Promise<unknown> {
    return this.router.invoke(connectorId, op, input, ctx);
  }

  /** Whether this device runs the connector now, under a valid lease. */
  private holds(connectorId: string): boolean {
    const s = this.slots.get(connectorId);
    return !!s && s.running && s.claim.isValid() && !!this.deps.host;
  }

  private async runLocal(connectorId: string, op: string, input: unknown, ctx: InvokeContext): Promise<unknown> {
    if (!this.holds(connectorId)) throw new HubMeshError('HUB_NOT_HOLDER', `${connectorId} does not run on ${this.deps.node.self.hostName}`);
    const left = ctx.deadline - Date.now();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new HubMeshError('HUB_DEADLINE_TIMEOUT', `${connectorId}.${op} did not finish within its deadline`)), Math.max(0, left));
    });
    try {
      return await Promise.race([this.deps.host!.invoke(connectorId, op, input, ctx), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  placements(): Placement[] {
    return [...this.slots.values()].map((s) => {
      const preferred = rank(s.manifest.id, this.candidates(), s.zone, needsOf(s.manifest), this.homeOf(s.manifest))[0];
      const on = s.running ? this.selfId : s.holder?.stableId;
      return {
        id: s.manifest.id,
        zone: s.zone.id,
        ...(preferred ? { preferred: preferred.hostName } : {}),
        ...(on ? { runningOn: this.hostNameOf(on) } : {}),
        leaseSeq: s.claim.highestSeq,
        stateSeq: s.head?.seq ?? 0,
      };
    });
  }

  // ---- the peer door -------------------------------------------------------------------------

  /**
   * Checks that `id` is a connector of `zone` (already authorized for the caller). One this device
   * does not know yet (installed elsewhere a moment ago) makes it re-read that zone's registry,
   * at most once per poll interval for each connector id.
   */
  private async requireConnectorIn(id: string, zone: Zone): Promise<void> {
    let m = this.installed().find((c) => c.id === id);
    const key = `${zone.id}\u0000${id}`;
    const last = this.registryRefreshAt.get(key) ?? -Infinity;
    if (!m && mayHold(this.deps.node.directory.selfZones, zone) && now() - last >= this.pollMs) {
      if (this.registryRefreshAt.size > 1024) this.registryRefreshAt.clear();
      this.registryRefreshAt.set(key, now());
      await this.readRegistry(zone).catch(() => undefined);
      m = this.installed().find((c) => c.id === id);
    }
    if (!m) throw new HubMeshError('HUB_UNKNOWN_CONNECTOR', `no connector ${id} is installed in the zones of ${this.deps.node.self.hostName}`);
    if (m.zone !== zone.id) throw new HubMeshError('HUB_BAD_INVOKE', `${id} lives in ${m.zone}, not ${zone.id}`);
  }

  /** The zone of a head key's request, the connector of a state key checked in it. */
  private async keyZone(key: string, zoneId: string, check: (zone: Zone) => void): Promise<void> {
    const zone = this.zone(zoneId);
    check(zone); // authorize first: only allowed callers make this device look further
    if (key.startsWith('registry/')) {
      if (key !== registryKey(zoneId)) throw new HubMeshError('HUB_BAD_INVOKE', `${key} is not the registry of ${zoneId}`);
      return;
    }
    if (key.startsWith('state/')) return this.requireConnectorIn(key.slice('state/'.length), zone);
    throw new HubMeshError('HUB_BAD_INVOKE', `unknown hub key ${key}`);
  }

  /** Hub requests from peers (and from this device to itself); null for other message types. */
  async serve(p: DevicePrincipal, msg: Message): Promise<Outgoing | null> {
    const authz = this.deps.authz;
    switch (msg.t) {
      case 'profile':
        authz.authorize(p, 'hub.profile', NODE);
        return { t: 'profile_result', profile: this.profiles.self, signingPublicKey: this.deps.node.keyring.node.signingPublicKey };
      case 'lease': {
        const zone = this.zone(msg.zone);
        authz.authorize(p, 'hub.lease', inZone(zone));
        await this.requireConnectorIn(msg.subject, zone);
        const r = this.leases.handle(p.stableId, leaseRequestOf(msg));
        return { t: 'lease_result', granted: r.granted, ...(r.holder !== undefined ? { holder: r.holder } : {}), seq: r.seq, remainingMs: Math.min(3_600_000, r.remainingMs) };
      }
      case 'head_get': {
        await this.keyZone(msg.key, msg.zone, (z) => authz.authorize(p, 'hub.state-read', inZone(z)));
        const head = this.heads.get(msg.key);
        return { t: 'head_result', ...(head ? { head } : {}) };
      }
      case 'head_commit': {
        await this.keyZone(msg.key, msg.zone, (z) => authz.authorize(p, 'hub.state-commit', inZone(z)));
        this.heads.commit(msg.key, msg.head);
        return { t: 'ok' };
      }
      case 'invoke': {
        const m = this.manifestOf(msg.connector);
        // Not the holder (any more): said before the capability is checked, so the caller's retry
        // elsewhere, or here once this device holds it, is not refused as a replay of this proof.
        if (!this.holds(msg.connector)) throw new HubMeshError('HUB_NOT_HOLDER', `${msg.connector} does not run on ${this.deps.node.self.hostName}`);
        const op = m.operations.find((o) => o.name === msg.op);
        // The capability the caller brought (its agent's token, or its own device grant), proved for this trace id.
        const withCredential = msg.token && msg.proofSig && msg.proofTime !== undefined ? { ...p, credential: { token: msg.token, proof: { requestId: msg.traceId, time: msg.proofTime, signature: msg.proofSig } } } : p;
        // Relayed from the sender's public gateway: the public caller's rules are checked here too.
        const relayedFor = msg.publicZone !== undefined ? { zone: this.zone(msg.publicZone), via: msg.publicVia ?? 'funnel' } : undefined;
        const caller = relayedFor ? { ...withCredential, relayedFor } : withCredential;
        authz.authorize(caller, 'hub.invoke', inZone(this.zone(m.zone)), `${msg.connector}.${msg.op}`, op ? { connector: msg.connector, operation: msg.op, risk: op.risk, requestId: msg.traceId, ...(op.exposure ? { exposure: op.exposure } : {}) } : undefined);
        let input: unknown;
        try {
          input = JSON.parse(msg.input);
        } catch {
          throw new HubMeshError('HUB_BAD_INVOKE', 'invoke input is not JSON');
        }
        const ctx: InvokeContext = { traceId: msg.traceId, deadline: Date.now() + msg.deadlineMs, caller: describePrincipal(p), ...(msg.idempotencyKey !== undefined ? { idempotencyKey: msg.idempotencyKey } : {}), ...(relayedFor ? { relayedFor } : {}) };
        this.deps.log.info({ traceId: msg.traceId, connector: msg.connector, op: msg.op, from: p.hostName }, 'invoke from peer');
        const output = await this.runLocal(msg.connector, msg.op, input, ctx);
        return { t: 'invoke_result', output: JSON.stringify(output ?? null) };
      }
      default:
        return null;
    }
  }
}

function leaseRequestOf(msg: LeaseMessage): LeaseRequest {
  return { subject: msg.subject, op: msg.op, seq: msg.seq, durationMs: msg.durationMs };
}
