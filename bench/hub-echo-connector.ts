// The connector bench:hub invokes: one small operation that answers at once, so the table
// measures the hub (routing, FCP, the host's pipe) and not the connector's work.
import { runConnector } from '../src/hub/connector-sdk.js';

runConnector({
  id: 'echo',
  version: '1.0.0',
  operations: { echo: { handler: (input) => ({ echo: input }) } },
});
