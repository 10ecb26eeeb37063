// Where the socket is on each platform (paths/paths.go, version/distro/distro.go), and what a
// refused socket means: Unix-socket reads are always permitted by tailscaled, so EACCES is a
// file-permission or mount problem and the advice says so (ipn/ipnserver/server.go).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  GOKRAZY_SOCKET,
  LINUX_SOCKET,
  MACOS_SOCKET,
  platformDefaultSocket,
  QNAP_SOCKET,
  SYNOLOGY_DSM6_SOCKET,
  SYNOLOGY_SOCKET,
  type PlatformProbe,
} from '../../src/tailscale/index.js';
import { startDevTailnet } from '../../src/tailscale/emulator/index.js';

function probe(platform: NodeJS.Platform, dirs: string[], files: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}): PlatformProbe {
  return {
    platform,
    isDir: (p) => dirs.includes(p),
    isFile: (p) => p in files,
    readFile: (p) => files[p],
    env,
  };
}

test('socket paths of Synology (DSM 6 and 7), QNAP, gokrazy, Linux and macOS', () => {
  assert.equal(platformDefaultSocket('linux', probe('linux', ['/usr/syno', '/var/run'], { '/etc/VERSION': 'majorversion="7"\n' })), SYNOLOGY_SOCKET);
  assert.equal(platformDefaultSocket('linux', probe('linux', ['/usr/syno', '/var/run'], { '/etc/VERSION': 'os_name="DSM"\nmajorversion="6"\n' })), SYNOLOGY_DSM6_SOCKET);
  assert.equal(platformDefaultSocket('linux', probe('linux', ['/usr/syno'], {}, { SYNOPKG_DSM_VERSION_MAJOR: '6' })), SYNOLOGY_DSM6_SOCKET);
  assert.equal(platformDefaultSocket('linux', probe('linux', ['/usr/syno'])), SYNOLOGY_SOCKET, 'unknown DSM version: the DSM 7 path');
  assert.equal(platformDefaultSocket('linux', probe('linux', ['/var/run'], { '/etc/config/uLinux.conf': '' })), QNAP_SOCKET);
  assert.equal(platformDefaultSocket('linux', probe('linux', ['/gokrazy'])), GOKRAZY_SOCKET);
  assert.equal(platformDefaultSocket('linux', probe('linux', ['/var/run'])), LINUX_SOCKET);
  assert.equal(platformDefaultSocket('linux', probe('linux', [])), 'tailscaled.sock');
  assert.equal(platformDefaultSocket('darwin', probe('darwin', ['/usr/syno'])), MACOS_SOCKET);
});

test('EACCES on the socket is reported as a file or mount problem, not an --operator setting', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to run the client as another user (the socket directory is private to root)');
    return;
  }
  const net = await startDevTailnet({ tailnet: 'perm.example', nodes: [{ name: 'me', address: '127.77.8.61' }] });
  try {
    const client = fileURLToPath(new URL('../../src/tailscale/index.js', import.meta.url));
    const script = `import(${JSON.stringify(client)}).then(async (m) => {
      try { await new m.LocalApiClient({ socketPath: ${JSON.stringify(net.device('me').socketPath)} }).status(); console.log('no error'); }
      catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }
    });`;
    const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 20_000 });
    const out = JSON.parse(r.stdout.trim()) as { code: string; message: string };
    assert.equal(out.code, 'TS_PERMISSION');
    assert.match(out.message, /EACCES/);
    assert.match(out.message, /file-permission or mount problem/);
    assert.doesNotMatch(out.message, /--operator/);
  } finally {
    await net.stop();
  }
});
