// Moves a damaged store directory aside (sibling `<name>.corrupt-<UTC timestamp>`), keeping it
// private (0700) for inspection, so a fresh store can be created at the original path.
import { chmodSync, existsSync, renameSync } from 'node:fs';

function stamp(at: number): string {
  return new Date(at).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** Renames `dir` aside; returns the new path, or null when `dir` does not exist. */
export function moveAside(dir: string, at: number): string | null {
  if (!existsSync(dir)) return null;
  const base = `${dir}.corrupt-${stamp(at)}`;
  let target = base;
  for (let n = 1; existsSync(target); n++) target = `${base}-${n}`;
  renameSync(dir, target);
  chmodSync(target, 0o700);
  return target;
}

export function freshStartMessage(dir: string, movedTo: string | null, reason: string): string {
  const where = movedTo ? `moved to ${movedTo}` : 'it was no longer there';
  return `store at ${dir} was damaged (${reason}), ${where}; started an empty store, symbols will be repaired from the other devices`;
}
