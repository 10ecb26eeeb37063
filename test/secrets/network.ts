// In-process network for the secrets tests: several devices, each with a real ShareHolder,
// real X25519 keys and real CBOR bodies. Only the network hop is replaced by a function call;
// every body is copied across it so no memory is shared between "devices".
import {
  Secrets,
  ShareHolder,
  exactZoneRule,
  generateBoxKeyPair,
  type SecretsAuditEvent,
  type SecretsPeer,
  type SecretsTransport,
} from '../../src/secrets/index.js';

export interface TestDevice {
  nodeId: string;
  name: string;
  zones: string[];
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  holder: ShareHolder;
  online: boolean;
  secrets: Secrets;
  transport: SecretsTransport;
  /** Events this device's Secrets and ShareHolder audited. */
  audit: SecretsAuditEvent[];
}

/** Rewrites a request body on its way to a device (to simulate tampering or corruption). */
export type RequestHook = (target: TestDevice, body: Uint8Array) => Uint8Array;

export class TestNetwork {
  readonly devices: TestDevice[] = [];
  private hooks = new Map<string, RequestHook>();

  add(name: string, zones: string[]): TestDevice {
    const keys = generateBoxKeyPair();
    const nodeId = `node-${name}`;
    const device = {
      nodeId,
      name,
      zones,
      publicKey: keys.publicKey,
      secretKey: keys.secretKey,
      online: true,
      audit: [] as SecretsAuditEvent[],
    } as TestDevice;
    device.holder = this.newHolder(device);
    device.transport = this.transportFor(device);
    device.secrets = new Secrets(device.transport, device.holder);
    this.devices.push(device);
    return device;
  }

  get(name: string): TestDevice {
    const d = this.devices.find((x) => x.name === name);
    if (!d) throw new Error(`no device ${name}`);
    return d;
  }

  /** The device lost its memory: a fresh, empty holder (and a fresh Secrets front). */
  restart(name: string): TestDevice {
    const d = this.get(name);
    d.holder.wipe();
    d.holder = this.newHolder(d);
    d.secrets = new Secrets(d.transport, d.holder);
    d.online = true;
    return d;
  }

  setOnline(name: string, online: boolean): void {
    this.get(name).online = online;
  }

  hookRequestsTo(name: string, hook: RequestHook | null): void {
    if (hook) this.hooks.set(name, hook);
    else this.hooks.delete(name);
  }

  peerView(d: TestDevice, viewer: TestDevice): SecretsPeer {
    return { nodeId: d.nodeId, name: d.name, zones: [...d.zones], boxPublicKey: d.publicKey, self: d === viewer };
  }

  private newHolder(d: TestDevice): ShareHolder {
    return new ShareHolder({
      self: { nodeId: d.nodeId, name: d.name, zones: d.zones, boxPublicKey: d.publicKey, self: true },
      boxSecretKey: d.secretKey,
      audit: (e) => d.audit.push(e),
    });
  }

  private transportFor(d: TestDevice): SecretsTransport {
    const net = this;
    return {
      self: { nodeId: d.nodeId, name: d.name, zones: d.zones, boxPublicKey: d.publicKey, self: true },
      boxSecretKey: d.secretKey,
      async eligiblePeers(zone: string) {
        return net.devices.filter((x) => x.online && exactZoneRule(x.zones, zone)).map((x) => net.peerView(x, d));
      },
      async onlinePeers() {
        return net.devices.filter((x) => x.online).map((x) => net.peerView(x, d));
      },
      async request(peer: SecretsPeer, body: Uint8Array) {
        const target = net.devices.find((x) => x.nodeId === peer.nodeId);
        if (!target || !target.online) throw new Error(`connect ECONNREFUSED ${peer.nodeId}`);
        const hook = net.hooks.get(target.name);
        const wire = hook ? hook(target, body.slice()) : body.slice();
        const reply = await target.holder.handle({ nodeId: d.nodeId, zones: [...d.zones] }, wire);
        return reply.slice();
      },
      audit(event: SecretsAuditEvent) {
        d.audit.push(event);
      },
    };
  }
}

/** Count requests each holder receives by op, through its audit trail. */
export function countHolderOps(d: TestDevice, op: string): number {
  return d.audit.filter((e) => e.op === `holder.${op}`).length;
}

/** Devices named a..e (or as given), all in `zone`. */
export function meshOf(names: string[], zones: string[] = ['z:owner']): TestNetwork {
  const net = new TestNetwork();
  for (const n of names) net.add(n, zones);
  return net;
}
