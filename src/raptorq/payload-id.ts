// FEC Payload ID (RFC 6330 section 3.2): SBN (8 bits) then ESI (24 bits), big-endian,
// at the start of every packet, followed by one symbol.

import { BadPacketError, EsiOutOfRangeError, SbnOutOfRangeError } from './errors.js';

export const PAYLOAD_ID_LENGTH = 4;
export const MAX_ESI = 0xffffff;

export function packetSbn(packet: Uint8Array): number {
  if (packet.length < PAYLOAD_ID_LENGTH) throw new BadPacketError(`a packet needs at least ${PAYLOAD_ID_LENGTH} bytes, got ${packet.length}`);
  return packet[0]!;
}

export function packetEsi(packet: Uint8Array): number {
  if (packet.length < PAYLOAD_ID_LENGTH) throw new BadPacketError(`a packet needs at least ${PAYLOAD_ID_LENGTH} bytes, got ${packet.length}`);
  return (packet[1]! << 16) | (packet[2]! << 8) | packet[3]!;
}

export function writePayloadId(packet: Uint8Array, sbn: number, esi: number): void {
  if (!Number.isInteger(sbn) || sbn < 0 || sbn > 255) throw new SbnOutOfRangeError(`SBN must be 0..255, got ${sbn}`);
  if (!Number.isInteger(esi) || esi < 0 || esi > MAX_ESI) throw new EsiOutOfRangeError(`ESI must be 0..${MAX_ESI}, got ${esi}`);
  packet[0] = sbn;
  packet[1] = esi >>> 16;
  packet[2] = (esi >>> 8) & 0xff;
  packet[3] = esi & 0xff;
}
