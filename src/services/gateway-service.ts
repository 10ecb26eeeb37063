// The public gateway for a principal: what a public caller may list and invoke (the hub decides,
// through authorize(), from the manifests' exposure), the community keys, and tailscaled's
// serve config that publishes the gateway through Funnel. Every method authorizes first.
import { NODE, describePrincipal, type Authorizer, type Principal, type PublicPrincipal } from '../authz/index.js';
import type { AuditSink } from '../audit/index.js';
import { FcpError } from '../errors/index.js';
import type { CommunityKeys, CommunityKeyInfo } from '../gateway/community-keys.js';
import { FUNNEL_PORTS, endpointState, withEndpoint, withoutEndpoint, type JsonObject, type JsonValue } from '../tailscale/index.js';
import type { Zone, ZoneRegistry } from '../zones/index.js';
import type { ConnectorInfo, HubService, InvokeOptions } from './hub-service.js';

export class GatewayServiceError extends FcpError {}

/** What the service needs of tailscaled (the LocalAPI client). */
export interface ServeConfigApi {
  getServeConfig(): Promise<{ config: JsonObject | null; etag: string }>;
  setServeConfig(config: JsonObject, etag: string): Promise<void>;
}

export interface GatewayServiceDeps {
  authz: Authorizer;
  hub: Pick<HubService, 'callable' | 'invoke'>;
  zones: ZoneRegistry;
  keys: CommunityKeys;
  tailscale: ServeConfigApi;
  /** This device's MagicDNS name and node capabilities (Self in a fresh status). */
  self: () => Promise<SelfNode>;
  audit?: AuditSink;
}

export interface FunnelStatus {
  /** The gateway's loopback URL, null when fcpd does not serve it. */
  gateway: string | null;
  /** Whether this node may use Funnel (the `funnel` node attribute of the tailnet policy). */
  available: boolean;
  /** Ports where Funnel proxies to this gateway, each with its public URL. */
  endpoints: Array<{ port: number; url: string; funnel: boolean }>;
}

export interface SelfNode {
  dnsName: string;
  capMap: Record<string, JsonValue[]>;
}

/** The node attribute Funnel needs (tailcfg.NodeAttrFunnel). */
const FUNNEL_ATTR = 'funnel';

export class GatewayService {
  private url: string | null = null;

  constructor(private readonly d: GatewayServiceDeps) {}

  /** The front door tells where it listens (null once it stops). */
  served(url: string | null): void {
    this.url = url;
  }

  /** The zone a public caller gets: z:community with a key or from the tailnet, else z:public. */
  callerZone(community: boolean): Zone {
    return this.d.zones.get(community ? 'z:community' : 'z:public');
  }

  /** The id of the live community key presented, or null. Identification, not a decision: authorize() decides what the caller may do. */
  identifyKey(presented: string): Promise<string | null> {
    return this.d.keys.identify(presented);
  }

  operations(p: PublicPrincipal): ConnectorInfo[] {
    return this.d.hub.callable(p);
  }

  invoke(p: PublicPrincipal, connector: string, operation: string, input: unknown, opts: InvokeOptions): Promise<unknown> {
    return this.d.hub.invoke(p, connector, operation, input, opts);
  }

  async addKey(p: Principal, name: string): Promise<{ key: string; info: CommunityKeyInfo }> {
    this.d.authz.authorize(p, 'funnel.key-add', NODE);
    const made = await this.d.keys.add(name);
    this.d.audit?.({ kind: 'gateway.key-add', zone: 'device', principal: describePrincipal(p), subject: made.info.id, detail: { name } });
    return made;
  }

  async listKeys(p: Principal): Promise<CommunityKeyInfo[]> {
    this.d.authz.authorize(p, 'funnel.key-list', NODE);
    return this.d.keys.list();
  }

  async revokeKey(p: Principal, which: string): Promise<CommunityKeyInfo> {
    this.d.authz.authorize(p, 'funnel.key-revoke', NODE);
    const info = await this.d.keys.revoke(which);
    this.d.audit?.({ kind: 'gateway.key-revoke', zone: 'device', principal: describePrincipal(p), subject: info.id });
    return info;
  }

  async funnelStatus(p: Principal): Promise<FunnelStatus> {
    this.d.authz.authorize(p, 'funnel.status', NODE);
    const self = await this.d.self();
    return this.status(self, (await this.d.tailscale.getServeConfig()).config);
  }

  /** Publishes the gateway through Funnel on `port` (on), or takes back what was published (off). */
  async setFunnel(p: Principal, on: boolean, port = 443): Promise<FunnelStatus> {
    this.d.authz.authorize(p, 'funnel.set', NODE);
    if (!FUNNEL_PORTS.includes(port)) throw new GatewayServiceError('FUNNEL_BAD_PORT', `Funnel listens on ports ${FUNNEL_PORTS.join(', ')} only, not ${port}`);
    const url = this.url;
    if (on && !url) throw new GatewayServiceError('FUNNEL_NO_GATEWAY', 'fcpd does not serve the gateway (gatewayPort is off in its config); turn it on and restart fcpd');
    const self = await this.d.self();
    if (on && !available(self)) {
      // tailscaled would refuse the config with this; saying it first names the fix.
      throw new GatewayServiceError('FUNNEL_NOT_AVAILABLE', 'Funnel is not available to this device: the tailnet policy must give it the "funnel" node attribute (nodeAttrs in the policy file; fcp policy generate grants it to the gateway tag when funnel.enabled is set in the zones file). See https://tailscale.com/s/no-funnel');
    }
    const host = hostOf(self);
    // Read, edit, write back with If-Match: a concurrent `tailscale serve` is never overwritten.
    const { config, etag } = await this.d.tailscale.getServeConfig();
    let next: JsonObject;
    if (on) next = withEndpoint(config, { host, port, proxy: url!, funnel: true });
    else {
      // Funnel closes on that port whoever opened it; the "/" handler goes only if it is this gateway's.
      next = withoutEndpoint(config, host, port, url ?? '');
      if (JSON.stringify(next) === JSON.stringify(config ?? {})) return this.status(self, config);
    }
    await this.d.tailscale.setServeConfig(next, etag);
    this.d.audit?.({ kind: on ? 'gateway.funnel-on' : 'gateway.funnel-off', zone: 'device', principal: describePrincipal(p), subject: `${host}:${port}` });
    return this.status(self, next);
  }

  private status(self: SelfNode, config: JsonObject | null): FunnelStatus {
    const url = this.url;
    const name = self.dnsName.replace(/\.$/, '');
    const endpoints: FunnelStatus['endpoints'] = [];
    if (name && url) {
      for (const port of FUNNEL_PORTS) {
        const s = endpointState(config, name, port);
        if (s.proxy === url) endpoints.push({ port, url: `https://${name}${port === 443 ? '' : `:${port}`}/`, funnel: s.funnel });
      }
    }
    return { gateway: url, available: available(self), endpoints };
  }
}

function hostOf(self: SelfNode): string {
  const name = self.dnsName.replace(/\.$/, '');
  if (!name) throw new GatewayServiceError('FUNNEL_NO_DNS_NAME', 'this device has no MagicDNS name yet (is tailscaled logged in, with MagicDNS on?)');
  return name;
}

function available(self: SelfNode): boolean {
  return Object.hasOwn(self.capMap, FUNNEL_ATTR);
}
