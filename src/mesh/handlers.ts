// Answers the requests peers send to this device's FCP server, after the server has mapped
// the connection to a tailnet node (whois). Every request is checked by the ZoneGuard.
import { envelopeHeader, objectIdToHex, sealTo, serializeZoneKey, type Manifest, type SymbolEntry } from '../crypto/index.js';
import { mayHold } from '../zones/index.js';
import type { Message } from '../wire/index.js';
import { MeshError } from './errors.js';
import type { ZoneGuard } from './guard.js';
import { joinAad } from './join.js';
import type { MeshNode } from './node.js';
import type { Outgoing } from './rpc.js';
import type { Caller, RequestContext } from './server.js';
import { normaliseWant } from './want-list.js';
import { symbolBatches } from './fetch-reader.js';

/** Symbols per `symbols` frame are capped by bytes so frames stay well under the frame limit. */
export const BATCH_BYTES = 512 * 1024;

export class RequestHandlers {
  constructor(
    private readonly node: MeshNode,
    private readonly guard: ZoneGuard,
  ) {}

  async authenticate(ip: string, port: number): Promise<Caller> {
    const who = await this.node.client.whois(`${ip}:${port}`);
    if (!who) {
      this.node.metrics.refusals.inc({ reason: 'not-in-tailnet' });
      throw new MeshError('MESH_REFUSED', `${ip} is not a node of this tailnet`);
    }
    const tags = who.node.tags;
    const zoneIds = this.node.zones.zonesForTags(tags).map((z) => z.id);
    if (zoneIds.length === 0) {
      this.node.metrics.refusals.inc({ reason: 'no-zone' });
      throw new MeshError('MESH_REFUSED', `${who.node.hostName} has no fcp zone tag (tags: ${tags.join(', ') || 'none'})`);
    }
    return { stableId: who.node.stableId, hostName: who.node.hostName, address: ip, tags, zoneIds };
  }

  async handle(ctx: RequestContext, msg: Message): Promise<Outgoing> {
    const m = msg as unknown as Record<string, unknown>;
    switch (msg.t) {
      case 'store': {
        const zone = this.guard.zone(m.zone as string);
        this.guard.checkSelfHolds(zone);
        this.guard.checkWriter(ctx.caller, zone);
        const objectId = m.objectId as Uint8Array;
        const symbols = m.symbols as SymbolEntry[];
        for (const s of symbols) {
          const head = envelopeHeader(s.env);
          if (head.sbn !== s.sbn || head.esi !== s.esi) throw new MeshError('MESH_REFUSED', `symbol labelled (${s.sbn}, ${s.esi}) carries an envelope for (${head.sbn}, ${head.esi})`);
        }
        await this.node.store.putSymbols(objectId, symbols);
        this.node.metrics.symbolsStored.inc(symbols.length);
        this.node.metrics.bytesStored.inc(symbols.reduce((a, s) => a + s.env.length, 0));
        return { t: 'ok' };
      }
      case 'manifest_put': {
        const manifest = m.manifest as Manifest;
        const zone = this.guard.zone(manifest.zone);
        this.guard.checkSelfHolds(zone);
        this.guard.checkWriter(ctx.caller, zone);
        await this.node.store.putManifest(manifest);
        return { t: 'ok' };
      }
      case 'manifest_get': {
        const manifest = this.node.store.getManifest(m.objectId as Uint8Array);
        if (!manifest) throw new MeshError('MESH_NOT_FOUND', `no manifest for ${objectIdToHex(m.objectId as Uint8Array)} on ${this.node.self.hostName}`);
        this.guard.checkCaller(ctx.caller, this.guard.zone(manifest.zone), 'read');
        return { t: 'manifest', manifest };
      }
      case 'fetch':
        return this.serveFetch(ctx, m);
      case 'have': {
        // Only complete objects (a manifest here) are read, and only by callers of their zone.
        const objectId = m.objectId as Uint8Array;
        const manifest = this.node.store.getManifest(objectId);
        if (!manifest) return { t: 'have_result', keys: [] };
        this.guard.checkCaller(ctx.caller, this.guard.zone(manifest.zone), 'read');
        return { t: 'have_result', keys: this.node.store.symbolKeys(objectId) };
      }
      case 'delete': {
        const objectId = m.objectId as Uint8Array;
        const manifest = this.node.store.getManifest(objectId);
        if (manifest) this.guard.checkWriter(ctx.caller, this.guard.zone(manifest.zone));
        await this.node.store.deleteObject(objectId);
        return { t: 'ok' };
      }
      case 'drop': {
        const objectId = m.objectId as Uint8Array;
        const manifest = this.node.store.getManifest(objectId);
        if (!manifest) throw new MeshError('MESH_NOT_FOUND', 'no manifest for that object here');
        this.guard.checkWriter(ctx.caller, this.guard.zone(manifest.zone));
        await this.node.store.deleteSymbols(objectId, m.keys as Array<[number, number]>);
        return { t: 'ok' };
      }
      case 'list': {
        const callerZones = this.guard.zonesOf(ctx.caller.zoneIds);
        const manifests = this.node.store.listManifests(m.zone as string | undefined).filter((mf) => this.node.zones.has(mf.zone) && mayHold(callerZones, this.node.zones.get(mf.zone)));
        return { t: 'list_result', manifests };
      }
      case 'info': {
        const u = this.node.store.usage();
        return {
          t: 'info_result',
          usedBytes: u.bytes,
          freeBytes: u.quotaBytes === null ? Number.MAX_SAFE_INTEGER : Math.max(0, u.quotaBytes - u.bytes),
          boxPublicKey: this.node.keyring.node.encryptionPublicKey,
        };
      }
      case 'join':
        return this.serveJoin(ctx, m);
      default: {
        const extra = this.node.extraHandlers.get(msg.t);
        if (extra) return extra(ctx, msg);
        throw new MeshError('MESH_REFUSED', `message type ${msg.t} is not a request this daemon serves`);
      }
    }
  }

  private async serveFetch(ctx: RequestContext, m: Record<string, unknown>): Promise<Outgoing> {
    const zone = this.guard.zone(m.zone as string);
    this.guard.checkCaller(ctx.caller, zone, 'read');
    const objectId = m.objectId as Uint8Array;
    const manifest = this.node.store.getManifest(objectId);
    if (!manifest) throw new MeshError('MESH_NOT_FOUND', `no complete object ${objectIdToHex(objectId)} on ${this.node.self.hostName}`);
    if (manifest.zone !== zone.id) throw new MeshError('MESH_REFUSED', `object is not in ${zone.id}`);
    const want = normaliseWant(m.want, manifest, ctx.limits);
    // The store answers in (SBN, ESI) order, or in the order of the want list (which readers send
    // ascending): source symbols go first, so a reader with all K of them decodes without solving.
    let sent = 0;
    for await (const batch of symbolBatches(this.node.store, manifest, want, m.max as number | undefined, BATCH_BYTES)) {
      if (ctx.signal.aborted) break;
      await ctx.send({ t: 'symbols', symbols: batch });
      this.node.metrics.symbolsServed.inc(batch.length);
      this.node.metrics.bytesServed.inc(batch.reduce((a, x) => a + x.env.length, 0));
      sent += batch.length;
    }
    return { t: 'fetch_end', count: sent };
  }

  private async serveJoin(ctx: RequestContext, m: Record<string, unknown>): Promise<Outgoing> {
    if (!this.node.invites.consume(m.code as string)) {
      this.node.metrics.refusals.inc({ reason: 'join' });
      throw new MeshError('MESH_REFUSED', 'the join code is unknown, already used or expired; run `fcp invite` on a member device for a new one');
    }
    const callerZones = this.guard.zonesOf(ctx.caller.zoneIds);
    const keys: Uint8Array[] = [];
    for (const id of this.node.keyring.zoneIds()) {
      if (!this.node.zones.has(id) || !mayHold(callerZones, this.node.zones.get(id))) continue;
      keys.push(sealTo(m.boxPublicKey as Uint8Array, serializeZoneKey(this.node.keyring.requireZoneKey(id)), joinAad(ctx.caller.stableId)));
    }
    this.node.log.info({ peer: ctx.caller.hostName, zones: keys.length }, 'device joined');
    return { t: 'join_result', keys };
  }
}
