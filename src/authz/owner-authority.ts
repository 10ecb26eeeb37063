// The owner's authority as the rest of the mesh sees it: a public key every device trusts, a
// way to have something signed by it (k of the owner devices, FROST, never the whole key), and
// this device's grant (an owner-signed root token whose holder is this device's node key, from
// which the device attenuates the tokens it hands out and proves local invokes).

export interface OwnerAuthority {
  /** The owner's Ed25519 public key (the FROST group key), once the owner key exists. */
  publicKey(): Uint8Array | undefined;
  /**
   * A plain Ed25519 signature by the owner key over `message`, made with k of the owner devices
   * (two rounds over FCP). Throws a typed error (OWNER_*) when the key does not exist yet or
   * fewer than k owner devices answer.
   */
  sign(message: Uint8Array, purpose: string): Promise<Uint8Array>;
  /** This device's grant (COSE_Sign1 token bytes), once the owner key exists and has granted it. */
  deviceGrant(): Uint8Array | undefined;
}
