// npm run bench:scale [-- --max 100000] — five real fcpd daemons on the dev tailnet; 1k, 10k
// (and with --max, 100k) small objects in z:private: time to put them, `ls` (first and again),
// one repair pass on every device and `status`, with the FCP round trips each made (requests
// sent by every daemon, by type, but the background timers' requests). Prints the growth per 10x.
// Aim: ls and a clean repair pass grow no worse than linearly in objects, and their round trips
// do not grow with objects x devices (they are per device, plus one page per 2048 changed entries).
import { randomBytes } from 'node:crypto';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';

const args = process.argv.slice(2);
const maxArg = args.indexOf('--max');
const MAX = maxArg >= 0 ? Number(args[maxArg + 1]) : Number(process.env.BENCH_SCALE_MAX ?? 10_000);
if (!Number.isInteger(MAX) || MAX < 1000) throw new Error(`--max must be a whole number >= 1000, got ${args[maxArg + 1]}`);
const OBJECT_BYTES = Number(process.env.BENCH_SCALE_OBJECT_BYTES ?? 512);
const PUT_LANES = 16;
const ZONE = 'z:private';
const DEVICES = ['laptop', 'server', 'desktop', 'worklaptop', 'phone'];

type Status = { requestsSent: Record<string, number> };

interface Row {
  objects: number;
  putSeconds: number;
  putRt: number;
  lsColdSeconds: number;
  lsColdRt: number;
  lsWarmSeconds: number;
  lsWarmRt: number;
  repairSeconds: number;
  repairRt: number;
  statusSeconds: number;
  statusRt: number;
  healthy: number;
}

/**
 * Background traffic every daemon sends on its own timers whatever is measured: the info
 * refresh, the hub's profile polls, name head pulls and audit cosignatures. Left out of the
 * counts (a slower operation at 10k objects would otherwise be charged for more of it).
 */
const BACKGROUND = new Set(['info', 'profile', 'head_get', 'audit_cosign']);

async function roundTrips(mesh: DevMesh): Promise<number> {
  const all = await Promise.all(DEVICES.map((n) => mesh.device(n).control.json<Status>('/v1/status')));
  return all.reduce((a, s) => a + Object.entries(s.requestsSent).filter(([t]) => !BACKGROUND.has(t)).reduce((b, [, v]) => b + v, 0), 0);
}

/** Time and round trips (summed over the five daemons) of one operation. */
async function measure<T>(mesh: DevMesh, op: () => Promise<T>): Promise<{ seconds: number; rt: number; value: T }> {
  const before = await roundTrips(mesh);
  const t0 = performance.now();
  const value = await op();
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, rt: (await roundTrips(mesh)) - before, value };
}

async function putMany(mesh: DevMesh, count: number): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await mesh.put('laptop', new Uint8Array(randomBytes(OBJECT_BYTES)), ZONE);
    }
  };
  await Promise.all(Array.from({ length: PUT_LANES }, lane));
}

const fmt = (s: number) => (s < 10 ? s.toFixed(2) : s.toFixed(1));

function table(rows: Row[]): string {
  const head = ['objects', 'put s', 'put RT', 'ls s (first)', 'ls RT (first)', 'ls s (again)', 'ls RT (again)', 'repair pass s', 'repair RT', 'status s', 'status RT', 'healthy'];
  const body = rows.map((r) => [r.objects, fmt(r.putSeconds), r.putRt, fmt(r.lsColdSeconds), r.lsColdRt, fmt(r.lsWarmSeconds), r.lsWarmRt, fmt(r.repairSeconds), r.repairRt, fmt(r.statusSeconds), r.statusRt, `${r.healthy}/${r.objects}`].map(String));
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!;
    const b = rows[i]!;
    const x = (p: number, q: number) => (p === 0 ? (q === 0 ? '1.0x' : 'n/a') : `${(q / p).toFixed(1)}x`);
    body.push([
      `growth ${a.objects / 1000}k→${b.objects / 1000}k`,
      x(a.putSeconds, b.putSeconds),
      x(a.putRt, b.putRt),
      x(a.lsColdSeconds, b.lsColdSeconds),
      x(a.lsColdRt, b.lsColdRt),
      x(a.lsWarmSeconds, b.lsWarmSeconds),
      x(a.lsWarmRt, b.lsWarmRt),
      x(a.repairSeconds, b.repairSeconds),
      x(a.repairRt, b.repairRt),
      x(a.statusSeconds, b.statusSeconds),
      x(a.statusRt, b.statusRt),
      '',
    ]);
  }
  const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i]!)).join(' | ')} |`;
  return [line(head), `|${w.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const sizes: number[] = [];
  for (let n = 1000; n <= MAX; n *= 10) sizes.push(n);
  const mesh = await DevMesh.start({
    description: fiveDevicesOn(159),
    env: { FCP_REPAIR_INTERVAL_MS: '0', FCP_SCRUB_INTERVAL_MS: '0' },
  });
  const rows: Row[] = [];
  try {
    let stored = 0;
    for (const n of sizes) {
      process.stderr.write(`putting ${n - stored} objects of ${OBJECT_BYTES} bytes (${n} in all)...\n`);
      const put = await measure(mesh, () => putMany(mesh, n - stored));
      stored = n;
      const lsCold = await measure(mesh, () => mesh.device('laptop').control.json<Array<{ ok: boolean }>>(`/v1/objects?zone=${ZONE}`));
      const lsWarm = await measure(mesh, () => mesh.device('laptop').control.json<Array<{ ok: boolean }>>(`/v1/objects?zone=${ZONE}`));
      if (lsWarm.value.length !== n) throw new Error(`ls listed ${lsWarm.value.length} of ${n} objects`);
      process.stderr.write('repair pass on every device...\n');
      const repair = await measure(mesh, () => Promise.all(DEVICES.map((d) => mesh.device(d).control.json('/v1/repair', { method: 'POST' }))));
      // `fcp status` is /v1/status and /v1/health (its health line: the count and the objects below policy).
      const status = await measure(mesh, async () => {
        await mesh.device('laptop').control.json('/v1/status');
        return mesh.device('laptop').control.json<{ objects: number; degraded: unknown[] }>('/v1/health');
      });
      rows.push({
        objects: n,
        putSeconds: put.seconds * (n / (n - (rows.at(-1)?.objects ?? 0))),
        putRt: Math.round(put.rt * (n / (n - (rows.at(-1)?.objects ?? 0)))),
        lsColdSeconds: lsCold.seconds,
        lsColdRt: lsCold.rt,
        lsWarmSeconds: lsWarm.seconds,
        lsWarmRt: lsWarm.rt,
        repairSeconds: repair.seconds,
        repairRt: repair.rt,
        statusSeconds: status.seconds,
        // status asks /v1/status of the laptop inside the measured span: its own round trips are info only.
        statusRt: status.rt,
        healthy: status.value.objects - status.value.degraded.length,
      });
      process.stderr.write(`${table(rows)}\n`);
    }
  } finally {
    await mesh.stop();
  }
  process.stdout.write(`\nfcp-mesh scale bench: five fcpd daemons (dev tailnet, loopback), ${OBJECT_BYTES}-byte objects in ${ZONE} (4 holders), put from one device ${PUT_LANES} at a time\n`);
  process.stdout.write('put s: time to put all N objects (scaled from the increment); RT: FCP requests sent by all five daemons (but background timers: info, profile, head_get, audit_cosign)\n\n');
  process.stdout.write(`${table(rows)}\n`);
  process.stdout.write('\nAim: ls and a clean repair pass grow no worse than linearly in objects; their round trips stay per device (plus a page per 2048 changed entries), not objects x devices.\n');
  process.stdout.write(`The per-object path would send ${DEVICES.length - 2} have per object for one ls (${(DEVICES.length - 2) * MAX} at ${MAX}), and more for a repair pass.\n`);
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
