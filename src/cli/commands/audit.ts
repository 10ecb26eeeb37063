// fcp audit log / verify: this device's audit logs, through the running fcpd.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { AuditError, verifyEventProof, type EventProof } from '../../audit/index.js';
import type { ControlClient } from '../../daemon/control-client.js';
import { ControlError } from '../../daemon/control-client.js';

interface Entry {
  zone: string;
  index: number;
  event: { at: number; kind: string; principal: string; action?: string; allow?: boolean; reason?: string; subject?: string };
}
interface Report {
  origin: string;
  entries: number;
  checkpoints: number;
  problems: Array<{ kind: string; index?: number; detail: string }>;
  /** A log under a key its device no longer has (it was reset), checked with that key. */
  retired?: boolean;
}

/** "10m", "2h", "3d" ago, or an ISO time, as epoch ms. */
export function parseSince(text: string, now = Date.now()): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (m) return now - Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new ControlError('CLI_BAD_ARGUMENT', `--since takes a duration like 10m, 2h, 3d or an ISO time, not ${JSON.stringify(text)}`);
  return t;
}

export function registerAuditCommands(program: Command, control: (cmd: Command) => ControlClient): void {
  const audit = program.command('audit').description('this device\'s audit logs: every decision, per zone, signed and verifiable');
  audit
    .command('log')
    .description('list audit entries, oldest first')
    .option('--zone <zone>', 'only this zone\'s log (`device` for decisions about the device as a whole)')
    .option('--since <when>', 'only entries from this long ago (10m, 2h, 3d) or this ISO time')
    .option('--limit <n>', 'only the last n entries', '100')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp audit log --since 1h\n  fcp audit log --zone z:owner --limit 20 --json\n')
    .action(async (opts: { zone?: string; since?: string; limit: string; json?: boolean }, cmd: Command) => {
      const q = new URLSearchParams({ limit: opts.limit });
      if (opts.zone) q.set('zone', opts.zone);
      if (opts.since) q.set('since', String(parseSince(opts.since)));
      const entries = await control(cmd).json<Entry[]>(`/v1/audit?${q}`);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
      if (entries.length === 0) return void process.stdout.write('no audit entries\n');
      const lines = entries.map((e) => {
        const outcome = e.event.allow === undefined ? '' : e.event.allow ? 'allowed' : `REFUSED (${e.event.reason ?? 'denied'})`;
        return `${new Date(e.event.at).toISOString()}  ${`${e.zone}#${e.index}`.padEnd(18)} ${e.event.kind.padEnd(15)} ${(e.event.action ?? '').padEnd(16)} ${outcome.padEnd(22)} ${e.event.principal}${e.event.subject ? `  ${e.event.subject}` : ''}`;
      });
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  audit
    .command('verify')
    .description('check every log (entry links, checkpoint signatures and roots) against what the witnesses cosigned, and every log the witnesses hold for forks; exits 7 if anything is wrong')
    .option('--min-witnesses <n>', 'cosignatures the latest checkpoint of each log needs (default: 1 where the zone has another device)')
    .option('--proof <file>', 'check a proof file from `fcp audit proof --json` offline instead (no daemon needed)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  fcp audit verify\n  fcp audit verify --proof proof.json\n')
    .action(async (opts: { json?: boolean; proof?: string; minWitnesses?: string }, cmd: Command) => {
      if (opts.proof) return checkProofFile(opts.proof, opts.json ?? false);
      const q = opts.minWitnesses !== undefined ? `?min-witnesses=${encodeURIComponent(opts.minWitnesses)}` : '';
      const reports = await control(cmd).json<Report[]>(`/v1/audit/verify${q}`, { method: 'POST' });
      const problems = reports.flatMap((r) => r.problems.map((p) => ({ origin: r.origin, ...p })));
      if (opts.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
      else {
        for (const r of reports) process.stdout.write(`${r.problems.length === 0 ? 'ok  ' : 'FAIL'} ${r.origin}${r.retired ? ' (before a reset: its old key)' : ''}: ${r.entries} entries, ${r.checkpoints} checkpoints\n`);
        for (const p of problems) process.stdout.write(`  ${p.origin}${p.index !== undefined ? ` entry ${p.index}` : ''}: ${p.kind}: ${p.detail}\n`);
      }
      if (problems.length > 0) {
        const first = problems[0]!;
        throw new ControlError('AUDIT_VERIFY_DAMAGED', `${problems.length} problem(s); first: ${first.origin}${first.index !== undefined ? ` entry ${first.index}` : ''}: ${first.kind}`);
      }
    });
  audit
    .command('proof <event>')
    .description('an entry of this device\'s log (EVENT is ZONE#INDEX, as `fcp audit log` prints it), its inclusion proof to the latest checkpoint and that checkpoint\'s note with its cosignatures')
    .option('--json', 'print the proof as JSON (what `fcp audit verify-proof` checks)')
    .addHelpText('after', '\nExamples:\n  fcp audit proof z:owner#12\n  fcp audit proof device#3 --json > proof.json && fcp audit verify-proof proof.json\n')
    .action(async (event: string, opts: { json?: boolean }, cmd: Command) => {
      const { zone, index } = parseEventId(event);
      const proof = await control(cmd).json<EventProof>(`/v1/audit/proof?${new URLSearchParams({ zone, index: String(index) })}`);
      if (opts.json) return void process.stdout.write(`${JSON.stringify(proof, null, 2)}\n`);
      const check = verifyEventProof(proof);
      process.stdout.write(
        [
          `event ${zone}#${index} of ${proof.origin}`,
          `  ${JSON.stringify(check.event)}`,
          `leaf ${proof.leaf}`,
          `inclusion proof to size ${check.size} (${proof.proof.length} hashes):`,
          ...proof.proof.map((h) => `  ${h}`),
          `checkpoint (cosigned by ${check.cosignedBy.length}: ${check.cosignedBy.join(', ') || 'none yet'}):`,
          ...proof.checkpoint.trimEnd().split('\n').map((l) => `  ${l}`),
        ].join('\n') + '\n',
      );
    });
  audit
    .command('verify-proof <file>')
    .description('check a proof from `fcp audit proof --json` offline with plain RFC 9162 math and the note signatures; exits 7 if it does not hold')
    .option('--json', 'print JSON')
    .action((file: string, opts: { json?: boolean }) => checkProofFile(file, opts.json ?? false));
  audit
    .command('rebuild')
    .description('restore this device\'s audit logs from the mesh (after its data dir was lost) and check them against the witnesses\' checkpoints')
    .option('--zone <zone>', 'only this zone\'s log')
    .option('--json', 'print JSON')
    .action(async (opts: { zone?: string; json?: boolean }, cmd: Command) => {
      const q = opts.zone ? `?${new URLSearchParams({ zone: opts.zone })}` : '';
      const out = await control(cmd).json<Array<{ origin: string; restored: number; reappended: number; root: string; missing?: string }>>(`/v1/audit/rebuild${q}`, { method: 'POST' });
      if (opts.json) return void process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      if (out.length === 0) return void process.stdout.write('no witness holds a log of this device: nothing to rebuild\n');
      for (const r of out) process.stdout.write(r.missing ? `not rebuilt ${r.origin}: ${r.missing}\n` : `rebuilt ${r.origin}: ${r.restored} entries (root ${r.root}), ${r.reappended} newer ones appended after them\n`);
    });
}

/** "ZONE#INDEX" (e.g. z:owner#12, device#3). */
export function parseEventId(text: string): { zone: string; index: number } {
  const m = /^([a-z0-9:._-]{1,64})#(0|[1-9][0-9]{0,14})$/.exec(text);
  if (!m) throw new ControlError('CLI_BAD_ARGUMENT', `an event is ZONE#INDEX as \`fcp audit log\` prints it (e.g. z:owner#12), not ${JSON.stringify(text)}`);
  return { zone: m[1]!, index: Number(m[2]) };
}

function checkProofFile(file: string, json: boolean): void {
  let proof: EventProof;
  try {
    proof = JSON.parse(readFileSync(file, 'utf8')) as EventProof;
  } catch (err) {
    throw new AuditError('AUDIT_BAD_PROOF', `${file} is not a proof file (${(err as Error).message})`);
  }
  const check = verifyEventProof(proof);
  if (json) return void process.stdout.write(`${JSON.stringify({ ok: true, ...check }, null, 2)}\n`);
  process.stdout.write(`ok: entry ${check.index} of ${check.origin} is in its checkpoint of size ${check.size}, cosigned by ${check.cosignedBy.length} (${check.cosignedBy.join(', ') || 'none'})\n  ${JSON.stringify(check.event)}\n`);
}
