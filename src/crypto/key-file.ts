// Key files: written with mode 0600 (atomically, via a temporary file) and refused on read when
// group or others could read them, like ssh does with private keys.
import { chmod, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CryptoError } from './errors.js';

export async function writeKeyFile(path: string, bytes: Uint8Array): Promise<void> {
  if (!(bytes instanceof Uint8Array)) throw new CryptoError('CRYPTO_BAD_INPUT', 'key file contents must be a Uint8Array');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  // The umask may only remove bits, but be explicit in case the file pre-existed under this name.
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export async function readKeyFile(path: string): Promise<Uint8Array> {
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CryptoError('CRYPTO_KEY_FILE_MISSING', `key file ${path} does not exist; run \`fcp init\` first`);
    }
    throw err;
  }
  if (!info.isFile()) throw new CryptoError('CRYPTO_BAD_KEY', `key file ${path} is not a regular file`);
  if ((info.mode & 0o077) !== 0) {
    throw new CryptoError(
      'CRYPTO_KEY_FILE_PERMS',
      `key file ${path} is readable by group or others (mode ${(info.mode & 0o777).toString(8)}); run \`chmod 600 ${path}\``,
    );
  }
  return new Uint8Array(await readFile(path));
}
