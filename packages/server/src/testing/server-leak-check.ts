/**
 * The end of a test file that ran its own in-process server (not a
 * sandbox-env): delete its tenants, stop it, check nothing of its runtime is
 * left on the host (and whatever else `alsoCheck` asks once it has stopped);
 * the server's temp root is removed whatever the checks say.
 */
import { join } from "node:path";
import { assertNoLeftovers } from "../runtime/leak-check.js";
import type { TestServer } from "./server.js";

export async function closeCheckingLeftovers(srv: TestServer | undefined, tenants: string[], alsoCheck?: (srv: TestServer) => void): Promise<void> {
  if (!srv) return;
  try {
    for (const t of tenants) await srv.request("DELETE", `/api/tenants/${t}`);
    await srv.stop();
    await assertNoLeftovers(join(srv.root, "data", "runtime"));
    alsoCheck?.(srv);
  } finally {
    await srv.close();
  }
}
