// fcp secret put / exec / ls / rm / rotate. A secret's value is read from stdin or a hidden
// prompt, never from argv; `exec` hands it to a child process's environment and zeroes our copy.
import type { Command } from 'commander';
import { spawn } from 'node:child_process';
import type { ControlClient } from '../../daemon/control-client.js';
import { ControlError } from '../../daemon/control-client.js';

async function readValue(): Promise<Buffer> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    const all = Buffer.concat(chunks);
    for (const c of chunks) c.fill(0);
    // A trailing newline from `echo` or a here-string is not part of the secret.
    let end = all.length;
    while (end > 0 && (all[end - 1] === 0x0a || all[end - 1] === 0x0d)) end--;
    return all.subarray(0, end);
  }
  process.stderr.write('secret value (input hidden): ');
  process.stdin.setRawMode(true);
  process.stdin.resume();
  const bytes: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (c: Buffer) => {
      for (const b of c) {
        if (b === 0x03) return reject(new ControlError('SECRET_ABORTED', 'aborted'));
        if (b === 0x0d || b === 0x0a) {
          process.stdin.off('data', onData);
          return resolve();
        }
        if (b === 0x7f) bytes.pop();
        else bytes.push(b);
      }
    };
    process.stdin.on('data', onData);
  }).finally(() => {
    process.stdin.setRawMode(false);
    process.stdin.pause();
    process.stderr.write('\n');
  });
  const out = Buffer.from(bytes);
  bytes.fill(0);
  return out;
}

function envName(name: string): string {
  return name.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function registerSecretCommands(program: Command, control: (cmd: Command) => ControlClient): void {
  const secret = program.command('secret').description('k-of-n secrets held in device memory only');

  secret
    .command('put <name>')
    .description('split a secret (read from stdin or a prompt) over n devices of a zone; any k rebuild it')
    .requiredOption('--k <k>', 'shares needed to rebuild')
    .requiredOption('--n <n>', 'shares made, one per device')
    .requiredOption('--zone <zone>', 'zone whose devices hold the shares')
    .action(async (name: string, opts: { k: string; n: string; zone: string }, cmd: Command) => {
      const value = await readValue();
      if (value.length === 0) throw new ControlError('SECRET_EMPTY', 'the secret value is empty');
      try {
        const q = new URLSearchParams({ k: opts.k, n: opts.n, zone: opts.zone });
        await control(cmd).json(`/v1/secrets/${encodeURIComponent(name)}?${q}`, { method: 'PUT', body: value, contentLength: value.length });
      } finally {
        value.fill(0);
      }
      process.stdout.write(`secret ${name} split ${opts.k}-of-${opts.n} over ${opts.zone} devices (memory only)\n`);
    });

  secret
    .command('exec <name> <command...>')
    .description('run a command with the secret in its environment (fcp secret exec NAME -- cmd args)')
    .option('--env <var>', 'environment variable name (default: the secret name in upper case)')
    .action(async (name: string, command: string[], opts: { env?: string }, cmd: Command) => {
      const res = await control(cmd).request(`/v1/secrets/${encodeURIComponent(name)}/use`, { method: 'POST' });
      if (res.status !== 200) {
        const e = JSON.parse(res.body.toString('utf8')) as { error?: { code?: string; message?: string } };
        throw new ControlError(e.error?.code ?? 'SECRET_FAILED', e.error?.message ?? `fcpd answered ${res.status}`);
      }
      const env = { ...process.env, [opts.env ?? envName(name)]: res.body.toString('utf8') };
      res.body.fill(0);
      const child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env });
      const code = await new Promise<number>((resolve) => {
        child.on('exit', (c, signal) => resolve(c ?? (signal ? 128 : 1)));
        child.on('error', (err) => {
          process.stderr.write(`fcp: cannot run ${command[0]}: ${err.message}\n`);
          resolve(127);
        });
      });
      process.exitCode = code;
    });

  secret
    .command('ls')
    .description('secrets of the zones this device can see, with their holders')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const list = await control(cmd).json<Array<{ name: string; zone: string; k: number; n: number; version: number; available: number }>>('/v1/secrets');
      if (opts.json) process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
      else if (list.length === 0) process.stdout.write('no secrets\n');
      else for (const s of list) process.stdout.write(`${s.name}  ${s.zone}  ${s.k}-of-${s.n}  version ${s.version}  ${s.available} shares online\n`);
    });

  secret
    .command('rm <name>')
    .description('discard every share of a secret')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await control(cmd).json(`/v1/secrets/${encodeURIComponent(name)}`, { method: 'DELETE' });
      process.stdout.write(`secret ${name} removed\n`);
    });

  secret
    .command('rotate <name>')
    .description('re-split a secret with a fresh polynomial; old shares are discarded')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      await control(cmd).json(`/v1/secrets/${encodeURIComponent(name)}/rotate`, { method: 'POST' });
      process.stdout.write(`secret ${name} rotated\n`);
    });
}
