// Limits of the FCP server and client, one definition each with its default. Both sides read
// MAX_IN_FLIGHT_PER_CONNECTION: the client queues above it, so a busy reply means real overload.
import { DEFAULT_MAX_FRAME_BYTES, FRAME_HEADER_BYTES } from '../wire/index.js';

/** Requests one connection may have running on the server at once. */
export const MAX_IN_FLIGHT_PER_CONNECTION = 256;

export interface ServerLimits {
  /** Requests running per connection; more get MESH_BUSY. */
  maxInFlight: number;
  /** Open connections per daemon (authenticating or authenticated). */
  maxConnections: number;
  /** Open connections from one source address. */
  maxConnectionsPerAddress: number;
  /** Time the whois of a new connection may take before it is refused (ms). */
  authTimeoutMs: number;
  /** After a refusal or close notice, the socket is destroyed this long after, read or not (ms). */
  closeLingerMs: number;
  /** A frame whose first byte arrived must be complete within this (ms). */
  frameTimeoutMs: number;
  /** No frame received and nothing running or queued for this long closes the connection (ms). */
  idleTimeoutMs: number;
  /** Replies queued on a connection that make no progress for this long close it (ms). */
  writeDeadlineMs: number;
  /** Reply bytes queued on one connection; a streaming handler's send waits above it. */
  maxReplyBytesPerConnection: number;
  /** Reply bytes queued over all connections of the daemon. */
  maxReplyBytes: number;
  /** Request bytes held by one connection: the frame being received plus requests not answered. */
  maxInboundBytesPerConnection: number;
  /** The same over all connections; reading pauses while it is used up. */
  maxInboundBytes: number;
  /** Items in one CBOR array or map of a request (a want-list is one). */
  maxArrayItems: number;
  /** Fetches served at once by the daemon. */
  maxFetchesInFlight: number;
  /** Fetches waiting for a slot; beyond this a fetch gets MESH_BUSY. */
  maxFetchesQueued: number;
  /** Distinct positions one fetch may name. */
  maxWantPositions: number;
}

export const DEFAULT_SERVER_LIMITS: Readonly<ServerLimits> = Object.freeze({
  maxInFlight: MAX_IN_FLIGHT_PER_CONNECTION,
  maxConnections: 256,
  maxConnectionsPerAddress: 32,
  authTimeoutMs: 10_000,
  closeLingerMs: 1_000,
  frameTimeoutMs: 30_000,
  idleTimeoutMs: 120_000,
  writeDeadlineMs: 30_000,
  maxReplyBytesPerConnection: 4 * 1024 * 1024,
  maxReplyBytes: 64 * 1024 * 1024,
  maxInboundBytesPerConnection: 16 * 1024 * 1024,
  maxInboundBytes: 64 * 1024 * 1024,
  maxArrayItems: 65_536,
  maxFetchesInFlight: 32,
  maxFetchesQueued: 1024,
  maxWantPositions: 65_536,
});

export interface ClientLimits {
  /** Requests this side keeps running on one connection; more wait locally. */
  maxInFlight: number;
  /** Times a MESH_BUSY reply is retried before the caller sees it. */
  busyRetries: number;
  /** First wait before a busy retry (ms); it doubles each time, with jitter. */
  busyBackoffMs: number;
  /** Longest wait between busy retries (ms). */
  maxBusyBackoffMs: number;
  /** A connection with nothing pending closes itself after this (ms); below the server's idle timeout. */
  idleCloseMs: number;
}

export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimits> = Object.freeze({
  maxInFlight: MAX_IN_FLIGHT_PER_CONNECTION,
  busyRetries: 6,
  busyBackoffMs: 25,
  maxBusyBackoffMs: 1_000,
  idleCloseMs: 60_000,
});

function positiveIntegers<T extends object>(what: string, limits: T): T {
  for (const [name, value] of Object.entries(limits)) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} limit ${name} must be a non-negative integer, got ${String(value)}`);
  }
  return limits;
}

/** Defaults overlaid with `given`; a frame of `maxFrameBytes` must fit every inbound budget. */
export function resolveServerLimits(given: Partial<ServerLimits> | undefined, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Readonly<ServerLimits> {
  const limits = positiveIntegers('server', { ...DEFAULT_SERVER_LIMITS, ...given });
  const frame = maxFrameBytes + FRAME_HEADER_BYTES;
  if (limits.maxInboundBytesPerConnection < frame || limits.maxInboundBytes < limits.maxInboundBytesPerConnection) {
    throw new RangeError(`inbound budgets must hold one whole frame (${frame} bytes) and the daemon budget at least one connection's`);
  }
  if (limits.maxReplyBytes < limits.maxReplyBytesPerConnection) throw new RangeError('maxReplyBytes must be at least maxReplyBytesPerConnection');
  for (const name of ['maxInFlight', 'maxConnections', 'maxConnectionsPerAddress', 'maxFetchesInFlight', 'maxArrayItems'] as const) {
    if (limits[name] < 1) throw new RangeError(`server limit ${name} must be at least 1`);
  }
  return Object.freeze(limits);
}

export function resolveClientLimits(given: Partial<ClientLimits> | undefined): Readonly<ClientLimits> {
  const limits = positiveIntegers('client', { ...DEFAULT_CLIENT_LIMITS, ...given });
  if (limits.maxInFlight < 1) throw new RangeError('client limit maxInFlight must be at least 1');
  return Object.freeze(limits);
}
