// The one place a zone named by the local user is looked up: an unknown id is an
// UnknownZoneError listing the known zones with a "did you mean", never an empty answer.
import { UnknownZoneError, type Zone, type ZoneRegistry } from '../zones/index.js';

export function requireZone(zones: Pick<ZoneRegistry, 'has' | 'get' | 'all'>, id: string): Zone {
  if (!zones.has(id)) throw new UnknownZoneError(id, zones.all().map((z) => z.id));
  return zones.get(id);
}
