// The hub for a principal: install, list and remove connectors, and invoke their operations.
// Every method authorizes first, on the connector's home zone (hub.install, hub.list,
// hub.remove, hub.invoke). Risky and dangerous operations need an idempotency key; their results
// are kept per (connector, operation, key) so a retry does not act twice. Where a connector runs
// is asked of an injected `route` (default: this device). The host methods a connector calls
// (state, objects) are answered here too, as that connector's principal.
import type { AuditSink } from '../audit/index.js';
import { inZone, NODE, describePrincipal, type Authorizer, type ConnectorPrincipal, type Credential, type Exposure, type OperationFacts, type Principal, type PublicOrigin } from '../authz/index.js';
import { FcpError } from '../errors/index.js';
import type { ZoneRegistry, Zone } from '../zones/index.js';
import type { ObjectService } from './object-service.js';
import type { SecretService } from './secret-service.js';

/** The parts of a connector manifest the service reads (hub/manifest.ts has the full one). */
export interface HubOperation {
  name: string;
  risk: 'safe' | 'risky' | 'dangerous';
  idempotency?: 'none' | 'best_effort' | 'strict';
  description?: string;
  input_schema?: Record<string, unknown>;
  /** Callable through the public gateway by anyone (`public`) or by community-key holders. */
  exposure?: Exposure;
}

export interface HubManifest {
  id: string;
  version: string;
  zone: string;
  name?: string;
  description?: string;
  operations: HubOperation[];
  secrets?: Array<{ name: string; deliver: 'egress' | 'configure' }>;
}

export interface HubInvokeContext {
  traceId: string;
  deadline: number;
  idempotencyKey?: string;
  caller: string;
  /** The capability the call is made with, for the device that runs the connector to check again. */
  credential?: Credential;
  /** A public gateway caller's origin: the device that runs the connector checks the public rules again, and the connector sees the taint. */
  relayedFor?: PublicOrigin;
}

export interface RunnerStatus {
  id: string;
  state: string;
  pid?: number;
  restarts: number;
  lastError?: string;
}

/** This device's connector host, as the service needs it. */
export interface ConnectorRunner<M extends HubManifest> {
  start(m: M): Promise<void>;
  stop(id: string): Promise<void>;
  invoke(id: string, operation: string, input: unknown, ctx: HubInvokeContext): Promise<unknown>;
  status(): RunnerStatus[];
  has(id: string): boolean;
}

/** Where a connector runs: here, or on another device that is asked over FCP. */
export type HubRoute = { kind: 'local' } | { kind: 'remote'; device: string; invoke(p: Principal, connector: string, operation: string, input: unknown, ctx: HubInvokeContext): Promise<unknown> };

/** Installed manifests, kept across restarts (no secret values are in a manifest). */
export interface InstalledStore<M> {
  load(): Promise<M[]>;
  save(all: M[]): Promise<void>;
  /** Installs made elsewhere (another device of the mesh) arrive here, the whole list each time. */
  watch?(onChange: (all: M[]) => void): void;
}

/** A connector's state (§10.4): one value, its sequence number growing by one per write. */
export interface ConnectorStateStore {
  get(p: ConnectorPrincipal): Promise<{ value: unknown; seq: number }>;
  put(p: ConnectorPrincipal, value: unknown): Promise<{ seq: number }>;
}

export interface ConnectorInfo {
  id: string;
  version: string;
  zone: string;
  name?: string;
  description?: string;
  operations: HubOperation[];
  /** Where it runs, and its process state when that is here. */
  device: string;
  status?: RunnerStatus;
}

export interface InvokeOptions {
  /** Epoch ms; default now + 30 s. */
  deadline?: number;
  idempotencyKey?: string;
  traceId?: string;
}

export class HubServiceError extends FcpError {}

export interface HubServiceDeps<M extends HubManifest> {
  /** Invoke outcomes are audit events of the connector's zone (operation, ok or error code, duration). */
  audit?: AuditSink;
  runner: ConnectorRunner<M>;
  parse: (value: unknown) => M;
  zones: ZoneRegistry;
  authz: Authorizer;
  objects: ObjectService;
  secrets: SecretService;
  installed: InstalledStore<M>;
  state: ConnectorStateStore;
  route?: (connectorId: string) => HubRoute;
  hostName: string;
  log: { info(o: object, m: string): void; warn(o: object, m: string): void };
  newTraceId: () => string;
  /** This device's grant and a proof by its node key for one request, once the owner key has granted it. */
  deviceCredential?: (requestId: string, operation: string) => Credential | undefined;
  /** Brings this device's revocation head up to date (bounded) before a risky invoke would find it stale. */
  revocations?: { catchUpFor(risk: 'safe' | 'risky' | 'dangerous', withinMs: number): Promise<void> };
}

const DEFAULT_DEADLINE_MS = 30_000;
/** How long an invoke waits for a stale revocation head to catch up before the freshness rule reads it. */
const REVOCATION_CATCH_UP_MS = 5_000;
const MAX_DEADLINE_MS = 3_600_000;
const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
const MAX_IDEMPOTENCY_ENTRIES = 10_000;
const MAX_KEY_BYTES = 128;
const MAX_STATE_BYTES = 1024 * 1024;

export class HubService<M extends HubManifest = HubManifest> {
  private manifests = new Map<string, M>();
  private readonly done = new Map<string, { at: number; result: Promise<unknown> }>();

  constructor(private readonly deps: HubServiceDeps<M>) {}

  private zone(id: string): Zone {
    if (!this.deps.zones.has(id)) throw new HubServiceError('HUB_BAD_MANIFEST', `zone ${id} is not a zone of this mesh (${this.deps.zones.all().map((z) => z.id).join(', ')})`);
    return this.deps.zones.get(id);
  }

  private route(id: string): HubRoute {
    return this.deps.route?.(id) ?? { kind: 'local' };
  }

  /** Loads the installed connectors and starts those that run here; failures are logged. */
  async init(): Promise<void> {
    for (const m of await this.deps.installed.load()) this.manifests.set(m.id, m);
    this.deps.installed.watch?.((all) => (this.manifests = new Map(all.map((m) => [m.id, m]))));
    await Promise.all(
      [...this.manifests.values()].filter((m) => this.route(m.id).kind === 'local').map((m) =>
        this.deps.runner.start(m).catch((err: Error) => this.deps.log.warn({ connector: m.id, err: err.message }, 'connector did not start')),
      ),
    );
  }

  async install(p: Principal, value: unknown): Promise<ConnectorInfo> {
    const m = this.deps.parse(value);
    this.deps.authz.authorize(p, 'hub.install', inZone(this.zone(m.zone)));
    const old = this.manifests.get(m.id);
    if (old) {
      this.deps.authz.authorize(p, 'hub.remove', inZone(this.zone(old.zone)));
      if (this.deps.runner.has(m.id)) await this.deps.runner.stop(m.id);
    }
    // Known before it starts: its configure step and host calls look it up.
    this.manifests.set(m.id, m);
    if (this.route(m.id).kind === 'local') {
      try {
        await this.deps.runner.start(m);
      } catch (err) {
        if (old) this.manifests.set(m.id, old);
        else this.manifests.delete(m.id);
        throw err;
      }
    }
    await this.deps.installed.save([...this.manifests.values()]);
    this.deps.log.info({ connector: m.id, version: m.version, zone: m.zone, by: describePrincipal(p) }, 'connector installed');
    return this.info(m);
  }

  /** Moves a connector to a device (its manifest's placement.device): the holder hands it over. */
  async move(p: Principal, id: string, device: string): Promise<ConnectorInfo> {
    const m = this.require(id);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(device)) throw new HubServiceError('HUB_BAD_INPUT', `not a device name: ${JSON.stringify(device)}`);
    return this.install(p, { ...m, placement: { ...((m as { placement?: object }).placement ?? {}), device } });
  }

  async remove(p: Principal, id: string): Promise<void> {
    const m = this.require(id);
    this.deps.authz.authorize(p, 'hub.remove', inZone(this.zone(m.zone)));
    if (this.deps.runner.has(id)) await this.deps.runner.stop(id);
    this.manifests.delete(id);
    await this.deps.installed.save([...this.manifests.values()]);
  }

  list(p: Principal): ConnectorInfo[] {
    this.deps.authz.authorize(p, 'hub.list', NODE);
    return [...this.manifests.values()].map((m) => this.info(m));
  }

  /** The connectors this principal may invoke (MCP `tools/list` shows only these). */
  callable(p: Principal): ConnectorInfo[] {
    if (p.kind === 'public') this.deps.authz.authorize(p, 'gateway.list', NODE);
    const out: ConnectorInfo[] = [];
    for (const m of this.manifests.values()) {
      if (!this.deps.zones.has(m.zone)) continue;
      const zone = inZone(this.deps.zones.get(m.zone));
      if (p.kind === 'public') {
        // A public caller sees the operations the gateway would let them invoke, nothing else.
        // The listing was authorized (gateway.list, recorded); what it shows is filtered quietly.
        const allowed = new Set(m.operations.filter((o) => this.deps.authz.permits(p, 'gateway.invoke', zone, facts(m.id, o))).map((o) => o.name));
        const info = this.info(m);
        if (allowed.size > 0) out.push({ ...info, operations: info.operations.filter((o) => allowed.has(o.name)) });
        continue;
      }
      if (!this.deps.authz.check(p, 'hub.invoke', zone).allow) continue;
      // Only the operations this caller's capability grants (all of them for this device's grant).
      const operations = m.operations.filter((o) => this.deps.authz.capabilityGrants(p, zone, m.id, o.name));
      if (operations.length > 0) out.push({ ...this.info(m), operations });
    }
    return out;
  }

  async invoke(p: Principal, connector: string, operation: string, input: unknown, opts: InvokeOptions = {}): Promise<unknown> {
    const m = this.require(connector);
    const op = m.operations.find((o) => o.name === operation);
    const traceId = opts.traceId ?? this.deps.newTraceId();
    if (op && this.deps.revocations) await this.deps.revocations.catchUpFor(op.risk, REVOCATION_CATCH_UP_MS);
    // Public gateway callers have their own action: what the manifest exposes, no token.
    this.deps.authz.authorize(p, p.kind === 'public' ? 'gateway.invoke' : 'hub.invoke', inZone(this.zone(m.zone)), `${connector}.${operation}`, op ? { ...facts(connector, op), requestId: traceId } : undefined);
    if (!op) throw new HubServiceError('HUB_UNKNOWN_OPERATION', `${connector} has no operation ${operation} (it has ${m.operations.map((o) => o.name).join(', ')})`);
    const key = opts.idempotencyKey;
    if (key !== undefined && (key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES)) throw new HubServiceError('HUB_BAD_INPUT', `an idempotency key is 1 to ${MAX_KEY_BYTES} bytes`);
    if (op.risk !== 'safe' && key === undefined) throw new HubServiceError('HUB_IDEMPOTENCY_REQUIRED', `${connector}.${operation} is ${op.risk}: give an idempotency key so a retry cannot act twice`);
    const now = Date.now();
    const deadline = opts.deadline ?? now + DEFAULT_DEADLINE_MS;
    if (!Number.isFinite(deadline) || deadline > now + MAX_DEADLINE_MS) throw new HubServiceError('HUB_BAD_INPUT', `a deadline is at most ${MAX_DEADLINE_MS / 1000} s away`);
    const ctx: HubInvokeContext = { traceId, deadline, caller: describePrincipal(p), ...(key !== undefined ? { idempotencyKey: key } : {}), ...(p.kind === 'public' ? { relayedFor: { zone: p.zone, via: p.via } } : {}) };
    const run = async () => {
      const r = this.route(connector);
      const started = Date.now();
      const outcome = (error?: unknown) =>
        this.deps.audit?.({
          kind: 'hub.invoke',
          zone: m.zone,
          principal: ctx.caller,
          subject: `${connector}.${operation}`,
          detail: { ok: error === undefined, ms: Date.now() - started, trace: ctx.traceId, ...(error !== undefined ? { error: String((error as { code?: string }).code ?? 'ERROR').slice(0, 64) } : {}) },
        });
      try {
        // The device running it checks the capability again: the caller's own, or this device's grant.
        const credential = r.kind === 'local' ? undefined : (('credential' in p ? p.credential : undefined) ?? this.deps.deviceCredential?.(traceId, `${connector}.${operation}`));
        const out = await (r.kind === 'local' ? this.deps.runner.invoke(connector, operation, input, ctx) : r.invoke(p, connector, operation, input, credential ? { ...ctx, credential } : ctx));
        outcome();
        return out;
      } catch (err) {
        outcome(err);
        throw err;
      }
    };
    if (key === undefined) return run();
    const slot = `${connector}\u0000${operation}\u0000${key}`;
    const prior = this.done.get(slot);
    if (prior && now - prior.at < IDEMPOTENCY_TTL_MS) return prior.result;
    const result = run();
    this.done.set(slot, { at: now, result });
    if (this.done.size > MAX_IDEMPOTENCY_ENTRIES) this.done.delete(this.done.keys().next().value!);
    // A failed call may be retried with the same key: only results are kept.
    result.catch(() => this.done.get(slot)?.result === result && this.done.delete(slot));
    return result;
  }

  /** The manifest of an installed connector (for the host's secrets and egress). */
  manifest(id: string): M | undefined {
    return this.manifests.get(id);
  }

  private require(id: string): M {
    const m = this.manifests.get(id);
    if (!m) throw new HubServiceError('HUB_CONNECTOR_NOT_FOUND', `no connector ${id} is installed (installed: ${[...this.manifests.keys()].join(', ') || 'none'})`);
    return m;
  }

  private info(m: M): ConnectorInfo {
    const r = this.route(m.id);
    const status = r.kind === 'local' ? this.deps.runner.status().find((s) => s.id === m.id) : undefined;
    return {
      id: m.id,
      version: m.version,
      zone: m.zone,
      ...(m.name ? { name: m.name } : {}),
      ...(m.description ? { description: m.description } : {}),
      operations: m.operations.map((o) => ({ name: o.name, risk: o.risk, ...(o.idempotency ? { idempotency: o.idempotency } : {}), ...(o.exposure ? { exposure: o.exposure } : {}), ...(o.description ? { description: o.description } : {}), ...(o.input_schema ? { input_schema: o.input_schema } : {}) })),
      device: r.kind === 'local' ? this.deps.hostName : r.device,
      ...(status ? { status } : {}),
    };
  }

  // ---- what a running connector asks of its host, as its own principal ----

  connectorPrincipal(connectorId: string): ConnectorPrincipal {
    const m = this.require(connectorId);
    return { kind: 'connector', connectorId, zone: this.zone(m.zone) };
  }

  /** Answers host/state.* and host/object.* for a connector. */
  async hostMethod(connectorId: string, method: string, params: unknown): Promise<unknown> {
    const p = this.connectorPrincipal(connectorId);
    const args = (params ?? {}) as Record<string, unknown>;
    switch (method) {
      case 'host/state.get':
        this.deps.authz.authorize(p, 'hub.state.get', inZone(p.zone));
        return this.deps.state.get(p);
      case 'host/state.put': {
        this.deps.authz.authorize(p, 'hub.state.put', inZone(p.zone));
        if (Buffer.byteLength(JSON.stringify(args.value ?? null)) > MAX_STATE_BYTES) throw new HubServiceError('HUB_BAD_INPUT', `connector state is at most ${MAX_STATE_BYTES} bytes`);
        return this.deps.state.put(p, args.value ?? null);
      }
      case 'host/object.put': {
        if (typeof args.text !== 'string') throw new HubServiceError('HUB_BAD_INPUT', 'host/object.put needs text');
        const schema = typeof args.schema === 'string' ? args.schema : `fcp.connector.${connectorId}`;
        return { id: await this.deps.objects.put(p, new TextEncoder().encode(args.text), p.zone.id, { schema }) };
      }
      case 'host/object.get': {
        if (typeof args.id !== 'string') throw new HubServiceError('HUB_BAD_INPUT', 'host/object.get needs an id');
        return { text: new TextDecoder().decode(await this.deps.objects.get(p, args.id)) };
      }
      default:
        throw new HubServiceError('HUB_UNKNOWN_OPERATION', `no host method ${method}`);
    }
  }

  /** The values of the secrets a connector must hold itself, read for its configure step. */
  async configureSecrets(connectorId: string): Promise<Record<string, string>> {
    const m = this.require(connectorId);
    const p = this.connectorPrincipal(connectorId);
    const out: Record<string, string> = {};
    for (const s of m.secrets ?? []) {
      if (s.deliver !== 'configure') continue;
      out[s.name] = await this.deps.secrets.use(p, s.name, (buf) => new TextDecoder().decode(buf));
    }
    return out;
  }

  /** Reads one egress secret for the proxy, as the connector (its manifest must name it). */
  useEgressSecret<T>(connectorId: string, name: string, fn: (v: Uint8Array) => T): Promise<T> {
    const m = this.require(connectorId);
    if (!(m.secrets ?? []).some((s) => s.name === name && s.deliver === 'egress')) throw new HubServiceError('HUB_EGRESS_DENIED', `${connectorId} names no egress secret ${name}`);
    return this.deps.secrets.use(this.connectorPrincipal(connectorId), name, fn);
  }
}

/** The facts of an operation the authorization needs (its risk and exposure). */
function facts(connector: string, o: HubOperation): OperationFacts {
  return { connector, operation: o.name, risk: o.risk, ...(o.exposure ? { exposure: o.exposure } : {}) };
}

