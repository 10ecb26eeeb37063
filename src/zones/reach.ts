// Network reachability on the FCP port that the generated tailnet policy
// grants, as a function the mesh can ask before placing data.
//  - devices of one zone reach each other;
//  - a zone reaches the devices of lower zones (it dominates them on both axes);
//  - zones at z:private's confidentiality or above also reach higher zones
//    (so private data can use owner devices for redundancy); no other
//    lower-to-higher connection;
//  - devices at z:community's confidentiality or below are reached by
//    nothing on the tailnet: only through Funnel.
import { COMMUNITY_CONFIDENTIALITY, PRIVATE_CONFIDENTIALITY, type Zone } from './zone.js';

function dominates(a: Zone, b: Zone): boolean {
  return a.integrity >= b.integrity && a.confidentiality >= b.confidentiality;
}

/** May a device of zone `from` open TCP 9473 to a device of zone `to`? */
export function mayConnect(from: Zone, to: Zone): boolean {
  if (to.confidentiality <= COMMUNITY_CONFIDENTIALITY) return false;
  if (from.id === to.id) return true;
  if (dominates(from, to)) return true;
  return dominates(to, from) && from.confidentiality >= PRIVATE_CONFIDENTIALITY;
}
