// Typed requests to a peer: the reply's type is checked against what the request expects, so
// callers get the message type of the schema (wire/messages.ts) without casts.
import type { MessageOf, MessageType } from '../wire/index.js';
import { MeshError } from './errors.js';
import type { Outgoing, RpcConnection } from './rpc.js';

/** A request and the reply type it must get. */
export async function call<R extends MessageType>(conn: RpcConnection, msg: Outgoing, expect: R, timeoutMs?: number): Promise<MessageOf<R>> {
  const reply = await conn.request(msg, timeoutMs);
  return expectReply(reply, expect);
}

export function expectReply<R extends MessageType>(reply: { t: string }, expect: R): MessageOf<R> {
  if (reply.t !== expect) throw new MeshError('MESH_PEER_ERROR', `peer answered ${reply.t} where ${expect} was expected`);
  return reply as MessageOf<R>;
}
