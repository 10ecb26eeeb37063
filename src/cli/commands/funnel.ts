// fcp funnel on|off|status and fcp funnel key add|ls|revoke: the public gateway as Funnel
// publishes it, and the community keys its callers may present.
import type { Command } from 'commander';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient } from '../../daemon/control-client.js';

function control(cmd: Command): ControlClient {
  return new ControlClient(resolveConfig(cmd.optsWithGlobals() as ConfigFlags).controlSocket);
}

interface FunnelStatus {
  gateway: string | null;
  available: boolean;
  endpoints: Array<{ port: number; url: string; funnel: boolean }>;
}

interface KeyInfo {
  id: string;
  name: string;
  created: string;
  revoked?: string;
}

function post<T>(client: ControlClient, path: string, body: unknown): Promise<T> {
  const data = Buffer.from(JSON.stringify(body));
  return client.json<T>(path, { method: 'POST', body: data, contentLength: data.length });
}

function describe(s: FunnelStatus): string {
  if (!s.gateway) return 'gateway: off (set gatewayPort in config.json or FCP_GATEWAY_PORT, then restart fcpd)\n';
  const lines = [`gateway: ${s.gateway}`, `funnel attribute: ${s.available ? 'granted' : 'missing (the tailnet policy needs nodeAttrs "funnel" for this device)'}`];
  const open = s.endpoints.filter((e) => e.funnel);
  if (open.length === 0) lines.push('funnel: off');
  for (const e of open) lines.push(`funnel: on at ${e.url} (port ${e.port})`);
  return lines.join('\n') + '\n';
}

const port = (v: string): number => Number(v);

export function registerFunnelCommands(program: Command): void {
  const funnel = program
    .command('funnel')
    .description("the public gateway through Tailscale Funnel: only operations manifests expose (exposure = public or community) are callable\n\nexample: fcp funnel on\n         fcp funnel key add alice      # a community key for alice, shown once\n         curl -H 'X-FCP-API-Key: fcpk_…' https://laptop.example.ts.net/v1/operations");
  const switches = [
    ['on', "publish this device's gateway to the internet (tailscaled's serve config, If-Match so nothing else is overwritten)", 'the public HTTPS port: 443, 8443 or 10000'],
    ['off', "close Funnel on the port and remove the gateway's handler (nobody else's)", 'the public HTTPS port it was on'],
  ] as const;
  for (const [name, description, portHelp] of switches) {
    funnel
      .command(name)
      .description(description)
      .option('--port <n>', portHelp, port, 443)
      .option('--json', 'print JSON')
      .action(async (o: { port: number; json?: boolean }, cmd: Command) => {
        const s = await post<FunnelStatus>(control(cmd), '/v1/funnel', { on: name === 'on', port: o.port });
        process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : describe(s));
      });
  }
  funnel
    .command('status')
    .description('whether the gateway is served, allowed Funnel, and published')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const s = await control(cmd).json<FunnelStatus>('/v1/funnel');
      process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : describe(s));
    });
  const key = funnel.command('key').description('community keys (X-FCP-API-Key): callers with one are z:community, not z:public');
  key
    .command('add <name>')
    .description('make a key for NAME; it is printed once and only its hash is kept')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }, cmd: Command) => {
      const made = await post<{ key: string; info: KeyInfo }>(control(cmd), '/v1/funnel/keys', { name });
      if (o.json) return void process.stdout.write(`${JSON.stringify(made)}\n`);
      process.stdout.write(`community key ${made.info.id} for ${made.info.name} (shown once; send it as X-FCP-API-Key):\n${made.key}\n`);
    });
  key
    .command('ls')
    .description('the community keys made on this device')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const all = await control(cmd).json<KeyInfo[]>('/v1/funnel/keys');
      if (o.json) return void process.stdout.write(`${JSON.stringify(all)}\n`);
      if (all.length === 0) return void process.stdout.write('no community keys (make one with fcp funnel key add NAME)\n');
      for (const k of all) process.stdout.write(`${k.id}  ${k.name.padEnd(16)} made ${k.created}${k.revoked ? `  revoked ${k.revoked}` : ''}\n`);
    });
  key
    .command('revoke <key>')
    .description('revoke a key by its id or name; its holder is refused from the next request on')
    .option('--json', 'print JSON')
    .action(async (which: string, o: { json?: boolean }, cmd: Command) => {
      const info = await post<KeyInfo>(control(cmd), '/v1/funnel/keys/revoke', { key: which });
      process.stdout.write(o.json ? `${JSON.stringify(info)}\n` : `revoked community key ${info.id} (${info.name})\n`);
    });
}
