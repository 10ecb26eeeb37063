// The library API: one device's mesh in this process.
//   const mesh = await SovereignMesh.init({ dataDir });
//   const id = await mesh.store(bytes, 'z:private');
//   const back = await mesh.retrieve(id);
// Every call goes through the services as the local library user; peers reach this device
// through the FCP front door, which the services layer installs on the node.
import { LOCAL_LIBRARY, TokenGate, proveHolder, verifyToken, type Credential, type DevicePrincipal, type OwnerAuthority, type Principal } from './authz/index.js';
import { MeshError, MeshNode, type MeshNodeOptions, type ObjectHealth, type StoreOptions } from './mesh/index.js';
import { ShareHolder, Secrets, type PutOptions, type RestoreOutcome, type SecretListing } from './secrets/index.js';
import { MeshSecretsTransport } from './secrets/mesh-transport.js';
import { AdminService, AuditService, ContentService, LifecycleService, NamesService, renewSignersByGrant, RevocationService, TokenService, ObjectService, PeerService, SecretService, createAuthorizer, createFcpDoor, type ContentStream, type NamesOptions, type PutContentResult } from './services/index.js';
import { AuditRecorder, DEVICE_LOG, Witness, Witnessing, isQuietDecision, witnessName, type ArchiveIO } from './audit/index.js';
import { bytesEqual } from './crypto/index.js';
import { mayHold, mayUsePeer } from './zones/index.js';
import { MeshHub, type MeshHubOptions } from './hub/mesh-hub.js';
import { MeshHubInstalledStore, MeshHubStateStore } from './hub/mesh-stores.js';
import { HubService, type HubRoute } from './services/hub-service.js';
import { DashboardService } from './services/dashboard-service.js';
import { GatewayService } from './services/gateway-service.js';
import { CommunityKeys } from './gateway/community-keys.js';
import { ConnectorHost, EgressProxy, loadManifest, type ConnectorManifest, type RestartPolicy } from './hub/index.js';
import { OwnerService, type OwnerOptions } from './services/owner-service.js';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Settings of this device's connector hub. */
export interface HubOptions {
  /**
   * DEV/TEST ONLY: address ranges (CIDR) the egress proxy admits although they are not public
   * (a loopback test upstream). Never from a manifest.
   */
  egressDevAllowAddresses?: string[];
  /** Name resolution for the egress proxy (default: the system resolver). */
  egressResolve?: (host: string) => Promise<string[]>;
  restartPolicy?: RestartPolicy;
  /** Where each connector runs; default: where its lease is held (the hub across devices). */
  route?: (connectorId: string) => HubRoute;
  /** Lease duration (the failover grace period) and poll interval of the hub across devices. */
  leaseMs?: MeshHubOptions['leaseMs'];
  pollMs?: MeshHubOptions['pollMs'];
  /** false: this device grants leases and routes invokes but runs no connector. */
  runConnectors?: boolean;
}

export interface SovereignMeshConfig extends MeshNodeOptions {
  /**
   * How often the device with the smallest stable id re-splits secrets whose holders restarted
   * or left (ms); 0 = only at start-up. A device also runs it once shortly after it starts.
   */
  secretsRestoreIntervalMs?: number;
  /** Names and their garbage collection (interval, grace period). */
  names?: NamesOptions;
  hub?: HubOptions;
  /**
   * How often members are asked for removals and newer zone key epochs this device missed (ms;
   * default 10 min); it also happens at start and whenever a peer comes online. 0 = only then.
   */
  catchUpIntervalMs?: number;
  /** How often members are asked for revocations this device missed (ms; default 30 s; 0 = at start and on changes only). */
  revocationSyncMs?: number;
  /** How old this device's confirmed revocation head may be for risky and dangerous operations (ms; default 300 s). */
  revocationMaxAgeMs?: number;
  /**
   * Instead of the owner key of this mesh (tests): the owner's authority as this device sees it (public key, k-of-n signing, this device's
   * grant). With it, hub invokes need capability tokens; without it the zone rules alone decide.
   */
  ownerAuthority?: (self: { signingPublicKey: Uint8Array; hostName: string; stableId: string; zones: string[] }) => OwnerAuthority;
  /** The threshold owner key (timeouts, grant lifetime and renewal). */
  owner?: OwnerOptions;
  audit?: AuditOptions;
}

/** Settings of this device's audit logs. */
export interface AuditOptions {
  /**
   * Keep each log's entries and checkpoints as mesh objects of its zone (so it can be rebuilt
   * after its device is lost: `fcp audit rebuild`). Default false: the archive objects are
   * ordinary objects of their zones (listed, counted, repaired), so it is chosen per mesh.
   */
  archive?: boolean;
  /** Send each checkpoint to the zone's other devices to cosign. Default true. */
  witness?: boolean;
  /** How long one witness may take to answer (ms). */
  witnessTimeoutMs?: number;
}

/** The services every front door calls. */
export interface MeshServices {
  objects: ObjectService;
  /** Files of any size, streamed and chunked. */
  content: ContentService;
  secrets: SecretService;
  admin: AdminService;
  peers: PeerService;
  audit: AuditService;
  names: NamesService;
  hub: HubService<ConnectorManifest>;
  /** The hub across devices: profiles, placement, leases, connector state, invoke routing. */
  hubMesh: MeshHub;
  /** Removing devices and rotating zone keys. */
  lifecycle: LifecycleService;
  /** Capability tokens minted from this device's grant. */
  tokens: TokenService;
  /** The owner-signed revocations, kept and spread. */
  revocations: RevocationService;
  /** The web dashboard's views and owner actions (viewer principals). */
  dashboard: DashboardService;
  /** The threshold owner key: ceremony, signing, this device's grant (the OwnerAuthority). */
  owner: OwnerService;
  /** The public gateway: what public callers may invoke, community keys, Funnel's serve config. */
  gateway: GatewayService;
}

/** Secrets as the library user sees them (the local principal is implied). */
export class LibrarySecrets {
  constructor(
    private readonly service: SecretService,
    private readonly principal: Principal,
  ) {}
  put(name: string, value: Uint8Array, opts: PutOptions): Promise<void> {
    return this.service.put(this.principal, name, value, opts);
  }
  use<T>(name: string, fn: (buf: Uint8Array) => Promise<T> | T): Promise<T> {
    return this.service.use(this.principal, name, fn);
  }
  list(): Promise<SecretListing[]> {
    return this.service.list(this.principal);
  }
  rotate(name: string): Promise<void> {
    return this.service.rotate(this.principal, name);
  }
  remove(name: string): Promise<void> {
    return this.service.remove(this.principal, name);
  }
  restore(): Promise<RestoreOutcome[]> {
    return this.service.restore(this.principal);
  }
}

export class SovereignMesh {
  private timers: NodeJS.Timeout[] = [];
  private catchUpTimer: NodeJS.Timeout | null = null;
  readonly secrets: LibrarySecrets;

  private constructor(
    /** @internal the mesh node; front doors use `services` */
    readonly node: MeshNode,
    readonly services: MeshServices,
    private readonly holder: ShareHolder,
    /** @internal this device's audit logs (benches drive them directly) */
    readonly recorder: AuditRecorder,
    /** This device's connector processes and egress proxy. */
    readonly connectors: ConnectorHost,
    private readonly egress: EgressProxy,
    /** The hub across devices (placement, leases, routing); front doors use `services.hub`. */
    readonly hubMesh: MeshHub,
  ) {
    this.secrets = new LibrarySecrets(services.secrets, LOCAL_LIBRARY);
  }

  static async init(config: SovereignMeshConfig, hooks: { onShutdown?: () => void } = {}): Promise<SovereignMesh> {
    // A device whose audit dir is gone (lost, or never made) looks for its logs in the mesh once peers answer.
    const auditDirMissing = !existsSync(join(config.dataDir, 'audit'));
    const node = await MeshNode.start(config);
    const auditLog = node.log.child({ component: 'audit' });
    // The devices that witness this device's log of a zone: the online fcp devices that may hold
    // it over their current path (any fcp device for the device log).
    const witnessesOf = (zone: string): string[] =>
      node.eligibility
        .members()
        .filter((i) => i.peer.online && (zone === DEVICE_LOG || (node.zones.has(zone) && mayHold(i.zones, node.zones.get(zone)) && mayUsePeer(node.zones.get(zone), i.peer))))
        .map((i) => i.peer.stableId);
    const call = (id: string, msg: Parameters<MeshNode['call']>[1], ms: number) => node.call(id, msg, ms);
    const archiveIO: ArchiveIO = {
      put: (zone, bytes, schema) => node.writer.put(bytes, node.zones.get(zone), node.keyring.requireZoneKey(zone), { schema }),
      get: async (zone, id, schema) => {
        const m = await node.reader.findManifest(id);
        const zk = node.keyring.requireZoneKey(zone);
        if (m.zone !== zone || m.schema !== schema || !bytesEqual(zk.keyId, m.keyId)) throw new MeshError('MESH_REFUSED', `object ${id.slice(0, 12)} is ${m.schema} in ${m.zone}, not ${schema} in ${zone}`);
        return node.reader.read(m, node.zones.get(zone), zk);
      },
    };
    // A zone's log is archived in that zone; the device log in the most confidential zone this device holds a key of.
    const archiveZoneOf = (logZone: string): string | null => {
      if (logZone !== DEVICE_LOG) return node.zones.has(logZone) && node.keyring.zoneKey(logZone) ? logZone : null;
      const held = node.directory.selfZones.filter((z) => node.keyring.zoneKey(z.id)).sort((a, b) => b.confidentiality - a.confidentiality);
      return held[0]?.id ?? null;
    };
    const archive = config.audit?.archive !== true ? undefined : { io: archiveIO, zoneOf: archiveZoneOf };
    const witnessing = config.audit?.witness === false ? undefined : new Witnessing({ witnessesOf, call, log: auditLog, ...(config.audit?.witnessTimeoutMs !== undefined ? { timeoutMs: config.audit.witnessTimeoutMs } : {}) });
    // Every decision, allow or deny, becomes an entry of this device's audit log of its zone.
    const recorder = new AuditRecorder({
      dataDir: config.dataDir,
      deviceId: () => node.self.stableId,
      signingSeed: node.keyring.node.signingSecretKey,
      log: auditLog,
      ...(witnessing ? { witnessing } : {}),
      ...(archive ? { archive } : {}),
    });
    // The owner key as the token gate sees it: the mesh's FROST key (OwnerService, made below,
    // once authorization exists), or one a test brings.
    let ownerService: OwnerService | undefined;
    const authority: OwnerAuthority = config.ownerAuthority?.({ signingPublicKey: node.keyring.node.signingPublicKey, hostName: node.self.hostName, stableId: node.self.stableId, zones: node.zones.all().filter((z) => mayHold(node.directory.selfZones, z)).map((z) => z.id) }) ?? {
      publicKey: () => ownerService?.publicKey(),
      deviceGrant: () => ownerService?.deviceGrant(),
      sign: (message, purpose) => ownerService!.sign(message, purpose),
    };
    // Revocations (made below, once authorization exists) as the token gate reads them.
    let revocations: RevocationService | undefined;
    const tokens = new TokenGate({
      owner: authority,
      revocations: { isRevoked: (scope, id) => revocations?.isRevoked(scope, id) ?? false, requireFresh: (risk) => revocations?.requireFresh(risk) ?? { degraded: false } },
    });
    const authz = createAuthorizer(
      node,
      (e) =>
        recorder.record(
          {
            at: e.at,
            kind: 'authz.decision',
            zone: e.zone ?? DEVICE_LOG,
            principal: e.principal,
            action: e.action,
            ...(e.subject ? { subject: e.subject } : {}),
            allow: e.allow,
            ...(e.reason ? { reason: e.reason } : {}),
          },
          { quiet: isQuietDecision(e) },
        ),
      tokens,
    );
    const witness = new Witness(witnessName(node.self.stableId), node.keyring.node.signingSecretKey, join(config.dataDir, 'audit-witness.json'));
    // This device asking its own share holder: a device principal on the direct path.
    const selfPrincipal = (): DevicePrincipal => ({
      kind: 'device',
      stableId: node.self.stableId,
      hostName: node.self.hostName,
      address: node.self.address,
      tags: node.directory.self.tags,
      zones: node.directory.selfZones,
      path: 'direct',
    });
    let holder: ShareHolder | null = null;
    const transport = new MeshSecretsTransport(node, () => holder!, selfPrincipal);
    holder = new ShareHolder({
      self: transport.self,
      boxSecretKey: transport.boxSecretKey,
      audit: (e) => transport.audit(e),
      mayHandle: (from, zone) => node.zones.has(zone) && from.principal !== undefined && authz.check(from.principal, 'secret.share', { kind: 'zone', zone: node.zones.get(zone) }).allow,
    });
    const auditSink = (e: Parameters<AuditRecorder['note']>[0]) => recorder.note(e);
    const objects = new ObjectService(node, authz, auditSink);
    const secretsCore = new Secrets(transport, holder);
    const secrets = new SecretService(secretsCore, holder, node.zones, authz);
    const hubLog = node.log.child({ component: 'hub' });
    // The host, its egress proxy and the hub service refer to each other through these closures.
    let hub: HubService<ConnectorManifest> | null = null;
    const egress = new EgressProxy({
      useSecret: (id, name, fn) => hub!.useEgressSecret(id, name, fn),
      log: hubLog,
      ...(config.hub?.egressDevAllowAddresses ? { devAllowAddresses: config.hub.egressDevAllowAddresses } : {}),
      ...(config.hub?.egressResolve ? { resolve: config.hub.egressResolve } : {}),
    });
    await egress.start();
    const connectors = new ConnectorHost({
      hostName: node.self.hostName,
      log: hubLog,
      hostMethods: (id, method, params) => hub!.hostMethod(id, method, params),
      configureSecrets: (m) => hub!.configureSecrets(m.id),
      egressProxyFor: (m) => (m.egress?.allow.length ? egress.grant(m) : undefined),
      onStopped: (m) => egress.revoke(m.id),
      ...(config.hub?.restartPolicy ? { policy: config.hub.restartPolicy } : {}),
    });
    const parse = (v: unknown) => loadManifest(v).manifest;
    const hubMesh = new MeshHub(
      { node, authz, objects, host: config.hub?.runConnectors === false ? null : connectors, log: hubLog },
      { ...(config.hub?.leaseMs !== undefined ? { leaseMs: config.hub.leaseMs } : {}), ...(config.hub?.pollMs !== undefined ? { pollMs: config.hub.pollMs } : {}) },
    );
    hub = new HubService<ConnectorManifest>({
      audit: auditSink,
      runner: connectors,
      parse,
      zones: node.zones,
      authz,
      objects,
      secrets,
      // Installed connectors and their state live in the mesh (registry and fenced state heads).
      installed: new MeshHubInstalledStore(hubMesh),
      state: new MeshHubStateStore(hubMesh),
      hostName: node.self.hostName,
      log: hubLog,
      newTraceId: () => randomBytes(16).toString('hex'),
      revocations: { catchUpFor: (risk, withinMs) => revocations?.catchUpFor(risk, withinMs) ?? Promise.resolve() },
      deviceCredential: (requestId: string, operation: string) => deviceCredential(authority, node.keyring.node.signingSecretKey, requestId, operation),
      route: config.hub?.route ?? ((id) => hubMesh.routeFor(id)),
    });
    const content = new ContentService(node, authz);
    // A new owner key starts the revocation chain: confirm its head with the members at once.
    const owner = await OwnerService.open(node, authz, config.dataDir, selfPrincipal, { ...config.owner, onOwnerKey: () => void revocations?.sync().catch(() => undefined) });
    ownerService = owner;
    revocations = new RevocationService({
      authz,
      owner: authority,
      dataDir: config.dataDir,
      log: node.log,
      ...(config.revocationSyncMs !== undefined ? { syncIntervalMs: config.revocationSyncMs } : {}),
      ...(config.revocationMaxAgeMs !== undefined ? { maxAgeMs: config.revocationMaxAgeMs } : {}),
      learnOwnerKey: () => owner.learnGroup(),
      audit: recorder,
      peers: {
        online: () => node.eligibility.members().filter((i) => i.peer.online && i.peer.stableId !== node.self.stableId).map((i) => ({ stableId: i.peer.stableId, hostName: i.peer.hostName })),
        call: (id, msg, ms) => node.call(id, msg, ms),
      },
    });
    let mesh: SovereignMesh | null = null;
    const names = new NamesService(node, authz, content, config.names ?? {});
    const tokenService = new TokenService({ authz, owner: authority, nodeSeed: node.keyring.node.signingSecretKey, dataDir: config.dataDir, audit: recorder });
    const services: MeshServices = {
      hubMesh,
      objects,
      content,
      secrets,
      admin: new AdminService(node, authz, hooks.onShutdown),
      peers: new PeerService(node, authz, () => mesh?.catchUpSoon(), auditSink, () => authority.deviceGrant()),
      audit: new AuditService({ recorder, authz, witness, zones: node.zones, witnessesOf, call, deviceKey: (id) => node.signers.pinned(id), ...(archive ? { archive } : {}) }),
      names,
      hub,
      lifecycle: new LifecycleService(node, authz),
      tokens: tokenService,
      revocations,
      dashboard: new DashboardService({
        node,
        authz,
        listSecrets: () => secretsCore.list(),
        recorder,
        hub: hubMesh,
        // The dashboard authorized dashboard.move-connector; the move is then this device's install.
        moveConnector: (id, device) => hub.move(LOCAL_LIBRARY, id, device),
        listNames: async (zone) => (await names.allNames(zone)).map((e) => ({ path: e.path, kind: e.kind, size: e.size, mtime: e.mtime, by: e.by })),
        tokens: { records: () => tokenService.records(), isRevoked: (id) => revocations!.isRevoked('token', id), revokeFor: (by, ids, reason) => revocations!.revokeFor(by, ids, reason) },
      }),
      owner,
      gateway: new GatewayService({
        authz,
        hub,
        zones: node.zones,
        keys: new CommunityKeys(config.dataDir),
        tailscale: node.client,
        self: async () => {
          const st = await node.client.status();
          return { dnsName: st.self.dnsName, capMap: st.self.capMap };
        },
        audit: auditSink,
      }),
    };
    // A reset device presenting an owner grant for its new node key is trusted again at once.
    renewSignersByGrant(node, authority, (id) => revocations!.isRevoked('token', id), auditSink);
    // After an absence longer than the tombstone TTL, what the names need is released (tomb-sync.ts).
    node.repair.namedCheck = (zone) => names.namedObjects(zone);
    services.names.startCollector();
    node.serve(createFcpDoor(node, services.peers, services.secrets, async (p, msg) => (await owner.serve(p, msg)) ?? (await revocations!.serve(p, msg)) ?? hubMesh.serve(p, msg), services.lifecycle, services.audit));
    mesh = new SovereignMesh(node, services, holder, recorder, connectors, egress, hubMesh);
    mesh.witness = witness;
    mesh.scheduleCatchUp(config.catchUpIntervalMs ?? 10 * 60_000);
    hubMesh.start();
    owner.startRenewal();
    revocations.start();
    await hub.init();
    mesh.scheduleRestores(config.secretsRestoreIntervalMs ?? 60_000);
    if (archive && auditDirMissing) mesh.scheduleAuditRebuild(auditLog);
    return mesh;
  }

  /** Re-splits secrets that lost shares (a holder restarted empty); logs, never throws. */
  async restoreSecrets(): Promise<void> {
    try {
      const outcomes = await this.secrets.restore();
      for (const o of outcomes) if (o.status !== 'healthy') this.node.log.info({ secret: o.name, status: o.status }, 'secret restore');
    } catch (err) {
      this.node.log.warn({ err: (err as Error).message }, 'secret restore failed');
    }
  }

  /** Asks the members what this device missed while away: removals, newer zone key epochs. */
  catchUp(): Promise<{ removed: number; zones: string[] }> {
    void this.services.revocations.sync().catch(() => undefined);
    return this.services.lifecycle.catchUp();
  }

  /** A catch-up shortly (several reasons within half a second make one). */
  catchUpSoon(): void {
    if (this.catchUpTimer) return;
    this.catchUpTimer = setTimeout(() => {
      this.catchUpTimer = null;
      void this.catchUp();
    }, 500);
    this.catchUpTimer.unref();
  }

  private scheduleCatchUp(intervalMs: number): void {
    const soon = () => this.catchUpSoon();
    soon();
    // A peer that comes online may know of removals or epochs made while one of us was away.
    this.node.directory.on('change', soon);
    if (intervalMs > 0) {
      const t = setInterval(() => void this.catchUp(), intervalMs);
      t.unref();
      this.timers.push(t);
    }
  }

  /**
   * Rebuilds this device's logs from the mesh once a witness answers (a device that lost its
   * audit dir and rejoined; a new device finds nothing to rebuild). At most 20 tries, 1 s apart.
   */
  private scheduleAuditRebuild(log: MeshNode['log']): void {
    let tries = 0;
    const attempt = async (): Promise<void> => {
      tries++;
      try {
        const answers = await this.services.audit.askWitnesses([DEVICE_LOG]);
        if (answers.length > 1) {
          const out = await this.services.audit.rebuild(LOCAL_LIBRARY, undefined, { onlyBehind: true });
          for (const r of out) if (!r.missing) log.info({ origin: r.origin, restored: r.restored, reappended: r.reappended }, 'audit log rebuilt from the mesh');
          return;
        }
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'audit log rebuild failed');
      }
      if (tries < 20 && !this.closing) this.later(() => void attempt(), 1_000);
    };
    this.later(() => void attempt(), 500);
  }

  private closing = false;
  private witness: Witness | null = null;

  private later(fn: () => void, ms: number): void {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private scheduleRestores(intervalMs: number): void {
    // A restarted device has lost its shares: ask for them back once the mesh has seen it.
    const first = setTimeout(() => void this.restoreSecrets(), 1_000);
    first.unref();
    this.timers.push(first);
    if (intervalMs > 0) {
      const t = setInterval(() => {
        // One device at a time re-splits: the online fcp device with the smallest stable id.
        const ids = this.node.eligibility.members().map((i) => i.peer.stableId);
        if (ids.every((id) => this.node.self.stableId < id)) void this.restoreSecrets();
      }, intervalMs);
      t.unref();
      this.timers.push(t);
    }
  }

  /** Stores bytes in a zone; resolves with the ObjectId (hex) once durable on the zone's devices. */
  store(data: Uint8Array, zone: string, opts?: StoreOptions): Promise<string> {
    return this.services.objects.put(LOCAL_LIBRARY, data, zone, opts);
  }

  /**
   * Rebuilds an object from any devices that hold enough of its symbols. With `verify`, the
   * content is also re-hashed and must match its ObjectId (costs a BLAKE3 pass over the object).
   */
  retrieve(objectId: string, opts: { verify?: boolean } = {}): Promise<Uint8Array> {
    return this.services.objects.get(LOCAL_LIBRARY, objectId, opts);
  }

  /**
   * Stores a stream of any length as a file object (chunked, each chunk stored once per zone);
   * memory stays bounded whatever the size. Resolves once every chunk and the file object are durable.
   */
  storeStream(source: AsyncIterable<Uint8Array>, zone: string, opts: { signal?: AbortSignal; tolerate?: number } = {}): Promise<PutContentResult> {
    return this.services.content.putStream(LOCAL_LIBRARY, zone, source, opts);
  }

  /** A stored file (or whole object) as a stream of its bytes, with its size. */
  retrieveStream(objectId: string, opts: { verify?: boolean; signal?: AbortSignal; reuse?: boolean } = {}): Promise<ContentStream> {
    return this.services.content.getStream(LOCAL_LIBRARY, objectId, opts);
  }

  list(zone?: string): Promise<ObjectHealth[]> {
    return this.services.objects.list(LOCAL_LIBRARY, zone);
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const t of this.timers) clearTimeout(t);
    if (this.catchUpTimer) clearTimeout(this.catchUpTimer);
    await this.hubMesh.stop();
    await this.connectors.stopAll();
    await this.egress.close();
    this.services.names.stop();
    this.services.owner.stop();
    this.services.revocations.stop();
    this.holder.wipe();
    await this.node.stop();
    this.recorder.close();
    this.witness?.flush();
  }
}

/** This device's grant and its node key's proof for one request (the grant's holder is that key). */
function deviceCredential(owner: OwnerAuthority, nodeSeed: Uint8Array, requestId: string, operation: string): Credential | undefined {
  const grant = owner.deviceGrant();
  const ownerKey = owner.publicKey();
  if (!grant || !ownerKey) return undefined;
  const { claims } = verifyToken(grant, { ownerKey });
  return { token: grant, proof: proveHolder(claims, nodeSeed, requestId, operation) };
}
