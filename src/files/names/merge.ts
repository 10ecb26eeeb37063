// Three-way merge of directory trees: what two devices changed concurrently since their common
// ancestor, combined so that neither change is lost and every device computes the same result.
//
// Rules, per name (decided on entries, recursing into directories changed on both sides):
// - changed on one side only: that side's version (a deletion is a change);
// - the same change on both sides: taken once;
// - a file changed differently on both sides: both are kept; the version with the later mtime
//   (then the greater writer host, then the greater content id) keeps the name, the other gets
//   a Syncthing-style conflict name `a.sync-conflict-YYYYMMDD-HHMMSS-<host>.jpg` from its own
//   mtime (UTC) and writer;
// - deleted on one side, changed on the other: the change wins (for a directory, per entry
//   inside it: what the other side changed stays, what it left alone goes);
// - a file on one side and a directory on the other: the directory keeps the name, the file
//   gets the conflict name.
// Inputs and tie-breaks are all content, never the local clock or device, so the result is
// the same on every device.
import { compareNames, type Entry } from './codec.js';
import { MAX_NAME_BYTES } from './path.js';
import { Dir } from './tree.js';

function same(x: Entry | undefined, y: Entry | undefined): boolean {
  if (!x || !y) return x === y;
  if (x.kind !== y.kind || x.ref === '' || x.ref !== y.ref) return false;
  return x.kind === 'dir' || (x.mode === y.mode && x.mtime === y.mtime);
}

/** Which of two different file versions keeps the name: later mtime, then host, then id. */
function newer(x: Entry, y: Entry): boolean {
  if (x.mtime !== y.mtime) return x.mtime > y.mtime;
  if (x.by !== y.by) return x.by > y.by;
  return x.ref > y.ref;
}

const two = (n: number) => String(n).padStart(2, '0');

/** `a.jpg` → `a.sync-conflict-20260102-030405-laptop.jpg` (Syncthing's format). */
export function conflictName(name: string, mtime: number, host: string, taken: (n: string) => boolean): string {
  const d = new Date(mtime);
  const stamp = `${d.getUTCFullYear()}${two(d.getUTCMonth() + 1)}${two(d.getUTCDate())}-${two(d.getUTCHours())}${two(d.getUTCMinutes())}${two(d.getUTCSeconds())}`;
  const who = host.replace(/[^A-Za-z0-9-]/g, '') || 'unknown';
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; n < 1000; n++) {
    const tag = `.sync-conflict-${stamp}-${who}${n > 1 ? `-${n}` : ''}`;
    const room = MAX_NAME_BYTES - Buffer.byteLength(tag + ext);
    const candidate = `${truncateUtf8(stem, Math.max(1, room))}${tag}${ext}`;
    if (!taken(candidate)) return candidate;
  }
  return `${name}.sync-conflict-${stamp}-${who}-${mtime}`;
}

/** The longest prefix of `s` (whole characters) that fits in `bytes` UTF-8 bytes. */
function truncateUtf8(s: string, bytes: number): string {
  if (Buffer.byteLength(s) <= bytes) return s;
  let out = '';
  for (const ch of s) {
    if (Buffer.byteLength(out + ch) > bytes) break;
    out += ch;
  }
  return out;
}

async function childOf(d: Dir | null, name: string): Promise<Dir | null> {
  if (!d) return null;
  const e = d.entry(name);
  return e && e.kind === 'dir' ? d.child(name) : null;
}

/** Merges `a` and `b` (either may be null: deleted) against their common ancestor `base`. */
export async function merge3(base: Dir | null, a: Dir | null, b: Dir | null, empty: () => Dir): Promise<Dir> {
  const out = empty();
  const names = new Set<string>([...(base?.names() ?? []), ...(a?.names() ?? []), ...(b?.names() ?? [])]);
  const conflicts: Array<{ name: string; entry: Entry }> = [];
  const take = async (name: string, from: Dir | null, e: Entry | undefined) => {
    if (!e || !from) return;
    out.set(name, e, e.kind === 'dir' && e.ref === '' ? await from.child(name) : from.loadedChild(name));
  };
  for (const name of [...names].sort(compareNames)) {
    const o = base?.entry(name);
    const x = a?.entry(name);
    const y = b?.entry(name);
    if (same(x, y)) await take(name, a, x);
    else if (same(o, x)) await take(name, b, y);
    else if (same(o, y)) await take(name, a, x);
    else if (x?.kind === 'dir' && y?.kind === 'dir') {
      const merged = await merge3(o?.kind === 'dir' ? await childOf(base, name) : null, await a!.child(name), await b!.child(name), empty);
      out.set(name, { ...merged.summary(x), ref: '' }, merged);
    } else if (!x || !y) {
      // Deleted on one side, changed on the other: the change wins.
      const [side, e] = x ? [a, x] : [b, y!];
      if (e.kind === 'dir' && o?.kind === 'dir') {
        const merged = await merge3(await childOf(base, name), x ? await a!.child(name) : null, y ? await b!.child(name) : null, empty);
        if (merged.size > 0) out.set(name, { ...merged.summary(e), ref: '' }, merged);
      } else await take(name, side, e);
    } else if (x.kind === 'file' && y.kind === 'file') {
      if (x.ref === y.ref) await take(name, a, newer(x, y) ? x : y);
      else {
        const [keep, other] = newer(x, y) ? [x, y] : [y, x];
        out.set(name, keep);
        conflicts.push({ name, entry: other });
      }
    } else {
      const [dirSide, dirEntry, fileEntry] = x.kind === 'dir' ? [a, x, y] : [b, y, x];
      await take(name, dirSide, dirEntry);
      conflicts.push({ name, entry: fileEntry });
    }
  }
  // Conflict copies are named after every regular name is placed, so a name that exists on
  // either side is never taken by a copy.
  for (const c of conflicts) {
    const n = conflictName(c.name, c.entry.mtime, c.entry.by, (cand) => out.entry(cand) !== undefined || names.has(cand));
    out.set(n, c.entry);
  }
  return out;
}
