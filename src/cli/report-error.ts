// How a failed command ends: its message (and stable code) on stderr, or a JSON error object
// when --json was asked, and the exit code of the error's kind (docs/errors.md).
import { describeError } from '../errors/index.js';

export function reportError(program: string, err: unknown, argv: readonly string[]): number {
  const d = describeError(err);
  if (argv.includes('--json')) {
    process.stderr.write(`${JSON.stringify({ error: { code: d.code, message: d.message, exit: d.exit } })}\n`);
  } else {
    process.stderr.write(`${program}: ${d.message} [${d.code}]\n`);
  }
  return d.exit;
}
