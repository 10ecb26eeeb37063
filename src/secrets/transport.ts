// The transport the secrets layer needs from the mesh. The mesh implements it over its TCP
// server (one request frame, one reply frame, caller authenticated by whois + zone on the
// receiving side); tests implement it in process. Secrets never imports the mesh itself.

export interface SecretsPeer {
  nodeId: string;
  name: string;
  zones: string[];
  /** X25519 public key shares are sealed to. */
  boxPublicKey: Uint8Array;
  self: boolean;
}

/** One audited request or decision. Never carries secret, share or key bytes. */
export interface SecretsAuditEvent {
  op: string;
  name: string;
  /** nodeId of the other device, when one is involved. */
  peer?: string;
  ok: boolean;
  /** Error code or short reason; no secret material. */
  reason?: string;
}

export type SecretsAuditSink = (event: SecretsAuditEvent) => void;

import type { Principal } from '../authz/index.js';

/** The authenticated caller, as the mesh established it (whois -> node, tags -> zones). */
export interface RequestOrigin {
  nodeId: string;
  zones: string[];
  /** Who the front door says is asking; decisions about it are made by the holder's `mayHandle`. */
  principal?: Principal;
}

export interface SecretsTransport {
  readonly self: SecretsPeer;
  /** This device's X25519 secret key. */
  readonly boxSecretKey: Uint8Array;
  /** Online devices allowed to hold `zone`, ranked best first, self included when eligible. */
  eligiblePeers(zone: string): Promise<SecretsPeer[]>;
  /** Opaque request -> reply; the receiving mesh authenticates the caller (whois + zone). */
  request(peer: SecretsPeer, body: Uint8Array): Promise<Uint8Array>;
  audit?(event: SecretsAuditEvent): void;
  /** Optional: how this device presents itself to its own holder (with its principal, in the mesh). */
  selfOrigin?(): RequestOrigin;
  /**
   * Optional: every online device running the mesh, ranked. Used to find secrets by name when
   * this device holds no share of them. Without it the secrets layer asks the eligible devices
   * of each zone this device belongs to.
   */
  onlinePeers?(): Promise<SecretsPeer[]>;
}

/**
 * Decides whether a device whose zones are `memberZones` may hold or read shares of a secret in
 * `secretZone`. The default admits exact zone membership only; the mesh passes its zone-flow
 * rule (a more confidential zone may hold a less confidential zone's data) when it has one.
 */
export type ZoneRule = (memberZones: readonly string[], secretZone: string) => boolean;

export const exactZoneRule: ZoneRule = (memberZones, secretZone) => memberZones.includes(secretZone);
