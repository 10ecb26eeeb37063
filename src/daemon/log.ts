// fcpd's logger: JSON lines for journald, files and log shippers; short readable lines when a
// person watches the terminal. FCP_LOG_FORMAT=json|pretty overrides the guess.
import pino, { type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'daemon']);

function value(v: unknown): string {
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
}

/** One JSON log line as "12:03:04.567 WARN message key=value ...". */
export function prettyLine(line: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const t = typeof rec.time === 'number' ? new Date(rec.time).toISOString().slice(11, 23) : '';
  const level = (LEVELS[rec.level as number] ?? String(rec.level)).padEnd(5);
  const fields = Object.entries(rec)
    .filter(([k]) => !SKIP.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return `${t} ${level} ${String(rec.msg ?? '')}${fields ? `  ${fields}` : ''}\n`;
}

export function wantsPretty(env: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stderr.isTTY)): boolean {
  if (env.FCP_LOG_FORMAT === 'json') return false;
  if (env.FCP_LOG_FORMAT === 'pretty') return true;
  return isTty;
}

export function createDaemonLogger(opts: { env?: NodeJS.ProcessEnv; isTty?: boolean; write?: (s: string) => void } = {}): Logger {
  const env = opts.env ?? process.env;
  const level = env.FCP_LOG_LEVEL ?? 'info';
  const base = { daemon: 'fcpd' };
  if (!wantsPretty(env, opts.isTty)) {
    return opts.write ? pino({ level, base }, { write: opts.write }) : pino({ level, base }, pino.destination(2));
  }
  const out = opts.write ?? ((s: string) => void process.stderr.write(s));
  return pino({ level, base }, { write: (line: string) => out(prettyLine(line)) });
}
