// Where tailscaled's LocalAPI socket lives: paths.DefaultTailscaledSocket (paths/paths.go), with
// the NAS and appliance distributions told apart as version/distro/distro.go does.
import { existsSync, readFileSync, statSync } from 'node:fs';

export const LINUX_SOCKET = '/var/run/tailscale/tailscaled.sock';
/** The open-source tailscaled on macOS; the App Store app uses its own sandboxed transport. */
export const MACOS_SOCKET = '/var/run/tailscaled.socket';
/** The Synology package: DSM 7 (and when the version cannot be told), then DSM 6. */
export const SYNOLOGY_SOCKET = '/var/packages/Tailscale/var/tailscaled.sock';
export const SYNOLOGY_DSM6_SOCKET = '/var/packages/Tailscale/etc/tailscaled.sock';
export const QNAP_SOCKET = '/tmp/tailscale/tailscaled.sock';
export const GOKRAZY_SOCKET = '/perm/tailscaled/tailscaled.sock';

/** What the platform looks like; injectable so every branch can be checked anywhere. */
export interface PlatformProbe {
  platform: NodeJS.Platform;
  isDir(path: string): boolean;
  isFile(path: string): boolean;
  readFile(path: string): string | undefined;
  env: NodeJS.ProcessEnv;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

const hostProbe = (platform: NodeJS.Platform): PlatformProbe => ({
  platform,
  isDir,
  isFile: (p) => existsSync(p) && !isDir(p),
  readFile: (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  env: process.env,
});

/** DSM major version, from the package environment or /etc/VERSION (distro.DSMVersion). */
function dsmVersion(probe: PlatformProbe): number {
  const fromEnv = Number(probe.env['SYNOPKG_DSM_VERSION_MAJOR'] ?? '');
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const text = probe.readFile('/etc/VERSION') ?? '';
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (l === 'majorversion="7"') return 7;
    if (l === 'majorversion="6"') return 6;
  }
  return 0;
}

export function platformDefaultSocket(platform: NodeJS.Platform = process.platform, probe: PlatformProbe = hostProbe(platform)): string {
  if (platform === 'darwin') return MACOS_SOCKET;
  if (platform === 'linux') {
    // Checked in distro.go's order: Synology, then QNAP, then gokrazy.
    if (probe.isDir('/usr/syno')) return dsmVersion(probe) === 6 ? SYNOLOGY_DSM6_SOCKET : SYNOLOGY_SOCKET;
    if (probe.isFile('/etc/config/uLinux.conf')) return QNAP_SOCKET;
    if (probe.isDir('/gokrazy')) return GOKRAZY_SOCKET;
  }
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
    return probe.isDir('/var/run') ? LINUX_SOCKET : 'tailscaled.sock';
  }
  return LINUX_SOCKET;
}

/** Explicit option first, then the TS_SOCKET environment variable, then the platform default. */
export function resolveSocketPath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const fromEnv = env['TS_SOCKET'];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  return platformDefaultSocket();
}
