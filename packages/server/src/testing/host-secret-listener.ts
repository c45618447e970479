/**
 * A TCP listener on the host that answers every connection with
 * `host-secret\n`: the thing a sandbox must never reach. A test asks its
 * sandbox to connect and checks the answer never shows up.
 */
import { createServer } from "node:net";

export interface HostSecretListener {
  port: number;
  close(): void;
}

export async function listenHostSecret(host: string): Promise<HostSecretListener> {
  const server = createServer((s) => s.end("host-secret\n"));
  await new Promise<void>((r) => server.listen(0, host, r));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}
