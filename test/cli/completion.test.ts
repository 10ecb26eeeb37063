// fcp completion bash: the script, run by a real bash, completes subcommands and options.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

const script = spawnSync(process.execPath, ['bin/fcp.js', 'completion', 'bash'], { encoding: 'utf8' });

function complete(line: string): string[] {
  const words = line.split(' ');
  const program = `${script.stdout}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _fcp; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const r = spawnSync('bash', ['-c', program], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter(Boolean).sort();
}

test('bash completion: top-level commands, subcommands and a command\'s options', () => {
  assert.equal(script.status, 0, script.stderr);
  assert.ok(complete('fcp pu').includes('put'));
  assert.deepEqual(complete('fcp secret r'), ['rm', 'rotate']);
  assert.deepEqual(complete('fcp audit v'), ['verify', 'verify-proof']);
  assert.ok(complete('fcp put --z').includes('--zone'));
  assert.ok(complete('fcp audit log --').includes('--since'));
});

test('an unknown shell is a clear error with exit 2', () => {
  const r = spawnSync(process.execPath, ['bin/fcp.js', 'completion', 'fish'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /choose bash or zsh \[CLI_BAD_ARGUMENT\]/);
});
