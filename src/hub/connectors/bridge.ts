// The `bridge` connector: runs an existing stdio MCP server (config.command, config.args) with the
// MCP SDK's client, and offers each of its tools as an operation (named by `bridgeOperationName`).
// Environment values for that server come from secrets (config.env_secrets maps a variable to a
// secret the manifest delivers in `configure`): the server gets them, never argv or a file.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ConnectorError, runConnector, type OperationDef } from '../connector-sdk.js';
import { bridgeOperationName } from './bridge-names.js';

const operations: Record<string, OperationDef> = {};
let client: Client | null = null;

runConnector({
  id: 'bridge',
  version: '1.0.0',
  description: 'An MCP server run as a connector',
  operations,
  configure: async ({ config, secrets }) => {
    const command = config.command;
    const args = config.args ?? [];
    if (typeof command !== 'string' || !Array.isArray(args) || !args.every((a) => typeof a === 'string')) {
      throw new ConnectorError('CONNECTOR_BAD_CONFIG', 'bridge needs config.command (string) and config.args (strings)');
    }
    const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
    for (const [name, value] of Object.entries((config.env ?? {}) as Record<string, unknown>)) if (typeof value === 'string') env[name] = value;
    for (const [name, secret] of Object.entries((config.env_secrets ?? {}) as Record<string, unknown>)) {
      const v = typeof secret === 'string' ? secrets[secret] : undefined;
      if (v === undefined) throw new ConnectorError('CONNECTOR_BAD_CONFIG', `env ${name}: secret ${String(secret)} is not delivered to the bridge (list it in secrets with deliver "configure")`);
      env[name] = v;
    }
    const c = new Client({ name: 'fcp-bridge', version: '1.0.0' });
    await c.connect(new StdioClientTransport({ command, args: args as string[], env, stderr: 'inherit' }));
    c.onclose = () => {
      // The MCP server is gone: so is this connector; the host restarts it.
      process.stderr.write('bridge: the MCP server exited\n');
      process.exit(75);
    };
    client = c;
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const r = await c.listTools(cursor ? { cursor } : {});
      for (const tool of r.tools) {
        operations[bridgeOperationName(tool.name)] = {
          ...(tool.description ? { description: tool.description } : {}),
          input_schema: tool.inputSchema as Record<string, unknown>,
          handler: async (input) => {
            const out = await client!.callTool({ name: tool.name, arguments: (input ?? {}) as Record<string, unknown> });
            if (out.isError) {
              const text = (out.content as Array<{ type: string; text?: string }>).map((x) => x.text ?? '').join('\n');
              throw new ConnectorError('CONNECTOR_TOOL_FAILED', text || `${tool.name} failed`);
            }
            return { content: out.content, ...(out.structuredContent ? { structuredContent: out.structuredContent } : {}) };
          },
        };
      }
      cursor = r.nextCursor;
      if (!cursor) break;
    }
  },
});
