// fcp hub install / ls / rm / bridge, fcp call CONNECTOR.OP, and fcp mcp (an MCP server on stdio
// whose tools are the connector operations the local fcpd offers).
import type { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient, ControlError } from '../../daemon/control-client.js';
import { parseManifestText, type ConnectorManifest } from '../../hub/manifest.js';
import { filesManifest, httpManifest, memoryManifest } from '../../hub/connectors/builtin.js';
import type { ToolSource } from '../../hub/mcp.js';
import { parseAgentToken, proveFor, type AgentToken } from '../../authz/index.js';
import type { ConnectorInfo } from '../../services/index.js';

function control(cmd: Command): ControlClient {
  return new ControlClient(resolveConfig(cmd.optsWithGlobals() as ConfigFlags).controlSocket);
}

function print(obj: unknown, asJson: boolean, human: () => string): void {
  process.stdout.write(asJson ? `${JSON.stringify(obj, null, 2)}\n` : `${human()}\n`);
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const usage = (msg: string) => new ControlError('HUB_USAGE', msg);

function install(cmd: Command, manifest: ConnectorManifest): Promise<ConnectorInfo> {
  const body = new TextEncoder().encode(JSON.stringify(manifest));
  return control(cmd).json<ConnectorInfo>('/v1/hub/connectors', { method: 'POST', body, contentLength: body.length });
}

function describeConnector(c: ConnectorInfo): string {
  const st = c.status ? `${c.status.state}${c.status.pid ? ` pid ${c.status.pid}` : ''}${c.status.restarts ? `, ${c.status.restarts} restarts` : ''}${c.status.lastError ? ` (${c.status.lastError})` : ''}` : 'elsewhere';
  return `${c.id.padEnd(14)} ${c.version.padEnd(8)} ${c.zone.padEnd(12)} ${c.device.padEnd(14)} ${st}\n${c.operations.map((o) => `    ${o.name} (${o.risk})${o.description ? `: ${o.description}` : ''}`).join('\n')}`;
}

/**
 * The control socket as the MCP server's tool source; with an agent's token, the tools it grants
 * and every call made with it (the proof is signed here, where the agent's key is).
 */
export function controlToolSource(client: ControlClient, agent?: AgentToken): ToolSource {
  const token = agent ? { 'x-fcp-token': Buffer.from(agent.token).toString('base64url') } : undefined;
  return {
    tools: () => client.json<ConnectorInfo[]>('/v1/hub/tools', token ? { headers: token } : {}),
    call: async (connector, operation, input, opts) => {
      const signed = agent ? proveFor(agent, `${connector}.${operation}`) : undefined;
      const body = new TextEncoder().encode(JSON.stringify({ connector, operation, input, ...opts, ...(signed ? { traceId: signed.traceId } : {}) }));
      const headers = signed ? { ...token, 'x-fcp-proof': `${signed.proof.time}.${Buffer.from(signed.proof.signature).toString('base64url')}` } : undefined;
      return (await client.json<{ result: unknown }>('/v1/hub/invoke', { method: 'POST', body, contentLength: body.length, ...(headers ? { headers } : {}) })).result;
    },
  };
}

export function registerHubCommands(program: Command): void {
  const hub = program.command('hub').description('connectors: programs on your devices whose operations assistants call');

  hub
    .command('install [manifest]')
    .description('install a connector from a manifest file (JSON or TOML), or a built-in one with --builtin')
    .option('--builtin <name>', 'files, memory or http')
    .option('--zone <zone>', 'home zone of a built-in connector')
    .option('--id <id>', 'connector id of a built-in (default: its name)')
    .option('--root <dir>', 'files: the root directory')
    .option('--allow <hosts...>', 'http: hosts it may reach (name, name:port, *.suffix)')
    .option('--egress-secret <name>', 'http: a secret the egress proxy adds (as a bearer token) for the allowed hosts')
    .option('--json', 'print JSON')
    .action(async (file: string | undefined, opts: { builtin?: string; zone?: string; id?: string; root?: string; allow?: string[]; egressSecret?: string; json?: boolean }, cmd: Command) => {
      let m: ConnectorManifest;
      if (file) {
        if (opts.builtin) throw usage('give a manifest file or --builtin, not both');
        const text = await readFile(file, 'utf8');
        m = parseManifestText(text, file.endsWith('.toml') ? 'toml' : file.endsWith('.json') ? 'json' : undefined).manifest;
      } else {
        if (!opts.builtin) throw usage('give a manifest file, or --builtin files|memory|http');
        if (!opts.zone) throw usage('a built-in connector needs --zone');
        const id = opts.id ? { id: opts.id } : {};
        if (opts.builtin === 'files') {
          if (!opts.root) throw usage('files needs --root <dir>');
          // The root is a directory of this device: the connector runs here, never elsewhere.
          const self = (await control(cmd).json<{ self: { hostName: string } }>('/v1/status')).self.hostName;
          m = filesManifest({ root: resolve(opts.root), zone: opts.zone, device: self, ...id });
        } else if (opts.builtin === 'memory') m = memoryManifest({ zone: opts.zone, ...id });
        else if (opts.builtin === 'http') {
          if (!opts.allow?.length) throw usage('http needs --allow <hosts...>');
          m = httpManifest({ zone: opts.zone, allow: opts.allow, ...id, ...(opts.egressSecret ? { secrets: [{ name: opts.egressSecret, deliver: 'egress' as const, hosts: opts.allow }] } : {}) });
        } else throw usage(`no built-in connector ${opts.builtin} (files, memory, http; for MCP servers use \`fcp hub bridge\`)`);
      }
      const info = await install(cmd, m);
      print(info, Boolean(opts.json), () => `installed ${describeConnector(info)}`);
    });

  hub
    .command('bridge <command> [args...]')
    .description('install an existing stdio MCP server as a connector: its tools become operations')
    .requiredOption('--id <id>', 'connector id')
    .requiredOption('--zone <zone>', 'home zone')
    .option('--env-secret <pairs...>', 'VAR=secret: an environment variable of the server whose value is a secret')
    .option('--json', 'print JSON')
    .action(async (command: string, args: string[], opts: { id: string; zone: string; envSecret?: string[]; json?: boolean }, cmd: Command) => {
      const envSecrets: Record<string, string> = {};
      for (const pair of opts.envSecret ?? []) {
        const i = pair.indexOf('=');
        if (i <= 0) throw usage(`--env-secret takes VAR=secret, got ${pair}`);
        envSecrets[pair.slice(0, i)] = pair.slice(i + 1);
      }
      // The MCP SDK is loaded only by the commands that speak MCP.
      const { bridgeManifest, discoverBridgeTools } = await import('../../hub/connectors/bridge-manifest.js');
      const tools = await discoverBridgeTools(command, args);
      const info = await install(cmd, bridgeManifest({ id: opts.id, zone: opts.zone, command, args, envSecrets, tools }));
      print(info, Boolean(opts.json), () => `installed ${describeConnector(info)}`);
    });

  hub
    .command('ls')
    .description('installed connectors, where they run and their state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await control(cmd).json<ConnectorInfo[]>('/v1/hub/connectors');
      print(list, Boolean(opts.json), () => (list.length ? list.map(describeConnector).join('\n') : 'no connectors installed'));
    });

  hub
    .command('move <id> <device>')
    .description('run a connector on DEVICE from now on (its manifest\'s placement.device); the device running it hands it over with its state\n\nexample: fcp hub move inbox server')
    .option('--json', 'print JSON')
    .action(async (id: string, device: string, opts: { json?: boolean }, cmd: Command) => {
      const body = Buffer.from(JSON.stringify({ device }));
      const r = await control(cmd).json<ConnectorInfo>(`/v1/hub/connectors/${encodeURIComponent(id)}/move`, { method: 'POST', body, contentLength: body.length });
      print(r, Boolean(opts.json), () => `${r.id} moves to ${device} (the device running it hands it over)`);
    });

  hub
    .command('rm <id>')
    .description('stop and remove a connector')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await control(cmd).json<{ id: string }>(`/v1/hub/connectors/${encodeURIComponent(id)}`, { method: 'DELETE' });
      print(r, Boolean(opts.json), () => `removed ${r.id}`);
    });

  program
    .command('call <target>')
    .description('invoke a connector operation: fcp call CONNECTOR.OP --input JSON')
    .option('--input <json>', 'the input, a JSON value', '{}')
    .option('--idempotency-key <key>', 'required for risky and dangerous operations; a retry with the same key does not act twice')
    .option('--timeout <ms>', 'deadline in milliseconds', '30000')
    .option('--trace-id <id>', 'trace id for the logs')
    .option('--json', 'print JSON')
    .action(async (target: string, opts: { input: string; idempotencyKey?: string; timeout: string; traceId?: string; json?: boolean }, cmd: Command) => {
      const dot = target.indexOf('.');
      if (dot <= 0 || dot === target.length - 1) throw usage(`name the operation as CONNECTOR.OP, got ${target}`);
      let input: unknown;
      try {
        input = JSON.parse(opts.input);
      } catch {
        throw usage(`--input is not JSON: ${opts.input}`);
      }
      const timeoutMs = Number(opts.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw usage(`--timeout must be a positive number of milliseconds, got ${opts.timeout}`);
      const body = new TextEncoder().encode(
        JSON.stringify({ connector: target.slice(0, dot), operation: target.slice(dot + 1), input, timeoutMs, ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}), ...(opts.traceId ? { traceId: opts.traceId } : {}) }),
      );
      const r = await control(cmd).json<{ result: unknown }>('/v1/hub/invoke', { method: 'POST', body, contentLength: body.length });
      print(r.result, true, () => '');
      void opts.json;
    });

  program
    .command('mcp')
    .description('serve MCP on stdio (for Claude Desktop, Claude Code, Cursor): the tools are the connector operations of the local fcpd')
    .option('--token <file>', 'act as the agent of this token file (fcp token mint --out): only the tools it grants')
    .action(async (opts: { token?: string }, cmd: Command) => {
      const { createHubMcpServer } = await import('../../hub/mcp.js');
      const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
      const agent = opts.token ? parseAgentToken(await readFile(opts.token, 'utf8'), opts.token) : undefined;
      const server = createHubMcpServer(controlToolSource(control(cmd), agent), { name: 'fcp-mesh', version: packageVersion() });
      await server.connect(new StdioServerTransport());
      await new Promise<void>((resolveClosed) => (server.onclose = () => resolveClosed()));
    });
}
