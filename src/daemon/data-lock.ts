// One fcpd per data directory. Two daemons on one LMDB store and one control socket would
// fight over both, so the first takes <dataDir>/fcpd.pid exclusively and a second one is
// refused with the first one's pid. A file left by a daemon that died (SIGKILL, power loss) is
// taken over once its pid is gone or belongs to some other program.
import { open, readFile, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ControlError } from './control-client.js';

export const PID_FILE = 'fcpd.pid';

export interface DataLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Whether `pid` is a live process that looks like fcpd (on Linux, by its command line). */
export function isLiveDaemon(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, owned by someone else.
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /fcp/.test(cmdline);
  } catch {
    return true; // no /proc (macOS): a live pid is taken at its word
  }
}

async function readPid(path: string): Promise<number | undefined> {
  try {
    const n = Number((await readFile(path, 'utf8')).trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

export async function acquireDataLock(dataDir: string, pid = process.pid): Promise<DataLock> {
  const path = join(dataDir, PID_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o600);
      await fh.writeFile(`${pid}\n`);
      await fh.sync();
      await fh.close();
      return {
        path,
        release: async () => {
          // Only our own file: a successor may already have taken over a stale one.
          if ((await readPid(path)) === pid) await rm(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = await readPid(path);
    if (holder !== undefined && holder !== pid && isLiveDaemon(holder)) {
      throw new ControlError(
        'DAEMON_RUNNING',
        `another fcpd (pid ${holder}) already uses ${dataDir}; stop it first ("fcp daemon stop" or "kill ${holder}"), or give this one its own --data-dir`,
      );
    }
    await rm(path, { force: true });
  }
  throw new ControlError('DAEMON_RUNNING', `could not take ${path}: another fcpd keeps starting on ${dataDir}`);
}
