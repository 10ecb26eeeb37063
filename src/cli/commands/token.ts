// fcp token mint / ls: capability tokens for agents, narrowed from this device's grant.
import { open, unlink, type FileHandle } from 'node:fs/promises';
import type { Command } from 'commander';
import { formatAgentToken } from '../../authz/index.js';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient, ControlError } from '../../daemon/control-client.js';
import { fileError } from '../local-files.js';

function control(cmd: Command): ControlClient {
  return new ControlClient(resolveConfig(cmd.optsWithGlobals() as ConfigFlags).controlSocket);
}

/** `30m`, `1h`, `7d` or plain seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!m) throw new ControlError('CLI_USAGE', `--ttl ${text}: give a duration such as 30m, 1h or 7d`);
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

interface Minted {
  id: string;
  connector: string;
  ops: string[];
  zones: string[];
  name: string;
  expires: number;
  token: string;
  key?: string;
}

const list = (v: string): string[] => v.split(',').map((x) => x.trim()).filter(Boolean);

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('capability tokens: what an agent may call, for how long');
  token
    .command('mint')
    .description('a token for an agent, narrowed from this device\'s grant\n\nexample: fcp token mint --connector files --ops read,search --ttl 1h --out agent.token\n         fcp mcp --token agent.token')
    .requiredOption('--connector <id>', 'the connector it is for (or *)')
    .requiredOption('--ops <list>', 'operations, comma-separated (or *)')
    .option('--zones <list>', 'zones, comma-separated (default: all this device holds)')
    .option('--ttl <duration>', 'how long it is valid (30m, 1h, 7d)', '1h')
    .option('--for <name>', 'who it is for, as people read it', 'agent')
    .option('--for-key <hex>', "the agent's own Ed25519 public key (then no key is written)")
    .option('--out <file>', 'write the token file here (mode 0600)')
    .option('--json', 'print JSON')
    .action(async (o: { connector: string; ops: string; zones?: string; ttl: string; for: string; forKey?: string; out?: string; json?: boolean }, cmd: Command) => {
      if (!o.forKey && !o.out) throw new ControlError('CLI_USAGE', 'give --out FILE for the token and its new key (or --for-key with the agent\'s own key)');
      // The file is made first (never over an existing one), so a token is not minted for nowhere.
      let out: FileHandle | undefined;
      if (o.out) out = await open(o.out, 'wx', 0o600).catch((err: unknown) => {
        throw fileError(err, o.out!, 'output');
      });
      const body = Buffer.from(JSON.stringify({ connector: o.connector, ops: list(o.ops), ...(o.zones ? { zones: list(o.zones) } : {}), ttlSeconds: parseTtl(o.ttl), name: o.for, ...(o.forKey ? { holderKey: o.forKey.toLowerCase() } : {}) }));
      let m: Minted;
      try {
        m = await control(cmd).json<Minted>('/v1/tokens', { method: 'POST', body, contentLength: body.length });
        if (out) {
          const file = m.key ? formatAgentToken({ token: new Uint8Array(Buffer.from(m.token, 'base64url')), key: new Uint8Array(Buffer.from(m.key, 'base64url')) }) : `${JSON.stringify({ id: m.id, token: m.token }, null, 2)}\n`;
          await out.writeFile(file).catch((err: unknown) => {
            throw fileError(err, o.out!, 'output');
          });
        }
      } catch (err) {
        await out?.close();
        if (o.out) await unlink(o.out).catch(() => undefined);
        throw err;
      }
      await out?.close();
      const { key: _key, ...shown } = m;
      void _key;
      if (o.json) process.stdout.write(`${JSON.stringify({ ...shown, ...(o.out ? { file: o.out } : {}) })}\n`);
      else process.stdout.write(`token ${m.id.slice(0, 12)} for ${m.name}: ${m.connector} ${m.ops.join(',')} in ${m.zones.join(',')}, until ${new Date(m.expires * 1000).toISOString()}${o.out ? ` -> ${o.out}` : `\n${m.token}`}\n`);
    });
  token
    .command('revoke <ids...>')
    .description('revoke tokens (their full id or a prefix of one minted here): the owner key signs it (k owner devices online), every online device learns it at once, the others when back')
    .option('--reason <text>', 'why, for the record', '')
    .option('--json', 'print JSON')
    .action(async (ids: string[], o: { reason: string; json?: boolean }, cmd: Command) => {
      const client = control(cmd);
      const mine = await client.json<Array<{ id: string }>>('/v1/tokens');
      const full = ids.map((id) => {
        if (/^[0-9a-f]{32}$/.test(id)) return id;
        const hits = mine.filter((t) => t.id.startsWith(id.toLowerCase()));
        if (hits.length !== 1) throw new ControlError('TOKEN_BAD_REQUEST', hits.length === 0 ? `no token minted here starts with ${id}; give its full 32-hex id` : `${hits.length} tokens start with ${id}; give more digits`);
        return hits[0]!.id;
      });
      const body = Buffer.from(JSON.stringify({ ids: full, reason: o.reason }));
      const r = await client.json<{ seq: number; told: string[]; notReached: string[] }>('/v1/tokens/revoke', { method: 'POST', body, contentLength: body.length });
      if (o.json) return void process.stdout.write(`${JSON.stringify(r)}\n`);
      process.stdout.write(`revoked ${full.map((x) => x.slice(0, 12)).join(', ')} (revocation ${r.seq}); told ${r.told.join(', ') || 'no other device'}${r.notReached.length ? `; not reached: ${r.notReached.join(', ')} (they learn it when back, and refuse risky calls until then)` : ''}\n`);
    });
  token
    .command('ls')
    .description('tokens minted on this device')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }, cmd: Command) => {
      const all = await control(cmd).json<Array<Omit<Minted, 'token' | 'key'>>>('/v1/tokens');
      if (o.json) return void process.stdout.write(`${JSON.stringify(all)}\n`);
      if (all.length === 0) return void process.stdout.write('no tokens minted on this device\n');
      const now = Date.now() / 1000;
      for (const t of all) process.stdout.write(`${t.id.slice(0, 12)}  ${t.name.padEnd(12)} ${t.connector.padEnd(12)} ${t.ops.join(',').padEnd(16)} ${t.zones.join(',').padEnd(20)} ${t.expires < now ? 'expired' : `until ${new Date(t.expires * 1000).toISOString()}`}\n`);
    });
}
