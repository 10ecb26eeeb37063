// The joining side of `fcp join`: from this device's tailnet address, present the one-time code
// to a member's FCP server; it answers with the keys of the zones our tags allow, each sealed
// to our X25519 key and bound to our node id.
import net from 'node:net';
import { join } from 'node:path';
import { openSealed, parseZoneKey, type ZoneKey } from '../crypto/index.js';
import type { LocalApiClient } from '../tailscale/index.js';
import { isIP } from 'node:net';
import { peersFromStatus, selfFromStatus } from '../tailscale/index.js';
import { DEFAULT_PORT } from '../wire/index.js';
import type { ZoneRegistry } from '../zones/index.js';
import { MeshError } from './errors.js';
import { call } from './peer-call.js';
import { Keyring } from './keyring.js';
import { recordOwnFormerKeys, SIGNER_KEYS_FILE } from './signer-keys.js';
import { RpcConnection } from './rpc.js';

/** Associated data binding sealed zone keys to the device they were sealed for. */
export function joinAad(stableId: string): Uint8Array {
  return new TextEncoder().encode(`fcp-join:${stableId}`);
}

export interface JoinResult {
  peer: string;
  zones: string[];
}

export async function requestJoin(opts: { dataDir: string; client: LocalApiClient; peer: string; code: string; port?: number }): Promise<JoinResult> {
  const keyring = await Keyring.load(opts.dataDir);
  const status = await opts.client.status();
  const self = selfFromStatus(status);
  const selfAddress = self.tailscaleIps.find((ip) => !ip.includes(':'));
  if (!selfAddress) throw new MeshError('MESH_JOIN_FAILED', 'this device has no Tailscale IPv4 address');
  const peer = isIP(opts.peer)
    ? opts.peer
    : peersFromStatus(status).find((p) => p.hostName === opts.peer || p.dnsName.replace(/\.$/, '') === opts.peer || p.dnsName.startsWith(`${opts.peer}.`))?.tailscaleIps[0];
  if (!peer) throw new MeshError('MESH_JOIN_FAILED', `no tailnet peer named ${opts.peer}`);
  const port = opts.port ?? DEFAULT_PORT;
  const socket = net.connect({ host: peer, port, localAddress: selfAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) => reject(new MeshError('MESH_JOIN_FAILED', `cannot reach ${peer}:${port}: ${err.message}`)));
  });
  const conn = new RpcConnection(socket);
  try {
    const reply = await call(conn, { t: 'join', code: opts.code, boxPublicKey: keyring.node.encryptionPublicKey }, 'join_result');
    // Per zone: the newest epoch becomes current; earlier ones still kept by the member (while
    // re-sealing after a rotation runs) are kept here too, so symbols not yet re-sealed read.
    const byZone = new Map<string, ZoneKey[]>();
    for (const sealed of reply.keys) {
      const zk = parseZoneKey(openSealed(keyring.node.encryptionSecretKey, sealed, joinAad(self.stableId)));
      byZone.set(zk.zoneId, [...(byZone.get(zk.zoneId) ?? []), zk]);
    }
    for (const keys of byZone.values()) {
      keys.sort((a, b) => b.epoch - a.epoch);
      await keyring.saveZoneKey(keys[0]!, { force: true });
      for (const older of keys.slice(1)) await keyring.keepOlder(older);
    }
    // A reset device: the keys it had, as the member knew them, become its own former keys.
    if (reply.formerKeys && reply.formerKeys.length > 0) recordOwnFormerKeys(join(opts.dataDir, SIGNER_KEYS_FILE), self.stableId, reply.formerKeys, keyring.node.signingPublicKey);
    return { peer, zones: [...byZone.keys()] };
  } catch (err) {
    if (err instanceof MeshError && err.code === 'MESH_JOIN_FAILED') throw err;
    throw new MeshError('MESH_JOIN_FAILED', `join refused by ${peer}: ${(err as Error).message}`);
  } finally {
    conn.close();
  }
}

/**
 * Online peers sharing a zone with this device that run fcpd (they answer `info` on the FCP
 * port). `fcp init --first` refuses when there are any: a second first device would make
 * other zone keys, and its symbols could never be read by the rest of the mesh.
 */
export async function findMembers(opts: { client: LocalApiClient; zones: ZoneRegistry; port?: number; timeoutMs?: number }): Promise<Array<{ hostName: string; zones: string[] }>> {
  const status = await opts.client.status();
  const self = selfFromStatus(status);
  const selfAddress = self.tailscaleIps.find((ip) => !ip.includes(':'));
  if (!selfAddress) return [];
  const mine = new Set(opts.zones.zonesForTags(self.tags).map((z) => z.id));
  const port = opts.port ?? DEFAULT_PORT;
  const candidates = peersFromStatus(status).filter((p) => p.online && p.tailscaleIps.length > 0 && opts.zones.zonesForTags(p.tags).some((z) => mine.has(z.id)));
  const answers = await Promise.all(
    candidates.map(async (p) => {
      const socket = net.connect({ host: p.tailscaleIps.find((ip) => !ip.includes(':')) ?? p.tailscaleIps[0]!, port, localAddress: selfAddress });
      socket.on('error', () => undefined);
      const connected = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), opts.timeoutMs ?? 1500);
        socket.once('connect', () => (clearTimeout(t), resolve(true)));
        socket.once('error', () => (clearTimeout(t), resolve(false)));
      });
      if (!connected) {
        socket.destroy();
        return null;
      }
      const conn = new RpcConnection(socket);
      try {
        await call(conn, { t: 'info' }, 'info_result', opts.timeoutMs ?? 1500);
        return { hostName: p.hostName, zones: opts.zones.zonesForTags(p.tags).map((z) => z.id) };
      } catch {
        return null;
      } finally {
        conn.close();
      }
    }),
  );
  return answers.filter((a): a is { hostName: string; zones: string[] } => a !== null);
}
