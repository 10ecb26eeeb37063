// The joining side of `fcp join`: from this device's tailnet address, present the one-time code
// to a member's FCP server; it answers with the keys of the zones our tags allow, each sealed
// to our X25519 key and bound to our node id.
import net from 'node:net';
import { openSealed, parseZoneKey } from '../crypto/index.js';
import type { LocalApiClient } from '../tailscale/index.js';
import { isIP } from 'node:net';
import { peersFromStatus, selfFromStatus } from '../tailscale/index.js';
import { MeshError } from './errors.js';
import { Keyring } from './keyring.js';
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
  const port = opts.port ?? 9473;
  const socket = net.connect({ host: peer, port, localAddress: selfAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', (err) => reject(new MeshError('MESH_JOIN_FAILED', `cannot reach ${peer}:${port}: ${err.message}`)));
  });
  const conn = new RpcConnection(socket);
  try {
    const reply = (await conn.request({ t: 'join', code: opts.code, boxPublicKey: keyring.node.encryptionPublicKey })) as unknown as { keys: Uint8Array[] };
    const zones: string[] = [];
    for (const sealed of reply.keys) {
      const zk = parseZoneKey(openSealed(keyring.node.encryptionSecretKey, sealed, joinAad(self.stableId)));
      await keyring.saveZoneKey(zk, { force: true });
      zones.push(zk.zoneId);
    }
    return { peer, zones };
  } catch (err) {
    if (err instanceof MeshError && err.code === 'MESH_JOIN_FAILED') throw err;
    throw new MeshError('MESH_JOIN_FAILED', `join refused by ${peer}: ${(err as Error).message}`);
  } finally {
    conn.close();
  }
}
