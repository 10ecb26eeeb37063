// A small SDK for writing connectors in Node: declare operations with handlers, call
// `runConnector`, and the protocol (handshake, describe, introspect, configure, invoke, health,
// subscribe, shutdown over stdio) is handled. stdout carries only protocol lines; logs go to the
// host with `host.log` (or stderr). Imports nothing but the protocol, so a connector starts fast.
import { RpcChannel, RpcFault } from './channel.js';
import {
  PROTOCOL_VERSION,
  RPC_INVALID_PARAMS,
  RPC_METHOD_NOT_FOUND,
  type ConfigureParams,
  type HandshakeParams,
  type HandshakeResult,
  type HealthResult,
  type IntrospectResult,
  type InvokeParams,
  type ProvenanceLabel,
} from './protocol.js';

/** An error a connector reports; the host passes `CONNECTOR_*` codes through to the caller. */
export class ConnectorError extends Error {
  constructor(
    readonly code: `CONNECTOR_${string}`,
    message: string,
  ) {
    super(message);
  }
}

/** What a connector may ask of its host; each call is authorized there, in the connector's zone. */
export interface HostApi {
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  /** The connector's state (§10.4), kept in the mesh by the host. */
  getState(): Promise<{ value: unknown; seq: number }>;
  putState(value: unknown): Promise<{ seq: number }>;
  /** Stores bytes (UTF-8 text here) as a mesh object in the connector's home zone; returns its id. */
  putObject(text: string, schema?: string): Promise<string>;
  getObject(id: string): Promise<string>;
}

export interface OperationContext {
  traceId: string;
  deadline: number;
  idempotencyKey?: string;
  caller: string;
  /** Set when the input came through the public gateway: treat it as untrusted (taint PUBLIC_INPUT). */
  provenance?: ProvenanceLabel;
  host: HostApi;
}

export interface OperationDef {
  description?: string;
  input_schema?: Record<string, unknown>;
  handler(input: unknown, ctx: OperationContext): Promise<unknown> | unknown;
}

export interface ConnectorDefinition {
  id: string;
  version: string;
  name?: string;
  description?: string;
  operations: Record<string, OperationDef>;
  configure?(params: ConfigureParams & { zone: string }, host: HostApi): Promise<void> | void;
  health?(): HealthResult | Promise<HealthResult>;
  /** Starts an event stream for a topic; `emit` sends one event. */
  subscribe?(topic: string, emit: (data: unknown) => void): void;
}

export interface ConnectorIo {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
}

/** Runs a connector over stdio (or the given streams) until the host shuts it down. */
export function runConnector(def: ConnectorDefinition, io: ConnectorIo = { input: process.stdin, output: process.stdout }): void {
  let zone = '';
  const host: HostApi = {
    log: (level, msg) => channel.notify('host/log', { level, msg }),
    getState: async () => (await call('host/state.get', {})) as { value: unknown; seq: number },
    putState: async (value) => (await call('host/state.put', { value })) as { seq: number },
    putObject: async (text, schema) => ((await call('host/object.put', { text, ...(schema ? { schema } : {}) })) as { id: string }).id,
    getObject: async (id) => ((await call('host/object.get', { id })) as { text: string }).text,
  };
  const call = (method: string, params: unknown) => channel.request(method, params, 30_000, () => new Error(`${method} timed out`));
  const channel = new RpcChannel(
    (line) => void io.output.write(line),
    {
      onRequest: async (method, params) => {
        switch (method) {
          case 'handshake': {
            const p = params as HandshakeParams;
            if (p.protocol_version !== PROTOCOL_VERSION) throw new RpcFault(RPC_INVALID_PARAMS, `unsupported protocol ${p.protocol_version}`);
            zone = p.zone;
            const r: HandshakeResult = { status: 'accepted', protocol_version: PROTOCOL_VERSION, nonce: p.nonce, connector_id: def.id, version: def.version };
            return r;
          }
          case 'describe':
            return { id: def.id, version: def.version, ...(def.name ? { name: def.name } : {}), ...(def.description ? { description: def.description } : {}) };
          case 'introspect': {
            const r: IntrospectResult = {
              operations: Object.entries(def.operations).map(([name, o]) => ({ name, ...(o.description ? { description: o.description } : {}), ...(o.input_schema ? { input_schema: o.input_schema } : {}) })),
            };
            return r;
          }
          case 'configure':
            await def.configure?.({ ...(params as ConfigureParams), zone }, host);
            return { ok: true };
          case 'invoke': {
            const p = params as InvokeParams;
            const op = def.operations[p.operation];
            if (!op) throw new RpcFault(RPC_METHOD_NOT_FOUND, `no operation ${p.operation}`, 'CONNECTOR_UNKNOWN_OPERATION');
            const c = p.context;
            return (await op.handler(p.input, { traceId: c.trace_id, deadline: c.deadline_ms, caller: c.caller, ...(c.idempotency_key ? { idempotencyKey: c.idempotency_key } : {}), ...(c.provenance ? { provenance: c.provenance } : {}), host })) ?? null;
          }
          case 'health':
            return def.health ? await def.health() : { status: 'ready' };
          case 'subscribe': {
            const topic = (params as { topic?: unknown })?.topic;
            if (typeof topic !== 'string' || !def.subscribe) throw new RpcFault(RPC_INVALID_PARAMS, 'no such event stream');
            def.subscribe(topic, (data) => channel.notify('event', { topic, data }));
            return { ok: true };
          }
          case 'shutdown':
            setImmediate(() => process.exit(0));
            return { ok: true };
          default:
            throw new RpcFault(RPC_METHOD_NOT_FOUND, `no method ${method}`);
        }
      },
      onNotification: () => undefined,
      onViolation: (reason) => {
        process.stderr.write(`connector ${def.id}: host broke the protocol (${reason}); exiting\n`);
        process.exit(70);
      },
    },
  );
  io.input.on('data', (c: Buffer | string) => channel.feed(typeof c === 'string' ? Buffer.from(c) : c));
  io.input.on('end', () => process.exit(0));
}
