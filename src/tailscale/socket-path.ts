// Where tailscaled's LocalAPI socket lives (paths.DefaultTailscaledSocket).
import { existsSync, statSync } from 'node:fs';

export const LINUX_SOCKET = '/var/run/tailscale/tailscaled.sock';
/** The open-source tailscaled on macOS; the App Store app uses its own sandboxed transport. */
export const MACOS_SOCKET = '/var/run/tailscaled.socket';

export function platformDefaultSocket(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'darwin') return MACOS_SOCKET;
  if (platform === 'linux' || platform === 'freebsd' || platform === 'openbsd') {
    return existsSync('/var/run') && statSync('/var/run').isDirectory() ? LINUX_SOCKET : 'tailscaled.sock';
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
