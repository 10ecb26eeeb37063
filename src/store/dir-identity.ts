// Notices a store directory deleted or replaced under a running store. LMDB keeps writing into
// the open (now unlinked) files and acknowledges the writes, which then vanish at close. Four
// stat calls before each write batch (the directory, both LMDB files, the segments directory)
// compare device and inode with what was opened.
import { statSync } from 'node:fs';
import { join } from 'node:path';

const FILES = ['', 'data.mdb', 'lock.mdb', 'segments'] as const;

export interface DirIdentity {
  readonly dir: string;
  readonly ids: ReadonlyArray<{ path: string; dev: number; ino: number }>;
}

export function identify(dir: string): DirIdentity {
  return {
    dir,
    ids: FILES.map((f) => {
      const path = f === '' ? dir : join(dir, f);
      const st = statSync(path);
      return { path, dev: st.dev, ino: st.ino };
    }),
  };
}

/** Null while everything is where it was opened; otherwise what changed. */
export function changedSince(id: DirIdentity): string | null {
  for (const { path, dev, ino } of id.ids) {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return `${path} was deleted`;
    if (st.dev !== dev || st.ino !== ino) return `${path} was replaced by another file`;
  }
  return null;
}
