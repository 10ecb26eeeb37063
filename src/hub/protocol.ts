// The connector protocol: newline-delimited JSON-RPC 2.0 over a child's stdin/stdout (FCP V2
// §10.3). Pure framing and message shapes, shared by the host and the connector SDK. Field names
// follow the FCP connector protocol (protocol_version, zone, nonce, trace_id, deadline_ms,
// idempotency_key); there is no npm library for JSON-RPC line framing with a hard line cap and
// a strict shape check, so the few lines needed are here.

import type { PublicOrigin } from '../authz/index.js';

export const PROTOCOL_VERSION = 'fcp-hub/1';
/** A longer line is a protocol violation: the connector is restarted. */
export const MAX_LINE_BYTES = 4 * 1024 * 1024;

export type JsonRpcId = number | string;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: unknown;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: unknown;
}

export interface JsonRpcErrorBody {
  code: number;
  message: string;
  /** fcp's stable error code travels here: `{ code: 'CONNECTOR_NOT_FOUND' }`. */
  data?: { code?: string; [k: string]: unknown };
}

export type JsonRpcResponse = { jsonrpc: '2.0'; id: JsonRpcId; result: unknown } | { jsonrpc: '2.0'; id: JsonRpcId | null; error: JsonRpcErrorBody };

export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** JSON-RPC 2.0 error codes (§5.1 of the JSON-RPC spec) and the hub's own (-32000..-32099). */
export const RPC_PARSE_ERROR = -32700;
export const RPC_INVALID_REQUEST = -32600;
export const RPC_METHOD_NOT_FOUND = -32601;
export const RPC_INVALID_PARAMS = -32602;
export const RPC_INTERNAL = -32603;
export const RPC_APP_ERROR = -32000;

// ---- Methods the host calls on a connector ----

export interface HandshakeParams {
  protocol_version: string;
  connector_id: string;
  instance_id: string;
  /** The connector's home zone. */
  zone: string;
  host: { name: string; version: string };
  transport_caps: { max_frame_size: number };
  /** Echoed back to prove the reply belongs to this handshake. */
  nonce: string;
}

export interface HandshakeResult {
  status: 'accepted';
  protocol_version: string;
  nonce: string;
  connector_id: string;
  version: string;
}

export interface DescribeResult {
  id: string;
  name?: string;
  version: string;
  description?: string;
}

export interface OperationDescription {
  name: string;
  description?: string;
  input_schema?: Record<string, unknown>;
}

export interface IntrospectResult {
  operations: OperationDescription[];
  events?: string[];
}

export interface ConfigureParams {
  /** Non-secret settings from the manifest's `config`. */
  config: Record<string, unknown>;
  /** Secrets the connector must hold itself, by name: sent only here, over stdin. */
  secrets: Record<string, string>;
  /** The egress proxy URL for this connector, when it has an allowlist. */
  egress_proxy?: string;
}

/**
 * Where an invoke's input came from (FCP V2 §6.1, in the part this hub tracks): the caller's zone,
 * the door, and its taint flags (`PUBLIC_INPUT` for everything through the public gateway). A
 * connector must not let such input flow into a zone of higher integrity without elevation.
 */
export interface ProvenanceLabel {
  origin_zone: string;
  via: 'funnel' | 'tailnet';
  integrity: number;
  confidentiality: number;
  taint: string[];
}

/** The label of input from the public gateway: the caller's zone levels, always PUBLIC_INPUT. */
export function publicProvenance(o: PublicOrigin): ProvenanceLabel {
  return { origin_zone: o.zone.id, via: o.via, integrity: o.zone.integrity, confidentiality: o.zone.confidentiality, taint: ['PUBLIC_INPUT'] };
}

export interface InvokeParams {
  operation: string;
  input: unknown;
  context: { trace_id: string; deadline_ms: number; idempotency_key?: string; caller: string; provenance?: ProvenanceLabel };
}

export interface HealthResult {
  status: 'ready' | 'degraded';
  detail?: string;
}

export interface SubscribeParams {
  topic: string;
}

/** Notification a connector sends for a subscription. */
export interface EventParams {
  topic: string;
  data: unknown;
}

// ---- Methods a connector calls on the host (authorized by the host) ----

export const HOST_METHODS = ['host/log', 'host/state.get', 'host/state.put', 'host/object.put', 'host/object.get'] as const;
export type HostMethod = (typeof HOST_METHODS)[number];

export interface LogParams {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
}

export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

/**
 * Splits a byte stream into lines, refusing any line over `maxBytes` (the violation is raised
 * before the line is buffered whole, so a connector cannot make the host hold more than that).
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number = MAX_LINE_BYTES) {}

  /** The complete lines in this chunk; throws ProtocolViolation on an oversized line. */
  push(chunk: Buffer): string[] {
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      this.size += end - start;
      if (this.size > this.maxBytes) throw new ProtocolViolation(`a line over ${this.maxBytes} bytes`);
      if (end > start) this.parts.push(chunk.subarray(start, end));
      if (nl === -1) break;
      const line = Buffer.concat(this.parts).toString('utf8');
      this.parts = [];
      this.size = 0;
      lines.push(line.endsWith('\r') ? line.slice(0, -1) : line);
      start = nl + 1;
    }
    return lines;
  }
}

const isId = (v: unknown): v is JsonRpcId => (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && v.length <= 128);

/** Parses one line into a JSON-RPC 2.0 message; throws ProtocolViolation on anything else. */
export function parseMessage(line: string): JsonRpcMessage {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new ProtocolViolation(`a line that is not JSON: ${JSON.stringify(line.slice(0, 60))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProtocolViolation('a JSON value that is not a JSON-RPC object (batches are not used)');
  const m = v as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') throw new ProtocolViolation('a message without jsonrpc "2.0"');
  if (typeof m.method === 'string') {
    if ('id' in m && !isId(m.id)) throw new ProtocolViolation('a request with an invalid id');
    return m as unknown as JsonRpcRequest | JsonRpcNotification;
  }
  if (!('id' in m) || !(isId(m.id) || m.id === null)) throw new ProtocolViolation('a response with an invalid id');
  if ('result' in m === 'error' in m) throw new ProtocolViolation('a response with both or neither of result and error');
  if ('error' in m) {
    const e = m.error as Record<string, unknown> | null;
    if (typeof e !== 'object' || e === null || typeof e.code !== 'number' || typeof e.message !== 'string') throw new ProtocolViolation('a malformed error object');
  }
  return m as unknown as JsonRpcResponse;
}

export const isRequest = (m: JsonRpcMessage): m is JsonRpcRequest => 'method' in m && 'id' in m;
export const isNotification = (m: JsonRpcMessage): m is JsonRpcNotification => 'method' in m && !('id' in m);
export const isResponse = (m: JsonRpcMessage): m is JsonRpcResponse => !('method' in m);

/** One message as a line. */
export function encodeMessage(m: JsonRpcMessage): string {
  return JSON.stringify(m) + '\n';
}
