// fcp audit log / verify: this device's audit logs, through the running fcpd.
import type { Command } from 'commander';
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
        return `${new Date(e.event.at).toISOString()}  ${e.zone.padEnd(11)} #${String(e.index).padEnd(6)} ${e.event.kind.padEnd(15)} ${(e.event.action ?? '').padEnd(16)} ${outcome.padEnd(22)} ${e.event.principal}${e.event.subject ? `  ${e.event.subject}` : ''}`;
      });
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  audit
    .command('verify')
    .description('check every log: entry links, checkpoint signatures and roots; exits 7 if anything is wrong')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const reports = await control(cmd).json<Report[]>('/v1/audit/verify', { method: 'POST' });
      const problems = reports.flatMap((r) => r.problems.map((p) => ({ origin: r.origin, ...p })));
      if (opts.json) process.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
      else {
        for (const r of reports) process.stdout.write(`${r.problems.length === 0 ? 'ok  ' : 'FAIL'} ${r.origin}: ${r.entries} entries, ${r.checkpoints} checkpoints\n`);
        for (const p of problems) process.stdout.write(`  ${p.origin}${p.index !== undefined ? ` entry ${p.index}` : ''}: ${p.kind}: ${p.detail}\n`);
      }
      if (problems.length > 0) {
        const first = problems[0]!;
        throw new ControlError('AUDIT_VERIFY_DAMAGED', `${problems.length} problem(s); first: ${first.origin}${first.index !== undefined ? ` entry ${first.index}` : ''}: ${first.kind}`);
      }
    });
}
