// `fcp dev-tailnet up|down|status|set`: run the LocalAPI emulator on its own.
//
// Design: `up` runs the tailnet in the foreground (one process, one unix
// socket per device, plus control.sock for run-time changes) and writes
// <dir>/state.json with its pid; `up --detach` starts that same foreground
// process in the background and returns once it is ready. `down` asks the
// control API to stop (SIGTERM as a fallback) and waits for the process to
// exit; `status` and `set` talk to the control API. <dir> defaults to
// .fcp-dev/tailnet.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DevTailnetControlClient,
  DevTailnetError,
  EMULATED_PATHS,
  EMULATOR_FAULTS,
  startControlServer,
  startDevTailnet,
  validateDescription,
  type DevTailnetSnapshotDevice,
  type EmulatedPath,
  type EmulatorFault,
} from '../../tailscale/emulator/index.js';

const DEFAULT_DIR = '.fcp-dev/tailnet';
const STATE_FILE = 'state.json';
const CONTROL_SOCKET = 'control.sock';
const READY_TIMEOUT_MS = 15_000;

interface StateFile {
  pid: number;
  tailnet: string;
  controlSocket: string;
  startedAt: string;
  devices: Array<{ name: string; address: string; socketPath: string; tags: string[] }>;
}

function readDescription(file: string): ReturnType<typeof validateDescription> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DevTailnetError('DEV_TAILNET_BAD_DESCRIPTION', `cannot read tailnet description ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DevTailnetError('DEV_TAILNET_BAD_DESCRIPTION', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  return validateDescription(json);
}

function readState(dir: string): StateFile | undefined {
  const path = join(dir, STATE_FILE);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as StateFile;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function printDevices(devices: ReadonlyArray<{ name: string; address: string; socketPath: string; tags: string[] } & Partial<DevTailnetSnapshotDevice>>): void {
  const rows = devices.map((d) => [
    d.name,
    d.address,
    d.socketPath,
    d.tags.join(',') || '-',
    d.path === undefined ? '' : `${d.removed ? 'removed' : d.online ? 'online' : 'offline'} ${d.path} ${d.latencyMs}ms${d.fault && d.fault !== 'none' ? ` fault=${d.fault}` : ''}`,
  ]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => (i < 4 ? c.padEnd(widths[i] ?? 0) : c)).join('  ').trimEnd() + '\n');
}

async function upForeground(file: string, dir: string): Promise<void> {
  const desc = readDescription(file);
  mkdirSync(dir, { recursive: true });
  const previous = readState(dir);
  if (previous && previous.pid !== process.pid && alive(previous.pid)) {
    throw new DevTailnetError('DEV_TAILNET_SOCKET', `a dev tailnet is already running in ${dir} (pid ${previous.pid}); run "fcp dev-tailnet down" first`);
  }
  const net = await startDevTailnet(desc, { dir });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await control.close();
      await net.stop();
      rmSync(join(dir, STATE_FILE), { force: true });
    })();
    return stopping;
  };
  const control = await startControlServer(net, join(dir, CONTROL_SOCKET), () => {
    void stop().then(() => process.exit(0));
  });
  const state: StateFile = {
    pid: process.pid,
    tailnet: net.tailnet,
    controlSocket: control.socketPath,
    startedAt: new Date().toISOString(),
    devices: net.devices.map((d) => ({ name: d.name, address: d.address, socketPath: d.socketPath, tags: d.tags })),
  };
  writeFileSync(join(dir, STATE_FILE), JSON.stringify(state, null, 2) + '\n');
  process.stdout.write(`dev tailnet "${net.tailnet}": ${net.devices.length} devices (point a client at one with TS_SOCKET=<socket>)\n`);
  printDevices(net.devices);
  process.stdout.write(`control: ${control.socketPath}\nready (pid ${process.pid}); Ctrl-C or "fcp dev-tailnet down" stops it\n`);
  const onSignal = (): void => {
    void stop().then(() => process.exit(0));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  // The sockets keep the process alive until a signal or the control API stops it.
}

async function upDetached(file: string, dir: string): Promise<void> {
  readDescription(file); // fail here, with the real message, rather than in the background
  mkdirSync(dir, { recursive: true });
  const previous = readState(dir);
  if (previous && alive(previous.pid)) {
    throw new DevTailnetError('DEV_TAILNET_SOCKET', `a dev tailnet is already running in ${dir} (pid ${previous.pid}); run "fcp dev-tailnet down" first`);
  }
  rmSync(join(dir, STATE_FILE), { force: true });
  const log = openSync(join(dir, 'tailnet.log'), 'w');
  const bin = fileURLToPath(new URL('../../../../bin/fcp.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'dev-tailnet', 'up', file, '--dir', dir], { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const state = readState(dir);
    if (state && state.pid === child.pid) {
      process.stdout.write(`dev tailnet "${state.tailnet}" running in the background (pid ${state.pid}); log: ${join(dir, 'tailnet.log')}\n`);
      printDevices(state.devices);
      process.stdout.write(`control: ${state.controlSocket}\n`);
      return;
    }
    if (child.exitCode !== null || (child.pid !== undefined && !alive(child.pid))) break;
    await sleep(50);
  }
  const logText = existsSync(join(dir, 'tailnet.log')) ? readFileSync(join(dir, 'tailnet.log'), 'utf8').trim() : '';
  throw new DevTailnetError('DEV_TAILNET_SOCKET', `the background dev tailnet did not start${logText ? `: ${logText}` : ''}`);
}

async function down(dir: string): Promise<void> {
  const state = readState(dir);
  if (!state) {
    process.stdout.write(`no dev tailnet is running in ${dir}\n`);
    return;
  }
  if (!alive(state.pid)) {
    rmSync(join(dir, STATE_FILE), { force: true });
    process.stdout.write(`the dev tailnet (pid ${state.pid}) was no longer running; cleaned up ${dir}\n`);
    return;
  }
  try {
    await new DevTailnetControlClient(state.controlSocket, 2000).stop();
  } catch {
    process.kill(state.pid, 'SIGTERM');
  }
  const deadline = Date.now() + 5000;
  while (alive(state.pid) && Date.now() < deadline) await sleep(50);
  if (alive(state.pid)) {
    process.kill(state.pid, 'SIGKILL');
    rmSync(join(dir, STATE_FILE), { force: true });
  }
  process.stdout.write(`dev tailnet "${state.tailnet}" stopped (pid ${state.pid})\n`);
}

function controlFor(dir: string): DevTailnetControlClient {
  const state = readState(dir);
  if (!state) throw new DevTailnetError('DEV_TAILNET_CONTROL', `no dev tailnet is running in ${dir}; start one with "fcp dev-tailnet up <description.json>"`);
  return new DevTailnetControlClient(state.controlSocket);
}

function choice<T extends string>(name: string, allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value)) throw new InvalidArgumentError(`${name} must be one of ${allowed.join(', ')}`);
    return value as T;
  };
}

export function registerDevTailnetCommands(program: Command): void {
  const cmd = program.command('dev-tailnet').description('emulated tailnet: one LocalAPI socket per device, for tests and the demo');
  cmd
    .command('up')
    .description('start the devices of a tailnet description (foreground unless --detach) and print their sockets')
    .argument('<description>', 'tailnet description JSON (see examples/tailnet.json)')
    .option('--dir <dir>', 'directory for sockets and state', DEFAULT_DIR)
    .option('--detach', 'run in the background and return once ready')
    .action(async (file: string, opts: { dir: string; detach?: boolean }) => {
      const dir = resolve(opts.dir);
      if (opts.detach) await upDetached(resolve(file), dir);
      else await upForeground(resolve(file), dir);
    });
  cmd
    .command('down')
    .description('stop the dev tailnet running in --dir')
    .option('--dir <dir>', 'directory for sockets and state', DEFAULT_DIR)
    .action(async (opts: { dir: string }) => down(resolve(opts.dir)));
  cmd
    .command('status')
    .description('list the devices of the running dev tailnet and their live condition')
    .option('--dir <dir>', 'directory for sockets and state', DEFAULT_DIR)
    .option('--json', 'print JSON')
    .action(async (opts: { dir: string; json?: boolean }) => {
      const list = await controlFor(resolve(opts.dir)).devices();
      if (opts.json) process.stdout.write(JSON.stringify(list, null, 2) + '\n');
      else {
        process.stdout.write(`dev tailnet "${list.tailnet}"\n`);
        printDevices(list.devices);
      }
    });
  cmd
    .command('set')
    .description('change a device at run time: online state, path, latency, daemon fault, or remove it')
    .argument('<device>', 'device name')
    .option('--dir <dir>', 'directory for sockets and state', DEFAULT_DIR)
    .option('--online', 'bring the device online')
    .option('--offline', 'take the device offline')
    .option('--path <path>', `how others reach it: ${EMULATED_PATHS.join(', ')}`, choice('path', EMULATED_PATHS))
    .option('--latency <ms>', 'ping latency in milliseconds', (v: string) => {
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 60_000) throw new InvalidArgumentError('latency must be 0..60000 ms');
      return n;
    })
    .option('--fault <fault>', `make its daemon misbehave: ${EMULATOR_FAULTS.join(', ')}`, choice('fault', EMULATOR_FAULTS))
    .option('--remove', 'the device leaves the tailnet')
    .action(
      async (
        device: string,
        opts: { dir: string; online?: boolean; offline?: boolean; path?: EmulatedPath; latency?: number; fault?: EmulatorFault; remove?: boolean },
      ) => {
        if (opts.online && opts.offline) throw new InvalidArgumentError('choose --online or --offline, not both');
        const ctl = controlFor(resolve(opts.dir));
        let changed = false;
        if (opts.online || opts.offline) {
          await ctl.setOnline(device, opts.online === true);
          changed = true;
        }
        if (opts.path !== undefined) {
          await ctl.setPath(device, opts.path);
          changed = true;
        }
        if (opts.latency !== undefined) {
          await ctl.setLatency(device, opts.latency);
          changed = true;
        }
        if (opts.fault !== undefined) {
          await ctl.setFault(device, opts.fault);
          changed = true;
        }
        if (opts.remove) {
          await ctl.removeNode(device);
          changed = true;
        }
        if (!changed) throw new InvalidArgumentError('nothing to change; give --online, --offline, --path, --latency, --fault or --remove');
        const list = await ctl.devices();
        printDevices(list.devices.filter((d) => d.name === device));
      },
    );
}
