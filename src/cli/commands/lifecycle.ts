// fcp device remove / fcp zone rotate: the device lifecycle, through the running daemon.
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient } from '../../daemon/control-client.js';
import { DeviceError } from '../../mesh/errors.js';
import type { RemoveResult, RotateResult } from '../../services/lifecycle-service.js';

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
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) {
    throw new DeviceError('DEVICE_REMOVE_CANCELLED', 'not a terminal, so nothing can be confirmed: give --yes to remove the device');
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
