// fcp daemon install / uninstall: fcpd as a service that starts at boot, after tailscaled, and
// comes back when it fails. systemd on Linux, launchd on macOS. --path writes the file anywhere
// and --dry-run only prints it, so both can be checked without root.
import type { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FCPD_ALLOCATOR_ENV, FCPD_NODE_FLAGS } from '../../daemon/launch-settings.js';
import { resolveConfig, type ConfigFlags } from '../../daemon/config.js';
import { ControlError } from '../../daemon/control-client.js';

export const SYSTEMD_UNIT = 'fcpd.service';
export const LAUNCHD_LABEL = 'com.fcp-mesh.fcpd';

export interface ServiceSpec {
  /** node, then the fcpd script, then its flags. */
  command: string[];
  dataDir: string;
  /** Run as this user (system units only). */
  user?: string;
  tailscaleSocket?: string;
  /** macOS: where launchd sends fcpd's output. */
  logFile?: string;
}

/** systemd quoting: each word in double quotes, with \ and " escaped, % doubled (specifiers). */
function systemdWord(w: string): string {
  return `"${w.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%/g, '%%')}"`;
}

export function systemdUnit(spec: ServiceSpec, scope: 'system' | 'user'): string {
  const env = [
    `FCP_DATA_DIR=${spec.dataDir}`,
    'FCP_LOG_FORMAT=json',
    ...(spec.tailscaleSocket ? [`TS_SOCKET=${spec.tailscaleSocket}`] : []),
    ...Object.entries(FCPD_ALLOCATOR_ENV).map(([k, v]) => `${k}=${v}`),
  ];
  const lines = [
    '[Unit]',
    'Description=fcp-mesh daemon (fcpd): this device\'s share of the mesh',
    // tailscaled first: fcpd needs its LocalAPI and its tailnet address.
    'After=network-online.target tailscaled.service',
    'Wants=network-online.target tailscaled.service',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${spec.command.map(systemdWord).join(' ')}`,
    ...env.map((e) => `Environment=${systemdWord(e)}`),
    ...(scope === 'system' && spec.user ? [`User=${spec.user}`] : []),
    'Restart=on-failure',
    'RestartSec=5',
    // Key material lives in this process's memory: never in a core dump.
    'LimitCORE=0',
    'NoNewPrivileges=true',
    '',
    '[Install]',
    `WantedBy=${scope === 'system' ? 'multi-user.target' : 'default.target'}`,
    '',
  ];
  return lines.join('\n');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function launchdPlist(spec: ServiceSpec): string {
  const env: Array<[string, string]> = [['FCP_DATA_DIR', spec.dataDir], ['FCP_LOG_FORMAT', 'json'], ...(spec.tailscaleSocket ? [['TS_SOCKET', spec.tailscaleSocket] as [string, string]] : [])];
  const log = spec.logFile ?? join(homedir(), 'Library', 'Logs', 'fcpd.log');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    `  <key>Label</key><string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...spec.command.map((w) => `    <string>${xml(w)}</string>`),
    '  </array>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    ...env.map(([k, v]) => `    <key>${k}</key><string>${xml(v)}</string>`),
    '  </dict>',
    '  <key>RunAtLoad</key><true/>',
    // Restarted when it exits with an error; a clean stop stays stopped.
    '  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>',
    '  <key>ThrottleInterval</key><integer>5</integer>',
    '  <key>SoftResourceLimits</key><dict><key>Core</key><integer>0</integer></dict>',
    '  <key>HardResourceLimits</key><dict><key>Core</key><integer>0</integer></dict>',
    `  <key>StandardErrorPath</key><string>${xml(log)}</string>`,
    `  <key>StandardOutPath</key><string>${xml(log)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

type Platform = 'linux' | 'darwin';

interface InstallOptions {
  system?: boolean;
  path?: string;
  dryRun?: boolean;
  platform?: string;
  user?: string;
}

function platformOf(opt: string | undefined): Platform {
  const p = opt ?? process.platform;
  if (p === 'linux' || p === 'darwin') return p;
  throw new ControlError('SERVICE_UNSUPPORTED', `fcp daemon install knows systemd (linux) and launchd (darwin), not ${p}; run fcpd under your own service manager`);
}

/** Where the service file goes by default. */
export function defaultServicePath(platform: Platform, system: boolean): string {
  if (platform === 'linux') return system ? join('/etc/systemd/system', SYSTEMD_UNIT) : join(homedir(), '.config', 'systemd', 'user', SYSTEMD_UNIT);
  return system ? join('/Library/LaunchDaemons', `${LAUNCHD_LABEL}.plist`) : join(homedir(), 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
}

function fcpdScript(): string {
  return fileURLToPath(new URL('../../../../bin/fcpd.js', import.meta.url));
}

/** Runs a service-manager command, saying what failed and how to do it by hand. */
function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error || r.status !== 0) {
    throw new ControlError('SERVICE_COMMAND', `"${[cmd, ...args].join(' ')}" failed (${r.error?.message ?? `exit ${r.status}`}); run it yourself once the problem is fixed`);
  }
}

function managerCommands(platform: Platform, system: boolean, path: string, action: 'install' | 'uninstall'): Array<[string, string[]]> {
  if (platform === 'linux') {
    const scope = system ? [] : ['--user'];
    return action === 'install'
      ? [['systemctl', [...scope, 'daemon-reload']], ['systemctl', [...scope, 'enable', '--now', SYSTEMD_UNIT]]]
      : [['systemctl', [...scope, 'disable', '--now', SYSTEMD_UNIT]], ['systemctl', [...scope, 'daemon-reload']]];
  }
  const domain = system ? 'system' : `gui/${userInfo().uid}`;
  return action === 'install' ? [['launchctl', ['bootstrap', domain, path]]] : [['launchctl', ['bootout', `${domain}/${LAUNCHD_LABEL}`]]];
}

export function registerDaemonServiceCommands(program: Command): void {
  const daemon = program.commands.find((c) => c.name() === 'daemon') ?? program.command('daemon').description('run the mesh daemon');
  daemon
    .command('install')
    .description('install fcpd as a service (systemd on Linux, launchd on macOS): starts after tailscaled, restarts on failure, no core dumps')
    .option('--system', 'a system service (needs root) instead of one for this user')
    .option('--user <name>', 'system service only: the user fcpd runs as (default: the user who ran sudo, else this one)')
    .option('--path <file>', 'write the service file here and do not touch the service manager')
    .option('--dry-run', 'print the service file and the commands, change nothing')
    .option('--platform <linux|darwin>', 'which service manager to write for (default: this machine)')
    .action(async (opts: InstallOptions, cmd: Command) => {
      const platform = platformOf(opts.platform);
      const cfg = resolveConfig(cmd.optsWithGlobals() as ConfigFlags);
      const system = Boolean(opts.system);
      const spec: ServiceSpec = {
        command: [process.execPath, ...FCPD_NODE_FLAGS, fcpdScript(), '--data-dir', cfg.dataDir],
        dataDir: cfg.dataDir,
        ...(cfg.tailscaleSocket ? { tailscaleSocket: cfg.tailscaleSocket } : {}),
        ...(system ? { user: opts.user ?? process.env.SUDO_USER ?? userInfo().username } : {}),
      };
      const text = platform === 'linux' ? systemdUnit(spec, system ? 'system' : 'user') : launchdPlist(spec);
      const path = opts.path ?? defaultServicePath(platform, system);
      const commands = opts.path ? [] : managerCommands(platform, system, path, 'install');
      if (opts.dryRun) {
        process.stdout.write(`# ${path}\n${text}`);
        for (const [c, a] of commands) process.stdout.write(`# then: ${[c, ...a].join(' ')}\n`);
        return;
      }
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text, { mode: 0o644 });
      for (const [c, a] of commands) run(c, a);
      process.stdout.write(`fcpd service written to ${path}${commands.length ? ' and started' : ''}\n`);
    });
  daemon
    .command('uninstall')
    .description('stop and remove the fcpd service (the data directory stays)')
    .option('--system', 'the system service instead of this user\'s')
    .option('--path <file>', 'remove this service file and do not touch the service manager')
    .option('--dry-run', 'say what would be done, change nothing')
    .option('--platform <linux|darwin>', 'which service manager (default: this machine)')
    .action(async (opts: InstallOptions) => {
      const platform = platformOf(opts.platform);
      const system = Boolean(opts.system);
      const path = opts.path ?? defaultServicePath(platform, system);
      if (!existsSync(path)) throw new ControlError('SERVICE_NOT_INSTALLED', `no fcpd service file at ${path}; nothing to uninstall`);
      const commands = opts.path ? [] : managerCommands(platform, system, path, 'uninstall');
      if (opts.dryRun) {
        for (const [c, a] of commands) process.stdout.write(`# would run: ${[c, ...a].join(' ')}\n`);
        process.stdout.write(`# would remove ${path}\n`);
        return;
      }
      // Stop first, then remove: reversed, the manager would lose track of a running fcpd.
      if (platform === 'darwin') for (const [c, a] of commands) run(c, a);
      else if (commands[0]) run(commands[0][0], commands[0][1]);
      await rm(path, { force: true });
      if (platform === 'linux' && commands[1]) run(commands[1][0], commands[1][1]);
      process.stdout.write(`fcpd service removed (${path}); the data directory is left as it is\n`);
    });
}
