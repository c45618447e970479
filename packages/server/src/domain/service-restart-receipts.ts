/**
 * Restart receipts (upstream's newer restart body `{sourceGeneration,
 * requestId}`): the answer to a restart request is remembered by its
 * `requestId`, so a client that retries after a lost answer gets the same
 * receipt instead of a second restart. A retry that races the first waits
 * for it. Kept in memory, bounded per service and in age: a server restart
 * forgets them (documented; the restart itself is idempotent enough that
 * a forgotten id costs at most one extra restart).
 */
import type { ServiceRestartReceipt } from "@nimbus/nimbus";
import { ulid } from "./ids.js";

/** The receipt of a restart: the SDK's wire type. */
export type RestartReceipt = ServiceRestartReceipt;

const PER_SERVICE = 64;
const MAX_AGE_MS = 24 * 3600_000;

interface Remembered {
  at: number;
  answer: Promise<RestartReceipt>;
}

export class RestartReceipts {
  private readonly byService = new Map<string, Map<string, Remembered>>();

  /** The remembered answer for `requestId`, or the answer `run` gives (remembered only if it succeeds). */
  answer(tenantId: string, name: string, requestId: string | undefined, run: (restartId: string) => Promise<RestartReceipt>): Promise<RestartReceipt> {
    if (requestId === undefined) return run(ulid().toLowerCase());
    const k = `${tenantId}\u0000${name}`;
    const now = Date.now();
    let seen = this.byService.get(k);
    const hit = seen?.get(requestId);
    if (hit && now - hit.at < MAX_AGE_MS) return hit.answer;
    if (!seen) this.byService.set(k, (seen = new Map()));
    const answer = run(requestId);
    seen.set(requestId, { at: now, answer });
    // Failures are not receipts: the same requestId may try again.
    answer.catch(() => {
      if (seen.get(requestId)?.answer === answer) seen.delete(requestId);
    });
    while (seen.size > PER_SERVICE) seen.delete(seen.keys().next().value!);
    return answer;
  }

  /** Forget a service's receipts (it was deleted; a new one under the name starts clean). */
  forget(tenantId: string, name: string): void {
    this.byService.delete(`${tenantId}\u0000${name}`);
  }
}
