// npm run demo: a five-device sovereign mesh on this machine.
// The tailscaled emulator stands in for Tailscale; every device runs a real fcpd process on its
// own loopback address (127.77.0.1-5), with its own LMDB store, talking real TCP to the others.
import { randomBytes, createHash } from 'node:crypto';
import { DevMesh } from '../src/devnet/index.js';
import { ControlError } from '../src/daemon/index.js';

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

function sample(text: string, bytes: number): Uint8Array {
  const head = Buffer.from(text);
  return new Uint8Array(Buffer.concat([head, randomBytes(Math.max(0, bytes - head.length))]));
}

async function main(): Promise<void> {
  out('fcp-mesh demo: your AI data as RaptorQ symbols spread over your own devices');
  step(1, 'Starting a dev tailnet of five devices, each with its own fcpd');
  const mesh = await DevMesh.start();
  let failed = false;
  try {
    for (const d of mesh.devices) {
      const path = mesh.tailnet.snapshot().find((s) => s.name === d.name)!.path;
      out(`   ${d.name.padEnd(11)} ${d.address.padEnd(11)} ${d.tags.join(',').padEnd(16)} reached ${path === 'derp' ? 'only through a DERP relay' : 'directly'}`);
    }
    out('   laptop ran `fcp init --first`; the others ran `fcp init` and `fcp join laptop --code …`,');
    out('   receiving exactly the zone keys their tags allow.');

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
  } finally {
    await mesh.stop();
  }
  out(failed ? '\nDemo FAILED: see the lines above.' : '\nDone: every file came back byte-identical, zones held, nothing left running.');
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
