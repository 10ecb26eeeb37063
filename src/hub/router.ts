// Invoke routing (FCP V2 §9.5): an invoke accepted on any device runs where the connector's lease
// is held. Locally when that is this device, otherwise one FCP `invoke` to the holder with the
// time left before the deadline (never a wall-clock instant: clocks differ), the trace id and the
// idempotency key; the holder authorizes the calling device again and calls its host.
import type { Logger } from 'pino';
import type { Message } from '../wire/index.js';
import { MAX_INVOKE_JSON } from '../wire/index.js';
import { MeshError, type Outgoing } from '../mesh/index.js';
import type { InvokeContext } from './host.js';
import { HubMeshError, type HubMeshErrorCode } from './mesh-errors.js';

/** Where a connector runs now, as this device knows it. */
export type Route = { kind: 'local' } | { kind: 'remote'; stableId: string; hostName: string } | { kind: 'none'; reason: 'no-eligible-device' | 'not-running' };

export interface RouterDeps {
  /** Where the connector runs; `refresh` asks the grantors again instead of the cached answer. */
  route(connectorId: string, refresh: boolean): Promise<Route>;
  /** Runs an operation on this device's host (the lease is checked there). */
  local(connectorId: string, op: string, input: unknown, ctx: InvokeContext): Promise<unknown>;
  call(stableId: string, msg: Outgoing, timeoutMs: number): Promise<Message>;
  /** How long to wait before asking again while nobody runs the connector (ms). */
  retryMs: number;
  log: Logger;
}

/** At most this many routing attempts per invoke (each after retryMs), whatever the deadline. */
const MAX_ATTEMPTS = 200;

/** Codes a holder's refusal keeps when it comes back over FCP (the rest become peer errors). */
function hubCodeOf(err: unknown): string | undefined {
  if (err instanceof MeshError) {
    const peer = err.details?.peerCode;
    return typeof peer === 'string' ? peer : err.code;
  }
  return (err as { code?: string }).code;
}

/** A remote holder's error as the caller sees it: hub and connector codes pass through. */
export function remoteError(err: unknown): Error {
  const code = hubCodeOf(err);
  const message = (err as Error).message.replace(/^[A-Z_]+: /, '');
  if (code && /^(HUB_|CONNECTOR_)/.test(code)) return new HubMeshError(code as HubMeshErrorCode, message);
  if (code === 'MESH_TIMEOUT') return new HubMeshError('HUB_DEADLINE_TIMEOUT', message);
  return err as Error;
}

export class InvokeRouter {
  constructor(private readonly deps: RouterDeps) {}

  async invoke(connectorId: string, op: string, input: unknown, ctx: InvokeContext): Promise<unknown> {
    const text = JSON.stringify(input ?? null);
    if (Buffer.byteLength(text) > MAX_INVOKE_JSON) throw new HubMeshError('HUB_BAD_INVOKE', `input of ${connectorId}.${op} is over ${MAX_INVOKE_JSON} bytes`);
    // While nobody runs the connector (just installed, or failing over) or the holder moved on,
    // ask again every retry interval until the deadline: bounded in time and in count.
    let lastError: Error | null = null;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) {
        const wait = Math.min(this.deps.retryMs, ctx.deadline - Date.now());
        if (wait <= 0) break;
        await new Promise((r) => setTimeout(r, wait));
      }
      const route = await this.deps.route(connectorId, attempt > 0);
      const left = ctx.deadline - Date.now();
      if (left <= 0) break;
      if (route.kind === 'none') {
        if (route.reason === 'no-eligible-device') throw new HubMeshError('HUB_NO_ELIGIBLE_DEVICE', `no online device can run ${connectorId} (see \`fcp device ls\` and its placement needs)`);
        lastError = new HubMeshError('HUB_CONNECTOR_UNAVAILABLE', `${connectorId} is not running on any device now (starting, failing over, or failed)`);
        continue;
      }
      if (route.kind === 'local') {
        this.deps.log.info({ traceId: ctx.traceId, connector: connectorId, op, caller: ctx.caller }, 'invoke here');
        try {
          return await this.deps.local(connectorId, op, input, ctx);
        } catch (err) {
          if ((err as HubMeshError).code !== 'HUB_NOT_HOLDER') throw err;
          lastError = err as Error;
          continue;
        }
      }
      this.deps.log.info({ traceId: ctx.traceId, connector: connectorId, op, to: route.hostName }, 'invoke routed');
      try {
        const reply = await this.deps.call(
          route.stableId,
          { t: 'invoke', connector: connectorId, op, input: text, deadlineMs: Math.min(3_600_000, Math.ceil(left)), traceId: ctx.traceId, ...(ctx.idempotencyKey !== undefined ? { idempotencyKey: ctx.idempotencyKey } : {}), ...(ctx.credential?.proof ? { token: ctx.credential.token, proofTime: ctx.credential.proof.time, proofSig: ctx.credential.proof.signature } : {}), ...(ctx.relayedFor ? { publicZone: ctx.relayedFor.zone.id, publicVia: ctx.relayedFor.via } : {}) },
          left,
        );
        if (reply.t !== 'invoke_result') throw new MeshError('MESH_PEER_ERROR', `peer answered ${reply.t} to an invoke`);
        return JSON.parse(reply.output) as unknown;
      } catch (err) {
        const e = remoteError(err);
        // The holder moved on (it refuses before calling its host: safe to ask again), or went
        // away; a connection lost mid-call may have run the operation, so only a call without an
        // idempotency key (a safe operation) is sent again then.
        const gone = (e as MeshError).code === 'MESH_UNAVAILABLE' && !(err instanceof MeshError && err.details?.peerCode) && ctx.idempotencyKey === undefined;
        if ((e as HubMeshError).code === 'HUB_NOT_HOLDER' || gone) {
          lastError = e;
          continue;
        }
        throw e;
      }
    }
    if (lastError && (lastError as HubMeshError).code !== 'HUB_NOT_HOLDER') throw lastError;
    throw new HubMeshError('HUB_DEADLINE_TIMEOUT', `the deadline of ${connectorId}.${op} passed before it could run (${lastError?.message ?? 'no device answered'})`);
  }
}
