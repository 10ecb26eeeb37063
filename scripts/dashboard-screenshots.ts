// `npm run screenshots`: the dashboard of a five-device dev mesh in headless Chromium, saved as
// docs/dashboard-*.png (the whole page; then with one device offline after a repair).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { DevMesh, fiveDevicesOn } from '../src/devnet/index.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SUBNET = 121;
const FCP_BIN = fileURLToPath(new URL('../../bin/fcp.js', import.meta.url));
const run = promisify(execFile);

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  const mesh = await DevMesh.start({ description: fiveDevicesOn(SUBNET), env: { FCP_DASHBOARD_PORT: '0' } });
  const browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  try {
    const text = new TextEncoder();
    await mesh.put('laptop', text.encode('trip notes '.repeat(30_000)), 'z:private');
    await mesh.put('laptop', text.encode('owner ledger '.repeat(9_000)), 'z:owner');
    await mesh.put('server', text.encode('photos index '.repeat(4_000)), 'z:private');
    // A small tree kept by name (fcp put DIR DEST/), for the names view.
    const trip = join(mesh.dir, 'trip');
    mkdirSync(join(trip, 'photos'), { recursive: true });
    writeFileSync(join(trip, 'plan.md'), '# Lisbon\n- day 1: Alfama\n');
    writeFileSync(join(trip, 'photos', 'beach.jpg'), Buffer.alloc(180_000, 7));
    await run(process.execPath, [FCP_BIN, 'put', trip, 'trip/', '--data-dir', mesh.device('laptop').dataDir]);
    await mesh.device('laptop').control.json('/v1/secrets/openai-key?k=2&n=2&zone=z:owner', { method: 'PUT', body: text.encode('sk-demo'), contentLength: 7 });
    const page = await browser.newPage();
    await page.setViewport({ width: 1400, height: 900 });
    await page.setExtraHTTPHeaders({ 'x-forwarded-for': `127.77.${SUBNET}.2` });
    await page.goto(mesh.dashboardUrl('laptop'));
    await page.waitForSelector('table.placement td.cell', { timeout: 20_000 });
    await page.waitForSelector('tr[data-secret="openai-key"]', { timeout: 20_000 });
    await page.waitForSelector('tr[data-name="z:private:trip/plan.md"]', { timeout: 20_000 });
    await page.screenshot({ path: 'docs/dashboard-overview.png', fullPage: true });
    await mesh.stopDaemon('desktop');
    await page.waitForSelector('tr[data-device="desktop"][data-state="offline"]', { timeout: 20_000 });
    await page.click('#repair-now');
    await page.waitForSelector('li[data-activity="repair"][data-activity-state="done"]', { timeout: 30_000 });
    await page.screenshot({ path: 'docs/dashboard-offline-repaired.png', fullPage: true });
    process.stdout.write('wrote docs/dashboard-overview.png and docs/dashboard-offline-repaired.png\n');
  } finally {
    await browser.close();
    await mesh.stop();
  }
}

main().catch((err) => {
  process.stderr.write(`screenshots failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
