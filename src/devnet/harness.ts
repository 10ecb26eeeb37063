// A dev mesh on one machine: the tailscaled emulator plus one real fcpd process per device,
// each on its own loopback address, provisioned through the real init/invite/join path.
// Used by the demo, the integration tests and the benchmarks.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateZoneKey } from '../crypto/index.js';
import { ControlClient, parseJsonReply, CONTROL_SOCKET } from '../daemon/index.js';
import { FCPD_ALLOCATOR_ENV, FCPD_NODE_FLAGS } from '../daemon/launch-settings.js';
import { Keyring, requestJoin } from '../mesh/index.js';
import { LocalApiClient } from '../tailscale/index.js';
import { startDevTailnet, type DevTailnet, type TailnetDescription } from '../tailscale/emulator/index.js';
import { ZoneRegistry, mayHold } from '../zones/index.js';
import { FIVE_DEVICES } from './five-devices.js';

const FCPD = resolve(fileURLToPath(new URL('../../../bin/fcpd.js', import.meta.url)));

export interface DevDevice {
  name: string;
  address: string;
  socketPath: string;
  dataDir: string;
  tags: string[];
  control: ControlClient;
  process: ChildProcess | null;
}

export interface DevMeshOptions {
  description?: TailnetDescription;
  /** Working directory; default a fresh temporary one, removed by stop(). */
  dir?: string;
  /** Extra environment for every fcpd (e.g. FCP_LOG_LEVEL). */
  env?: Record<string, string>;
  /** Devices whose daemons are not started at first. */
  notStarted?: string[];
  /** A config.json to write into a device's data directory before its daemon starts. */
  deviceConfig?: Record<string, Record<string, unknown>>;
  /** Run `fcp owner init` on this device (default threshold: a majority) once the mesh has formed. */
  ownerInit?: { on: string; threshold?: number };
}

export class DevMesh {
  private constructor(
    readonly dir: string,
    readonly tailnet: DevTailnet,
    readonly devices: DevDevice[],
    private readonly ownsDir: boolean,
    private readonly env: Record<string, string>,
  ) {}

  static async start(opts: DevMeshOptions = {}): Promise<DevMesh> {
    const ownsDir = opts.dir === undefined;
    const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'fcp-devmesh-'));
    mkdirSync(dir, { recursive: true });
    const tailnet = await startDevTailnet(opts.description ?? FIVE_DEVICES, { dir: join(dir, 'ts') });
    const devices: DevDevice[] = tailnet.devices.map((d) => {
      const dataDir = join(dir, d.name);
      return { name: d.name, address: d.address, socketPath: d.socketPath, dataDir, tags: d.tags, control: new ControlClient(join(dataDir, CONTROL_SOCKET)), process: null };
    });
    for (const [name, config] of Object.entries(opts.deviceConfig ?? {})) {
      const d = devices.find((x) => x.name === name);
      if (!d) throw new Error(`deviceConfig names no device ${name}`);
      mkdirSync(d.dataDir, { recursive: true });
      writeFileSync(join(d.dataDir, 'config.json'), JSON.stringify(config));
    }
    const mesh = new DevMesh(dir, tailnet, devices, ownsDir, { FCP_LOG_LEVEL: 'warn', ...(opts.env ?? {}) });
    try {
      await mesh.provision(opts.notStarted ?? []);
      if (opts.ownerInit) await mesh.ownerInit(opts.ownerInit.on, opts.ownerInit.threshold);
    } catch (err) {
      await mesh.stop();
      throw err;
    }
    return mesh;
  }

  device(name: string): DevDevice {
    const d = this.devices.find((x) => x.name === name);
    if (!d) throw new Error(`no device ${name} in the dev mesh`);
    return d;
  }

  /** fcp init --first on the first device, fcp init + invite + join on the others. */
  private async provision(notStarted: string[]): Promise<void> {
    const zones = ZoneRegistry.builtin();
    const [first, ...rest] = this.devices;
    for (const d of this.devices) await Keyring.init(d.dataDir);
    const keyring = await Keyring.load(first!.dataDir);
    const mine = zones.zonesForTags(first!.tags);
    for (const z of zones.all().filter((z) => mayHold(mine, z))) await keyring.saveZoneKey(generateZoneKey(z.id));
    await this.startDaemon(first!.name);
    for (const d of rest) {
      if (zones.zonesForTags(d.tags).length === 0) continue; // no fcp zone: nothing to join
      const invite = await first!.control.json<{ code: string }>('/v1/invites', { method: 'POST' });
      await requestJoin({ dataDir: d.dataDir, client: new LocalApiClient({ socketPath: d.socketPath }), peer: first!.address, code: invite.code });
    }
    await Promise.all(rest.filter((d) => !notStarted.includes(d.name)).map((d) => this.startDaemon(d.name)));
    if (notStarted.includes(first!.name)) await this.stopDaemon(first!.name);
  }

  /**
   * The device is reset, as after a reinstall: its daemon stops, its data dir is gone, it makes
   * new node keys, joins again with an invite from `via` (as `fcp join` does) and starts.
   */
  async reset(name: string, via: string): Promise<void> {
    const d = this.device(name);
    const inviter = this.device(via);
    await this.stopDaemon(name);
    rmSync(d.dataDir, { recursive: true, force: true });
    await Keyring.init(d.dataDir);
    const invite = await inviter.control.json<{ code: string }>('/v1/invites', { method: 'POST' });
    await requestJoin({ dataDir: d.dataDir, client: new LocalApiClient({ socketPath: d.socketPath }), peer: inviter.address, code: invite.code });
    await this.startDaemon(name);
  }

  /**
   * `fcp owner init` on a device: retried (bounded, 20 s) while it sees fewer owner devices than
   * the threshold needs, as right after the daemons start.
   */
  async ownerInit(name: string, threshold?: number): Promise<Record<string, unknown>> {
    const body = new TextEncoder().encode(JSON.stringify(threshold !== undefined ? { threshold } : {}));
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        return await this.device(name).control.json<Record<string, unknown>>('/v1/owner/init', { method: 'POST', body, contentLength: body.length });
      } catch (err) {
        const code = (err as { code?: string }).code;
        if ((code !== 'OWNER_BAD_THRESHOLD' && code !== 'OWNER_DKG_FAILED') || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Starts a device's fcpd and waits until its control socket answers. */
  async startDaemon(name: string): Promise<void> {
    const d = this.device(name);
    if (d.process) return;
    const logFd = openSync(join(this.dir, `${name}.log`), 'a');
    // FCP_DEVNET_NODE_ARGS: extra node flags for every fcpd (e.g. --cpu-prof while profiling a bench).
    const nodeArgs = (process.env.FCP_DEVNET_NODE_ARGS ?? '').split(' ').filter(Boolean);
    const proc = spawn(process.execPath, [...FCPD_NODE_FLAGS, ...nodeArgs, FCPD, '--data-dir', d.dataDir, '--tailscale-socket', d.socketPath, '--metrics-port', '0'], {
      stdio: ['ignore', 'ignore', logFd],
      env: { ...FCPD_ALLOCATOR_ENV, ...process.env, ...this.env },
    });
    closeSync(logFd);
    d.process = proc;
    proc.once('exit', () => {
      if (d.process === proc) d.process = null;
    });
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`fcpd on ${name} exited with ${proc.exitCode}:\n${this.logTail(name)}`);
      try {
        await d.control.json('/v1/status');
        return;
      } catch {
        if (Date.now() > deadline) throw new Error(`fcpd on ${name} did not become ready within 15 s:\n${this.logTail(name)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** The loopback URL of a device's dashboard (its fcpd runs with FCP_DASHBOARD_PORT set). */
  dashboardUrl(name: string): string {
    try {
      return readFileSync(join(this.device(name).dataDir, 'dashboard-url'), 'utf8').trim();
    } catch {
      throw new Error(`${name} serves no dashboard (start the dev mesh with env FCP_DASHBOARD_PORT)`);
    }
  }

  /** The last lines a device's fcpd wrote to stderr. */
  logTail(name: string, lines = 20): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Stops a device's fcpd: SIGTERM for a clean stop, SIGKILL for a crash. */
  async stopDaemon(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.device(name);
    const proc = d.process;
    if (!proc) return;
    const exited = new Promise<void>((r) => proc.once('exit', () => r()));
    proc.kill(signal);
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    d.process = null;
    if (signal === 'SIGKILL') rmSync(join(d.dataDir, CONTROL_SOCKET), { force: true });
  }

  async put(name: string, data: Uint8Array, zone: string, opts: { tolerate?: number } = {}): Promise<string> {
    const q = new URLSearchParams({ zone, ...(opts.tolerate !== undefined ? { tolerate: String(opts.tolerate) } : {}) });
    const r = await this.device(name).control.json<{ objectId: string }>(`/v1/objects?${q}`, { method: 'POST', body: data, contentLength: data.length });
    return r.objectId;
  }

  async get(name: string, objectId: string): Promise<Uint8Array> {
    const res = await this.device(name).control.request(`/v1/objects/${objectId}`);
    if (res.status !== 200) parseJsonReply(res);
    return new Uint8Array(res.body.buffer, res.body.byteOffset, res.body.length);
  }

  async stop(): Promise<void> {
    await Promise.all(this.devices.map((d) => this.stopDaemon(d.name)));
    await this.tailnet.stop();
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
