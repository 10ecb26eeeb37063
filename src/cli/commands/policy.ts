// `fcp policy generate|check`: the tailnet policy file that enforces zones
// at the network layer, and an offline checker for any policy file.
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { checkPolicy, generatePolicy, ZoneConfigError, ZoneRegistry, type PolicyTopology } from '../../zones/index.js';

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ZoneConfigError(file, `cannot read ${what}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ZoneConfigError(file, `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

export function registerPolicyCommands(program: Command): void {
  const cmd = program.command('policy').description('Tailscale policy file for the zones: generate it, check any policy file offline');
  cmd
    .command('generate')
    .description('write the tailnet policy (HuJSON) for a zone config; it is checked against its own tests first')
    .option('--zones <file>', 'zone config JSON (see examples/zones.json); default: the built-in zones')
    .option('-o, --out <file>', 'write to a file instead of stdout')
    .action((opts: { zones?: string; out?: string }) => {
      const reg = opts.zones === undefined ? ZoneRegistry.builtin() : ZoneRegistry.fromConfig(readJson(opts.zones, 'the zone config'));
      const text = generatePolicy(reg);
      const check = checkPolicy(text);
      if (!check.ok) {
        const why = [...check.errors.map((e) => `${e.line}:${e.column}: ${e.path}: ${e.message}`), ...check.tests.filter((t) => !t.passed).map((t) => t.message)];
        throw new Error(`the generated policy failed its own check (please report this):\n${why.join('\n')}`);
      }
      if (opts.out === undefined) process.stdout.write(text);
      else {
        writeFileSync(opts.out, text);
        process.stderr.write(`wrote ${opts.out}: ${reg.all().length} zones, ${check.tests.length} test cases, all passing\n`);
      }
    });
  cmd
    .command('check')
    .description('parse a policy file, validate its rules and evaluate its tests against its acls and grants')
    .argument('<file>', 'policy file (HuJSON)')
    .option('--topology <file>', 'JSON {users: [...], nodes: [{name, tags, ips, user}]} to evaluate tests against real devices')
    .option('--json', 'print the full result as JSON')
    .option('-v, --verbose', 'list passing tests too')
    .action((file: string, opts: { topology?: string; json?: boolean; verbose?: boolean }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new Error(`cannot read policy file ${file}: ${(err as Error).message}`);
      }
      const topology = opts.topology === undefined ? undefined : (readJson(opts.topology, 'the topology') as PolicyTopology);
      const result = checkPolicy(text, topology === undefined ? {} : { topology });
      if (opts.json) {
        process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      } else {
        for (const e of result.errors) process.stdout.write(`${file}:${e.line}:${e.column}: error: ${e.path || '(document)'}: ${e.message}\n`);
        for (const t of result.tests) {
          if (!t.passed) process.stdout.write(`${file}:${t.line}:${t.column}: test failed: ${t.path}: ${t.message}\n`);
          else if (opts.verbose) process.stdout.write(`${file}:${t.line}:${t.column}: ok: ${t.message}\n`);
        }
        process.stdout.write(
          `${file}: ${result.errors.length} error(s); ${result.passed} of ${result.tests.length} test case(s) passed${result.ok ? ' - OK' : ''}\n`,
        );
      }
      if (!result.ok) process.exitCode = 1;
    });
}
