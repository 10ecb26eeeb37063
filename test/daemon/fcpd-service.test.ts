// fcpd as a service: it waits for tailscaled instead of exiting, says NeedsLogin plainly,
// refuses userspace networking with what to do, keeps its data directory to itself, logs JSON
// unless a person watches, and `fcp daemon install|uninstall` writes units a service manager runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevTailnet, type DevTailnet } from '../../src/tailscale/emulator/index.js';
import { Keyring } from '../../src/mesh/index.js';
import { acquireDataLock } from '../../src/daemon/data-lock.js';
import { createDaemonLogger, prettyLine } from '../../src/daemon/log.js';

const ADDRESS = '127.77.11.1';

interface Daemon {
  proc: ChildProcess;
  stderr: () => string;
  /** Resolves once stderr contains `pattern`; rejects if fcpd exits first. */
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<number | null>;
}

function fcpd(net: DevTailnet, dataDir: string, env: Record<string, string> = {}): Daemon {
  const proc = spawn(process.execPath, ['bin/fcpd.js', '--data-dir', dataDir, '--tailscale-socket', net.device('me').socketPath, '--metrics-port', '0', '--port', '19473'], {
    env: { ...process.env, FCP_LOG_LEVEL: 'info', FCP_LOG_FORMAT: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const waiters: Array<{ pattern: RegExp; resolve: () => void; reject: (e: Error) => void }> = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      if (w.pattern.test(err)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (c: string) => {
    err += c;
    check();
  });
  proc.stdout!.resume();
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`fcpd exited (${code}) before printing ${w.pattern}:\n${err}`));
      resolve(code);
    }),
  );
  return {
    proc,
    stderr: () => err,
    exited,
    waitFor: (pattern) =>
      new Promise<void>((resolve, reject) => {
        waiters.push({ pattern, resolve, reject });
        check();
        if (proc.exitCode !== null) reject(new Error(`fcpd already exited:\n${err}`));
      }),
  };
}

async function withDevice(fn: (net: DevTailnet, dataDir: string) => Promise<void>, tun = true): Promise<void> {
  const net = await startDevTailnet({ tailnet: 'svc.example', nodes: [{ name: 'me', tags: ['tag:fcp-owner'], address: ADDRESS, tun }] });
  const dataDir = mkdtempSync(join(tmpdir(), 'fcp-svc-'));
  await Keyring.init(dataDir);
  try {
    await fn(net, dataDir);
  } finally {
    await net.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function stop(d: Daemon): Promise<void> {
  if (d.proc.exitCode === null) d.proc.kill('SIGTERM');
  await d.exited;
}

test('fcpd waits while tailscaled is Starting, then runs; logs are JSON when stderr is not a terminal', async () => {
  await withDevice(async (net, dataDir) => {
    await net.setFault('me', 'starting');
    const d = fcpd(net, dataDir);
    try {
      await d.waitFor(/waiting for tailscaled \(Starting\): tailscaled is still starting/);
      await net.setFault('me', 'none');
      await d.waitFor(/fcpd ready/);
      const first = d.stderr().split('\n')[0]!;
      assert.equal((JSON.parse(first) as { daemon: string }).daemon, 'fcpd');
    } finally {
      await stop(d);
    }
  });
});

test('a logged-out device is told to run "tailscale up"; FCP_BOOT_TIMEOUT_MS bounds the wait', async () => {
  await withDevice(async (net, dataDir) => {
    await net.setFault('me', 'logged-out');
    const d = fcpd(net, dataDir, { FCP_BOOT_TIMEOUT_MS: '300', FCP_LOG_FORMAT: 'pretty' });
    const code = await d.exited;
    assert.notEqual(code, 0);
    assert.match(d.stderr(), /WARN +waiting for tailscaled \(NeedsLogin\): this device is logged out of Tailscale: run "tailscale up"/);
    assert.match(d.stderr(), /authUrl=https:\/\/login\.tailscale\.com\//);
    assert.equal(existsSync(join(dataDir, 'fcpd.pid')), false, 'the data directory lock is given back');
  });
});

test('userspace networking is refused with what to do', async () => {
  await withDevice(async (net, dataDir) => {
    const d = fcpd(net, dataDir);
    assert.notEqual(await d.exited, 0);
    assert.match(d.stderr(), /userspace networking.*\/dev\/net\/tun/s);
  }, false);
});

test('a second fcpd on the same data directory is refused with the first one\'s pid', async () => {
  await withDevice(async (net, dataDir) => {
    const first = fcpd(net, dataDir);
    try {
      await first.waitFor(/fcpd ready/);
      const second = fcpd(net, dataDir);
      assert.notEqual(await second.exited, 0);
      assert.match(second.stderr(), new RegExp(`another fcpd \\(pid ${first.proc.pid}\\) already uses`));
      assert.equal(readFileSync(join(dataDir, 'fcpd.pid'), 'utf8').trim(), String(first.proc.pid), 'the first keeps its lock');
    } finally {
      await stop(first);
    }
    assert.equal(existsSync(join(dataDir, 'fcpd.pid')), false);
  });
});

test('a lock left by a daemon that died is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-lock-'));
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'fcpd.pid'), `${dead.stdout}\n`);
    const lock = await acquireDataLock(dir);
    assert.equal(readFileSync(join(dir, 'fcpd.pid'), 'utf8').trim(), String(process.pid));
    await lock.release();
    assert.equal(existsSync(join(dir, 'fcpd.pid')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readable log lines for a terminal', () => {
  const lines: string[] = [];
  const log = createDaemonLogger({ env: { FCP_LOG_LEVEL: 'info' }, isTty: true, write: (s) => lines.push(s) });
  log.warn({ tailscaled: 'NeedsLogin', note: 'two words' }, 'waiting');
  assert.match(lines[0]!, /^\d\d:\d\d:\d\d\.\d{3} WARN  waiting  tailscaled=NeedsLogin note="two words"\n$/);
  assert.equal(prettyLine('not json'), 'not json\n');
});

function fcp(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/fcp.js', ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('fcp daemon install writes a systemd unit (Restart, After=tailscaled, LimitCORE=0) and uninstall removes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-unit-'));
  try {
    const unit = join(dir, 'fcpd.service');
    const r = fcp(['--data-dir', join(dir, 'data %h'), 'daemon', 'install', '--platform', 'linux', '--system', '--user', 'alice', '--path', unit]);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(unit, 'utf8');
    assert.match(text, /^After=network-online\.target tailscaled\.service$/m);
    assert.match(text, /^Restart=on-failure$/m);
    assert.match(text, /^LimitCORE=0$/m);
    assert.match(text, /^Environment="MALLOC_MMAP_THRESHOLD_=262144"$/m, 'large buffers are unmapped when freed');
    assert.match(text, /^User=alice$/m);
    assert.match(text, /^WantedBy=multi-user\.target$/m);
    assert.match(text, /^ExecStart="[^"]+node[^"]*" "--max-semi-space-size=4" "[^"]+\/bin\/fcpd\.js" "--data-dir" "[^"]+data %%h"$/m, 'quoted, with % escaped, young generation capped');
    const dry = fcp(['daemon', 'install', '--platform', 'linux', '--dry-run']);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /# then: systemctl --user enable --now fcpd\.service/);
    assert.equal(fcp(['daemon', 'uninstall', '--platform', 'linux', '--path', unit]).status, 0);
    assert.equal(existsSync(unit), false);
    const again = fcp(['daemon', 'uninstall', '--platform', 'linux', '--path', unit]);
    assert.notEqual(again.status, 0);
    assert.match(again.stderr, /no fcpd service file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fcp daemon install writes a launchd plist on macOS (KeepAlive on failure, no core dumps)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fcp-plist-'));
  try {
    const plist = join(dir, 'fcpd.plist');
    const r = fcp(['--data-dir', join(dir, 'a&b'), 'daemon', 'install', '--platform', 'darwin', '--path', plist]);
    assert.equal(r.status, 0, r.stderr);
    const text = readFileSync(plist, 'utf8');
    assert.match(text, /<key>Label<\/key><string>com\.fcp-mesh\.fcpd<\/string>/);
    assert.match(text, /<key>KeepAlive<\/key><dict><key>SuccessfulExit<\/key><false\/><\/dict>/);
    assert.match(text, /<key>Core<\/key><integer>0<\/integer>/);
    assert.match(text, /a&amp;b/);
    assert.ok(!/a&b/.test(text), 'XML-escaped');
    assert.match(text, /node<\/string>\n\s*<string>--max-semi-space-size=4<\/string>\n\s*<string>[^<]+\/bin\/fcpd\.js<\/string>/, 'young generation capped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
