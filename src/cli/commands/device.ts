// fcp device set / ls: this device's hub profile (declared facts, kept in its data directory and
// taken up by the running daemon at once) and the profiles of the mesh's devices.
import type { Command } from 'commander';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient } from '../../daemon/control-client.js';
import type { DeviceListing } from '../../hub/mesh-hub.js';
import type { DeviceProfile } from '../../hub/profile.js';
import { parseSettings } from '../../hub/profile.js';

function control(cmd: Command): ControlClient {
  return new ControlClient(resolveConfig(cmd.optsWithGlobals() as ConfigFlags).controlSocket);
}

function flags(p: DeviceProfile): string {
  const f = [p.alwaysOn ? 'always-on' : '', p.interactive ? 'interactive' : '', p.gpu ? 'gpu' : '', p.onBattery ? 'on-battery' : ''].filter(Boolean);
  return f.join(',') || '-';
}

export function registerDeviceCommands(program: Command): void {
  const device = program.command('device').description("devices' hub profiles: where connectors may run");

  device
    .command('set <settings...>')
    .description('declare facts of this device: always-on=true|false interactive=true|false gpu=true|false name=NAME')
    .option('--json', 'print JSON')
    .action(async (words: string[], opts: { json?: boolean }, cmd: Command) => {
      parseSettings(words); // refused here already, with the word named
      const p = await control(cmd).json<DeviceProfile>('/v1/device', { method: 'POST', body: new TextEncoder().encode(JSON.stringify({ set: words })) });
      process.stdout.write(opts.json ? `${JSON.stringify(p, null, 2)}\n` : `${p.name}: ${flags(p)} (${p.os}, ${p.freeMemoryMb} MiB free, ${p.cpuCores} cores)\n`);
    });

  device
    .command('ls')
    .description('the devices of the mesh with their profiles and the connectors they run')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await control(cmd).json<DeviceListing[]>('/v1/devices');
      if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      const rows = [['DEVICE', 'NAME', 'UP', 'PROFILE', 'OS', 'FREE MiB', 'ZONES', 'RUNS']];
      for (const d of list) {
        rows.push([
          d.hostName + (d.self ? ' (this)' : ''),
          d.profile?.name ?? '-',
          d.alive ? 'yes' : 'no',
          d.profile ? flags(d.profile) : 'unknown',
          d.profile?.os ?? '-',
          d.profile ? String(d.profile.freeMemoryMb) : '-',
          d.zones.join(',') || '-',
          d.runs.join(',') || '-',
        ]);
      }
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
    });
}
