// The client contract: one suite, run against the emulator and against the
// recorded real-daemon answers, so the emulator cannot drift from real shapes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalApiClient, peersFromStatus, selfFromStatus, type IpnNotify, type PeerPath } from '../../src/tailscale/index.js';

export interface ExpectedPeer {
  hostName: string;
  ip: string;
  path: PeerPath;
  tags: string[];
}

export interface ContractTarget {
  socketPath: string;
  self: { hostName: string; ip: string; tags: string[] };
  peers: ExpectedPeer[];
  /** A node whose ID exceeds 2^53. */
  big: { ip: string; hostName: string; nodeId: string; stableId: string; tags: string[] };
  unknownIp: string;
  pings: Array<{ ip: string; path: 'direct' | 'derp' | 'peer-relay' }>;
  /** Makes `big` go offline (a no-op for recordings); resolves when done. */
  takeBigOffline(): Promise<void>;
  /** Removes a peer and returns its node ID. */
  removePeer(): Promise<string>;
  close(): Promise<void>;
}

export function clientContract(label: string, open: () => Promise<ContractTarget>): void {
  const withTarget = (name: string, fn: (t: ContractTarget, c: LocalApiClient) => Promise<void>): void => {
    test(`[${label}] ${name}`, async () => {
      const t = await open();
      try {
        await fn(t, new LocalApiClient({ socketPath: t.socketPath, timeoutMs: 2000, pingTimeoutMs: 2000 }));
      } finally {
        await t.close();
      }
    });
  };

  withTarget('status: self, peers, tags and paths', async (t, c) => {
    // CurAddr/PeerRelay show only after recent traffic (magicsock trusts a UDP path for seconds):
    // a ping first makes the paths visible, on a real daemon as on the emulator.
    for (const p of t.pings) await c.ping(p.ip, 'disco');
    const st = await c.status();
    assert.equal(st.backendState, 'Running');
    const self = selfFromStatus(st);
    assert.equal(self.hostName, t.self.hostName);
    assert.ok(self.tailscaleIps.includes(t.self.ip));
    assert.deepEqual(self.tags, t.self.tags);
    assert.equal(self.path, 'direct');
    const peers = peersFromStatus(st);
    const got = peers.map((p) => ({ hostName: p.hostName, ip: p.tailscaleIps[0] ?? '', path: p.path, tags: p.tags }));
    const byName = (a: { hostName: string }, b: { hostName: string }): number => a.hostName.localeCompare(b.hostName);
    assert.deepEqual(got.sort(byName), [...t.peers].sort(byName));
    for (const p of peers) {
      assert.match(p.nodeKey, /^nodekey:[0-9a-f]{64}$/);
      assert.match(p.dnsName, /\.$/, 'DNS names end with a dot');
      assert.ok(p.stableId.length > 0);
      if (p.path === 'offline') assert.ok(p.lastSeen, 'offline peers carry LastSeen');
      else assert.equal(p.lastSeen, undefined, "online peers' zero LastSeen reads as absent");
    }
  });

  withTarget('status: node IDs above 2^53 survive exactly', async (t, c) => {
    const st = await c.status();
    const big = peersFromStatus(st).find((p) => p.hostName === t.big.hostName);
    assert.ok(big);
    assert.equal(big.nodeId, t.big.nodeId);
    assert.ok(BigInt(t.big.nodeId) > 2n ** 53n);
    assert.notEqual(String(Number(t.big.nodeId)), t.big.nodeId, 'the ID would not survive a float64');
    assert.equal(big.stableId, t.big.stableId);
    for (const [id, profile] of Object.entries(st.users)) assert.equal(profile.id, id);
  });

  withTarget('whois: a known address with any port', async (t, c) => {
    for (const port of [9473, 1, 65535]) {
      const w = await c.whois(`${t.big.ip}:${port}`);
      assert.ok(w, `whois ${t.big.ip}:${port}`);
      assert.equal(w.node.nodeId, t.big.nodeId);
      assert.equal(w.node.stableId, t.big.stableId);
      assert.equal(w.node.hostName, t.big.hostName);
      assert.deepEqual(w.node.tags, t.big.tags);
      assert.ok(w.node.tailscaleIps.includes(t.big.ip));
      assert.ok(w.userProfile.loginName.length > 0);
      assert.equal(typeof w.capMap, 'object');
    }
    const viaPort = await c.whois(t.big.ip, 9473);
    assert.equal(viaPort?.node.nodeId, t.big.nodeId);
  });

  withTarget('whois: an unknown address is null, not an error', async (t, c) => {
    assert.equal(await c.whois(`${t.unknownIp}:9473`), null);
  });

  withTarget('ping: path and latency of each answer', async (t, c) => {
    for (const p of t.pings) {
      const r = await c.ping(p.ip, 'disco');
      assert.equal(r.err, '');
      assert.equal(r.ip, p.ip);
      assert.equal(r.path, p.path, `ping ${p.ip}`);
      assert.ok(r.latencyMs > 0);
    }
  });

  withTarget('ping: TSMP answers carry no path but the peerapi port', async (t, c) => {
    const target = t.pings.find((p) => p.path === 'direct');
    assert.ok(target);
    const r = await c.ping(target.ip, 'TSMP');
    assert.equal(r.path, 'unknown');
    assert.ok((r.peerApiPort ?? 0) > 0);
  });

  withTarget('watch: initial status, then peer changes and removals', async (t, c) => {
    const ac = new AbortController();
    const seen: IpnNotify[] = [];
    let phase = 0;
    let removedId = '';
    const guard = setTimeout(() => ac.abort(), 3000);
    try {
      for await (const n of c.watch({ signal: ac.signal })) {
        seen.push(n);
        if (phase === 0) {
          assert.equal(n.state, 'Running');
          assert.ok(n.initialStatus);
          assert.equal(n.initialStatus.peers.length, t.peers.length);
          assert.ok(n.initialStatus.peers.some((p) => p.nodeId === t.big.nodeId));
          phase = 1;
          await t.takeBigOffline();
        } else if (
          phase === 1 &&
          (n.peersChanged?.some((p) => p.nodeId === t.big.nodeId && p.online === false) ||
            n.peerChangedPatch?.some((p) => p.nodeId === t.big.nodeId && p.online === false))
        ) {
          phase = 2;
          removedId = await t.removePeer();
        } else if (phase === 2 && removedId !== '' && n.peersRemoved?.includes(removedId)) {
          phase = 3;
          break;
        }
        if (seen.length > 50) break;
      }
    } finally {
      clearTimeout(guard);
    }
    assert.equal(phase, 3, `saw ${seen.length} notifications, stopped at phase ${phase}`);
  });
}
