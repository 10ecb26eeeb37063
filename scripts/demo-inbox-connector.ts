// The connector of the demo's hub section: an inbox an assistant reads one message at a time.
// Its cursor is connector state (FCP V2 §10.4), kept in the mesh by the host, so the device that
// takes it over after a failover carries on where the last one stopped.
import { runConnector } from '../src/hub/connector-sdk.js';

const INBOX = ['Flight to Lisbon confirmed', 'Dentist moved to Thursday', 'Invoice #1042 is due', 'Photos from Sunday', 'Book club: chapter 7'];

runConnector({
  id: 'inbox',
  version: '1.0.0',
  operations: {
    next: {
      description: 'The next unread message',
      handler: async (_input, ctx) => {
        const cur = ((await ctx.host.getState()).value as { cursor?: number } | null)?.cursor ?? 0;
        const subject = INBOX[cur % INBOX.length]!;
        await ctx.host.putState({ cursor: cur + 1 });
        return { n: cur + 1, subject };
      },
    },
  },
});
