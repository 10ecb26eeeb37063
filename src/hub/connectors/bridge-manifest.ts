// Manifests for bridged MCP servers: written from a tool list, or found by asking the server
// (risk from its annotations: readOnlyHint → safe, destructiveHint false → risky, else
// dangerous, as MCP's defaults say).
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ConnectorManifest, Risk } from '../manifest.js';
import { builtinCommand } from './builtin.js';
import { bridgeOperationName } from './bridge-names.js';

export interface BridgeTool {
  name: string;
  risk: Risk;
  description?: string;
  input_schema?: Record<string, unknown>;
}

export interface BridgeOptions {
  id: string;
  zone: string;
  command: string;
  args?: string[];
  /** Plain environment values for the server. */
  env?: Record<string, string>;
  /** Environment variables whose values are secrets (variable → secret name). */
  envSecrets?: Record<string, string>;
  device?: string;
}

export function bridgeManifest(opts: BridgeOptions & { tools: BridgeTool[] }): ConnectorManifest {
  const secrets = [...new Set(Object.values(opts.envSecrets ?? {}))];
  return {
    id: opts.id,
    version: '1.0.0',
    description: `MCP server ${opts.command} ${(opts.args ?? []).join(' ')}`.trim(),
    ...builtinCommand('bridge'),
    zone: opts.zone,
    config: { command: opts.command, args: opts.args ?? [], env: opts.env ?? {}, env_secrets: opts.envSecrets ?? {} },
    ...(secrets.length ? { secrets: secrets.map((name) => ({ name, deliver: 'configure' as const })) } : {}),
    ...(opts.device ? { placement: { device: opts.device } } : {}),
    operations: opts.tools.map((t) => ({
      name: bridgeOperationName(t.name),
      risk: t.risk,
      ...(t.description ? { description: t.description } : {}),
      ...(t.input_schema ? { input_schema: t.input_schema } : {}),
    })),
  };
}

/** Starts the server once (without secret env values) to list its tools. */
export async function discoverBridgeTools(command: string, args: string[] = [], env: Record<string, string> = {}): Promise<BridgeTool[]> {
  const c = new Client({ name: 'fcp-bridge-discover', version: '1.0.0' });
  await c.connect(new StdioClientTransport({ command, args, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stderr: 'ignore' }));
  try {
    const out: BridgeTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 100; page++) {
      const r = await c.listTools(cursor ? { cursor } : {});
      for (const t of r.tools) {
        // MCP's defaults: a tool not marked read-only may be destructive unless it says otherwise.
        const risk: Risk = t.annotations?.readOnlyHint ? 'safe' : t.annotations?.destructiveHint === false ? 'risky' : 'dangerous';
        out.push({ name: t.name, risk, ...(t.description ? { description: t.description } : {}), input_schema: t.inputSchema as Record<string, unknown> });
      }
      cursor = r.nextCursor;
      if (!cursor) break;
    }
    return out;
  } finally {
    await c.close();
  }
}
