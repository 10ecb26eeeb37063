// The fcpd daemon entry point: `fcpd [--data-dir DIR] [--tailscale-socket PATH] [--port N] [--metrics-port N] [--zones FILE]`.
import { Command } from 'commander';
import { DEFAULT_PORT } from '../wire/index.js';
import { resolveConfig } from '../daemon/config.js';

export function daemonOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'device state directory (default $FCP_DATA_DIR or ~/.fcp)')
    .option('--tailscale-socket <path>', 'tailscaled LocalAPI socket (default $TS_SOCKET or the platform default)')
    .option('--port <n>', `FCP port on the tailnet address (default ${DEFAULT_PORT})`)
    .option('--metrics-port <n>', 'Prometheus metrics port on 127.0.0.1, 0 = off (default 9474)')
    .option('--zones <file>', 'custom zones file (JSON)');
}

export async function startForeground(flags: Record<string, string | undefined>): Promise<void> {
  // Loaded here, not at the top: every `fcp` command imports this module for its options, and
  // the daemon (hub, dashboard, gateway, store) would add most of a second to each one's start.
  const { runDaemon } = await import('../daemon/daemon.js');
  const daemon = await runDaemon(resolveConfig(flags));
  const onSignal = () => void daemon.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.stdout.write(`fcpd ready: ${daemon.mesh.node.self.hostName} ${daemon.mesh.node.self.address}:${daemon.mesh.node.port} zones ${daemon.mesh.node.self.zones.join(', ')}\n`);
  await daemon.stopped;
}

export async function main(argv: string[]): Promise<void> {
  const program = daemonOptions(new Command('fcpd').description('fcp-mesh daemon: stores and serves this device\'s share of the mesh'));
  program.action(async (flags: Record<string, string | undefined>) => startForeground(flags));
  await program.parseAsync(argv);
}
