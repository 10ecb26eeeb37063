// Community keys: what a person hands to the people they let call the operations their manifests
// expose to `community`. A key is shown once when made; only its SHA-256 is kept (in
// funnel-keys.json, mode 0600), with its id, name and revocation. The secret part is 32 random
// bytes, so a fast hash is enough: there is nothing small to guess through it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FcpError } from '../errors/index.js';

export class CommunityKeyError extends FcpError {}

export interface CommunityKeyInfo {
  id: string;
  name: string;
  created: string;
  revoked?: string;
}

interface Stored extends CommunityKeyInfo {
  sha256: string;
}

const KEY_RE = /^fcpk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/;
export const COMMUNITY_KEYS_FILE = 'funnel-keys.json';

const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

export class CommunityKeys {
  private keys: Stored[] | null = null;

  constructor(private readonly dataDir: string) {}

  private get path(): string {
    return join(this.dataDir, COMMUNITY_KEYS_FILE);
  }

  private async load(): Promise<Stored[]> {
    if (this.keys) return this.keys;
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return (this.keys = []);
    }
    try {
      const v = JSON.parse(text) as unknown;
      if (!Array.isArray(v) || !v.every((k) => typeof k?.id === 'string' && typeof k?.sha256 === 'string' && typeof k?.name === 'string')) throw new Error('not a list of keys');
      return (this.keys = v as Stored[]);
    } catch (err) {
      throw new CommunityKeyError('GATEWAY_KEYS_DAMAGED', `${this.path} is damaged (${(err as Error).message}); move it away to start a new key list`);
    }
  }

  private async save(keys: Stored[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
    await rename(tmp, this.path);
    this.keys = keys;
  }

  /** A new key: its text (shown once, never stored) and its record. */
  async add(name: string): Promise<{ key: string; info: CommunityKeyInfo }> {
    if (!NAME_RE.test(name)) throw new CommunityKeyError('GATEWAY_BAD_KEY_NAME', `a key name is 1 to 64 letters, digits, spaces or ._@- (got ${JSON.stringify(name)})`);
    const keys = await this.load();
    if (keys.some((k) => k.name === name && !k.revoked)) throw new CommunityKeyError('GATEWAY_KEY_EXISTS', `a key named ${name} exists; revoke it first or pick another name`);
    const id = randomBytes(6).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const info: CommunityKeyInfo = { id, name, created: new Date().toISOString() };
    await this.save([...keys, { ...info, sha256: digest(secret).toString('hex') }]);
    return { key: `fcpk_${id}_${secret}`, info };
  }

  async list(): Promise<CommunityKeyInfo[]> {
    return (await this.load()).map(({ sha256: _, ...info }) => info);
  }

  /** Revokes by id or name; the record stays (so `ls` shows when). */
  async revoke(which: string): Promise<CommunityKeyInfo> {
    const keys = await this.load();
    const k = keys.find((x) => !x.revoked && (x.id === which || x.name === which));
    if (!k) throw new CommunityKeyError('GATEWAY_NO_SUCH_KEY', `no live community key ${JSON.stringify(which)} (see fcp funnel key ls)`);
    const revoked = new Date().toISOString();
    await this.save(keys.map((x) => (x === k ? { ...x, revoked } : x)));
    const { sha256: _, ...info } = { ...k, revoked };
    return info;
  }

  /** The id of the live key `presented` is, or null (malformed, unknown, revoked or wrong). */
  async identify(presented: string): Promise<string | null> {
    const m = KEY_RE.exec(presented.trim());
    if (!m) return null;
    const k = (await this.load()).find((x) => x.id === m[1] && !x.revoked);
    if (!k) return null;
    const want = Buffer.from(k.sha256, 'hex');
    const got = digest(m[2]!);
    return want.length === got.length && timingSafeEqual(want, got) ? k.id : null;
  }
}
