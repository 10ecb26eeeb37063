// The connector of the demo's gateway section: a guestbook on the person's public site. Anyone
// may read it through Funnel; signing it (risky: it writes) needs a community key; wiping it is
// dangerous and never reachable from the gateway. Entries are connector state, kept in the mesh.
import { runConnector } from '../src/hub/connector-sdk.js';

type Book = { entries: Array<{ name: string; text: string; via: string }> };

runConnector({
  id: 'guestbook',
  version: '1.0.0',
  operations: {
    read: {
      description: 'The entries so far',
      handler: async (_input, ctx) => ({ entries: (((await ctx.host.getState()).value as Book | null)?.entries ?? []).slice(-20) }),
    },
    sign: {
      description: 'Add an entry',
      handler: async (input, ctx) => {
        const { name, text } = input as { name: string; text: string };
        const book = ((await ctx.host.getState()).value as Book | null) ?? { entries: [] };
        // Input from the gateway is marked PUBLIC_INPUT: it stays plain text in this zone.
        book.entries.push({ name: name.slice(0, 40), text: text.slice(0, 200), via: ctx.provenance ? `${ctx.provenance.via} (${ctx.provenance.origin_zone})` : 'tailnet' });
        await ctx.host.putState(book);
        return { entries: book.entries.length };
      },
    },
    wipe: {
      description: 'Remove every entry',
      handler: async (_input, ctx) => {
        await ctx.host.putState({ entries: [] });
        return { entries: 0 };
      },
    },
  },
});
