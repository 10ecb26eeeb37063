// Audit witnessing over real FCP (in-process mesh, TCP between devices): checkpoints cosigned by
// the zone's other devices, forks and rollbacks found naming the device, a lost log rebuilt from
// the mesh with the same root, proofs checked offline, and hostile cosign requests refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { LOCAL_LIBRARY } from '../../src/authz/index.js';
import { CHECKPOINT_DIR, ENTRIES_FILE, MerkleTree, ZoneLog, leafHash, formatVerifierKey, logOrigin, parseCheckpoint, parseNote, readRecords, verifyEventProof, type AuditEvent } from '../../src/audit/index.js';
import { Keyring } from '../../src/mesh/index.js';
import { RpcConnection } from '../../src/mesh/rpc.js';
import type { LogReport } from '../../src/services/audit-service.js';
import type { TailnetDescription } from '../../src/tailscale/emulator/index.js';
import { InProcessMesh } from '../mesh/in-process.js';

const NET: TailnetDescription = {
  tailnet: 'witness.example',
  users: [{ loginName: 'alice@example.com', displayName: 'Alice' }],
  nodes: [
    { name: 'laptop', tags: ['tag:fcp-owner'], os: 'macOS', path: 'direct', latencyMs: 1, address: '127.77.110.1' },
    { name: 'server', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.110.2' },
    { name: 'desktop', tags: ['tag:fcp-owner'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.110.3' },
    { name: 'guest', tags: ['tag:fcp-public'], os: 'linux', path: 'direct', latencyMs: 1, address: '127.77.110.4' },
  ],
};

async function connectAs(mesh: InProcessMesh, from: string, to: string): Promise<RpcConnection> {
  const socket = net.connect({ host: mesh.tailnet.device(to).address, port: 9473, localAddress: mesh.tailnet.device(from).address });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return new RpcConnection(socket);
}

const code = (c: string) => (err: Error & { code?: string; details?: { peerCode?: string } }) => err.code === c || err.details?.peerCode === c;
const id = (mesh: InProcessMesh, name: string) => mesh.node(name).node.self.stableId;
const verify = (mesh: InProcessMesh, name: string): Promise<LogReport[]> => mesh.node(name).services.audit.verify(LOCAL_LIBRARY);
const ev = (i: number, tag: string): AuditEvent => ({ at: 1_800_000_000_000 + i, kind: 'test.event', zone: 'z:community', principal: tag, subject: `${tag}-${i}` });

function latestNote(mesh: InProcessMesh, name: string, zone: string): string {
  const dir = join(mesh.dir, name, 'audit', zone, CHECKPOINT_DIR);
  const last = readdirSync(dir).filter((n) => n.endsWith('.note')).sort().pop()!;
  return readFileSync(join(dir, last), 'utf8');
}

describe('audit witnessing over FCP', () => {
  let mesh: InProcessMesh;
  let stored = '';

  before(async () => {
    mesh = await InProcessMesh.start(NET, { audit: { archive: true } });
    stored = await mesh.node('laptop').store(new Uint8Array(randomBytes(20_000)), 'z:owner');
  });
  after(async () => mesh?.stop());

  test('a checkpoint is cosigned by the zone\'s other devices, and verify passes', async () => {
    const reports = await verify(mesh, 'laptop');
    const owner = reports.find((r) => r.origin === logOrigin(id(mesh, 'laptop'), 'z:owner'))!;
    assert.ok(owner && owner.entries > 0);
    assert.deepEqual(reports.flatMap((r) => r.problems), []);
    // A store is an event of its own (object id, size), next to the decision that allowed it.
    const events = mesh.node('laptop').services.audit.log(LOCAL_LIBRARY, { zone: 'z:owner' });
    assert.ok(events.some((e) => e.event.kind === 'object.store' && e.event.subject === stored && e.event.detail?.bytes === 20_000), JSON.stringify(events.map((e) => e.event.kind)));
    const note = parseNote(latestNote(mesh, 'laptop', 'z:owner'));
    const names = note.signatures.map((s) => s.name).sort();
    // The log's own signature, then server and desktop (owner devices); the public guest may not witness owner logs.
    assert.deepEqual(names, [logOrigin(id(mesh, 'laptop'), 'z:owner'), `fcp-witness/${id(mesh, 'desktop')}`, `fcp-witness/${id(mesh, 'server')}`].sort());
  });

  test('a proof of an event verifies offline; a tampered one fails', async () => {
    const proof = await mesh.node('laptop').services.audit.proof(LOCAL_LIBRARY, 'z:owner', 1);
    const check = verifyEventProof(proof);
    assert.equal(check.index, 1);
    assert.equal(check.cosignedBy.length, 2);
    const entry = Buffer.from(proof.entry, 'base64');
    entry[entry.length - 1] ^= 1;
    assert.throws(() => verifyEventProof({ ...proof, entry: entry.toString('base64') }), code('AUDIT_BAD_PROOF'));
    assert.throws(() => verifyEventProof({ ...proof, index: 0 }), code('AUDIT_BAD_PROOF'));
    assert.throws(() => verifyEventProof({ ...proof, proof: [...proof.proof].reverse().concat(proof.proof.length < 2 ? ['A'.repeat(43) + '='] : []) }), code('AUDIT_BAD_PROOF'));
    await assert.rejects(mesh.node('laptop').services.audit.proof(LOCAL_LIBRARY, 'z:owner', 1_000_000), code('AUDIT_BAD_INDEX'));
  });

  test('a device showing two histories to two witnesses is found, naming it', async () => {
    const laptopId = id(mesh, 'laptop');
    const seed = (await Keyring.load(join(mesh.dir, 'laptop'))).node.signingSecretKey;
    const origin = logOrigin(laptopId, 'z:community');
    let forkSize = 0;
    // Both histories start with the real log (which the witnesses cosigned) and go on differently.
    await verify(mesh, 'laptop');
    const real = readFileSync(join(mesh.dir, 'laptop', 'audit', 'z:community', ENTRIES_FILE));
    const tmp = mkdtempSync(join(tmpdir(), 'fcp-fork-'));
    try {
      const histories = ['one', 'two'].map((tag) => {
        mkdirSync(join(tmp, tag));
        writeFileSync(join(tmp, tag, ENTRIES_FILE), real);
        const log = ZoneLog.open(join(tmp, tag), origin, seed);
        for (let i = 0; i < 3; i++) log.append(ev(i, tag));
        return { note: log.checkpoint(), key: formatVerifierKey(log.key), log };
      });
      assert.equal(histories[0]!.log.size, histories[1]!.log.size);
      for (const [to, h] of [['server', histories[0]!], ['desktop', histories[1]!]] as const) {
        const conn = await connectAs(mesh, 'laptop', to);
        try {
          const first = await conn.request({ t: 'audit_cosign', key: h.key, note: h.note, from: 0, proof: [] });
          assert.ok(first.t === 'audit_cosign_result' && first.need !== undefined && first.need > 0, 'the witness names the size it cosigned');
          const from = first.t === 'audit_cosign_result' ? first.need! : 0;
          const r = await conn.request({ t: 'audit_cosign', key: h.key, note: h.note, from, proof: h.log.consistencyProof(from) });
          assert.ok(r.t === 'audit_cosign_result' && r.signature, 'each witness alone sees a consistent extension and cosigns');
        } finally {
          conn.close();
        }
      }
      forkSize = histories[0]!.log.size;
      for (const h of histories) h.log.close();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    const reports = await verify(mesh, 'server');
    const forked = reports.find((r) => r.origin === origin);
    assert.ok(forked, 'the forked log is reported');
    assert.equal(forked.device, laptopId);
    assert.equal(forked.zone, 'z:community');
    assert.ok(forked.problems.some((p) => p.kind === 'fork' && p.index === forkSize && p.detail.includes(origin)), JSON.stringify(forked.problems));
  });

  test('a hostile peer\'s malformed or foreign cosign requests get typed errors and change nothing', async () => {
    // Honest checkpoints keep being cosigned meanwhile: what must not change is each log's key and evidence.
    const held = () => new Map(mesh.node('server').services.audit.checkpoints(selfOf(mesh, 'server'), ['z:owner', 'z:public', 'device']).map((v) => [v.origin, JSON.stringify({ key: v.key, evidence: v.evidence })]));
    const before = held();
    const conn = await connectAs(mesh, 'guest', 'server');
    try {
      await assert.rejects(conn.request({ t: 'audit_cosign', key: 'x', note: 'not a note', from: 0, proof: [] }), code('AUDIT_BAD_NOTE'));
      // A note of the laptop's log, sent by the guest: a device has only its own logs witnessed.
      const laptopNote = latestNote(mesh, 'laptop', 'device');
      await assert.rejects(conn.request({ t: 'audit_cosign', key: 'x', note: laptopNote, from: 0, proof: [] }), code('AUDIT_BAD_CHECKPOINT'));
      // Its own origin in an owner zone: refused by authorize().
      const ownerOrigin = `fcp-mesh/${id(mesh, 'guest')}/z:owner`;
      await assert.rejects(conn.request({ t: 'audit_cosign', key: 'x', note: `${ownerOrigin}\n1\n${'A'.repeat(43)}=\n\n\u2014 ${ownerOrigin} AAAAAAAA\n`, from: 0, proof: [] }), code('AUTHZ_DENIED'));
      // Schema violations never reach the service.
      await assert.rejects(conn.request({ t: 'audit_cosign', key: 'x', note: 'n', from: -1, proof: [] } as never));
      await assert.rejects(conn.request({ t: 'audit_cosign', key: 'x', note: 'n', from: 0, proof: [new Uint8Array(5)] }));
      // The guest may not read owner checkpoints: asked, it gets only what it may see.
      const r = await conn.request({ t: 'audit_checkpoints', zones: ['z:owner'] });
      assert.equal(r.t, 'audit_checkpoints_result');
      assert.deepEqual(r.t === 'audit_checkpoints_result' && r.views, []);
    } finally {
      conn.close();
    }
    const now = held();
    for (const [origin, v] of before) assert.equal(now.get(origin), v, origin);
    assert.ok(![...now.keys()].some((o) => o === `fcp-mesh/${id(mesh, 'guest')}/z:owner`), 'no view of a log the guest may not have witnessed');
  });

  test('truncating a witnessed log is found against the witnesses\' checkpoints', async () => {
    await verify(mesh, 'laptop'); // the latest checkpoint is cosigned
    const dir = join(mesh.dir, 'laptop', 'audit', 'z:owner');
    const saved = readFileSync(join(dir, ENTRIES_FILE));
    const savedNotes = readdirSync(join(dir, CHECKPOINT_DIR)).map((n) => [n, readFileSync(join(dir, CHECKPOINT_DIR, n))] as const);
    await mesh.kill('laptop');
    const { records } = readRecords(new Uint8Array(saved));
    const keep = 2;
    let bytes = 0;
    for (const r of records.slice(0, keep)) bytes += 4 + r.length;
    truncateSync(join(dir, ENTRIES_FILE), bytes);
    for (const [n] of savedNotes) if (Number(n.slice(0, 12)) > keep) rmSync(join(dir, CHECKPOINT_DIR, n));
    await mesh.startNode('laptop');
    const reports = await verify(mesh, 'laptop');
    const owner = reports.find((r) => r.origin === logOrigin(id(mesh, 'laptop'), 'z:owner'))!;
    assert.ok(owner.problems.some((p) => p.kind === 'rolled-back' || p.kind === 'fork'), JSON.stringify(owner.problems));
    // Put the log back as it was, for the rebuild test.
    await mesh.kill('laptop');
    writeFileSync(join(dir, ENTRIES_FILE), saved);
    for (const [n, b] of savedNotes) writeFileSync(join(dir, CHECKPOINT_DIR, n), b);
    await mesh.startNode('laptop');
  });

  test('a device that lost its audit dir rebuilds it from the mesh with the same root, and verify passes', async () => {
    await verify(mesh, 'laptop');
    const origin = logOrigin(id(mesh, 'laptop'), 'z:owner');
    const witnessed = parseCheckpoint(parseNote(mesh.node('server').services.audit.checkpoints(selfOf(mesh, 'server'), ['z:owner']).find((v) => v.origin === origin)!.note).text);
    await mesh.kill('laptop');
    rmSync(join(mesh.dir, 'laptop', 'audit'), { recursive: true, force: true });
    await mesh.startNode('laptop');
    const rebuilt = await mesh.node('laptop').services.audit.rebuild(LOCAL_LIBRARY);
    const owner = rebuilt.find((r) => r.origin === origin)!;
    assert.ok(owner, JSON.stringify(rebuilt));
    assert.equal(owner.root, Buffer.from(witnessed.root).toString('base64'));
    assert.equal(owner.restored, witnessed.size);
    const reports = await verify(mesh, 'laptop');
    // (z:community was forked on purpose above, and zones no object can be placed in have no archive.)
    const missing = new Set(rebuilt.filter((r) => r.missing).map((r) => r.origin));
    const mine = reports.filter((r) => r.device === id(mesh, 'laptop') && r.zone !== 'z:community' && !missing.has(r.origin));
    assert.deepEqual(mine.flatMap((r) => r.problems), []);
    assert.ok(mine.find((r) => r.origin === origin)!.entries >= witnessed.size);
  });

  test('a device that rejoins without its audit dir rebuilds it by itself', async () => {
    await verify(mesh, 'laptop');
    const origin = logOrigin(id(mesh, 'laptop'), 'z:owner');
    const witnessed = parseCheckpoint(parseNote(mesh.node('server').services.audit.checkpoints(selfOf(mesh, 'server'), ['z:owner']).find((v) => v.origin === origin)!.note).text);
    await mesh.kill('laptop');
    const file = join(mesh.dir, 'laptop', 'audit', 'z:owner', ENTRIES_FILE);
    rmSync(join(mesh.dir, 'laptop', 'audit'), { recursive: true, force: true });
    await mesh.startNode('laptop');
    // Wait (bounded) for the restored entries: the first `size` of them give the witnessed root.
    const rootOfPrefix = (): string | undefined => {
      if (!existsSync(file)) return undefined;
      const { records } = readRecords(new Uint8Array(readFileSync(file)));
      if (records.length < witnessed.size) return undefined;
      const t = new MerkleTree();
      for (const r of records.slice(0, witnessed.size)) t.append(leafHash(r));
      return Buffer.from(t.root()).toString('base64');
    };
    const deadline = Date.now() + 15_000;
    while (rootOfPrefix() !== Buffer.from(witnessed.root).toString('base64')) {
      assert.ok(Date.now() < deadline, 'the log was not rebuilt within 15 s');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});

function selfOf(mesh: InProcessMesh, name: string) {
  const n = mesh.node(name).node;
  return { kind: 'device' as const, stableId: n.self.stableId, hostName: n.self.hostName, address: n.self.address, tags: n.directory.self.tags, zones: n.directory.selfZones, path: 'direct' as const };
}
