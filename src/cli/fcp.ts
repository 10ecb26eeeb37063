// The `fcp` command: each area of the project registers its own subcommands.
import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { registerRaptorqCommands } from './commands/raptorq.js';
import { registerDevTailnetCommands } from './commands/dev-tailnet.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerMeshCommands } from './commands/mesh.js';
import { registerDaemonServiceCommands } from './commands/daemon.js';
import { registerCompletionCommand } from './commands/completion.js';
import { registerDeviceCommands } from './commands/device.js';
import { registerLifecycleCommands } from './commands/lifecycle.js';
import { registerOwnerCommands } from './commands/owner.js';
import { registerHubCommands } from './commands/hub.js';
import { registerTokenCommands } from './commands/token.js';
import { registerFunnelCommands } from './commands/funnel.js';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('fcp')
    .description('fcp-mesh: your AI data as RaptorQ symbols spread over your own Tailscale devices')
    .version(packageVersion());
  registerRaptorqCommands(program);
  registerDevTailnetCommands(program);
  registerPolicyCommands(program);
  registerMeshCommands(program);
  registerDaemonServiceCommands(program);
  registerCompletionCommand(program);
  registerDeviceCommands(program);
  registerLifecycleCommands(program);
  registerOwnerCommands(program);
  registerHubCommands(program);
  registerTokenCommands(program);
  registerFunnelCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  program.exitOverride();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      process.exitCode = err.exitCode;
      return;
    }
    throw err;
  }
}
