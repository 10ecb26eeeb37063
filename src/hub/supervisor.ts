// Supervision of one connector process: spawn without a shell, handshake, configure, health
// checks, restart with backoff (0.5 s doubling to 60 s; more than 5 restarts in 5 minutes and it
// is `failed`), SIGTERM then SIGKILL. Any protocol violation (non-JSON, oversized line, a reply
// to an id never asked) kills that connector and restarts it; nothing else is touched.
import type { Credential, PublicOrigin } from '../authz/index.js';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { RemoteError, RpcChannel, RpcFault } from './channel.js';
import { HubError } from './hub-errors.js';
import type { LoadedManifest } from './manifest.js';
import {
  PROTOCOL_VERSION,
  MAX_LINE_BYTES,
  publicProvenance,
  RPC_METHOD_NOT_FOUND,
  HOST_METHODS,
  ProtocolViolation,
  type ConfigureParams,
  type EventParams,
  type HandshakeParams,
  type HandshakeResult,
  type HealthResult,
  type IntrospectResult,
  type InvokeParams,
  type HostMethod,
} from './protocol.js';

export type ConnectorState = 'starting' | 'ready' | 'degraded' | 'restarting' | 'failed' | 'stopped';

export interface ConnectorStatus {
  id: string;
  state: ConnectorState;
  pid?: number;
  restarts: number;
  lastError?: string;
  /** When the next start is due (restarting only), epoch ms. */
  nextStartAt?: number;
}

export interface RestartPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
  /** At most this many restarts within `windowMs`; one more crash and the connector is failed. */
  maxRestarts: number;
  windowMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 500, maxDelayMs: 60_000, maxRestarts: 5, windowMs: 5 * 60_000 };

/** Counts restarts in a sliding window and gives the next backoff delay, or null when spent. */
export class RestartBudget {
  private times: number[] = [];
  constructor(private readonly policy: RestartPolicy) {}

  next(now: number): number | null {
    this.times = this.times.filter((t) => now - t < this.policy.windowMs);
    if (this.times.length >= this.policy.maxRestarts) return null;
    const delay = Math.min(this.policy.maxDelayMs, this.policy.initialDelayMs * 2 ** this.times.length);
    this.times.push(now);
    return delay;
  }
}

export interface InvokeContext {
  traceId: string;
  /** Epoch ms. */
  deadline: number;
  idempotencyKey?: string;
  /** Principal description, for logs. */
  caller: string;
  /** The caller's capability token and proof, carried to the device that runs the connector (never to the connector). */
  credential?: Credential;
  /** For an invoke from the public gateway: the public caller's origin (its taint goes to the connector). */
  relayedFor?: PublicOrigin;
}

/** The host methods a connector may call, answered by the hub (which authorizes each). */
export type HostMethodHandler = (connectorId: string, method: Exclude<HostMethod, 'host/log'>, params: unknown) => Promise<unknown>;

export interface ConnectorLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface SupervisorDeps {
  hostName: string;
  hostVersion: string;
  log: ConnectorLog;
  hostMethods: HostMethodHandler;
  /** Secrets the connector must hold (deliver = configure), read at each start, in memory only. */
  configureSecrets: () => Promise<Record<string, string>>;
  /** The egress proxy URL for this connector, if it has one. */
  egressProxy?: string;
  /** Variables for the child beyond PATH (never secrets). */
  env?: Record<string, string>;
  policy?: RestartPolicy;
  /** Time to wait after SIGTERM before SIGKILL. */
  killGraceMs?: number;
  startTimeoutMs?: number;
  maxLineBytes?: number;
}

const STDERR_LINE_MAX = 4096;
const STDERR_BURST = 50;
const STDERR_PER_SECOND = 20;
const HEALTH_FAILURES_BEFORE_RESTART = 3;
const DEFAULT_HEALTH_MS = 10_000;

export class ConnectorSupervisor extends EventEmitter {
  private state: ConnectorState = 'stopped';
  private child: ChildProcessWithoutNullStreams | null = null;
  private channel: RpcChannel | null = null;
  private restarts = 0;
  private lastError: string | undefined;
  private nextStartAt: number | undefined;
  private readonly budget: RestartBudget;
  private restartTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private healthFailures = 0;
  private stopping = false;
  private secretValues: string[] = [];
  private stderrTokens = STDERR_BURST;
  private stderrRefill = Date.now();
  private stderrDropped = 0;
  private readonly topics = new Set<string>();
  private generation = 0;

  constructor(
    readonly loaded: LoadedManifest,
    private readonly deps: SupervisorDeps,
  ) {
    super();
    this.budget = new RestartBudget(deps.policy ?? DEFAULT_RESTART_POLICY);
  }

  get id(): string {
    return this.loaded.manifest.id;
  }

  status(): ConnectorStatus {
    return {
      id: this.id,
      state: this.state,
      ...(this.child?.pid !== undefined && this.state !== 'stopped' && this.state !== 'failed' ? { pid: this.child.pid } : {}),
      restarts: this.restarts,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.state === 'restarting' && this.nextStartAt !== undefined ? { nextStartAt: this.nextStartAt } : {}),
    };
  }

  private setState(s: ConnectorState): void {
    this.state = s;
    this.emit('state', this.status());
  }

  /** Starts the connector; resolves once it is ready, rejects if the first start fails. */
  async start(): Promise<void> {
    this.stopping = false;
    await this.launch();
  }

  private async launch(): Promise<void> {
    const m = this.loaded.manifest;
    const gen = ++this.generation;
    this.setState('starting');
    let child: ChildProcessWithoutNullStreams;
    try {
      child = spawn(m.command, m.args ?? [], {
        shell: false,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...(this.deps.egressProxy ? { FCP_EGRESS_PROXY: this.deps.egressProxy } : {}), ...this.deps.env },
      });
    } catch (err) {
      return this.failStart(gen, `could not start ${m.command}: ${(err as Error).message}`);
    }
    this.child = child;
    const channel = new RpcChannel((line) => child.stdin.write(line), {
      onRequest: (method, params) => this.onHostRequest(method, params),
      onNotification: (method, params) => this.onNotification(method, params),
      onViolation: (reason) => this.crashed(gen, `protocol violation: ${reason}`),
    }, this.deps.maxLineBytes ?? MAX_LINE_BYTES);
    this.channel = channel;
    child.stdout.on('data', (c: Buffer) => channel.feed(c));
    child.stdin.on('error', () => undefined); // a dead child's pipe; the exit handler reports it
    this.readStderr(child);
    const spawned = new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.once('exit', (code, signal) => this.crashed(gen, `exited (${signal ?? `code ${code}`})`));
    child.on('error', (err) => this.crashed(gen, err.message));
    try {
      await spawned;
      await this.handshake(channel);
      if (gen !== this.generation) return;
      this.healthFailures = 0;
      this.setState('ready');
      this.armHealth(gen);
      for (const t of this.topics) void channel.request('subscribe', { topic: t }, 5_000, () => new HubError('HUB_TIMEOUT', 'subscribe timed out')).catch(() => undefined);
    } catch (err) {
      if (gen === this.generation) this.crashed(gen, err instanceof HubError ? err.message : `start failed: ${(err as Error).message}`);
      if (!this.everReady) throw new HubError('HUB_CONNECTOR_FAILED', `${this.id} did not start: ${this.lastError ?? (err as Error).message}`);
    }
  }

  /** A start that never got as far as running the program. */
  private failStart(gen: number, reason: string): Promise<void> {
    this.crashed(gen, reason);
    return this.everReady ? Promise.resolve() : Promise.reject(new HubError('HUB_CONNECTOR_FAILED', `${this.id} did not start: ${reason}`));
  }

  private everReady = false;

  private async handshake(ch: RpcChannel): Promise<void> {
    const m = this.loaded.manifest;
    const timeout = this.deps.startTimeoutMs ?? 10_000;
    const late = (what: string) => () => new HubError('HUB_TIMEOUT', `${this.id} did not answer ${what} within ${timeout} ms`);
    const nonce = randomBytes(16).toString('hex');
    const hs: HandshakeParams = {
      protocol_version: PROTOCOL_VERSION,
      connector_id: m.id,
      instance_id: `${m.id}@${this.deps.hostName}`,
      zone: m.zone,
      host: { name: this.deps.hostName, version: this.deps.hostVersion },
      transport_caps: { max_frame_size: this.deps.maxLineBytes ?? MAX_LINE_BYTES },
      nonce,
    };
    const r = (await ch.request('handshake', hs, timeout, late('handshake'))) as Partial<HandshakeResult> | null;
    if (!r || r.status !== 'accepted' || r.nonce !== nonce) throw new HubError('HUB_PROTOCOL_VIOLATION', `${this.id} did not accept the handshake (status ${String(r?.status)}, nonce ${r?.nonce === nonce ? 'echoed' : 'wrong'})`);
    if (r.protocol_version !== PROTOCOL_VERSION) throw new HubError('HUB_PROTOCOL_VIOLATION', `${this.id} speaks ${String(r.protocol_version)}, not ${PROTOCOL_VERSION}`);
    // Configured before it is asked what it offers: a connector's operations may follow from
    // its configuration (the bridge lists the tools of the MCP server it was told to run).
    const secrets = await this.deps.configureSecrets();
    this.secretValues = Object.values(secrets).filter((v) => v.length >= 4);
    const cfg: ConfigureParams = { config: m.config ?? {}, secrets, ...(this.deps.egressProxy ? { egress_proxy: this.deps.egressProxy } : {}) };
    await ch.request('configure', cfg, timeout, late('configure'));
    await ch.request('describe', {}, timeout, late('describe'));
    const intro = (await ch.request('introspect', {}, timeout, late('introspect'))) as Partial<IntrospectResult> | null;
    const offered = new Set((Array.isArray(intro?.operations) ? intro.operations : []).map((o) => o?.name));
    const missing = m.operations.filter((o) => !offered.has(o.name)).map((o) => o.name);
    if (missing.length) throw new HubError('HUB_PROTOCOL_VIOLATION', `${this.id} does not offer the operations its manifest lists: ${missing.join(', ')}`);
    this.everReady = true;
  }

  private armHealth(gen: number): void {
    clearTimeout(this.healthTimer);
    const every = this.loaded.manifest.health_interval_ms ?? DEFAULT_HEALTH_MS;
    this.healthTimer = setTimeout(() => void this.checkHealth(gen), every);
    this.healthTimer.unref();
  }

  private async checkHealth(gen: number): Promise<void> {
    const ch = this.channel;
    if (gen !== this.generation || !ch || (this.state !== 'ready' && this.state !== 'degraded')) return;
    try {
      const h = (await ch.request('health', {}, 5_000, () => new HubError('HUB_TIMEOUT', 'health timed out'))) as Partial<HealthResult> | null;
      if (gen !== this.generation) return;
      this.healthFailures = 0;
      const next = h?.status === 'ready' ? 'ready' : 'degraded';
      if (next === 'degraded') this.lastError = `health: ${h?.detail ?? String(h?.status)}`;
      if (next !== this.state) this.setState(next);
    } catch (err) {
      if (gen !== this.generation) return;
      this.lastError = `health: ${(err as Error).message}`;
      if (++this.healthFailures >= HEALTH_FAILURES_BEFORE_RESTART) {
        this.deps.log.warn({ connector: this.id }, 'connector failed its health checks; restarting it');
        if (this.child) this.kill(this.child);
        return this.crashed(gen, `${HEALTH_FAILURES_BEFORE_RESTART} health checks failed`);
      }
      if (this.state !== 'degraded') this.setState('degraded');
    }
    this.armHealth(gen);
  }

  /** The current process is gone or broke the protocol: fail its invokes, then restart or fail. */
  private crashed(gen: number, reason: string): void {
    if (gen !== this.generation) return;
    this.generation++;
    clearTimeout(this.healthTimer);
    this.channel?.close(new HubError('HUB_CONNECTOR_CRASHED', `${this.id} ${reason} while the call was running`));
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) this.kill(this.child);
    if (this.stopping) return;
    this.lastError = reason;
    if (!this.everReady) {
      // Never ran: the manifest or program is wrong, and restarting would not help.
      this.setState('failed');
      return;
    }
    const delay = this.budget.next(Date.now());
    if (delay === null) {
      this.deps.log.warn({ connector: this.id, reason, restarts: this.restarts }, 'connector failed too often; it stays down');
      this.setState('failed');
      return;
    }
    this.restarts++;
    this.nextStartAt = Date.now() + delay;
    this.deps.log.warn({ connector: this.id, reason, delayMs: delay }, 'connector stopped; restarting it');
    this.setState('restarting');
    this.restartTimer = setTimeout(() => {
      if (!this.stopping) this.launch().catch(() => undefined);
    }, delay);
  }

  private onNotification(method: string, params: unknown): void {
    if (method === 'host/log') {
      const p = params as { level?: unknown; msg?: unknown } | null;
      this.logLine(typeof p?.msg === 'string' ? p.msg : JSON.stringify(params), typeof p?.level === 'string' ? p.level : 'info');
    } else if (method === 'event') {
      const e = params as Partial<EventParams> | null;
      if (typeof e?.topic === 'string' && this.topics.has(e.topic)) this.emit('event', { connector: this.id, topic: e.topic, data: e.data });
    }
  }

  private async onHostRequest(method: string, params: unknown): Promise<unknown> {
    if (!(HOST_METHODS as readonly string[]).includes(method) || method === 'host/log') throw new RpcFault(RPC_METHOD_NOT_FOUND, `no host method ${method}`);
    try {
      return await this.deps.hostMethods(this.id, method as Exclude<HostMethod, 'host/log'>, params);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new RpcFault(-32000, e.message ?? String(err), e.code);
    }
  }

  async subscribe(topic: string): Promise<void> {
    this.topics.add(topic);
    if (this.channel && !this.channel.isClosed && (this.state === 'ready' || this.state === 'degraded')) {
      await this.channel.request('subscribe', { topic }, 5_000, () => new HubError('HUB_TIMEOUT', 'subscribe timed out'));
    }
  }

  /** Runs one operation; the deadline bounds it, a crash fails it with HUB_CONNECTOR_CRASHED. */
  async invoke(operation: string, input: unknown, ctx: InvokeContext): Promise<unknown> {
    const ch = this.channel;
    if (!ch || ch.isClosed || (this.state !== 'ready' && this.state !== 'degraded')) {
      throw new HubError(this.state === 'failed' ? 'HUB_CONNECTOR_FAILED' : 'HUB_NOT_RUNNING', `${this.id} is ${this.state}${this.lastError ? ` (${this.lastError})` : ''}`);
    }
    const left = ctx.deadline - Date.now();
    if (left <= 0) throw new HubError('HUB_TIMEOUT', `the deadline for ${this.id}.${operation} had passed before it was sent`);
    const params: InvokeParams = {
      operation,
      input,
      context: { trace_id: ctx.traceId, deadline_ms: ctx.deadline, caller: ctx.caller, ...(ctx.idempotencyKey ? { idempotency_key: ctx.idempotencyKey } : {}), ...(ctx.relayedFor ? { provenance: publicProvenance(ctx.relayedFor) } : {}) },
    };
    try {
      return await ch.request('invoke', params, left, () => new HubError('HUB_TIMEOUT', `${this.id}.${operation} did not finish within its deadline (${left} ms)`));
    } catch (err) {
      if (err instanceof RemoteError) {
        const code = err.fcpCode && /^CONNECTOR_[A-Z0-9_]+$/.test(err.fcpCode) ? (err.fcpCode as `CONNECTOR_${string}`) : err.rpcCode === -32602 ? 'HUB_BAD_INPUT' : 'HUB_OPERATION_FAILED';
        throw new HubError(code, `${this.id}.${operation}: ${this.redact(err.message)}`);
      }
      if (err instanceof ProtocolViolation) throw new HubError('HUB_CONNECTOR_CRASHED', `${this.id} broke the protocol while running ${operation}`);
      throw err;
    }
  }

  /** Asks the connector to shut down, then SIGTERM, then SIGKILL. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.healthTimer);
    const child = this.child;
    const ch = this.channel;
    this.generation++;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (ch && !ch.isClosed) await Promise.race([ch.request('shutdown', {}, 1_000, () => new Error('shutdown timed out')).catch(() => undefined), exited]);
      ch?.close(new HubError('HUB_NOT_RUNNING', `${this.id} was stopped`));
      this.kill(child);
      await exited;
    } else ch?.close(new HubError('HUB_NOT_RUNNING', `${this.id} was stopped`));
    this.setState('stopped');
  }

  private kill(child: ChildProcessWithoutNullStreams): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    child.kill('SIGTERM');
    const t = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }, this.deps.killGraceMs ?? 2_000);
    t.unref();
    child.once('exit', () => clearTimeout(t));
  }

  private readStderr(child: ChildProcessWithoutNullStreams): void {
    let buf = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => {
      buf += s;
      let nl: number;
      while ((nl = buf.indexOf('\n')) !== -1) {
        this.logLine(buf.slice(0, nl), 'info');
        buf = buf.slice(nl + 1);
      }
      if (buf.length > STDERR_LINE_MAX) {
        this.logLine(buf, 'info');
        buf = '';
      }
    });
  }

  /** Connector log lines: secret values replaced, long lines cut, at most ~20 a second. */
  private logLine(line: string, level: string): void {
    const now = Date.now();
    this.stderrTokens = Math.min(STDERR_BURST, this.stderrTokens + ((now - this.stderrRefill) / 1000) * STDERR_PER_SECOND);
    this.stderrRefill = now;
    if (this.stderrTokens < 1) {
      this.stderrDropped++;
      return;
    }
    this.stderrTokens--;
    const text = this.redact(line.length > STDERR_LINE_MAX ? line.slice(0, STDERR_LINE_MAX) + '…' : line);
    const fields = { connector: this.id, ...(this.stderrDropped ? { dropped: this.stderrDropped } : {}) };
    this.stderrDropped = 0;
    this.emit('log', { connector: this.id, level, line: text });
    if (level === 'debug') this.deps.log.debug(fields, text);
    else if (level === 'warn' || level === 'error') this.deps.log.warn(fields, text);
    else this.deps.log.info(fields, text);
  }

  private redact(s: string): string {
    let out = s;
    for (const v of this.secretValues) out = out.split(v).join('[redacted]');
    return out;
  }
}
