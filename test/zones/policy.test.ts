import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ZoneRegistry,
  checkPolicy,
  compilePolicy,
  generatePolicy,
  mayConnect,
  parseHuJson,
  type PolicyTopology,
} from '../../src/zones/index.js';

const CONFIGS: Array<[string, unknown]> = [
  ['built-in zones', {}],
  ['funnel enabled', { funnel: { enabled: true } }],
  [
    'custom zones and tags',
    {
      tagPrefix: 'tag:home-',
      tagOwners: ['group:admins', 'alice@example.com'],
      zones: [
        { id: 'z:project-atlas', integrity: 70, confidentiality: 80 },
        { id: 'z:vault', integrity: 100, confidentiality: 120 },
        { id: 'z:lab', integrity: 90, confidentiality: 50 },
        { id: 'z:owner', tag: 'tag:me' },
      ],
      funnel: { enabled: true, gatewayTag: 'tag:edge', port: 10000 },
    },
  ],
];

test('every generated policy passes its own tests in the offline checker', () => {
  for (const [name, cfg] of CONFIGS) {
    const reg = ZoneRegistry.fromConfig(cfg);
    const text = generatePolicy(cfg);
    const result = checkPolicy(text);
    assert.deepEqual(result.errors, [], name);
    const n = reg.all().length;
    // n accept/deny entries on 9473 plus n closed-port probes per zone, plus the gateway's n denials.
    assert.equal(result.tests.length, n * 2 * n + (reg.funnel.enabled ? n : 0), name);
    assert.equal(result.failed, 0, name);
    assert.equal(result.ok, true, name);
  }
});

test('the policy grants exactly what mayConnect answers, on 9473 only', () => {
  for (const [name, cfg] of CONFIGS) {
    const reg = ZoneRegistry.fromConfig(cfg);
    const { policy, errors } = compilePolicy(generatePolicy(reg));
    assert.deepEqual(errors, []);
    assert.ok(policy);
    for (const from of reg.all()) {
      for (const to of reg.all()) {
        const src = policy.tagIdentity(from.tag);
        const dst = policy.tagIdentity(to.tag);
        assert.equal(policy.allows(src, dst, 9473, 6), mayConnect(from, to), `${name}: ${from.id} -> ${to.id}`);
        assert.equal(policy.allows(src, dst, 9473, 17), false, 'UDP stays closed');
        for (const port of [22, 443, 9472, 9474]) assert.equal(policy.allows(src, dst, port, 6), false, `${from.id} -> ${to.id}:${port}`);
      }
    }
  }
});

test('generated policies define every tag they use, and avoid the known mistakes', () => {
  for (const [name, cfg] of CONFIGS) {
    const reg = ZoneRegistry.fromConfig(cfg);
    const text = generatePolicy(reg);
    const doc = parseHuJson(text).value as Record<string, unknown>;
    const owners = Object.keys(doc['tagOwners'] as object);
    const used = new Set(text.match(/tag:[A-Za-z0-9-]+/g) ?? []);
    for (const tag of used) assert.ok(owners.includes(tag), `${name}: ${tag} has a tagOwners entry`);
    for (const z of reg.all()) assert.deepEqual((doc['tagOwners'] as Record<string, unknown>)[z.tag], [...reg.tagOwners]);
    assert.doesNotMatch(text, /autogroup:internet/, 'never a source, and not needed as a destination');
    assert.doesNotMatch(text, /"acls"/);
    assert.doesNotMatch(text, /:(443|8443|10000)"/, 'no rule pretends to govern Funnel ports');
    const nodeAttrs = doc['nodeAttrs'] as Array<{ target: string[]; attr: string[] }> | undefined;
    if (reg.funnel.enabled) assert.deepEqual(nodeAttrs, [{ target: [reg.funnel.gatewayTag], attr: ['funnel'] }]);
    else assert.equal(nodeAttrs, undefined);
  }
});

test('generation is deterministic and rejects bad configs with the field named', () => {
  assert.equal(generatePolicy({}), generatePolicy(ZoneRegistry.builtin()));
  assert.throws(() => generatePolicy({ zones: [{ id: 'bad' }] }), /zones\[0\]\.id/);
});

test('checker: a failing test is reported with its line, field and reason', () => {
  const text = generatePolicy({}).replace('"accept": ["tag:fcp-work:9473"]', '"accept": ["tag:fcp-work:9473", "tag:fcp-owner:9473"]');
  const result = checkPolicy(text);
  assert.equal(result.ok, false);
  assert.equal(result.failed, 1);
  const bad = result.tests.find((t) => !t.passed);
  assert.ok(bad);
  assert.equal(bad.src, 'tag:fcp-work');
  assert.equal(bad.dst, 'tag:fcp-owner:9473');
  assert.equal(bad.path, 'tests[2].accept[1]');
  const lineText = text.split('\n')[bad.line - 1] ?? '';
  assert.equal(lineText.slice(bad.column - 1, bad.column - 1 + '"tag:fcp-owner:9473"'.length), '"tag:fcp-owner:9473"');
  assert.match(bad.message, /expected accept, but not allowed/);
});

test('checker: structural problems name line and field', () => {
  const text = [
    '{',
    '  "tagOwners": {"tag:a": ["autogroup:admin"]},',
    '  "acls": [',
    '    {"action": "deny", "src": ["autogroup:internet"], "dst": ["tag:a:99999", "tag:b:22", "tag:a"]},',
    '  ],',
    '  "grants": [{"src": ["tag:a"], "dst": ["tag:a"]}, {"src": ["tag:a"], "dst": ["tag:a"], "ip": ["tcp:1-0", "xyz:1"]}],',
    '  "tests": [{"src": "tag:a", "accept": ["tag:a:*"]}],',
    '  "aclz": [],',
    '}',
  ].join('\n');
  const r = checkPolicy(text);
  const found = r.errors.map((e) => `${e.line}:${e.path}: ${e.message}`);
  const expect: Array<[number, string, RegExp]> = [
    [4, 'acls[0].action', /must be "accept"/],
    [4, 'acls[0].src[0]', /only valid as a destination/],
    [4, 'acls[0].dst[0]', /99999 is out of range/],
    [4, 'acls[0].dst[1]', /"tag:b" is not defined in tagOwners/],
    [4, 'acls[0].dst[2]', /destination:ports/],
    [6, 'grants[0]', /needs "ip"/],
    [6, 'grants[1].ip[0]', /runs backwards/],
    [6, 'grants[1].ip[1]', /unknown protocol/],
    [7, 'tests[0].accept[0]', /one port/],
    [8, 'aclz', /unknown field "aclz"/],
  ];
  for (const [line, path, pattern] of expect) {
    assert.ok(
      r.errors.some((e) => e.line === line && e.path === path && pattern.test(e.message)),
      `expected ${line}:${path} ${pattern}, got:\n${found.join('\n')}`,
    );
  }
  assert.equal(r.ok, false);
});

test('checker: the RFC sample policy is rejected for its autogroup:internet source', () => {
  const r = checkPolicy(readFileSync('test/fixtures/tailscale/rfc-sample-policy.hujson', 'utf8'));
  assert.equal(r.ok, false);
  assert.ok(r.errors.some((e) => e.path === 'acls[3].src[0]' && /autogroup:internet is only valid as a destination/.test(e.message)));
  // Its own two tests hold: owner reaches owner; community does not reach owner.
  assert.equal(r.failed, 0);
  assert.equal(r.tests.length, 2);
});

test('checker: a syntax error is one issue with line and column', () => {
  const r = checkPolicy('{\n  "grants": [\n    {"src": ["*"] "dst": ["*"]}\n  ]\n}');
  assert.equal(r.ok, false);
  assert.equal(r.errors.length, 1);
  assert.deepEqual([r.errors[0]?.line, r.errors[0]?.column], [3, 19]);
});

interface GoldenCase {
  id: string;
  description: string;
  expected: 'pass' | 'fail';
  topology: number;
  policy: unknown;
}

test('golden: the checker agrees with the Tailscale policy tester on 57 recorded cases', () => {
  const golden = JSON.parse(readFileSync('test/fixtures/headscale/policytest-golden.json', 'utf8')) as {
    topologies: PolicyTopology[];
    cases: GoldenCase[];
  };
  assert.equal(golden.cases.length, 57);
  const disagree: string[] = [];
  for (const c of golden.cases) {
    const result = checkPolicy(JSON.stringify(c.policy, null, 2), { topology: golden.topologies[c.topology] as PolicyTopology });
    if ((result.ok ? 'pass' : 'fail') !== c.expected) disagree.push(`${c.id} (expected ${c.expected})`);
  }
  assert.deepEqual(disagree, []);
  const passes = golden.cases.filter((c) => c.expected === 'pass').length;
  assert.ok(passes >= 10 && golden.cases.length - passes >= 40, 'both verdicts are well represented');
});
