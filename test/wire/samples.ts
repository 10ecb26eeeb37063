// One valid message of every type, for round-trip and fuzz tests.
import { randomBytes } from 'node:crypto';
import { makeMessage, type Message, type MessageType } from '../../src/wire/index.js';
import type { Manifest } from '../../src/crypto/index.js';

const bytes = (n: number) => new Uint8Array(randomBytes(n));

export function sampleManifest(zone = 'z:private'): Manifest {
  return {
    objectId: bytes(32),
    zone,
    schema: 'fcp.mesh:blob@1',
    oti: bytes(12),
    length: 1048576,
    keyId: bytes(8),
    epoch: 2,
    created: 1_790_000_000_000,
    writer: 'nodeAbc123CNTRL',
    placement: { target: 1.5, minDevices: 3, maxShare: 0.5, tolerate: 1 },
  };
}

const symbols = () => [
  { sbn: 0, esi: 0, env: bytes(64 + 1280) },
  { sbn: 1, esi: 0xffffff, env: bytes(64 + 10) },
];

export function sampleMessages(): Record<MessageType, Message> {
  return {
    store: makeMessage('store', 2, { objectId: bytes(32), zone: 'z:owner', symbols: symbols() }),
    manifest_put: makeMessage('manifest_put', 3, { manifest: sampleManifest() }),
    manifest_get: makeMessage('manifest_get', 4, { objectId: bytes(32) }),
    manifest: makeMessage('manifest', 4, { manifest: sampleManifest('z:work') }),
    fetch: makeMessage('fetch', 5, { objectId: bytes(32), zone: 'z:private', want: [[0, 1], [2, 70000]], max: 100 }),
    symbols: makeMessage('symbols', 5, { symbols: symbols() }),
    fetch_end: makeMessage('fetch_end', 5, { count: 2 }),
    stop: makeMessage('stop', 6, { target: 5 }),
    have: makeMessage('have', 7, { objectId: bytes(32) }),
    have_result: makeMessage('have_result', 7, { keys: [[0, 0], [0, 1], [255, 16777215]] }),
    delete: makeMessage('delete', 8, { objectId: bytes(32) }),
    list: makeMessage('list', 9, { zone: 'z:owner' }),
    list_result: makeMessage('list_result', 9, { manifests: [sampleManifest(), sampleManifest('z:owner')] }),
    info: makeMessage('info', 15, {}),
    info_result: makeMessage('info_result', 15, { usedBytes: 1234, freeBytes: Number.MAX_SAFE_INTEGER, boxPublicKey: bytes(32), signingPublicKey: bytes(32) }),
    join: makeMessage('join', 16, { code: 'K7Q2-9XWM', boxPublicKey: bytes(32) }),
    join_result: makeMessage('join_result', 16, { keys: [bytes(200), bytes(210)] }),
    secret: makeMessage('secret', 17, { body: bytes(300) }),
    secret_result: makeMessage('secret_result', 17, { body: bytes(90) }),
    owner: makeMessage('owner', 18, { body: bytes(120) }),
    owner_result: makeMessage('owner_result', 18, { body: bytes(60) }),
    revocation_put: makeMessage('revocation_put', 18, { events: [bytes(140), bytes(150)] }),
    revocation_get: makeMessage('revocation_get', 18, { since: 3 }),
    revocation_events: makeMessage('revocation_events', 18, { events: [bytes(140)], seq: 4 }),
    drop: makeMessage('drop', 18, { objectId: bytes(32), keys: [[0, 5], [1, 300]] }),
    summary_digest: makeMessage('summary_digest', 19, { zones: ['z:private', 'z:work'] }),
    summary_digest_result: makeMessage('summary_digest_result', 19, { digests: [{ zone: 'z:private', digest: bytes(16), buckets: bytes(4096), objects: 3, symbols: 12, bytes: 9000 }] }),
    summary: makeMessage('summary', 20, { zone: 'z:private', buckets: [0, 7, 255], after: bytes(32), limit: 2048 }),
    summary_page: makeMessage('summary_page', 20, { entries: [{ objectId: bytes(32), counts: [3, 1] }, { objectId: bytes(32), counts: [] }], next: bytes(32) }),
    ref_put: makeMessage('ref_put', 19, { ref: { zone: 'z:private', device: 'nLaptop1CNTRL', seq: 7, commit: bytes(32), forgotten: [bytes(32)], time: 1_780_000_000_000, sig: bytes(64) } }),
    ref_list: makeMessage('ref_list', 20, { zone: 'z:private' }),
    ref_list_result: makeMessage('ref_list_result', 20, { refs: [{ zone: 'z:private', device: 'nPhone1CNTRL', seq: 1, commit: bytes(32), forgotten: [], time: 1, sig: bytes(64) }] }),
    tomb_put: makeMessage('tomb_put', 21, { tombstones: [{ objectId: bytes(32), zone: 'z:private', at: 1_780_000_000_000, dead: true, by: 'nServer1CNTRL', sig: bytes(64) }] }),
    tomb_list: makeMessage('tomb_list', 22, { zone: 'z:work' }),
    tomb_list_result: makeMessage('tomb_list_result', 22, { tombstones: [{ objectId: bytes(32), zone: 'z:work', at: 5, dead: false, by: 'nPhone1CNTRL', sig: bytes(64) }] }),
    removed_put: makeMessage('removed_put', 40, { removed: [{ stableId: 'nodeX1CNTRL', hostName: 'phone', zones: ['z:private'], at: 7, by: 'nodeY2CNTRL' }] }),
    removed_list: makeMessage('removed_list', 41, {}),
    removed_list_result: makeMessage('removed_list_result', 41, { removed: [] }),
    zone_key_put: makeMessage('zone_key_put', 42, { keys: [bytes(120)] }),
    zone_key_get: makeMessage('zone_key_get', 43, { zone: 'z:private', epoch: 1, boxPublicKey: bytes(32), proof: bytes(32) }),
    zone_key_result: makeMessage('zone_key_result', 43, { epoch: 2, resealing: true, keys: [bytes(120)] }),
    profile: makeMessage('profile', 19, {}),
    profile_result: makeMessage('profile_result', 19, { profile: { name: 'server', alwaysOn: true, interactive: false, gpu: false, onBattery: false, os: 'linux', freeMemoryMb: 2048, cpuCores: 4 }, signingPublicKey: bytes(32) }),
    lease: makeMessage('lease', 20, { subject: 'mail', zone: 'z:private', op: 'acquire', seq: 3, durationMs: 15000 }),
    lease_result: makeMessage('lease_result', 20, { granted: false, holder: 'nStable1', seq: 2, remainingMs: 900 }),
    head_get: makeMessage('head_get', 21, { key: 'state/mail', zone: 'z:private' }),
    head_result: makeMessage('head_result', 21, { head: { seq: 4, objectId: 'ab'.repeat(32), leaseSeq: 2 } }),
    head_commit: makeMessage('head_commit', 22, { key: 'registry/z:private', zone: 'z:private', head: { seq: 1, objectId: 'cd'.repeat(32) } }),
    invoke: makeMessage('invoke', 23, { connector: 'mail', op: 'search', input: '{"q":"invoice"}', deadlineMs: 30000, traceId: '4bf92f3577b34da6a3ce929d0e0e4736', idempotencyKey: 'k-1', token: new Uint8Array(90).fill(0xd2), proofTime: 1764700000, proofSig: new Uint8Array(64).fill(7) }),
    invoke_result: makeMessage('invoke_result', 23, { output: '{"hits":[]}' }),
    audit_cosign: makeMessage('audit_cosign', 24, { key: 'fcp-mesh/nA/z:owner+01234567+AQ==', note: 'fcp-mesh/nA/z:owner\n1\nAAAA\n\n\u2014 fcp-mesh/nA/z:owner AAAA\n', from: 0, proof: [new Uint8Array(32).fill(3)] }),
    audit_cosign_result: makeMessage('audit_cosign_result', 24, { witness: 'fcp-witness/nB+01234567+BA==', need: 4 }),
    audit_checkpoints: makeMessage('audit_checkpoints', 25, { zones: ['z:owner', 'device'] }),
    audit_checkpoints_result: makeMessage('audit_checkpoints_result', 25, { witness: 'fcp-witness/nB+01234567+BA==', views: [{ origin: 'fcp-mesh/nA/z:owner', key: 'k', note: 'n', index: 'a'.repeat(64), evidence: [] }] }),
    ok: makeMessage('ok', 13, {}),
    error: makeMessage('error', 14, { code: 'NOT_FOUND', message: 'no manifest for that object' }),
  };
}
