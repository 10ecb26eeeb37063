// The `memory` connector: notes and events kept as mesh objects in its zone. Each memory is one
// object (stored through the host, so it is encrypted, coded and spread like any other); the
// index of them (id, kind, tags, text for search) is the connector's state, also in the mesh.
import { ConnectorError, runConnector, type HostApi } from '../connector-sdk.js';

interface Entry {
  id: string;
  kind: 'note' | 'event';
  tags: string[];
  at: number;
  text: string;
}

const MAX_ENTRIES = 10_000;

async function index(host: HostApi): Promise<Entry[]> {
  const s = await host.getState();
  return ((s.value as { entries?: Entry[] } | null)?.entries ?? []).slice();
}

runConnector({
  id: 'memory',
  version: '1.0.0',
  description: 'Notes and events kept as mesh objects in a zone',
  operations: {
    remember: {
      description: 'Keep a note or an event',
      handler: async (input, ctx) => {
        const i = input as { text: string; kind?: 'note' | 'event'; tags?: string[] };
        const doc = { kind: i.kind ?? 'note', text: i.text, tags: i.tags ?? [], at: Date.now() };
        const id = await ctx.host.putObject(JSON.stringify(doc), 'fcp.memory.entry');
        const entries = (await index(ctx.host)).filter((e) => e.id !== id);
        entries.push({ id, ...doc });
        await ctx.host.putState({ entries: entries.slice(-MAX_ENTRIES) });
        return { id, kind: doc.kind };
      },
    },
    recall: {
      description: 'Read a memory back by id',
      handler: async (input, ctx) => {
        const id = (input as { id: string }).id;
        if (!(await index(ctx.host)).some((e) => e.id === id)) throw new ConnectorError('CONNECTOR_NOT_FOUND', `no memory ${id}`);
        return { id, ...(JSON.parse(await ctx.host.getObject(id)) as object) };
      },
    },
    search: {
      description: 'Find memories whose text or tags contain every word of the query',
      handler: async (input, ctx) => {
        const i = input as { query: string; limit?: number };
        const words = i.query.toLowerCase().split(/\s+/).filter(Boolean);
        const hits = (await index(ctx.host))
          .filter((e) => words.every((w) => e.text.toLowerCase().includes(w) || e.tags.some((t) => t.toLowerCase() === w)))
          .reverse()
          .slice(0, Math.min(i.limit ?? 20, 100));
        return { hits: hits.map((e) => ({ id: e.id, kind: e.kind, tags: e.tags, at: e.at, text: e.text.slice(0, 300) })) };
      },
    },
  },
});
