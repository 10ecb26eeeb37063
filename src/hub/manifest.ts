// Connector manifests (FCP V2 §11.1, in the narrow form this hub runs): what a connector is, how
// to start it, its operations with their input schemas and risk, its home zone, where it wants to
// run, the secrets it names and the hosts it may reach. Checked with ajv; every error names the
// field (`operations[2].risk must be one of safe, risky, dangerous`).
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse as parseToml } from 'smol-toml';
import { HubError } from './hub-errors.js';

export type Risk = 'safe' | 'risky' | 'dangerous';
export type Idempotency = 'none' | 'best_effort' | 'strict';

export interface OperationSpec {
  name: string;
  description?: string;
  /** JSON Schema of the input; `{ type: 'object' }` when absent. */
  input_schema?: Record<string, unknown>;
  risk: Risk;
  idempotency?: Idempotency;
  /**
   * Who beyond the tailnet may call it through the public gateway: `public` (anyone through
   * Funnel) or `community` (community-key holders). Absent: tailnet callers only.
   */
  exposure?: 'public' | 'community';
}

export interface PlacementNeeds {
  always_on?: boolean;
  interactive?: boolean;
  gpu?: boolean;
  /** A named device (its host name) the connector must run on. */
  device?: string;
}

/**
 * A secret the connector names. `egress`: the host's egress proxy adds it to requests for
 * `hosts` (the connector never sees it). `configure`: the connector must hold it, and gets it in
 * `configure` over stdin, never in argv, environment or files.
 */
export interface SecretNeed {
  name: string;
  deliver: 'egress' | 'configure';
  /** For egress: hosts it is added for (each also in the egress allowlist). */
  hosts?: string[];
  /** For egress: the header it goes in (default `authorization`). */
  header?: string;
  /** For egress: the header value, `{secret}` replaced by the value (default `Bearer {secret}`). */
  format?: string;
}

export interface ConnectorManifest {
  id: string;
  version: string;
  name?: string;
  description?: string;
  /** The program and its arguments; run without a shell. */
  command: string;
  args?: string[];
  /** Home zone: the zone its data and its invokes belong to. */
  zone: string;
  operations: OperationSpec[];
  placement?: PlacementNeeds;
  secrets?: SecretNeed[];
  /** Hosts (`name` or `name:port`, `*.suffix` for subdomains) it may reach through the egress proxy. */
  egress?: { allow: string[] };
  /** Non-secret settings passed in `configure`. */
  config?: Record<string, unknown>;
  /** State model (§10.4): stateless, or one writer at a time. */
  state?: { model: 'stateless' | 'singleton_writer' };
  /** Default per-invoke deadline when the caller gives none. */
  timeout_ms?: number;
  /** How often the host asks `health`. */
  health_interval_ms?: number;
}

const NAME = '^[a-z][a-z0-9_-]{0,62}$';
const HOST = '^(\\*\\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$';

const SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'version', 'command', 'zone', 'operations'],
  properties: {
    id: { type: 'string', pattern: NAME },
    version: { type: 'string', minLength: 1, maxLength: 64 },
    name: { type: 'string', maxLength: 200 },
    description: { type: 'string', maxLength: 2000 },
    command: { type: 'string', minLength: 1 },
    args: { type: 'array', items: { type: 'string' }, maxItems: 256 },
    zone: { type: 'string', pattern: '^z:[a-z0-9][a-z0-9._:-]{0,62}$' },
    operations: {
      type: 'array',
      minItems: 1,
      maxItems: 256,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'risk'],
        properties: {
          name: { type: 'string', pattern: NAME },
          description: { type: 'string', maxLength: 2000 },
          input_schema: { type: 'object' },
          risk: { enum: ['safe', 'risky', 'dangerous'] },
          idempotency: { enum: ['none', 'best_effort', 'strict'] },
          exposure: { enum: ['public', 'community'] },
        },
      },
    },
    placement: {
      type: 'object',
      additionalProperties: false,
      properties: { always_on: { type: 'boolean' }, interactive: { type: 'boolean' }, gpu: { type: 'boolean' }, device: { type: 'string', minLength: 1 } },
    },
    secrets: {
      type: 'array',
      maxItems: 32,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'deliver'],
        properties: {
          name: { type: 'string', minLength: 1, maxLength: 128 },
          deliver: { enum: ['egress', 'configure'] },
          hosts: { type: 'array', items: { type: 'string', pattern: HOST } },
          header: { type: 'string', pattern: '^[A-Za-z0-9-]{1,64}$' },
          format: { type: 'string', pattern: '\\{secret\\}' },
        },
      },
    },
    egress: {
      type: 'object',
      additionalProperties: false,
      required: ['allow'],
      properties: { allow: { type: 'array', maxItems: 256, items: { type: 'string', pattern: HOST } } },
    },
    config: { type: 'object' },
    state: { type: 'object', additionalProperties: false, required: ['model'], properties: { model: { enum: ['stateless', 'singleton_writer'] } } },
    timeout_ms: { type: 'integer', minimum: 1, maximum: 3_600_000 },
    health_interval_ms: { type: 'integer', minimum: 100, maximum: 3_600_000 },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
const validateManifest = ajv.compile(SCHEMA);

/** `/operations/2/risk` → `operations[2].risk`. */
function fieldPath(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (extra) parts.push(extra);
  let out = '';
  for (const p of parts) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || 'manifest';
}

/** One readable line per ajv error, naming the field. */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined, root = ''): string[] {
  const prefix = (path: string) => (root ? (path === 'manifest' ? root : `${root}.${path}`) : path);
  return (errors ?? []).map((e) => {
    const p = e.params as Record<string, unknown>;
    switch (e.keyword) {
      case 'required':
        return `${prefix(fieldPath(e.instancePath, String(p.missingProperty)))} is required`;
      case 'additionalProperties':
        return `${prefix(fieldPath(e.instancePath, String(p.additionalProperty)))} is not a known field`;
      case 'enum':
        return `${prefix(fieldPath(e.instancePath))} must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
      case 'pattern':
        return `${prefix(fieldPath(e.instancePath))} must match ${String(p.pattern)}`;
      default:
        return `${prefix(fieldPath(e.instancePath))} ${e.message ?? 'is invalid'}`;
    }
  });
}

/** A checked manifest with its input validators compiled. */
export interface LoadedManifest {
  manifest: ConnectorManifest;
  operation(name: string): OperationSpec | undefined;
  /** Validates an input; returns the error lines (empty when valid). */
  checkInput(operation: string, input: unknown): string[];
}

/** Validates a manifest object; throws HUB_BAD_MANIFEST naming every bad field. */
export function loadManifest(value: unknown): LoadedManifest {
  if (!validateManifest(value)) {
    const lines = describeSchemaErrors(validateManifest.errors);
    throw new HubError('HUB_BAD_MANIFEST', lines.join('; '));
  }
  const manifest = value as unknown as ConnectorManifest;
  const problems: string[] = [];
  const seen = new Set<string>();
  const validators = new Map<string, ValidateFunction>();
  manifest.operations.forEach((op, i) => {
    if (seen.has(op.name)) problems.push(`operations[${i}].name ${op.name} is used twice`);
    seen.add(op.name);
    try {
      validators.set(op.name, ajv.compile(op.input_schema ?? { type: 'object' }));
    } catch (err) {
      problems.push(`operations[${i}].input_schema is not a valid JSON Schema: ${(err as Error).message}`);
    }
  });
  const allow = new Set(manifest.egress?.allow ?? []);
  manifest.secrets?.forEach((s, i) => {
    if (s.deliver === 'egress') {
      if (!s.hosts || s.hosts.length === 0) problems.push(`secrets[${i}].hosts is required for an egress secret`);
      s.hosts?.forEach((h, j) => {
        if (!allow.has(h)) problems.push(`secrets[${i}].hosts[${j}] ${h} is not in egress.allow`);
      });
    } else if (s.hosts || s.header || s.format) problems.push(`secrets[${i}] hosts, header and format are for egress secrets only`);
  });
  if (problems.length) throw new HubError('HUB_BAD_MANIFEST', problems.join('; '));
  return {
    manifest,
    operation: (name) => manifest.operations.find((o) => o.name === name),
    checkInput(operation, input) {
      const v = validators.get(operation);
      if (!v) return [`no operation ${operation}`];
      return v(input) ? [] : describeSchemaErrors(v.errors, 'input');
    },
  };
}

/** Parses manifest text: JSON, or TOML when `format` says so or the text is not JSON. */
export function parseManifestText(text: string, format?: 'json' | 'toml'): LoadedManifest {
  let value: unknown;
  const fmt = format ?? (text.trimStart().startsWith('{') ? 'json' : 'toml');
  try {
    value = fmt === 'json' ? JSON.parse(text) : parseToml(text);
  } catch (err) {
    throw new HubError('HUB_BAD_MANIFEST', `the manifest is not valid ${fmt.toUpperCase()}: ${(err as Error).message}`);
  }
  return loadManifest(value);
}
