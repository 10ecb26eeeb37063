// Fenced leases: the grantor's rules, and claimants over a set of grantors with a virtual
// monotonic clock: a majority grants, a stale holder is refused, expiry frees the lease, a
// restarted grantor grants nothing for a lease duration, and never two holders at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LeaseClaim, LeaseTable, majorityOf, type LeaseReply, type LeaseRequest } from '../../src/hub/lease.js';
import { HeadTable } from '../../src/hub/state.js';

test('grantor: grants a free lease, refuses others while it lives, remembers the highest sequence', () => {
  let now = 0;
  const t = new LeaseTable({ now: () => now });
  const req = (op: LeaseRequest['op'], seq: number): LeaseRequest => ({ subject: 'mail', op, seq, durationMs: 1000 });
  assert.equal(t.handle('a', req('acquire', 1)).granted, true);
  const refused = t.handle('b', req('acquire', 2));
  assert.deepEqual(refused, { granted: false, holder: 'a', seq: 1, remainingMs: 1000 });
  now = 500;
  assert.equal(t.handle('a', req('renew', 1)).granted, true);
  now = 1400;
  assert.equal(t.handle('b', req('acquire', 2)).granted, false, 'renewed: still a holder');
  now = 1600;
  assert.equal(t.handle('b', req('acquire', 1)).granted, false, 'expired, but sequence 1 is not above the highest');
  assert.equal(t.handle('b', req('acquire', 2)).granted, true);
  assert.equal(t.handle('a', req('renew', 1)).granted, false, 'the old holder cannot renew after another took it');
  assert.equal(t.handle('a', req('acquire', 2)).granted, false);
  assert.equal(t.handle('b', req('release', 2)).granted, true);
  assert.equal(t.handle('a', req('acquire', 3)).granted, true, 'released: free at once');
  assert.equal(t.highestSeq('mail'), 3);
  assert.equal(t.handle('x', { subject: 'other', op: 'query', seq: 0, durationMs: 1 }).granted, false);
});

test('grantor: the highest sequence survives a restart, and a restarted grantor is quiet for a lease duration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-lease-'));
  try {
    let now = 0;
    const heads = HeadTable.inDataDir(dir);
    const t1 = new LeaseTable({ now: () => now, seqs: heads });
    assert.equal(t1.handle('a', { subject: 'mail', op: 'acquire', seq: 5, durationMs: 1000 }).granted, true);
    const t2 = new LeaseTable({ now: () => now, seqs: HeadTable.inDataDir(dir), quietUntil: 1000 });
    assert.equal(t2.highestSeq('mail'), 5);
    assert.equal(t2.handle('b', { subject: 'mail', op: 'acquire', seq: 6, durationMs: 1000 }).granted, false, 'quiet period');
    assert.equal(t2.handle('b', { subject: 'fresh', op: 'acquire', seq: 1, durationMs: 1000 }).granted, true, 'a subject it never granted has nothing forgotten');
    now = 500;
    assert.equal(t2.handle('a', { subject: 'mail', op: 'renew', seq: 5, durationMs: 1000 }).granted, true, 'the holder renews and is known again');
    now = 1100;
    assert.equal(t2.handle('b', { subject: 'mail', op: 'acquire', seq: 6, durationMs: 1000 }).granted, false, 'a renewed lease still lives');
    assert.equal(t2.handle('b', { subject: 'mail', op: 'acquire', seq: 5, durationMs: 1000 }).granted, false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Grantors in one process, reachable or not, on one virtual clock. */
function cluster(names: string[]) {
  const clock = { now: 0 };
  const tables = new Map(names.map((n) => [n, new LeaseTable({ now: () => clock.now })]));
  const down = new Set<string>();
  const claim = (self: string, duration = 1000, margin = 200) =>
    new LeaseClaim('mail', {
      self,
      grantors: () => names,
      now: () => clock.now,
      ask: async (g: string, req: LeaseRequest): Promise<LeaseReply> => {
        if (down.has(g) || down.has(self)) throw new Error('unreachable');
        return tables.get(g)!.handle(self, req);
      },
    }, duration, margin);
  return { clock, tables, down, claim };
}

test('claimants: a majority grants; with two contenders at most one holds; a minority is given back', async () => {
  assert.equal(majorityOf(4), 3);
  assert.equal(majorityOf(5), 3);
  const c = cluster(['a', 'b', 'c', 'd', 'e']);
  const a = c.claim('a');
  const b = c.claim('b');
  const [ra, rb] = await Promise.all([a.acquire(), b.acquire()]);
  assert.equal([a.isValid(), b.isValid()].filter(Boolean).length, 1, 'exactly one holder');
  assert.ok(ra.grants.length + rb.grants.length <= 5);
  const winner = a.isValid() ? a : b;
  const loser = a.isValid() ? b : a;
  assert.equal(winner.requireSeq(), 1);
  assert.throws(() => loser.requireSeq(), /does not hold/);
  // The loser gave back what it got: after the winner releases, anyone may take it at once.
  await winner.release();
  await loser.acquire();
  assert.ok(loser.isValid());
  assert.equal(loser.requireSeq(), 2);
});

test('claimants: a holder cut off loses its lease on its own clock before anyone else can take it', async () => {
  const c = cluster(['a', 'b', 'c']);
  const a = c.claim('a');
  const b = c.claim('b');
  await a.acquire();
  assert.ok(a.isValid());
  c.down.add('a'); // a is partitioned away
  for (let step = 0; step < 40; step++) {
    c.clock.now += 50;
    await a.renew();
    await b.acquire();
    assert.ok(!(a.isValid() && b.isValid()), `never two holders (t=${c.clock.now})`);
    if (b.isValid()) break;
  }
  assert.ok(b.isValid(), 'b took over');
  assert.ok(c.clock.now >= 1000, 'only after the lease expired at the grantors');
  assert.equal(b.requireSeq(), 2);
  // a returns: it sees the higher sequence and neither renews nor re-acquires.
  c.down.delete('a');
  assert.equal(await a.renew(), false);
  await a.acquire();
  assert.ok(!a.isValid(), 'a comes back and does not run a second copy');
  assert.ok(b.isValid());
  assert.equal(await b.renew(), true);
});
