// Long JSON array replies (the object listing) are written a chunk of entries at a time: the
// body must be exactly what JSON.stringify gives for the whole array, at every chunk boundary,
// and a client that reads slowly (the socket pushing back) still gets all of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeJsonArray } from '../../src/daemon/control-server.js';

async function serve(entries: unknown[]): Promise<{ url: string; built: number[]; refused: () => number; close: () => Promise<void> }> {
  const built: number[] = [];
  let refused = 0;
  const server = http.createServer((_req, res) => {
    // Counts the writes the socket pushed back on (write() returning false).
    const write = res.write.bind(res) as (chunk: string) => boolean;
    res.write = ((chunk: string) => {
      const ok = write(chunk);
      if (!ok) refused++;
      return ok;
    }) as typeof res.write;
    void writeJsonArray(res, entries.length, (i) => (built.push(i), entries[i]));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, built, refused: () => refused, close: () => new Promise((r) => server.close(() => r())) };
}

/** The whole body, read with a pause after every piece so the server meets backpressure. */
function fetchSlowly(url: string, pauseEvery: number): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, { highWaterMark: 1024 } as http.RequestOptions, (res) => {
      const parts: Buffer[] = [];
      let n = 0;
      res.on('data', (c: Buffer) => {
        parts.push(c);
        if (++n % pauseEvery === 0) {
          res.pause();
          setImmediate(() => res.resume());
        }
      });
      res.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
      res.on('error', reject);
    }).on('error', reject);
  });
}

const entry = (i: number) => ({ objectId: i.toString(16).padStart(64, '0'), zone: 'z:private', spare: i % 3 === 0 ? Infinity : i, holders: [{ hostName: `h${i % 5}`, symbols: i, blocks: [i] }], ok: i % 7 !== 0, note: i % 11 === 0 ? 'é "quoted" \n' : undefined });

test('a chunked JSON array reply is byte for byte JSON.stringify of the array, at every boundary', async () => {
  for (const count of [0, 1, 2, 511, 512, 513, 1024, 1100]) {
    const entries = Array.from({ length: count }, (_, i) => entry(i));
    const s = await serve(entries);
    try {
      const body = await fetchSlowly(s.url, 1_000_000);
      assert.equal(body, JSON.stringify(entries), `${count} entries`);
      assert.deepEqual(s.built, Array.from({ length: count }, (_, i) => i), 'each entry built once, in order');
    } finally {
      await s.close();
    }
  }
});

test('a slow reader gets the whole array: the writer waits for the socket to drain', async () => {
  // Large enough to fill the socket buffers many times over.
  const entries = Array.from({ length: 20_000 }, (_, i) => ({ ...entry(i), pad: 'x'.repeat(200) }));
  const s = await serve(entries);
  try {
    const body = await fetchSlowly(s.url, 2);
    assert.equal(body.length, JSON.stringify(entries).length);
    assert.deepEqual(JSON.parse(body), JSON.parse(JSON.stringify(entries)));
    assert.ok(s.refused() > 0, 'the socket pushed back, and the writer waited for it to drain');
  } finally {
    await s.close();
  }
});
