// The MCP front door: every connector operation the caller may invoke is an MCP tool (its input
// schema; annotations from its risk: readOnlyHint for safe, destructiveHint for dangerous), and
// `tools/call` invokes it through the hub. Built on the official SDK's low-level Server, over any
// of its transports: stdio for `fcp mcp`, Streamable HTTP in fcpd (mcp-http.ts).
//
// Tool names are `<connector>__<operation>` (letters, digits, `_` and `-` only, which every
// client accepts). Risky operations take an idempotency key from `_meta["fcp/idempotency-key"]`,
// or else one derived from the tool and its arguments (an identical retry does not act twice);
// dangerous operations need the explicit key.
import { createHash } from 'node:crypto';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, McpError, ErrorCode, type Tool, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describeError } from '../errors/index.js';
import { proveFor, type AgentToken, type Principal } from '../authz/index.js';
import type { ConnectorInfo, HubService } from '../services/index.js';

/** What the front door needs: the connectors this caller may invoke, and invoking one. */
export interface ToolSource {
  tools(): Promise<ConnectorInfo[]>;
  call(connector: string, operation: string, input: unknown, opts: { idempotencyKey?: string; traceId?: string }): Promise<unknown>;
}

/** The hub service as a tool source for one principal (fcpd's own MCP endpoint). */
export function serviceToolSource(hub: Pick<HubService, 'callable' | 'invoke'>, p: Principal): ToolSource {
  return {
    tools: async () => hub.callable(p),
    call: (connector, operation, input, opts) => hub.invoke(p, connector, operation, input, opts),
  };
}

/**
 * The hub as an agent holding a token sees it (`fcp mcp --token`): the tools its token grants,
 * and each call made with the token and a fresh proof by the agent's key.
 */
export function agentToolSource(hub: Pick<HubService, 'callable' | 'invoke'>, base: Principal & { kind: 'local' }, agent: AgentToken): ToolSource {
  return {
    tools: async () => hub.callable({ ...base, credential: { token: agent.token } }),
    call: (connector, operation, input, opts) => {
      const { traceId, proof } = proveFor(agent, `${connector}.${operation}`);
      return hub.invoke({ ...base, credential: { token: agent.token, proof } }, connector, operation, input, { ...opts, traceId });
    },
  };
}

export const IDEMPOTENCY_META = 'fcp/idempotency-key';
export const TRACE_META = 'fcp/trace-id';

export function toolName(connector: string, operation: string): string {
  return `${connector}__${operation}`;
}

interface ToolEntry {
  tool: Tool;
  connector: string;
  operation: string;
  risk: 'safe' | 'risky' | 'dangerous';
}

/** The MCP tools of a list of connectors (a name two pairs would share is left out). */
export function toolsOf(infos: ConnectorInfo[]): Map<string, ToolEntry> {
  const out = new Map<string, ToolEntry>();
  const clash = new Set<string>();
  for (const c of infos) {
    for (const op of c.operations) {
      const name = toolName(c.id, op.name);
      if (out.has(name)) clash.add(name);
      const schema = (op.input_schema ?? { type: 'object' }) as Tool['inputSchema'];
      out.set(name, {
        connector: c.id,
        operation: op.name,
        risk: op.risk,
        tool: {
          name,
          title: `${c.name ?? c.id}: ${op.name}`,
          description: `${op.description ?? op.name} (connector ${c.id} in ${c.zone} on ${c.device}; ${op.risk})`,
          inputSchema: { ...schema, type: 'object' },
          annotations: {
            readOnlyHint: op.risk === 'safe',
            destructiveHint: op.risk === 'dangerous',
            idempotentHint: op.risk === 'safe' || op.idempotency === 'strict',
            openWorldHint: true,
          },
        },
      });
    }
  }
  for (const n of clash) out.delete(n);
  return out;
}

export interface McpServerInfo {
  name: string;
  version: string;
}

/** An MCP server (connect it to a transport) whose tools are the hub's connector operations. */
export function createHubMcpServer(source: ToolSource, info: McpServerInfo): Server {
  const server = new Server(info, {
    capabilities: { tools: { listChanged: false } },
    instructions: 'Tools are operations of connectors on this person\'s own devices (fcp-mesh). Read-only tools are safe; others may change things.',
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...toolsOf(await source.tools()).values()].map((e) => e.tool) }));
  server.setRequestHandler(CallToolRequestSchema, async (req): Promise<CallToolResult> => {
    const entry = toolsOf(await source.tools()).get(req.params.name);
    if (!entry) throw new McpError(ErrorCode.InvalidParams, `no tool ${req.params.name} (or not one this caller may call)`);
    const args = req.params.arguments ?? {};
    const meta = (req.params._meta ?? {}) as Record<string, unknown>;
    let key = typeof meta[IDEMPOTENCY_META] === 'string' ? (meta[IDEMPOTENCY_META] as string) : undefined;
    if (key === undefined && entry.risk === 'dangerous') {
      return errorResult('HUB_IDEMPOTENCY_REQUIRED', `${req.params.name} is dangerous: call it with _meta["${IDEMPOTENCY_META}"] set to a key unique to this action`);
    }
    if (key === undefined && entry.risk === 'risky') key = 'mcp-' + createHash('sha256').update(req.params.name).update('\0').update(stableJson(args)).digest('hex').slice(0, 48);
    try {
      const result = await source.call(entry.connector, entry.operation, args, {
        ...(key !== undefined ? { idempotencyKey: key } : {}),
        ...(typeof meta[TRACE_META] === 'string' ? { traceId: meta[TRACE_META] as string } : {}),
      });
      const structured = result !== null && typeof result === 'object' && !Array.isArray(result) ? (result as Record<string, unknown>) : undefined;
      return { content: [{ type: 'text', text: JSON.stringify(result) }], ...(structured ? { structuredContent: structured } : {}) };
    } catch (err) {
      const d = describeError(err);
      return errorResult(d.code, d.message);
    }
  });
  return server;
}

function errorResult(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${message} [${code}]` }], _meta: { 'fcp/error-code': code } };
}

/** JSON with object keys sorted, so equal arguments give one derived key. */
export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}
