// The zones a device uses: the built-in ones, or those of its custom zones file (JSON).
import { readFileSync } from 'node:fs';
import { ZoneRegistry } from '../zones/index.js';
import type { DeviceConfig } from './config.js';
import { ControlError } from './control-client.js';

export function loadZones(cfg: Pick<DeviceConfig, 'zonesFile'>): ZoneRegistry {
  if (!cfg.zonesFile) return ZoneRegistry.builtin();
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(cfg.zonesFile, 'utf8'));
  } catch (err) {
    throw new ControlError('CONFIG_INVALID', `zones file ${cfg.zonesFile}: ${(err as Error).message}`);
  }
  return ZoneRegistry.fromConfig(json);
}
