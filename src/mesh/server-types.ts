// What the FCP server hands to request handlers, apart from the server itself (so sessions and
// handlers depend on these shapes, not on the listener).
import type { Message } from '../wire/index.js';
import type { ServerLimits } from './limits.js';
import type { Outgoing } from './rpc.js';

export interface Caller {
  /** Tailscale stable node id of the caller. */
  stableId: string;
  hostName: string;
  address: string;
  tags: string[];
  zoneIds: string[];
}

export interface RequestContext {
  caller: Caller;
  id: number;
  /** Aborted when the caller sends `stop` for this request or the connection closes. */
  signal: AbortSignal;
  /** The server's limits (a fetch reads maxWantPositions). */
  limits: Readonly<ServerLimits>;
  /**
   * Sends a non-terminal reply (part of a stream). Waits while the connection's or the
   * daemon's reply budget is used up; rejects with MESH_CLOSED once the connection is gone.
   */
  send(msg: Outgoing): Promise<void>;
}

export type Authenticate = (remoteIp: string, remotePort: number) => Promise<Caller>;
export type Handle = (ctx: RequestContext, msg: Message) => Promise<Outgoing>;
