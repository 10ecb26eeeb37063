// fcp device remove / fcp device trust / fcp zone rotate: the device lifecycle, through the running daemon.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient } from '../../daemon/control-client.js';
import { DeviceError } from '../../mesh/errors.js';
import type { RemoveResult, RotateResult, TrustPlan, TrustResult } from '../../services/lifecycle-service.js';

function control(cmd: Command): ControlClient {
  return new ControlClient(resolveConfig(cmd.optsWithGlobals() as ConfigFlags).controlSocket);
}

interface Plan {
  stableId: string;
  hostName: string;
  zones: string[];
  alreadyRemoved: boolean;
  rotate: string[];
}

/** Asks on the terminal; anything but y/yes is no. Without a terminal the answer must be given with --yes. */
async function confirm(question: string, cancelled: { code: 'DEVICE_REMOVE_CANCELLED' | 'DEVICE_TRUST_CANCELLED'; what: string } = { code: 'DEVICE_REMOVE_CANCELLED', what: 'remove the device' }): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new DeviceError(cancelled.code, `not a terminal, so nothing can be confirmed: give --yes to ${cancelled.what}`);
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function rotation(r: RotateResult): string {
  return `${r.zone} key is now epoch ${r.epoch}${r.notReached.length ? ` (not yet on ${r.notReached.join(', ')}: they take it when back)` : ''}`;
}

export function registerLifecycleCommands(program: Command): void {
  const device = program.commands.find((c) => c.name() === 'device') ?? program.command('device');
  device
    .command('remove <name>')
    .description('stop trusting a device: its requests are refused, its symbols repaired around, the keys of its zones rotated')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp device remove phone\n  fcp device remove phone --yes --json')
    .action(async (name: string, opts: { yes?: boolean; json?: boolean }, cmd: Command) => {
      const c = control(cmd);
      const plan = await c.json<Plan>(`/v1/devices/${encodeURIComponent(name)}/removal`);
      if (!opts.yes && !plan.alreadyRemoved) {
        const keys = plan.rotate.length ? ` The keys of ${plan.rotate.join(', ')} move to a new epoch.` : '';
        const ok = await confirm(`Remove ${plan.hostName} (${plan.zones.join(', ')}) from the mesh? Its requests will be refused and its symbols repaired around; it keeps what it already copied.${keys}`);
        if (!ok) throw new DeviceError('DEVICE_REMOVE_CANCELLED', `${plan.hostName} was not removed`);
      }
      const r = await c.json<RemoveResult>(`/v1/devices/${encodeURIComponent(name)}/remove`, { method: 'POST' });
      if (!opts.json) {
        process.stdout.write(
          [
            r.changed ? `${r.removed.hostName} removed: its requests are refused from now on` : `${r.removed.hostName} was already removed (told the members again)`,
            `members told: ${r.told.join(', ') || 'none online'}${r.notReached.length ? `; not reached: ${r.notReached.join(', ')} (they learn it when back)` : ''}`,
            ...r.rotated.map(rotation),
            ...(r.rotated.length ? ['re-sealing to the new epochs runs in the background (fcp status shows it)'] : []),
          ].join('\n') + '\n',
        );
        if (process.stderr.isTTY) process.stderr.write('repairing around it...\n');
      }
      // The repair pass the removal started; this joins it and reports how it ended.
      const repair = await c.json<{ outcomes: Record<string, number> }>('/v1/repair', { method: 'POST' });
      if (opts.json) return void process.stdout.write(`${JSON.stringify({ ...r, repair: repair.outcomes }, null, 2)}\n`);
      process.stdout.write(`repair: ${Object.entries(repair.outcomes).map(([k, v]) => `${k} ${v}`).join(', ') || 'no objects here'}\n`);
    });

  device
    .command('trust <name>')
    .description("trust a device's node key again after it was reset (new data dir, new key): pins the key the device itself presents now")
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      [
        '',
        'The key is asked of the device itself, over its own tailnet connection; the old and new',
        'fingerprints are shown so they can be compared with `fcp status --json` on that device',
        '(nodeKey). Devices with an owner grant for their new key are trusted again without this.',
        '',
        'Examples:',
        '  fcp device trust phone',
        '  fcp device trust phone --yes --json',
      ].join('\n'),
    )
    .action(async (name: string, opts: { yes?: boolean; json?: boolean }, cmd: Command) => {
      const c = control(cmd);
      const plan = await c.json<TrustPlan>(`/v1/devices/${encodeURIComponent(name)}/trust`);
      if (!opts.yes && !plan.same) {
        const ok = await confirm(
          `${plan.hostName} (${plan.zones.join(', ')}) presents node key ${plan.presented}; pinned here: ${plan.pinned ?? 'none'}. Trust the new key? Its heads and tombstones will be taken from now on.`,
          { code: 'DEVICE_TRUST_CANCELLED', what: 'trust the key' },
        );
        if (!ok) throw new DeviceError('DEVICE_TRUST_CANCELLED', `the pin of ${plan.hostName} was not changed`);
      }
      const r = await c.json<TrustResult>(`/v1/devices/${encodeURIComponent(name)}/trust`, { method: 'POST', body: new TextEncoder().encode(JSON.stringify({ expect: plan.presented })) });
      if (opts.json) return void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.stdout.write(
        r.changed
          ? `${r.hostName}: node key ${r.presented} trusted (was ${r.pinned ?? 'none'}); its heads and tombstones are taken from now on\n`
          : `${r.hostName}: node key ${r.presented} was already trusted; nothing changed\n`,
      );
    });

  program
    .command('zone')
    .description('zone keys')
    .command('rotate <zone>')
    .description('move a zone key to a new epoch: sent sealed to the members, new objects sealed under it, stored ones re-sealed in the background')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp zone rotate z:private')
    .action(async (zone: string, opts: { json?: boolean }, cmd: Command) => {
      const r = await control(cmd).json<RotateResult>(`/v1/zones/${encodeURIComponent(zone)}/rotate`, { method: 'POST' });
      if (opts.json) return void process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      process.stdout.write(`${rotation(r)}\nmembers told: ${r.told.join(', ') || 'none online'}\nre-sealing runs in the background (fcp status shows it)\n`);
    });
}
