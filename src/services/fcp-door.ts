// The FCP front door: turns the authenticated connection's caller into a device principal (its
// path read now, per request) and hands each typed request to the peer or secrets service.
import type { DevicePrincipal } from '../authz/index.js';
import type { Handle, MeshNode, Outgoing, RequestContext } from '../mesh/index.js';
import { devicePrincipal } from './device-principal.js';
import { MeshError } from '../mesh/index.js';
import type { Message } from '../wire/index.js';
export { devicePrincipal } from './device-principal.js';
import type { LifecycleService } from './lifecycle-service.js';
import type { PeerService } from './peer-service.js';
import type { SecretService } from './secret-service.js';
import type { AuditService } from './audit-service.js';


/** Requests of another layer's peer door (the hub's); null when the type is not its own. */
export type ExtraDoor = (p: DevicePrincipal, msg: Message) => Promise<Outgoing | null>;

export function createFcpDoor(node: Pick<MeshNode, 'directory' | 'zones'>, peers: PeerService, secrets: SecretService | null, extra?: ExtraDoor, lifecycle?: LifecycleService, audit?: AuditService): Handle {
  return async (ctx: RequestContext, msg: Message): Promise<Outgoing> => {
    const p = devicePrincipal(node, ctx.caller);
    switch (msg.t) {
      case 'store':
        await peers.storeSymbols(p, msg.objectId, msg.zone, msg.symbols);
        return { t: 'ok' };
      case 'manifest_put':
        await peers.putManifest(p, msg.manifest);
        return { t: 'ok' };
      case 'manifest_get':
        return { t: 'manifest', manifest: peers.getManifest(p, msg.objectId) };
      case 'fetch': {
        const count = await peers.fetch(p, msg.objectId, msg.zone, msg.want, msg.max, { signal: ctx.signal, send: (symbols) => ctx.send({ t: 'symbols', symbols }), maxWantPositions: ctx.limits.maxWantPositions });
        return { t: 'fetch_end', count };
      }
      case 'have':
        return { t: 'have_result', keys: peers.have(p, msg.objectId) };
      case 'delete':
        await peers.erase(p, msg.objectId);
        return { t: 'ok' };
      case 'drop':
        await peers.drop(p, msg.objectId, msg.keys);
        return { t: 'ok' };
      case 'list':
        return { t: 'list_result', manifests: peers.list(p, msg.zone) };
      case 'summary_digest':
        return { t: 'summary_digest_result', digests: peers.summaryDigests(p, msg.zones) };
      case 'summary': {
        const page = peers.summaryPage(p, msg.zone, msg.buckets, msg.after, msg.limit);
        return { t: 'summary_page', entries: page.entries, ...(page.next ? { next: page.next } : {}) };
      }
      case 'info':
        return { t: 'info_result', ...peers.info(p) };
      case 'join':
        return { t: 'join_result', ...peers.join(p, msg.code, msg.boxPublicKey) };
      case 'ref_put':
        await peers.putRef(p, msg.ref);
        return { t: 'ok' };
      case 'ref_list':
        return { t: 'ref_list_result', refs: peers.listRefs(p, msg.zone) };
      case 'tomb_put':
        await peers.putTombstones(p, msg.tombstones);
        return { t: 'ok' };
      case 'tomb_list':
        return { t: 'tomb_list_result', tombstones: peers.listTombstones(p, msg.zone) };
      case 'removed_put':
        if (!lifecycle) break;
        await lifecycle.putRemovals(p, msg.removed);
        return { t: 'ok' };
      case 'removed_list':
        if (!lifecycle) break;
        return { t: 'removed_list_result', removed: lifecycle.listRemovals(p) };
      case 'zone_key_put':
        if (!lifecycle) break;
        await lifecycle.putZoneKeys(p, msg.keys);
        return { t: 'ok' };
      case 'zone_key_get':
        if (!lifecycle) break;
        return { t: 'zone_key_result', ...lifecycle.getZoneKey(p, msg.zone, msg.epoch, msg.boxPublicKey, msg.proof) };
      case 'audit_cosign':
        if (!audit) break;
        return { t: 'audit_cosign_result', ...audit.cosign(p, msg) };
      case 'audit_checkpoints':
        if (!audit) break;
        return { t: 'audit_checkpoints_result', witness: audit.witnessKeyText, views: audit.checkpoints(p, msg.zones) };
      case 'secret':
        if (!secrets) break;
        return { t: 'secret_result', body: await secrets.share(p, msg.body) };
      default: {
        const reply = await extra?.(p, msg);
        if (reply) return reply;
        break;
      }
    }
    throw new MeshError('MESH_REFUSED', `message type ${msg.t} is not a request this daemon serves`);
  };
}
