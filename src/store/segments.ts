// Large symbol envelopes live in append-only data files beside LMDB ("segments"); LMDB keeps
// only where each one is. Read out of LMDB's map, every envelope a device served stayed in its
// resident set (a holder of 1 GiB passed 2 GiB RSS); read with pread they pass through the page
// cache, which is the kernel's to reclaim, the copy happens off the event loop, and the symbols
// a batch stored side by side come back in one read.
//
// A segment is only ever appended to, by the process holding the store. Data is made durable
// (fdatasync) before the LMDB transaction that points at it commits, so a pointer never names
// bytes that a crash could lose. What a crash or a refused batch leaves behind is dead space,
// like deleted envelopes: the store's compaction copies the live envelopes of a mostly dead
// segment forward and unlinks it.
import { closeSync, fdatasync, fsyncSync, mkdirSync, openSync, readdirSync, read, statSync, unlinkSync, writev, readSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

const writevAsync = promisify(writev);
const fdatasyncAsync = promisify(fdatasync);
const readAsync = promisify(read);

/** Envelopes at least this long go to a segment; shorter ones stay in LMDB's leaves. */
export const SEGMENT_MIN_BYTES = 2048;
/** A segment is sealed and a new one begun once it would grow past this. */
export const SEGMENT_BYTES = 64 * 1024 * 1024;
/** Open descriptors kept for reading sealed segments (the least recently used are closed). */
const OPEN_SEGMENTS = 64;
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;
const NAME = /^(\d{8})\.seg$/;

/** Where an envelope is: segment number, byte offset, length. */
export interface Location {
  seg: number;
  off: number;
  len: number;
}

// A stored value naming a location: tag(1) || seg(u32) || offset(u64) || length(u32). No sealed
// envelope is this short (header 48 + tag 16), and an envelope starting with the tag byte is
// always put in a segment, so a 17-byte value starting with it is never an envelope.
const LOCATION_TAG = 0xff;
const LOCATION_BYTES = 17;

export function encodeLocation(l: Location): Buffer {
  const b = Buffer.allocUnsafe(LOCATION_BYTES);
  b[0] = LOCATION_TAG;
  b.writeUInt32BE(l.seg, 1);
  b.writeBigUInt64BE(BigInt(l.off), 5);
  b.writeUInt32BE(l.len, 13);
  return b;
}

/** The location a stored value names, or null when the value is the envelope itself. */
export function decodeLocation(value: Uint8Array): Location | null {
  if (value.length !== LOCATION_BYTES || value[0] !== LOCATION_TAG) return null;
  const b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  return { seg: b.readUInt32BE(1), off: Number(b.readBigUInt64BE(5)), len: b.readUInt32BE(13) };
}

/** Whether an envelope must be stored in a segment rather than in LMDB. */
export function goesToSegment(envelope: Uint8Array): boolean {
  return envelope.length >= SEGMENT_MIN_BYTES || (envelope.length === LOCATION_BYTES && envelope[0] === LOCATION_TAG);
}

/** Length of the envelope a stored value is or names. */
export function storedLength(value: Uint8Array): number {
  return decodeLocation(value)?.len ?? value.length;
}

export function sameLocation(a: Location, b: Location): boolean {
  return a.seg === b.seg && a.off === b.off && a.len === b.len;
}

/** A read that found a segment missing or shorter than a location says: the files are damaged. */
export class SegmentDamage extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(message);
    this.name = 'SegmentDamage';
  }
}

interface OpenSegment {
  fd: number;
  /** Reads under way; a retired or evicted segment's descriptor is closed when they end. */
  refs: number;
  retired: boolean;
  used: number;
}

/** Batches fdatasync calls on one descriptor: callers that wrote before a sync began share it. */
class SyncGroup {
  private running: Promise<void> | null = null;
  private next: Promise<void> | null = null;

  constructor(private readonly fd: number) {}

  sync(): Promise<void> {
    if (!this.running) {
      const run = fdatasyncAsync(this.fd).finally(() => {
        if (this.running === run) this.running = null;
      });
      this.running = run;
      return run;
    }
    // A sync already running may have begun before this caller's write ended: wait for the next.
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = null;
        return this.sync();
      });
    return this.next;
  }
}

export class SegmentFiles {
  readonly dir: string;
  private readonly open = new Map<number, OpenSegment>();
  private active = -1;
  private activeFd = -1;
  private activeEnd = 0;
  private activeSync: SyncGroup | null = null;
  private nextSeg: number;
  private tick = 0;
  private closed = false;

  private constructor(
    dir: string,
    nextSeg: number,
    private readonly segmentBytes: number,
  ) {
    this.dir = dir;
    this.nextSeg = nextSeg;
  }

  /**
   * Opens `<storeDir>/segments` (creating it). Segment files not in `live` hold nothing any
   * pointer names (an append whose transaction never committed, a compacted segment whose
   * unlink a crash cut off) and are removed. Appends always begin a new segment, so only
   * sealed segments ever hold dead bytes.
   */
  static open(storeDir: string, live: ReadonlySet<number>, segmentBytes = SEGMENT_BYTES): SegmentFiles {
    const dir = join(storeDir, 'segments');
    mkdirSync(dir, { recursive: true, mode: DIR_MODE });
    let max = -1;
    for (const name of readdirSync(dir)) {
      const m = NAME.exec(name);
      if (!m) continue;
      const seg = Number(m[1]);
      max = Math.max(max, seg);
      if (!live.has(seg)) unlinkSync(join(dir, name));
    }
    for (const seg of live) max = Math.max(max, seg);
    return new SegmentFiles(dir, max + 1, segmentBytes);
  }

  path(seg: number): string {
    return join(this.dir, `${String(seg).padStart(8, '0')}.seg`);
  }

  /** The segment appends go to now (-1 before the first append and after sealActive). */
  activeSegment(): number {
    return this.active;
  }

  /** Seals the active segment: the next append begins a new one (and this one may be compacted). */
  sealActive(): void {
    this.active = -1;
    this.activeFd = -1;
    this.activeSync = null;
  }

  /** Segment numbers of the files present. */
  list(): number[] {
    const out: number[] = [];
    for (const name of readdirSync(this.dir)) {
      const m = NAME.exec(name);
      if (m) out.push(Number(m[1]));
    }
    return out.sort((a, b) => a - b);
  }

  size(seg: number): number {
    return statSync(this.path(seg), { throwIfNoEntry: false })?.size ?? 0;
  }

  /**
   * Writes `values` one after another into the active segment and makes them durable; resolves
   * with their locations, the segment left acquired: the caller releases it once the transaction
   * naming them has committed (or failed), so compaction never takes a segment with pointers in
   * flight. On failure nothing stays acquired and the bytes reserved are dead space.
   */
  async append(values: readonly Uint8Array[]): Promise<Location[]> {
    this.ensureOpen();
    const total = values.reduce((n, v) => n + v.length, 0);
    if (this.active < 0 || (this.activeEnd > 0 && this.activeEnd + total > this.segmentBytes)) this.roll();
    const seg = this.active;
    const fd = this.activeFd;
    const sync = this.activeSync!;
    const start = this.activeEnd;
    this.activeEnd += total;
    const locs: Location[] = [];
    let off = start;
    for (const v of values) {
      locs.push({ seg, off, len: v.length });
      off += v.length;
    }
    const entry = this.open.get(seg)!;
    entry.refs++;
    try {
      let written = 0;
      // writev may write less than asked (a signal, a nearly full disk): go on from there.
      while (written < total) {
        const rest = sliceFrom(values, written);
        const { bytesWritten } = await writevAsync(fd, rest, start + written);
        if (bytesWritten === 0) throw Object.assign(new Error(`no bytes written to ${this.path(seg)}`), { code: 'ENOSPC' });
        written += bytesWritten;
      }
      await sync.sync();
    } catch (err) {
      this.release(seg);
      throw err;
    }
    return locs;
  }

  /** Begins a new segment: created, and its directory entry made durable, before any pointer names it. */
  private roll(): void {
    const seg = this.nextSeg++;
    const fd = openSync(this.path(seg), 'wx+', FILE_MODE);
    const dirFd = openSync(this.dir, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
    if (this.active >= 0) {
      const old = this.open.get(this.active);
      if (old) old.used = ++this.tick;
    }
    this.open.set(seg, { fd, refs: 0, retired: false, used: ++this.tick });
    this.active = seg;
    this.activeFd = fd;
    this.activeEnd = 0;
    this.activeSync = new SyncGroup(fd);
    this.evict();
  }

  /**
   * Pins a segment's descriptor for a read (synchronously, so a segment retired after the index
   * was read stays readable); pair with `release`. Throws SegmentDamage when the file is missing.
   */
  acquire(seg: number): void {
    this.ensureOpen();
    let entry = this.open.get(seg);
    // No pointer names a retired segment: asking for one means the index is damaged.
    if (entry?.retired) throw new SegmentDamage(`the data file ${this.path(seg)} was removed`, this.path(seg));
    if (!entry) {
      let fd: number;
      try {
        fd = openSync(this.path(seg), 'r');
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw new SegmentDamage(`the data file ${this.path(seg)} is missing`, this.path(seg));
        throw err;
      }
      entry = { fd, refs: 0, retired: false, used: 0 };
      this.open.set(seg, entry);
      this.evict();
    }
    entry.refs++;
    entry.used = ++this.tick;
  }

  /** Whether reads or appends are under way on a segment. */
  busy(seg: number): boolean {
    return (this.open.get(seg)?.refs ?? 0) > 0;
  }

  release(seg: number): void {
    const entry = this.open.get(seg);
    if (!entry) return;
    entry.refs--;
    if (entry.refs === 0 && (entry.retired || this.closed)) this.closeEntry(seg, entry);
  }

  /** Reads an envelope of an acquired segment, synchronously (rare: comparing a re-put). */
  readSync(loc: Location): Buffer {
    const buf = Buffer.allocUnsafe(loc.len);
    const n = readSync(this.open.get(loc.seg)!.fd, buf, 0, loc.len, loc.off);
    if (n !== loc.len) throw this.short(loc, n);
    return buf;
  }

  /**
   * Reads envelopes of acquired segments (the caller releases them), one read per run of
   * envelopes stored side by side; results in the order of `locs`.
   */
  async readMany(locs: readonly Location[]): Promise<Buffer[]> {
    const out = new Array<Buffer>(locs.length);
    const reads: Promise<void>[] = [];
    let i = 0;
    while (i < locs.length) {
      const first = locs[i]!;
      let j = i + 1;
      let end = first.off + first.len;
      while (j < locs.length && locs[j]!.seg === first.seg && locs[j]!.off === end) end += locs[j++]!.len;
      const from = i;
      const to = j;
      reads.push(
        (async () => {
          const buf = Buffer.allocUnsafe(end - first.off);
          let got = 0;
          while (got < buf.length) {
            const { bytesRead } = await readAsync(this.open.get(first.seg)!.fd, buf, got, buf.length - got, first.off + got);
            if (bytesRead === 0) break;
            got += bytesRead;
          }
          if (got !== buf.length) throw this.short({ seg: first.seg, off: first.off, len: buf.length }, got);
          let at = 0;
          for (let k = from; k < to; k++) {
            out[k] = buf.subarray(at, at + locs[k]!.len);
            at += locs[k]!.len;
          }
        })(),
      );
      i = j;
    }
    await Promise.all(reads);
    return out;
  }

  /** Removes a segment no pointer names any more; reads under way on it still finish. */
  retire(seg: number): void {
    if (seg === this.active) return;
    try {
      unlinkSync(this.path(seg));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const entry = this.open.get(seg);
    if (!entry) return;
    entry.retired = true;
    if (entry.refs === 0) this.closeEntry(seg, entry);
  }

  /** Closes every descriptor once its reads end; appends and new reads are refused. */
  close(): void {
    this.closed = true;
    for (const [seg, entry] of this.open) if (entry.refs === 0) this.closeEntry(seg, entry);
  }

  private short(loc: Location, got: number): SegmentDamage {
    const path = this.path(loc.seg);
    return new SegmentDamage(`the data file ${path} ends early: ${got} of ${loc.len} bytes at offset ${loc.off}`, path);
  }

  private closeEntry(seg: number, entry: OpenSegment): void {
    if (this.open.get(seg) !== entry) return;
    this.open.delete(seg);
    if (seg === this.active) {
      this.active = -1;
      this.activeFd = -1;
      this.activeSync = null;
    }
    closeSync(entry.fd);
  }

  /** Keeps at most OPEN_SEGMENTS descriptors: closes idle sealed ones, least recently used first. */
  private evict(): void {
    if (this.open.size <= OPEN_SEGMENTS) return;
    const idle = [...this.open].filter(([seg, e]) => e.refs === 0 && seg !== this.active).sort((a, b) => a[1].used - b[1].used);
    for (const [seg, entry] of idle) {
      if (this.open.size <= OPEN_SEGMENTS) break;
      this.closeEntry(seg, entry);
    }
  }

  private ensureOpen(): void {
    if (this.closed) throw Object.assign(new Error('the segment files are closed'), { code: 'ECLOSED' });
  }
}

/** The buffers of `values` from byte `skip` on (whole buffers after a partial first one). */
function sliceFrom(values: readonly Uint8Array[], skip: number): Uint8Array[] {
  if (skip === 0) return values as Uint8Array[];
  const out: Uint8Array[] = [];
  for (const v of values) {
    if (skip >= v.length) {
      skip -= v.length;
      continue;
    }
    out.push(skip > 0 ? v.subarray(skip) : v);
    skip = 0;
  }
  return out;
}
