import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fcp = (args: string[]) => spawnSync(process.execPath, ['bin/fcp.js', ...args], { encoding: 'utf8', timeout: 20_000 });

test('fcp policy generate --zones writes a policy that fcp policy check accepts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-policy-'));
  try {
    const out = join(dir, 'policy.hujson');
    const gen = fcp(['policy', 'generate', '--zones', 'examples/zones.json', '--out', out]);
    assert.equal(gen.status, 0, gen.stderr);
    assert.match(gen.stderr, /6 zones, 78 test cases, all passing/);
    const check = fcp(['policy', 'check', out]);
    assert.equal(check.status, 0, check.stdout);
    assert.match(check.stdout, /0 error\(s\); 78 of 78 test case\(s\) passed - OK/);
    const stdout = fcp(['policy', 'generate']);
    assert.equal(stdout.status, 0);
    assert.match(stdout.stdout, /"grants": \[/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fcp policy check reports file, line, column and field, and exits 1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-policy-'));
  try {
    const file = join(dir, 'bad.hujson');
    writeFileSync(
      file,
      '{\n  "tagOwners": {"tag:a": ["autogroup:admin"]},\n  "grants": [{"src": ["tag:a"], "dst": ["tag:a"], "ip": ["tcp:22"]}],\n  "tests": [{"src": "tag:a", "accept": ["tag:a:9473"]}],\n}\n',
    );
    const r = fcp(['policy', 'check', file]);
    assert.equal(r.status, 1);
    assert.ok(r.stdout.includes(`${file}:4:41: test failed: tests[0].accept[0]: tag:a -> tag:a:9473 (tcp): expected accept`), r.stdout);
    const syntax = join(dir, 'syntax.hujson');
    writeFileSync(syntax, '{\n  "acls": [\n    {"action": "accept" "src": []}\n  ]\n}\n');
    const s = fcp(['policy', 'check', syntax]);
    assert.equal(s.status, 1);
    assert.ok(s.stdout.includes(`${syntax}:3:25: error: (document): expected "," or "}"`), s.stdout);
    const json = JSON.parse(fcp(['policy', 'check', file, '--json']).stdout) as { ok: boolean; failed: number };
    assert.deepEqual([json.ok, json.failed], [false, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fcp policy generate with a bad zone config names the field', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-policy-'));
  try {
    const cfg = join(dir, 'zones.json');
    writeFileSync(cfg, JSON.stringify({ funnel: { enabled: true, port: 80 } }));
    const r = fcp(['policy', 'generate', '--zones', cfg]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /funnel\.port: Funnel serves only ports 443, 8443, 10000/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
