// Starting and stopping the loopback HTTP servers of fcpd's front doors (dashboard, gateway, MCP):
// listen with bind errors as rejections, learn the port the system chose, and close without
// waiting for idle keep-alive connections.
import type http from 'node:http';

export interface Listening {
  port: number;
  close(): Promise<void>;
}

export async function listen(server: http.Server, port: number, host: string): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
