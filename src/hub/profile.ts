// Device profiles (FCP V2 §15.2): what a device offers the hub's placement. The owner sets the
// declared facts (`fcp device set always-on=true ...`, kept in <dataDir>/profile.json); the daemon
// measures the rest (OS, free memory, cores, whether it runs on battery now).
import type { WireProfile } from '../wire/index.js';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { cpus, freemem, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { HubMeshError } from './mesh-errors.js';

/** What the owner declares about a device. */
export interface DeclaredProfile {
  /** A name placement needs can ask for (`device: "nas"`); default the tailnet host name. */
  name?: string;
  /** Stays on and online (a server, a NAS): preferred for singletons. */
  alwaysOn?: boolean;
  /** Someone sits at it (a laptop, a desktop): for connectors that show things or need a browser. */
  interactive?: boolean;
  /** Has a GPU connectors may use (a local model). */
  gpu?: boolean;
}

/** What the daemon measures about its device. */
export interface MeasuredFacts {
  os: string;
  freeMemoryMb: number;
  cpuCores: number;
  /** Running on battery right now. */
  onBattery: boolean;
}

/** The profile a device advertises to its peers: what travels in the FCP `profile` reply. */
export type DeviceProfile = WireProfile;

const BOOLEAN_KEYS = { 'always-on': 'alwaysOn', interactive: 'interactive', gpu: 'gpu' } as const;
const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/**
 * `key=value` words of `fcp device set` as declared settings. Unknown keys, bad booleans and bad
 * names are refused with HUB_BAD_SETTING naming the word.
 */
export function parseSettings(words: readonly string[]): DeclaredProfile {
  if (words.length === 0) throw new HubMeshError('HUB_BAD_SETTING', 'nothing to set: give key=value words (always-on, interactive, gpu, name)');
  const out: DeclaredProfile = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new HubMeshError('HUB_BAD_SETTING', `"${word}" is not key=value`);
    const key = word.slice(0, eq);
    const value = word.slice(eq + 1);
    if (key === 'name') {
      if (!NAME_PATTERN.test(value)) throw new HubMeshError('HUB_BAD_SETTING', `name must be 1-63 letters, digits, '.', '_' or '-', got "${value}"`);
      out.name = value;
    } else if (Object.hasOwn(BOOLEAN_KEYS, key)) {
      if (value !== 'true' && value !== 'false') throw new HubMeshError('HUB_BAD_SETTING', `${key} must be true or false, got "${value}"`);
      out[BOOLEAN_KEYS[key as keyof typeof BOOLEAN_KEYS]] = value === 'true';
    } else {
      throw new HubMeshError('HUB_BAD_SETTING', `unknown setting "${key}" (known: always-on, interactive, gpu, name)`);
    }
  }
  return out;
}

/** Declared settings from untrusted JSON (the profile file, a control API body). */
export function declaredFromJson(value: unknown, where: string): DeclaredProfile {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HubMeshError('HUB_BAD_SETTING', `${where}: must be an object`);
  const v = value as Record<string, unknown>;
  const out: DeclaredProfile = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === 'name') {
      if (typeof x !== 'string' || !NAME_PATTERN.test(x)) throw new HubMeshError('HUB_BAD_SETTING', `${where}: name must be 1-63 letters, digits, '.', '_' or '-'`);
      out.name = x;
    } else if (k === 'alwaysOn' || k === 'interactive' || k === 'gpu') {
      if (typeof x !== 'boolean') throw new HubMeshError('HUB_BAD_SETTING', `${where}: ${k} must be true or false`);
      out[k] = x;
    } else throw new HubMeshError('HUB_BAD_SETTING', `${where}: unknown setting ${k}`);
  }
  return out;
}

/**
 * Whether this machine runs on battery now. Linux: a power supply of type Battery that is
 * discharging (sysfs, as upower reads it). Elsewhere unknown, taken as false: no npm package
 * reads this without pulling in a whole system-information suite.
 */
export function onBatteryNow(root = '/sys/class/power_supply'): boolean {
  if (platform() !== 'linux' || !existsSync(root)) return false;
  try {
    for (const name of readdirSync(root)) {
      const read = (f: string) => readFileSync(join(root, name, f), 'utf8').trim();
      if (read('type') === 'Battery' && read('status') === 'Discharging') return true;
    }
  } catch {
    return false;
  }
  return false;
}

export function measureFacts(): MeasuredFacts {
  return { os: platform(), freeMemoryMb: Math.floor(freemem() / (1024 * 1024)), cpuCores: cpus().length, onBattery: onBatteryNow() };
}

export function buildProfile(declared: DeclaredProfile, facts: MeasuredFacts, hostName: string): DeviceProfile {
  return {
    name: declared.name ?? hostName,
    alwaysOn: declared.alwaysOn ?? false,
    interactive: declared.interactive ?? false,
    gpu: declared.gpu ?? false,
    onBattery: facts.onBattery,
    os: facts.os,
    freeMemoryMb: facts.freeMemoryMb,
    cpuCores: facts.cpuCores,
  };
}

export const PROFILE_FILE = 'profile.json';

/** The declared profile of a device, on disk in its data directory. */
export class ProfileFile {
  constructor(private readonly dataDir: string) {}

  get path(): string {
    return join(this.dataDir, PROFILE_FILE);
  }

  load(): DeclaredProfile {
    if (!existsSync(this.path)) return {};
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (err) {
      throw new HubMeshError('HUB_BAD_SETTING', `${this.path}: ${(err as Error).message}`);
    }
    return declaredFromJson(json, this.path);
  }

  /** Merges settings into the file (written whole, then renamed: never half a file). */
  async update(settings: DeclaredProfile): Promise<DeclaredProfile> {
    const next = { ...this.load(), ...settings };
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify(next, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, this.path);
    return next;
  }
}
