// fcp owner init / fcp owner status: the threshold owner key, through the running daemon.
import type { Command } from 'commander';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient } from '../../daemon/control-client.js';
import { OwnerError } from '../../services/owner-errors.js';
import type { OwnerStatus } from '../../services/owner-service.js';

function control(cmd: Command): ControlClient {
  return new ControlClient(resolveConfig(cmd.optsWithGlobals() as ConfigFlags).controlSocket);
}

function describe(s: OwnerStatus): string {
  if (!s.exists) return 'no owner key yet: run `fcp owner init` on an owner device (tag:fcp-owner)\n';
  const rows = s.participants.map((p) => `  ${p.hostName.padEnd(20)} share ${String(p.identifier).padStart(2)}  ${p.online ? 'online' : 'offline'}${p.self ? '  (this device)' : ''}`);
  const online = s.participants.filter((p) => p.online).length;
  return [
    `owner key ${s.keyId}  (${s.threshold}-of-${s.participants.length}; ${online} online now: ${online >= (s.threshold ?? 0) ? 'can sign' : 'cannot sign'})`,
    `public key ${s.publicKey}`,
    'shares held by:',
    ...rows,
    `this device: ${s.holdsShare ? 'holds a share' : 'holds no share'}; grant ${s.grantExpiresAt ? `expires ${s.grantExpiresAt}` : 'none'}`,
  ].join('\n') + '\n';
}

export function registerOwnerCommands(program: Command): void {
  const owner = program.command('owner').description('the owner key: FROST k-of-n over the owner devices, never whole anywhere');
  owner
    .command('init')
    .description('make the owner key with the owner devices online now (a key generation without a dealer) and grant each of them')
    .option('--threshold <k>', 'how many owner devices must take part in each signature (default: a majority)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp owner init\n  fcp owner init --threshold 2 --json')
    .action(async (opts: { threshold?: string; json?: boolean }, cmd: Command) => {
      let threshold: number | undefined;
      if (opts.threshold !== undefined) {
        threshold = Number(opts.threshold);
        if (!/^\d+$/.test(opts.threshold) || !Number.isInteger(threshold)) throw new OwnerError('OWNER_BAD_THRESHOLD', `--threshold takes a whole number, not ${opts.threshold}`);
      }
      const body = new TextEncoder().encode(JSON.stringify(threshold !== undefined ? { threshold } : {}));
      const s = await control(cmd).json<OwnerStatus>('/v1/owner/init', { method: 'POST', body, contentLength: body.length });
      process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : describe(s));
    });
  owner
    .command('status')
    .description('the owner key: id, k-of-n, which owner devices hold shares and are online, this device\'s grant')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp owner status\n  fcp owner status --json')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const s = await control(cmd).json<OwnerStatus>('/v1/owner');
      process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : describe(s));
    });
}
