// fcp init / invite / join / daemon start / ls / status (put and get: content.ts).
import type { Command } from 'commander';
import { Keyring } from '../../mesh/keyring.js';
import { findMembers, requestJoin } from '../../mesh/join.js';
import type { MeshUsage } from '../../mesh/index.js';
import { LocalApiClient, selfFromStatus } from '../../tailscale/index.js';
import { mayHold } from '../../zones/index.js';
import { generateZoneKey } from '../../crypto/index.js';
import { DEFAULT_PORT } from '../../wire/index.js';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlClient, ControlError } from '../../daemon/control-client.js';
import { loadZones } from '../../daemon/zones-file.js';
import { daemonOptions, startForeground } from '../fcpd.js';
import { humanBytes } from '../progress.js';
import { registerContentCommands } from './content.js';
import { lsNamed, registerFileCommands } from './files.js';
import { registerSecretCommands } from './secret.js';
import { registerAuditCommands } from './audit.js';

function globalFlags(cmd: Command): ConfigFlags {
  return cmd.optsWithGlobals() as ConfigFlags;
}

function control(cmd: Command): ControlClient {
  return new ControlClient(resolveConfig(globalFlags(cmd)).controlSocket);
}

function print(obj: unknown, asJson: boolean, human: () => string): void {
  process.stdout.write(asJson ? `${JSON.stringify(obj, null, 2)}\n` : `${human()}\n`);
}

/** `fcp du` as tables: per zone (summed over devices), then per device (summed over zones). */
function formatUsage(u: MeshUsage): string {
  const used = u.zones.filter((z) => z.symbols > 0);
  if (used.length === 0) return `nothing stored${u.unreachable.length ? ` (no answer from ${u.unreachable.join(', ')})` : ''}`;
  const lines = ['ZONE          DEVICES   SYMBOLS  STORED'];
  for (const z of used) lines.push(`${z.zone.padEnd(12)} ${String(z.devices.length).padStart(8)} ${String(z.symbols).padStart(9)}  ${humanBytes(z.bytes)}`);
  lines.push('', 'DEVICE            SYMBOLS  STORED      BY ZONE');
  for (const d of u.devices.filter((x) => x.symbols > 0)) {
    const parts = Object.entries(d.zones).map(([zone, z]) => `${zone} ${humanBytes(z.bytes)} (${z.objects} objects)`);
    lines.push(`${d.hostName.padEnd(16)} ${String(d.symbols).padStart(8)}  ${humanBytes(d.bytes).padEnd(10)}  ${parts.join(', ')}`);
  }
  const total = used.reduce((n, z) => n + z.bytes, 0);
  lines.push('', `total: ${humanBytes(total)} on ${u.devices.filter((x) => x.symbols > 0).length} devices`);
  if (u.unreachable.length) lines.push(`no answer from: ${u.unreachable.join(', ')} (not counted)`);
  return lines.join('\n');
}

/**
 * How many objects this device knows and those below their placement policy (`/v1/health`; from
 * the whole listing when the daemon is older and does not have it).
 */
async function objectHealth(c: ControlClient): Promise<{ objects: number; degraded: Array<{ objectId: string; zone: string }> }> {
  try {
    return await c.json<{ objects: number; degraded: Array<{ objectId: string; zone: string }> }>('/v1/health');
  } catch (err) {
    if (!(err instanceof ControlError) || err.code !== 'CONTROL_NOT_FOUND') throw err;
    const all = await c.json<Array<{ objectId: string; zone: string; ok: boolean }>>('/v1/objects');
    return { objects: all.length, degraded: all.filter((o) => !o.ok) };
  }
}

function localApi(flags: ConfigFlags): LocalApiClient {
  const cfg = resolveConfig(flags);
  return new LocalApiClient(cfg.tailscaleSocket ? { socketPath: cfg.tailscaleSocket } : {});
}

export function registerMeshCommands(program: Command): void {
  program
    .option('--data-dir <dir>', 'device state directory (default $FCP_DATA_DIR or ~/.fcp)')
    .option('--tailscale-socket <path>', 'tailscaled LocalAPI socket (default $TS_SOCKET or the platform default)');

  program
    .command('init')
    .description('create this device\'s node keys; with --first, also the zone keys (first device of the mesh)')
    .option('--first', 'this is the first device: create a key for every zone its tags allow')
    .option('--force', 'with --first: make new zone keys even though fcp devices of these zones are online')
    .action(async (opts: { first?: boolean; force?: boolean }, cmd: Command) => {
      const flags = globalFlags(cmd);
      const cfg = resolveConfig(flags);
      const created = await Keyring.init(cfg.dataDir);
      const keyring = await Keyring.load(cfg.dataDir);
      const lines = [created ? `node keys created in ${cfg.dataDir}` : `node keys already present in ${cfg.dataDir}`];
      if (opts.first) {
        const status = await localApi(flags).status();
        const self = selfFromStatus(status);
        const zones = loadZones(cfg);
        const mine = zones.zonesForTags(self.tags);
        if (mine.length === 0) throw new ControlError('INIT_NO_ZONE', `this device (${self.hostName}) has no fcp zone tag (tags: ${self.tags.join(', ') || 'none'}); tag it in the tailnet first`);
        const missing = zones.all().filter((z) => mayHold(mine, z) && !keyring.zoneKey(z.id));
        if (missing.length > 0 && !opts.force) {
          const members = await findMembers({ client: localApi(flags), zones, port: cfg.port });
          if (members.length > 0) {
            throw new ControlError(
              'INIT_MESH_EXISTS',
              `the tailnet already has fcp devices of these zones (${members.map((m) => `${m.hostName}: ${m.zones.join(', ')}`).join('; ')}); a second --first would make other zone keys. Run \`fcp invite\` on one of them and \`fcp join\` here (or --force to start a separate mesh)`,
            );
          }
        }
        for (const z of zones.all().filter((z) => mayHold(mine, z))) {
          if (keyring.zoneKey(z.id)) continue;
          await keyring.saveZoneKey(generateZoneKey(z.id));
          lines.push(`zone key created: ${z.id}`);
        }
      }
      lines.push(`zone keys: ${keyring.zoneIds().join(', ') || 'none (run `fcp join` to get them from a member device)'}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('invite')
    .description('make a one-time code for another device to join (asks the running fcpd)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = await control(cmd).json<{ code: string; expires: number; address: string; hostName: string }>('/v1/invites', { method: 'POST' });
      print(r, Boolean(opts.json), () => `On the new device run:\n  fcp join ${r.address} --code ${r.code}\n(valid until ${new Date(r.expires).toISOString()}, single use)`);
    });

  program
    .command('join <peer>')
    .description('get the keys of this device\'s zones from a member device (address or hostname)')
    .requiredOption('--code <code>', 'the one-time code printed by `fcp invite` on the member device')
    .option('--port <n>', 'FCP port of the member device', String(DEFAULT_PORT))
    .action(async (peerArg: string, opts: { code: string; port: string }, cmd: Command) => {
      const flags = globalFlags(cmd);
      const cfg = resolveConfig(flags);
      const r = await requestJoin({ dataDir: cfg.dataDir, client: localApi(flags), peer: peerArg, code: opts.code, port: Number(opts.port) });
      process.stdout.write(`joined through ${r.peer}: zone keys ${r.zones.join(', ') || 'none (this device\'s tags allow no zone the member holds)'}\n`);
      // A daemon already running picks the new keys up now.
      await new ControlClient(cfg.controlSocket).json('/v1/keys/reload', { method: 'POST' }).catch(() => undefined);
    });

  const daemon = program.command('daemon').description('run the mesh daemon');
  daemonOptions(daemon.command('start').description('run fcpd in the foreground (same as `fcpd`)')).action(async (_o: unknown, cmd: Command) => {
    await startForeground(cmd.optsWithGlobals() as Record<string, string | undefined>);
  });
  daemon
    .command('stop')
    .description('ask the running fcpd to stop')
    .action(async (_o: unknown, cmd: Command) => {
      await control(cmd).json('/v1/shutdown', { method: 'POST' });
      process.stdout.write('fcpd is stopping\n');
    });

  registerContentCommands(program, control);
  registerFileCommands(program, control);

  program
    .command('ls [path]')
    .description('with PATH[@N] ("/" for the root): the names there; without: the objects this device knows, with their health')
    .option('--zone <zone>', 'only this zone (for PATH: default z:private when this device holds it)')
    .option('-R, --recursive', 'with PATH: everything below it')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp ls /\n  fcp ls photos/ -R\n  fcp ls notes@2          # notes/ as snapshot 2 had it\n  fcp ls --zone z:owner   # objects\n')
    .action(async (path: string | undefined, opts: { zone?: string; json?: boolean; recursive?: boolean }, cmd: Command) => {
      if (path !== undefined) return lsNamed(control(cmd), path, opts);
      const list = await control(cmd).json<Array<{ objectId: string; zone: string; length: number; devices: number; spare: number; ok: boolean }>>(`/v1/objects${opts.zone ? `?zone=${encodeURIComponent(opts.zone)}` : ''}`);
      print(list, Boolean(opts.json), () =>
        list.length === 0
          ? 'no objects'
          : ['OBJECT ID                                                         ZONE         BYTES  DEVICES  SPARE  HEALTH']
              .concat(list.map((o) => `${o.objectId}  ${o.zone.padEnd(11)} ${String(o.length).padStart(6)}  ${String(o.devices).padStart(7)}  ${String(o.spare).padStart(5)}  ${o.ok ? 'ok' : 'DEGRADED'}`))
              .join('\n'),
      );
    });

  program
    .command('du')
    .description('storage used per zone and per device (symbols and envelope bytes, redundancy included)')
    .option('--zone <zone>', 'only this zone')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp du\n  fcp du --zone z:private --json')
    .action(async (opts: { zone?: string; json?: boolean }, cmd: Command) => {
      const u = await control(cmd).json<MeshUsage>(`/v1/usage${opts.zone ? `?zone=${encodeURIComponent(opts.zone)}` : ''}`);
      print(u, Boolean(opts.json), () => formatUsage(u));
    });

  program
    .command('status')
    .description('this device, its peers, their paths and zones')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      type Status = {
        self: { hostName: string; address: string; zones: string[] };
        tailscaled?: { state: string; running: boolean; advice: string };
        store?: { state: string; detail: string | null; startedFresh: { message: string } | null };
        port: number;
        storage: { symbols: number; bytes: number };
        objects: number;
        zoneKeys: string[];
        zoneEpochs?: Record<string, { epoch: number; older: number[] }>;
        reseal?: Array<{ zone: string; epoch: number; state: string; objects: number; done: number; symbols: number }>;
        removed?: Array<{ hostName: string; at: number }>;
        peers: Array<{ hostName: string; address: string; online: boolean; path: string; latencyMs?: number; zones: string[]; member?: boolean }>;
      };
      const s = await control(cmd).json<Status>('/v1/status');
      const health = await objectHealth(control(cmd));
      const degraded = health.degraded;
      print({ ...s, health: { objects: health.objects, degraded: degraded.map((o) => o.objectId) } }, Boolean(opts.json), () =>
        [
          `this device: ${s.self.hostName} ${s.self.address}:${s.port} zones ${s.self.zones.join(', ') || 'none'}`,
          `tailscaled:  ${s.tailscaled ? `${s.tailscaled.state}${s.tailscaled.running ? '' : ` (${s.tailscaled.advice})`}` : 'unknown'}`,
          `store:       ${s.store ? `${s.store.state}${s.store.detail ? ` (${s.store.detail})` : ''}${s.store.startedFresh ? `; ${s.store.startedFresh.message}` : ''}` : 'unknown'}`,
          `zone keys:   ${s.zoneKeys.map((z) => (s.zoneEpochs?.[z]?.epoch ? `${z} (epoch ${s.zoneEpochs[z]!.epoch})` : z)).join(', ') || 'none'}`,
          ...(s.reseal ?? []).filter((r) => r.state !== 'done').map((r) => `re-sealing:  ${r.zone} to epoch ${r.epoch}: ${r.state === 'resealing' ? `${r.done} of ${r.objects} objects (${r.symbols} symbols)` : 'done here, waiting for the other members'}`),
          ...(s.removed?.length ? [`removed:     ${s.removed.map((r) => `${r.hostName} (${new Date(r.at).toISOString().slice(0, 16).replace('T', ' ')})`).join(', ')}`] : []),
          `storage:     ${s.storage.symbols} symbols, ${humanBytes(s.storage.bytes)}, ${s.objects} objects`,
          `health:      ${health.objects - degraded.length} of ${health.objects} objects meet their placement policy${degraded.length ? `; below it: ${degraded.map((o) => `${o.objectId.slice(0, 12)}… (${o.zone})`).join(', ')}` : ''}`,
          'peers:',
          ...s.peers.map((p) => `  ${p.hostName.padEnd(16)} ${String(p.address).padEnd(15)} ${p.online ? p.path.padEnd(10) : 'offline   '} ${p.latencyMs !== undefined ? `${p.latencyMs.toFixed(1)} ms`.padEnd(9) : '-'.padEnd(9)} ${(p.zones.join(', ') || '(no fcp zone)').padEnd(12)} ${p.member ? 'member' : p.zones.length > 0 ? 'no fcpd answering' : ''}`),
        ].join('\n'),
      );
    });

  program
    .command('repair')
    .description('run a repair pass now: restore every object this device repairs to its placement policy')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = await control(cmd).json<{ outcomes: Record<string, number>; stats: Record<string, number> }>('/v1/repair', { method: 'POST' });
      print(r, Boolean(opts.json), () => Object.entries(r.outcomes).map(([k, v]) => `${k}: ${v}`).join('\n') || 'no objects');
    });

  program
    .command('scrub')
    .description('check every stored symbol\'s authentication tag now; corrupt ones are removed and repaired')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const r = await control(cmd).json<{ corrupt: number; stats: { scrubbed: number } }>('/v1/scrub', { method: 'POST' });
      print(r, Boolean(opts.json), () => `checked ${r.stats.scrubbed} symbols in total; ${r.corrupt} corrupt removed now (repair replaces them)`);
    });

  registerSecretCommands(program, control);
  registerAuditCommands(program, control);
}
