// An in-process mesh: the tailscaled emulator and one SovereignMesh per device in this process,
// each with a memory store, its own loopback address and real FCP over TCP between them. For
// the mesh's logic, where separate fcpd processes and LMDB add nothing but time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { generateZoneKey, type ZoneKey } from '../../src/crypto/index.js';
import { Keyring, requestJoin, type RepairOptions } from '../../src/mesh/index.js';
import { LocalApiClient } from '../../src/tailscale/index.js';
import { SovereignMesh, type SovereignMeshConfig } from '../../src/sovereign-mesh.js';
import { MemorySymbolStore } from '../../src/store/index.js';
import { startDevTailnet, type DevTailnet, type TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { ZoneRegistry, mayHold } from '../../src/zones/index.js';

export interface InProcessOptions {
  repair?: Partial<RepairOptions>;
  hedgeMs?: number;
  requestTimeoutMs?: number;
  /** Devices given other zone keys, as after a second `fcp init --first`. */
  foreignKeys?: string[];
  /** Devices whose store acknowledges and lists symbols but serves none (a lying holder). */
  liars?: string[];
  /** Settings of each device's connector hub. */
  hub?: SovereignMeshConfig['hub'];
  /** Quarantine of collected objects' copies (ms); 0 here (erased at once) unless a test asks. */
  gcQuarantineMs?: number;
  /** Tombstone TTL (ms; default 90 days). */
  tombstoneTtlMs?: number;
  /** Wall clock of tombstone expiry and sync records, shared by the devices (tests move it on). */
  now?: () => number;
  /** Each device's view of the owner's authority (with it, hub invokes need tokens). */
  ownerAuthority?: (device: string) => SovereignMeshConfig['ownerAuthority'];
  revocationSyncMs?: number;
  revocationMaxAgeMs?: number;
  /** Background re-sealing after a rotation (default here: steps only when a test asks). */
  reseal?: SovereignMeshConfig['reseal'];
  audit?: SovereignMeshConfig['audit'];
}

export class InProcessMesh {
  readonly nodes = new Map<string, SovereignMesh>();
  readonly stores = new Map<string, MemorySymbolStore>();

  /** The zone keys every device was given (what `fcp join` hands a device again after a reset). */
  private keys = new Map<string, ZoneKey>();

  private constructor(
    readonly dir: string,
    readonly tailnet: DevTailnet,
    private readonly opts: InProcessOptions,
  ) {}

  static async start(description: TailnetDescription, opts: InProcessOptions = {}): Promise<InProcessMesh> {
    const dir = mkdtempSync(join(tmpdir(), 'fcp-inproc-'));
    const tailnet = await startDevTailnet(description, { dir: join(dir, 'ts') });
    const mesh = new InProcessMesh(dir, tailnet, opts);
    try {
      const zones = ZoneRegistry.builtin();
      mesh.keys = new Map<string, ZoneKey>(zones.all().map((z) => [z.id, generateZoneKey(z.id)]));
      for (const d of tailnet.devices) await mesh.provision(d.name);
      for (const d of tailnet.devices) await mesh.startNode(d.name);
    } catch (err) {
      await mesh.stop();
      throw err;
    }
    return mesh;
  }

  /** A new data dir for the device: node keys made, the zone keys its tags allow saved. */
  private async provision(name: string): Promise<void> {
    const zones = ZoneRegistry.builtin();
    const d = this.tailnet.device(name);
    const dataDir = join(this.dir, name);
    await Keyring.init(dataDir);
    const keyring = await Keyring.load(dataDir);
    const own = zones.zonesForTags(d.tags);
    for (const z of zones.all().filter((z) => mayHold(own, z))) {
      await keyring.saveZoneKey(this.opts.foreignKeys?.includes(name) ? generateZoneKey(z.id) : this.keys.get(z.id)!);
    }
  }

  /**
   * The device is reset, as after a reinstall: its daemon stops, its data dir and store are gone,
   * it gets new node keys and (as `fcp join` would give them) the zone keys, and starts again.
   */
  async reset(name: string, via?: string): Promise<void> {
    await this.kill(name);
    rmSync(join(this.dir, name), { recursive: true, force: true });
    this.stores.delete(name);
    if (via === undefined) await this.provision(name);
    else {
      // As `fcp join` does: an invite from `via`, the zone keys (and this device's former node keys) from it over FCP.
      const d = this.tailnet.device(name);
      await Keyring.init(join(this.dir, name));
      const { code } = this.node(via).node.invites.create(60_000);
      await requestJoin({ dataDir: join(this.dir, name), client: new LocalApiClient({ socketPath: d.socketPath }), peer: this.tailnet.device(via).address, code });
    }
    await this.startNode(name);
  }

  node(name: string): SovereignMesh {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`${name} is not running`);
    return n;
  }

  /** Starts a device's mesh again (its memory store keeps what it held, like a restart of LMDB). */
  async startNode(name: string): Promise<void> {
    const d = this.tailnet.device(name);
    const store = this.stores.get(name) ?? new MemorySymbolStore();
    this.stores.set(name, store);
    const mesh = await SovereignMesh.init({
      dataDir: join(this.dir, name),
      tailscaleSocket: d.socketPath,
      store: reopenable(store, this.opts.liars?.includes(name) ?? false),
      logger: pino({ level: process.env.FCP_TEST_LOG ?? 'silent' }).child({ device: name }),
      repair: { intervalMs: 0, scrubIntervalMs: 0, ...(this.opts.repair ?? {}) },
      secretsRestoreIntervalMs: 0,
      catchUpIntervalMs: 0,
      reseal: { intervalMs: 0, membersCheckMs: 0, ...(this.opts.reseal ?? {}) },
      names: { gcIntervalMs: 0 },
      gcQuarantineMs: this.opts.gcQuarantineMs ?? 0,
      ...(this.opts.tombstoneTtlMs !== undefined ? { gcTombstoneTtlMs: this.opts.tombstoneTtlMs } : {}),
      ...(this.opts.now ? { now: this.opts.now } : {}),
      ...(this.opts.ownerAuthority?.(name) ? { ownerAuthority: this.opts.ownerAuthority(name)! } : {}),
      ...(this.opts.revocationSyncMs !== undefined ? { revocationSyncMs: this.opts.revocationSyncMs } : {}),
      ...(this.opts.revocationMaxAgeMs !== undefined ? { revocationMaxAgeMs: this.opts.revocationMaxAgeMs } : {}),
      ...(this.opts.hub ? { hub: this.opts.hub } : {}),
      ...(this.opts.audit ? { audit: this.opts.audit } : {}),
      ...(this.opts.hedgeMs !== undefined ? { hedgeMs: this.opts.hedgeMs } : {}),
      ...(this.opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: this.opts.requestTimeoutMs } : {}),
    });
    this.nodes.set(name, mesh);
  }

  /** The device's daemon dies (its tailnet node stays online, as after kill -9 of fcpd). */
  async kill(name: string): Promise<void> {
    const n = this.nodes.get(name);
    this.nodes.delete(name);
    await n?.close();
  }

  async stop(): Promise<void> {
    await Promise.all([...this.nodes.keys()].map((n) => this.kill(n)));
    await this.tailnet.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The node closes its store on stop; a memory store must survive that to model a restart. */
function reopenable(store: MemorySymbolStore, lies: boolean): MemorySymbolStore {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'close') return async () => undefined;
      if (lies && prop === 'getSymbols') return async () => [];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
