import { createServer } from 'node:net';

/** Listens on `port` (0: any) on 127.0.0.1 and closes again; resolves with the port it got. */
function listenOnce(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const got = (server.address() as { port: number }).port;
      server.close(() => resolve(got));
    });
  });
}

/** A port nothing listens on right now: `preferred` when it is free, else any. */
export async function freePort(preferred = 0): Promise<number> {
  if (preferred !== 0) {
    try {
      return await listenOnce(preferred);
    } catch {
      // taken: any port will do
    }
  }
  return listenOnce(0);
}
