// The connector host of one device: starts, stops and invokes connector processes, each under
// its own supervisor, and reports their states. It checks inputs against the manifest's schema;
// who may invoke is decided before (HubService asks authorize()).
import { EventEmitter } from 'node:events';
import { HubError } from './hub-errors.js';
import { loadManifest, type ConnectorManifest, type LoadedManifest } from './manifest.js';
import {
  ConnectorSupervisor,
  type ConnectorLog,
  type ConnectorStatus,
  type HostMethodHandler,
  type InvokeContext,
  type RestartPolicy,
} from './supervisor.js';

export type { ConnectorStatus, InvokeContext, ConnectorState } from './supervisor.js';

export interface ConnectorEvent {
  connector: string;
  topic: string;
  data: unknown;
}

export interface ConnectorHostDeps {
  hostName: string;
  hostVersion?: string;
  log: ConnectorLog;
  /** Answers the connector's host/* requests (authorized there). */
  hostMethods?: HostMethodHandler;
  /** The values of the manifest's `configure` secrets, read at each start, kept in memory only. */
  configureSecrets?: (m: ConnectorManifest) => Promise<Record<string, string>>;
  /** The egress proxy URL for a connector with an allowlist (its own, so the proxy knows who asks). */
  egressProxyFor?: (m: ConnectorManifest) => string | undefined;
  /** Called once a connector is stopped for good (its egress grant is withdrawn). */
  onStopped?: (m: ConnectorManifest) => void;
  policy?: RestartPolicy;
  killGraceMs?: number;
  startTimeoutMs?: number;
  maxLineBytes?: number;
  env?: Record<string, string>;
}

const noHostMethods: HostMethodHandler = async (_id, method) => {
  throw new HubError('HUB_NOT_RUNNING', `this host offers no ${method}`);
};

export class ConnectorHost {
  private readonly sups = new Map<string, ConnectorSupervisor>();
  private readonly events = new EventEmitter();

  constructor(private readonly deps: ConnectorHostDeps) {}

  /** Spawns, handshakes and configures; resolves when ready. */
  async start(manifest: ConnectorManifest): Promise<void> {
    const loaded = loadManifest(manifest);
    const existing = this.sups.get(loaded.manifest.id);
    if (existing) {
      const s = existing.status().state;
      if (s !== 'stopped' && s !== 'failed') throw new HubError('HUB_CONNECTOR_EXISTS', `${loaded.manifest.id} is already running here (${s})`);
      this.sups.delete(loaded.manifest.id);
    }
    const egressProxy = this.deps.egressProxyFor?.(loaded.manifest);
    const sup = new ConnectorSupervisor(loaded, {
      hostName: this.deps.hostName,
      hostVersion: this.deps.hostVersion ?? '0',
      log: this.deps.log,
      hostMethods: this.deps.hostMethods ?? noHostMethods,
      configureSecrets: () => this.deps.configureSecrets?.(loaded.manifest) ?? Promise.resolve({}),
      ...(egressProxy ? { egressProxy } : {}),
      ...(this.deps.policy ? { policy: this.deps.policy } : {}),
      ...(this.deps.killGraceMs !== undefined ? { killGraceMs: this.deps.killGraceMs } : {}),
      ...(this.deps.startTimeoutMs !== undefined ? { startTimeoutMs: this.deps.startTimeoutMs } : {}),
      ...(this.deps.maxLineBytes !== undefined ? { maxLineBytes: this.deps.maxLineBytes } : {}),
      ...(this.deps.env ? { env: this.deps.env } : {}),
    });
    sup.on('state', (s: ConnectorStatus) => this.events.emit('state', s));
    sup.on('event', (e: ConnectorEvent) => this.events.emit('event', e));
    sup.on('log', (l: unknown) => this.events.emit('log', l));
    this.sups.set(loaded.manifest.id, sup);
    await sup.start();
  }

  /** Asks `shutdown`, then SIGTERM, then SIGKILL. */
  async stop(id: string): Promise<void> {
    const sup = this.sups.get(id);
    if (!sup) throw new HubError('HUB_CONNECTOR_NOT_FOUND', `no connector ${id} on ${this.deps.hostName}`);
    await sup.stop();
    this.sups.delete(id);
    this.deps.onStopped?.(sup.loaded.manifest);
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.sups.keys()].map((id) => this.stop(id).catch(() => undefined)));
  }

  /** Checks the input against the operation's schema, then runs it within the deadline. */
  async invoke(id: string, operation: string, input: unknown, ctx: InvokeContext): Promise<unknown> {
    const sup = this.supervisor(id);
    const op = sup.loaded.operation(operation);
    if (!op) throw new HubError('HUB_UNKNOWN_OPERATION', `${id} has no operation ${operation} (it has ${sup.loaded.manifest.operations.map((o) => o.name).join(', ')})`);
    const problems = sup.loaded.checkInput(operation, input);
    if (problems.length) throw new HubError('HUB_BAD_INPUT', `${id}.${operation}: ${problems.join('; ')}`);
    return sup.invoke(operation, input, ctx);
  }

  /** Subscribes to a connector's event stream; events arrive on `on('event')`, also after restarts. */
  subscribe(id: string, topic: string): Promise<void> {
    return this.supervisor(id).subscribe(topic);
  }

  manifest(id: string): LoadedManifest | undefined {
    return this.sups.get(id)?.loaded;
  }

  has(id: string): boolean {
    return this.sups.has(id);
  }

  status(): ConnectorStatus[] {
    return [...this.sups.values()].map((s) => s.status());
  }

  on(event: 'state', fn: (s: ConnectorStatus) => void): void;
  on(event: 'event', fn: (e: ConnectorEvent) => void): void;
  on(event: 'log', fn: (l: { connector: string; level: string; line: string }) => void): void;
  on(event: string, fn: (x: never) => void): void {
    this.events.on(event, fn as (x: unknown) => void);
  }

  off(event: string, fn: (x: never) => void): void {
    this.events.off(event, fn as (x: unknown) => void);
  }

  private supervisor(id: string): ConnectorSupervisor {
    const sup = this.sups.get(id);
    if (!sup) throw new HubError('HUB_CONNECTOR_NOT_FOUND', `no connector ${id} on ${this.deps.hostName}`);
    return sup;
  }
}
