// npm run demo: a five-device sovereign mesh on this machine.
// The tailscaled emulator stands in for Tailscale; every device runs a real fcpd process on its
// own loopback address (127.77.0.1-5), with its own LMDB store, talking real TCP to the others.
import { randomBytes, createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { filesManifest, memoryManifest } from '../src/hub/connectors/builtin.js';
import { join } from 'node:path';
import { DevMesh } from '../src/devnet/index.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeSign1, sigStructure1 } from '../src/crypto/index.js';
import { ControlError } from '../src/daemon/index.js';

const execFileAsync = promisify(execFile);
const out = (line = '') => process.stdout.write(`${line}\n`);
const step = (n: number, title: string) => out(`\n${n}. ${title}`);
const short = (id: string) => `${id.slice(0, 12)}…`;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex').slice(0, 16);
const kib = (n: number) => (n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`);

interface Health {
  holders: Array<{ hostName: string; symbols: number }>;
  spare: number;
  ok: boolean;
}

/** Files under `dir` whose bytes contain any of `needles`. */
function filesContaining(dir: string, needles: Buffer[]): string[] {
  const hits: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    // The daemons keep writing while we look: a temp file renamed into place is gone by now.
    const st = statSync(full, { throwIfNoEntry: false });
    if (!st) continue;
    if (st.isDirectory()) hits.push(...filesContaining(full, needles));
    else if (st.isFile() && needles.some((n) => readOrEmpty(full).includes(n))) hits.push(full);
  }
  return hits;
}

function readOrEmpty(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
}

function sample(text: string, bytes: number): Uint8Array {
  const head = Buffer.from(text);
  return new Uint8Array(Buffer.concat([head, randomBytes(Math.max(0, bytes - head.length))]));
}

type Placement = { id: string; runningOn?: string; leaseSeq: number; stateSeq: number };
const INBOX_CONNECTOR = fileURLToPath(new URL('./demo-inbox-connector.js', import.meta.url));
const GUESTBOOK_CONNECTOR = fileURLToPath(new URL('./demo-guestbook-connector.js', import.meta.url));
const FCP_BIN = fileURLToPath(new URL('../../bin/fcp.js', import.meta.url));

async function until<T>(ms: number, fn: () => Promise<T | undefined>): Promise<T | undefined> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  return undefined;
}

/** Devices whose own daemon says it runs the connector now. */
async function runners(mesh: DevMesh, id: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of mesh.devices) {
    if (!d.process) continue;
    const list = await d.control.json<Placement[]>('/v1/hub/placements').catch(() => [] as Placement[]);
    if (list.some((p) => p.id === id && p.runningOn === d.name)) out.push(d.name);
  }
  return out;
}

/** Step 8: placement by profile, an invoke routed to another device, a failover with state intact. */
async function hubSection(mesh: DevMesh): Promise<boolean> {
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  await mesh.device('server').control.json('/v1/device', { method: 'POST', body: json({ set: ['always-on=true'] }) });
  out('   server: fcp device set always-on=true');
  const manifest = { id: 'inbox', version: '1.0.0', command: process.execPath, args: [INBOX_CONNECTOR], zone: 'z:private', operations: [{ name: 'next', risk: 'safe' }], state: { model: 'singleton_writer' } };
  await mesh.device('laptop').control.json('/v1/hub/connectors', { method: 'POST', body: json(manifest) });
  out('   laptop: installs the inbox connector (zone z:private; always-on devices are fitter)');
  const placed = await until(15_000, async () => ((await runners(mesh, 'inbox')).join() === 'server' ? true : undefined));
  out(`   placement: the eligible devices ranked by fitness, then rendezvous hashing -> ${placed ? 'runs on server, under a lease a majority of z:private devices granted' : 'NOT PLACED'}`);
  if (!placed) return false;
  // The assistant: the official MCP SDK client, speaking to `fcp mcp` on the laptop over stdio.
  const assistant = new Client({ name: 'demo-assistant', version: '1.0.0' });
  await assistant.connect(new StdioClientTransport({ command: process.execPath, args: [FCP_BIN, 'mcp'], env: { ...(process.env as Record<string, string>), FCP_DATA_DIR: mesh.device('laptop').dataDir }, stderr: 'ignore' }));
  try {
    return await hubCalls(mesh, assistant);
  } finally {
    await assistant.close();
  }
}

/** The assistant's calls, the failover and the return of the server. */
async function hubCalls(mesh: DevMesh, assistant: Client): Promise<boolean> {
  const tools = await assistant.listTools();
  out(`   assistant (MCP client via \`fcp mcp\` on laptop): tools/list -> ${tools.tools.map((t) => t.name).join(', ')}`);
  const call = async (): Promise<{ n: number; subject: string }> => {
    const r = await assistant.callTool({ name: 'inbox__next', arguments: {} });
    const content = r.content as Array<{ type: string; text?: string }>;
    if (r.isError) throw new Error(content[0]?.text ?? 'tool call failed');
    return JSON.parse(content[0]!.text!) as { n: number; subject: string };
  };
  for (let i = 0; i < 2; i++) {
    const r = await call();
    out(`   assistant: tools/call inbox__next -> #${r.n} "${r.subject}"   (laptop routed it over FCP to server)`);
  }
  const t0 = Date.now();
  await mesh.stopDaemon('server', 'SIGKILL');
  out('   server: fcpd killed without warning (its connector with it)');
  const next = await until(15_000, async () => {
    const r = await runners(mesh, 'inbox');
    return r.length === 1 ? r[0] : undefined;
  });
  out(`   ${next ? `after ${Date.now() - t0} ms the lease ran out and ${next} took it (higher fencing sequence), state read from the mesh` : 'NO FAILOVER'}`);
  if (!next) return false;
  const after = await until(10_000, call);
  out(`   assistant: tools/call inbox__next -> ${after ? `#${after.n} "${after.subject}"   (the cursor carried on, now on ${next})` : 'FAILED'}`);
  await mesh.startDaemon('server');
  // Once the restarted server has learned who holds the lease, it has had its chance to claim it.
  await until(10_000, async () => ((await mesh.device('server').control.json<Placement[]>('/v1/hub/placements')).some((p) => p.id === 'inbox' && p.runningOn === next) ? true : undefined));
  const copies = await runners(mesh, 'inbox');
  out(`   server restarted: it sees the higher sequence and runs no second copy -> running on ${copies.join(', ') || 'nothing'}`);
  if (!(after?.n === 3 && copies.length === 1 && copies[0] === next)) return false;
  // Back to the always-on server, by hand: the holder hands it over with its state.
  const target = next === 'server' ? 'laptop' : 'server';
  await execFileAsync(process.execPath, [FCP_BIN, 'hub', 'move', 'inbox', target, '--data-dir', mesh.device('laptop').dataDir]);
  const movedTo = await until(15_000, async () => ((await runners(mesh, 'inbox')).join() === target ? target : undefined));
  const moved = movedTo ? await until(10_000, call) : undefined;
  out(`   laptop: fcp hub move inbox ${target} -> ${movedTo ? `${next} handed it over; runs on ${target}` : 'NOT MOVED'}; inbox__next -> ${moved ? `#${moved.n} "${moved.subject}"` : 'FAILED'}`);
  return movedTo === target && moved?.n === 4;
}

interface GatewayReply {
  status: number;
  body: { error?: { code: string; message: string }; output?: unknown; operations?: Array<{ connector: string; operation: string }>; caller?: { zone: string } };
}

/** A request from the internet, through the emulated Funnel ingress of `device` (tailscaled adds its headers). */
async function fromInternet(mesh: DevMesh, device: string, method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<GatewayReply> {
  const ing = mesh.tailnet.ingress(device);
  const host = mesh.tailnet.device(device).dnsName.replace(/\.$/, '');
  const res = await fetch(`http://${ing.funnel.host}:${ing.funnel.port}${path}`, { method, headers: { host, 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as GatewayReply['body'] };
}

/** Step 17: exposure in the manifest, Funnel on through the serve config, community keys, limits. */
async function gatewaySection(mesh: DevMesh): Promise<boolean> {
  const laptop = mesh.device('laptop');
  // Not execFileSync: the emulated tailscaled lives in this process and must keep answering.
  const cli = async (...args: string[]) => (await execFileAsync(process.execPath, [FCP_BIN, ...args, '--data-dir', laptop.dataDir], { encoding: 'utf8' })).stdout;
  const json = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
  const manifest = {
    id: 'guestbook',
    version: '1.0.0',
    command: process.execPath,
    args: [GUESTBOOK_CONNECTOR],
    zone: 'z:community',
    state: { model: 'singleton_writer' },
    operations: [
      { name: 'read', risk: 'safe', exposure: 'public' },
      { name: 'sign', risk: 'risky', exposure: 'community', input_schema: { type: 'object', required: ['name', 'text'], properties: { name: { type: 'string' }, text: { type: 'string' } } } },
      { name: 'wipe', risk: 'dangerous', exposure: 'community' },
    ],
  };
  await laptop.control.json('/v1/hub/connectors', { method: 'POST', body: json(manifest) });
  out('   laptop: installs guestbook (zone z:community): read is exposed to the public, sign to community keys, wipe is dangerous');
  const running = await until(15_000, async () => ((await runners(mesh, 'guestbook')).length === 1 ? true : undefined));
  const on = (await cli('funnel', 'on')).trim().split('\n');
  out(`   laptop: fcp funnel on -> ${on.filter((l) => l.startsWith('funnel:')).join('; ')}  (serve config written with If-Match)`);
  let ok = running === true && on.some((l) => l.startsWith('funnel: on'));
  // A stranger on the internet, sending forged identity headers tailscaled strips.
  const listed = await fromInternet(mesh, 'laptop', 'GET', '/v1/operations', { 'tailscale-user-login': 'owner@example.com' });
  out(`   stranger (forging Tailscale-User-Login): GET /v1/operations -> ${listed.status}, caller ${listed.body.caller?.zone}, operations ${(listed.body.operations ?? []).map((o) => `${o.connector}.${o.operation}`).join(', ') || '(none)'}`);
  ok &&= listed.body.caller?.zone === 'z:public' && (listed.body.operations ?? []).map((o) => `${o.connector}.${o.operation}`).join() === 'guestbook.read';
  const signed = await fromInternet(mesh, 'laptop', 'POST', '/v1/invoke/guestbook/sign', { 'idempotency-key': 'demo-1' }, { name: 'mallory', text: 'hi' });
  out(`   stranger: sign -> ${signed.status} ${signed.body.error?.message ?? ''}`);
  const memory = await fromInternet(mesh, 'laptop', 'POST', '/v1/invoke/memory/search', {}, { query: 'travel' });
  out(`   stranger: memory.search (a z:private connector) -> ${memory.status} ${memory.body.error?.message ?? 'UNEXPECTED'}`);
  ok &&= signed.status === 403 && memory.status === 403;
  const key = await cli('funnel', 'key', 'add', 'friend', '--json');
  const made = JSON.parse(key) as { key: string; info: { id: string } };
  out(`   laptop: fcp funnel key add friend -> ${made.key.slice(0, 18)}… (shown once; only its SHA-256 is kept)`);
  const friend = { 'x-fcp-api-key': made.key };
  const bySign = await fromInternet(mesh, 'laptop', 'POST', '/v1/invoke/guestbook/sign', { ...friend, 'idempotency-key': 'demo-2' }, { name: 'friend', text: 'lovely site' });
  const wipe = await fromInternet(mesh, 'laptop', 'POST', '/v1/invoke/guestbook/wipe', { ...friend, 'idempotency-key': 'demo-3' }, {});
  const read = await fromInternet(mesh, 'laptop', 'POST', '/v1/invoke/guestbook/read', {}, {});
  const entries = (read.body.output as { entries?: Array<{ name: string; via: string }> } | undefined)?.entries ?? [];
  out(`   friend (community key): sign -> ${bySign.status}${bySign.status === 200 ? '' : ` ${bySign.body.error?.code ?? ''} ${bySign.body.error?.message ?? ''}`}; wipe -> ${wipe.status} ${wipe.body.error?.message ?? 'UNEXPECTED'}`);
  out(`   stranger: read -> ${read.status}, ${entries.map((e) => `${e.name} via ${e.via}`).join('; ') || 'no entries'}`);
  ok &&= bySign.status === 200 && wipe.status === 403 && entries.length === 1 && entries[0]!.via === 'funnel (z:community)';
  const burst: number[] = [];
  for (let i = 0; i < 25; i++) burst.push((await fromInternet(mesh, 'laptop', 'GET', '/v1/operations')).status);
  const allowed = burst.filter((c) => c === 200).length;
  out(`   stranger: 25 requests in a row -> ${allowed} answered, ${burst.filter((c) => c === 429).length} rate-limited (429; bursts of 20 per address)`);
  ok &&= allowed < 25 && burst.includes(429);
  await cli('funnel', 'key', 'revoke', 'friend');
  const revoked = await fromInternet(mesh, 'laptop', 'GET', '/v1/operations', friend);
  out(`   laptop: fcp funnel key revoke friend -> the friend's next request: ${revoked.status} ${revoked.body.error?.code ?? 'UNEXPECTED'}`);
  await cli('funnel', 'off');
  const closed = await fromInternet(mesh, 'laptop', 'GET', '/v1/operations').then(
    (r) => `UNEXPECTED ${r.status}`,
    () => 'connection refused by Funnel',
  );
  out(`   laptop: fcp funnel off -> ${closed}`);
  return ok && revoked.status === 401 && !closed.startsWith('UNEXPECTED');
}

const KEEP = process.argv.includes('--keep');

async function main(): Promise<void> {
  out('fcp-mesh demo: your AI data as RaptorQ symbols spread over your own devices');
  step(1, 'Starting a dev tailnet of five devices, each with its own fcpd');
  // Short repair timings so healing is visible within the demo (defaults: 60 s passes, 10 min grace).
  // Hub leases of 1.5 s, so a failover is seen within the demo (default 15 s). Collected copies
  // erased at once, so the space is seen coming back (default: kept 10 min, for puts under way).
  // Every fcpd also serves its dashboard and its public gateway on free loopback ports
  // (FCP_DASHBOARD_PORT=0, FCP_GATEWAY_PORT=0).
  const mesh = await DevMesh.start({ env: { FCP_DASHBOARD_PORT: '0', FCP_GATEWAY_PORT: '0', FCP_REPAIR_INTERVAL_MS: '1000', FCP_REPAIR_GRACE_MS: '1000', FCP_HUB_LEASE_MS: '1500', FCP_HUB_POLL_MS: '250', FCP_GC_QUARANTINE_MS: '0' } });
  let failed = false;
  let dashboardUrl = '';
  try {
    for (const d of mesh.devices) {
      const path = mesh.tailnet.snapshot().find((s) => s.name === d.name)!.path;
      out(`   ${d.name.padEnd(11)} ${d.address.padEnd(11)} ${d.tags.join(',').padEnd(16)} reached ${path === 'derp' ? 'only through a DERP relay' : 'directly'}`);
    }
    out('   laptop ran `fcp init --first`; the others ran `fcp init` and `fcp join laptop --code …`,');
    out('   receiving exactly the zone keys their tags allow.');
    dashboardUrl = mesh.dashboardUrl('laptop');
    const seen = (await (await fetch(`${dashboardUrl}api/snapshot`)).json()) as { devices: Array<{ hostName: string; member: boolean }> };
    if (seen.devices.length !== 5) failed = true;
    out(`   dashboard: ${dashboardUrl}  (${seen.devices.filter((d) => d.member).length} of ${seen.devices.length} devices up; publish it with \`tailscale serve\`)`);

    step(2, 'Storing files in different zones');
    const files = [
      { name: 'notes.md', writer: 'laptop', zone: 'z:private', data: sample('# Notes\nAsk the assistant about the trip.\n', 120_000) },
      { name: 'chat-history.jsonl', writer: 'desktop', zone: 'z:private', data: sample('{"role":"user","content":"hello"}\n', 2 << 20) },
      { name: 'health-record.pdf', writer: 'laptop', zone: 'z:owner', data: sample('%PDF-1.7\n', 700_000) },
    ];
    const ids = new Map<string, string>();
    for (const f of files) {
      // Two devices may be lost while the object stays readable.
      const id = await mesh.put(f.writer, f.data, f.zone, { tolerate: f.zone === 'z:owner' ? 1 : 2 });
      ids.set(f.name, id);
      const h = await mesh.device(f.writer).control.json<Health>(`/v1/objects/${id}/health`);
      out(`   ${f.name.padEnd(19)} ${kib(f.data.length).padStart(9)} ${f.zone.padEnd(10)} from ${f.writer.padEnd(8)} -> ${short(id)}`);
      out(`      symbols on: ${h.holders.map((x) => `${x.hostName} ${x.symbols}`).join(', ')}`);
    }

    step(3, 'Zone rules at work');
    const phoneOwner = await mesh.device('laptop').control.json<Health>(`/v1/objects/${ids.get('health-record.pdf')}/health`);
    const onPhone = phoneOwner.holders.find((x) => x.hostName === 'phone')?.symbols ?? 0;
    out(`   z:owner symbols on the phone (owner-tagged, but only reachable over DERP): ${onPhone}`);
    if (onPhone !== 0) failed = true;
    try {
      await mesh.get('worklaptop', ids.get('notes.md')!);
      out('   UNEXPECTED: the work laptop read z:private data');
      failed = true;
    } catch (err) {
      out(`   work laptop asks for notes.md (z:private): refused, ${(err as ControlError).code}`);
      out(`      "${(err as Error).message}"`);
    }

    step(4, 'Killing two daemons (server and desktop) without warning');
    await mesh.stopDaemon('server', 'SIGKILL');
    await mesh.stopDaemon('desktop', 'SIGKILL');
    for (const f of files) {
      const reader = 'laptop';
      const t0 = performance.now();
      const back = await mesh.get(reader, ids.get(f.name)!);
      const ms = performance.now() - t0;
      const same = Buffer.compare(Buffer.from(back), Buffer.from(f.data)) === 0;
      if (!same) failed = true;
      out(`   ${reader} rebuilds ${f.name.padEnd(19)} ${same ? 'byte-identical' : 'DIFFERENT'} (sha256 ${sha(back)}) in ${ms.toFixed(0)} ms`);
    }

    step(5, 'Restarting the two daemons: their symbols were on disk all along');
    await mesh.startDaemon('server');
    await mesh.startDaemon('desktop');
    for (const name of ['server', 'desktop']) {
      const s = await mesh.device(name).control.json<{ storage: { symbols: number; bytes: number } }>('/v1/status');
      out(`   ${name.padEnd(8)} holds ${s.storage.symbols} sealed symbols (${kib(s.storage.bytes)}) after restart`);
    }
    const back = await mesh.get('desktop', ids.get('chat-history.jsonl')!);
    const same = Buffer.compare(Buffer.from(back), Buffer.from(files[1]!.data)) === 0;
    if (!same) failed = true;
    out(`   desktop rebuilds chat-history.jsonl: ${same ? 'byte-identical' : 'DIFFERENT'}`);

    step(6, 'Freezing the server (SIGSTOP: online in the tailnet, never answering)');
    const frozen = mesh.device('server').process!;
    frozen.kill('SIGSTOP');
    try {
      for (const f of files) {
        const t0 = performance.now();
        const back = await mesh.get('laptop', ids.get(f.name)!);
        const ms = performance.now() - t0;
        const same = Buffer.compare(Buffer.from(back), Buffer.from(f.data)) === 0;
        if (!same) failed = true;
        out(`   laptop rebuilds ${f.name.padEnd(19)} ${same ? 'byte-identical' : 'DIFFERENT'} in ${ms.toFixed(0)} ms, reading around the frozen holder`);
      }
    } finally {
      frozen.kill('SIGCONT');
    }

    step(7, 'A secret split 2-of-2 over the owner devices, held in memory only');
    const secret = Buffer.from(`sk-demo-${randomBytes(18).toString('hex')}`);
    await mesh.device('laptop').control.json('/v1/secrets/openai-key?k=2&n=2&zone=z%3Aowner', { method: 'PUT', body: secret, contentLength: secret.length });
    out('   laptop: fcp secret put openai-key --k 2 --n 2 --zone z:owner   (value read from stdin)');
    const used = await mesh.device('server').control.request('/v1/secrets/openai-key/use', { method: 'POST' });
    const usedOk = used.status === 200 && used.body.equals(secret);
    used.body.fill(0);
    if (!usedOk) failed = true;
    out(`   server: fcp secret exec openai-key -- <your tool>   -> ${usedOk ? 'got the key, rebuilt from 2 shares in memory' : 'FAILED'}`);
    const leaks = filesContaining(mesh.dir, [secret, Buffer.from(secret.toString('hex'))]);
    if (leaks.length > 0) failed = true;
    out(`   files on disk that contain the secret (every daemon's LMDB, keys, logs): ${leaks.length === 0 ? 'none' : leaks.join(', ')}`);

    step(8, 'The hub: an assistant on the laptop calls a connector placed on another device');
    if (!(await hubSection(mesh))) failed = true;

    step(9, 'The phone leaves the tailnet for good: the mesh heals');
    const notes = ids.get('notes.md')!;
    const before = await mesh.device('laptop').control.json<Health>(`/v1/objects/${notes}/health`);
    out(`   notes.md before: ${before.holders.map((x) => `${x.hostName} ${x.symbols}`).join(', ')}`);
    await mesh.stopDaemon('phone', 'SIGKILL');
    mesh.tailnet.removeNode('phone');
    let healed: Health | null = null;
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      const list = await mesh.device('laptop').control.json<Array<Health & { objectId: string }>>('/v1/objects');
      if (list.every((o) => o.ok)) {
        healed = list.find((o) => o.objectId === notes) ?? null;
        break;
      }
    }
    if (!healed) failed = true;
    out(`   notes.md after:  ${healed ? healed.holders.map((x) => `${x.hostName} ${x.symbols}`).join(', ') : 'NOT HEALED'}`);
    out('   fresh repair symbols (new ESIs) were made from K symbols and placed on the devices left;');
    out('   every object again survives the loss of one more device.');

    step(10, 'Listing without asking about every object: holdings summaries');
    const sentBy = async (name: string) => (await mesh.device(name).control.json<{ requestsSent: Record<string, number> }>('/v1/status')).requestsSent;
    const s0 = await sentBy('laptop');
    const listed = await mesh.device('laptop').control.json<Array<{ ok: boolean }>>('/v1/objects');
    const s1 = await sentBy('laptop');
    const asked = (t: string) => (s1[t] ?? 0) - (s0[t] ?? 0);
    out(`   fcp ls of ${listed.length} objects asked: ${asked('summary_digest')} summary digests, ${asked('summary')} summary pages, ${asked('have')} per-object have`);
    const du = await mesh.device('laptop').control.json<{ zones: Array<{ zone: string; bytes: number; devices: Array<{ hostName: string; bytes: number }> }> }>('/v1/usage');
    for (const z of du.zones.filter((x) => x.bytes > 0)) out(`   fcp du ${z.zone.padEnd(10)} ${kib(z.bytes).padStart(10)} on ${z.devices.map((d) => `${d.hostName} ${kib(d.bytes)}`).join(', ')}`);
    try {
      await mesh.device('laptop').control.json('/v1/objects?zone=z:privte');
      failed = true;
      out('   fcp ls --zone z:privte: no error (WRONG)');
    } catch (err) {
      out(`   fcp ls --zone z:privte: ${(err as Error).message.split(' Known zones')[0]}`);
    }

    step(11, 'Names, versions and deletion for real');
    const post = async <T>(device: string, path: string, body: unknown): Promise<T> => {
      const b = Buffer.from(JSON.stringify(body));
      return mesh.device(device).control.json<T>(path, { method: 'POST', body: b, contentLength: b.length });
    };
    const putContent = async (device: string, data: Uint8Array): Promise<{ id: string; size: number }> =>
      mesh.device(device).control.json('/v1/content?zone=z%3Aprivate', { method: 'POST', body: data, contentLength: data.length });
    const plan1 = sample('# Plan v1\n', 300_000);
    const plan2 = sample('# Plan v2\n', 310_000);
    const photo = sample('JFIF', 900_000);
    const a = await putContent('laptop', plan1);
    const b = await putContent('laptop', photo);
    await post('laptop', '/v1/files', { entries: [{ path: 'trip/plan.md', kind: 'file', ref: a.id, size: a.size }, { path: 'trip/photos/beach.jpg', kind: 'file', ref: b.id, size: b.size }] });
    out('   laptop:  fcp put ./trip trip/');
    const listedNames = await mesh.device('desktop').control.json<{ entries: Array<{ path: string; size: number }> }>('/v1/files?path=trip&recursive=1');
    out(`   desktop: fcp ls trip/ -R  -> ${listedNames.entries.map((e) => e.path).join(', ')}`);
    const c = await putContent('desktop', plan2);
    await post('desktop', '/v1/files', { entries: [{ path: 'trip/plan.md', kind: 'file', ref: c.id, size: c.size }] });
    const log = await mesh.device('server').control.json<Array<{ snapshot: number; host: string }>>('/v1/files/log?path=trip%2Fplan.md');
    const first = await mesh.device('server').control.request(`/v1/content/${(await mesh.device('server').control.json<{ entries: Array<{ ref: string }> }>(`/v1/files?path=${encodeURIComponent(`trip/plan.md@${log[log.length - 1]!.snapshot}`)}`)).entries[0]!.ref}`);
    const v1Back = first.status === 200 && first.body.equals(Buffer.from(plan1));
    if (!v1Back || log.length !== 2) failed = true;
    out(`   server:  fcp log trip/plan.md -> ${log.map((v) => `@${v.snapshot} by ${v.host}`).join(', ')}; fcp get trip/plan.md@${log[log.length - 1]!.snapshot} ${v1Back ? 'gives v1 back' : 'FAILED'}`);
    const usedBefore = (await mesh.device('laptop').control.json<{ storage: { bytes: number } }>('/v1/status')).storage.bytes;
    await post('desktop', '/v1/files/rm', { path: 'trip', recursive: true });
    await post('desktop', '/v1/files/forget', { keepLast: 1 });
    const gc = await post<{ collected: number; bytes: number }>('server', '/v1/files/gc', { graceMs: 0 });
    const usedAfter = (await mesh.device('laptop').control.json<{ storage: { bytes: number } }>('/v1/status')).storage.bytes;
    const left = (await mesh.device('laptop').control.json<Array<{ objectId: string }>>('/v1/objects')).filter((o) => [a.id, b.id, c.id].includes(o.objectId));
    if (gc.collected === 0 || left.length > 0) failed = true;
    out(`   desktop: fcp rm -r trip && fcp forget --keep-last 1;  server: fcp gc --grace 0 -> ${gc.collected} objects collected`);
    out(`   laptop's store: ${kib(usedBefore)} -> ${kib(usedAfter)}; tombstones stop a device that was away from bringing them back.`);

    step(12, 'An assistant calls connectors through MCP (`fcp mcp`, as Claude Desktop would)');
    const laptop = mesh.device('laptop');
    const root = join(mesh.dir, 'laptop-documents');
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'trip.md'), '# Trip\nTrain to Lyon on Friday, 09:12.\n');
    for (const m of [filesManifest({ root, zone: 'z:private', device: 'laptop' }), memoryManifest({ zone: 'z:private' })]) {
      const body = Buffer.from(JSON.stringify(m));
      await laptop.control.json('/v1/hub/connectors', { method: 'POST', body, contentLength: body.length });
    }
    out('   laptop: fcp hub install --builtin files --root ~/Documents --zone z:private; fcp hub install --builtin memory --zone z:private');
    const fcpBin = fileURLToPath(new URL('../../bin/fcp.js', import.meta.url));
    const assistant = new Client({ name: 'demo-assistant', version: '1.0.0' });
    await assistant.connect(new StdioClientTransport({ command: process.execPath, args: [fcpBin, 'mcp', '--data-dir', laptop.dataDir], stderr: 'ignore' }));
    try {
      const { tools } = await assistant.listTools();
      out(`   tools/list: ${tools.map((t) => `${t.name}${t.annotations?.readOnlyHint ? '' : ' (changes things)'}`).join(', ')}`);
      const found = await assistant.callTool({ name: 'files__search', arguments: { query: 'train' } });
      const hit = (found.structuredContent as { hits: Array<{ path: string; text: string }> }).hits[0];
      out(`   files__search "train" -> ${hit ? `${hit.path}: ${hit.text}` : 'nothing'}`);
      if (!hit) failed = true;
      const kept = await assistant.callTool({ name: 'memory__remember', arguments: { text: `Trip: ${hit?.text ?? ''}`, kind: 'event', tags: ['travel'] } });
      const memId = (kept.structuredContent as { id?: string } | undefined)?.id;
      if (!memId) failed = true;
      const h = memId ? await laptop.control.json<Health>(`/v1/objects/${memId}/health`) : null;
      out(`   memory__remember -> mesh object ${memId ? short(memId) : 'FAILED'} in z:private, symbols on: ${h ? h.holders.map((x) => `${x.hostName} ${x.symbols}`).join(', ') : '-'}`);
      const recalled = await assistant.callTool({ name: 'memory__search', arguments: { query: 'travel' } });
      const n = (recalled.structuredContent as { hits: unknown[] }).hits.length;
      out(`   memory__search "travel" -> ${n} memory`);
      if (n !== 1) failed = true;
      const escape = await assistant.callTool({ name: 'files__read', arguments: { path: '../../laptop/zone-keys' } });
      out(`   files__read "../../laptop/zone-keys" -> ${escape.isError ? `refused: ${(escape.content as Array<{ text: string }>)[0]!.text}` : 'UNEXPECTED: read'}`);
      if (!escape.isError) failed = true;
    } finally {
      await assistant.close();
    }

    step(13, 'The audit log: every decision, per zone, in a signed Merkle log the other devices witness');
    type Report = { origin: string; entries: number; checkpoints: number; problems: Array<{ kind: string; index?: number }> };
    const verify = () => laptop.control.json<Report[]>('/v1/audit/verify', { method: 'POST' });
    const firstCheck = await verify();
    const clean = firstCheck.every((r) => r.problems.length === 0);
    if (!clean) failed = true;
    type Proof = { origin: string; index: number; proof: string[]; checkpoint: string; leaf: string };
    const proof = await laptop.control.json<Proof>('/v1/audit/proof?zone=device&index=3');
    const laptopId = proof.origin.split('/')[1]!;
    const own = firstCheck.filter((r) => r.origin.startsWith(`fcp-mesh/${laptopId}/`));
    out(`   laptop: fcp audit verify -> ${clean ? 'ok' : 'FAILED'}: its logs ${own.map((r) => `${r.origin.split('/').pop()} ${r.entries} entries`).join(', ')}; ${firstCheck.length - own.length} logs of the other devices checked against their witnesses`);
    // An entry's proof: inclusion in the latest checkpoint, which the other devices cosigned over FCP.
    const noteLines = proof.checkpoint.trimEnd().split('\n');
    const cosigners = noteLines.filter((l) => l.startsWith('\u2014 fcp-witness/')).length;
    if (cosigners < 1) failed = true;
    out(`   fcp audit proof device#3 -> leaf ${proof.leaf.slice(0, 16)}..., ${proof.proof.length} hashes to this checkpoint, signed by laptop and cosigned by ${cosigners} witnesses:`);
    for (const l of noteLines) out(`     ${l.length > 72 ? `${l.slice(0, 72)}...` : l}`);
    // Change one byte inside entry 3 of the device log (a letter of its kind), as an intruder would.
    const file = join(laptop.dataDir, 'audit', 'device', 'entries.bin');
    const bytes = readFileSync(file);
    let at = 0;
    for (let i = 0; i < 3; i++) at += 4 + bytes.readUInt32BE(at);
    const inEntry = bytes.subarray(at + 4, at + 4 + bytes.readUInt32BE(at)).indexOf('authz');
    bytes[at + 4 + inEntry] = 'A'.charCodeAt(0);
    writeFileSync(file, bytes);
    const after = (await verify()).flatMap((r) => r.problems.map((p) => `${r.origin.split('/').pop()} entry ${p.index ?? '?'}: ${p.kind}`));
    if (!after.some((x) => x.startsWith('device entry 3'))) failed = true;
    out(`   one byte of laptop's audit/device/entries.bin changed; fcp audit verify -> exit 7: ${after.slice(0, 2).join('; ') || 'NOTHING FOUND'}`);

    step(14, 'The desktop is stolen: `fcp device remove desktop` on the laptop');
    type Removed = { told: string[]; notReached: string[]; rotated: Array<{ zone: string; epoch: number }> };
    const removed = await laptop.control.json<Removed>('/v1/devices/desktop/remove', { method: 'POST' });
    out(`   removed; told ${removed.told.join(', ')}; new key epochs: ${removed.rotated.map((r) => `${r.zone} ${r.epoch}`).join(', ')}`);
    const fresh = sample('written after the removal\n', 40_000);
    const freshId = await mesh.put('laptop', fresh, 'z:private');
    try {
      await mesh.get('desktop', freshId);
      failed = true;
      out('   the desktop read an object written after its removal (WRONG)');
    } catch (err) {
      out(`   the desktop asks for a new z:private object: ${(err as Error).message.slice(0, 110)}`);
    }
    // Its symbols count as lost: the repair pass the removal started rebuilds them on the devices left.
    for (const n of ['laptop', 'server']) await mesh.device(n).control.json('/v1/repair', { method: 'POST' });
    const repaired = await laptop.control.json<Health>(`/v1/objects/${ids.get('chat-history.jsonl')}/health`);
    if (repaired.holders.some((h) => h.hostName === 'desktop')) failed = true;
    out(`   repaired around it: chat-history.jsonl now on ${repaired.holders.map((x) => `${x.hostName} ${x.symbols}`).join(', ')}`);
    type Epochs = { zoneEpochs: Record<string, { epoch: number; older: number[] }> };
    const resealed = await until(30_000, async () => {
      const all = await Promise.all(['laptop', 'server'].map((n) => mesh.device(n).control.json<Epochs>('/v1/status')));
      return all.every((st) => Object.values(st.zoneEpochs).every((z) => z.older.length === 0)) ? all[0] : undefined;
    });
    if (!resealed) failed = true;
    out(`   re-sealed in the background; old epochs dropped on laptop and server: ${resealed ? 'yes' : 'NOT YET'} (z:private now epoch ${resealed?.zoneEpochs['z:private']?.epoch ?? '?'})`);
    const stillReads = sha(await mesh.get('server', ids.get('notes.md')!)) === sha(files.find((f) => f.name === 'notes.md')!.data) && sha(await mesh.get('server', freshId)) === sha(fresh);
    if (!stillReads) failed = true;
    out(`   every object still reads from the devices left: ${stillReads ? 'yes' : 'NO'}; the desktop keeps only what it had already copied`);

    step(15, 'The server is reinstalled (a new disk): it joins again with new keys, and each device decides whether to trust them');
    const serverNote = sample('# server notes\n', 20_000);
    const noteRef = await putContent('server', serverNote);
    await post('server', '/v1/files', { entries: [{ path: 'server/notes.md', kind: 'file', ref: noteRef.id, size: noteRef.size }] });
    const privateNames = async (device: string) =>
      (await mesh.device(device).control.json<{ entries: Array<{ path: string; kind: string }> }>('/v1/files?path=server&recursive=1')).entries.filter((e) => e.kind === 'file').map((e) => e.path);
    // Heads spread by pulls: wait (bounded) until the laptop has taken the server's.
    const seenBefore = (await until(15_000, async () => {
      const names = await privateNames('laptop').catch(() => [] as string[]);
      return names.includes('server/notes.md') ? names : undefined;
    })) ?? [];
    await mesh.reset('server', 'laptop');
    // Right after its start the server may not have met its peers yet: its names come back
    // with the first pull that reaches one (bounded wait).
    const recovered = (await until(15_000, async () => {
      const names = await privateNames('server');
      return names.includes('server/notes.md') ? names : undefined;
    })) ?? [];
    if (!recovered.includes('server/notes.md')) failed = true;
    out(`   server: data dir wiped, new node keys, fcp join with an invite from the laptop; it reads its old names back: ${recovered.join(', ') || 'NOTHING'}`);
    const afterNote = sample('# written after the reinstall\n', 20_000);
    const afterRef = await putContent('server', afterNote);
    await post('server', '/v1/files', { entries: [{ path: 'server/after-reinstall.md', kind: 'file', ref: afterRef.id, size: afterRef.size }] });
    const refused = await privateNames('laptop');
    if (refused.includes('server/after-reinstall.md') || !seenBefore.includes('server/notes.md')) failed = true;
    out(`   laptop: fcp ls server/ -> ${refused.join(', ')} (the server's new signing key is not the one pinned: its new head is refused)`);
    type TrustPlan = { pinned: string; presented: string; same: boolean; changed?: boolean };
    const plan = await laptop.control.json<TrustPlan>('/v1/devices/server/trust');
    const trusted = await post<TrustPlan>('laptop', '/v1/devices/server/trust', { expect: plan.presented });
    const seenAfter =
      (await until(15_000, async () => {
        const names = await privateNames('laptop');
        return names.includes('server/after-reinstall.md') ? names : undefined;
      })) ?? (await privateNames('laptop'));
    if (!trusted.changed || !seenAfter.includes('server/after-reinstall.md')) failed = true;
    out(`   laptop: fcp device trust server -> pinned ${plan.pinned}, presented ${plan.presented} (asked of the server itself); trusted`);
    out(`   laptop: fcp ls server/ -> ${seenAfter.join(', ')}`);
    // Its audit logs started again under the new key: new logs to the witnesses once the key is
    // trusted (the same key going back would still be a rollback); the old ones stay verifiable.
    type AuditReport = { origin: string; problems: unknown[]; retired?: boolean };
    const serverId = mesh.tailnet.device('server').stableId;
    const ofServer = (rs: AuditReport[]) => rs.filter((r) => r.origin.startsWith(`fcp-mesh/${serverId}/`));
    const witnessedAgain = await until(20_000, async () => {
      const mine = ofServer(await mesh.device('server').control.json<AuditReport[]>('/v1/audit/verify', { method: 'POST' })).filter((r) => !r.retired);
      return mine.length > 0 && mine.every((r) => r.problems.length === 0) ? mine : undefined;
    });
    const laptopView = ofServer(await laptop.control.json<AuditReport[]>('/v1/audit/verify', { method: 'POST' }));
    const oldLogs = laptopView.filter((r) => r.retired);
    if (!witnessedAgain || oldLogs.length === 0 || laptopView.some((r) => r.problems.length > 0)) failed = true;
    out(`   server: fcp audit verify -> ${witnessedAgain ? `its ${witnessedAgain.length} logs under the new key are witnessed again (new logs to the laptop, not a rollback)` : 'NOT WITNESSED'}`);
    out(`   laptop: fcp audit verify -> the server's ${oldLogs.length} logs from before the reset still verify with its old key${laptopView.some((r) => r.problems.length > 0) ? ' (PROBLEMS)' : ''}`);
    // Its store came back empty: repair passes rebuild its share from the laptop's.
    const refilled = await until(30_000, async () => {
      for (const n of ['laptop', 'server']) await mesh.device(n).control.json('/v1/repair', { method: 'POST' });
      const list = await laptop.control.json<Array<Health & { objectId: string }>>('/v1/objects');
      const chat = list.find((o) => o.objectId === ids.get('chat-history.jsonl'));
      return chat?.holders.some((h) => h.hostName === 'server' && h.symbols > 0) ? chat : undefined;
    });
    if (!refilled || !refilled.holders.some((h) => h.hostName === 'server' && h.symbols > 0)) failed = true;
    out(`   repair refilled the server's empty store: chat-history.jsonl now on ${refilled ? refilled.holders.map((x) => `${x.hostName} ${x.symbols}`).join(', ') : 'NOT REFILLED'}`);
    out('   (it was stored to survive two lost devices; with two left, each holds enough to rebuild it alone)');
    // The connectors it ran failed over while it was away; they settle where they can run now.
    const memoryOn = await until(30_000, async () => {
      const on = await runners(mesh, 'memory');
      return on.length > 0 ? on : undefined;
    });
    if (!memoryOn) failed = true;
    out(`   the connectors it ran moved on: memory runs on ${memoryOn?.join(', ') ?? 'NO DEVICE'}`);
    // Back to the server by hand: it starts the inbox from the state it signed with its old key
    // (a former key of the server now, on the laptop and on the server itself).
    await post('server', '/v1/device', { set: ['always-on=true'] });
    await execFileAsync(process.execPath, [FCP_BIN, 'hub', 'move', 'inbox', 'server', '--data-dir', laptop.dataDir]);
    const inboxBack = await until(20_000, async () => ((await runners(mesh, 'inbox')).join() === 'server' ? true : undefined));
    type Next = { result: { n: number; subject: string } };
    const nextMail = inboxBack ? await until(10_000, () => post<Next>('laptop', '/v1/hub/invoke', { connector: 'inbox', operation: 'next', input: {}, timeoutMs: 5000 })) : undefined;
    if (!inboxBack || (nextMail?.result.n ?? 0) < 5) failed = true;
    out(`   laptop: fcp hub move inbox server -> ${inboxBack ? 'the reset server runs it again' : 'NOT RUNNING ON SERVER'}; inbox__next -> ${nextMail ? `#${nextMail.result.n} "${nextMail.result.subject}" (its state, signed with its old key, carried on)` : 'FAILED'}`);

    step(16, 'The owner key: FROST 2-of-2 over the owner devices online over direct paths (laptop, server), never whole anywhere');
    type OwnerStatus = { keyId: string; publicKey: string; threshold: number; participants: Array<{ hostName: string; online: boolean }>; grantExpiresAt?: string };
    const made = (await mesh.ownerInit('laptop', 2)) as unknown as OwnerStatus;
    out(`   laptop: fcp owner init --threshold 2   -> key ${made.keyId}, ${made.threshold}-of-${made.participants.length} over ${made.participants.map((p) => p.hostName).join(', ')} (a key generation without a dealer, over FCP)`);
    const serverView = await mesh.device('server').control.json<OwnerStatus>('/v1/owner');
    // The laptop's grant: a root token signed by the owner key (k devices, two FROST rounds).
    const grant = decodeSign1(readFileSync(join(laptop.dataDir, 'owner', 'grant.cose')));
    const plainOk = ed25519.verify(grant.signature, sigStructure1(grant.protectedBytes, grant.payload), Buffer.from(made.publicKey, 'hex'));
    if (!plainOk || serverView.publicKey !== made.publicKey) failed = true;
    out(`   server: fcp owner status -> same key ${serverView.keyId}; its grant expires ${serverView.grantExpiresAt ?? 'NEVER GRANTED'}`);
    out(`   the laptop's grant, checked with plain Ed25519 against the owner public key: ${plainOk ? 'valid' : 'INVALID'}`);

    step(17, 'A token-scoped assistant, then the token revoked');
    const tokenFile = join(mesh.dir, 'assistant.token');
    const fcpCli = fileURLToPath(new URL('../../bin/fcp.js', import.meta.url));
    const mintedOut = execFileSync(process.execPath, [fcpCli, 'token', 'mint', '--connector', 'memory', '--ops', 'search', '--ttl', '10m', '--for', 'assistant', '--out', tokenFile, '--json', '--data-dir', laptop.dataDir], { encoding: 'utf8' });
    const minted = JSON.parse(mintedOut) as { id: string };
    out(`   laptop: fcp token mint --connector memory --ops search --ttl 10m --out assistant.token -> ${minted.id.slice(0, 12)} (narrowed from the laptop's grant)`);
    const scoped = new Client({ name: 'scoped-assistant', version: '1.0.0' });
    await scoped.connect(new StdioClientTransport({ command: process.execPath, args: [fcpCli, 'mcp', '--token', tokenFile, '--data-dir', laptop.dataDir], stderr: 'ignore' }));
    try {
      const scopedTools = (await scoped.listTools()).tools.map((t) => t.name);
      out(`   fcp mcp --token assistant.token: tools/list -> ${scopedTools.join(', ')}`);
      const before = await scoped.callTool({ name: 'memory__search', arguments: { query: 'travel' } });
      const hits = (before.structuredContent as { hits?: unknown[] } | undefined)?.hits?.length ?? 0;
      out(`   memory__search "travel" -> ${before.isError ? `refused: ${(before.content as Array<{ text: string }>)[0]!.text}` : `${hits} memory (the device running the connector checked the token again)`}`);
      if (scopedTools.join() !== 'memory__search' || hits !== 1) failed = true;
      const revokedAt = performance.now();
      execFileSync(process.execPath, [fcpCli, 'token', 'revoke', minted.id.slice(0, 12), '--reason', 'demo', '--data-dir', laptop.dataDir], { encoding: 'utf8' });
      const reached = await until(10_000, async () => {
        const heads = await Promise.all(['laptop', 'server', 'worklaptop'].map((n) => mesh.device(n).control.json<{ seq: number }>('/v1/revocations')));
        return heads.every((h) => h.seq >= 1) ? performance.now() - revokedAt : undefined;
      });
      out(`   laptop: fcp token revoke ${minted.id.slice(0, 12)} -> signed by the owner key (2 devices), on every online device in ${reached !== undefined ? `${Math.round(reached)} ms` : 'NOT YET'}`);
      const afterTools = (await scoped.listTools()).tools.map((t) => t.name);
      const refusal = await scoped.callTool({ name: 'memory__search', arguments: { query: 'travel' } }).then(
        (r) => (r.isError ? (r.content as Array<{ text: string }>)[0]!.text : 'UNEXPECTED: it still works'),
        (err: Error) => err.message.replace(/^(MCP error -?\d+: )+/, ''),
      );
      out(`   tools/list now -> ${afterTools.join(', ') || '(none)'}; memory__search -> ${refusal}`);
      if (reached === undefined || afterTools.length !== 0 || /UNEXPECTED/.test(refusal)) failed = true;
    } finally {
      await scoped.close();
    }

    step(18, 'The public gateway: a guestbook on the internet through Tailscale Funnel, nothing else');
    if (!(await gatewaySection(mesh))) failed = true;

    if (KEEP) {
      out(`\nThe dev mesh keeps running (--keep). Dashboard: ${dashboardUrl}  (working directory ${mesh.dir}); Ctrl-C stops it.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
    }
  } finally {
    await mesh.stop();
  }
  if (dashboardUrl) out(`\nThe dashboard was served at ${dashboardUrl} during the run (npm run demo -- --keep leaves it up).`);
  out(failed ? '\nDemo FAILED: see the lines above.' : '\nDone: every file came back byte-identical, zones held, the secret never touched disk, the mesh healed, deleted files freed their space, the assistant used its tools on other devices, the public saw only what was exposed to it; nothing left running.');
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
