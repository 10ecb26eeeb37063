// `fcp raptorq encode|decode`: RaptorQ-encode a file into a directory of packets and rebuild
// it from whatever packets are left there. Coding runs on the worker pool, off the event loop.

import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  closeSharedWorkerPool,
  decodeInWorker,
  encodeInWorker,
  encoderParameters,
  packetEsi,
  packetSbn,
  parseOti,
  ObjectLayout,
  PAYLOAD_ID_LENGTH,
} from '../../raptorq/index.js';

const OTI_FILE = 'object.oti';
const PACKET_DIR = 'packets';
const PROGRESS_THRESHOLD = 4 << 20;

function positiveInt(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${name} must be an integer in ${min}..${max}`);
    return n;
  };
}

/** Progress lines on stderr, only for large objects. */
class Progress {
  private lastPercent = -1;
  constructor(
    private readonly label: string,
    private readonly enabled: boolean,
  ) {}
  step(done: number, total: number): void {
    if (!this.enabled || total === 0) return;
    const percent = Math.floor((done * 100) / total / 10) * 10;
    if (percent === this.lastPercent) return;
    this.lastPercent = percent;
    process.stderr.write(`${this.label}: ${percent}%\n`);
  }
  note(message: string): void {
    if (this.enabled) process.stderr.write(`${this.label}: ${message}\n`);
  }
}

function packetName(packet: Uint8Array): string {
  return `${packetSbn(packet)}-${packetEsi(packet)}.pkt`;
}

async function encodeCommand(file: string, opts: { out: string; symbolSize: number; repair?: number }): Promise<void> {
  const data = new Uint8Array(await readFile(file));
  if (data.length === 0) throw new Error(`${file} is empty; there is nothing to encode`);
  const progress = new Progress('encode', data.length >= PROGRESS_THRESHOLD);
  const started = performance.now();
  progress.note(`${data.length} bytes, symbol size ${opts.symbolSize}`);
  const layout = new ObjectLayout(encoderParameters(data.length, { symbolSize: opts.symbolSize }));
  // Default redundancy: 10% of a block's source symbols as repair, at least 2.
  const repair = opts.repair ?? Math.max(2, Math.ceil(layout.sourceSymbolCount(0) * 0.1));
  const { oti, packets } = await encodeInWorker(data, { symbolSize: opts.symbolSize }, { repairPerBlock: repair });
  progress.note(`encoded in ${(performance.now() - started).toFixed(0)} ms, writing ${packets.length} packets`);
  await mkdir(join(opts.out, PACKET_DIR), { recursive: true });
  await writeFile(join(opts.out, OTI_FILE), oti);
  for (let i = 0; i < packets.length; i++) {
    await writeFile(join(opts.out, PACKET_DIR, packetName(packets[i]!)), packets[i]!);
    progress.step(i + 1, packets.length);
  }
  const sourceCount = packets.filter((p) => packetEsi(p) < layout.sourceSymbolCount(packetSbn(p))).length;
  process.stdout.write(
    `wrote ${opts.out}: ${OTI_FILE} and ${packets.length} packets (${sourceCount} source, ${packets.length - sourceCount} repair) ` +
      `in ${layout.blockCount} block(s), ${PAYLOAD_ID_LENGTH + layout.oti.symbolSize} bytes each\n`,
  );
}

async function decodeCommand(dir: string, opts: { out: string }): Promise<void> {
  const oti = new Uint8Array(await readFile(join(dir, OTI_FILE)));
  const parsed = parseOti(oti);
  const layout = new ObjectLayout(parsed);
  const progress = new Progress('decode', parsed.transferLength >= PROGRESS_THRESHOLD);
  const packetLength = PAYLOAD_ID_LENGTH + parsed.symbolSize;
  const names = (await readdir(join(dir, PACKET_DIR))).filter((n) => n.endsWith('.pkt'));
  const packets: Uint8Array[] = [];
  let skipped = 0;
  for (let i = 0; i < names.length; i++) {
    const bytes = new Uint8Array(await readFile(join(dir, PACKET_DIR, names[i]!)));
    if (bytes.length !== packetLength || bytes[0]! >= parsed.sourceBlocks) skipped++;
    else packets.push(bytes);
    progress.step(i + 1, names.length);
  }
  if (skipped > 0) process.stderr.write(`decode: skipped ${skipped} file(s) that are not packets of this object\n`);
  progress.note(`decoding from ${packets.length} packets`);
  const data = await decodeInWorker(oti, packets);
  if (!data) {
    const counts = new Array<number>(layout.blockCount).fill(0);
    const seen = new Set<number>();
    for (const p of packets) {
      const key = packetSbn(p) * 2 ** 24 + packetEsi(p);
      if (!seen.has(key)) counts[packetSbn(p)]!++;
      seen.add(key);
    }
    const short = counts
      .map((c, sbn) => ({ sbn, c, k: layout.sourceSymbolCount(sbn) }))
      .filter((b) => b.c < b.k + 2)
      .map((b) => `block ${b.sbn}: ${b.c} of ${b.k} needed`)
      .slice(0, 5);
    throw new Error(`not enough packets in ${dir} to rebuild the object (${short.join('; ') || 'rank deficient, add a few more packets'})`);
  }
  await writeFile(opts.out, data);
  process.stdout.write(`rebuilt ${opts.out} (${data.length} bytes) from ${packets.length} packets\n`);
}

export function registerRaptorqCommands(program: Command): void {
  const raptorq = program.command('raptorq').description('RFC 6330 RaptorQ: encode a file into packets, rebuild it from any sufficient subset');
  raptorq
    .command('encode <file>')
    .description('encode <file> into <dir>/object.oti and <dir>/packets/<sbn>-<esi>.pkt')
    .requiredOption('--out <dir>', 'output directory')
    .option('--symbol-size <T>', 'bytes per symbol (packet = T + 4 bytes)', positiveInt('--symbol-size', 1, 65535), 1280)
    .option('--repair <N>', 'repair packets per source block (default: 10% of its symbols)', positiveInt('--repair', 0, 1 << 24))
    .action(async (file: string, opts: { out: string; symbolSize: number; repair?: number }) => {
      try {
        await encodeCommand(file, opts);
      } finally {
        await closeSharedWorkerPool();
      }
    });
  raptorq
    .command('decode <dir>')
    .description('rebuild the object from the packets found in <dir>')
    .requiredOption('--out <file>', 'where to write the rebuilt object')
    .action(async (dir: string, opts: { out: string }) => {
      try {
        await decodeCommand(dir, opts);
      } finally {
        await closeSharedWorkerPool();
      }
    });
}
