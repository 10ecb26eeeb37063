// Manifests of the built-in connectors: each runs as `node <its compiled file>`, a real child
// process under the host like any other connector.
import { fileURLToPath } from 'node:url';
import type { ConnectorManifest, SecretNeed } from '../manifest.js';

export const BUILTIN_CONNECTORS = ['files', 'memory', 'http', 'bridge'] as const;
export type BuiltinConnector = (typeof BUILTIN_CONNECTORS)[number];

/** The command line that runs a built-in connector. */
export function builtinCommand(name: BuiltinConnector): { command: string; args: string[] } {
  return { command: process.execPath, args: [fileURLToPath(new URL(`./${name}.js`, import.meta.url))] };
}

const str = { type: 'string' } as const;

export function filesManifest(opts: { root: string; zone: string; id?: string; device?: string }): ConnectorManifest {
  const path = { type: 'string', description: 'path relative to the root' };
  return {
    id: opts.id ?? 'files',
    version: '1.0.0',
    name: 'Files',
    description: `Files under ${opts.root}`,
    ...builtinCommand('files'),
    zone: opts.zone,
    config: { root: opts.root },
    ...(opts.device ? { placement: { device: opts.device } } : {}),
    operations: [
      { name: 'list', description: 'List a directory under the root', risk: 'safe', input_schema: { type: 'object', properties: { path }, additionalProperties: false } },
      { name: 'read', description: 'Read a text file under the root', risk: 'safe', input_schema: { type: 'object', required: ['path'], properties: { path, max_bytes: { type: 'integer', minimum: 1 } }, additionalProperties: false } },
      { name: 'write', description: 'Write (replace) a text file under the root', risk: 'risky', idempotency: 'strict', input_schema: { type: 'object', required: ['path', 'text'], properties: { path, text: str }, additionalProperties: false } },
      { name: 'search', description: 'Find lines containing a text', risk: 'safe', input_schema: { type: 'object', required: ['query'], properties: { query: { type: 'string', minLength: 1 }, path }, additionalProperties: false } },
    ],
  };
}

export function memoryManifest(opts: { zone: string; id?: string }): ConnectorManifest {
  return {
    id: opts.id ?? 'memory',
    version: '1.0.0',
    name: 'Memory',
    description: `Notes and events kept as mesh objects in ${opts.zone}`,
    ...builtinCommand('memory'),
    zone: opts.zone,
    state: { model: 'singleton_writer' },
    operations: [
      {
        name: 'remember',
        description: 'Keep a note or an event',
        risk: 'safe',
        idempotency: 'strict',
        input_schema: { type: 'object', required: ['text'], properties: { text: { type: 'string', minLength: 1, maxLength: 65536 }, kind: { enum: ['note', 'event'] }, tags: { type: 'array', items: str, maxItems: 32 } }, additionalProperties: false },
      },
      { name: 'recall', description: 'Read a memory by id', risk: 'safe', input_schema: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[0-9a-f]{64}$' } }, additionalProperties: false } },
      { name: 'search', description: 'Find memories containing every word of a query', risk: 'safe', input_schema: { type: 'object', required: ['query'], properties: { query: { type: 'string', minLength: 1 }, limit: { type: 'integer', minimum: 1, maximum: 100 } }, additionalProperties: false } },
    ],
  };
}

export function httpManifest(opts: { zone: string; allow: string[]; secrets?: SecretNeed[]; id?: string }): ConnectorManifest {
  const req = {
    type: 'object',
    required: ['url'],
    properties: { url: { type: 'string', minLength: 1 }, headers: { type: 'object', additionalProperties: str }, body: str, credential: str, method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] } },
    additionalProperties: false,
  };
  return {
    id: opts.id ?? 'http',
    version: '1.0.0',
    name: 'HTTP',
    description: `HTTP to ${opts.allow.join(', ')} through the egress proxy`,
    ...builtinCommand('http'),
    zone: opts.zone,
    egress: { allow: opts.allow },
    ...(opts.secrets ? { secrets: opts.secrets } : {}),
    operations: [
      { name: 'get', description: 'GET a URL', risk: 'safe', input_schema: req },
      { name: 'request', description: 'Any HTTP request (may change things)', risk: 'risky', input_schema: req },
    ],
  };
}
