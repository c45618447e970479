/**
 * What the CLI prints when a sandbox ends before it was ready (`sandbox create
 * --wait`, `run`): the state and reason, what the runtime said (the conditions'
 * messages), and the last lines of the process's output, so the user sees why
 * without a second command.
 */
import type { Nimbus } from "@nimbus/nimbus";
import type { CliIo } from "./command.js";

/** How many lines of the log to show under the failure. */
export const FAILURE_LOG_LINES = 20;

export async function reportFailedStart(io: CliIo, client: Nimbus, command: string, id: string): Promise<void> {
  const s = await client.sandboxes.get({ id }).catch(() => undefined);
  const st = s?.status;
  const why = [st?.reason ? `reason ${st.reason}` : "", st?.exitCode != null ? `exit code ${st.exitCode}` : ""].filter(Boolean).join(", ");
  io.err(`nimbus ${command}: sandbox ${id} ended ${st?.lifecycleState ?? "failed"} before it was ready${why ? ` (${why})` : ""}`);
  for (const c of st?.conditions ?? []) if (c.message && c.status !== "True") io.err(`  ${c.type}: ${c.message}`);
  const log = await client.sandboxes.logs({ id, tail: FAILURE_LOG_LINES }).catch(() => "");
  if (log.trim()) {
    io.err(`last output:`);
    for (const line of log.replace(/\n$/, "").split("\n")) io.err(`  | ${line}`);
  }
  io.err(`see \`nimbus sandbox logs ${id}\` and \`nimbus sandbox get ${id}\``);
}
